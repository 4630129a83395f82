/**
 * The engine's per-connection client-address memo (`RequestFacts.connection`): over
 * generated request sequences on a few shared connections, what `begin` gives with the
 * connection equals what it gives without it (the full resolution), request by request,
 * for every trust kind, address family, header shape and redaction mode.
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { begin } from './adapter';
import { compileTrust } from './ip';
import type { TrustFn } from './ip';
import { createPurposekit } from './purposekit';
import type { Purposekit, RequestFacts } from './purposekit';
import { ArraySink } from './__tests__/array-sink';
import { fcParams, fcTimeout, same } from './ip/__tests__/fast-check-settings';

jest.setTimeout(fcTimeout());

const subjectKey = { id: 'k1', secret: 'f'.repeat(32) };
const BASE = { id: 'memo', version: '1', jurisdictions: ['EU'], purposes: { diagnostics: { basis: 'legitimate-interests', data: ['ip-address'] } }, rights: { honoured: [] } };

function kitWith(ip: Record<string, unknown>, extra: Record<string, unknown> = {}): Purposekit {
  return createPurposekit({ policy: { ...BASE, logs: { ip } } as never, audit: new ArraySink(), subjectKey, ...extra });
}

const KITS: ReadonlyArray<readonly [string, Purposekit]> = [
  ['truncate /24 /48', kitWith({ mode: 'truncate' })],
  ['truncate /16 /32', kitWith({ mode: 'truncate', ipv4Prefix: 16, ipv6Prefix: 32 })],
  ['pseudonymize', kitWith({ mode: 'pseudonymize' }, { ipKeys: { id: 'ip1', secret: 'i'.repeat(32) } })],
];

// A user's own trust function is not compileTrust's: it must be asked on every request.
const userTrust: TrustFn = (address, hop) => hop === 0 && address.startsWith('127.');
const TRUSTS: ReadonlyArray<TrustFn | undefined> = [
  undefined,
  compileTrust('loopback'),
  compileTrust('10.0.0.0/8, 2001:db8::/32'),
  compileTrust(['::ffff:127.0.0.1', 'uniquelocal']),
  compileTrust(1),
  compileTrust(2),
  compileTrust(true),
  compileTrust(false),
  userTrust,
];

const ADDRESSES = [
  '127.0.0.1',
  '10.0.0.7',
  '203.0.113.9',
  '198.51.100.200',
  '::1',
  '2001:db8::5',
  '2001:DB8:0:0:0:0:0:5',
  'fe80::1%eth0',
  '::ffff:127.0.0.1',
  '::ffff:10.0.0.2',
  '::FFFF:203.0.113.9',
  '64:ff9b::192.0.2.33',
];
const GARBAGE = ['unknown', '127.1', '1.2.3.4:80', '_hidden', '', ' '];

const address = fc.constantFrom(...ADDRESSES);
const remote = fc.oneof(address, fc.constantFrom<string | undefined>(undefined, 'unknown', ''));
const entry = fc.oneof({ weight: 4, arbitrary: address }, { weight: 1, arbitrary: fc.constantFrom(...GARBAGE) });
const forwarded: fc.Arbitrary<string | string[] | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.array(entry, { minLength: 1, maxLength: 4 }).chain((es) => fc.constantFrom(es.join(','), es.join(', '), ` ${es.join(' ,')} `)) },
  { weight: 1, arbitrary: fc.array(fc.array(entry, { minLength: 1, maxLength: 2 }).map((es) => es.join(', ')), { minLength: 2, maxLength: 3 }) },
);

interface Step {
  socket: number;
  kit: number;
  remote: string | undefined;
  forwarded: string | string[] | undefined;
  trust: number;
  /** An `x-forwarded-for` key present with the value undefined. */
  present: boolean;
}

type Change = { [K in keyof Omit<Step, 'socket'>]: Step[K] | typeof SAME };
const SAME = Symbol('same as the previous request on this connection');

/** Mostly the previous request's value on the same connection (a memo hit), else a new one. */
function changes<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | typeof SAME> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(SAME) }, { weight: 1, arbitrary: arb });
}

// Each request changes one or two of its inputs against the previous request on its
// connection, so hits, misses and replaced entries all occur, in every combination.
const change: fc.Arbitrary<{ socket: number; change: Change }> = fc.record({
  socket: fc.nat(2),
  change: fc.record({
    kit: changes(fc.nat(KITS.length - 1)),
    remote: changes(remote),
    forwarded: changes(forwarded),
    trust: changes(fc.nat(TRUSTS.length - 1)),
    present: changes(fc.boolean()),
  }),
});

function pick<T>(value: T | typeof SAME, previous: T): T {
  return value === SAME ? previous : value;
}

function facts(s: Step, connection: object | undefined): RequestFacts {
  const headers: Record<string, string | string[] | undefined> = { host: 'x' };
  if (s.forwarded !== undefined || s.present) headers['x-forwarded-for'] = s.forwarded;
  const trust = TRUSTS[s.trust];
  return { headers, remoteAddress: s.remote, ...(trust !== undefined ? { trust } : {}), ...(connection !== undefined ? { connection } : {}) };
}

