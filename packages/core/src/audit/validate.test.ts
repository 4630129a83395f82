import fc from 'fast-check';
import { isPurposekitError } from '../errors';
import { accessEvent, pseudonymize } from './__tests__/helpers';
import { containsEmailAddress, containsIpAddress, containsPossibleBirthDate } from './personal-data';
import { isUuidShaped, validateAuditEvent } from './validate';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0); // 2026-11-22

function refusal(event: unknown): { field: unknown; rule: unknown } | 'accepted' {
  try {
    validateAuditEvent(event, NOW);
    return 'accepted';
  } catch (error) {
    if (!isPurposekitError(error) || error.code !== 'PURPOSEKIT_ERR_AUDIT_REJECTED') throw error;
    return { field: error.details?.['field'], rule: error.details?.['rule'] };
  }
}

describe('validateAuditEvent', () => {
  it.each([
    ['a complete access event', accessEvent(1)],
    ['a minimal consent event', { kind: 'consent', policy: { id: 'p', version: '1' } }],
    ['a policy version that is a date', accessEvent(1, { policy: { id: 'p', version: '2024-06-01' } })],
    ['a future due date in attributes', accessEvent(1, { kind: 'rights', attributes: { right: 'access', due: '2026-12-22' } })],
    ['a full timestamp in attributes', accessEvent(1, { attributes: { receivedAt: '2026-11-20T10:00:00.000Z' } })],
    ['numbers and booleans in attributes', accessEvent(1, { attributes: { minimumAge: 18, verified: false, ratio: 0.5 } })],
    ['a version-like dotted string that is not an address', accessEvent(1, { reason: 'rule 1.2.3.4.5' })],
    ['a purpose with dots', accessEvent(1, { purpose: 'marketing.email' })],
  ])('accepts %s', (_name, event) => {
    expect(refusal(event)).toBe('accepted');
  });

  it.each([
    ['not an object', 'access', 'event', 'type'],
    ['an unknown field', { ...accessEvent(1), email: 'x' }, 'email', 'unknown-field'],
    ['an unknown kind', accessEvent(1, { kind: 'login' as never }), 'kind', 'unknown-value'],
    ['a raw subject id', accessEvent(1, { subject: 'user-42' }), 'subject', 'not-a-pseudonym'],
    ['an upper-case pseudonym', accessEvent(1, { subject: pseudonymize('x').toUpperCase() }), 'subject', 'not-a-pseudonym'],
    ['an IPv4 actor', accessEvent(1, { actor: '203.0.113.7' }), 'actor', 'ip-address'],
    ['an IPv4 inside a reason', accessEvent(1, { reason: 'client 198.51.100.23 blocked' }), 'reason', 'ip-address'],
    ['an IPv6 requestId', accessEvent(1, { requestId: '2001:db8::1' }), 'requestId', 'ip-address'],
    ['an IPv4-mapped IPv6 address', accessEvent(1, { recipient: '::ffff:192.0.2.1' }), 'recipient', 'ip-address'],
    ['a zoned link-local address', accessEvent(1, { reason: 'from fe80::1%eth0' }), 'reason', 'ip-address'],
    ['an IP in an attribute', accessEvent(1, { attributes: { client: '192.0.2.10' } }), 'attributes.client', 'ip-address'],
    ['an IP as a data category', accessEvent(1, { data: ['email', '10.0.0.1'] }), 'data[1]', 'ip-address'],
    ['an IP in the policy id', accessEvent(1, { policy: { id: '10.1.2.3', version: '1' } }), 'policy.id', 'ip-address'],
    ['an email actor', accessEvent(1, { actor: 'alice@example.com' }), 'actor', 'email-address'],
    ['an ISO birthdate', accessEvent(1, { attributes: { value: '2009-04-30' } }), 'attributes.value', 'date-of-birth'],
    ['a D/M/Y birthdate', accessEvent(1, { reason: 'born 30/04/2009' }), 'reason', 'date-of-birth'],
    ['a D.M.Y birthdate', accessEvent(1, { reason: '30.04.2009' }), 'reason', 'date-of-birth'],
    ['today as a date', accessEvent(1, { reason: '2026-11-22' }), 'reason', 'date-of-birth'],
    ['an attribute named like a birthdate', accessEvent(1, { attributes: { dateOfBirth: true } }), 'attributes.dateOfBirth', 'date-of-birth'],
    ['an attribute named dob', accessEvent(1, { attributes: { dob: 'withheld' } }), 'attributes.dob', 'date-of-birth'],
    ['a bad attribute name', accessEvent(1, { attributes: { 'a b': 'x' } }), 'attributes.?', 'bad-name'],
    ['an object attribute value', accessEvent(1, { attributes: { x: {} as never } }), 'attributes.x', 'type'],
    ['a NaN attribute value', accessEvent(1, { attributes: { x: Number.NaN } }), 'attributes.x', 'type'],
    ['too many attributes', accessEvent(1, { attributes: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`a${i}`, i])) }), 'attributes', 'too-many'],
    ['an empty actor', accessEvent(1, { actor: '' }), 'actor', 'empty'],
    ['a 257-character reason', accessEvent(1, { reason: 'x'.repeat(257) }), 'reason', 'too-long'],
    ['a newline in a reason', accessEvent(1, { reason: 'a\nb' }), 'reason', 'bad-character'],
    ['a lone surrogate', accessEvent(1, { reason: 'a\ud800b' }), 'reason', 'bad-character'],
    ['a decision that is neither', accessEvent(1, { decision: 'maybe' as never }), 'decision', 'unknown-value'],
    ['data that is not an array', accessEvent(1, { data: 'email' as never }), 'data', 'type'],
    ['a missing policy', { kind: 'access' }, 'policy', 'type'],
    ['an extra policy field', accessEvent(1, { policy: { id: 'p', version: '1', url: 'x' } as never }), 'policy.url', 'unknown-field'],
    ['a number where a string belongs', accessEvent(1, { actor: 42 as never }), 'actor', 'type'],
    ['an attributes object with a prototype', accessEvent(1, { attributes: new (class A { x = 1; })() as never }), 'attributes', 'type'],
  ])('refuses %s', (_name, event, field, rule) => {
    expect(refusal(event)).toEqual({ field, rule });
  });

  it('a date accepted (and remembered) as a policy version is still refused as a date of birth in any other field', () => {
    for (let i = 0; i < 3; i++) expect(refusal(accessEvent(i, { policy: { id: 'p', version: '2009-04-30' } }))).toBe('accepted');
    expect(refusal(accessEvent(1, { reason: '2009-04-30' }))).toEqual({ field: 'reason', rule: 'date-of-birth' });
    expect(refusal(accessEvent(1, { policy: { id: '2009-04-30', version: '1' } }))).toEqual({ field: 'policy.id', rule: 'date-of-birth' });
    expect(refusal(accessEvent(1, { data: ['email', '2009-04-30'] }))).toEqual({ field: 'data[1]', rule: 'date-of-birth' });
  });

  it('a category remembered as valid is still checked against the 64-character category limit, and refusals name the index', () => {
    const long = 'c'.repeat(65);
    expect(refusal(accessEvent(1, { reason: long }))).toBe('accepted'); // longer than what is remembered
    expect(refusal(accessEvent(1, { data: ['email', long] }))).toEqual({ field: 'data[1]', rule: 'too-long' });
    expect(refusal(accessEvent(1, { data: ['email', 'name', 'x@example.com'] }))).toEqual({ field: 'data[2]', rule: 'email-address' });
  });

  it('never puts the refused value into the error', () => {
    try {
      validateAuditEvent(accessEvent(1, { actor: '203.0.113.99' }), NOW);
      throw new Error('not refused');
    } catch (error) {
      expect(JSON.stringify({ m: (error as Error).message, d: (error as { details?: unknown }).details })).not.toContain('203.0.113.99');
    }
  });
});

