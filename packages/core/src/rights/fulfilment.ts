/**
 * Fulfilling a parsed rights request: the app's callbacks, the stores, and the answer.
 * @internal
 */
import type { ConsentManager } from '../consent/consent-manager';
import type { ConsentRecord } from '../consent/consent-store';
import type { PrivacyContext } from '../context';
import { PurposekitError } from '../errors';
import type { Purposekit } from '../purposekit';
import { subjectRecords } from './access-report';
import type { RightsLifecycle } from './lifecycle';
import type { ParsedRightsRequest } from './request-parsing';
import type { Endpoint } from './routes';
import type { RightsHandlerOptions, RightsResponse } from './types';

/** What the fulfilment of one request needs. */
export interface FulfilmentScope<TRequest> {
  readonly kit: Purposekit;
  readonly options: RightsHandlerOptions<TRequest>;
  readonly consent: ConsentManager;
  readonly lifecycle: RightsLifecycle;
  readonly headers: Readonly<Record<string, string>>;
}

/** A purpose whose data an erasure leaves in place, and why (the policy's quoted exceptions). */
export interface KeptPurpose {
  readonly purpose: string;
  readonly reasons: readonly string[];
}

/**
 * The purposes an erasure does not reach: those that survive it, and those where the
 * policy limits or excludes the right to erasure. Told to the person at the time of the
 * request (OpenInfra: "we will disclose this to you at the time of the request").
 */
export function keptOnErasure(kit: Purposekit): KeptPurpose[] {
  const out: KeptPurpose[] = [];
  for (const rule of Object.values(kit.policy.purposes)) {
    const erasure = rule.rights['erasure'];
    const limited = erasure !== undefined && (erasure.exceptions.length > 0 || !erasure.applies);
    if (!rule.survivesErasure && !limited) continue;
    out.push({ purpose: rule.id, reasons: erasure?.exceptions.map((e) => e.reason) ?? [] });
  }
  return out;
}

/** Marks the subject erased in the consent store (every later access denied but surviving purposes). */
export async function markErased(kit: Purposekit, subject: string): Promise<void> {
  const store = kit.consentStore;
  if (typeof store.setErased !== 'function') {
    throw new PurposekitError('PURPOSEKIT_ERR_INTERNAL', 'The consent store cannot record an erasure (it has no setErased); the erasure is not complete.');
  }
  await store.setErased(subject, true);
}

/** Runs one request whose receipt is recorded; records its end and builds the answer. */
export async function fulfil<TRequest>(
  scope: FulfilmentScope<TRequest>,
  endpoint: Endpoint,
  method: string,
  parsed: ParsedRightsRequest,
  subject: string,
  ctx: PrivacyContext,
  requestInfo: { id: string; right: string; due: string },
  receivedAt: Date,
): Promise<RightsResponse> {
  const { kit, options, consent, lifecycle, headers } = scope;
  const { right, isRightsRequest, purpose } = parsed;
  const done = async (status: number, payload: Record<string, unknown>, extra: Record<string, string> = {}, partly?: { kept: string; reason: string }): Promise<RightsResponse> => {
    const state = partly === undefined ? 'completed' : 'partly-completed';
    if (isRightsRequest) await lifecycle.record(ctx, subject, right, state, { due: requestInfo.due, ...extra, ...(partly ?? {}) });
    return { status, headers, body: isRightsRequest ? { request: { ...requestInfo, status: state }, ...payload } : payload };
  };
  const pending = (payload: Record<string, unknown>): RightsResponse => ({ status: 202, headers, body: { request: { ...requestInfo, status: 'pending' }, ...payload } });

  switch (endpoint) {
    case 'access-log':
      return done(200, { records: await subjectRecords(kit, options.accessLog!, subject) });
    case 'export': {
      const [data, history, log] = await Promise.all([options.exporter!(subject), consent.history(subject), subjectRecords(kit, options.accessLog!, subject)]);
      return done(200, {
        format: 'purposekit-export',
        version: 1,
        generatedAt: receivedAt.toISOString(),
        policy: { id: kit.policyId, version: kit.policyVersion },
        subject,
        data: data === undefined ? null : data,
        consent: history,
        accessLog: log,
      });
    }
    case 'erasure': {
      let kept: string[] = [];
      if (kit.policy.rights.keepErasureRecord && options.erasureRecord !== undefined) {
        kept = Object.keys(await options.erasureRecord(subject)).sort();
      }
      const outcome = await options.eraser!(subject);
      // Consent given before stays on record (proof, Art. 7(1)) but no longer counts:
      // an account re-created under the same id must not inherit it.
      for (const r of latestGiven(await consent.history(subject))) {
        if (kit.policy.purposes[r.purpose]?.basis !== 'consent') continue;
        await consent.withdraw(subject, r.purpose, { context: ctx, source: 'api', type: r.type });
      }
      const keptPurposes = keptOnErasure(kit);
      // `keptPurposes` only when there are any: the answer's shape is unchanged otherwise.
      const disclosed = keptPurposes.length > 0 ? { keptPurposes } : {};
      if (outcome === 'pending') return pending({ erased: false, kept, ...disclosed });
      await markErased(kit, subject);
      const partly = keptPurposes.length === 0
        ? undefined
        : { kept: keptPurposes.map((k) => k.purpose).join(','), reason: [...new Set(keptPurposes.flatMap((k) => k.reasons))].join('; ').slice(0, 200) || 'survives erasure' };
      return done(200, { erased: true, kept, ...disclosed }, kept.length > 0 ? { keptRecord: kept.join(',') } : {}, partly);
    }
    case 'restriction': {
      const restricted = method === 'POST';
      await kit.consentStore.setRestriction(subject, restricted);
      return done(200, { restricted }, restricted ? {} : { lifted: 'true' });
    }
    case 'objection': {
      const objected = method === 'POST';
      await kit.consentStore.setObjection(subject, purpose!, objected);
      return done(200, { purpose, objected }, { target: purpose!, ...(objected ? {} : { lifted: 'true' }) });
    }
    case 'consent': {
      const rec = await consent.change(subject, purpose!, parsed.consentState!, { context: ctx, source: 'api' });
      return done(200, { consent: rec });
    }
    case 'rectification': {
      const outcome = await options.rectifier!(subject, parsed.changes!);
      if (outcome === 'pending') return pending({ fields: Object.keys(parsed.changes!) });
      return done(200, { fields: Object.keys(parsed.changes!) });
    }
  }
}

function latestGiven(history: readonly ConsentRecord[]): ConsentRecord[] {
  const latest = new Map<string, ConsentRecord>();
  for (const r of history) latest.set(r.purpose, r);
  return [...latest.values()].filter((r) => r.state === 'given');
}
