import { Writable } from 'node:stream';
import winston from 'winston';
import { scrubIps } from '../ip/scrub';
import { createWinstonIpFormat } from './winston';
import type { WinstonIpFormatOptions } from './winston';

const CLIENT = '203.0.113.77';
const CLIENT6 = '2001:db8:85a3:8d3:1319:8a2e:370:7348';
const INTERNAL = '10.1.2.3';

/** A winston logger with a stream transport into an array; `lines(n)` resolves once n lines arrived. */
function capture(format: (ip: winston.Logform.Format) => winston.Logform.Format, options?: WinstonIpFormatOptions) {
  const received: string[] = [];
  const waiting: Array<{ n: number; resolve: (lines: string[]) => void }> = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      received.push(String(chunk));
      for (const w of waiting.filter((x) => received.length >= x.n)) w.resolve(received);
      callback();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: format(createWinstonIpFormat(options)),
    transports: [new winston.transports.Stream({ stream })],
  });
  const lines = (n: number): Promise<string[]> =>
    received.length >= n ? Promise.resolve(received) : new Promise((resolve) => waiting.push({ n, resolve }));
  return { logger, lines };
}

function expectNoFullIp(lines: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    for (const ip of [CLIENT, CLIENT6, INTERNAL]) expect(line).not.toContain(ip);
    expect(scrubIps(line)).toBe(line);
  }
}

describe('createWinstonIpFormat with winston', () => {
  test('message, meta (nested), splat arguments and errors', async () => {
    const { logger, lines: flush } = capture((ip) => winston.format.combine(ip, winston.format.errors({ stack: true }), winston.format.splat(), winston.format.json()));
    const meta = { client: CLIENT, nested: { hops: [CLIENT6, INTERNAL] } };
    logger.info(`client ${CLIENT}`, meta);
    logger.warn('from %s to %s', CLIENT6, INTERNAL);
    logger.error(Object.assign(new Error(`connect ECONNREFUSED ${INTERNAL}:5432`), { address: INTERNAL }));
    const lines = await flush(3);
    expectNoFullIp(lines);
    const [a, b, c] = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(a).toMatchObject({ level: 'info', message: 'client 203.0.113.0', client: '203.0.113.0', nested: { hops: ['2001:db8:85a3::', '10.1.2.0'] } });
    expect(b).toMatchObject({ level: 'warn', message: 'from 2001:db8:85a3:: to 10.1.2.0' });
    expect(c).toMatchObject({ level: 'error', message: 'connect ECONNREFUSED 10.1.2.0:5432', address: '10.1.2.0' });
    expect(c!['stack']).toContain('Error: connect ECONNREFUSED 10.1.2.0:5432');
    expect(meta.client).toBe(CLIENT); // the caller's object is untouched
  });

  test('placed after a finalizing format, it scrubs the finished line', async () => {
    const { logger, lines: flush } = capture((ip) => winston.format.combine(winston.format.printf((i) => `${i.level} ${String(i.message)} peer=${String(i['peer'])}`), ip));
    logger.info(`hello ${CLIENT}`, { peer: INTERNAL });
    const lines = await flush(1);
    expectNoFullIp(lines);
    expect(lines).toEqual(['info hello 203.0.113.0 peer=10.1.2.0\n']);
  });

  test('fails closed: a throwing redactor writes the fixed token', async () => {
    const { logger, lines: flush } = capture((ip) => winston.format.combine(ip, winston.format.json()), {
      redactor: () => {
        throw new Error('down');
      },
    });
    logger.info(`from ${CLIENT}`, { ip: CLIENT6 });
    const lines = await flush(1);
    expectNoFullIp(lines);
    expect(JSON.parse(lines[0]!)).toEqual({ level: 'info', message: 'from ip-invalid', ip: 'ip-invalid' });
  });

  test('an entry that cannot be walked at all becomes level + fixed token', () => {
    const format = createWinstonIpFormat();
    const hostile = new Proxy({ level: 'info', message: CLIENT } as Record<PropertyKey, unknown>, {
      ownKeys: () => {
        throw new Error('no keys');
      },
    });
    expect(format.transform(hostile as never)).toEqual({ level: 'info', message: 'ip-invalid' });
  });

  test('is structurally a logform format (combine accepts it) and rejects bad options', () => {
    expect(() => winston.format.combine(createWinstonIpFormat())).not.toThrow();
    expect(() => createWinstonIpFormat({ maxDepth: 0 })).toThrow(/from 1 to 100/);
  });
});
