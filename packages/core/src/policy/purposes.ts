/**
 * Policy section `purposes`: one rule per purpose (basis, data, consent, retention,
 * recipients, transfers, rights). Cross-references (age gates, recipients, categories)
 * are checked here, every problem reported with its path.
 * @internal
 */
import { CONSENT_TYPES, LEGAL_BASES, PURPOSES, RIGHTS } from '../vocabulary';
import type { ConsentType, LegalBasis } from '../vocabulary';
import { COUNTRY, FrozenSet, join } from './checker';
import type { Checker } from './checker';
import { RECIPIENT_ROLES, resolveRecipient, stringList } from './sections';
import { didYouMean, show } from './suggest';
import type {
  Policy,
  ResolvedAgeGate,
  ResolvedPurposeRule,
  ResolvedRecipient,
  ResolvedRetention,
  ResolvedRightRule,
  ResolvedTransfer,
  TransferMechanism,
} from './types';

/** Purposes a `Sec-GPC: 1` signal opts out of unless the policy says otherwise. */
export const GPC_DEFAULT_PURPOSES: ReadonlySet<string> = new Set([
  'sell-to-third-parties',
  'advertising',
  'targeted-advertising',
  'marketing.email',
]);

/** Retention words that never expire by themselves (a person decides, or the law). */
export const RETENTION_WORDS: ReadonlySet<string> = new Set(['as-long-as-necessary', 'as-required-by-law', 'indefinite']);
const TERMS_VERSION = /^[A-Za-z0-9._-]{1,64}$/;
const HOLD = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const PURPOSE_KEYS = [
  'basis', 'data', 'retention', 'consentType', 'termsVersion', 'gpc', 'objection', 'ageGate', 'recipients', 'transfers',
  'sources', 'subjects', 'rights', 'survivesErasure', 'description', 'source',
] as const;
const SOURCES = ['data-subject', 'automatic', 'third-party', 'public'] as const;
const CLOCKS = ['collection', 'last-activity', 'contract-end', 'subscription-end', 'withdrawal'] as const;
const ON_EXPIRY = ['erase', 'anonymise', 'review'] as const;
const MECHANISMS: readonly TransferMechanism[] = ['adequacy', 'eu-us-dpf', 'scc', 'bcr', 'derogation-consent', 'derogation-contract'];

/**
 * Where personal data may go from the EU without a Chapter V mechanism: the EEA and the
 * countries with a Commission adequacy decision (Art. 45), as of 2026. The United States
 * is not here: only organisations certified under the EU-U.S. Data Privacy Framework are
 * covered (mechanism `eu-us-dpf`).
 */
export const ADEQUATE_COUNTRIES: ReadonlySet<string> = new Set([
  // EU
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  // rest of the EEA
  'IS', 'LI', 'NO',
  // Art. 45 adequacy decisions
  'AD', 'AR', 'CA', 'FO', 'GG', 'IL', 'IM', 'JP', 'JE', 'NZ', 'KR', 'CH', 'GB', 'UY',
]);

/** What purposes refer to, resolved before them. */
export interface PurposeScope {
  readonly eu: boolean;
  readonly categories: ReadonlySet<string>;
  readonly customPurposes: ReadonlyMap<string, { description: string; iri: string | undefined }>;
  readonly ageGates: Readonly<Record<string, ResolvedAgeGate>>;
  /** Declared recipients; inline and back-compat names are added here. */
  readonly recipients: Map<string, ResolvedRecipient>;
  readonly rights: Policy['rights'];
}

