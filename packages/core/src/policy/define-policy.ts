/**
 * Policy validation: turns a {@link PolicyInput} (object, JSON or YAML) into a frozen
 * {@link Policy}, or throws one `PURPOSEKIT_ERR_POLICY_INVALID` listing EVERY problem with
 * its exact path, the bad value and the likely fix.
 *
 * Hand-written rather than built on a schema library: the checks are mostly
 * cross-references (a purpose's age gate must exist, a default purpose must be in use,
 * a category must be built in or declared) and every message needs a domain hint and a
 * "did you mean", which schema libraries leave to custom code anyway.
 */
import { PurposekitError } from '../errors';
import { CONSENT_TYPES, DATA_CATEGORIES, JURISDICTIONS, LEGAL_BASES, PURPOSES, RIGHTS } from '../vocabulary';
import type { ConsentType, Jurisdiction, LegalBasis } from '../vocabulary';
import { durationSeconds, parseDuration } from './duration';
import { pathJoin } from './json-duplicates';
import { didYouMean, show } from './suggest';
import type {
  Policy,
  PolicyInput,
  PolicyIssue,
  ResolvedAgeGate,
  ResolvedIpLog,
  ResolvedPurposeRule,
} from './types';

const POLICY_BRAND = Symbol.for('purposekit.policy');

/** Purposes a `Sec-GPC: 1` signal opts out of unless the policy says otherwise. */
export const GPC_DEFAULT_PURPOSES: ReadonlySet<string> = new Set([
  'sell-to-third-parties',
  'advertising',
  'targeted-advertising',
  'marketing.email',
]);

const RETENTION_WORDS = new Set(['as-long-as-necessary', 'as-required-by-law', 'indefinite']);
const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const COUNTRY = /^[A-Z]{2}$/;
const TERMS_VERSION = /^[A-Za-z0-9._-]{1,64}$/;

const TOP_KEYS = [
  'id', 'version', 'title', 'source', 'jurisdictions', 'defaultPurpose', 'purposes', 'customPurposes',
  'customCategories', 'ageGates', 'logs', 'audit', 'signals', 'rights',
] as const;
const PURPOSE_KEYS = [
  'basis', 'data', 'retention', 'consentType', 'termsVersion', 'gpc', 'objection', 'ageGate', 'recipients', 'description', 'source',
] as const;
const GATE_KEYS = ['minimumAge', 'countries', 'gdprArticle8', 'lockout', 'leapDay', 'timeZone', 'source'] as const;

/** A Set whose contents cannot change after construction. */
class FrozenSet<T> extends Set<T> {
  #sealed = false;
  constructor(values: Iterable<T>) {
    // The Set constructor would call the overridden add() before #sealed exists.
    super();
    for (const v of values) super.add(v);
    this.#sealed = true;
    Object.freeze(this);
  }
  override add(value: T): this {
    if (this.#sealed) throw new TypeError('A resolved policy is frozen.');
    return super.add(value);
  }
  override delete(): boolean {
    throw new TypeError('A resolved policy is frozen.');
  }
  override clear(): void {
    throw new TypeError('A resolved policy is frozen.');
  }
}

/** Options for {@link definePolicy}. */
export interface DefinePolicyOptions {
  /**
   * Receives each non-fatal finding. Default: `process.emitWarning` with code
   * `PURPOSEKIT_POLICY_WARNING`, so warnings show once in the service's stderr.
   */
  onWarning?: (issue: PolicyIssue) => void;
}

class Checker {
  readonly errors: PolicyIssue[] = [];
  readonly warnings: PolicyIssue[] = [];

  error(path: string, rule: string, message: string, hint?: string): void {
    this.errors.push(hint === undefined ? { path, rule, message } : { path, rule, message, hint });
  }
  warn(path: string, rule: string, message: string, hint?: string): void {
    this.warnings.push(hint === undefined ? { path, rule, message } : { path, rule, message, hint });
  }

  object(value: unknown, path: string): value is Record<string, unknown> {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    this.error(path, 'type', `must be an object, got ${show(value)}.`);
    return false;
  }

