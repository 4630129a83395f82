import fc from 'fast-check';
import proxyAddr from 'proxy-addr';
import { isPurposekitError } from '../errors';
import { canonicalizeIp } from './address';
import { createClientIpResolver, resolveClientIp } from './client-ip';
import { compileTrust } from './trust-match';
import type { TrustSetting } from './trust-match';
import { fcParams, fcTimeout, same } from './__tests__/fast-check-settings';

// Property runs scale with PURPOSEKIT_FC_RUNS (100,000 in CI), on two shared cores.
jest.setTimeout(fcTimeout());

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isPurposekitError(e) ? e.code : `not a PurposekitError: ${String(e)}`;
  }
  return undefined;
}

describe('resolveClientIp', () => {
  const proxies = compileTrust('10.0.0.0/8');
  const xff = (value: string | string[]): Record<string, string | string[]> => ({ 'x-forwarded-for': value });

  test.each<[string, string | undefined, Record<string, string | string[] | undefined>, TrustSetting, string | undefined]>([
    ['an untrusted peer: its headers are ignored', '203.0.113.5', xff('198.51.100.7'), '10.0.0.0/8', '203.0.113.5'],
    ['one trusted proxy', '10.0.0.1', xff('198.51.100.7'), '10.0.0.0/8', '198.51.100.7'],
    ['a spoofed entry left of the real client is never reached', '10.0.0.1', xff('6.6.6.6, 198.51.100.7'), '10.0.0.0/8', '198.51.100.7'],
    ['two trusted proxies', '10.0.0.1', xff('198.51.100.7, 10.0.0.2'), '10.0.0.0/8', '198.51.100.7'],
    ['a trusted peer without the header is the client', '10.0.0.1', {}, '10.0.0.0/8', '10.0.0.1'],
    ['garbage where the client must be: unknown', '10.0.0.1', xff('unknown'), '10.0.0.0/8', undefined],
    ['garbage where the client must be: host:port', '10.0.0.1', xff('198.51.100.7:1234'), '10.0.0.0/8', undefined],
    ['garbage where the client must be: legacy 127.1', '10.0.0.1', xff('127.1'), '10.0.0.0/8', undefined],
    ['garbage left of the client is never read', '10.0.0.1', xff('<script>, 198.51.100.7'), '10.0.0.0/8', '198.51.100.7'],
    ['a mapped peer, an upper-case IPv6 client', '::ffff:10.0.0.1', xff('2001:DB8::0:1'), '10.0.0.0/8', '2001:db8::1'],
    ['zone ids are dropped', '10.0.0.1', xff('fe80::1%eth0'), '10.0.0.0/8', 'fe80::1'],
    ['repeated headers (array), read from the last', '10.0.0.1', xff(['6.6.6.6', '198.51.100.7']), '10.0.0.0/8', '198.51.100.7'],
    ['empty entries are skipped (as proxy-addr does)', '10.0.0.1', xff('198.51.100.7, ,  '), '10.0.0.0/8', '198.51.100.7'],
    ['a blank header is no header', '10.0.0.1', xff('  '), '10.0.0.0/8', '10.0.0.1'],
    ['trust-all lets the client choose (hence the warning)', '10.0.0.1', xff('6.6.6.6, 198.51.100.7'), true, '6.6.6.6'],
    ['hop count 1', '192.0.2.1', xff('6.6.6.6, 198.51.100.7'), 1, '198.51.100.7'],
    ['hop count 2', '192.0.2.1', xff('6.6.6.6, 198.51.100.7'), 2, '6.6.6.6'],
    ['no socket address', undefined, xff('198.51.100.7'), true, undefined],
    ['a socket address that is not an address', 'garbage', xff('198.51.100.7'), true, undefined],
    ['the peer is canonicalised', '2001:DB8::0:7', {}, false, '2001:db8::7'],
  ])('%s', (_name, peer, headers, trust, expected) => {
    expect(resolveClientIp(peer, headers, { trust: compileTrust(trust) })).toBe(expected);
  });

  test('bounded: at most maxHops entries are read; the last one read is taken', () => {
    const chain = Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 1}`).join(', ');
    expect(resolveClientIp('10.0.0.1', xff(chain), { trust: compileTrust(true), maxHops: 3 })).toBe('198.51.100.18');
    expect(resolveClientIp('10.0.0.1', xff(chain), { trust: compileTrust(true) })).toBe('198.51.100.5'); // default 16
  });

  test('bounded: an over-long entry on the walk makes the client unknown', () => {
    const long = `${'x'.repeat(300)}, 198.51.100.7`;
    expect(resolveClientIp('10.0.0.1', xff(long), { trust: compileTrust(true) })).toBeUndefined();
    expect(resolveClientIp('10.0.0.1', xff(long), { trust: proxies })).toBe('198.51.100.7');
    expect(resolveClientIp('10.0.0.1', xff(`1.1.1.1${' '.repeat(40)}`), { trust: proxies, maxEntryLength: 16 })).toBeUndefined();
  });

  test('bounded: a megabyte of commas costs only the budget', () => {
    const hostile = `${','.repeat(1_000_000)}198.51.100.7`;
    expect(resolveClientIp('10.0.0.1', xff(hostile), { trust: compileTrust(true) })).toBeUndefined();
  });

  test('the trust function sees canonical addresses and hop numbers', () => {
    const seen: Array<[string, number]> = [];
    const trust = (a: string, hop: number): boolean => {
      seen.push([a, hop]);
      return hop < 2;
    };
    expect(resolveClientIp('::FFFF:10.0.0.1', xff('2001:db8::0:9, 2001:DB8::1, 10.0.0.2'), { trust })).toBe('2001:db8::1');
    expect(seen).toEqual([['::ffff:10.0.0.1', 0], ['10.0.0.2', 1], ['2001:db8::1', 2]]);
  });

  test.each([
    [{ trust: 'loopback' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    [{ trust: proxies, maxHops: 0 }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    [{ trust: proxies, maxEntryLength: 1 }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ])('rejects options %p', (options, code) => {
    expect(codeOf(() => resolveClientIp('10.0.0.1', {}, options as never))).toBe(code);
  });

  test('agrees with proxy-addr on valid chains (property)', () => {
    const ip = fc.oneof(fc.ipV4(), fc.ipV6().map((x) => canonicalizeIp(x)!));
    fc.assert(
      fc.property(ip, fc.array(ip, { maxLength: 8 }), fc.integer({ min: 0, max: 10 }), (peer, chain, hops) => {
        const headers = chain.length === 0 ? {} : xff(chain.join(', '));
        const ours = resolveClientIp(peer, headers, { trust: compileTrust(hops) });
        const theirs = proxyAddr({ socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers } as never, (_a, i) => i < hops);
        same(ours, canonicalizeIp(theirs), 'client');
      }),
      fcParams(),
    );
  });
});

describe('resolveClientIp with forwarded: true (RFC 7239)', () => {
  const fwd = (value: string): Record<string, string> => ({ forwarded: value, 'x-forwarded-for': '6.6.6.6' });
  const options = { trust: compileTrust('10.0.0.0/8'), forwarded: true };

  test.each([
    // RFC 7239 §4 examples
    ['for=192.0.2.60;proto=http;by=203.0.113.43', '192.0.2.60'],
    ['For="[2001:db8:cafe::17]:4711"', '2001:db8:cafe::17'],
    ['for=192.0.2.43, for=198.51.100.17', '198.51.100.17'],
    ['for="_gazonk"', undefined],
    // RFC 7239 §7.4 chain, read from the right: `unknown` where the client must be
    ['for=192.0.2.43, for="[2001:db8:cafe::17]", for=unknown', undefined],
    // and when the next hop is a trusted proxy, the walk goes on
    ['for=192.0.2.43, for=10.0.0.7', '192.0.2.43'],
    ['for="192.0.2.43:47011"', '192.0.2.43'],
    ['for="192.0.2.43:_obf"', '192.0.2.43'],
    ['for=[2001:db8::1]', '2001:db8::1'],
    ['for=2001:db8::1', undefined], // IPv6 must be bracketed
    ['for="[192.0.2.1]"', undefined], // IPv4 must not be
    ['by=203.0.113.43', undefined], // no for=
    ['for=192.0.2.1;for=192.0.2.2', undefined], // a parameter must not repeat
    ['for="192.0.2.1', undefined], // unterminated quote
    ['for="192\\.0.2.1"', undefined], // quoted-pair: not an address we accept
    ['for=192.0.2.1:99999x', undefined],
  ])('%s → %p', (header, expected) => {
    expect(resolveClientIp('10.0.0.1', fwd(header), options)).toBe(expected);
  });

  test('X-Forwarded-For is ignored in this mode, and Forwarded is ignored without it', () => {
    expect(resolveClientIp('10.0.0.1', { 'x-forwarded-for': '198.51.100.7' }, options)).toBe('10.0.0.1');
    expect(resolveClientIp('10.0.0.1', { forwarded: 'for=192.0.2.60' }, { trust: options.trust })).toBe('10.0.0.1');
  });
});

describe('createClientIpResolver', () => {
  test('validates once and resolves', () => {
    const resolve = createClientIpResolver({ trust: 'loopback', maxHops: 4 });
    expect(resolve('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7' })).toBe('198.51.100.7');
    expect(resolve('203.0.113.1', { 'x-forwarded-for': '198.51.100.7' })).toBe('203.0.113.1');
    expect(createClientIpResolver()('127.0.0.1', { 'x-forwarded-for': '198.51.100.7' })).toBe('127.0.0.1');
  });

  test.each([
    [{ trsut: true }, 'Did you mean "trust"'],
    [{ maxHops: 0 }, 'from 1 to 1000'],
    [{ forwarded: 'yes' }, 'true or false'],
  ])('rejects %p', (options, fragment) => {
    let error: unknown;
    try {
      createClientIpResolver(options as never);
    } catch (e) {
      error = e;
    }
    expect(isPurposekitError(error) && error.code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    expect((error as Error).message).toContain(fragment);
  });
});
