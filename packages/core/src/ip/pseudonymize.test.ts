import { createHmac, createSecretKey } from 'node:crypto';
import { isPurposekitError } from '../errors';
import { createIpKeyring, createIpPseudonymizer, isIpKeyring, pseudonymizeIp, IP_PSEUDONYM_PREFIX } from './pseudonymize';
import { createIpRedactor } from './redact';
import { INVALID_IP_TOKEN } from './truncate';

const SECRET_A = 'a'.repeat(16) + 'purposekit-test-key-A-0123456789';
const SECRET_B = Buffer.alloc(32, 7);
const ring = createIpKeyring([
  { id: '2025-06', secret: SECRET_A },
  { id: '2024-12', secret: SECRET_B },
]);

/** The construction, written out independently: HMAC-SHA-256(key, domain ‖ text), first 128 bits in hex. */
function expected(keyId: string, secret: string | Buffer, text: string): string {
  const mac = createHmac('sha256', secret).update(`purposekit/ip/v1\0${text}`, 'utf8').digest('hex').slice(0, 32);
  return `ip-hmac:${keyId}:${mac}`;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isPurposekitError(e) ? e.code : `not a PurposekitError: ${String(e)}`;
  }
  return undefined;
}

describe('pseudonymizeIp', () => {
  test('is HMAC-SHA-256 under the current key, with the key id in the output', () => {
    const out = pseudonymizeIp('192.0.2.33', ring);
    expect(out).toBe(expected('2025-06', SECRET_A, '192.0.2.33'));
    expect(out).toMatch(/^ip-hmac:2025-06:[0-9a-f]{32}$/);
    expect(out.startsWith(IP_PSEUDONYM_PREFIX)).toBe(true);
  });

  test('rotation: an older key is chosen by id, and gives another pseudonym', () => {
    const old = pseudonymizeIp('192.0.2.33', ring, { keyId: '2024-12' });
    expect(old).toBe(expected('2024-12', SECRET_B, '192.0.2.33'));
    expect(old).not.toBe(pseudonymizeIp('192.0.2.33', ring));
  });

  test('hashes the canonical form, so spellings of one address agree', () => {
    const canonical = pseudonymizeIp('2001:db8::1', ring);
    expect(canonical).toBe(expected('2025-06', SECRET_A, '2001:db8::1'));
    for (const spelling of ['2001:DB8::1', '2001:0db8:0:0:0:0:0:1', '2001:db8::0:1', 'fe80::1%eth0'.replace('fe80', '2001:db8')]) {
      expect(pseudonymizeIp(spelling, ring)).toBe(canonical);
    }
  });

  test('an IPv4-mapped address is the same client as its IPv4 address; translated is not', () => {
    expect(pseudonymizeIp('::ffff:192.0.2.33', ring)).toBe(pseudonymizeIp('192.0.2.33', ring));
    expect(pseudonymizeIp('::ffff:0:192.0.2.33', ring)).toBe(expected('2025-06', SECRET_A, '::ffff:0:192.0.2.33'));
  });

  test('truncateFirst hashes the truncated address: one pseudonym per network', () => {
    const a = pseudonymizeIp('192.0.2.33', ring, { truncateFirst: true });
    expect(a).toBe(expected('2025-06', SECRET_A, '192.0.2.0'));
    expect(pseudonymizeIp('192.0.2.200', ring, { truncateFirst: true })).toBe(a);
    expect(pseudonymizeIp('192.0.3.1', ring, { truncateFirst: true })).not.toBe(a);
    expect(pseudonymizeIp('2001:db8:85a3:1::7', ring, { truncateFirst: true, ipv6Prefix: 32 })).toBe(expected('2025-06', SECRET_A, '2001:db8::'));
  });

  test('never hashes invalid input: the fixed token, or PURPOSEKIT_ERR_INVALID_IP when strict', () => {
    expect(pseudonymizeIp('127.1', ring)).toBe(INVALID_IP_TOKEN);
    expect(pseudonymizeIp(undefined, ring)).toBe(INVALID_IP_TOKEN);
    expect(pseudonymizeIp('1.2.3.4:80', ring, { truncateFirst: true })).toBe(INVALID_IP_TOKEN);
    expect(codeOf(() => pseudonymizeIp('unknown', ring, { strict: true }))).toBe('PURPOSEKIT_ERR_INVALID_IP');
    let message = '';
    try {
      pseudonymizeIp('203.0.113.9:80', ring, { strict: true });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('203.0.113');
  });

  test('accepts a bare { id, secret } (made into a keyring once) and a KeyObject secret', () => {
    const key = { id: 'k1', secret: createSecretKey(Buffer.alloc(32, 1)) };
    expect(pseudonymizeIp('192.0.2.1', key)).toBe(expected('k1', Buffer.alloc(32, 1), '192.0.2.1'));
  });

  test('a cached pseudonym equals a computed one', () => {
    const cached = createIpPseudonymizer(ring, { cacheSize: 2 });
    const uncached = createIpPseudonymizer(ring, { cacheSize: 0 });
    const ips = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1', '2001:db8::1', '192.0.2.2', '192.0.2.1'];
    expect(ips.map(cached)).toEqual(ips.map(uncached));
  });
});

describe('createIpKeyring', () => {
  test('the first key is current unless currentKeyId names another', () => {
    expect(ring.currentKeyId).toBe('2025-06');
    expect(ring.keyIds).toEqual(['2025-06', '2024-12']);
    expect(isIpKeyring(ring)).toBe(true);
    expect(isIpKeyring({ currentKeyId: 'x', keyIds: [] })).toBe(false);
    const other = createIpKeyring([{ id: 'a', secret: SECRET_A }, { id: 'b', secret: SECRET_B }], { currentKeyId: 'b' });
    expect(pseudonymizeIp('192.0.2.1', other)).toBe(expected('b', SECRET_B, '192.0.2.1'));
  });

  test('is frozen and does not expose secrets in JSON', () => {
    expect(Object.isFrozen(ring)).toBe(true);
    expect(JSON.stringify(ring)).toBe('{"currentKeyId":"2025-06","keyIds":["2025-06","2024-12"]}');
  });

  test.each([
    [[], undefined, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [{ id: 'k', secret: 'short' }, undefined, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [{ id: 'bad id!', secret: SECRET_A }, undefined, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [[{ id: 'k', secret: SECRET_A }, { id: 'k', secret: SECRET_B }], undefined, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [{ id: 'k', secret: SECRET_A }, { currentKeyId: 'other' }, 'PURPOSEKIT_ERR_INVALID_KEY'],
    [{ id: 'k', secret: SECRET_A }, { current: 'k' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ])('%j %j → %s', (keys, options, code) => {
    expect(codeOf(() => createIpKeyring(keys as never, options as never))).toBe(code);
  });
});

describe('createIpRedactor in pseudonymize mode', () => {
  test('uses the policy keyId and truncateFirst', () => {
    const redact = createIpRedactor({ mode: 'pseudonymize', keyId: '2024-12', truncateFirst: true, ipv4Prefix: 16, ipv6Prefix: 48 }, ring);
    expect(redact('198.51.100.7')).toBe(expected('2024-12', SECRET_B, '198.51.0.0'));
    expect(redact(undefined)).toBe(INVALID_IP_TOKEN);
  });

  test('defaults to the keyring current key, over the full address', () => {
    const redact = createIpRedactor({ mode: 'pseudonymize' }, ring);
    expect(redact('198.51.100.7')).toBe(expected('2025-06', SECRET_A, '198.51.100.7'));
  });
});
