import fc from 'fast-check';
import proxyAddr from 'proxy-addr';
import { isPurposekitError } from '../errors';
import { canonicalizeIp } from './address';
import { compileTrust, trustsEverything, warnIfTrustsEverything } from './trust-match';
import type { TrustSetting } from './trust-match';
import { fcParams, fcTimeout, same } from './__tests__/fast-check-settings';

// Property runs scale with PURPOSEKIT_FC_RUNS (100,000 in CI), on two shared cores.
jest.setTimeout(fcTimeout());

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
    ['fe80::1%eth0', 'has a zone id'],
    ['::10.0.0.1', 'right after "::"'],
    ['64:ff9b::10.0.0.0/96', 'right after "::"'],
    ['0::10.0.0.1', 'right after "::"'],
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
      expect(String(message)).toContain("Express 'trust proxy' (test): the proxy setting trusts every hop");
      expect(options).toEqual({ code: 'PURPOSEKIT_WARN_TRUST_ALL_PROXIES' });
    } finally {
      spy.mockRestore();
    }
  });
});

/**
 * Differential test against proxy-addr (what Express uses: 2.0.x, with its own
 * ipaddr.js 1.x) over generated TEXT forms of the same addresses: dotted and hex tails,
 * `::` in every legal place, upper and lower case, leading zeros, zone ids, legacy IPv4.
 * Where the two differ, the difference is one of those documented at the top of
 * trust-match.ts, and the test checks it is exactly that.
 */
