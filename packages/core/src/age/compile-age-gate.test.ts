import fc from 'fast-check';
import { ERROR_CATALOG, isPurposekitError } from '../errors';
import type { ErrorCode } from '../errors';
import type { Policy } from '../policy/types';
import { compileAgeGate } from './compile-age-gate';
import type { AgeGateCheckInput, AgeGateOptions, AgeGateOutcome } from './compile-age-gate';
import { BITNAMI, EU_NEWSLETTER, OPENINFRA, OTHER_SECRET, SECRET, clock, cookieFrom, gate, policyWith } from './__tests__/fixtures';

const NOW = '2026-11-22T12:00:00Z';

function compile<R = unknown>(policy: Policy, name: string, options: Partial<AgeGateOptions<R>> = {}, at: string = NOW) {
  const c = clock(at);
  return { gate: compileAgeGate<R>(policy, name, { secret: SECRET, secureCookie: false, now: c.now, ...options }), clock: c };
}

function input(dateOfBirth: unknown, extra: Partial<AgeGateCheckInput> = {}): AgeGateCheckInput {
  return { body: { dateOfBirth }, cookieHeader: undefined, ...extra };
}

function summary(outcome: AgeGateOutcome): string {
  return outcome.ok ? 'ok' : `${outcome.audit.outcome}:${outcome.error.code}`;
}

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
    return (error as Error).message;
  }
  return '';
}

