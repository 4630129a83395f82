import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import fc from 'fast-check';
import { isPurposekitError } from '../errors';
import { INVALID_IP_TOKEN, classifyIp } from './truncate';
import { createIpRedactor, redactIp } from './redact';
import { fcParams, fcTimeout, holds, same } from './__tests__/fast-check-settings';

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

describe('redactIp: IPv4 at every Matomo level', () => {
  // Matomo's byte levels (matomo-org/component-network tests/IPv6Test.php
  // getIPv4AddressesToAnonymize): 1 byte → /24, 2 bytes → /16, 3 bytes → /8, 4 → /0.
  test.each([
    ['0.0.0.1', '0.0.0.0', '0.0.0.0', '0.0.0.0'],
    ['0.0.1.0', '0.0.1.0', '0.0.0.0', '0.0.0.0'],
    ['0.1.1.1', '0.1.1.0', '0.1.0.0', '0.0.0.0'],
    ['0.255.255.255', '0.255.255.0', '0.255.0.0', '0.0.0.0'],
    ['1.0.0.0', '1.0.0.0', '1.0.0.0', '1.0.0.0'],
    ['127.255.255.255', '127.255.255.0', '127.255.0.0', '127.0.0.0'],
    ['128.0.0.0', '128.0.0.0', '128.0.0.0', '128.0.0.0'],
    ['255.255.255.255', '255.255.255.0', '255.255.0.0', '255.0.0.0'],
  ])('%s → /24 %s, /16 %s, /8 %s, /0 0.0.0.0', (ip, p24, p16, p8) => {
    expect(redactIp(ip)).toBe(p24); // default
    expect(redactIp(ip, { ipv4Prefix: 24 })).toBe(p24);
    expect(redactIp(ip, { ipv4Prefix: 16 })).toBe(p16);
    expect(redactIp(ip, { ipv4Prefix: 8 })).toBe(p8);
    expect(redactIp(ip, { ipv4Prefix: 0 })).toBe('0.0.0.0');
    // Matomo masks IPv4-mapped addresses on their IPv4 bytes the same way.
    expect(redactIp(`::ffff:${ip}`, { ipv4Prefix: 16 })).toBe(`::ffff:${p16}`);
  });

  test.each([
    // Prefixes that are not byte-aligned (worked by hand from the binary octets).
    ['203.0.113.77', 20, '203.0.112.0'], // 113 = 0111 0001 → 0111 0000
    ['172.31.5.9', 12, '172.16.0.0'], // 31 = 0001 1111 → 0001 0000
    ['10.1.3.255', 23, '10.1.2.0'], // 3 = 0000 0011 → 0000 0010
    ['192.0.2.1', 1, '128.0.0.0'],
    ['192.0.2.1', 17, '192.0.0.0'],
  ])('%s /%i → %s', (ip, prefix, expected) => {
    expect(redactIp(ip, { ipv4Prefix: prefix })).toBe(expected);
  });
});

describe('redactIp: IPv6 at the familiar levels', () => {
  // Matomo's IPv6 levels (matomo-org/component-network tests/IPv6Test.php
  // getAddressesToAnonymize): mask 64 bits → /64, 80 → /48, 104 → /24.
  test.each([
    ['2001:db8:0:8d3:0:8a2e:70:7344', '2001:db8:0:8d3::', '2001:db8::', '2001:d00::'],
    ['2001:6f8:900:724::2', '2001:6f8:900:724::', '2001:6f8:900::', '2001:600::'],
  ])('%s → /64 %s, /48 %s, /24 %s', (ip, p64, p48, p24) => {
    expect(redactIp(ip, { ipv6Prefix: 64 })).toBe(p64);
    expect(redactIp(ip)).toBe(p48); // default
    expect(redactIp(ip, { ipv6Prefix: 24 })).toBe(p24);
  });

  test.each([
    ['2001:db8:1234:5678::1', 56, '2001:db8:1234:5600::'],
    ['2001:db8:1234:5678::1', 60, '2001:db8:1234:5670::'],
    ['2001:db8:ffff::', 33, '2001:db8:8000::'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', 32, '2001:db8::'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', 0, '::'],
    ['FE80::ABCD', 10, 'fe80::'],
  ])('%s /%i → %s', (ip, prefix, expected) => {
    expect(redactIp(ip, { ipv6Prefix: prefix })).toBe(expected);
  });

  test.each([
    ['fe80::1234:5678:9abc:def0%eth0', 'fe80::'],
    ['fe80::1%25en0', 'fe80::'],
    ['::ffff:192.0.2.33%lo', '::ffff:192.0.2.0'],
  ])('drops the zone id of %s', (ip, expected) => {
    expect(redactIp(ip, { ipv6Prefix: 64 })).toBe(expected);
  });
});

