import { createHmac, createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { isPurposekitError } from '../errors';
import { MAX_LOCKOUT_ENTRIES, cookieValues, createLockoutCookie } from './lockout-cookie';
import type { LockoutCookieOptions } from './lockout-cookie';
import { OTHER_SECRET, SECRET, cookieFrom } from './__tests__/fixtures';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const NOW_S = NOW / 1000;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isPurposekitError(error) ? error.code : `not a PurposekitError: ${String(error)}`;
  }
  return 'no error';
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as Error).message} ${JSON.stringify(error)}`;
  }
  return '';
}

// The documented format, computed here from the spec rather than from the module.
function expectedValue(secret: string, context: string, entries: Array<[string, number]>): string {
  const payload = `v1${entries.map(([g, e]) => `.${Buffer.from(g, 'utf8').toString('base64url')}~${e}`).join('')}`;
  const mac = createHmac('sha256', Buffer.from(secret)).update(`purposekit.age-lock.v1\n${context}\n${payload}`).digest('base64url');
  return `${payload}.${mac}`;
}

describe('createLockoutCookie: keys', () => {
  const good: Array<[string, LockoutCookieOptions['secret']]> = [
    ['a 32-character string', 'a'.repeat(32)],
    ['a string of 16 two-byte characters (32 bytes)', 'é'.repeat(16)],
    ['a 32-byte Buffer', randomBytes(32)],
    ['a 32-byte Uint8Array', new Uint8Array(32).fill(7)],
    ['a 64-byte secret KeyObject', createSecretKey(randomBytes(64))],
  ];
  it.each(good)('accepts %s', (_name, secret) => {
    expect(codeOf(() => createLockoutCookie({ secret }))).toBe('no error');
  });

  const bad: Array<[string, unknown]> = [
    ['a 31-character string', 'a'.repeat(31)],
    ['an empty string', ''],
    ['a 31-byte Buffer', randomBytes(31)],
    ['a 16-byte secret KeyObject', createSecretKey(randomBytes(16))],
    ['a private key', generateKeyPairSync('ed25519').privateKey],
    ['a number', 1234567890],
    ['undefined', undefined],
    ['an object', { key: 'a'.repeat(40) }],
  ];
  it.each(bad)('refuses %s with PURPOSEKIT_ERR_INVALID_KEY', (_name, secret) => {
    expect(codeOf(() => createLockoutCookie({ secret } as LockoutCookieOptions))).toBe('PURPOSEKIT_ERR_INVALID_KEY');
  });

  it('never echoes the secret in the error', () => {
    const secret = 'short-but-secret-value';
    expect(messageOf(() => createLockoutCookie({ secret }))).not.toContain(secret);
  });

  it('does not change the caller’s Buffer', () => {
    const secret = Buffer.alloc(32, 9);
    createLockoutCookie({ secret });
    expect(secret.equals(Buffer.alloc(32, 9))).toBe(true);
  });
});

describe('createLockoutCookie: options', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['unknown key', { secret: SECRET, cookiename: 'x' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['name with a space', { secret: SECRET, cookieName: 'pk age' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['name with a semicolon', { secret: SECRET, cookieName: 'a;b' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['empty name', { secret: SECRET, cookieName: '' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['__Host- name without Secure', { secret: SECRET, cookieName: '__Host-lock', secure: false }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['__Host- name with Secure', { secret: SECRET, cookieName: '__Host-lock' }, 'no error'],
    ['secure not a boolean', { secret: SECRET, secure: 'yes' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['not an object', null as unknown as Record<string, unknown>, 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ];
  it.each(cases)('%s → %s', (_name, options, code) => {
    expect(codeOf(() => createLockoutCookie(options as unknown as LockoutCookieOptions))).toBe(code);
  });

  it('suggests the option meant', () => {
    expect(messageOf(() => createLockoutCookie({ secret: SECRET, cookiename: 'x' } as unknown as LockoutCookieOptions))).toContain('Did you mean "cookieName"?');
  });
});

describe('lock: the Set-Cookie value', () => {
  it('has the documented value and attributes', () => {
    const cookie = createLockoutCookie({ secret: SECRET, context: 'openinfra' });
    expect(cookie.lock('registration', 86_400, NOW)).toBe(
      `pk_age_lock=${expectedValue(SECRET, 'openinfra', [['registration', NOW_S + 86_400]])}; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax; Secure`,
    );
  });

  it('drops Secure only when asked, and uses the configured name', () => {
    const cookie = createLockoutCookie({ secret: SECRET, secure: false, cookieName: 'lock' });
    expect(cookie.lock('g', 60, NOW)).toBe(`lock=${expectedValue(SECRET, '', [['g', NOW_S + 60]])}; Max-Age=60; Path=/; HttpOnly; SameSite=Lax`);
  });

  it('carries gate names and expiry times only', () => {
    const value = cookieFrom(createLockoutCookie({ secret: SECRET }).lock('registration', 3600, NOW)).split('=')[1] as string;
    const [version, entry, mac, ...rest] = value.split('.');
    expect(rest).toEqual([]);
    expect(version).toBe('v1');
    expect(entry).toBe(`${Buffer.from('registration').toString('base64url')}~${NOW_S + 3600}`);
    expect(mac).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('keeps other still-valid locks, the newest entry always, and Max-Age for the longest', () => {
    const cookie = createLockoutCookie({ secret: SECRET });
    const first = cookieFrom(cookie.lock('any-collection', 7 * 86_400, NOW));
    const both = cookie.lock('registration', 86_400, NOW + 1000, cookie.read(first, NOW + 1000));
    expect(both).toContain(`; Max-Age=${7 * 86_400 - 1}`);
    expect([...cookie.read(cookieFrom(both), NOW + 2000)]).toEqual([
      ['registration', NOW_S + 1 + 86_400],
      ['any-collection', NOW_S + 7 * 86_400],
    ]);
  });

  it('keeps the later expiry when the same gate is locked again', () => {
    const cookie = createLockoutCookie({ secret: SECRET });
    const long = cookie.read(cookieFrom(cookie.lock('g', 10_000, NOW)), NOW);
    expect([...cookie.read(cookieFrom(cookie.lock('g', 10, NOW, long)), NOW)]).toEqual([['g', NOW_S + 10_000]]);
  });

  it(`remembers at most ${MAX_LOCKOUT_ENTRIES} gates, dropping the earliest-expiring`, () => {
    const cookie = createLockoutCookie({ secret: SECRET });
    const current = new Map<string, number>();
    for (let i = 0; i < 12; i++) current.set(`gate-${i}`, NOW_S + 100 + i);
    const locks = cookie.read(cookieFrom(cookie.lock('new', 1, NOW, current)), NOW);
    expect([...locks.keys()].sort()).toEqual(['gate-11', 'gate-10', 'gate-9', 'gate-8', 'gate-7', 'gate-6', 'gate-5', 'new'].sort());
  });

  const badLocks: Array<[string, string, number]> = [
    ['empty gate', '', 60],
    ['gate over 96 bytes', 'g'.repeat(97), 60],
    ['zero seconds', 'g', 0],
    ['negative seconds', 'g', -5],
    ['fractional seconds', 'g', 1.5],
  ];
  it.each(badLocks)('refuses %s', (_name, gate, seconds) => {
    expect(codeOf(() => createLockoutCookie({ secret: SECRET }).lock(gate, seconds, NOW))).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
  });
});

describe('read: valid, expired, tampered, garbage', () => {
  const cookie = createLockoutCookie({ secret: SECRET, context: 'p' });
  const pair = cookieFrom(cookie.lock('registration', 3600, NOW));
  const value = pair.slice('pk_age_lock='.length);
  const [, entry, mac] = value.split('.') as [string, string, string];
  const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

  it('finds the lock among other cookies', () => {
    expect([...cookie.read(`a=1; ${pair}; b=2`, NOW)]).toEqual([['registration', NOW_S + 3600]]);
    expect([...cookie.read(pair, NOW + 3599_000)]).toEqual([['registration', NOW_S + 3600]]);
  });

  const ignored: Array<[string, string | undefined, number]> = [
    ['no header', undefined, NOW],
    ['empty header', '', NOW],
    ['other cookies only', 'a=1; b=2', NOW],
    ['expired (at the expiry second)', pair, NOW + 3600_000],
    ['expired (later)', pair, NOW + 10 * 3600_000],
    ['MAC changed', `pk_age_lock=v1.${entry}.${flip(mac, 5)}`, NOW],
    ['MAC truncated', `pk_age_lock=v1.${entry}.${mac.slice(0, 42)}`, NOW],
    ['MAC missing', `pk_age_lock=v1.${entry}`, NOW],
    ['gate changed', `pk_age_lock=v1.${Buffer.from('any-collection').toString('base64url')}~${NOW_S + 3600}.${mac}`, NOW],
    ['expiry extended', `pk_age_lock=v1.${entry.replace(/~\d+$/, `~${NOW_S + 999_999}`)}.${mac}`, NOW],
    ['version changed', `pk_age_lock=v2.${entry}.${mac}`, NOW],
    ['quoted value', `pk_age_lock="${value}"`, NOW],
    ['signed with another key', cookieFrom(createLockoutCookie({ secret: OTHER_SECRET, context: 'p' }).lock('registration', 3600, NOW)), NOW],
    ['signed for another policy', cookieFrom(createLockoutCookie({ secret: SECRET, context: 'q' }).lock('registration', 3600, NOW)), NOW],
    ['name as a suffix', `x${pair}`, NOW],
    ['name as a prefix', pair.replace('pk_age_lock=', 'pk_age_lock2='), NOW],
    ['garbage', 'pk_age_lock=%%%;;;===', NOW],
    ['huge value', `pk_age_lock=v1.${'A'.repeat(100_000)}`, NOW],
    ['past the scan limit', `${'z=1; '.repeat(4000)}${pair}`, NOW],
  ];
  it.each(ignored)('%s → no lock', (_name, header, now) => {
    expect(cookie.read(header, now).size).toBe(0);
  });

  it('reads a valid cookie after a garbage one with the same name', () => {
    expect([...cookie.read(`pk_age_lock=garbage; ${pair}`, NOW)]).toEqual([['registration', NOW_S + 3600]]);
  });

  it('never throws and finds nothing in arbitrary headers (fast-check, fixed seed)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `pk_age_lock=${s}`), fc.string().map((s) => `pk_age_lock=v1.${s}`)), (header) => {
        expect(cookie.read(header, NOW).size).toBe(0);
      }),
      { seed: 65, numRuns: 2000 },
    );
  });

  it('never accepts a single-character change anywhere in a valid value (fast-check, fixed seed)', () => {
    fc.assert(
      fc.property(fc.nat({ max: value.length - 1 }), fc.constantFrom(...'ABCxyz019-_.~'), (index, char) => {
        fc.pre(value[index] !== char);
        const forged = value.slice(0, index) + char + value.slice(index + 1);
        expect(cookie.read(`pk_age_lock=${forged}`, NOW).size).toBe(0);
      }),
      { seed: 66, numRuns: 1000 },
    );
  });
});

describe('cookieValues', () => {
  const cases: Array<[string, string[] | undefined]> = [
    ['pk=1', ['1']],
    ['a=1; pk=2; b=3', ['2']],
    ['a=1;pk=2', ['2']],
    ['pk=1; pk=2', ['1', '2']],
    ['pk= 1 ', ['1']],
    ['xpk=1', undefined],
    ['pkx=1', undefined],
    ['a=pk; b=2', undefined],
    ['pk', undefined],
    ['pk=1; pk=2; pk=3; pk=4; pk=5; pk=6', ['1', '2', '3', '4']],
  ];
  it.each(cases)('%s', (header, expected) => {
    expect(cookieValues(header, 'pk')).toEqual(expected);
  });
});
