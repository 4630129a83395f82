import 'reflect-metadata';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { bitnami, signalDisclosure, verifyAuditTrail } from '@purposekit/core';
import { createApp, listen } from './app';
import type { BitnamiApp } from './app';

// Walks issue 7's row for apps/bitnami-nest over real HTTP, in order: each test builds on
// the state the previous ones left (accounts, orders, subscriptions, the trail).

const CARD = '4242424242424242';
const CARD_AS_TYPED = '4242 4242 4242 4242';
/** "4242" standing alone (not inside a longer run of hex digits, letters or dashes such as a uuid or a hash). */
const LAST4_AS_VALUE = /(?<![0-9a-z-])4242(?![0-9a-z-])/i;
const ADULT_DOB = '1990-04-01';
const CHILD_DOB = '2019-06-01'; // under 13 until 2032
const CHILD = { name: 'Young Person', email: 'young@example.org', username: 'young' };

const OPERATOR = 'bitnami-operator-token-for-the-test';
let h: BitnamiApp;
let base: string;
const lines: string[] = [];

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pk-bitnami-'));
  const logger = pino(new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
  h = await createApp({ dataDir, logger, trustProxy: 'loopback', operatorToken: OPERATOR });
  const server = await listen(h.app, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close().catch(() => undefined);
});

interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