describe('redactIp: IPv6 forms that carry an IPv4 address', () => {
  test.each([
    // RFC 4291 §2.5.5.2 IPv4-mapped: truncated on the IPv4 bytes, mixed notation (RFC 5952 §5).
    ['::ffff:129.144.52.38', {}, '::ffff:129.144.52.0'],
    ['0:0:0:0:0:ffff:8190:3426', { ipv4Prefix: 16 }, '::ffff:129.144.0.0'],
    // RFC 2765 §2.1 IPv4-translated ::ffff:0:a.b.c.d
    ['::ffff:0:192.0.2.33', {}, '::ffff:0:192.0.2.0'],
    // RFC 6052 §2.4 NAT64 well-known prefix
    ['64:ff9b::192.0.2.33', {}, '64:ff9b::192.0.2.0'],
    ['64:ff9b::c000:221', { ipv4Prefix: 8 }, '64:ff9b::192.0.0.0'],
    // RFC 8215 local-use NAT64 prefix 64:ff9b:1::/48 (RFC 6052 /48 layout, 192.0.2.33)
    ['64:ff9b:1:c000:2:2100::', {}, '64:ff9b:1:c000:2::'],
    // RFC 3068 §2.5: the 6to4 relay 192.88.99.1 has the 6to4 prefix 2002:c058:6301::/48
    // (RFC 3056 §2: 2002:V4ADDR::/48). The default /48 would keep the whole IPv4 address.
    ['2002:c058:6301::1', {}, '2002:c058:6300::'],
    ['2002:c058:6301:1:2:3:4:5', { ipv4Prefix: 16 }, '2002:c058::'],
    ['2002:c058:6301::1', { ipv6Prefix: 32 }, '2002:c058::'],
    // RFC 4380 §4 Teredo (worked example from the "Teredo tunneling" article): server
    // 65.54.227.120 = 4136:e378, client 192.0.2.45 XORed = 3fff:fdd2, port 40000 XORed = 63bf.
    ['2001:0000:4136:e378:8000:63bf:3fff:fdd2', {}, '2001:0:4136::'],
    ['2001:0000:4136:e378:8000:63bf:3fff:fdd2', { ipv6Prefix: 64 }, '2001:0:4136:e300::'],
    ['2001:0000:4136:e378:8000:63bf:3fff:fdd2', { ipv6Prefix: 64, ipv4Prefix: 8 }, '2001:0:4100::'],
  ])('%s %j → %s', (ip, options, expected) => {
    expect(redactIp(ip, options)).toBe(expected);
  });

  // RFC 6052 §2.4 table: 192.0.2.33 embedded under each network-specific prefix length.
  test.each([
    ['2001:db8::/32', '2001:db8:c000:221::', '2001:db8:c000:200::'],
    ['2001:db8:100::/40', '2001:db8:1c0:2:21::', '2001:db8:1c0:2::'],
    ['2001:db8:122::/48', '2001:db8:122:c000:2:2100::', '2001:db8:122:c000:2::'],
    ['2001:db8:122:300::/56', '2001:db8:122:3c0:0:221::', '2001:db8:122:3c0:0:200::'],
    ['2001:db8:122:344::/64', '2001:db8:122:344:c0:2:2100:0', '2001:db8:122:344:c0:2::'],
    ['2001:db8:122:344::/96', '2001:db8:122:344::192.0.2.33', '2001:db8:122:344::192.0.2.0'],
  ])('NAT64 prefix %s: %s → %s', (prefix, ip, expected) => {
    const options = { ipv6Prefix: 64, nat64Prefixes: [prefix] };
    expect(redactIp(ip, options)).toBe(expected);
    expect(redactIp(expected, options)).toBe(expected);
  });

  test('an unconfigured network-specific NAT64 prefix is only an IPv6 prefix: why nat64Prefixes exists', () => {
    // With /64 kept, the /32 layout keeps all of 192.0.2.33 (c000:221) unless declared.
    expect(redactIp('2001:db8:c000:221::', { ipv6Prefix: 64 })).toBe('2001:db8:c000:221::');
    expect(redactIp('2001:db8:c000:221::', { ipv6Prefix: 64, nat64Prefixes: ['2001:db8::/32'] })).toBe('2001:db8:c000:200::');
  });

  test('bits 64–71 (the RFC 6052 u octet) never carry anything through', () => {
    expect(redactIp('2001:db8:122:c000:ff02:2100::', { nat64Prefixes: ['2001:db8:122::/48'] })).toBe('2001:db8:122:c000:2::');
  });

  test('a plain address cut down into 64:ff9b::/96 prints in the form truncating it again gives', () => {
    const once = redactIp('64:ff9b:7::1', { ipv6Prefix: 32 });
    expect(once).toBe('64:ff9b::0.0.0.0');
    expect(redactIp(once, { ipv6Prefix: 32 })).toBe(once);
  });
});

