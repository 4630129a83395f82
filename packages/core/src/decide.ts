/**
 * The access decision: a pure function of the policy rule, the request's context facts
 * and the subject's stored facts. Kept apart from I/O so every rule is table-testable.
 */
import { minimumAgeFor } from './age';
import type { SubjectFacts } from './consent/consent-store';
import type { Policy, ResolvedPurposeRule } from './policy/types';

/** Why an access was denied (or `allowed`). Stable strings: reports and adapters rely on them. */
export type AccessReason =
  | 'allowed'
  | 'no-purpose'
  | 'invalid-request'
  | 'purpose-limitation'
  | 'recipient-not-allowed'
  | 'age-unverified'
  | 'restricted'
  | 'objection'
  | 'no-subject'
  | 'consent-missing'
  | 'consent-refused'
  | 'consent-withdrawn'
  | 'consent-expired'
  | 'consent-renewal-required'
  | 'gpc-opt-out'
  | 'erased'
  | 'store-unavailable';

/** Inputs the decision takes from the request context. */
export interface DecisionContext {
  /**
   * The request's `Sec-GPC: 1`, when it applies to this subject: only on the subject's
   * own request (the engine decides; an operator's header never speaks for others).
   */
  readonly gpc: boolean | undefined;
  /** The highest minimum age this request has proven through an age gate (-1: none). */
  readonly ageProven: number;
  readonly now: number;
  /** The subject's country, when known: a gate's per-country and Art. 8 minimums depend on it. */
  readonly country?: string | undefined;
}

/** What is being done to whose data. */
export interface DecisionRequest {
  readonly subject: string | undefined;
  readonly data: readonly string[];
  readonly action: string;
  readonly recipient: string | undefined;
}

/**
 * The subject's consent to a share with a recipient that needs it (`consentRequired`):
 * the consent store's facts under the key `recipient:<name>`. Undefined when the share
 * needs none.
 */
export type RecipientConsent = SubjectFacts | undefined;

/** The consent-store key of a consent to share with `recipient`. */
export function recipientConsentKey(recipient: string): string {
  return `recipient:${recipient}`;
}

/** Purposes that stay lawful under a restriction of processing (GDPR Art. 18(2)). */
const RESTRICTION_EXEMPT = new Set(['legal-compliance', 'rights-fulfilment']);

/**
 * Decides one access, in a fixed order so the recorded reason is the most fundamental
 * one: purpose limitation before recipients, erasure, age before the subject's own
 * choices, then restriction, objection, a stored GPC opt-out, consent (to the purpose,
 * then to the share) and the request's GPC.
 */
export function decide(
  policy: Policy,
  rule: ResolvedPurposeRule,
  ctx: DecisionContext,
  req: DecisionRequest,
  facts: SubjectFacts,
  recipientConsent?: RecipientConsent,
): AccessReason {
  for (const category of req.data) {
    if (!rule.data.has(category)) return 'purpose-limitation';
  }
  if (req.recipient !== undefined && !rule.recipients.has(req.recipient)) return 'recipient-not-allowed';
  // After erasure only the purposes the policy names as surviving it may go on (Art. 17).
  if (facts.erased === true && !rule.survivesErasure) return 'erased';
  if (rule.ageGate !== undefined && req.action === 'collect') {
    const gate = policy.ageGates[rule.ageGate];
    // The minimum this request must have proven is the gate's minimum for this subject's
    // country and basis, not its base minimum: a weaker gate passed elsewhere in the
    // request must not satisfy a stricter per-country one.
    if (gate === undefined || ctx.ageProven < minimumAgeFor(gate, { country: ctx.country, basis: rule.basis })) return 'age-unverified';
  }
  if (facts.restricted && !RESTRICTION_EXEMPT.has(rule.id)) return 'restricted';
  if (rule.objection && facts.objected) return 'objection';
  // A GPC signal the subject sent earlier, stored as their opt-out (consent source gpc).
  if (rule.gpc && facts.consent?.source === 'gpc' && facts.consent.state !== 'given') return 'gpc-opt-out';

  let explicitConsentGiven = false;
  if (rule.basis === 'consent') {
    if (req.subject === undefined) return 'no-subject';
    const c = facts.consent;
    if (c !== undefined && c.state === 'given' && c.expiresAt !== undefined && Date.parse(c.expiresAt) <= ctx.now) {
      return 'consent-expired';
    }
    if (rule.consentType === 'implied') {
      // Opt-out model: allowed until the person says no, or the answer lapses.
      if (c?.state === 'withdrawn') return 'consent-withdrawn';
      if (c?.state === 'refused') return 'consent-refused';
      if (c?.state === 'expired') return 'consent-expired';
    } else {
      if (c === undefined) return 'consent-missing';
      // Only an explicit answer counts for a purpose that needs explicit consent.
      if (c.state === 'given' && c.type !== 'explicit') return 'consent-missing';
      if (c.state === 'withdrawn') return 'consent-withdrawn';
      if (c.state === 'refused') return 'consent-refused';
      if (c.state === 'expired') return 'consent-expired';
      // The purpose's terms changed since this consent was given: it covered other terms
      // and no longer counts until the person answers again.
      if (rule.termsVersion !== undefined && c.termsVersion !== rule.termsVersion) return 'consent-renewal-required';
      explicitConsentGiven = c.type === 'explicit' && c.source !== 'gpc';
    }
  }
  if (req.recipient !== undefined && policy.recipients[req.recipient]?.consentRequired === true) {
    // "With your consent": the share needs the subject's explicit consent to this recipient.
    if (req.subject === undefined) return 'no-subject';
    const c = recipientConsent?.consent;
    if (c === undefined) return 'consent-missing';
    if (c.state === 'withdrawn') return 'consent-withdrawn';
    if (c.state === 'refused') return 'consent-refused';
    if (c.state === 'expired' || (c.expiresAt !== undefined && Date.parse(c.expiresAt) <= ctx.now)) return 'consent-expired';
    if (c.type !== 'explicit') return 'consent-missing';
  }
  if (rule.gpc && ctx.gpc === true) {
    // GPC against an explicit consent given earlier: the policy decides; by default the
    // more protective signal (GPC) wins.
    if (!(explicitConsentGiven && policy.signals.gpcVersusConsent === 'consent')) return 'gpc-opt-out';
  }
  return 'allowed';
}