  knownKeys(value: Record<string, unknown>, path: string, keys: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        this.error(join(path, key), 'unknown-key', `is not a policy field.${didYouMean(key, keys)}`, `Allowed here: ${keys.join(', ')}.`);
      }
    }
  }

  string(value: unknown, path: string, required: boolean): string | undefined {
    if (value === undefined && !required) return undefined;
    if (typeof value === 'string' && value.length > 0) return value;
    const hint = typeof value === 'number' ? 'Quote it in YAML/JSON so it stays a string.' : undefined;
    this.error(path, 'type', `must be a non-empty string, got ${show(value)}.`, hint);
    return undefined;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'boolean') return value;
    this.error(path, 'type', `must be true or false, got ${show(value)}.`);
    return undefined;
  }

  integer(value: unknown, path: string, min: number, max: number, hint?: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    this.error(path, 'range', `must be a whole number from ${min} to ${max}, got ${show(value)}.`, hint);
    return undefined;
  }

  oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], what: string): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    const guess = typeof value === 'string' ? didYouMean(value, allowed) : '';
    this.error(path, `unknown-${what.replace(/ /g, '-')}`, `${show(value)} is not a known ${what}.${guess}`, `Use one of: ${allowed.join(', ')}.`);
    return undefined;
  }

  duration(value: unknown, path: string, words?: ReadonlySet<string>): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (parseDuration(value) !== undefined || words?.has(value))) return value;
    const extra = words ? ` or one of ${[...words].join(', ')}` : '';
    this.error(path, 'duration', `${show(value)} is not an ISO 8601 duration${extra}.`, 'Examples: P30D (30 days), P1M (one month), P5Y (five years).');
    return undefined;
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function join(path: string, key: string): string {
  return pathJoin(path, key);
}

/** True when `value` is a policy produced by {@link definePolicy} or `loadPolicy`. */
export function isPolicy(value: unknown): value is Policy {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[POLICY_BRAND] === true;
}

/**
 * Validates a policy and returns its frozen, resolved form.
 *
 * @throws PurposekitError `PURPOSEKIT_ERR_POLICY_INVALID` with `details.issues`: every
 *   problem found, each with its exact path (e.g. `purposes.analytics.basis`).
 */
