import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { createFileAuditSink, createPurposekit, openKeyDirectory, openinfra, verifyAuditTrail } from '@purposekit/core';
import { createPrivacy } from './index';

describe('Koa: skipped routes and a clean stop', () => {
  it('skips health checks entirely, and kit.close() after server.close() ends the trail with a signed checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adoption-koa-lifecycle-'));
    const keys = openKeyDirectory(join(dir, 'keys'), { createIfMissing: true });
    const audit = await createFileAuditSink({ dir: join(dir, 'audit'), signingKey: keys.signingKey, keyId: 'koa', checkpointEvery: 1000 });
    const kit = createPurposekit({ policy: openinfra, audit, subjectKey: keys.subjectKey });
    const privacy = createPrivacy(kit, { skip: (path) => path === '/healthz' || path.startsWith('/metrics/') });
    const router = new Router();
    router.get(['/healthz', '/metrics/node'], (ctx) => {
      ctx.body = { privacy: ctx.state.privacy !== undefined };
    });
    router.get('/status', privacy.purpose('diagnostics'), async (ctx) => {
      await ctx.state.privacy!.access({ data: ['ip-address'], action: 'read' });
      ctx.body = { purpose: ctx.state.privacy!.purpose };
    });
    const app = new Koa().use(privacy.middleware()).use(router.routes());
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${base}/healthz?x=1`)).json()).toEqual({ privacy: false });
      expect(await (await fetch(`${base}/metrics/node`)).json()).toEqual({ privacy: false });
      expect(await (await fetch(`${base}/status`)).json()).toEqual({ purpose: 'diagnostics' });
    } finally {
      await new Promise((r) => server.close(r));
      await kit.close();
    }
    const result = await verifyAuditTrail(join(dir, 'audit'), { publicKeys: [readFileSync(keys.publicKeyPath, 'utf8')] });
    expect(result).toMatchObject({ ok: true, unsignedTail: 0 });
  });
});