describe('redactIp: invalid input becomes the fixed token', () => {
  test.each([
    '127.1', '0x7f.0.0.1', '012.1.2.3', '2130706433', '1.2.3.4:80', '[::1]', '[2001:db8::1]:443', 'unknown',
    '_hidden', '', ' ', '1.2.3.4 ', 'localhost', '::ffff:1.2.3', '1.2.3.4/24', `1.2.3.4\u2028`, '١٢٣.١.١.١',
  ])('%j → ip-invalid', (input) => {
    expect(redactIp(input)).toBe(INVALID_IP_TOKEN);
  });

  test.each([[undefined], [null], [16909060], [{ toString: () => '1.2.3.4' }], [['1.2.3.4']]])('%p → ip-invalid', (input) => {
    expect(redactIp(input)).toBe(INVALID_IP_TOKEN);
  });
});

describe('redactIp options', () => {
  test.each([
    [{ ipv4Prefx: 16 }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'Did you mean "ipv4Prefix"'],
    [{ ipv4Prefix: 25 }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'from 0 to 24'],
    [{ ipv4Prefix: 32 }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'from 0 to 24'],
    [{ ipv6Prefix: 65 }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'from 0 to 64'],
    [{ ipv6Prefix: 47.5 }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'integer'],
    [{ nat64Prefixes: '64:ff9b::/96' }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'array'],
    [{ nat64Prefixes: ['2001:db8::/36'] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'not a NAT64 prefix'],
    [{ nat64Prefixes: ['2001:db8::1/32'] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'bits set after /32'],
    [{ nat64Prefixes: ['192.0.2.0/24'] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'not a NAT64 prefix'],
    [{ nat64Prefixes: ['2001:db8:0:0:ff00::/96'] }, 'PURPOSEKIT_ERR_INVALID_OPTION', 'bits 64–71'],
  ])('%j → %s', (options, code, fragment) => {
    let error: unknown;
    try {
      redactIp('192.0.2.1', options as never);
    } catch (e) {
      error = e;
    }
    expect(isPurposekitError(error) && error.code).toBe(code);
    expect((error as Error).message).toContain(fragment);
  });

  test('does not modify the options object', () => {
    const options = Object.freeze({ ipv4Prefix: 16, nat64Prefixes: Object.freeze(['2001:db8::/32']) });
    expect(redactIp('192.0.2.1', options)).toBe('192.0.0.0');
  });
});

describe('createIpRedactor', () => {
  test('truncate mode applies the policy prefixes', () => {
    const redact = createIpRedactor({ mode: 'truncate', ipv4Prefix: 16, ipv6Prefix: 32, keyId: undefined, truncateFirst: false });
    expect(redact('198.51.100.7')).toBe('198.51.0.0');
    expect(redact('2001:db8:85a3::7')).toBe('2001:db8::');
    expect(redact(undefined)).toBe(INVALID_IP_TOKEN);
    expect(redact('198.51.100.7:8080')).toBe(INVALID_IP_TOKEN);
  });

  test('defaults to /24 and /48 from a bare { mode }', () => {
    const redact = createIpRedactor({ mode: 'truncate' });
    expect(redact('198.51.100.7')).toBe('198.51.100.0');
    expect(redact('2001:db8:85a3:1::7')).toBe('2001:db8:85a3::');
  });

  test('takes NAT64 prefixes as an extra option', () => {
    const redact = createIpRedactor({ mode: 'truncate', ipv6Prefix: 64 }, undefined, { nat64Prefixes: ['2001:db8::/32'] });
    expect(redact('2001:db8:c000:221::')).toBe('2001:db8:c000:200::');
  });

  test.each([
    [{ mode: 'anonymize' }, undefined, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    [{ mode: 'truncate', ipv4Prefix: 32 }, undefined, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    [{ mode: 'truncate', ipv6prefix: 48 }, undefined, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    [{ mode: 'pseudonymize' }, undefined, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [{ mode: 'pseudonymize', keyId: 'nope' }, { id: 'k1', secret: 'x'.repeat(32) }, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [{ mode: 'pseudonymize' }, { id: 'k1', secret: 'too short' }, 'PURPOSEKIT_ERR_INVALID_KEY'],
  ])('%j with key %j → %s', (config, key, code) => {
    expect(codeOf(() => createIpRedactor(config as never, key))).toBe(code);
  });
});

describe('classifyIp agrees with ipaddr.js special ranges', () => {
  const RANGE: Record<string, string> = {
    'ipv4-mapped': 'ipv4Mapped',
    'ipv4-translated': 'rfc6145',
    nat64: 'rfc6052',
    '6to4': '6to4',
    teredo: 'teredo',
  };
  const word = fc.integer({ min: 0, max: 0xffff });
  // Biased towards the prefixes that matter, with random bits after them.
  const address = fc
    .tuple(
      fc.constantFrom([], [0, 0, 0, 0, 0, 0xffff], [0, 0, 0, 0, 0xffff, 0], [0x64, 0xff9b, 0, 0, 0, 0], [0x64, 0xff9b, 1], [0x2002], [0x2001, 0], [0x2001], [0, 0, 0, 0, 0, 0]),
      fc.array(word, { minLength: 8, maxLength: 8 }),
    )
    .map(([prefix, rest]) => [...prefix, ...rest].slice(0, 8).map((w) => w.toString(16)).join(':'));

  test('(property)', () => {
    fc.assert(
      fc.property(address, (ip) => {
        const ours = classifyIp(ip)!;
        const theirs = ipaddr.IPv6.parse(ip).range();
        if (ours in RANGE) same(theirs, RANGE[ours], 'ipaddr.js range');
        else holds(!Object.values(RANGE).includes(theirs), `ipaddr.js range ${theirs} is not an IPv4-carrying form`);
      }),
      fcParams(),
    );
  });

  test('names every form', () => {
    expect(['192.0.2.1', '::ffff:1.2.3.4', '::ffff:0:1.2.3.4', '64:ff9b::1.2.3.4', '2002:102:304::', '2001::1', '::1.2.3.4', 'fe80::5efe:1.2.3.4', '2001:db8::1', 'nope'].map((ip) => classifyIp(ip))).toEqual([
      'ipv4', 'ipv4-mapped', 'ipv4-translated', 'nat64', '6to4', 'teredo', 'ipv4-compatible', 'isatap', 'ipv6', undefined,
    ]);
  });

  test('every truncation result re-parses as an address', () => {
    for (const ip of ['2002:c058:6301::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '64:ff9b::1.2.3.4', '::ffff:0:1.2.3.4']) {
      expect(isIP(redactIp(ip))).toBe(6);
    }
  });
});