/** Resolves `purposes`. */
export function resolvePurposes(c: Checker, raw: unknown, scope: PurposeScope): Record<string, ResolvedPurposeRule> {
  const known = new Set<string>([...Object.keys(PURPOSES), ...scope.customPurposes.keys()]);
  const purposes: Record<string, ResolvedPurposeRule> = Object.create(null) as Record<string, ResolvedPurposeRule>;
  if (!c.object(raw, 'purposes')) return purposes;
  const entries = Object.entries(raw);
  if (entries.length === 0) c.error('purposes', 'required', 'must declare at least one purpose.');
  for (const [pid, rule] of entries) {
    const path = join('purposes', pid);
    if (!known.has(pid)) {
      c.error(path, 'unknown-purpose', `"${pid}" is not a built-in purpose and not in customPurposes.${didYouMean(pid, known)}`, 'Declare it under customPurposes with a description to add it.');
      continue;
    }
    if (!c.object(rule, path)) continue;
    const resolved = resolvePurpose(c, pid, rule, path, scope);
    if (resolved !== undefined) purposes[pid] = resolved;
  }
  return purposes;
}

function resolvePurpose(c: Checker, pid: string, rule: Record<string, unknown>, path: string, scope: PurposeScope): ResolvedPurposeRule | undefined {
  c.knownKeys(rule, path, PURPOSE_KEYS);
  if (rule['basis'] === undefined) c.error(join(path, 'basis'), 'required', 'is required: every purpose needs a GDPR Art. 6(1) legal basis.', `Use one of: ${Object.keys(LEGAL_BASES).join(', ')}.`);
  const basis = c.oneOf(rule['basis'], join(path, 'basis'), Object.keys(LEGAL_BASES) as LegalBasis[], 'legal basis');
  const data = new Set<string>();
  if (!Array.isArray(rule['data']) || rule['data'].length === 0) {
    c.error(join(path, 'data'), 'no-data', `must allow at least one data category, got ${show(rule['data'])}.`, 'A purpose that touches no personal data needs no rule: remove it, or list its categories.');
  } else {
    rule['data'].forEach((cat, i) => {
      const p = `${join(path, 'data')}[${i}]`;
      if (typeof cat !== 'string' || !scope.categories.has(cat)) {
        c.error(p, 'unknown-category', `${show(cat)} is not a known data category.${typeof cat === 'string' ? didYouMean(cat, scope.categories) : ''}`, 'Declare it under customCategories to add it.');
      } else data.add(cat);
    });
  }
  const retentionRule = resolveRetention(c, rule['retention'], join(path, 'retention'));
  let consentType = c.oneOf(rule['consentType'], join(path, 'consentType'), CONSENT_TYPES, 'consent type') as ConsentType | undefined;
  if (consentType !== undefined && basis !== undefined && basis !== 'consent') {
    c.error(join(path, 'consentType'), 'consent-type-without-consent', `applies only to basis "consent", but the basis is "${basis}".`);
  }
  if (basis === 'consent') {
    consentType ??= 'explicit';
    if (consentType === 'implied' && scope.eu) {
      c.warn(join(path, 'consentType'), 'implied-consent-eu', 'implied consent is the basis under an EU/UK policy; GDPR consent must be a clear affirmative act (Art. 4(11), Recital 32).', 'Use explicit consent, or another legal basis.');
    }
  }
  const termsVersion = c.string(rule['termsVersion'], join(path, 'termsVersion'), false);
  if (termsVersion !== undefined && !TERMS_VERSION.test(termsVersion)) {
    c.error(join(path, 'termsVersion'), 'format', `${show(termsVersion)} must be 1–64 letters, digits, ".", "_" or "-".`, 'E.g. v2 or 2024-06.');
  }
  if (termsVersion !== undefined && basis !== undefined && basis !== 'consent') {
    c.error(join(path, 'termsVersion'), 'terms-version-without-consent', `applies only to basis "consent" (it decides when consent must be renewed), but the basis is "${basis}".`);
  }
  const ageGate = c.string(rule['ageGate'], join(path, 'ageGate'), false);
  if (ageGate !== undefined && !(ageGate in scope.ageGates)) {
    c.error(join(path, 'ageGate'), 'unknown-age-gate', `names the age gate "${ageGate}", which is not in ageGates.${didYouMean(ageGate, Object.keys(scope.ageGates))}`);
  }
  const recipients = resolvePurposeRecipients(c, rule['recipients'], join(path, 'recipients'), scope);
  const transfers = resolveTransfers(c, rule['transfers'], join(path, 'transfers'), recipients, scope);
  const sources = stringList(c, rule['sources'], join(path, 'sources'));
  sources.forEach((s, i) => c.oneOf(s, `${join(path, 'sources')}[${i}]`, SOURCES, 'data source'));
  const subjects = stringList(c, rule['subjects'], join(path, 'subjects'));
  const survivesErasure = c.boolean(rule['survivesErasure'], join(path, 'survivesErasure')) ?? false;
  const explicitObjection = c.boolean(rule['objection'], join(path, 'objection'));
  const rightsInput = rule['rights'];
  const objectionInput = rightsInput !== undefined && typeof rightsInput === 'object' && rightsInput !== null ? (rightsInput as Record<string, unknown>)['objection'] : undefined;
  const objection =
    explicitObjection ??
    (objectionInput === false ? false : objectionInput !== undefined ? true : undefined) ??
    (basis === 'legitimate-interests' || basis === 'public-task' || pid === 'marketing.email');
  const rights = resolvePurposeRights(c, rightsInput, join(path, 'rights'), scope, objection);
  if (survivesErasure && rights['erasure']!.applies && rights['erasure']!.exceptions.length === 0) {
    c.warn(join(path, 'survivesErasure'), 'survives-erasure-without-exception', 'processing continues after erasure, but the purpose states no erasure exception saying why.', 'Add rights.erasure.exceptions with the sentence of the source policy that justifies keeping the data.');
  }
  if (basis === undefined) return undefined;
  const builtIn = Object.hasOwn(PURPOSES, pid) ? (PURPOSES as Record<string, { iri: string }>)[pid] : undefined;
  return Object.freeze({
    id: pid,
    iri: builtIn?.iri ?? scope.customPurposes.get(pid)?.iri,
    basis,
    data: new FrozenSet(data),
    retention: retentionRule?.duration,
    retentionRule,
    consentType,
    termsVersion: basis === 'consent' ? termsVersion : undefined,
    gpc: c.boolean(rule['gpc'], join(path, 'gpc')) ?? GPC_DEFAULT_PURPOSES.has(pid),
    objection,
    ageGate,
    recipients: new FrozenSet(recipients),
    sources: Object.freeze(sources),
    subjects: Object.freeze(subjects),
    transfers: Object.freeze(transfers),
    rights,
    survivesErasure,
    description: c.string(rule['description'], join(path, 'description'), false),
    source: c.string(rule['source'], join(path, 'source'), false),
  });
}