describe('client address per connection (RequestFacts.connection)', () => {
  test('equals the full resolution for every request of generated sequences on shared connections', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 40 }), (changes) => {
        const sockets = [{}, {}, {}];
        const first: Step = { socket: 0, kit: 0, remote: '127.0.0.1', forwarded: '203.0.113.9', trust: 1, present: false };
        const last: Step[] = sockets.map((_, socket) => ({ ...first, socket }));
        changes.forEach(({ socket, change: c }, i) => {
          const p = last[socket]!;
          const s: Step = { socket, kit: pick(c.kit, p.kit), remote: pick(c.remote, p.remote), forwarded: pick(c.forwarded, p.forwarded), trust: pick(c.trust, p.trust), present: pick(c.present, p.present) };
          last[socket] = s;
          const kit = KITS[s.kit]![1];
          const plain = begin(kit, facts(s, undefined)).clientIp;
          const fast = begin(kit, facts(s, sockets[s.socket]!)).clientIp;
          same(fast, plain, `request ${i} (${KITS[s.kit]![0]}, trust ${s.trust}, remote ${String(s.remote)}, forwarded ${JSON.stringify(s.forwarded)})`);
        });
      }),
      fcParams(20_000),
    );
  });

  test('a repeat on one connection reuses the result; a changed header or peer address is resolved again', () => {
    const kit = KITS[0]![1];
    const socket = {};
    const trust = compileTrust('loopback');
    const at = (remoteAddress: string, xff: string | undefined): string =>
      begin(kit, { headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, remoteAddress, trust, connection: socket }).clientIp;
    expect(at('127.0.0.1', '203.0.113.9')).toBe('203.0.113.0');
    expect(at('127.0.0.1', '203.0.113.9')).toBe('203.0.113.0');
    expect(at('127.0.0.1', '198.51.100.7')).toBe('198.51.100.0');
    expect(at('127.0.0.1', undefined)).toBe('127.0.0.0');
    expect(at('192.0.2.1', '198.51.100.7')).toBe('192.0.2.0');
    expect(at('127.0.0.1', 'unknown')).toBe('ip-invalid');
    expect(at('127.0.0.1', '203.0.113.9')).toBe('203.0.113.0');
  });

  test('a trust function of the app’s own is asked on every request', () => {
    const kit = KITS[0]![1];
    const socket = {};
    const calls: number[] = [];
    const trust: TrustFn = (_address, hop) => {
      calls.push(hop);
      return hop === 0;
    };
    for (let i = 0; i < 3; i++) begin(kit, { headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '127.0.0.1', trust, connection: socket });
    expect(calls).toEqual([0, 1, 0, 1, 0, 1]);
  });

  test('two engines on one connection each get their own redaction', () => {
    const socket = {};
    const f = { headers: { 'x-forwarded-for': '203.0.113.9' }, remoteAddress: '127.0.0.1', trust: compileTrust('loopback'), connection: socket };
    expect(begin(KITS[0]![1], f).clientIp).toBe('203.0.113.0');
    expect(begin(KITS[1]![1], f).clientIp).toBe('203.0.0.0');
    expect(begin(KITS[2]![1], f).clientIp).toMatch(/^ip-hmac:ip1:[0-9a-f]{32}$/);
    expect(begin(KITS[0]![1], f).clientIp).toBe('203.0.113.0');
  });

  test('what a connection holds shows no address: not in util.inspect, JSON or a copy of it', () => {
    const kit = KITS[0]![1];
    const socket: Record<string, unknown> = { remoteAddress: '127.0.0.1' };
    const trust = compileTrust('loopback');
    begin(kit, { headers: { 'x-forwarded-for': '198.51.100.77' }, remoteAddress: '127.0.0.1', trust, connection: socket });
    expect(Object.getOwnPropertySymbols(socket)).toHaveLength(1);
    const shown = [inspect(socket, { showHidden: true, depth: 10 }), JSON.stringify(socket), inspect({ ...socket }, { showHidden: true, depth: 10 })];
    for (const text of shown) expect(text).not.toMatch(/198\.51\.100|ip-hmac|203\.0/);
  });

  test('a frozen connection, or a value someone else put under the engine\'s key, changes nothing', () => {
    const kit = KITS[0]![1];
    const trust = compileTrust('loopback');
    const frozen = Object.freeze({});
    const f = (xff: string, connection: object): string => begin(kit, { headers: { 'x-forwarded-for': xff }, remoteAddress: '127.0.0.1', trust, connection }).clientIp;
    expect(f('198.51.100.7', frozen)).toBe('198.51.100.0');
    expect(f('203.0.113.9', frozen)).toBe('203.0.113.0');
    const socket: Record<symbol, unknown> = {};
    f('198.51.100.7', socket);
    const [key] = Object.getOwnPropertySymbols(socket);
    // A look-alike that claims every address is 6.6.6.6: it has no brand, so it is ignored and replaced.
    socket[key!] = { answer: () => '6.6.6.6', ip: '6.6.6.6' };
    expect(f('198.51.100.7', socket)).toBe('198.51.100.0');
    expect(f('198.51.100.7', socket)).toBe('198.51.100.0');
  });
});

