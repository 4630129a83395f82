// Test fixtures for the age-gate tests: resolved policies shaped like the seeds' gates.
// Built by hand (the policy loader is another module's work); only the fields the age
// gate reads are meaningful.
import type { Policy, ResolvedAgeGate } from '../../policy/types';

export const SECRET = 'k'.repeat(32);
export const OTHER_SECRET = 'j'.repeat(32);

export function gate(name: string, fields: Partial<Omit<ResolvedAgeGate, 'name'>> & { minimumAge: number }): ResolvedAgeGate {
  return Object.freeze({
    name,
    countries: Object.freeze({}),
    gdprArticle8: false,
    lockoutSeconds: 86_400,
    leapDay: 'mar-1' as const,
    source: undefined,
    ...fields,
  });
}

export function policyWith(id: string, gates: readonly ResolvedAgeGate[]): Policy {
  const ageGates: Record<string, ResolvedAgeGate> = {};
  for (const g of gates) ageGates[g.name] = g;
  return { id, version: 'test', ageGates: Object.freeze(ageGates) } as unknown as Policy;
}

/** Bitnami: "directed to people who are at least 13 years old". */
export const BITNAMI = policyWith('bitnami', [gate('general', { minimumAge: 13 })]);

/** OpenInfra: 18 to register, nothing at all from under-13s. */
export const OPENINFRA = policyWith('openinfra', [gate('registration', { minimumAge: 18 }), gate('any-collection', { minimumAge: 13 })]);

/** A consent-based EU newsletter: COPPA 13, raised to the subject's Art. 8 age. */
export const EU_NEWSLETTER = policyWith('eu-newsletter', [gate('newsletter', { minimumAge: 13, gdprArticle8: true })]);

/** A mutable clock for compileAgeGate's `now` option. */
export function clock(iso: string): { now: () => Date; set(iso: string): void; advance(seconds: number): void } {
  let ms = Date.parse(iso);
  return {
    now: () => new Date(ms),
    set(next: string) {
      ms = Date.parse(next);
    },
    advance(seconds: number) {
      ms += seconds * 1000;
    },
  };
}

/** The name=value part of a Set-Cookie header value, as a browser sends it back. */
export function cookieFrom(setCookie: string | undefined): string {
  if (setCookie === undefined) throw new Error('expected a Set-Cookie value');
  const semi = setCookie.indexOf(';');
  return semi === -1 ? setCookie : setCookie.slice(0, semi);
}
