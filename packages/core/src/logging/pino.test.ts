import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import pinoHttp from 'pino-http';
import { createIpKeyring } from '../ip/pseudonymize';
import { createIpRedactor } from '../ip/redact';
import { scrubIps } from '../ip/scrub';
import { createPinoIpRedaction } from './pino';
import type { PinoIpRedactionOptions } from './pino';

const CLIENT = '203.0.113.77';
const CLIENT6 = '2001:db8:85a3:8d3:1319:8a2e:370:7348';
const INTERNAL = '10.1.2.3';

/** A pino logger writing into an array; `base: undefined` keeps hostname/pid out of the lines. */
function capture(options?: PinoIpRedactionOptions, extra: pino.LoggerOptions = {}) {
  const lines: string[] = [];
  const ip = createPinoIpRedaction(options);
  const logger = pino(
    { base: undefined, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks, ...extra },
    { write: (s: string) => void lines.push(s) },
  );
  return { ip, logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

/**
 * No full address: none of the raw ones, and nothing a second scrub would change, apart
 * from `serverHost`, the Host header's value (the server's own address, left as is).
 */
function expectNoFullIp(lines: readonly string[], raw: readonly string[] = [CLIENT, CLIENT6, INTERNAL], serverHost?: string): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const full of lines) {
    const line = serverHost === undefined ? full : full.split(`"host":"${serverHost}"`).join('"host":"(server)"');
    for (const ip of raw) expect(line).not.toContain(ip);
    expect(scrubIps(line)).toBe(line);
  }
}

describe('createPinoIpRedaction with pino', () => {
  test('the message and format arguments (which pino never passes to formatters.log)', () => {
    const { logger, lines, records } = capture();
    logger.info(`client ${CLIENT} connected`);
    logger.info('from %s via %j', CLIENT6, { hop: INTERNAL });
    expectNoFullIp(lines);
    expect(records().map((r) => r.msg)).toEqual(['client 203.0.113.0 connected', 'from 2001:db8:85a3:: via {"hop":"10.1.2.0"}']);
  });

  test('nested fields of the merging object, without mutating it', () => {
    const { logger, lines, records } = capture();
    const meta = { ip: CLIENT, nested: { list: [CLIENT6, 'fine'], n: 1 } };
    logger.info(meta, 'done');
    expectNoFullIp(lines);
    expect(records()[0]).toMatchObject({ ip: '203.0.113.0', nested: { list: ['2001:db8:85a3::', 'fine'], n: 1 }, msg: 'done' });
    expect(meta.ip).toBe(CLIENT);
  });

  test('errors: message, stack and own fields, with the type kept', () => {
    const { logger, lines, records } = capture();
    const err = Object.assign(new TypeError(`connect ECONNREFUSED ${INTERNAL}:5432`), { address: INTERNAL, port: 5432 });
    logger.error(err);
    logger.warn({ err }, 'db down');
    logger.info({ err: new Error('wrapped', { cause: new Error(`peer ${CLIENT}`) }) });
    expectNoFullIp(lines);
    const [a, b, c] = records();
    expect(a).toMatchObject({ msg: 'connect ECONNREFUSED 10.1.2.0:5432', err: { type: 'TypeError', address: '10.1.2.0', port: 5432 } });
    expect(a!.err.stack).toContain('TypeError: connect ECONNREFUSED 10.1.2.0:5432');
    expect(b).toMatchObject({ msg: 'db down', err: { message: 'connect ECONNREFUSED 10.1.2.0:5432' } });
    expect(c!.err.stack).toContain('peer 203.0.113.0');
    expect(err.message).toContain(INTERNAL); // the application's error object is untouched
  });

  test('mixin output goes through formatters.log', () => {
    const { logger, lines, records } = capture(undefined, { mixin: () => ({ peer: CLIENT }) });
    logger.info('hello');
    expectNoFullIp(lines);
    expect(records()[0]).toMatchObject({ peer: '203.0.113.0', msg: 'hello' });
  });

  test('a raw request passed to the logger goes through the req serializer', () => {
    const { logger, lines, records } = capture();
    const req = {
      method: 'GET',
      url: `/a?ip=${CLIENT}`,
      headers: { 'x-forwarded-for': `${CLIENT}, ${INTERNAL}`, 'user-agent': 'ua\u2028next' },
      socket: { remoteAddress: `::ffff:${INTERNAL}`, remotePort: 5555 },
    };
    logger.info({ req }, 'in');
    expectNoFullIp(lines);
    expect(records()[0]!.req).toEqual({
      method: 'GET',
      url: '/a?ip=203.0.113.0',
      headers: { 'x-forwarded-for': '203.0.113.0, 10.1.2.0', 'user-agent': 'ua\\u2028next' },
      remoteAddress: '::ffff:10.1.2.0',
      remotePort: 5555,
    });
  });

  test('fails closed: a throwing redactor writes the fixed token, never the address', () => {
    const { logger, lines, records } = capture({
      redactor: () => {
        throw new Error('redactor down');
      },
    });
    logger.info({ ip: CLIENT, req: { remoteAddress: CLIENT, headers: { 'x-real-ip': CLIENT } } }, `from ${CLIENT}`);
    expectNoFullIp(lines);
    expect(records()[0]).toMatchObject({
      ip: 'ip-invalid',
      msg: 'from ip-invalid',
      req: { remoteAddress: 'ip-invalid', headers: { 'x-real-ip': 'ip-invalid' } },
    });
  });

  test('a value too deep or a cycle is not written raw', () => {
    const { logger, lines, records } = capture({ maxDepth: 1 });
    const cyclic: Record<string, unknown> = { ip: CLIENT };
    cyclic['self'] = cyclic;
    logger.info({ deep: { deeper: { ip: CLIENT } }, cyclic });
    expectNoFullIp(lines);
    expect(records()[0]).toMatchObject({ deep: { deeper: '[Object]' }, cyclic: { ip: '203.0.113.0', self: '[Circular]' } });
  });

  test('pseudonyms from the policy redactor', () => {
    const keys = createIpKeyring({ id: 'k1', secret: 'k'.repeat(32) });
    const { logger, lines } = capture({ redactor: createIpRedactor({ mode: 'pseudonymize' }, keys) });
    logger.info(`from ${CLIENT}`);
    expectNoFullIp(lines);
    expect(lines[0]).toMatch(/"msg":"from ip-hmac:k1:[0-9a-f]{32}"/);
  });

  test('rejects unknown options', () => {
    expect(() => createPinoIpRedaction({ redact: () => 'x' } as never)).toThrow(/Did you mean "redactor"/);
  });
});

