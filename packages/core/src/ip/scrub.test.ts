import { isPurposekitError } from '../errors';
import { createIpScrubber, scrubIps } from './scrub';

describe('scrubIps: addresses in free text are redacted', () => {
  test.each([
    ['from 192.0.2.33', 'from 192.0.2.0'],
    ['192.0.2.33:51234', '192.0.2.0:51234'],
    ['[2001:db8::7]:443', '[2001:db8::]:443'],
    ['http://192.0.2.33/path?x=1', 'http://192.0.2.0/path?x=1'],
    ['http://[2001:db8:1:2::5]:8080/', 'http://[2001:db8:1::]:8080/'],
    ['http://user@192.0.2.33:81/', 'http://user@192.0.2.0:81/'],
    ['::ffff:192.0.2.33', '::ffff:192.0.2.0'],
    ['::FFFF:192.0.2.33:80', '::ffff:192.0.2.0:80'],
    ['[::ffff:192.0.2.33]:80', '[::ffff:192.0.2.0]:80'],
    ['client=2001:DB8:0:0:8:800:200C:417A,', 'client=2001:db8::,'],
    ['fe80::1%eth0 up', 'fe80:: up'],
    ['[fe80::1%25en0]', '[fe80::]'],
    // A zone id's `%` stays where what follows would be glued to the redacted address
    // (`:::1a` would read as `::1a` when the line is scrubbed again).
    ['fe80::1%eth0:22', 'fe80::%:22'],
    ['::%0:1a', '::%:1a'],
    ['fe80::1%eth0%eth1 up', 'fe80::%%eth1 up'],
    // Several IPv6 addresses in one run of colons: the rest of a run after a match is
    // searched too (the second address was left whole before), whatever the run's length.
    ['2001:db8:1:2:3:4:5:6:2001:db8::9', '2001:db8:1:::2001:db8::'],
    // In the rest of a run, colons after an address may be a separator only: the address
    // after them is never read shifted (as `::2001:db8:2`, `::2001:db8:1:2:3:4:5`).
    ['2001:db8:1::7:::2001:db8:2::9', '2001:db8:1:::::2001:db8:2::'],
    ['2001:db8:1::7:::2001:db8:2::9:::2001:db8:3::1', '2001:db8:1:::::2001:db8:2:::::2001:db8:3::'],
    ['2001:db8::1::2001:db8:1:2:3:4:5:6', '2001:db8::::2001:db8:1::'],
    ['2001:db8::1:::2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff', '2001:db8:::::2001:db8:aaaa::'],
    // Two or more groups left after a run's last address may be the rest of an address read
    // into the one before it (one `:` between them): the fixed token. One group stays.
    ['2001:db8::1:2001:db8:1:2:3:4:5:6', '2001:db8:::ip-invalid'],
    ['2001:db8:1:2:3:4:5:6:443', '2001:db8:1:::443'],
    // What follows a dropped zone id starts at a boundary (the zone id is not a word).
    ['1234:5678::9abc:def0%eth0::1111:2222:3333:4444', '1234:5678::%::'],
    ['ip:192.0.2.33', 'ip:192.0.2.0'],
    ['addr:2001:db8:a::1.', 'addr:2001:db8:a::.'],
    ['src:2001:db8:a::1', 'src:2001:db8:a::'],
    ['x-forwarded-for: 203.0.113.7, 10.0.0.1', 'x-forwarded-for: 203.0.113.0, 10.0.0.0'],
    ['Forwarded: for="[2001:db8:cafe::17]:4711", for=192.0.2.60', 'Forwarded: for="[2001:db8:cafe::]:4711", for=192.0.2.0'],
    ['route 192.0.2.33/24', 'route 192.0.2.0/24'],
    ['(192.0.2.33)', '(192.0.2.0)'],
    ['end of sentence 192.0.2.33.', 'end of sentence 192.0.2.0.'],
    ['ranges 192.0.2.33-192.0.2.99', 'ranges 192.0.2.0-192.0.2.0'],
    ['{"remote":"192.0.2.33","v6":"2001:db8::1"}', '{"remote":"192.0.2.0","v6":"2001:db8::"}'],
    ['two 192.0.2.33:198.51.100.7', 'two 192.0.2.0:198.51.100.0'],
    ['6to4 2002:c058:6301::1', '6to4 2002:c058:6300::'],
    ['nat64 64:ff9b::192.0.2.33', 'nat64 64:ff9b::192.0.2.0'],
    ['teredo 2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo 2001:0:4136::'],
    ['tab\t192.0.2.33\r\n', 'tab\t192.0.2.0\r\n'],
    ['é192.0.2.33', 'é192.0.2.0'],
    // Escapes are boundaries, not letters (JSON, util.inspect, percent-encoding).
    ['line\\n192.0.2.33', 'line\\n192.0.2.0'],
    ['esc\\u001b192.0.2.33', 'esc\\u001b192.0.2.0'],
    ['esc\\x1b192.0.2.33', 'esc\\x1b192.0.2.0'],
    ['quote\\"192.0.2.33\\"', 'quote\\"192.0.2.0\\"'],
    ['redirect=http%3A%2F%2F192.0.2.33%2F', 'redirect=http%3A%2F%2F192.0.2.0%2F'],
    // Ambiguous leading-zero quads: the fixed token, never a guess.
    ['old 010.1.2.3 style', 'old ip-invalid style'],
  ])('%j → %j', (input, expected) => {
    expect(scrubIps(input)).toBe(expected);
  });
});

