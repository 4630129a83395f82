import type { ResolvedAgeGate } from '../policy/types';
import type { LegalBasis } from '../vocabulary';
import { GDPR_ART8_AGES, GDPR_ART8_DEFAULT } from './gdpr-article-8';

/** Facts about the request that can raise a gate's minimum age. */
export interface MinimumAgeContext {
  /** The subject's country, ISO 3166-1 alpha-2 (case-insensitive; `UK` and `EL` are read as `GB` and `GR`). */
  country?: string | undefined;
  /** The legal basis of the purpose being served. */
  basis?: LegalBasis | undefined;
}

// Codes in common use that are not the ISO 3166-1 alpha-2 code of the same country:
// the UK's own "UK" (ISO: GB) and the EU's "EL" for Greece (ISO: GR).
const COUNTRY_ALIASES: Readonly<Record<string, string>> = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, { UK: 'GB', EL: 'GR' }));

/**
 * Normalises a country code to upper-case ISO 3166-1 alpha-2, or `undefined` when it is
 * not two ASCII letters (an unknown country raises nothing).
 */
export function normaliseCountry(country: string | undefined): string | undefined {
  if (typeof country !== 'string' || country.length !== 2) return undefined;
  const upper = country.toUpperCase();
  const a = upper.charCodeAt(0);
  const b = upper.charCodeAt(1);
  if (a < 65 || a > 90 || b < 65 || b > 90) return undefined;
  return COUNTRY_ALIASES[upper] ?? upper;
}

/**
 * The minimum age a gate demands for one request: the gate's `minimumAge`, raised to
 * its per-country minimum for `country`, and, when the gate has `gdprArticle8` and the
 * basis is `consent`, raised to that country's GDPR Art. 8 age ({@link GDPR_ART8_AGES}).
 * Never lower than the gate's `minimumAge`: a per-country entry below it has no effect.
 *
 * With `gdprArticle8` on and a consent basis, a missing or unrecognised country is
 * treated as the GDPR default ({@link GDPR_ART8_DEFAULT}, 16): not knowing where a child
 * lives must not lower the protection the gate opted into.
 *
 * Per-country keys in the policy are looked up in upper case.
 */
export function minimumAgeFor(gate: ResolvedAgeGate, context: MinimumAgeContext = {}): number {
  let minimum = gate.minimumAge;
  const country = normaliseCountry(context.country);
  if (country === undefined) {
    if (gate.gdprArticle8 && context.basis === 'consent' && GDPR_ART8_DEFAULT > minimum) minimum = GDPR_ART8_DEFAULT;
    return minimum;
  }
  const perCountry = Object.hasOwn(gate.countries, country) ? gate.countries[country] : undefined;
  if (perCountry !== undefined && perCountry > minimum) minimum = perCountry;
  if (gate.gdprArticle8 && context.basis === 'consent') {
    const art8 = GDPR_ART8_AGES[country];
    if (art8 !== undefined && art8 > minimum) minimum = art8;
  }
  return minimum;
}
