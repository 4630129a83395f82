/**
 * The engine-side consent service: every consent change goes through here so that it
 * is validated against the policy, stored, and written to the audit trail.
 */
import type { PrivacyContext } from '../context';
import { PurposekitError } from '../errors';
import { didYouMean, show } from '../policy/suggest';
import { validateOptions } from '../options';
import type { ResolvedPurposeRule } from '../policy/types';
import type { Purposekit } from '../purposekit';
import { CONSENT_TYPES } from '../vocabulary';
import type { ConsentState, ConsentType } from '../vocabulary';
import { CONSENT_SOURCES, validateConsentRecord } from './consent-store';
import type { ConsentRecord, ConsentSource } from './consent-store';

/** Options of one consent change. */
export interface ConsentChangeOptions {
  /** `explicit` or `implied`. Default: the purpose's `consentType` (explicit unless the policy says implied). */
  type?: ConsentType;
  /** Where the answer came from: `form`, `api`, `gpc` or `import`. Default `api`. */
  source?: ConsentSource;
  /** For `given`: when the consent lapses (ISO 8601 instant or a Date). Default: never. */
  expiresAt?: string | Date;
  /** The request or job context to record the change under. Default: the current one, if any. */
  context?: PrivacyContext;
  /** Who made the change, as written in the trail (never an email). Default `data-subject`. */
  actor?: string;
  /**
   * Only with `source: 'import'`: the policy version an imported answer was given under
   * (and its terms version). Default: the policy in force (and the purpose's current terms).
   */
  policyVersion?: string;
  termsVersion?: string;
}

/** A subject's current consent for one purpose, as a decision would see it. */
export interface ConsentStatus {
  /** The effective state: a `given` consent past its expiry reads `expired`; `none` when never asked. */
  readonly state: ConsentState | 'none';
  /** True when the purpose's terms changed since the consent was given (renewal required). */
  readonly renewalRequired: boolean;
  /** The latest record, if any. */
  readonly record: ConsentRecord | undefined;
}

/** Options of {@link createConsentManager}. */
export interface ConsentManagerOptions {
  /** Clock (ms since epoch), for tests. Default `Date.now`. */
  now?: () => number;
}

/** The consent service of one engine. Create with {@link createConsentManager}. */
export interface ConsentManager {
  /** Records consent given. @see change */
  give(subject: string, purpose: string, options?: ConsentChangeOptions): Promise<ConsentRecord>;
  /** Records consent refused (asked and declined). @see change */
  refuse(subject: string, purpose: string, options?: ConsentChangeOptions): Promise<ConsentRecord>;
  /** Records a withdrawal (for implied consent: the opt-out). Earlier records are kept. @see change */
  withdraw(subject: string, purpose: string, options?: ConsentChangeOptions): Promise<ConsentRecord>;
  /** Marks a consent as lapsed (e.g. by a periodic re-consent job). @see change */
  expire(subject: string, purpose: string, options?: ConsentChangeOptions): Promise<ConsentRecord>;
  /**
   * Records one consent change: validates it against the policy, stores it and appends
   * a `consent` audit record (`attributes: { state, type, source, termsVersion?,
   * expiresAt?, policyVersion? }`, subject pseudonymised). Earlier records are never
   * changed: processing they allowed stays lawful (GDPR Art. 7(3)), and the trail shows
   * both.
   *
   * Ordering, so that a failure never works against the person: a consent `given` is
   * recorded in the trail first (no consent takes effect unrecorded); a protective
   * change (refused, withdrawn, expired) is stored first, so an audit outage can never
   * keep a withdrawal from taking effect. Either way a failure rejects and the change can
   * be retried (it is idempotent).
   *
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_BAD_REQUEST (`details.field`) for an
   *   unknown purpose, a purpose whose basis is not consent, or a bad option;
   *   PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the trail cannot be written; a store error
   *   (e.g. PURPOSEKIT_ERR_FILE_ACCESS) when the store cannot.
   */
  change(subject: string, purpose: string, state: ConsentState, options?: ConsentChangeOptions): Promise<ConsentRecord>;
  /** The subject's current consent for a purpose. */
  status(subject: string, purpose: string): Promise<ConsentStatus>;
  /** The subject's consent history, oldest first. */
  history(subject: string): Promise<readonly ConsentRecord[]>;
}

const CHANGE_KEYS = ['type', 'source', 'expiresAt', 'context', 'actor', 'policyVersion', 'termsVersion'] as const;

function bad(field: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', message, { details: { field } });
}

const RECIPIENT_PREFIX = 'recipient:';

/**
 * The consent-based purpose `purpose` of the engine's policy, or, for
 * `recipient:<name>`, the consent to share with a recipient the policy marks
 * `consentRequired` (always explicit, unversioned). @internal
 */
export function consentRule(kit: Purposekit, purpose: unknown): ResolvedPurposeRule {
  if (typeof purpose === 'string' && purpose.startsWith(RECIPIENT_PREFIX)) {
    const name = purpose.slice(RECIPIENT_PREFIX.length);
    const recipient = kit.policy.recipients[name];
    if (recipient === undefined || !recipient.consentRequired) {
      const needing = Object.keys(kit.policy.recipients).filter((n) => kit.policy.recipients[n]!.consentRequired);
      throw bad('purpose', `${show(purpose)} names no recipient that needs consent in policy "${kit.policyId}".${didYouMean(name, needing)}`);
    }
    return recipientConsentRule(purpose);
  }
  const rule = typeof purpose === 'string' ? kit.policy.purposes[purpose] : undefined;
  if (rule === undefined) {
    const hint = typeof purpose === 'string' ? didYouMean(purpose, Object.keys(kit.policy.purposes)) : '';
    throw bad('purpose', `${show(purpose)} is not a purpose of policy "${kit.policyId}".${hint}`);
  }
  if (rule.basis !== 'consent') {
    throw bad('purpose', `"${rule.id}" is based on ${rule.basis}, not consent: there is no consent to give or withdraw (use an objection or a restriction).`);
  }
  return rule;
}