async function call(method: string, path: string, options: { body?: unknown; as?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.as !== undefined ? { authorization: `Bearer ${options.as}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

const requestLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'request');
const logFor = (method: string, path: string) => requestLines().filter((l) => l['path'] === path && l['method'] === method);

function trail(): Array<Record<string, any>> {
  return readdirSync(h.auditDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(h.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>));
}
const events = () => trail().filter((r) => r['kind'] !== 'checkpoint');

const REFUSED = { error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } };

let ada: string; // an adult customer
let bo: string; // a second customer who keeps the newsletter
let visitor: string; // a newsletter subscriber without an account
let order: string;

describe('bitnami-nest reference app', () => {
  it('tags each request with its purpose and basis in the log line, with a truncated IP only', async () => {
    const r = await call('GET', '/', { headers: { 'x-forwarded-for': '198.51.100.23' } });
    expect(r).toMatchObject({ status: 200, body: { app: 'bitnami-nest', policy: 'bitnami@2010-08-08' } });
    expect(logFor('GET', '/')).toEqual([
      expect.objectContaining({ purpose: 'service.provision', basis: 'legitimate-interests', policy: 'bitnami@2010-08-08', ip: '198.51.100.0', method: 'GET', path: '/', status: 200, requestId: expect.any(String) }),
    ]);
  });

  describe('COPPA: 13+ for everything that collects personal data', () => {
    it.each([
      ['POST', '/accounts', { ...CHILD, dateOfBirth: CHILD_DOB }],
      ['POST', '/newsletter', { email: CHILD.email, name: CHILD.name, dateOfBirth: CHILD_DOB }],
    ])('%s %s from an under-13: refused neutrally, with the lockout, nothing kept', async (method, path, body) => {
      const r = await call(method, path, { body });
      expect(r.status).toBe(403);
      expect(r.body).toEqual(REFUSED);
      expect(r.headers.get('set-cookie')).toMatch(/HttpOnly/);
      expect(await h.store.accounts()).toEqual([]);
      expect(await h.store.subscribers()).toEqual([]);
    });

    it('the lockout cookie refuses the same browser\'s second try with another date', async () => {
      const first = await call('POST', '/accounts', { body: { ...CHILD, dateOfBirth: CHILD_DOB } });
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      const again = await call('POST', '/accounts', { body: { ...CHILD, dateOfBirth: ADULT_DOB }, headers: { cookie } });
      expect(again).toMatchObject({ status: 403, body: REFUSED });
      expect(await h.store.accounts()).toEqual([]);
    });

    it('a submission without a date of birth is not accepted either', async () => {
      const r = await call('POST', '/accounts', { body: { name: 'Ada', email: 'ada@example.org', username: 'ada' } });
      expect(r).toMatchObject({ status: 400, body: { error: { code: 'PURPOSEKIT_ERR_DOB_MISSING' } } });
      expect(await h.store.accounts()).toEqual([]);
    });

    it('13 and older: the account is created, without its date of birth', async () => {
      const a = await call('POST', '/accounts', { body: { name: 'Ada Lovelace', email: 'ada@example.org', username: 'ada', dateOfBirth: ADULT_DOB } });
      expect(a.status).toBe(201);
      ada = a.body.id;
      const b = await call('POST', '/accounts', { body: { name: 'Bo Brown', email: 'bo@example.org', username: 'bo', dateOfBirth: '2000-02-29' } });
      expect(b.status).toBe(201);
      bo = b.body.id;
      expect((await h.store.accounts()).map((x) => [x.id, x.username])).toEqual([
        [ada, 'ada'],
        [bo, 'bo'],
      ]);
      expect(JSON.stringify(await h.store.accounts())).not.toMatch(/dateOfBirth|1990-04-01|2000-02-29/);
      expect(logFor('POST', '/accounts').at(-1)).toMatchObject({ purpose: 'service.registration', basis: 'contract', status: 201 });
    });

    it('an under-13 order is refused like any other submission', async () => {
      const r = await call('POST', '/orders', { as: ada, body: { product: 'Stacksmith', card: { number: CARD }, dateOfBirth: CHILD_DOB } });
      expect(r).toMatchObject({ status: 403, body: REFUSED });
      expect(await h.store.ordersOf(ada)).toEqual([]);
    });
  });

  describe('orders under a contract; the card only for billing', () => {
    it('POST /orders: order data under order-fulfilment, the card only under payment, to the payment gateway; only a token and the last 4 kept', async () => {
      const r = await call('POST', '/orders', { as: ada, body: { product: 'Stacksmith', quantity: 2, card: { number: CARD_AS_TYPED }, dateOfBirth: ADULT_DOB } });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ id: expect.any(String), product: 'Stacksmith', quantity: 2, cardLast4: '4242', subscription: false, placedAt: expect.any(String) });
      order = r.body.id;
      const stored = await h.store.order(order);
      expect(stored).toMatchObject({ account: ada, cardLast4: '4242', cardToken: expect.stringMatching(/^tok_[0-9a-f]{24}$/) });
      expect(JSON.stringify(stored)).not.toContain(CARD);
      const log = logFor('POST', '/orders').at(-1)!;
      expect(log).toMatchObject({ purpose: 'order-fulfilment', basis: 'contract', status: 201 });
      // Both decisions of this request, linked by its request id.
      const mine = events().filter((e) => e['requestId'] === log['requestId']);
      expect(mine.map((e) => [e['kind'], e['purpose'], e['basis'], e['data'], e['action'], e['recipient'], e['actor'], e['decision']])).toEqual([
        ['access', 'order-fulfilment', 'contract', ['order-history'], 'collect', undefined, 'service', 'allow'],
        ['access', 'payment', 'contract', ['payment'], 'share', 'payment-gateway', 'billing', 'allow'],
      ]);
    });

    it('GET /orders shows the customer their orders with the last 4 digits only', async () => {
      const r = await call('GET', '/orders', { as: ada });
      expect(r).toMatchObject({ status: 200, body: { orders: [{ id: order, product: 'Stacksmith', quantity: 2, cardLast4: '4242' }] } });
      expect(JSON.stringify(r.body)).not.toMatch(/tok_|4242424242424242/);
    });

    it.each([
      ['no bearer token', undefined, { product: 'X', card: { number: CARD }, dateOfBirth: ADULT_DOB }, 401, 'APP_UNAUTHENTICATED'],
      ['a card number that fails the check', 'ada', { product: 'X', card: { number: '4242424242424241' }, dateOfBirth: ADULT_DOB }, 400, 'APP_INVALID_CARD'],
      ['no product', 'ada', { card: { number: CARD }, dateOfBirth: ADULT_DOB }, 400, 'APP_INVALID_ORDER'],
    ])('refused with %s, nothing recorded or kept, the number never echoed', async (_name, who, body, status, code) => {
      const before = events().length;
      const r = await call('POST', '/orders', { ...(who !== undefined ? { as: ada } : {}), body });
      expect(r).toMatchObject({ status, body: { error: { code } } });
      expect(JSON.stringify(r.body)).not.toMatch(/424242/);
      expect(events().length).toBe(before);
      expect(await h.store.ordersOf(ada)).toHaveLength(1);
    });

    it.each([
      // [purpose the code runs under, what it tries, reason]
      ['order-fulfilment', 'the gateway client (card data) outside billing', 'purpose-limitation'],
      ['payment', 'card data to a recipient other than the gateway', 'recipient-not-allowed'],
      ['notifications', 'card data to mail an order notice', 'purpose-limitation'],
    ])('the policy refuses card data under %s (%s): %s, recorded', async (purpose, _what, reason) => {
      const attempt = () =>
        h.kit.runAs({ purpose, actor: 'test', subject: ada }, () =>
          purpose === 'order-fulfilment' ? h.gateway.tokenize(CARD) : h.kit.access({ data: ['payment'], action: 'share', recipient: purpose === 'payment' ? 'analytics-vendor' : 'payment-gateway' }),
        );
      await expect(attempt()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_ACCESS_DENIED', details: { reason } });
      expect(events().at(-1)).toMatchObject({ kind: 'access', purpose, data: ['payment'], decision: 'deny', reason });
    });
  });

  describe('newsletter (implied consent) with unsubscribe; order notices go on', () => {
    it('a visitor subscribes (13+); the form is recorded as implied consent', async () => {
      const r = await call('POST', '/newsletter', { body: { email: 'cy@example.org', name: 'Cy', dateOfBirth: ADULT_DOB } });
      expect(r.status).toBe(201);
      visitor = r.body.id;
      expect(events().at(-1)).toMatchObject({ kind: 'consent', purpose: 'marketing.email', basis: 'consent', subject: h.kit.pseudonymizeSubject(visitor), attributes: { state: 'given', type: 'implied', source: 'form' } });
    });

    it('customers and subscribers get the newsletter until they opt out', async () => {
      const r = await call('POST', '/newsletter/send', { as: OPERATOR });
      expect(r).toMatchObject({ status: 200, body: { sent: [ada, bo, visitor], skipped: [] } });
    });

    it('POST /newsletter/unsubscribe records the withdrawal; the next send to Ada is denied (consent-withdrawn) while her order notice goes out', async () => {
      const u = await call('POST', '/newsletter/unsubscribe', { as: ada });
      expect(u).toMatchObject({ status: 200, body: { unsubscribed: true } });
      expect(events().at(-1)).toMatchObject({ kind: 'consent', purpose: 'marketing.email', subject: h.kit.pseudonymizeSubject(ada), actor: 'data-subject', attributes: { state: 'withdrawn', type: 'implied', source: 'form' } });

      const send = await call('POST', '/newsletter/send', { as: OPERATOR });
      expect(send).toMatchObject({ status: 200, body: { sent: [bo, visitor], skipped: [{ id: ada, reason: 'consent-withdrawn' }] } });
      expect(events().filter((e) => e['subject'] === h.kit.pseudonymizeSubject(ada) && e['purpose'] === 'marketing.email' && e['kind'] === 'access').at(-1)).toMatchObject({ decision: 'deny', reason: 'consent-withdrawn' });

      const notice = await call('POST', `/orders/${order}/notify`, { as: OPERATOR });
      expect(notice).toMatchObject({ status: 201, body: { sent: true } });
      expect(events().at(-1)).toMatchObject({ kind: 'access', purpose: 'notifications', basis: 'contract', subject: h.kit.pseudonymizeSubject(ada), decision: 'allow' });
      const toAda = (await h.store.outbox()).filter((o) => o.to === ada).map((o) => o.kind);
      expect(toAda).toEqual(['newsletter', 'order-notice']);
    });

    it('a visitor who unsubscribes is removed from the list: the address is gone from the store', async () => {
      expect((await call('POST', '/newsletter/unsubscribe', { as: visitor })).status).toBe(200);
      expect(await h.store.subscribers()).toEqual([]);
      await h.store.close(); // compaction, as on shutdown
      expect(readFileSync(join(h.auditDir, '..', 'subscribers.db'), 'utf8')).not.toContain('cy@example.org');
      expect((await call('POST', '/newsletter/unsubscribe', { as: visitor })).status).toBe(401);
    });

    it('the rights endpoints the policy honours: withdraw consent to the newsletter; others (objection included: the text states none) are not offered', async () => {
      expect(await call('POST', '/privacy/objection', { as: bo, body: { purpose: 'marketing.email' } })).toMatchObject({ status: 404, body: { error: { code: 'PURPOSEKIT_ERR_RIGHT_NOT_OFFERED' } } });
      const w = await call('POST', '/privacy/consent', { as: bo, body: { purpose: 'marketing.email', state: 'withdrawn' } });
      expect(w).toMatchObject({ status: 200, body: { request: { right: 'withdraw-consent', status: 'completed' }, consent: { purpose: 'marketing.email', state: 'withdrawn' } } });
      const send = await call('POST', '/newsletter/send', { as: OPERATOR });
      expect(send.body.skipped).toEqual([
        { id: ada, reason: 'consent-withdrawn' },
        { id: bo, reason: 'consent-withdrawn' },
      ]);
      expect(await call('GET', '/privacy/access-log', { as: bo })).toMatchObject({ status: 404, body: { error: { code: 'PURPOSEKIT_ERR_RIGHT_NOT_OFFERED' } } });
      expect(await call('POST', '/privacy/consent', { body: { purpose: 'marketing.email', state: 'withdrawn' } })).toMatchObject({ status: 401 });
    });
  });

  it('sharing customer data with a partner "for marketing" is denied by the policy and recorded as a deny; the handler never runs', async () => {
    const r = await call('POST', '/partners/share', { body: { partner: 'acme-ads' } });
    expect(r).toEqual({ status: 403, body: { error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: expect.any(String), reason: 'recipient-not-allowed' } }, headers: expect.anything() });
    expect(r.body).not.toHaveProperty('shared');
    expect(events().at(-1)).toMatchObject({ kind: 'access', purpose: 'marketing.email', data: ['name', 'email'], action: 'share', recipient: 'marketing-partner', decision: 'deny', reason: 'recipient-not-allowed' });
    expect(logFor('POST', '/partners/share')[0]).toMatchObject({ purpose: 'marketing.email', basis: 'consent', status: 403 });
  });

  it.each([
    ['with DNT: 1', { dnt: '1' }, true],
    ['without DNT', {}, false],
    ['with DNT: 0', { dnt: '0' }, false],
  ] as const)('CalOPPA: GET /privacy/dnt %s states how DNT is treated and what the request sent', async (_name, headers, received) => {
    const r = await call('GET', '/privacy/dnt', { headers });
    expect(r).toMatchObject({ status: 200, body: { dnt: { received, statement: signalDisclosure(bitnami).dnt }, gpc: { received: false, statement: signalDisclosure(bitnami).gpc } } });
    expect(logFor('GET', '/privacy/dnt').at(-1)).toMatchObject({ purpose: 'service.provision', status: 200 });
  });

  it('a body that is not JSON is refused by the platform\'s parser before any handler, and still logged (without the body)', async () => {
    const res = await fetch(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ada}` }, body: `{"card":{"number":"${CARD}"` });
    expect(res.status).toBe(400);
    expect(logFor('POST', '/orders').at(-1)).toMatchObject({ status: 400 });
    expect(await h.store.ordersOf(ada)).toHaveLength(1);
  });

  it('keeps no full IP, no birthdate, no card number and no refused body in any log line', () => {
    expect(requestLines().length).toBeGreaterThan(20);
    const all = lines.join('\n');
    for (const leaked of ['127.0.0.1', '198.51.100.23', ADULT_DOB, CHILD_DOB, '2000-02-29', CARD, CARD_AS_TYPED, CHILD.name, CHILD.email, 'ada@example.org', 'cy@example.org', 'acme-ads']) {
      expect(all).not.toContain(leaked);
    }
    // The card's last four digits as a value of their own (request ids and hashes are random
    // hex, so "4242" may stand inside one of them by chance).
    expect(all).not.toMatch(LAST4_AS_VALUE);
    for (const l of requestLines()) expect(String(l['path'])).not.toContain('?');
  });

  it('writes the expected records to the audit trail, in order, without personal values, and the trail verifies', async () => {
    await h.close();
    const records = trail();
    const ev = records.filter((r) => r['kind'] !== 'checkpoint');
    const A = h.kit.pseudonymizeSubject(ada);
    const B = h.kit.pseudonymizeSubject(bo);
    const V = h.kit.pseudonymizeSubject(visitor);
    expect(ev.map((r) => [r['kind'], r['purpose'], r['subject'], r['action'] ?? r['attributes']?.['state'] ?? r['attributes']?.['status'], r['recipient'], r['decision'], r['reason']])).toEqual([
      // COPPA refusals: two forms, the lockout, a missing date
      ['age-gate', 'service.registration', undefined, undefined, undefined, 'deny', 'refused'],
      ['age-gate', 'marketing.email', undefined, undefined, undefined, 'deny', 'refused'],
      ['age-gate', 'service.registration', undefined, undefined, undefined, 'deny', 'refused'],
      ['age-gate', 'service.registration', undefined, undefined, undefined, 'deny', 'locked-out'],
      ['age-gate', 'service.registration', undefined, undefined, undefined, 'deny', 'invalid-dob'],
      // two accounts
      ['access', 'service.registration', A, 'collect', undefined, 'allow', 'allowed'],
      ['access', 'service.registration', B, 'collect', undefined, 'allow', 'allowed'],
      ['age-gate', 'order-fulfilment', undefined, undefined, undefined, 'deny', 'refused'],
      // the order, and its card under payment
      ['access', 'order-fulfilment', A, 'collect', undefined, 'allow', 'allowed'],
      ['access', 'payment', A, 'share', 'payment-gateway', 'allow', 'allowed'],
      ['access', 'order-fulfilment', A, 'read', undefined, 'allow', 'allowed'],
      // card data anywhere else
      ['access', 'order-fulfilment', A, 'share', 'payment-gateway', 'deny', 'purpose-limitation'],
      ['access', 'payment', A, 'share', 'analytics-vendor', 'deny', 'recipient-not-allowed'],
      ['access', 'notifications', A, 'share', 'payment-gateway', 'deny', 'purpose-limitation'],
      // newsletter
      ['access', 'marketing.email', V, 'collect', undefined, 'allow', 'allowed'],
      ['consent', 'marketing.email', V, 'given', undefined, undefined, undefined],
      ['access', 'marketing.email', A, 'share', 'email-service-provider', 'allow', 'allowed'],
      ['access', 'marketing.email', B, 'share', 'email-service-provider', 'allow', 'allowed'],
      ['access', 'marketing.email', V, 'share', 'email-service-provider', 'allow', 'allowed'],
      ['consent', 'marketing.email', A, 'withdrawn', undefined, undefined, undefined],
      ['access', 'marketing.email', A, 'share', 'email-service-provider', 'deny', 'consent-withdrawn'],
      ['access', 'marketing.email', B, 'share', 'email-service-provider', 'allow', 'allowed'],
      ['access', 'marketing.email', V, 'share', 'email-service-provider', 'allow', 'allowed'],
      ['access', 'notifications', A, 'use', undefined, 'allow', 'allowed'],
      ['consent', 'marketing.email', V, 'withdrawn', undefined, undefined, undefined],
      // the withdrawal (a rights request), and the send after it
      ['rights', 'rights-fulfilment', B, 'received', undefined, undefined, undefined],
      ['consent', 'marketing.email', B, 'withdrawn', undefined, undefined, undefined],
      ['rights', 'rights-fulfilment', B, 'completed', undefined, undefined, undefined],
      ['access', 'marketing.email', A, 'share', 'email-service-provider', 'deny', 'consent-withdrawn'],
      ['access', 'marketing.email', B, 'share', 'email-service-provider', 'deny', 'consent-withdrawn'],
      // the partner
      ['access', 'marketing.email', undefined, 'share', 'marketing-partner', 'deny', 'recipient-not-allowed'],
    ]);
    const text = JSON.stringify(records);
    for (const leaked of ['Ada', 'ada@example.org', 'Bo Brown', 'cy@example.org', ADULT_DOB, CHILD_DOB, CARD, '127.0.0.1', '198.51.100', ada, bo, visitor]) {
      expect(text).not.toContain(leaked);
    }
    expect(text).not.toMatch(LAST4_AS_VALUE);
    expect(records.some((r) => r['kind'] === 'checkpoint')).toBe(true);
    const verified = await verifyAuditTrail(h.auditDir, { publicKeys: [readFileSync(h.publicKeyPath, 'utf8')] });
    expect(verified).toMatchObject({ ok: true, records: records.length });
    expect(verified.checkpoints).toBeGreaterThan(0);
  });
});

