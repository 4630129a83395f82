import ipaddr from 'ipaddr.js';
import fc from 'fast-check';
import { canonicalizeIp, MAX_IP_TEXT_LENGTH } from './address';
import { fcParams, fcTimeout, same } from './__tests__/fast-check-settings';

// Property runs scale with PURPOSEKIT_FC_RUNS (100,000 in CI), on two shared cores.
jest.setTimeout(fcTimeout());

describe('canonicalizeIp: RFC 5952 canonical text', () => {
  // RFC 5952 §2.1–§2.3: many spellings of one address; §4: the one canonical form.
  test.each([
    // §2.1 leading zeros / zero compression alternatives of 2001:db8::1:0:0:1
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:1::1', '2001:db8::1:0:0:1'],
    ['2001:db8:0000:0:1::1', '2001:db8::1:0:0:1'],
    ['2001:DB8:0:0:1::1', '2001:db8::1:0:0:1'],
    // §2.2 leading zeros in a 16-bit field
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:001', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:01', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    // §4.1 leading zeros MUST be suppressed
    ['2001:0db8::0001', '2001:db8::1'],
    // §4.2.1 :: MUST shorten as much as possible
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    // §4.2.2 :: MUST NOT shorten one 16-bit 0 field
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // §4.2.3 longest run first; on a tie, the first run
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    // §4.3 lower case
    ['2001:DB8:AAAA::', '2001:db8:aaaa::'],
    // §5 mixed notation for IPv4-mapped, hex part per §4
    ['0:0:0:0:0:ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::FFFF:c000:0201', '::ffff:192.0.2.1'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalizeIp(input)).toBe(expected);
  });

  // RFC 4291 §2.2 text examples.
  test.each([
    ['2001:DB8:0:0:8:800:200C:417A', '2001:db8::8:800:200c:417a'],
    ['FF01:0:0:0:0:0:0:101', 'ff01::101'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:FFFF:129.144.52.38', '::ffff:129.144.52.38'],
    // RFC 4291 §2.2 item 3: IPv4-compatible is not a well-known mixed prefix (RFC 5952 §5), so hex
    ['0:0:0:0:0:0:13.1.68.3', '::d01:4403'],
  ])('RFC 4291 %s → %s', (input, expected) => {
    expect(canonicalizeIp(input)).toBe(expected);
  });

  test.each([
    // RFC 2765 IPv4-translated and RFC 6052 §2.4 NAT64 well-known prefix: mixed notation
    ['::ffff:0:c000:221', '::ffff:0:192.0.2.33'],
    ['64:ff9b::c000:221', '64:ff9b::192.0.2.33'],
    // zone ids are dropped (RFC 4007 §11: a local interface, not part of the address)
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%25', 'fe80::1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalizeIp(input)).toBe(expected);
  });

  test.each([
    ['127.1', 'legacy short form (inet_aton)'],
    ['0x7f.0.0.1', 'hexadecimal octet'],
    ['0x7f000001', 'hexadecimal integer'],
    ['012.1.2.3', 'octal (leading zero)'],
    ['01.2.3.4', 'leading zero'],
    ['2130706433', 'bare integer'],
    ['1.2.3.4:80', 'host:port'],
    ['[::1]', 'brackets'],
    ['[2001:db8::1]:443', 'bracketed with port'],
    ['unknown', 'the word nginx/RFC 7239 use'],
    ['_hidden', 'RFC 7239 obfuscated identifier'],
    ['1.2.3.256', 'octet out of range'],
    ['1.2.3', 'three octets'],
    ['1.2.3.4.5', 'five octets'],
    [' 1.2.3.4', 'leading space'],
    ['1.2.3.4\n', 'trailing newline'],
    ['1::2::3', 'two ::'],
    ['1:2:3:4:5:6:7:8:9', 'nine groups'],
    ['12345::', 'group of five digits'],
    ['::ffff:1.2.3', 'embedded IPv4 of three octets'],
    ['::1.2.3.04', 'embedded IPv4 with leading zero'],
    ['fe80::1%', 'empty zone'],
    ['', 'empty'],
    ['localhost', 'a host name'],
  ])('rejects %j (%s)', (input) => {
    expect(canonicalizeIp(input)).toBeUndefined();
  });

  test.each([[undefined], [null], [42], [{}], [['1.2.3.4']]])('rejects the non-string %p', (input) => {
    expect(canonicalizeIp(input)).toBeUndefined();
  });

  test('rejects over-long input without parsing it', () => {
    expect(canonicalizeIp(`fe80::1%${'a'.repeat(MAX_IP_TEXT_LENGTH)}`)).toBeUndefined();
  });

  test('agrees with ipaddr.js toRFC5952String on random IPv6 addresses (property)', () => {
    fc.assert(
      // ipaddr.js deliberately reads `::a.b.c.d` (IPv4-compatible, RFC 4291 §2.5.5.1) as
      // IPv4-mapped `::ffff:a.b.c.d`; RFC 4291 does not, so that one form is left out.
      fc.property(fc.ipV6().filter((ip) => !/^::[0-9]+\.[0-9.]+$/.test(ip)), (ip) => {
        const parsed = ipaddr.IPv6.parse(ip);
        const out = canonicalizeIp(ip)!;
        // ipaddr.js writes everything in hex; compare the 128 bits and the hex spelling
        // wherever mixed notation does not apply.
        same(ipaddr.IPv6.parse(out).toNormalizedString(), parsed.toNormalizedString(), '128 bits');
        if (!out.includes('.')) same(out, parsed.toRFC5952String(), 'RFC 5952 text');
      }),
      fcParams(),
    );
  });
});
