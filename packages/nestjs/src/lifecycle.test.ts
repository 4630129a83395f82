import 'reflect-metadata';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Req } from '@nestjs/common';
import { createFileAuditSink, createPurposekit, openKeyDirectory, openinfra, verifyAuditTrail } from '@purposekit/core';
import { PrivacyModule, PrivacyService, Purpose } from './index';
import { PLATFORMS, listenApp } from '../test/harness';

@Controller()
class LifecycleController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get('healthz')
  healthz(@Req() req: { privacy?: unknown; raw?: { privacy?: unknown } }): { privacy: boolean } {
    return { privacy: (req.raw ?? req).privacy !== undefined };
  }

  @Purpose('diagnostics')
  @Get('status')
  async status(): Promise<{ purpose: string | undefined }> {
    await this.privacy.access({ data: ['ip-address'], action: 'read' });
    return { purpose: this.privacy.context?.purpose };
  }
}

describe.each(PLATFORMS)('PrivacyModule lifecycle on Nest+%s', (platform) => {
  it('closes the engine on app.close(): the trail ends with a signed checkpoint; skipped routes get no context', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adoption-nest-lifecycle-'));
    const keys = openKeyDirectory(join(dir, 'keys'), { createIfMissing: true });
    const audit = await createFileAuditSink({ dir: join(dir, 'audit'), signingKey: keys.signingKey, keyId: 'nest', checkpointEvery: 1000 });
    const kit = createPurposekit({ policy: openinfra, audit, subjectKey: keys.subjectKey });
    const { base, app } = await listenApp(platform, { imports: [PrivacyModule.forRoot({ kit, skip: ['/healthz'] })], controllers: [LifecycleController] });
    try {
      expect(await (await fetch(`${base}/status`)).json()).toEqual({ purpose: 'diagnostics' });
      expect(await (await fetch(`${base}/healthz?probe=1`)).json()).toEqual({ privacy: false });
    } finally {
      await app.close(); // the app's own shutdown; nothing closes the engine but the module
    }
    const result = await verifyAuditTrail(join(dir, 'audit'), { publicKeys: [readFileSync(keys.publicKeyPath, 'utf8')] });
    expect(result).toMatchObject({ ok: true, unsignedTail: 0 });
    expect(result.records).toBeGreaterThanOrEqual(2); // the access and the closing checkpoint
    await expect(kit.close()).resolves.toBeUndefined(); // idempotent
  });
});