describe('compileAgeGate: the seeds’ gates (today is 2026-11-22, UTC)', () => {
  const cases: Array<[string, Policy, string, string, string]> = [
    ['Bitnami: 12 refused', BITNAMI, 'general', '2014-01-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['Bitnami: 13 tomorrow refused', BITNAMI, 'general', '2013-11-23', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['Bitnami: 13 today accepted', BITNAMI, 'general', '2013-11-22', 'ok'],
    ['Bitnami: adult accepted', BITNAMI, 'general', '1980-05-01', 'ok'],
    ['OpenInfra registration: 17 refused', OPENINFRA, 'registration', '2009-01-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['OpenInfra registration: 18 today accepted', OPENINFRA, 'registration', '2008-11-22', 'ok'],
    ['OpenInfra survey (any collection): 13 accepted', OPENINFRA, 'any-collection', '2013-06-01', 'ok'],
    ['OpenInfra survey (any collection): 12 refused', OPENINFRA, 'any-collection', '2014-06-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
  ];
  it.each(cases)('%s', (_name, policy, name, dob, expected) => {
    expect(summary(compile(policy, name).gate.check(input(dob)))).toBe(expected);
  });
});

describe('compileAgeGate: a refusal', () => {
  const { gate: registration } = compile(OPENINFRA, 'registration');
  const outcome = registration.check(input('2010-03-04'));

  it('is a neutral 403 with only the gate in its details, an audit entry and a lockout cookie', () => {
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(outcome.error.status).toBe(403);
    expect(outcome.error.publicMessage).toBe(ERROR_CATALOG.PURPOSEKIT_ERR_AGE_GATE_REFUSED.message);
    expect(outcome.error.message).toBe(ERROR_CATALOG.PURPOSEKIT_ERR_AGE_GATE_REFUSED.message);
    expect(outcome.error.details).toEqual({ gate: 'registration' });
    expect(outcome.audit).toEqual({ gate: 'registration', outcome: 'refused' });
    expect(outcome.setCookie).toMatch(/^pk_age_lock=v1\.[A-Za-z0-9_-]+~\d+\.[A-Za-z0-9_-]{43}; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  it('serialised with JSON.stringify, contains neither the date of birth nor the minimum age', () => {
    const json = JSON.stringify(outcome);
    for (const form of ['2010-03-04', '20100304', '2010', '04/03/2010', '03/04/2010']) expect(json).not.toContain(form);
    // The threshold (18) and the computed age (16) must not appear as a value anywhere,
    // and no key may name them. (Digits inside the MAC or the expiry are not values.)
    const leaves: Array<[string, unknown]> = [];
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
      else leaves.push([path, value]);
    };
    walk(JSON.parse(json), '$');
    for (const [path, value] of leaves) {
      expect({ path, value: value === 18 || value === 16 || value === '18' || value === '16' }).toEqual({ path, value: false });
      for (const key of path.split('.')) expect(key).not.toMatch(/^(age|.*Age|.*[Bb]irth.*|dob|minimum.*|threshold)$/);
    }
    expect(String(outcome.ok === false && outcome.error.message)).not.toMatch(/\d/);
  });
});

describe('compileAgeGate: lockout', () => {
  it('refuses again, whatever date is sent, while the cookie is valid; not after it expires', () => {
    const { gate: g, clock: c } = compile(OPENINFRA, 'registration');
    const refused = g.check(input('2010-01-01'));
    const cookieHeader = `theme=dark; ${cookieFrom(refused.ok ? undefined : refused.setCookie)}`;

    const retries: Array<[string, unknown]> = [
      ['an older date', '1970-01-01'],
      ['a malformed date', 'not a date'],
      ['no date', undefined],
    ];
    for (const [, dob] of retries) {
      const retry = g.check(input(dob, { cookieHeader }));
      expect(summary(retry)).toBe('locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
      expect(retry.ok === false && retry.setCookie).toBeUndefined();
      expect(retry.ok === false && retry.error.details).toEqual({ gate: 'registration' });
    }

    c.advance(86_400 - 1);
    expect(summary(g.check(input('1970-01-01', { cookieHeader })))).toBe('locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    c.advance(1);
    expect(summary(g.check(input('1970-01-01', { cookieHeader })))).toBe('ok');
  });

  it('ignores a tampered cookie, one signed with another key, and one from another policy', () => {
    const { gate: g } = compile(OPENINFRA, 'registration');
    const refused = g.check(input('2010-01-01'));
    const pair = cookieFrom(refused.ok ? undefined : refused.setCookie);
    const tampered = pair.slice(0, -3) + (pair.endsWith('AAA') ? 'BBB' : 'AAA');
    const otherKey = compile(OPENINFRA, 'registration', { secret: OTHER_SECRET }).gate.check(input('2010-01-01'));
    const otherPolicy = compile(policyWith('elsewhere', [gate('registration', { minimumAge: 18 })]), 'registration').gate.check(input('2010-01-01'));
    for (const cookieHeader of [tampered, cookieFrom(otherKey.ok ? undefined : otherKey.setCookie), cookieFrom(otherPolicy.ok ? undefined : otherPolicy.setCookie)]) {
      expect(summary(g.check(input('1970-01-01', { cookieHeader })))).toBe('ok');
    }
  });

  it('a refusal at the 13+ gate also locks the 18+ gate; a refusal at 18+ does not lock 13+', () => {
    const { gate: survey } = compile(OPENINFRA, 'any-collection');
    const { gate: registration } = compile(OPENINFRA, 'registration');

    const child = survey.check(input('2015-01-01'));
    const childCookie = cookieFrom(child.ok ? undefined : child.setCookie);
    expect(summary(registration.check(input('1970-01-01', { cookieHeader: childCookie })))).toBe('locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED');

    const teen = registration.check(input('2010-01-01'));
    const teenCookie = cookieFrom(teen.ok ? undefined : teen.setCookie);
    expect(summary(survey.check(input('2010-01-01', { cookieHeader: teenCookie })))).toBe('ok');
  });

  it('keeps an earlier lock for another gate when a new refusal sets the cookie', () => {
    const { gate: survey } = compile(OPENINFRA, 'any-collection');
    const { gate: registration } = compile(OPENINFRA, 'registration');
    const teen = registration.check(input('2010-01-01'));
    const teenCookie = cookieFrom(teen.ok ? undefined : teen.setCookie);
    const child = survey.check(input('2015-01-01', { cookieHeader: teenCookie }));
    const both = cookieFrom(child.ok ? undefined : child.setCookie);
    expect(summary(registration.check(input('1970-01-01', { cookieHeader: both })))).toBe('locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(summary(survey.check(input('1970-01-01', { cookieHeader: both })))).toBe('locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
  });

  it('does not let a gate that can demand more than 18 somewhere lock an 18+ gate', () => {
    const policy = policyWith('p', [gate('strict-somewhere', { minimumAge: 13, countries: { XX: 21 } }), gate('registration', { minimumAge: 18 })]);
    const refused = compile(policy, 'strict-somewhere').gate.check(input('2006-01-01', { country: 'XX' })); // 20
    const cookieHeader = cookieFrom(refused.ok ? undefined : refused.setCookie);
    expect(summary(compile(policy, 'registration').gate.check(input('2006-01-01', { cookieHeader })))).toBe('ok');
  });

  it('sets no cookie when the policy’s lockout is zero', () => {
    const policy = policyWith('p', [gate('g', { minimumAge: 13, lockoutSeconds: 0 })]);
    const outcome = compile(policy, 'g').gate.check(input('2020-01-01'));
    expect(summary(outcome)).toBe('refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(outcome.ok === false && outcome.setCookie).toBeUndefined();
  });

  it('uses the Secure attribute by default and the configured cookie name', () => {
    const outcome = compileAgeGate(BITNAMI, 'general', { secret: SECRET, cookieName: 'age_lock', now: clock(NOW).now }).check(input('2020-01-01'));
    expect(outcome.ok === false && outcome.setCookie).toMatch(/^age_lock=.*; HttpOnly; SameSite=Lax; Secure$/);
  });
});

describe('compileAgeGate: bad dates are a 400 and set no lockout', () => {
  const { gate: g } = compile(BITNAMI, 'general');
  const cases: Array<[string, unknown, ErrorCode]> = [
    ['missing', undefined, 'PURPOSEKIT_ERR_DOB_MISSING'],
    ['null', null, 'PURPOSEKIT_ERR_DOB_MISSING'],
    ['empty', '', 'PURPOSEKIT_ERR_DOB_MISSING'],
    ['malformed', '22/11/2010', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['a number', 20100101, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['an object', { year: 2010 }, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['impossible', '2023-02-30', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['future', '2026-11-23', 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['implausible', '1890-01-01', 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE'],
  ];
  it.each(cases)('%s → %s', (_name, dob, code) => {
    const outcome = g.check(input(dob));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe(code);
    expect(outcome.error.status).toBe(400);
    expect(outcome.error.details).toEqual({ gate: 'general', field: 'dateOfBirth' });
    expect(outcome.setCookie).toBeUndefined();
    expect(outcome.audit).toEqual({ gate: 'general', outcome: 'invalid-dob' });
    if (typeof dob === 'string' && dob.length > 0) expect(JSON.stringify(outcome)).not.toContain(dob);
  });

  const bodies: Array<[string, unknown]> = [
    ['no body', undefined],
    ['null body', null],
    ['a string body', '2000-01-01'],
    ['an array body', ['2000-01-01']],
    ['an inherited field', Object.create({ dateOfBirth: '2000-01-01' })],
    ['another field', { dob: '2000-01-01' }],
  ];
  it.each(bodies)('%s → PURPOSEKIT_ERR_DOB_MISSING', (_name, body) => {
    expect(summary(g.check({ body, cookieHeader: undefined }))).toBe('invalid-dob:PURPOSEKIT_ERR_DOB_MISSING');
  });

  it('reads the configured field', () => {
    const { gate: custom } = compile(BITNAMI, 'general', { field: 'dob' });
    expect(summary(custom.check({ body: { dob: '2000-01-01', dateOfBirth: '2020-01-01' }, cookieHeader: undefined }))).toBe('ok');
    const missing = custom.check({ body: { dateOfBirth: '2000-01-01' }, cookieHeader: undefined });
    expect(missing.ok === false && missing.error.details).toEqual({ gate: 'general', field: 'dob' });
  });
});

describe('compileAgeGate: a verified claim wins over the body', () => {
  interface Req {
    user?: { age?: unknown; dob?: unknown };
  }
  const age = (request: Req) => request.user?.age as number | undefined;
  const dob = (request: Req) => request.user?.dob as string | undefined;

  const cases: Array<[string, Partial<AgeGateOptions<Req>>, Req, unknown, string]> = [
    ['verified adult age, child date in the body', { verifiedAge: age }, { user: { age: 30 } }, '2020-01-01', 'ok'],
    ['verified child age, adult date in the body', { verifiedAge: age }, { user: { age: 12 } }, '1980-01-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['verified age 12.9 is 12', { verifiedAge: age }, { user: { age: 12.9 } }, '1980-01-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['verified age exactly 13', { verifiedAge: age }, { user: { age: 13 } }, undefined, 'ok'],
    ['no verified age: the body decides', { verifiedAge: age }, {}, '2020-01-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['no verified age and no body date', { verifiedAge: age }, {}, undefined, 'invalid-dob:PURPOSEKIT_ERR_DOB_MISSING'],
    ['verified adult date, child date in the body', { verifiedDateOfBirth: dob }, { user: { dob: '1990-01-01' } }, '2020-01-01', 'ok'],
    ['verified child date, adult date in the body', { verifiedDateOfBirth: dob }, { user: { dob: '2015-01-01' } }, '1980-01-01', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
    ['verified PlainDate', { verifiedDateOfBirth: () => ({ year: 1990, month: 1, day: 1 }) }, {}, '2020-01-01', 'ok'],
    ['no verified date: the body decides', { verifiedDateOfBirth: dob }, {}, '1980-01-01', 'ok'],
  ];
  it.each(cases)('%s → %s', (_name, options, request, bodyDob, expected) => {
    const { gate: g } = compile<Req>(BITNAMI, 'general', options);
    expect(summary(g.check({ ...input(bodyDob), request } as AgeGateCheckInput<Req>))).toBe(expected);
  });

  const broken: Array<[string, Partial<AgeGateOptions<Req>>, Req]> = [
    ['a negative age', { verifiedAge: age }, { user: { age: -1 } }],
    ['NaN', { verifiedAge: age }, { user: { age: Number.NaN } }],
    ['Infinity', { verifiedAge: age }, { user: { age: Number.POSITIVE_INFINITY } }],
    ['a string age', { verifiedAge: age }, { user: { age: '30' } }],
    ['an impossible date', { verifiedDateOfBirth: dob }, { user: { dob: '2020-13-01' } }],
    ['a future date', { verifiedDateOfBirth: dob }, { user: { dob: '2030-01-01' } }],
    ['a number for a date', { verifiedDateOfBirth: dob }, { user: { dob: 19900101 } }],
  ];
  it.each(broken)('an extractor returning %s is a programming error: PURPOSEKIT_ERR_INTERNAL', (_name, options, request) => {
    const { gate: g } = compile<Req>(BITNAMI, 'general', options);
    expect(codeOf(() => g.check({ ...input('1980-01-01'), request } as AgeGateCheckInput<Req>))).toBe('PURPOSEKIT_ERR_INTERNAL');
  });

  it('passes the request to the extractor, and still honours a lockout first', () => {
    const seen: unknown[] = [];
    const { gate: g } = compile<Req>(BITNAMI, 'general', {
      verifiedAge: (request) => {
        seen.push(request);
        return request.user?.age as number | undefined;
      },
    });
    const request: Req = { user: { age: 10 } };
    const refused = g.check({ body: undefined, cookieHeader: undefined, request });
    expect(seen).toEqual([request]);
    const cookieHeader = cookieFrom(refused.ok ? undefined : refused.setCookie);
    expect(summary(g.check({ body: undefined, cookieHeader, request: { user: { age: 40 } } }))).toBe('locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(seen).toHaveLength(1);
  });
});

describe('compileAgeGate: country, basis, zone and leap day', () => {
  it('raises a consent gate to the subject’s Art. 8 age', () => {
    const { gate: g } = compile(EU_NEWSLETTER, 'newsletter');
    const fourteen = '2012-01-01';
    const cases: Array<[string | undefined, AgeGateCheckInput['basis'], string]> = [
      ['DE', 'consent', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
      ['DE', 'contract', 'ok'],
      ['BE', 'consent', 'ok'],
      ['AT', 'consent', 'ok'],
      ['FR', 'consent', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'],
      [undefined, 'consent', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED'] /* unknown country: the GDPR default 16 */,
    ];
    for (const [country, basis, expected] of cases) {
      expect([country, basis, summary(g.check(input(fourteen, { country, basis })))]).toEqual([country, basis, expected]);
    }
  });

  it('decides "today" in the configured zone', () => {
    // 11:30Z on 22 November is 00:30 on 23 November in Auckland: a 23 November 2013 birth is 13 there.
    const at = '2026-11-22T11:30:00Z';
    expect(summary(compile(BITNAMI, 'general', {}, at).gate.check(input('2013-11-23')))).toBe('refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(summary(compile(BITNAMI, 'general', { timeZone: 'Pacific/Auckland' }, at).gate.check(input('2013-11-23')))).toBe('ok');
    // In Auckland a 23 November 2026 birth is today, not in the future.
    expect(summary(compile(BITNAMI, 'general', {}, at).gate.check(input('2026-11-23')))).toBe('invalid-dob:PURPOSEKIT_ERR_DOB_FUTURE');
  });

  it('applies the gate’s leap-day rule', () => {
    const at = '2025-02-28T12:00:00Z'; // 13th birthday of a 29 February 2012 birth, in a non-leap year
    const march = policyWith('p', [gate('g', { minimumAge: 13 })]);
    const february = policyWith('p', [gate('g', { minimumAge: 13, leapDay: 'feb-28' })]);
    expect(summary(compile(march, 'g', {}, at).gate.check(input('2012-02-29')))).toBe('refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    expect(summary(compile(february, 'g', {}, at).gate.check(input('2012-02-29')))).toBe('ok');
  });
});

describe('compileAgeGate: configuration errors at compile time', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['unknown gate', () => compileAgeGate(OPENINFRA, 'registraton', { secret: SECRET }), 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE'],
    ['inherited name as a gate', () => compileAgeGate(OPENINFRA, 'toString', { secret: SECRET }), 'PURPOSEKIT_ERR_UNKNOWN_AGE_GATE'],
    ['no secret', () => compileAgeGate(OPENINFRA, 'registration', {} as AgeGateOptions), 'PURPOSEKIT_ERR_INVALID_KEY'],
    ['short secret', () => compileAgeGate(OPENINFRA, 'registration', { secret: 'short' }), 'PURPOSEKIT_ERR_INVALID_KEY'],
    ['unknown option', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, feild: 'dob' } as AgeGateOptions), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['options not an object', () => compileAgeGate(OPENINFRA, 'registration', 'secret' as unknown as AgeGateOptions), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['both extractors', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, verifiedAge: () => 1, verifiedDateOfBirth: () => undefined }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['extractor not a function', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, verifiedAge: 30 as unknown as () => number }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['field __proto__', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, field: '__proto__' }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['empty field', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, field: '' }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['unknown zone', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, timeZone: 'Europe/Atlantis' }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['bad cookie name', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, cookieName: 'a b' }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['secureCookie not a boolean', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, secureCookie: 'no' as unknown as boolean }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['now not a function', () => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, now: new Date() as unknown as () => Date }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['unusable gate values', () => compileAgeGate(policyWith('p', [gate('g', { minimumAge: 13.5 })]), 'g', { secret: SECRET }), 'PURPOSEKIT_ERR_POLICY_INVALID'],
    ['gate name too long for the cookie', () => compileAgeGate(policyWith('p', [gate('g'.repeat(97), { minimumAge: 13 })]), 'g'.repeat(97), { secret: SECRET }), 'PURPOSEKIT_ERR_POLICY_INVALID'],
  ];
  it.each(cases)('%s → %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('suggests the gate and the option meant', () => {
    expect(messageOf(() => compileAgeGate(OPENINFRA, 'registraton', { secret: SECRET }))).toContain('Did you mean "registration"?');
    expect(messageOf(() => compileAgeGate(OPENINFRA, 'registration', { secret: SECRET, feild: 'dob' } as AgeGateOptions))).toContain('Did you mean "field"?');
  });

  it('resolves defaults into frozen options and leaves the caller’s object alone', () => {
    const options: AgeGateOptions = { secret: SECRET };
    const compiled = compileAgeGate(OPENINFRA, 'registration', options);
    expect(options).toEqual({ secret: SECRET });
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(Object.isFrozen(compiled.options)).toBe(true);
    const { now, ...rest } = compiled.options;
    expect(typeof now).toBe('function');
    expect(rest).toEqual({ field: 'dateOfBirth', verifiedAge: undefined, verifiedDateOfBirth: undefined, cookieName: 'pk_age_lock', secureCookie: true, timeZone: 'UTC' });
    expect(JSON.stringify(compiled.options)).not.toContain(SECRET);
  });
});

describe('compileAgeGate: check never throws for request data (fast-check, fixed seed)', () => {
  const { gate: g } = compile(OPENINFRA, 'registration');
  const allowed = new Set(['ok', 'refused:PURPOSEKIT_ERR_AGE_GATE_REFUSED', 'locked-out:PURPOSEKIT_ERR_AGE_GATE_REFUSED']);
  it('answers every body, cookie header, country and basis with an outcome', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), fc.record({ dateOfBirth: fc.oneof(fc.string({ maxLength: 12 }), fc.anything()) })),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
        fc.constantFrom<AgeGateCheckInput['basis']>(undefined, 'consent', 'contract'),
        (body, cookieHeader, country, basis) => {
          const outcome = g.check({ body, cookieHeader, country, basis });
          const s = summary(outcome);
          expect(allowed.has(s) || /^invalid-dob:PURPOSEKIT_ERR_DOB_[A-Z]+$/.test(s)).toBe(true);
        },
      ),
      { seed: 404, numRuns: 1500 },
    );
  });
});

describe('compileAgeGate: the policy states the time zone', () => {
  it('uses the gate\'s timeZone over the engine option to decide "today"', () => {
    // 2026-06-14T13:00Z is already 15 June in Auckland (UTC+12), still 14 June in UTC.
    const { definePolicy } = require('../policy/define-policy') as typeof import('../policy/define-policy');
    const make = (timeZone?: string) =>
      definePolicy({ id: 'tz', version: '1', jurisdictions: ['US'], purposes: { 'service.registration': { basis: 'contract', data: ['name'], ageGate: 'g' } }, ageGates: { g: { minimumAge: 18, ...(timeZone ? { timeZone } : {}) } } });
    const at = () => new Date('2026-06-14T13:00:00Z');
    const body = { dateOfBirth: '2008-06-15' }; // 18 on 15 June
    const nz = compileAgeGate(make('Pacific/Auckland'), 'g', { secret: 'k'.repeat(32), timeZone: 'UTC', now: at });
    const utc = compileAgeGate(make(), 'g', { secret: 'k'.repeat(32), timeZone: 'UTC', now: at });
    expect(nz.check({ body, cookieHeader: undefined }).ok).toBe(true);
    expect(utc.check({ body, cookieHeader: undefined }).ok).toBe(false);
  });
});