function resolveRetention(c: Checker, raw: unknown, path: string): ResolvedRetention | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'string' || typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const duration = c.duration(raw, path, RETENTION_WORDS);
    return duration === undefined ? undefined : Object.freeze({ duration, from: 'collection', onExpiry: 'erase', holds: Object.freeze([]), source: undefined });
  }
  const r = raw as Record<string, unknown>;
  c.knownKeys(r, path, ['duration', 'from', 'onExpiry', 'holds', 'source']);
  if (r['duration'] === undefined) c.error(join(path, 'duration'), 'required', 'is required.', 'An ISO 8601 duration such as P30D, or as-long-as-necessary / as-required-by-law.');
  const duration = c.duration(r['duration'], join(path, 'duration'), RETENTION_WORDS);
  const from = c.oneOf(r['from'], join(path, 'from'), CLOCKS, 'retention clock') ?? 'collection';
  const onExpiry = c.oneOf(r['onExpiry'], join(path, 'onExpiry'), ON_EXPIRY, 'expiry action') ?? 'erase';
  const holds = stringList(c, r['holds'], join(path, 'holds'));
  holds.forEach((h, i) => {
    if (!HOLD.test(h)) c.error(`${join(path, 'holds')}[${i}]`, 'format', `${show(h)} must be lower-case letters, digits, ".", "_" or "-" (e.g. litigation).`);
  });
  if (duration === undefined) return undefined;
  return Object.freeze({ duration, from, onExpiry, holds: Object.freeze(holds), source: c.string(r['source'], join(path, 'source'), false) });
}