describe('createPinoIpRedaction with pino-http', () => {
  test('request and response lines hold no full address (spoofed X-Forwarded-For, URL, Referer)', async () => {
    const lines: string[] = [];
    const ip = createPinoIpRedaction();
    let done: () => void;
    const completed = new Promise<void>((resolve) => (done = resolve));
    const logger = pino(
      { base: undefined, serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks },
      {
        write: (s: string) => {
          lines.push(s);
          if (s.includes('request completed')) done();
        },
      },
    );
    const httpLogger = pinoHttp({ logger, serializers: ip.serializers });
    const server = http.createServer((req, res) => {
      httpLogger(req, res);
      req.log.info(`handling ${CLIENT}`);
      res.setHeader('location', `http://${INTERNAL}/next`);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/path?ip=${CLIENT}`, {
        headers: { 'x-forwarded-for': `${CLIENT6}, ${CLIENT}`, referer: `http://${INTERNAL}/from`, forwarded: `for=${CLIENT}` },
      });
      expect(await res.text()).toBe('ok');
      await completed;
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expectNoFullIp(lines, [CLIENT, CLIENT6, INTERNAL], `127.0.0.1:${port}`);
    const record = JSON.parse(lines.find((l) => l.includes('request completed'))!) as Record<string, any>;
    // Host names the server the client connected to, not the client: left as it was sent.
    expect(record.req.headers.host).toBe(`127.0.0.1:${port}`);
    expect(record.req).toMatchObject({
      url: '/path?ip=203.0.113.0',
      remoteAddress: '127.0.0.0',
      headers: { 'x-forwarded-for': '2001:db8:85a3::, 203.0.113.0', referer: 'http://10.1.2.0/from', forwarded: 'for=203.0.113.0' },
    });
    expect(record.res.headers.location).toBe('http://10.1.2.0/next');
  });
});

describe('createPinoIpRedaction: the Host header', () => {
  test('is escaped but not scrubbed (it is the server, not the client); every other header is scrubbed', () => {
    const { ip } = capture();
    const req = { method: 'GET', url: '/', headers: { host: '192.0.2.10:8080', ':authority': '[2001:db8::10]:443', 'x-real-ip': CLIENT, 'x-odd': 'a\u2028b' }, socket: { remoteAddress: CLIENT } };
    const out = ip.serializers.req(req) as { headers: Record<string, string> };
    expect(out.headers).toEqual({ host: '192.0.2.10:8080', ':authority': '[2001:db8::10]:443', 'x-real-ip': '203.0.113.0', 'x-odd': 'a\\u2028b' });
    const hostile = ip.serializers.req({ ...req, headers: { Host: 'evil\u2028192.0.2.10' } }) as { headers: Record<string, string> };
    expect(hostile.headers['Host']).toBe('evil\\u2028192.0.2.10');
  });
});
