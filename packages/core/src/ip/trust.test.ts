import fc from 'fast-check';
import proxyAddr from 'proxy-addr';
import { isPurposekitError } from '../errors';
import { canonicalizeIp } from './address';
import {
  compileTrust,
  createClientIpResolver,
  resolveClientIp,
  trustsEverything,
  warnIfTrustsEverything,
} from './trust';
import type { TrustSetting } from './trust';
import { fcParams, same } from './__tests__/fast-check-settings';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isPurposekitError(e) ? e.code : `not a PurposekitError: ${String(e)}`;
  }
  return undefined;
}

describe('compileTrust', () => {
  test.each<[TrustSetting, string, number, boolean]>([
    [true, '203.0.113.9', 5, true],
    [false, '127.0.0.1', 0, false],
    [undefined, '127.0.0.1', 0, false],
    [2, '203.0.113.9', 1, true],
    [2, '203.0.113.9', 2, false],
    [0, '127.0.0.1', 0, false],
    [Infinity, '203.0.113.9', 1000, true],
    ['loopback', '127.0.0.1', 0, true],
    ['loopback', '127.255.0.9', 0, true],
    ['loopback', '::1', 0, true],
    ['loopback', '::ffff:127.0.0.1', 0, true],
    ['loopback', '128.0.0.1', 0, false],
    ['10.0.0.0/8, 192.168.0.0/16', '192.168.4.4', 3, true],
    [['10.0.0.0/8', 'fd00::/8'], 'fd12::1', 0, true],
    [['10.0.0.0/8', 'fd00::/8'], 'fe12::1', 0, false],
    ['10.0.0.0/255.0.0.0', '10.9.9.9', 0, true],
    ['uniquelocal', '172.31.255.255', 0, true],
    ['uniquelocal', '172.32.0.1', 0, false],
    ['linklocal', 'fe80::1%eth0', 0, true],
    // proxy-addr semantics across families:
    ['::ffff:10.0.0.1', '10.0.0.1', 0, true], // a bare mapped entry is stored as IPv4
    ['::ffff:10.0.0.0/104', '10.1.2.3', 0, true], // a mapped range matches the IPv4 it maps
    ['::ffff:10.0.0.0/104', '::ffff:10.1.2.3', 0, true],
    ['10.0.0.0/8', '::ffff:10.1.2.3', 0, true], // a mapped candidate is compared as IPv4
    ['::/0'.replace('0', '1'), '10.0.0.1', 0, false], // a native IPv6 range never matches IPv4
    ['10.0.0.0/8', 'not an address', 0, false],
    ['10.0.0.0/8', '10.1', 0, false], // legacy candidate forms are never trusted
  ])('%p trusts %s at hop %i: %p', (setting, address, hop, expected) => {
    expect(compileTrust(setting)(address, hop)).toBe(expected);
  });

  test('returns a function as is', () => {
    const mine = (a: string): boolean => a === '10.0.0.1';
    expect(compileTrust(mine)).toBe(mine);
  });

  test.each<[unknown, string]>([
    [-1, 'whole number'],
    [1.5, 'whole number'],
    [NaN, 'whole number'],
    [{}, 'expected true/false'],
    ['010.0.0.0/8', 'not a valid address'],
    ['10.0.0.0/0', 'outside 1–32'],
    ['10.0.0.0/33', 'outside 1–32'],
    ['::/0', 'outside 1–128'],
    ['10.0.0.0/255.0.255.0', 'holes'],
    ['10.0.0.0/abc', 'invalid prefix length'],
    ['fe80::1%eth0', 'not a valid address'],
    ['', 'not a valid address'],
    ['loopback,', 'not a valid address'],
  ])('rejects %p (%s)', (setting, fragment) => {
    let error: unknown;
    try {
      compileTrust(setting as TrustSetting);
    } catch (e) {
      error = e;
    }
    expect(isPurposekitError(error) && error.code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    expect((error as Error).message).toContain(fragment);
  });

  // The matcher is numeric where proxy-addr parses with ipaddr.js on every call; both
  // must agree. Candidates are canonical (ipaddr.js reads `::a.b.c.d` as IPv4-mapped,
  // RFC 4291 does not; canonical text writes that form in hex).
  test('agrees with proxy-addr on random ranges and addresses (property)', () => {
    const v4 = fc.ipV4();
    const v6 = fc.ipV6().map((ip) => canonicalizeIp(ip)!);
    const mapped = fc.ipV4().map((ip) => `::ffff:${ip}`);
    const candidate = fc.oneof(v4, v6, mapped);
    const entry = fc.oneof(
      fc.tuple(v4, fc.integer({ min: 1, max: 32 })).map(([ip, p]) => `${ip}/${p}`),
      fc.tuple(v6, fc.integer({ min: 1, max: 128 })).map(([ip, p]) => `${ip}/${p}`),
      fc.tuple(mapped, fc.integer({ min: 80, max: 128 })).map(([ip, p]) => `${ip}/${p}`),
      v4,
      v6,
      mapped,
      fc.constantFrom('loopback', 'linklocal', 'uniquelocal'),
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 4 }), fc.array(candidate, { minLength: 1, maxLength: 4 }), (entries, candidates) => {
        const ours = compileTrust(entries);
        const theirs = proxyAddr.compile(entries);
        // Derive near-miss candidates from the entries themselves, so matches are common.
        const near = entries.map((e) => canonicalizeIp(e.split('/')[0]!)).filter((x): x is string => x !== undefined);
        for (const c of [...candidates, ...near]) same(ours(c, 0), theirs(c, 0), `trust(${c})`);
      }),
      fcParams(25_000),
    );
  });
});

describe('trustsEverything / warnIfTrustsEverything', () => {
  test.each<[TrustSetting, boolean]>([
    [true, true],
    [Infinity, true],
    [compileTrust(true), true],
    [compileTrust(Infinity), true],
    [false, false],
    [undefined, false],
    [1, false],
    ['loopback', false],
    [compileTrust('10.0.0.0/8'), false],
    [() => true, false],
  ])('%p → %p', (setting, expected) => {
    expect(trustsEverything(setting)).toBe(expected);
  });

  test('warns once per setting name, with a code', () => {
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      expect(warnIfTrustsEverything(true, "Express 'trust proxy' (test)")).toBe(true);
      expect(warnIfTrustsEverything(compileTrust(true), "Express 'trust proxy' (test)")).toBe(true);
      expect(warnIfTrustsEverything('loopback', 'Koa proxy (test)')).toBe(false);
      expect(spy).toHaveBeenCalledTimes(1);
      const [message, options] = spy.mock.calls[0]!;
      expect(String(message)).toContain("Express 'trust proxy' (test) trusts every proxy hop");
      expect(options).toEqual({ code: 'PURPOSEKIT_TRUST_PROXY_WARNING' });
    } finally {
      spy.mockRestore();
    }
  });
});

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
