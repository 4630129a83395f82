import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { createPrivacy } from './index';

const kitFor = () => createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) } });

function app() {
  const kit = kitFor();
  const privacy = createPrivacy(kit, { onWarning: () => undefined });
  const a = express();
  a.use(privacy.middleware());
  a.post('/members', privacy.purpose('service.registration', { data: ['name', 'email', 'employer'] }), (_req, res) => void res.json({ ok: true }));
  a.get(['/status', '/healthz'], privacy.purpose('diagnostics', { data: ['ip-address', 'email'] }), (req, res) => void res.json({ purpose: req.privacy!.purpose }));
  a.get('/plain', (_req, res) => void res.end());
  const newsletter = express.Router();
  newsletter.post('/subscribe', privacy.purpose('marketing.email', { data: ['email'] }), (_req, res) => void res.end());
  const admin = express.Router();
  admin.use(privacy.purpose('site-administration'));
  admin.get('/stats', (_req, res) => void res.end());
  const nested = express.Router();
  nested.route('/:id').get(privacy.purpose('membership', { data: ['name'] }), (_req, res) => void res.end()).delete(privacy.purpose('rights-fulfilment'), (_req, res) => void res.end());
  newsletter.use('/members', nested);
  a.use('/newsletter', newsletter);
  a.use('/admin', admin);
  return { a, kit, privacy };
}

describe('privacy.describeRoutes(app) on Express', () => {
  it('lists every route that declares a purpose, with full paths, methods and data, in the engine too', () => {
    const { a, kit, privacy } = app();
    const expected = [
      { method: 'ALL', path: '/admin', purpose: 'site-administration', categories: [] },
      { method: 'GET', path: '/healthz', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
      { method: 'POST', path: '/members', purpose: 'service.registration', categories: ['email', 'employer', 'name'] },
      { method: 'DELETE', path: '/newsletter/members/:id', purpose: 'rights-fulfilment', categories: [] },
      { method: 'GET', path: '/newsletter/members/:id', purpose: 'membership', categories: ['name'] },
      { method: 'POST', path: '/newsletter/subscribe', purpose: 'marketing.email', categories: ['email'] },
      { method: 'GET', path: '/status', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
    ];
    expect(privacy.describeRoutes(a)).toEqual(expected);
    expect(kit.describeRoutes()).toEqual(expected);
    // Asking twice lists each route once.
    expect(privacy.describeRoutes(a)).toHaveLength(expected.length);
  });

  it('the declared middleware still sets the purpose over real HTTP', async () => {
    const { a } = app();
    const server = await new Promise<Server>((resolve) => {
      const s = a.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`);
      expect(await res.json()).toEqual({ purpose: 'diagnostics' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it.each([
    ['an unknown option', { date: ['email'] }, /unknown option "date"/],
    ['a category the policy lacks', { data: ['shoe-size'] }, /"shoe-size", not a data category of policy "openinfra"/],
    ['data that is not a list of ids', { data: 'email' }, /"data" must be a list of data category ids/],
  ])('rejects %s at start-up', (_name, options, message) => {
    const privacy = createPrivacy(kitFor(), { onWarning: () => undefined });
    expect(() => privacy.purpose('diagnostics', options as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringMatching(message) }));
  });

  it('refuses something that is not an app or router', () => {
    const privacy = createPrivacy(kitFor(), { onWarning: () => undefined });
    expect(() => privacy.describeRoutes({})).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
  });
});