function recipientConsentRule(key: string): ResolvedPurposeRule {
  return { id: key, basis: 'consent', consentType: 'explicit', termsVersion: undefined } as ResolvedPurposeRule;
}

/**
 * Creates the consent service of an engine: give, refuse, withdraw and expire consent
 * per subject and purpose, each change stored in `kit.consentStore` and recorded in the
 * audit trail.
 *
 * @example
 * const consent = createConsentManager(kit);
 * await consent.give('user-42', 'marketing.email', { source: 'form' });
 * await consent.withdraw('user-42', 'marketing.email'); // the next access is denied
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a bad option.
 */
export function createConsentManager(kit: Purposekit, options: ConsentManagerOptions = {}): ConsentManager {
  const opts = validateOptions<ConsentManagerOptions>('createConsentManager()', options, { now: 'function' });
  const now = opts.now ?? Date.now;
  const store = kit.consentStore;

  function build(subject: string, purpose: string, state: ConsentState, o: ConsentChangeOptions): { record: ConsentRecord; rule: ResolvedPurposeRule } {
    if (typeof o !== 'object' || o === null) throw bad('options', 'The change options must be an object.');
    for (const key of Object.keys(o)) {
      if (!(CHANGE_KEYS as readonly string[]).includes(key)) throw bad(key, `Unknown consent change option "${key}".${didYouMean(key, CHANGE_KEYS)}`);
    }
    const rule = consentRule(kit, purpose);
    const type = o.type ?? rule.consentType ?? 'explicit';
    if (!(CONSENT_TYPES as readonly string[]).includes(type)) throw bad('type', `"type" must be one of ${CONSENT_TYPES.join(', ')}, got ${show(type)}.`);
    const source = o.source ?? 'api';
    if (!(CONSENT_SOURCES as readonly string[]).includes(source)) throw bad('source', `"source" must be one of ${CONSENT_SOURCES.join(', ')}, got ${show(source)}.`);
    if ((o.policyVersion !== undefined || o.termsVersion !== undefined) && source !== 'import') {
      throw bad(o.policyVersion !== undefined ? 'policyVersion' : 'termsVersion', 'A policy or terms version of your own may only be given with source "import": new answers are given under the policy in force.');
    }
    let expiresAt: string | undefined;
    if (o.expiresAt !== undefined) {
      if (state !== 'given') throw bad('expiresAt', 'Only a consent given can have an expiry.');
      const t = o.expiresAt instanceof Date ? o.expiresAt.getTime() : typeof o.expiresAt === 'string' ? Date.parse(o.expiresAt) : Number.NaN;
      if (!Number.isFinite(t)) throw bad('expiresAt', `"expiresAt" must be an ISO 8601 instant or a Date, got ${show(o.expiresAt)}.`);
      expiresAt = new Date(t).toISOString();
    }
    const termsVersion = o.termsVersion ?? (source === 'import' ? undefined : rule.termsVersion);
    const record = validateConsentRecord({
      subject,
      purpose: rule.id,
      state,
      type,
      source,
      policyVersion: o.policyVersion ?? kit.policyVersion,
      ...(termsVersion !== undefined ? { termsVersion } : {}),
      at: new Date(now()).toISOString(),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    });
    return { record, rule };
  }

  async function audit(record: ConsentRecord, o: ConsentChangeOptions): Promise<void> {
    const attributes: Record<string, string> = { state: record.state, type: record.type, source: record.source };
    // The record's `policy.version` already names the policy in force; repeat the version
    // only for an imported answer given under another one.
    if (record.policyVersion !== kit.policyVersion) attributes['policyVersion'] = record.policyVersion;
    if (record.termsVersion !== undefined) attributes['termsVersion'] = record.termsVersion;
    if (record.expiresAt !== undefined) attributes['expiresAt'] = record.expiresAt;
    await kit.record('consent', o.context, { subject: record.subject, actor: o.actor ?? 'data-subject', purpose: record.purpose, attributes });
  }

  async function change(subject: string, purpose: string, state: ConsentState, o: ConsentChangeOptions = {}): Promise<ConsentRecord> {
    const { record } = build(subject, purpose, state, o);
    if (state === 'given') {
      await audit(record, o);
      await store.setConsent(record);
    } else {
      await store.setConsent(record);
      await audit(record, o);
    }
    return record;
  }

  return Object.freeze({
    change,
    give: (s: string, p: string, o?: ConsentChangeOptions) => change(s, p, 'given', o),
    refuse: (s: string, p: string, o?: ConsentChangeOptions) => change(s, p, 'refused', o),
    withdraw: (s: string, p: string, o?: ConsentChangeOptions) => change(s, p, 'withdrawn', o),
    expire: (s: string, p: string, o?: ConsentChangeOptions) => change(s, p, 'expired', o),
    async status(subject: string, purpose: string): Promise<ConsentStatus> {
      const rule = consentRule(kit, purpose);
      const record = (await store.facts(subject, rule.id)).consent;
      if (record === undefined) return { state: 'none', renewalRequired: false, record };
      const lapsed = record.state === 'given' && record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now();
      const renewalRequired = record.state === 'given' && !lapsed && rule.consentType !== 'implied' && rule.termsVersion !== undefined && record.termsVersion !== rule.termsVersion;
      return { state: lapsed ? 'expired' : record.state, renewalRequired, record };
    },
    async history(subject: string): Promise<readonly ConsentRecord[]> {
      return store.history(subject);
    },
  });
}
