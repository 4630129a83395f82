/**
 * GPC per person: a `Sec-GPC: 1` on the subject's own request is stored as that
 * subject's opt-out (consent source `gpc`) for every GPC-applicable purpose, so it is
 * honoured later wherever the subject is known (other requests without the header,
 * batch jobs under `runAs`). An operator's header is never stored for anyone else: the
 * engine calls this only when the request is the subject's own.
 * @internal
 */
import type { PrivacyContext } from '../context';
import type { Policy } from '../policy/types';
import { validateConsentRecord } from './consent-store';
import type { ConsentRecord, ConsentStore } from './consent-store';

/** What the store step needs from the engine. */
export interface GpcStoreEngine {
  readonly policy: Policy;
  readonly policyVersion: string;
  readonly consentStore: ConsentStore;
  record(kind: 'consent', ctx: PrivacyContext | undefined, fields: { subject: string; actor: string; purpose: string; attributes: Readonly<Record<string, string>> }): Promise<void>;
}

/** The request's GPC applies to this access: the subject's own request, or no subject at all. */
export function gpcApplies(ctx: PrivacyContext, subject: string | undefined, requestActor: string | undefined): boolean {
  if (ctx.signals.gpc !== true) return false;
  // No subject named: the processing is about whoever sent the request (a visitor).
  if (subject === undefined) return true;
  if (ctx.subject !== subject) return false;
  const actor = requestActor ?? ctx.actor;
  return actor === undefined || actor === subject || actor === 'data-subject';
}

/**
 * Stores the subject's GPC opt-out for each GPC-applicable purpose where it is not the
 * latest answer already. Protective order: stored first, then recorded. Under
 * `gpcVersusConsent: 'consent'` an explicit consent the person gave stays in force.
 */
export async function storeGpcOptOut(kit: GpcStoreEngine, ctx: PrivacyContext, subject: string, now: number): Promise<void> {
  for (const rule of Object.values(kit.policy.purposes)) {
    if (!rule.gpc) continue;
    const f = kit.consentStore.facts(subject, rule.id);
    const latest = (f instanceof Promise ? await f : f).consent;
    if (latest?.source === 'gpc' && latest.state !== 'given') continue;
    if (latest?.state === 'given' && latest.type === 'explicit' && kit.policy.signals.gpcVersusConsent === 'consent') continue;
    const record: ConsentRecord = validateConsentRecord({
      subject,
      purpose: rule.id,
      state: latest?.state === 'given' ? 'withdrawn' : 'refused',
      type: rule.consentType ?? 'explicit',
      source: 'gpc',
      policyVersion: kit.policyVersion,
      at: new Date(now).toISOString(),
    });
    await kit.consentStore.setConsent(record);
    await kit.record('consent', ctx, { subject, actor: 'data-subject', purpose: rule.id, attributes: { state: record.state, type: record.type, source: 'gpc' } });
  }
}
