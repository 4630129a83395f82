/**
 * Issue 17: the Nest module accepts an engine made by another installed copy of the core
 * (a second `@purposekit/core` in node_modules: the brand, not `instanceof`), and drives it:
 * the route's purpose, the context, access checks and the trail all work through the
 * engine's own copy.
 */
import 'reflect-metadata';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Inject } from '@nestjs/common';
import * as localCore from '@purposekit/core';
import type { Purposekit } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { PrivacyModule, PrivacyService, Purpose } from './index';
import { PLATFORMS, closeApps, json, startApp } from '../test/harness';

const root = path.resolve(__dirname, '../../..');
const built = path.join(root, 'packages/core/dist');
let copyDir: string;
let second: typeof localCore;

beforeAll(() => {
  if (!existsSync(path.join(built, 'index.js'))) throw new Error('This test loads the built core as a second copy: run `npm run build` first.');
  // Inside the workspace's node_modules, so the copy resolves its own dependencies as an
  // installed package would; a different path is a different module to Node and Jest.
  copyDir = mkdtempSync(path.join(root, 'node_modules/.cache-purposekit-second-core-'));
  cpSync(built, path.join(copyDir, 'dist'), { recursive: true });
  writeFileSync(path.join(copyDir, 'package.json'), JSON.stringify({ name: '@purposekit/core', version: '0.0.0-second-copy', main: './dist/index.js' }));
  second = require(path.join(copyDir, 'dist/index.js')) as typeof localCore;
});

afterAll(() => {
  if (copyDir !== undefined) rmSync(copyDir, { recursive: true, force: true });
});
afterEach(closeApps);

@Controller()
class DiagnosticsController {
  constructor(@Inject(PrivacyService) private readonly privacy: PrivacyService) {}

  @Purpose('diagnostics')
  @Get('diag')
  async diag() {
    await this.privacy.access({ data: ['ip-address'], action: 'read' });
    return this.privacy.requireContext().logFields();
  }
}

describe.each(PLATFORMS)('an engine from a second installed copy of the core (%s)', (platform) => {
  it('is accepted by PrivacyModule.forRoot and drives requests through its own copy', async () => {
    const audit = new InMemoryAuditSink();
    const kit = second.createPurposekit({ policy: second.openinfra, audit, subjectKey: { id: 'k1', secret: 'x'.repeat(32) } }) as unknown as Purposekit;
    // Really another copy: this package's core does not know its context class or its storage.
    expect(second.createPurposekit).not.toBe(localCore.createPurposekit);
    expect(localCore.isPurposekit(kit)).toBe(true);

    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit })], controllers: [DiagnosticsController] });
    const res = await fetch(`${base}/diag`);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests', ip: '127.0.0.0' });
    const records = audit.getRecords().filter((r) => r.kind === 'access');
    expect(records.map((r) => [r.purpose, r.basis, r.decision])).toEqual([['diagnostics', 'legitimate-interests', 'allow']]);
  });

  it('still refuses something that only looks like an engine', async () => {
    await expect(startApp(platform, { imports: [PrivacyModule.forRoot({ kit: { policy: second.openinfra } as never })], controllers: [DiagnosticsController] })).rejects.toMatchObject({
      code: 'PURPOSEKIT_ERR_INVALID_OPTION',
    });
  });
});