function resolvePurposeRecipients(c: Checker, raw: unknown, path: string, scope: PurposeScope): Set<string> {
  const names = new Set<string>();
  if (raw === undefined) return names;
  if (!Array.isArray(raw)) {
    c.error(path, 'type', `must be a list of recipient names or declarations, got ${show(raw)}.`);
    return names;
  }
  raw.forEach((r, i) => {
    const p = `${path}[${i}]`;
    if (typeof r === 'object' && r !== null && !Array.isArray(r)) {
      const ref = c.string((r as Record<string, unknown>)['name'], join(p, 'name'), true);
      if (ref === undefined) return;
      const resolved = resolveRecipient(c, r, p, ref);
      if (resolved === undefined) return;
      const existing = scope.recipients.get(ref);
      if (existing !== undefined && !sameRecipient(existing, resolved)) {
        c.error(p, 'recipient-conflict', `declares "${ref}" differently from another declaration of the same name.`, 'Declare it once under the top-level recipients and refer to it by name.');
      } else scope.recipients.set(ref, resolved);
      names.add(ref);
      return;
    }
    const v = c.string(r, p, true);
    if (v === undefined) return;
    if (!scope.recipients.has(v)) {
      if (v === 'public') scope.recipients.set(v, Object.freeze({ name: 'public', role: 'public', country: undefined, consentRequired: false, source: undefined }));
      else {
        // Back-compat: an undeclared name still allows the share, but the record of
        // processing cannot say who or where it is.
        const declared = [...scope.recipients.keys()];
        c.warn(p, 'undeclared-recipient', `"${v}" is not declared under recipients, so its role and country are unknown.${didYouMean(v, declared)}`, `Declare it: recipients: { ${JSON.stringify(v)}: { role: processor, country: US } } (roles: ${RECIPIENT_ROLES.join(', ')}).`);
        scope.recipients.set(v, Object.freeze({ name: v, role: 'unspecified', country: undefined, consentRequired: false, source: undefined }));
      }
    }
    names.add(v);
  });
  return names;
}

function sameRecipient(a: ResolvedRecipient, b: ResolvedRecipient): boolean {
  return a.name === b.name && a.role === b.role && a.country === b.country && a.consentRequired === b.consentRequired;
}

