import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyDirectory, verifyAuditTrail } from '@purposekit/core';

const GUIDE = join(__dirname, '../../../docs/production.md');
const PROGRAM = join(__dirname, '../test/production-example.ts');

describe('docs/production.md', () => {
  it('shows exactly the program this test runs', () => {
    const block = /## The whole program\n\n```ts\n([\s\S]*?)```/.exec(readFileSync(GUIDE, 'utf8'))?.[1];
    expect(block).toBe(readFileSync(PROGRAM, 'utf8'));
  });

  it('runs: keys → file sink → engine → middleware → error handler → graceful shutdown, ending the trail with a signed checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adoption-production-'));
    generateKeyDirectory(join(dir, 'keys'));
    Object.assign(process.env, { KEYS_DIR: join(dir, 'keys'), AUDIT_DIR: join(dir, 'audit'), PORT: '0', LOG_LEVEL: 'silent' });
    const before = process.listeners('SIGTERM');
    const { ready } = (await import('../test/production-example')) as { ready: Promise<{ server: Server; shutdown(): Promise<void> }> };
    const { server, shutdown } = await ready;
    try {
      await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const status = await fetch(`${base}/status`);
      expect(status.status).toBe(200);
      expect((await status.json()).ip).toMatch(/^(::ffff:)?127\.0\.0\.0$/);
      const kid = await fetch(`${base}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dateOfBirth":"2016-01-01"}' });
      expect(kid.status).toBe(403);
      expect((await kid.json()).error.code).toBe('PURPOSEKIT_ERR_AGE_GATE_REFUSED');
      expect((await fetch(`${base}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dateOfBirth":"1990-01-01"}' })).status).toBe(201);
    } finally {
      await shutdown();
      await shutdown(); // idempotent
      for (const l of process.listeners('SIGTERM')) if (!before.includes(l)) process.removeListener('SIGTERM', l);
    }
    const result = await verifyAuditTrail(join(dir, 'audit'), { publicKeys: [readFileSync(join(dir, 'keys', 'audit-signing.pub.pem'), 'utf8')] });
    expect(result).toMatchObject({ ok: true, unsignedTail: 0 });
    expect(result.records).toBeGreaterThanOrEqual(3); // the read, the refusal, the closing checkpoint
  });
});