export function definePolicy(input: PolicyInput | Policy, options: DefinePolicyOptions = {}): Policy {
  if (isPolicy(input)) return input;
  const c = new Checker();
  if (!c.object(input, '(policy)')) throw invalid(c.errors);
  const raw = input as unknown as Record<string, unknown>;
  c.knownKeys(raw, '', TOP_KEYS);

  const id = c.string(raw['id'], 'id', true);
  if (id !== undefined && !ID.test(id)) {
    c.error('id', 'format', `${show(id)} must be lower-case letters, digits, ".", "_" or "-" (at most 64).`);
  }
  const version = c.string(raw['version'], 'version', true);
  const title = c.string(raw['title'], 'title', false);
  const source = c.string(raw['source'], 'source', false);

  const jurisdictions: Jurisdiction[] = [];
  if (!Array.isArray(raw['jurisdictions']) || raw['jurisdictions'].length === 0) {
    c.error('jurisdictions', 'required', `must list at least one jurisdiction, got ${show(raw['jurisdictions'])}.`, `Use some of: ${JURISDICTIONS.join(', ')}.`);
  } else {
    raw['jurisdictions'].forEach((j, i) => {
      const v = c.oneOf(j, `jurisdictions[${i}]`, JURISDICTIONS, 'jurisdiction');
      if (v !== undefined) jurisdictions.push(v);
    });
  }
  const eu = jurisdictions.includes('EU') || jurisdictions.includes('UK');

  // Custom vocabulary first: purposes and categories refer to it.
  const customPurposes = new Map<string, { description: string; iri: string | undefined }>();
  if (raw['customPurposes'] !== undefined && c.object(raw['customPurposes'], 'customPurposes')) {
    for (const [key, def] of Object.entries(raw['customPurposes'])) {
      const path = join('customPurposes', key);
      if (Object.hasOwn(PURPOSES, key)) {
        c.error(path, 'redefines-built-in', `redefines the built-in purpose "${key}".`, 'Built-in meanings cannot change; pick another id.');
        continue;
      }
      if (!ID.test(key)) c.error(path, 'format', 'must be lower-case letters, digits, ".", "_" or "-".');
      if (!c.object(def, path)) continue;
      c.knownKeys(def, path, ['description', 'iri']);
      const description = c.string(def['description'], join(path, 'description'), true);
      const iri = c.string(def['iri'], join(path, 'iri'), false);
      if (description !== undefined) customPurposes.set(key, { description, iri });
    }
  }
  const categories = new Set<string>(Object.keys(DATA_CATEGORIES));
  if (raw['customCategories'] !== undefined && c.object(raw['customCategories'], 'customCategories')) {
    for (const [key, description] of Object.entries(raw['customCategories'])) {
      const path = join('customCategories', key);
      if (Object.hasOwn(DATA_CATEGORIES, key)) {
        c.error(path, 'redefines-built-in', `redefines the built-in data category "${key}".`);
        continue;
      }
      if (!ID.test(key)) c.error(path, 'format', 'must be lower-case letters, digits, ".", "_" or "-".');
      if (c.string(description, path, true) !== undefined) categories.add(key);
    }
  }

  // Age gates before purposes, which refer to them.
  const ageGates: Record<string, ResolvedAgeGate> = Object.create(null) as Record<string, ResolvedAgeGate>;
  if (raw['ageGates'] !== undefined && c.object(raw['ageGates'], 'ageGates')) {
    for (const [name, gate] of Object.entries(raw['ageGates'])) {
      const path = join('ageGates', name);
      if (!ID.test(name)) c.error(path, 'format', 'gate names must be lower-case letters, digits, ".", "_" or "-".');
      if (!c.object(gate, path)) continue;
      c.knownKeys(gate, path, GATE_KEYS);
      if (gate['minimumAge'] === undefined) c.error(join(path, 'minimumAge'), 'required', 'is required.', 'E.g. 13 (COPPA), 16 (GDPR Art. 8 default) or 18.');
      const minimumAge = c.integer(gate['minimumAge'], join(path, 'minimumAge'), 0, 130);
      const countries: Record<string, number> = Object.create(null) as Record<string, number>;
      if (gate['countries'] !== undefined && c.object(gate['countries'], join(path, 'countries'))) {
        for (const [cc, age] of Object.entries(gate['countries'])) {
          const cpath = join(join(path, 'countries'), cc);
          if (!COUNTRY.test(cc)) c.error(cpath, 'country', `${show(cc)} is not an ISO 3166-1 alpha-2 code.`, 'Use upper-case two-letter codes such as DE, FR, GB.');
          const a = c.integer(age, cpath, 0, 130);
          if (a !== undefined && minimumAge !== undefined && a < minimumAge) {
            c.error(cpath, 'lowers-minimum', `${a} is below the gate's minimumAge ${minimumAge}; a country rule can only raise it.`);
          } else if (a !== undefined) countries[cc] = a;
        }
      }
      const lockout = c.duration(gate['lockout'], join(path, 'lockout')) ?? 'P1D';
      const leapDay = c.oneOf(gate['leapDay'], join(path, 'leapDay'), ['mar-1', 'feb-28'] as const, 'leap-day rule') ?? 'mar-1';
      const timeZone = c.string(gate['timeZone'], join(path, 'timeZone'), false);
      if (timeZone !== undefined && !isTimeZone(timeZone)) {
        c.error(join(path, 'timeZone'), 'time-zone', `${show(timeZone)} is not an IANA time zone.`, 'Examples: UTC, Europe/Berlin, America/Los_Angeles.');
      }
      if (minimumAge !== undefined) {
        ageGates[name] = Object.freeze({
          name,
          minimumAge,
          countries: Object.freeze(countries),
          gdprArticle8: c.boolean(gate['gdprArticle8'], join(path, 'gdprArticle8')) ?? false,
          lockoutSeconds: durationSeconds(parseDuration(lockout) ?? parseDuration('P1D')!),
          leapDay,
          timeZone,
          source: c.string(gate['source'], join(path, 'source'), false),
        });
      }
    }
  }

  const known = new Set<string>([...Object.keys(PURPOSES), ...customPurposes.keys()]);
  const purposes: Record<string, ResolvedPurposeRule> = Object.create(null) as Record<string, ResolvedPurposeRule>;
  if (c.object(raw['purposes'], 'purposes')) {
    const entries = Object.entries(raw['purposes']);
    if (entries.length === 0) c.error('purposes', 'required', 'must declare at least one purpose.');
    for (const [pid, rule] of entries) {
      const path = join('purposes', pid);
      if (!known.has(pid)) {
        c.error(path, 'unknown-purpose', `"${pid}" is not a built-in purpose and not in customPurposes.${didYouMean(pid, known)}`, 'Declare it under customPurposes with a description to add it.');
        continue;
      }
      if (!c.object(rule, path)) continue;
      c.knownKeys(rule, path, PURPOSE_KEYS);
      if (rule['basis'] === undefined) c.error(join(path, 'basis'), 'required', 'is required: every purpose needs a GDPR Art. 6(1) legal basis.', `Use one of: ${Object.keys(LEGAL_BASES).join(', ')}.`);
      const basis = c.oneOf(rule['basis'], join(path, 'basis'), Object.keys(LEGAL_BASES) as LegalBasis[], 'legal basis');
      const data = new Set<string>();
      if (!Array.isArray(rule['data']) || rule['data'].length === 0) {
        c.error(join(path, 'data'), 'no-data', `must allow at least one data category, got ${show(rule['data'])}.`, 'A purpose that touches no personal data needs no rule: remove it, or list its categories.');
      } else {
        rule['data'].forEach((cat, i) => {
          const p = `${join(path, 'data')}[${i}]`;
          if (typeof cat !== 'string' || !categories.has(cat)) {
            c.error(p, 'unknown-category', `${show(cat)} is not a known data category.${typeof cat === 'string' ? didYouMean(cat, categories) : ''}`, 'Declare it under customCategories to add it.');
          } else data.add(cat);
        });
      }
      const retention = c.duration(rule['retention'], join(path, 'retention'), RETENTION_WORDS);
      let consentType = c.oneOf(rule['consentType'], join(path, 'consentType'), CONSENT_TYPES, 'consent type') as ConsentType | undefined;
      if (consentType !== undefined && basis !== undefined && basis !== 'consent') {
        c.error(join(path, 'consentType'), 'consent-type-without-consent', `applies only to basis "consent", but the basis is "${basis}".`);
      }
      if (basis === 'consent') {
        consentType ??= 'explicit';
        if (consentType === 'implied' && eu) {
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
      if (ageGate !== undefined && !(ageGate in ageGates)) {
        c.error(join(path, 'ageGate'), 'unknown-age-gate', `names the age gate "${ageGate}", which is not in ageGates.${didYouMean(ageGate, Object.keys(ageGates))}`);
      }
      const recipients = new Set<string>();
      if (rule['recipients'] !== undefined) {
        if (!Array.isArray(rule['recipients'])) c.error(join(path, 'recipients'), 'type', `must be a list of recipient names, got ${show(rule['recipients'])}.`);
        else rule['recipients'].forEach((r, i) => {
          const v = c.string(r, `${join(path, 'recipients')}[${i}]`, true);
          if (v !== undefined) recipients.add(v);
        });
      }
      if (basis === undefined) continue;
      const builtIn = Object.hasOwn(PURPOSES, pid) ? (PURPOSES as Record<string, { iri: string }>)[pid] : undefined;
      purposes[pid] = Object.freeze({
        id: pid,
        iri: builtIn?.iri ?? customPurposes.get(pid)?.iri,
        basis,
        data: new FrozenSet(data),
        retention,
        consentType,
        termsVersion: basis === 'consent' ? termsVersion : undefined,
        gpc: c.boolean(rule['gpc'], join(path, 'gpc')) ?? GPC_DEFAULT_PURPOSES.has(pid),
        objection:
          c.boolean(rule['objection'], join(path, 'objection')) ??
          (basis === 'legitimate-interests' || basis === 'public-task' || pid === 'marketing.email'),
        ageGate,
        recipients: new FrozenSet(recipients),
        description: c.string(rule['description'], join(path, 'description'), false),
        source: c.string(rule['source'], join(path, 'source'), false),
      });
    }
  }

  const defaultPurpose = c.string(raw['defaultPurpose'], 'defaultPurpose', false);
  if (defaultPurpose !== undefined && raw['purposes'] !== undefined && !(defaultPurpose in purposes) && !c.errors.some((e) => e.path.startsWith(join('purposes', defaultPurpose)))) {
    c.error('defaultPurpose', 'unknown-purpose', `"${defaultPurpose}" is not one of the policy's purposes.${didYouMean(defaultPurpose, Object.keys(purposes))}`, 'Add it under purposes, or remove defaultPurpose to fail closed on undeclared routes.');
  }

  const ip = resolveIpLog(c, raw['logs']);

  let audit: Policy['audit'] = { durability: 'sync', checkpointEvery: 1000, checkpointIntervalMs: 5000 };
  if (raw['audit'] !== undefined && c.object(raw['audit'], 'audit')) {
    const a = raw['audit'];
    c.knownKeys(a, 'audit', ['durability', 'checkpointEvery', 'checkpointIntervalMs']);
    audit = {
      durability: c.oneOf(a['durability'], 'audit.durability', ['sync', 'batched', 'async'] as const, 'durability mode') ?? 'sync',
      checkpointEvery: c.integer(a['checkpointEvery'], 'audit.checkpointEvery', 1, 1_000_000) ?? 1000,
      checkpointIntervalMs: c.integer(a['checkpointIntervalMs'], 'audit.checkpointIntervalMs', 10, 86_400_000) ?? 5000,
    };
  }

  let signals: Policy['signals'] = { gpcVersusConsent: 'gpc', serveGpcJson: false };
  if (raw['signals'] !== undefined && c.object(raw['signals'], 'signals')) {
    const s = raw['signals'];
    c.knownKeys(s, 'signals', ['gpcVersusConsent', 'serveGpcJson']);
    signals = {
      gpcVersusConsent: c.oneOf(s['gpcVersusConsent'], 'signals.gpcVersusConsent', ['gpc', 'consent'] as const, 'GPC conflict rule') ?? 'gpc',
      serveGpcJson: c.boolean(s['serveGpcJson'], 'signals.serveGpcJson') ?? false,
    };
  }

  let rights: Policy['rights'] = { honoured: new FrozenSet<string>(RIGHTS), responseTime: 'P1M', keepErasureRecord: true };
  if (raw['rights'] !== undefined && c.object(raw['rights'], 'rights')) {
    const r = raw['rights'];
    c.knownKeys(r, 'rights', ['honoured', 'responseTime', 'keepErasureRecord']);
    const honoured = new Set<string>();
    if (r['honoured'] !== undefined) {
      if (!Array.isArray(r['honoured'])) c.error('rights.honoured', 'type', `must be a list of rights, got ${show(r['honoured'])}.`);
      else r['honoured'].forEach((h, i) => {
        const v = c.oneOf(h, `rights.honoured[${i}]`, RIGHTS, 'right');
        if (v !== undefined) honoured.add(v);
      });
    }
    const responseTime = c.duration(r['responseTime'], 'rights.responseTime') ?? 'P1M';
    if (eu && parseDuration(responseTime) !== undefined && durationSeconds(parseDuration(responseTime)!) > durationSeconds(parseDuration('P1M')!)) {
      c.warn('rights.responseTime', 'beyond-one-month', `${responseTime} is longer than the one month GDPR Art. 12(3) allows (extensions need notice to the person).`);
    }
    rights = {
      honoured: new FrozenSet(r['honoured'] === undefined ? RIGHTS : honoured),
      responseTime,
      keepErasureRecord: c.boolean(r['keepErasureRecord'], 'rights.keepErasureRecord') ?? true,
    };
  }

  if (rights.honoured.size > 0 && raw['purposes'] !== undefined && !('rights-fulfilment' in purposes) && !c.errors.some((e) => e.path.startsWith('purposes'))) {
    c.warn('purposes', 'rights-without-basis', 'the policy honours data-subject rights but has no "rights-fulfilment" purpose, so answering them is recorded with no legal basis.', 'Add purposes["rights-fulfilment"] (usually basis legal-obligation) with the data a request touches.');
  }

  if (c.errors.length > 0) throw invalid(c.errors);

  const policy: Policy = Object.freeze({
    id: id!,
    version: version!,
    title,
    source,
    jurisdictions: Object.freeze(jurisdictions),
    defaultPurpose,
    purposes: Object.freeze(purposes),
    categories: new FrozenSet(categories),
    ageGates: Object.freeze(ageGates),
    logs: Object.freeze({ ip }),
    audit: Object.freeze(audit),
    signals: Object.freeze(signals),
    rights: Object.freeze(rights),
    warnings: Object.freeze(c.warnings.map((w) => Object.freeze(w))),
    [POLICY_BRAND]: true,
  });
  const onWarning = options.onWarning ?? ((w: PolicyIssue) => process.emitWarning(`policy "${id}": ${w.path} ${w.message}${w.hint ? ` ${w.hint}` : ''}`, { code: 'PURPOSEKIT_POLICY_WARNING' }));
  for (const w of policy.warnings) onWarning(w);
  return policy;
}

function resolveIpLog(c: Checker, logs: unknown): ResolvedIpLog {
  const fallback: ResolvedIpLog = Object.freeze({ mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48, keyId: undefined, truncateFirst: false });
  if (logs === undefined || !c.object(logs, 'logs')) return fallback;
  c.knownKeys(logs, 'logs', ['ip']);
  const ip = logs['ip'];
  if (ip === undefined || !c.object(ip, 'logs.ip')) return fallback;
  const mode = c.oneOf(ip['mode'], 'logs.ip.mode', ['truncate', 'pseudonymize'] as const, 'IP log mode') ?? 'truncate';
  c.knownKeys(ip, 'logs.ip', mode === 'truncate' ? ['mode', 'ipv4Prefix', 'ipv6Prefix'] : ['mode', 'keyId', 'truncateFirst', 'ipv4Prefix', 'ipv6Prefix']);
  // A prefix longer than /24 (v4) or /64 (v6) keeps so much of the address that it is
  // effectively the full IP in a log line, which this library exists to prevent.
  const v4 = c.integer(ip['ipv4Prefix'], 'logs.ip.ipv4Prefix', 0, 24, 'Matomo levels: 24 (1 byte removed), 16 (2 bytes), 8 (3 bytes).');
  const v6 = c.integer(ip['ipv6Prefix'], 'logs.ip.ipv6Prefix', 0, 64, 'Familiar settings: 64, 48 (default), 32.');
  return Object.freeze({
    mode,
    ipv4Prefix: v4 ?? 24,
    ipv6Prefix: v6 ?? 48,
    keyId: mode === 'pseudonymize' ? c.string(ip['keyId'], 'logs.ip.keyId', false) : undefined,
    truncateFirst: mode === 'pseudonymize' ? (c.boolean(ip['truncateFirst'], 'logs.ip.truncateFirst') ?? false) : false,
  });
}

function invalid(issues: PolicyIssue[]): PurposekitError {
  const lines = issues.map((i) => `  - ${i.path}: ${i.message}${i.hint ? ` ${i.hint}` : ''}`);
  return new PurposekitError('PURPOSEKIT_ERR_POLICY_INVALID', `The privacy policy is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    details: { issues: issues.map((i) => ({ ...i })) },
  });
}
