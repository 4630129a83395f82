/**
 * The subject access report: every record about one person, found by their keyed
 * pseudonym, with when, by whom, which categories, purpose, basis and decision.
 */
import { createSubjectPseudonymizer } from '../pseudonym';
import type { PseudonymKey } from '../pseudonym';
import { PurposekitError } from '../errors';
import { readAuditTrail } from './trail';
import type { AuditAttributeValue, AuditEventKind } from './types';
import { SUBJECT_PSEUDONYM_PATTERN } from './validate';

/** One line of a subject access report. */
export interface SubjectReportEntry {
  readonly seq: number;
  /** When (ISO 8601, UTC). */
  readonly ts: string;
  readonly kind: AuditEventKind;
  /** Whose data: the pseudonym the record matched (a report may search several keys). */
  readonly subject: string;
  /** By whom. */
  readonly actor?: string;
  readonly action?: string;
  /** Which categories of the person's data. */
  readonly data: readonly string[];
  readonly purpose?: string;
  /** The legal basis. */
  readonly basis?: string;
  readonly decision?: 'allow' | 'deny';
  readonly reason?: string;
  readonly recipient?: string;
  readonly requestId?: string;
  readonly policy: { readonly id: string; readonly version: string };
  readonly attributes?: Readonly<Record<string, AuditAttributeValue>>;
  /** Where the record is: file name and 1-based line. */
  readonly file: string;
  readonly line: number;
}

/** A subject access report. */
export interface SubjectReport {
  /** The pseudonyms searched for (one per subject key). */
  readonly pseudonyms: readonly string[];
  /** Records read. */
  readonly recordsScanned: number;
  /** The records about the subject, in trail order. */
  readonly entries: readonly SubjectReportEntry[];
}

/** Options of {@link buildSubjectReport}: the subject, by id and key(s), or by pseudonym(s). */
export interface SubjectReportOptions {
  /** The subject's id as the application knows it; needs `keys`. */
  subject?: string;
  /** Subject HMAC keys (current and earlier ones, after a rotation). */
  keys?: readonly PseudonymKey[];
  /** Or: pseudonyms to look for directly. */
  pseudonyms?: readonly string[];
  /** File prefix in a directory holding several trails. */
  prefix?: string;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

/**
 * Builds the subject access report: reads the whole trail and keeps the records whose
 * `subject` is the person's pseudonym under any of the given keys. It does not verify
 * the chain; run {@link verifyAuditTrail} for that.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when no subject (with keys) or
 *   pseudonym is given, or a pseudonym is malformed; PURPOSEKIT_ERR_INVALID_KEY for a bad
 *   key; PURPOSEKIT_ERR_AUDIT_CORRUPT / PURPOSEKIT_ERR_FILE_ACCESS from reading.
 */
export async function buildSubjectReport(path: string, options: SubjectReportOptions): Promise<SubjectReport> {
  const wanted = new Set<string>();
  for (const p of options.pseudonyms ?? []) {
    if (typeof p !== 'string' || !SUBJECT_PSEUDONYM_PATTERN.test(p)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'subject report: a pseudonym must look like hmac-sha256:<keyId>:<64 hex>; to search by subject id, give the subject key.', {
        details: { option: 'pseudonyms' },
      });
    }
    wanted.add(p);
  }
  if (options.subject !== undefined) {
    if (typeof options.subject !== 'string' || options.subject.length === 0 || options.keys === undefined || options.keys.length === 0) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'subject report: a subject id needs at least one subject key to compute its pseudonym.', { details: { option: 'keys' } });
    }
    for (const key of options.keys) wanted.add(createSubjectPseudonymizer(key)(options.subject));
  }
  if (wanted.size === 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'subject report: name the subject (subject id and key, or pseudonym).', { details: { option: 'subject' } });
  }
  const entries: SubjectReportEntry[] = [];
  let recordsScanned = 0;
  const readOptions = { ...(options.prefix === undefined ? {} : { prefix: options.prefix }), ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) };
  for await (const { record, file, line } of readAuditTrail(path, readOptions)) {
    recordsScanned++;
    if (record.kind === 'checkpoint' || record.subject === undefined || !wanted.has(record.subject)) continue;
    entries.push({
      seq: record.seq,
      ts: record.ts,
      kind: record.kind,
      subject: record.subject,
      ...(record.actor === undefined ? {} : { actor: record.actor }),
      ...(record.action === undefined ? {} : { action: record.action }),
      data: record.data ?? [],
      ...(record.purpose === undefined ? {} : { purpose: record.purpose }),
      ...(record.basis === undefined ? {} : { basis: record.basis }),
      ...(record.decision === undefined ? {} : { decision: record.decision }),
      ...(record.reason === undefined ? {} : { reason: record.reason }),
      ...(record.recipient === undefined ? {} : { recipient: record.recipient }),
      ...(record.requestId === undefined ? {} : { requestId: record.requestId }),
      policy: { id: record.policy.id, version: record.policy.version },
      ...(record.attributes === undefined ? {} : { attributes: record.attributes }),
      file,
      line,
    });
  }
  return { pseudonyms: [...wanted], recordsScanned, entries };
}
