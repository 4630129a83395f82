import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createFileAuditSink, createPurposekit, openKeyDirectory, openinfra, verifyAuditTrail } from '@purposekit/core';
import { createPrivacy } from './index';

describe('Express: skipped routes and a clean stop', () => {
  it('skips health checks entirely, and kit.close() after server.close() ends the trail with a signed checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adoption-express-lifecycle-'));
    const keys = openKeyDirectory(join(dir, 'keys'), { createIfMissing: true });
    const audit = await createFileAuditSink({ dir: join(dir, 'audit'), signingKey: keys.signingKey, keyId: 'ex', checkpointEvery: 1000 });
    const kit = createPurposekit({ policy: openinfra, audit, subjectKey: keys.subjectKey });
    const privacy = createPrivacy(kit, { skip: ['/healthz', /^\/metrics(\/|$)/] });
    const app = express().use(privacy.middleware());
    app.get(['/healthz', '/metrics/node'], (req, res) => {
      res.json({ privacy: req.privacy !== undefined });
    });
    app.get('/status', privacy.purpose('diagnostics'), async (req, res, next) => {
      try {
        await req.privacy!.access({ data: ['ip-address'], action: 'read' });
        res.json({ purpose: req.privacy!.purpose });
      } catch (err) {
        next(err);
      }
    });
    app.use(privacy.errorHandler());
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