describe('compileTrust vs proxy-addr on every spelling of an address (property)', () => {
  const byte = fc.integer({ min: 0, max: 255 });
  const quad = fc.tuple(byte, byte, byte, byte);
  const hex = (n: number, upper: boolean, pad: boolean): string => {
    const h = n.toString(16);
    return (pad ? h.padStart(4, '0') : h)[upper ? 'toUpperCase' : 'toLowerCase']();
  };
  /** An IPv6 text of 8 words: a `::` over some zero run (or none), case, padding, and a dotted tail when asked. */
  const spell = (words: number[], opts: { gap: number; upper: boolean; pad: boolean; dotted: boolean }): string => {
    const n = opts.dotted ? 6 : 8;
    const groups = words.slice(0, n).map((w) => hex(w, opts.upper, opts.pad));
    const tail = opts.dotted ? [`${words[6]! >>> 8}.${words[6]! & 255}.${words[7]! >>> 8}.${words[7]! & 255}`] : [];
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j <= n && words[j - 1] === 0; j++) runs.push([i, j]);
    const pick = runs.length === 0 ? -1 : opts.gap % (runs.length + 1);
    if (pick === -1 || pick === runs.length) return [...groups, ...tail].join(':');
    const [i, j] = runs[pick]!;
    return `${groups.slice(0, i).join(':')}::${[...groups.slice(j), ...tail].join(':')}`;
  };
  const spelling = fc.record({ gap: fc.nat(), upper: fc.boolean(), pad: fc.boolean(), dotted: fc.boolean() });
  const v4Words = (q: number[]): [number, number] => [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
  const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const v6Words = fc.oneof(
    quad.map((q) => [0, 0, 0, 0, 0, 0xffff, ...v4Words(q)]), // IPv4-mapped
    quad.map((q) => [0, 0, 0, 0, 0xffff, 0, ...v4Words(q)]), // IPv4-translated
    quad.map((q) => [0, 0, 0, 0, 0, 0, ...v4Words(q)]), // IPv4-compatible
    quad.map((q) => [0x64, 0xff9b, 0, 0, 0, 0, ...v4Words(q)]), // NAT64
    fc.array(word, { minLength: 8, maxLength: 8 }),
    fc.constantFrom([0, 0, 0, 0, 0, 0, 0, 1], [0xfe80, 0, 0, 0, 0, 0, 0, 1], [0xfd00, 0, 0, 0, 0, 0, 0, 7]),
  );
  const zone = fc.constantFrom('', '', '%eth0', '%1');
  const v4Text = quad.map((q) => q.join('.'));
  /** Legacy IPv4 spellings (octal, hex, short): proxy-addr's ipaddr.js 1.x reads some. */
  const legacyV4 = quad.chain((q) => fc.constantFrom(`0${q[0]}.${q[1]}.${q[2]}.${q[3]}`, `0x${q[0]!.toString(16)}.${q[1]}.${q[2]}.${q[3]}`, `${q[0]}.${q[1]! * 65536 + q[2]! * 256 + q[3]!}`));
  const v6Text = fc.tuple(v6Words, spelling, zone).map(([w, s, z]) => spell(w, s) + z);
  const candidate = fc.oneof(v4Text, v6Text, legacyV4);
  const entry = fc.oneof(
    fc.tuple(v4Text, fc.integer({ min: 1, max: 32 })).map(([a, p]) => `${a}/${p}`),
    v4Text,
    fc.tuple(v6Words, spelling, fc.integer({ min: 1, max: 128 })).map(([w, s, p]) => `${spell(w, s)}/${p}`),
    fc.tuple(v6Words, spelling).map(([w, s]) => spell(w, s)),
    fc.tuple(v6Words, spelling, zone).map(([w, s, z]) => spell(w, s) + z),
    legacyV4,
    fc.constantFrom('loopback', 'linklocal', 'uniquelocal'),
  );

  /** A dotted quad right after `::`: not an address to proxy-addr 2.0.x. */
  const dottedAfterGap = (text: string): boolean => /::[0-9]+\.[0-9.]+(%.*)?$/.test(text.split('/')[0]!);
  const isLegacyV4 = (text: string): boolean => /^[0-9a-fx.]+$/i.test(text) && text.includes('.') && canonicalizeIp(text) === undefined;
  const hasZone = (text: string): boolean => text.includes('%');

  test('compiles the same entries, and agrees on every candidate but the documented ones', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 3 }), fc.array(candidate, { minLength: 1, maxLength: 6 }), (entries, candidates) => {
        let ours: ((a: string, hop: number) => boolean) | undefined;
        let theirs: ((a: string, hop: number) => boolean) | undefined;
        try {
          ours = compileTrust(entries);
        } catch (e) {
          if (!isPurposekitError(e)) throw e;
        }
        try {
          theirs = proxyAddr.compile(entries);
        } catch {
          theirs = undefined;
        }
        const refusedHere = entries.some((e) => isLegacyV4(e.split('/')[0]!) || hasZone(e) || dottedAfterGap(e));
        // Entries: refused here exactly when proxy-addr refuses them or they are one of ours.
        same(ours === undefined, theirs === undefined || refusedHere, `compile ${JSON.stringify(entries)}: refused here`);
        if (theirs === undefined) same(ours, undefined, `proxy-addr refuses ${JSON.stringify(entries)}, so do we`);
        if (ours === undefined || theirs === undefined) return;
        // Near misses: the entries' own addresses, respelled.
        const near = entries.map((e) => e.split('/')[0]!).filter((a) => canonicalizeIp(a) !== undefined);
        for (const c of [...candidates, ...near]) {
          const o = ours(c, 0);
          const t = theirs(c, 0);
          if (isLegacyV4(c)) {
            same(o, false, `legacy ${c} is never trusted here`);
          } else if (dottedAfterGap(c)) {
            same(t, false, `proxy-addr never trusts ${c}`);
            same(o, ours(canonicalizeIp(c)!.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, cc, d) => `${((+a << 8) | +b).toString(16)}:${((+cc << 8) | +d).toString(16)}`), 0), `${c} is judged by its bits`);
          } else {
            same(o, t, `trust(${c}) with ${JSON.stringify(entries)}`);
          }
        }
      }),
      fcParams(25_000),
    );
  });

  test.each([
    // Agreed: every spelling of a mapped address is compared as IPv4.
    ['10.0.0.0/8', '::FFFF:10.0.0.1', true, true],
    ['10.0.0.0/8', '0:0:0:0:0:ffff:10.0.0.1', true, true],
    ['10.0.0.0/8', '::ffff:A00:1', true, true],
    ['10.0.0.0/8', '0000:0000:0000:0000:0000:FFFF:0A00:0001', true, true],
    ['10.0.0.0/8', '::ffff:10.0.0.1%eth0', true, true],
    ['fe80::/10', 'FE80::1%eth0', true, true],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true, true],
    ['::ffff:0:10.0.0.0/104', '10.1.2.3', false, false], // translated is not mapped
    // Documented: legacy IPv4 is never trusted here; proxy-addr reads 012 as octal 10.
    ['10.0.0.0/8', '012.1.2.3', false, true],
    // Documented: proxy-addr cannot read a dotted quad right after `::`.
    ['64:ff9b::/96', '64:ff9b::10.0.0.1', true, false],
    ['::a00:0/104', '::10.0.0.1', true, false],
    ['10.0.0.0/8', '::10.0.0.1', false, false], // IPv4-compatible is never the IPv4 address
  ])('entry %s, candidate %s: here %p, proxy-addr %p', (setting, candidate, here, there) => {
    expect(compileTrust(setting)(candidate, 0)).toBe(here);
    expect(proxyAddr.compile(setting)(candidate, 0)).toBe(there);
  });
});
