/**
 * The subject access report: every record about one person, found by their keyed
 * pseudonym, with when, by whom, which categories, purpose, basis and decision.
 */
import { createSubjectPseudonymizer } from '../pseudonym';
import type { PseudonymKey } from '../pseudonym';
import { PurposekitError } from '../errors';
import { readAuditTrail } from './trail';
import type { AuditAttributeValue, AuditEventKind, AuditEventRecord } from './types';
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

/** Resolves the pseudonyms a report searches for. @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION */
function wantedPseudonyms(options: SubjectReportOptions): Set<string> {
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
  return wanted;
}

/** What {@link streamSubjectReport} yields besides the entries. */
export interface SubjectReportScan {
  /** The pseudonyms searched for. */
  readonly pseudonyms: readonly string[];
  /** Records read so far (final once the iteration ends). */
  readonly recordsScanned: number;
  /** The entries about the subject, in trail order, one at a time (memory stays flat for any trail size). */
  readonly entries: AsyncIterable<SubjectReportEntry>;
}

/**
 * The subject access report as a stream: {@link buildSubjectReport} without holding the
 * entries, for subjects with millions of records. Options are checked at once; the trail
 * is read while `entries` is iterated.
 *
 * @throws PurposekitError as {@link buildSubjectReport}.
 */
export function streamSubjectReport(path: string, options: SubjectReportOptions): SubjectReportScan {
  const wanted = wantedPseudonyms(options);
  const readOptions = { ...(options.prefix === undefined ? {} : { prefix: options.prefix }), ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) };
  let scanned = 0;
  return {
    pseudonyms: [...wanted],
    get recordsScanned(): number {
      return scanned;
    },
    entries: (async function* (): AsyncGenerator<SubjectReportEntry> {
      for await (const { record, file, line } of readAuditTrail(path, readOptions)) {
        scanned++;
        if (record.kind === 'checkpoint' || record.subject === undefined || !wanted.has(record.subject)) continue;
        yield subjectReportEntry(record, file, line);
      }
    })(),
  };
}

/**
 * Builds the subject access report: reads the whole trail and keeps the records whose
 * `subject` is the person's pseudonym under any of the given keys. It does not verify
 * the chain; run {@link verifyAuditTrail} for that. Holds every entry in memory: for
 * very large subjects use {@link streamSubjectReport}.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when no subject (with keys) or
 *   pseudonym is given, or a pseudonym is malformed; PURPOSEKIT_ERR_INVALID_KEY for a bad
 *   key; PURPOSEKIT_ERR_AUDIT_CORRUPT / PURPOSEKIT_ERR_FILE_ACCESS from reading.
 */
export async function buildSubjectReport(path: string, options: SubjectReportOptions): Promise<SubjectReport> {
  const scan = streamSubjectReport(path, options);
  const entries: SubjectReportEntry[] = [];
  for await (const e of scan.entries) entries.push(e);
  return { pseudonyms: scan.pseudonyms, recordsScanned: scan.recordsScanned, entries };
}

/**
 * One record of a subject as a report entry: what the person's report shows of it (never
 * the checkpoint fields). `file` and `line` say where it stands (for a PostgreSQL trail,
 * the stream and the seq). One shape for every trail store.
 */
export function subjectReportEntry(record: AuditEventRecord, file: string, line: number): SubjectReportEntry {
  return {
    seq: record.seq,
    ts: record.ts,
    kind: record.kind,
    subject: record.subject!,
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
  };
}
