import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { createPrivacy } from './index';

const kitFor = () => createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) } });

function app() {
  const kit = kitFor();
  const privacy = createPrivacy(kit, { onWarning: () => undefined });
  const router = new Router();
  router.post('/members', privacy.purpose('service.registration', { data: ['name', 'email', 'employer'] }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/status', privacy.purpose('diagnostics', { data: ['ip-address', 'email'] }), (ctx) => {
    ctx.body = { purpose: ctx.state.privacy!.purpose };
  });
  router.get('/plain', (ctx) => {
    ctx.body = 'plain';
  });
  const newsletter = new Router();
  newsletter.post('/subscribe', privacy.purpose('marketing.email', { data: ['email'] }), (ctx) => {
    ctx.status = 204;
  });
  newsletter.delete('/members/:id', privacy.purpose('rights-fulfilment'), (ctx) => {
    ctx.status = 204;
  });
  router.use('/newsletter', newsletter.routes());
  const a = new Koa();
  a.use(privacy.middleware());
  a.use(router.routes());
  return { a, kit, privacy, router };
}

describe('privacy.describeRoutes(router) on Koa', () => {
  it('lists every route that declares a purpose, with full paths, methods and data, in the engine too', () => {
    const { kit, privacy, router } = app();
    const expected = [
      { method: 'POST', path: '/members', purpose: 'service.registration', categories: ['email', 'employer', 'name'] },
      { method: 'DELETE', path: '/newsletter/members/:id', purpose: 'rights-fulfilment', categories: [] },
      { method: 'POST', path: '/newsletter/subscribe', purpose: 'marketing.email', categories: ['email'] },
      { method: 'GET', path: '/status', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
    ];
    expect(privacy.describeRoutes(router)).toEqual(expected);
    expect(kit.describeRoutes()).toEqual(expected);
  });

  it('the declared middleware still sets the purpose over real HTTP', async () => {
    const { a } = app();
    const server = await new Promise<Server>((resolve) => {
      const s = a.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/status`);
      expect(await res.json()).toEqual({ purpose: 'diagnostics' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it.each([
    ['an unknown option', { date: ['email'] }, /unknown option "date"/],
    ['a category the policy lacks', { data: ['shoe-size'] }, /"shoe-size", not a data category of policy "openinfra"/],
  ])('rejects %s at start-up', (_name, options, message) => {
    const privacy = createPrivacy(kitFor(), { onWarning: () => undefined });
    expect(() => privacy.purpose('diagnostics', options as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
  });

  it('refuses something that is not a router', () => {
    const privacy = createPrivacy(kitFor(), { onWarning: () => undefined });
    expect(() => privacy.describeRoutes(new Koa())).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });
});