describe('personal-value recognisers', () => {
  it('find every IPv4 address written inside text', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.constantFrom('', 'x ', 'peer=', '('), fc.constantFrom('', ' y', ')', ':443', '.'), (ip, before, after) => {
        expect(containsIpAddress(`${before}${ip}${after}`)).toBe(true);
      }),
      { seed: 101, numRuns: 300 },
    );
  });

  it('find every IPv6 address written inside text', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.constantFrom('', 'x ', '['), fc.constantFrom('', ' y', ']'), (ip, before, after) => {
        expect(containsIpAddress(`${before}${ip}${after}`)).toBe(true);
      }),
      { seed: 102, numRuns: 300 },
    );
  });

  it.each(['service.provision', 'svc:web:1', '12:30:45', 'aa:bb:cc:dd:ee:ff', '1.2.3', 'v1.2.3.4.5', '2026-11-22T10:00:00.000Z', '999.1.1.1'])('find no address in %s', (s) => {
    expect(containsIpAddress(s)).toBe(false);
  });

  it.each([
    ['alice@example.com', true],
    ['mailto:a.b+c@mail.example.org', true],
    ['@scope/package', false],
    ['user@localhost', false],
  ])('email in %s: %s', (s, expected) => {
    expect(containsEmailAddress(s)).toBe(expected);
  });

  it.each([
    ['2009-04-30', true],
    ['1900-02-29', false], // not a date
    ['1890-01-01', false], // more than 130 years back
    ['2027-01-01', false], // future: a due date, not a birthdate
    ['04/30/2009', true], // M/D/Y
    ['2009-04-30T00:00:00Z', false],
    ['2009-04-30 10:00', false],
    ['2024-06', false],
    ['20090430', false],
  ])('possible birthdate in %s: %s', (s, expected) => {
    expect(containsPossibleBirthDate(s, NOW)).toBe(expected);
  });
});

