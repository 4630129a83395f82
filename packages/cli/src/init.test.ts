import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { bitnami, coreos, createPurposekit, kubevirt, loadPolicy, openKeyDirectory, openinfra } from '@purposekit/core';
import { detectFramework } from './commands/init';
import { run } from './index';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function init(cwd: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await run(['init', ...args], { stdout, stderr, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function project(deps: Record<string, string> | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'adoption-init-'));
  if (deps !== undefined) writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', dependencies: deps }));
  return dir;
}

describe('purposekit init', () => {
  it.each([['openinfra', openinfra], ['kubevirt', kubevirt], ['bitnami', bitnami], ['coreos', coreos]] as const)('the %s preset: the policy file it writes loads back to the very same policy (every section: retention, recipients, transfers, controller)', async (name, preset) => {
    const dir = project(undefined);
    const { code, stderr } = await init(dir, ['--preset', name]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const written = loadPolicy(join(dir, 'privacy-policy.json'));
    expect(written).toEqual(preset);
    // The sections the record of processing needs are there, not only the purposes.
    expect(Object.values(written.purposes).some((r) => r.retentionRule !== undefined)).toBe(true);
    expect(written.controller).toEqual(preset.controller);
  });

  it.each([
    [{ express: '^4.21.0' }, 'express', "import { createPrivacy } from '@purposekit/express';", 'app.use(privacy.errorHandler());'],
    [{ koa: '^2.15.0', '@koa/router': '^15.0.0' }, 'koa', "import { createPrivacy } from '@purposekit/koa';", "router.get('/status', privacy.purpose('service.registration'), handler);"],
    [{ '@nestjs/core': '^11.0.0', '@nestjs/platform-express': '^11.0.0', express: '^5.0.0' }, 'nestjs', 'PrivacyModule.forRoot({ kit', 'app.enableShutdownHooks();'],
    [{ fastify: '^5.0.0' }, 'fastify', "import { purposekit } from '@purposekit/fastify';", 'await app.register(purposekit, { kit });'],
  ])('with %p in package.json: keys, a starter policy, and the %s snippet', async (deps, framework, first, second) => {
    const dir = project(deps);
    const { code, stdout, stderr } = await init(dir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Found ${framework} in package.json. Wire it in:`);
    expect(stdout).toContain(first);
    expect(stdout).toContain(second);
    expect(stdout).toContain("openKeyDirectory('./purposekit-keys')");
    expect(stdout).toContain("loadPolicy('./privacy-policy.json')");
    // What it wrote works: the keys open, the policy loads, an engine starts from both.
    const keys = openKeyDirectory(join(dir, 'purposekit-keys'));
    expect(statSync(join(dir, 'purposekit-keys', 'subject-hmac.key.json')).mode & 0o777).toBe(0o600);
    const policy = loadPolicy(join(dir, 'privacy-policy.json'));
    expect(policy.id).toBe('openinfra');
    expect(() => createPurposekit({ policy, audit: { append: async () => undefined, flush: async () => undefined, close: async () => undefined }, subjectKey: keys.subjectKey })).not.toThrow();
  });

  it('--preset, --keys-dir, --policy and --framework; no package.json: the engine alone unless told', async () => {
    const dir = project(undefined);
    const plain = await init(dir, ['--preset', 'coreos', '--keys-dir', 'secrets/keys', '--policy', 'policy/coreos.json']);
    expect(plain.code).toBe(2); // policy/ does not exist: refused before anything is written
    expect(plain.stderr).toMatch(/^PURPOSEKIT_ERR_FILE_ACCESS: .*policy does not exist/);
    expect(existsSync(join(dir, 'secrets'))).toBe(false);
    const dir2 = project(undefined);
    const ok = await init(dir2, ['--preset', 'coreos', '--keys-dir', 'secrets/keys', '--policy', 'coreos.json']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('No express, koa, @nestjs/core or fastify dependency in package.json');
    expect(loadPolicy(join(dir2, 'coreos.json')).id).toBe('coreos');
    const told = await init(project(undefined), ['--framework', 'koa']);
    expect(told.stdout).toContain("import { createPrivacy } from '@purposekit/koa';");
  });

  it.each([
    [['--preset', 'acme'], '--preset must be one of openinfra, kubevirt, bitnami, coreos'],
    [['--framework', 'hapi'], '--framework must be one of express, koa, nestjs, fastify'],
    [['--policy', 'policy.yaml'], '--policy must name a .json file'],
  ])('%p is a usage error (exit 2), and writes nothing', async (args, message) => {
    const dir = project({ express: '^5.0.0' });
    const r = await init(dir, args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`PURPOSEKIT_ERR_INVALID_OPTION: init: ${message}`);
    expect(existsSync(join(dir, 'purposekit-keys'))).toBe(false);
  });

  it('never overwrites: a second run refuses, the first run\'s files stay as they were', async () => {
    const dir = project({ express: '^5.0.0' });
    expect((await init(dir)).code).toBe(0);
    const before = readFileSync(join(dir, 'purposekit-keys', 'subject-hmac.key.json'), 'utf8');
    const again = await init(dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^PURPOSEKIT_ERR_FILE_ACCESS: .*privacy-policy\.json already exists/);
    expect(readFileSync(join(dir, 'purposekit-keys', 'subject-hmac.key.json'), 'utf8')).toBe(before);
  });

  it('detectFramework: NestJS wins over the Express or Fastify it pulls; dev dependencies count', () => {
    expect(detectFramework({ dependencies: { express: '5', '@nestjs/core': '12' } })).toBe('nestjs');
    expect(detectFramework({ devDependencies: { koa: '3' } })).toBe('koa');
    expect(detectFramework({ dependencies: {} })).toBeUndefined();
    expect(detectFramework(null)).toBeUndefined();
  });
});