describe('scrubIps: what is not an address passes unchanged', () => {
  test.each([
    'version 1.2.3.4.5',
    'v1.2.3.4',
    'node 20.20.2',
    'at 12:34:56.789',
    '2024-06-01T12:34:56.789Z',
    'Mon, 02 Jun 2025 10:00:00 GMT',
    'mac 00:1a:2b:3c:4d:5e',
    'not an octet 1.2.3.256',
    'std::vector<int>',
    'Foo::Bar::baz',
    'build1.2.3.4x',
    'ratio 1:2 and time 10:00',
    'OID 1.3.6.1.4.1.311',
    'Chrome/120.0.6099.109 Safari/537.36',
    // Documented limitation: tcpdump's address.port is five groups, read as a version.
    'tcpdump 192.0.2.1.443',
    'a.b.c.d and 1.2.3',
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'ip-hmac:2025-06:0123456789abcdef0123456789abcdef',
    '',
    'no separators at all',
  ])('%j', (input) => {
    expect(scrubIps(input)).toBe(input);
  });

  test.each([
    // Deliberate over-redaction: indistinguishable from addresses.
    ['version 10.2.0.1', 'version 10.2.0.0'],
    ['dead::beef', 'dead::'],
  ])('over-redacts %j → %j (documented)', (input, expected) => {
    expect(scrubIps(input)).toBe(expected);
  });
});

describe('scrubIps options', () => {
  test('prefixes', () => {
    expect(scrubIps('a 198.51.100.7 b 2001:db8:85a3:1::7', { ipv4Prefix: 16, ipv6Prefix: 32 })).toBe('a 198.51.0.0 b 2001:db8::');
  });

  test('a custom redact function receives canonical addresses', () => {
    const seen: string[] = [];
    const scrub = createIpScrubber({
      redact: (ip) => {
        seen.push(ip);
        return '<ip>';
      },
    });
    expect(scrub('x 2001:DB8::0:1 y 192.0.2.1:80 z [::FFFF:c000:0201]')).toBe('x <ip> y <ip>:80 z [<ip>]');
    expect(seen).toEqual(['2001:db8::1', '192.0.2.1', '::ffff:192.0.2.1']);
  });

  test('fails closed when the redact function throws or returns a non-string', () => {
    expect(scrubIps('a 192.0.2.1 b', { redact: () => { throw new Error('boom 192.0.2.1'); } })).toBe('a ip-invalid b');
    expect(scrubIps('a 192.0.2.1 b', { redact: () => 42 as never })).toBe('a ip-invalid b');
  });

  test.each([
    [{ redact: 'x' }, 'must be a function'],
    [{ redact: (s: string) => s, ipv4Prefix: 16 }, 'not both'],
    [{ ipv4prefix: 16 }, 'Did you mean "ipv4Prefix"'],
  ])('%p is rejected', (options, fragment) => {
    let error: unknown;
    try {
      createIpScrubber(options as never);
    } catch (e) {
      error = e;
    }
    expect(isPurposekitError(error) && error.code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    expect((error as Error).message).toContain(fragment);
  });

  test('coerces a non-string input instead of letting it through unscrubbed', () => {
    expect(scrubIps(new String('at 192.0.2.1') as unknown as string)).toBe('at 192.0.2.0');
  });
});

describe('scrubIps on adversarial input: linear, and still no leaks', () => {
  // Each input is large enough (≥ 200k characters) that quadratic work would take minutes
  // and blow the Jest timeout; linear work takes milliseconds.
  test.each([
    ['1.'.repeat(100_000)],
    [':'.repeat(200_000)],
    ['1:'.repeat(100_000)],
    ['f'.repeat(200_000) + ':'],
    ['1.1.1.1.'.repeat(25_000)],
    ['[::'.repeat(70_000)],
    ['\\u'.repeat(100_000)],
    ['%2'.repeat(70_000)],
    ['ffff:'.repeat(40_000)],
    ['::ffff:'.repeat(30_000) + '1.2.3.4'],
    ['a1.2.3.4'.repeat(25_000)],
    ['1.2.3.4.'.repeat(25_000)],
  ])('input %#', (input) => {
    const out = scrubIps(input);
    expect(typeof out).toBe('string');
  });

  test('glued addresses are each redacted', () => {
    const out = scrubIps('::ffff:192.0.2.33'.repeat(10_000));
    expect(out).not.toContain('192.0.2.33');
    expect(scrubIps('192.0.2.33 '.repeat(30_000))).toBe('192.0.2.0 '.repeat(30_000));
  });

  test('a huge run with an address at its end still loses the address', () => {
    expect(scrubIps(`${'1:'.repeat(50_000)}192.0.2.33`).endsWith(':192.0.2.0')).toBe(true);
  });
});