describe('bitnami-nest: what the seed says, end to end (issue 13), and hardening (issue 17)', () => {
  let b: BitnamiApp;
  let at: string;
  let dir: string;
  const out: string[] = [];
  const OP = 'bitnami-operator-second-token';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pk-bitnami-13-'));
    const logger = pino(new Writable({ write(c, _e, cb) { out.push(String(c)); cb(); } }));
    b = await createApp({ dataDir: dir, logger, trustProxy: 'loopback', operatorToken: OP });
    const server = await listen(b.app, 0);
    at = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await b?.close().catch(() => undefined);
  });

  const send = async (method: string, path: string, options: { body?: unknown; raw?: string; as?: string; headers?: Record<string, string> } = {}): Promise<Reply> => {
    const res = await fetch(`${at}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.as !== undefined ? { authorization: `Bearer ${options.as}` } : {}),
        ...options.headers,
      },
      ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  };
  const trail = (): Array<Record<string, any>> =>
    readdirSync(b.auditDir)
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .flatMap((f) => readFileSync(join(b.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>))
      .filter((r) => r['kind'] !== 'checkpoint');
  const customer = async (name: string): Promise<string> => {
    const r = await send('POST', '/accounts', { body: { name, email: `${name.toLowerCase()}@example.org`, username: name.toLowerCase(), dateOfBirth: ADULT_DOB } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const buy = async (who: string, subscription: boolean): Promise<string> => {
    const r = await send('POST', '/orders', { as: who, body: { product: subscription ? 'Stacksmith monthly' : 'Stacksmith', card: { number: CARD }, subscription, dateOfBirth: ADULT_DOB } });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };

  it('unknown routes and methods, and bodies that do not parse, are too large or wrongly encoded: the standard JSON error, the body never echoed, each logged', async () => {
    const before = out.length;
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/orders'], ['PUT', '/newsletter']] as const) {
      expect(await send(method, path)).toMatchObject({ status: 404, body: { error: { code: 'APP_NOT_FOUND', message: 'No such route or method.' } } });
    }
    expect(await send('POST', '/accounts', { raw: '{"name":"Secret Sam","email' })).toMatchObject({ status: 400, body: { error: { code: 'APP_INVALID_BODY', message: 'The body is not valid JSON.' } } });
    expect(await send('POST', '/accounts', { raw: JSON.stringify({ name: 'Secret Sam'.repeat(3000) }) })).toMatchObject({ status: 413, body: { error: { code: 'APP_BODY_TOO_LARGE', message: 'The body is larger than 16 KiB.' } } });
    expect(await send('POST', '/accounts', { raw: '{"name":"Secret Sam"}', headers: { 'content-type': 'application/json; charset=latin1' } })).toMatchObject({ status: 415, body: { error: { code: 'APP_UNSUPPORTED_MEDIA_TYPE' } } });
    const logged = out.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'request').map((l) => [l['method'], l['status']]);
    expect(logged).toEqual([['GET', 404], ['DELETE', 404], ['PUT', 404], ['POST', 400], ['POST', 413], ['POST', 415]]);
    expect(out.join('\n')).not.toContain('Secret Sam');
  });

  it('the newsletter send, order notices and the /operator routes require the operator token', async () => {
    const dee = await customer('Dee');
    const order = await buy(dee, false);
    for (const path of ['/newsletter/send', `/orders/${order}/notify`, '/operator/rights/unsubscribe', '/operator/rights/extend']) {
      for (const token of [undefined, dee, `${OP}x`]) {
        expect(await send('POST', path, { body: {}, ...(token !== undefined ? { as: token } : {}) })).toMatchObject({
          status: 401,
          body: { error: { code: 'APP_OPERATOR_ONLY', message: 'This route is for the operator: send Authorization: Bearer <operator token>.' } },
        });
      }
    }
    expect(await b.store.outbox()).toEqual([]);
    // With the token, a body that names no request is the operator's mistake: 400, not 500.
    expect(await send('POST', '/operator/rights/extend', { as: OP, body: { requestId: 'x y' } })).toMatchObject({ status: 400, body: { error: { code: 'APP_INVALID_OPERATOR_REQUEST', message: 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.' } } });
  });

  it('Sec-GPC: 1 on the customer\'s own request is not stored and changes nothing in the newsletter batch (the text states no GPC behaviour); each send is a share to the email service provider, recorded with its recipient and no transfer', async () => {
    const dee = (await b.store.accounts())[0]!.id;
    expect((await send('GET', '/orders', { as: dee, headers: { 'sec-gpc': '1' } })).status).toBe(200);
    expect((await b.kit.consentStore.facts(dee, 'marketing.email')).consent).toBeUndefined();
    const seen = trail().length;
    expect(await send('POST', '/newsletter/send', { as: OP, headers: { 'sec-gpc': '1' } })).toMatchObject({ status: 200, body: { sent: [dee], skipped: [] } });
    expect(trail().slice(seen).map((r) => [r['purpose'], r['actor'], r['action'], r['recipient'], r['decision'], r['attributes']])).toEqual([
      ['marketing.email', 'operator', 'share', 'email-service-provider', 'allow', undefined],
    ]);
  });

  it('retention: card data of a one-off purchase expires at the transaction, a subscription\'s when it is cancelled; the sweep erases it and records each erasure', async () => {
    const eve = await customer('Eve');
    const once = await buy(eve, false);
    const monthly = await buy(eve, true);
    const dees = (await b.store.orders()).filter((o) => o.account !== eve).map((o) => o.id);
    const due = await b.kit.retention.due({ now: Date.now() + 1000, within: 'P0D' });
    expect(due.map((d) => [d.store, d.purpose, d.item, d.onExpiry])).toEqual([...dees, once].map((id) => ['orders-db', 'payment', id, 'erase']));
    // A fake clock a day ahead: the one-off cards are erased; the running subscription keeps its card.
    const tomorrow = Date.now() + 86_400_000;
    expect(await b.kit.retention.sweep({ now: tomorrow })).toMatchObject({ erased: dees.length + 1, flagged: 0, held: 0, failed: [] });
    expect(await b.store.order(once)).not.toHaveProperty('cardToken');
    expect(await b.store.order(once)).toMatchObject({ product: 'Stacksmith', account: eve });
    expect(await b.store.order(monthly)).toMatchObject({ cardToken: expect.stringMatching(/^tok_/), cardLast4: '4242' });
    expect((await send('GET', '/orders', { as: eve })).body.orders.map((o: { cardLast4?: string }) => o.cardLast4 ?? null)).toEqual([null, '4242']);
    // "until such a subscription is cancelled": the clock starts at the cancellation.
    expect(await send('POST', `/orders/${monthly}/cancel`, { as: eve })).toMatchObject({ status: 201, body: { subscription: true, cancelledAt: expect.any(String) } });
    expect(await b.kit.retention.sweep({ now: tomorrow })).toMatchObject({ erased: 1 });
    expect(await b.store.order(monthly)).not.toHaveProperty('cardToken');
    expect(await b.kit.retention.sweep({ now: tomorrow })).toMatchObject({ erased: 0 });
    await b.store.close(); // compaction, as on shutdown
    expect(readFileSync(join(dir, 'orders.db'), 'utf8')).not.toMatch(/tok_|"cardLast4"/);
    const erasures = trail().filter((r) => r['kind'] === 'retention');
    expect(erasures.map((r) => [r['action'], r['purpose'], r['attributes']['store'], r['attributes']['item']])).toEqual([...dees, once, monthly].map((id) => ['erase', 'payment', 'orders-db', id]));
    expect(erasures.every((r) => r['subject'] !== undefined && !JSON.stringify(r).includes('tok_'))).toBe(true);
  });

  it('rights: only the unsubscribe is offered (a request by phone is recorded and completed); other rights are refused as not offered; an extension is not allowed', async () => {
    const eve = (await b.store.accounts()).find((a) => a.name === 'Eve')!.id;
    for (const [method, path] of [['POST', '/privacy/erasure'], ['POST', '/privacy/objection'], ['GET', '/privacy/export']] as const) {
      expect(await send(method, path, { as: eve, ...(path === '/privacy/objection' ? { body: { purpose: 'marketing.email' } } : {}) })).toMatchObject({ status: 404, body: { error: { code: 'PURPOSEKIT_ERR_RIGHT_NOT_OFFERED' } } });
    }
    const done = await send('POST', '/operator/rights/unsubscribe', { as: OP, body: { subject: eve } });
    expect(done).toMatchObject({ status: 200, body: { status: 'completed', requestId: expect.any(String) } });
    expect(await send('POST', '/operator/rights/extend', { as: OP, body: { requestId: done.body.requestId, subject: eve, receivedAt: new Date().toISOString(), reason: 'busy' } })).toMatchObject({
      status: 409,
      body: { error: { code: 'PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED' } },
    });
    expect((await send('POST', '/newsletter/send', { as: OP })).body.skipped).toEqual([{ id: eve, reason: 'consent-withdrawn' }]);
    const states = trail()
      .filter((r) => r['kind'] === 'rights' && r['subject'] === b.kit.pseudonymizeSubject(eve))
      .map((r) => [r['requestId'] === done.body.requestId, r['attributes']['right'], r['attributes']['status']]);
    expect(states).toEqual([
      [true, 'withdraw-consent', 'received'],
      [true, 'withdraw-consent', 'completed'],
    ]);
  });
});
