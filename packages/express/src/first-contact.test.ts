import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { createPrivacy } from './index';

const seen: string[] = [];

async function serve(parserFirst: boolean): Promise<{ base: string; server: Server }> {
  const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) }, ageGate: { secret: 'y'.repeat(32) } });
  const privacy = createPrivacy(kit);
  const app = express().use(privacy.middleware());
  if (parserFirst) app.use(express.json());
  app.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), (_req, res) => void res.status(201).json({ ok: true }));
  if (!parserFirst) app.use(express.json()); // too late: after the gate
  app.use((err: Error, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
    seen.push(err.message); // what the developer's own error logging sees
    next(err);
  });
  app.use(privacy.errorHandler());
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const post = (base: string, body: string, type = 'application/json'): Promise<Response> => fetch(`${base}/members`, { method: 'POST', headers: { 'content-type': type }, body });

describe('Express: an age gate mounted before the body parser', () => {
  it('says so (500 PURPOSEKIT_ERR_BODY_NOT_PARSED, naming the gate and the fix) instead of refusing the visitor', async () => {
    const { base, server } = await serve(false);
    try {
      const res = await post(base, JSON.stringify({ dateOfBirth: '1990-01-01' }));
      expect(res.status).toBe(500);
      expect((await res.json()).error).toEqual({ code: 'PURPOSEKIT_ERR_BODY_NOT_PARSED', message: 'The age gate ran before the request body was parsed: mount the body parser before the age gate.' });
      expect(seen).toEqual(["The age gate ran before the request body was parsed: mount express.json() (or express.urlencoded()) before privacy.ageGate('registration')."]);
    } finally {
      server.close();
    }
  });

  it('with the parser first: the gate works, and a body the parser skipped (not JSON) is the visitor\'s missing date (400), not a setup error', async () => {
    const { base, server } = await serve(true);
    try {
      expect((await post(base, JSON.stringify({ dateOfBirth: '1990-01-01' }))).status).toBe(201);
      const res = await post(base, 'dateOfBirth=1990-01-01', 'text/plain');
      expect(res.status).toBe(400);
      expect((await res.json()).error.code).toMatch(/^PURPOSEKIT_ERR_DOB_/);
    } finally {
      server.close();
    }
  });
});
