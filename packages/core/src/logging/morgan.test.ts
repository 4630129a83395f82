import http from 'node:http';
import type { AddressInfo } from 'node:net';
import morgan from 'morgan';
import { scrubIps } from '../ip/scrub';
import { resolveClientIp } from '../ip/client-ip';
import { compileTrust } from '../ip/trust-match';
import { MORGAN_SAFE_FORMAT, registerMorganIpTokens } from './morgan';
import type { MorganIpTokenOptions } from './morgan';

const CLIENT = '203.0.113.77';
const CLIENT6 = '2001:db8:85a3:8d3:1319:8a2e:370:7348';
const INTERNAL = '10.1.2.3';

/**
 * Serves one request through morgan(format) on a real server and resolves with the line
 * morgan wrote to its stream (morgan writes when the response finishes).
 */
async function logOneRequest(format: string, headers: Record<string, string>, path = '/'): Promise<string> {
  let line!: (s: string) => void;
  const written = new Promise<string>((resolve) => (line = resolve));
  const logger = morgan(format, { stream: { write: (s: string) => line(s) } });
  const server = http.createServer((req, res) => logger(req, res, () => res.end('ok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    // node:http (not fetch): it sends Latin-1 header bytes as they are.
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, headers }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    return await written;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function expectNoFullIp(line: string): void {
  for (const ip of [CLIENT, CLIENT6, INTERNAL, '127.0.0.1']) expect(line).not.toContain(ip);
  expect(scrubIps(line)).toBe(line);
}

function register(options?: MorganIpTokenOptions): void {
  registerMorganIpTokens(morgan as never, options);
}

describe('registerMorganIpTokens with morgan', () => {
  afterEach(() => register()); // tokens are global to the morgan module: back to the defaults

  test('the safe default format: redacted client, scrubbed URL', async () => {
    register();
    const line = await logOneRequest(MORGAN_SAFE_FORMAT, { 'x-forwarded-for': CLIENT }, `/a?ip=${CLIENT}`);
    expectNoFullIp(line);
    // Outside a privacy context (a bare node:http server) the privacy fields print as "-".
    expect(line).toMatch(/^127\.0\.0\.0 - GET \/a\?ip=203\.0\.113\.0 HTTP\/1\.1 200 - - [0-9.]+ ms request-id=- purpose=- basis=- policy=-\n$/);
  });

  test("morgan's own 'combined' format is made safe too (remote-addr, referrer, user-agent)", async () => {
    register();
    const line = await logOneRequest('combined', { referer: `http://${INTERNAL}/from`, 'user-agent': `probe/1.0 (+${CLIENT6})` }, `/x?peer=${CLIENT}`);
    expectNoFullIp(line);
    expect(line).toContain('127.0.0.0 - - [');
    expect(line).toContain('"GET /x?peer=203.0.113.0 HTTP/1.1" 200');
    expect(line).toContain('"http://10.1.2.0/from" "probe/1.0 (+2001:db8:85a3::)"');
  });

  test(':req[header] cannot print a raw forwarded address', async () => {
    register();
    const line = await logOneRequest(':req[x-forwarded-for] :req[forwarded]', { 'x-forwarded-for': `${CLIENT}, ${INTERNAL}`, forwarded: `for="[${CLIENT6}]:4711"` });
    expectNoFullIp(line);
    // (morgan escapes the quotes itself)
    expect(line).toBe('203.0.113.0, 10.1.2.0 for=\\"[2001:db8:85a3::]:4711\\"\n');
  });

  test(':req[host] is the server the client connected to: escaped, not scrubbed', async () => {
    register();
    expect(await logOneRequest(':req[host] :req[x-forwarded-for]', { 'x-forwarded-for': CLIENT })).toMatch(/^127\.0\.0\.1:[0-9]+ 203\.0\.113\.0\n$/);
    expect(await logOneRequest(':req[Host]', { host: '192.0.2.10:8080\u0085x' })).toBe('192.0.2.10:8080\\u0085x\n');
  });

  test('getClientIp: the client behind a trusted proxy, then the policy redactor', async () => {
    register({
      getClientIp: (req: http.IncomingMessage) => resolveClientIp(req.socket.remoteAddress, req.headers, { trust: compileTrust('loopback') }),
      redactor: (ip) => (ip === undefined ? 'none' : `<${ip.split('.').slice(0, 2).join('.')}.x.x>`),
    });
    const line = await logOneRequest(':client-ip :remote-addr', { 'x-forwarded-for': `6.6.6.6, ${CLIENT}` });
    expect(line).toBe('<203.0.x.x> <203.0.x.x>\n');
  });

  test('values are escaped against log injection (C1 control in a Latin-1 header)', async () => {
    register();
    const line = await logOneRequest(':user-agent', { 'user-agent': 'evil\u0085forged 1.2.3.4' });
    expect(line).toBe('evil\\u0085forged 1.2.3.0\n');
  });

  test('fails closed: a throwing redactor or address source writes the fixed token', async () => {
    register({
      getClientIp: () => {
        throw new Error(`cannot read ${CLIENT}`);
      },
    });
    expect(await logOneRequest(':client-ip :remote-addr', {})).toBe('ip-invalid ip-invalid\n');
    register({
      redactor: () => {
        throw new Error('down');
      },
    });
    const line = await logOneRequest(':remote-addr :url', {}, `/p/${CLIENT}`);
    expect(line).toBe('ip-invalid /p/ip-invalid\n');
  });

  test.each([
    [{}, 'pass the morgan module'],
    [undefined, 'pass the morgan module'],
  ])('rejects %p instead of morgan', (value, fragment) => {
    expect(() => registerMorganIpTokens(value as never)).toThrow(fragment);
  });

  test.each([
    [{ tokenName: 'a b' }, 'tokenName'],
    [{ wrapBuiltInToken: false }, 'Did you mean "wrapBuiltInTokens"'],
    [{ getClientIp: 'req.ip' }, 'must be a function'],
  ])('rejects options %p', (options, fragment) => {
    expect(() => register(options as never)).toThrow(fragment);
  });
});