describe('the UUID fast path (request ids skip the personal-value scan)', () => {
  const NOW = Date.UTC(2026, 0, 31);
  // Hex digits and hyphens only, hyphens where a UUID has them or anywhere else.
  const hexish = fc
    .array(fc.constantFrom(...'0123456789abcdefABCDEF-'.split('')), { minLength: 30, maxLength: 40 })
    .map((a) => a.join(''));

  test('every string it lets through is one the full scan also lets through', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uuid(), hexish, fc.uuid().map((u) => u.toUpperCase())), (s) => {
        if (!isUuidShaped(s)) return;
        expect(containsIpAddress(s)).toBe(false);
        expect(containsEmailAddress(s)).toBe(false);
        expect(containsPossibleBirthDate(s, NOW)).toBe(false);
        // eslint-disable-next-line no-control-regex
        expect(/[\u0000-\u001f\u007f-\u009f]/.test(s)).toBe(false);
      }),
      { numRuns: process.env['CI'] === 'true' ? 5000 : 1000 },
    );
  });

  test('recognises exactly the 8-4-4-4-12 hex shape', () => {
    expect(isUuidShaped('0b8f1dee-3ace-42d8-8736-000000000022')).toBe(true);
    expect(isUuidShaped('0B8F1DEE-3ACE-42D8-8736-00000000002A')).toBe(true);
    expect(isUuidShaped('0b8f1dee-3ace-42d8-8736-00000000002')).toBe(false);
    expect(isUuidShaped('0b8f1dee-3ace-42d8-8736-0000000000223')).toBe(false);
    expect(isUuidShaped('0b8f1dee-3ace-42d8-8736_000000000022')).toBe(false);
    expect(isUuidShaped('0b8f1dee-3ace-42d8-8736-00000000002g')).toBe(false);
    expect(isUuidShaped('1990-01-01-0000-0000-0000-000000000')).toBe(false);
  });

  test('a UUID-shaped request id is accepted, a request id holding a date or an address still refused', () => {
    const base = { kind: 'access', policy: { id: 'p', version: '1' }, purpose: 'x', decision: 'allow', reason: 'allowed' };
    expect(() => validateAuditEvent({ ...base, requestId: '0b8f1dee-3ace-42d8-8736-000000000022' }, NOW)).not.toThrow();
    expect(() => validateAuditEvent({ ...base, requestId: 'req-1990-01-01' }, NOW)).toThrow(expect.objectContaining({ details: { field: 'requestId', rule: 'date-of-birth' } }));
    expect(() => validateAuditEvent({ ...base, requestId: 'from-203.0.113.9' }, NOW)).toThrow(expect.objectContaining({ details: { field: 'requestId', rule: 'ip-address' } }));
  });
});
