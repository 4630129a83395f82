import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import Router from '@koa/router';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { createPrivacy } from './index';

describe('Koa: an age gate with no body parser before it', () => {
  it('says so (500 PURPOSEKIT_ERR_BODY_NOT_PARSED); the app\'s error event gets the detailed message', async () => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) }, ageGate: { secret: 'y'.repeat(32) } });
    const privacy = createPrivacy(kit);
    const router = new Router();
    router.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), (ctx) => {
      ctx.status = 201;
    });
    const app = new Koa();
    const errors: string[] = [];
    app.on('error', (err: Error) => errors.push(err.message));
    app.use(privacy.middleware()).use(router.routes());
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/members`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"dateOfBirth":"1990-01-01"}' });
      expect(res.status).toBe(500);
      expect((await res.json()).error.code).toBe('PURPOSEKIT_ERR_BODY_NOT_PARSED');
      expect(errors).toEqual(["The age gate ran before the request body was parsed: mount a body parser (e.g. @koa/bodyparser) before privacy.ageGate('registration')."]);
    } finally {
      server.close();
    }
  });
});
