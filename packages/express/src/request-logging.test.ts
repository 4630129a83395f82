/**
 * The logger recipes of docs/ip-redaction.md, with the real loggers over real HTTP:
 * pino-http (createPinoHttpOptions), winston (createWinstonIpFormat) and morgan
 * (registerMorganIpTokens + MORGAN_SAFE_FORMAT) each write every request line with our
 * request id, purpose, basis and policy, and no header secret (bearer token, session
 * cookie, the age gate's lockout cookie), no full client address (URL paths and
 * forwarded headers included), while the Host header is written as sent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { RequestHandler } from 'express';
import pinoHttp from 'pino-http';
import winston from 'winston';
import morgan from 'morgan';
import { MORGAN_SAFE_FORMAT, createPinoHttpOptions, createPurposekit, createWinstonIpFormat, openinfra, registerMorganIpTokens } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { createPrivacy } from './index';

const TOKEN = 'Bearer tok-9f8e7d6c5b4a';
const SESSION = 'session=sess-0123456789abcdef';
const CLIENT = '203.0.113.77';
const IN_PATH = '198.51.100.42';
const HOST = '10.20.30.40:8080'; // the server's own name and port, as a load balancer may send it
const SECRETS = ['tok-9f8e7d6c5b4a', 'sess-0123456789abcdef'];
const FULL_IPS = [CLIENT, IN_PATH, '127.0.0.1'];

interface Answer {
  status: number;
  setCookie: string[];
}

function request(port: number, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host: HOST, ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** One app, one logger under test mounted by `mount` after the privacy middleware; returns the lines and the lockout cookie. */
async function exercise(mount: (app: express.Express, kit: ReturnType<typeof createPurposekit>) => void, lines: () => string[]): Promise<{ lines: string[]; lockout: string; requestIds: string[] }> {
  const audit = new InMemoryAuditSink();
  const kit = createPurposekit({ policy: openinfra, audit, subjectKey: { id: 'k', secret: 'x'.repeat(32) }, ageGate: { secret: 'y'.repeat(32) } });
  const privacy = createPrivacy(kit, { skip: ['/healthz'] });
  const app = express();
  app.use(privacy.middleware());
  mount(app, kit);
  app.use(express.json());
  const seen: string[] = [];
  const remember: RequestHandler = (req, _res, next) => {
    seen.push(req.privacy!.requestId);
    next();
  };
  app.get('/status', privacy.purpose('diagnostics'), remember, async (req, res, next) => {
    try {
      await req.privacy!.access({ data: ['ip-address'], action: 'read' });
      (req as unknown as { log?: { info(msg: string): void } }).log?.info(`handler saw ${CLIENT}`);
      res.json({ ok: true });
    } catch (err) {
      next(err);
    }
  });
  app.get('/lookup/:addr', privacy.purpose('site-administration'), remember, (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/members', privacy.purpose('service.registration'), remember, privacy.ageGate('registration'), (_req, res) => {
    res.status(201).json({ ok: true });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(privacy.errorHandler());
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const auth = { authorization: TOKEN, cookie: SESSION, 'x-forwarded-for': CLIENT };
  try {
    expect((await request(port, 'GET', '/status', auth)).status).toBe(200);
    expect((await request(port, 'GET', `/lookup/${IN_PATH}?also=${CLIENT}`, auth)).status).toBe(200);
    const refused = await request(port, 'POST', '/members', auth, { name: 'Kid', dateOfBirth: '2016-01-01' });
    expect(refused.status).toBe(403);
    const lockout = refused.setCookie[0]!.split(';')[0]!;
    expect((await request(port, 'POST', '/members', { ...auth, cookie: `${SESSION}; ${lockout}` }, { name: 'Kid', dateOfBirth: '1990-01-01' })).status).toBe(403);
    expect((await request(port, 'GET', '/healthz', auth)).status).toBe(200);
    // Loggers write when the response has finished: wait (bounded) for the four request lines.
    const deadline = Date.now() + 5000;
    while (lines().filter((l) => /\/(status|lookup|members)/.test(l)).length < 4 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    return { lines: lines(), lockout: lockout.split('=')[1]!, requestIds: seen };
  } finally {
    await new Promise((r) => server.close(r));
  }
}

function expectSafe(lines: string[], lockout: string): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    for (const s of [...SECRETS, lockout]) expect(line).not.toContain(s);
    for (const ip of FULL_IPS) expect(line).not.toContain(ip);
  }
}

describe('pino-http with createPinoHttpOptions(kit)', () => {
  it('our request id, purpose, basis and policy on every line; no secret header, no full IP; Host as sent; skipped routes not logged', async () => {
    const out: string[] = [];
    const { lines, lockout, requestIds } = await exercise(
      (app, kit) => app.use(pinoHttp({ ...createPinoHttpOptions(kit, { skip: ['/healthz'] }), base: undefined, stream: { write: (s: string) => void out.push(s) } } as never)),
      () => out,
    );
    expectSafe(lines, lockout);
    const records = lines.map((l) => JSON.parse(l) as Record<string, any>);
    const requestLines = records.filter((r) => r.req !== undefined);
    expect(requestLines).toHaveLength(5); // 4 completions + the handler's own req.log line
    for (const r of requestLines) {
      expect(r).toMatchObject({ policy: 'openinfra@2024-current', basis: expect.any(String), purpose: expect.any(String), requestId: expect.any(String) });
      expect(r.req.headers).toMatchObject({ authorization: '[Redacted]', cookie: '[Redacted]', host: HOST });
      expect(r.req.id).toBe(r.requestId);
    }
    expect(new Set(requestLines.map((r) => r.requestId))).toEqual(new Set(requestIds));
    expect(requestLines.map((r) => r.purpose)).toEqual(expect.arrayContaining(['diagnostics', 'site-administration', 'service.registration']));
    const refusal = requestLines.find((r) => r.res?.statusCode === 403)!;
    expect(refusal.res.headers['set-cookie']).toBe('[Redacted]');
    expect(requestLines.find((r) => r.req.url.startsWith('/lookup/'))!.req.url).toBe('/lookup/198.51.100.0?also=203.0.113.0');
    expect(lines.join('\n')).not.toContain('/healthz');
    // every line: the request line and the handler's own line alike
    expect(requestLines.filter((r) => r.msg === `handler saw 203.0.113.0`)).toHaveLength(1);
  });
});

describe('winston with createWinstonIpFormat()', () => {
  it('a request line logged on finish carries the privacy fields, no secret header and no full IP; Host as sent', async () => {
    const out: string[] = [];
    const logger = winston.createLogger({
      format: winston.format.combine(createWinstonIpFormat(), winston.format.json()),
      transports: [new winston.transports.Stream({ stream: new (require('node:stream').Writable)({ write: (c: Buffer, _e: string, cb: () => void) => (out.push(String(c)), cb()) }) })],
    });
    const { lines, lockout, requestIds } = await exercise(
      (app) =>
        app.use((req, res, next) => {
          if (req.path === '/healthz') return next();
          res.on('finish', () => logger.info('request', { method: req.method, url: req.originalUrl, status: res.statusCode, headers: req.headers, res: { headers: res.getHeaders() } }));
          next();
        }),
      () => out,
    );
    expectSafe(lines, lockout);
    const records = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(records).toHaveLength(4);
    for (const r of records) {
      expect(r).toMatchObject({ policy: 'openinfra@2024-current', purpose: expect.any(String), basis: expect.any(String) });
      expect(r.headers).toMatchObject({ authorization: '[Redacted]', cookie: '[Redacted]', host: HOST });
    }
    expect(records.map((r) => r.requestId).sort()).toEqual([...requestIds].sort());
    expect(records.find((r) => r.status === 403).res.headers['set-cookie']).toBe('[Redacted]');
    expect(records.find((r) => r.url.startsWith('/lookup/')).url).toBe('/lookup/198.51.100.0?also=203.0.113.0');
  });
});

describe('morgan with registerMorganIpTokens() and MORGAN_SAFE_FORMAT', () => {
  it('every line has request id, purpose, basis and policy; secret headers and the lockout cookie are redacted; Host as sent', async () => {
    registerMorganIpTokens(morgan as never);
    const out: string[] = [];
    const format = `${MORGAN_SAFE_FORMAT} auth=":req[authorization]" cookie=":req[cookie]" set-cookie=":res[set-cookie]" host=:req[host] xff=:req[x-forwarded-for]`;
    const { lines, lockout, requestIds } = await exercise(
      (app) => app.use(morgan(format, { stream: { write: (s: string) => void out.push(s) }, skip: (req) => req.url === '/healthz' })),
      () => out,
    );
    expectSafe(lines, lockout);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).toMatch(/request-id=[0-9a-f-]{36} purpose=[a-z.-]+ basis=[a-z-]+ policy=openinfra@2024-current /);
      expect(line).toContain('auth="[Redacted]" cookie="[Redacted]"');
      expect(line).toContain(`host=${HOST}`);
    }
    expect(lines.map((l) => /request-id=(\S+)/.exec(l)![1]).sort()).toEqual([...requestIds].sort());
    expect(lines.find((l) => / 403 /.test(l))).toContain('set-cookie="[Redacted]"');
    expect(lines.find((l) => l.includes('/lookup/'))).toContain('/lookup/198.51.100.0?also=203.0.113.0');
  });
});
