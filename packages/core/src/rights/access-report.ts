/**
 * The subject access report (GDPR Art. 15): the subject's own records from the trail,
 * shown by role, never another person's id. @internal
 */
import type { Purposekit } from '../purposekit';
import type { AccessLogRecord } from './types';

/** Actors shown to the subject as they are; any other (a staff member's or another user's internal id) is shown as the organisation. */
const SHOWN_ACTORS = new Set(['service', 'data-subject', 'rights-handler', 'retention-sweep']);
const FIELDS = ['ts', 'kind', 'actor', 'data', 'action', 'purpose', 'basis', 'decision', 'reason', 'recipient', 'requestId', 'attributes'] as const;

function report(r: AccessLogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) {
    if (r[k] !== undefined) out[k] = r[k];
  }
  // Art. 15 tells the person who processed their data by role, not which colleague:
  // another person's internal id must not leak through someone's access log.
  if (typeof out['actor'] === 'string' && !SHOWN_ACTORS.has(out['actor'])) out['actor'] = 'organisation';
  return out;
}

/** The subject's records, filtered to the subject's pseudonym whatever the callback returns. */
export async function subjectRecords(
  kit: Purposekit,
  accessLog: (pseudonym: string) => Iterable<AccessLogRecord> | Promise<Iterable<AccessLogRecord>>,
  subject: string,
): Promise<Array<Record<string, unknown>>> {
  const pseudonym = kit.pseudonymizeSubject(subject);
  const out: Array<Record<string, unknown>> = [];
  for (const r of await accessLog(pseudonym)) {
    // Filtered here again, whatever the callback does: one subject never sees another's records.
    if (r.kind !== 'checkpoint' && r.subject === pseudonym) out.push(report(r));
  }
  return out;
}