function resolveTransfers(c: Checker, raw: unknown, path: string, recipients: ReadonlySet<string>, scope: PurposeScope): ResolvedTransfer[] {
  const out: ResolvedTransfer[] = [];
  if (raw !== undefined && !Array.isArray(raw)) c.error(path, 'type', `must be a list of { to, country, mechanism }, got ${show(raw)}.`);
  else if (raw !== undefined) {
    raw.forEach((t, i) => {
      const p = `${path}[${i}]`;
      if (!c.object(t, p)) return;
      c.knownKeys(t, p, ['to', 'country', 'mechanism', 'source']);
      const to = c.string(t['to'], join(p, 'to'), true);
      if (to !== undefined && !recipients.has(to)) {
        c.error(join(p, 'to'), 'unknown-recipient', `"${to}" is not one of this purpose's recipients.${didYouMean(to, recipients)}`, 'List it under the purpose\'s recipients first.');
      }
      const country = c.string(t['country'], join(p, 'country'), true);
      if (country !== undefined && !COUNTRY.test(country)) c.error(join(p, 'country'), 'country', `${show(country)} is not an ISO 3166-1 alpha-2 code.`, 'Use upper-case two-letter codes such as US.');
      if (t['mechanism'] === undefined) c.error(join(p, 'mechanism'), 'required', 'is required.', `Use one of: ${MECHANISMS.join(', ')}.`);
      const mechanism = c.oneOf(t['mechanism'], join(p, 'mechanism'), MECHANISMS, 'transfer mechanism');
      const r = to === undefined ? undefined : scope.recipients.get(to);
      if (r?.country !== undefined && country !== undefined && r.country !== country) {
        c.error(join(p, 'country'), 'country-mismatch', `is ${country}, but the recipient "${to}" is declared in ${r.country}.`);
      }
      if (mechanism === 'adequacy' && country !== undefined && scope.eu && !ADEQUATE_COUNTRIES.has(country)) {
        c.error(join(p, 'mechanism'), 'not-adequate', `${country} has no EU adequacy decision (GDPR Art. 45).`, country === 'US' ? 'Use eu-us-dpf for a certified recipient, or scc.' : 'Use scc, bcr or a derogation.');
      }
      if (mechanism === 'eu-us-dpf' && country !== undefined && country !== 'US') {
        c.error(join(p, 'mechanism'), 'dpf-outside-us', `the EU-U.S. Data Privacy Framework covers transfers to the US only, not ${country}.`);
      }
      if (to !== undefined && country !== undefined && mechanism !== undefined) {
        out.push(Object.freeze({ to, country, mechanism, source: c.string(t['source'], join(p, 'source'), false) }));
      }
    });
  }
  if (scope.eu) {
    // Chapter V: data leaving the EEA to a country without adequacy needs a mechanism.
    [...recipients].forEach((name) => {
      const r = scope.recipients.get(name);
      if (r === undefined || r.role === 'public' || r.country === undefined || ADEQUATE_COUNTRIES.has(r.country)) return;
      if (!out.some((t) => t.to === name)) {
        c.error(path, 'transfer-mechanism-missing', `the recipient "${name}" is in ${r.country}, which has no EU adequacy decision, and the purpose names no transfer to it.`, `Add { to: ${JSON.stringify(name)}, country: ${r.country}, mechanism: scc | bcr | ${r.country === 'US' ? 'eu-us-dpf | ' : ''}derogation-consent | derogation-contract }.`);
      }
    });
  }
  return out;
}

function resolvePurposeRights(c: Checker, raw: unknown, path: string, scope: PurposeScope, objection: boolean): Readonly<Record<string, ResolvedRightRule>> {
  const input: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (raw !== undefined && c.object(raw, path)) {
    c.knownKeys(raw, path, RIGHTS);
    Object.assign(input, raw);
  }
  const out: Record<string, ResolvedRightRule> = Object.create(null) as Record<string, ResolvedRightRule>;
  for (const right of RIGHTS) {
    const v = input[right];
    const rp = join(path, right);
    const applies = scope.rights.honoured.has(right) && v !== false && (right !== 'objection' || objection);
    const exceptions: Array<{ reason: string; source: string }> = [];
    if (v !== undefined && v !== false) {
      if (c.object(v, rp)) {
        c.knownKeys(v, rp, ['exceptions']);
        const ex = v['exceptions'];
        if (ex !== undefined && !Array.isArray(ex)) c.error(join(rp, 'exceptions'), 'type', `must be a list of { reason, source }, got ${show(ex)}.`);
        else if (Array.isArray(ex)) ex.forEach((e, i) => {
          const ep = `${join(rp, 'exceptions')}[${i}]`;
          if (!c.object(e, ep)) return;
          c.knownKeys(e, ep, ['reason', 'source']);
          const reason = c.string(e['reason'], join(ep, 'reason'), true);
          const source = c.string(e['source'], join(ep, 'source'), true);
          if (reason !== undefined && source !== undefined) exceptions.push(Object.freeze({ reason, source }));
        });
      }
      if (!scope.rights.honoured.has(right)) {
        c.warn(rp, 'right-not-honoured', `the policy does not honour "${right}" (rights.honoured), so this rule has no effect.`);
      }
    }
    out[right] = Object.freeze({ applies, exceptions: Object.freeze(exceptions) });
  }
  return Object.freeze(out);
}
