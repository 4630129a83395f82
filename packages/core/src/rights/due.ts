/**
 * Deadlines of data-subject rights requests. GDPR Art. 12(3): answer "without undue
 * delay and in any event within one month of receipt" (extendable with notice); the
 * policy's `rights.responseTime` (default `P1M`) sets the period.
 */
import { PurposekitError } from '../errors';
import { addDuration, parseDuration } from '../policy/duration';

/** The trail fields {@link listOpenRightsRequests} reads: an `AuditEventRecord` fits. */
export interface RightsTrailRecord {
  readonly kind: string;
  readonly requestId?: string;
  readonly subject?: string;
  readonly ts?: string;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** A rights request received and not yet closed (completed, refused or partly completed). */
export interface OpenRightsRequest {
  /** `received`, or `extended` once its deadline was extended (then `due` is the new one). */
  readonly state: 'received' | 'extended';
  /** Why it was extended, when it was. */
  readonly extensionReason?: string;
  /** The request id the trail records it under. */
  readonly requestId: string;
  /** access, erasure, restriction, objection, portability, rectification, withdraw-consent. */
  readonly right: string;
  /** The subject's pseudonym (as in the trail). */
  readonly subject: string | undefined;
  /** When it was recorded as received (the record's `ts`). */
  readonly receivedAt: string | undefined;
  /** ISO 8601 instant it must be answered by. */
  readonly due: string;
  /** True when `due` is at or before `now`. */
  readonly overdue: boolean;
}

/**
 * The answer deadline of a request received at `received`: calendar-aware (a month
 * after 31 January is the last day of February).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `responseTime` is not an ISO 8601 duration.
 */
export function rightsDueDate(received: Date, responseTime: string): Date {
  const d = parseDuration(responseTime);
  if (d === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `rightsDueDate(): ${JSON.stringify(responseTime)} is not an ISO 8601 duration (e.g. P1M).`);
  return addDuration(received, d);
}

/** The states that close a request. */
const CLOSED = new Set(['completed', 'refused', 'partly-completed']);

/**
 * Open rights requests in a trail, soonest due first: every `rights` record with
 * `attributes.status: 'received'` and a `due` for which no later record of the same
 * request id, right and subject closes it (`completed`, `refused`, `partly-completed`).
 * An `extended` record moves its `due` and sets `state: 'extended'`. Records without a
 * request id cannot be matched and are skipped. This is what `purposekit rights due`
 * prints.
 *
 * @param records the trail in order (checkpoints and other kinds are ignored).
 * @param now the reference instant for `overdue` (a Date or ms since the epoch).
 */
export function listOpenRightsRequests(records: Iterable<RightsTrailRecord>, now: Date | number): OpenRightsRequest[] {
  const at = typeof now === 'number' ? now : now.getTime();
  const open = new Map<string, Omit<OpenRightsRequest, 'overdue'>>();
  for (const r of records) {
    if (r.kind !== 'rights' || typeof r.requestId !== 'string') continue;
    const right = r.attributes?.['right'];
    const status = r.attributes?.['status'];
    if (typeof right !== 'string') continue;
    // The subject is part of the key: a completion recorded for another subject (an app
    // passing the wrong id to complete()) must not close this subject's request.
    const key = `${r.requestId}\u0000${right}\u0000${r.subject ?? ''}`;
    if (status === 'received') {
      const due = r.attributes?.['due'];
      if (typeof due !== 'string' || Number.isNaN(Date.parse(due))) continue;
      open.set(key, { state: 'received', requestId: r.requestId, right, subject: r.subject, receivedAt: r.ts, due });
    } else if (status === 'extended') {
      const o = open.get(key);
      const due = r.attributes?.['due'];
      const reason = r.attributes?.['reason'];
      if (o === undefined || typeof due !== 'string' || Number.isNaN(Date.parse(due))) continue;
      open.set(key, { ...o, state: 'extended', due, ...(typeof reason === 'string' ? { extensionReason: reason } : {}) });
    } else if (typeof status === 'string' && CLOSED.has(status)) {
      open.delete(key);
    }
  }
  return [...open.values()]
    .map((o) => ({ ...o, overdue: Date.parse(o.due) <= at }))
    .sort((a, b) => Date.parse(a.due) - Date.parse(b.due) || (a.receivedAt ?? '').localeCompare(b.receivedAt ?? '') || a.requestId.localeCompare(b.requestId));
}
