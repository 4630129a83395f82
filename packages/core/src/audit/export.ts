/** Export of a trail as JSON (an array of records) or CSV (one row per record). */
import { PurposekitError } from '../errors';
import { readAuditTrail } from './trail';
import type { AuditRecord } from './types';

/** Export formats. */
export type AuditExportFormat = 'json' | 'csv';

/** The CSV columns, in order. `data` joins categories with `;`; `attributes` is JSON. */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'ts',
  'kind',
  'actor',
  'subject',
  'data',
  'action',
  'purpose',
  'basis',
  'decision',
  'reason',
  'recipient',
  'requestId',
  'policyId',
  'policyVersion',
  'attributes',
  'keyId',
  'prev',
  'hash',
] as const;

/** Options of {@link exportAuditTrail}. */
export interface AuditExportOptions {
  format: AuditExportFormat;
  /** File prefix in a directory holding several trails. */
  prefix?: string;
  onProgress?: (bytesRead: number, bytesTotal: number) => void;
}

function csvCell(value: string): string {
  // A cell a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV row (RFC 4180, CRLF) for a record. */
export function auditCsvRow(record: AuditRecord): string {
  const r = record as unknown as Record<string, unknown>;
  const policy = r['policy'] as { id?: string; version?: string } | undefined;
  const cells: Record<(typeof AUDIT_CSV_COLUMNS)[number], string> = {
    seq: String(record.seq),
    ts: record.ts,
    kind: record.kind,
    actor: typeof r['actor'] === 'string' ? r['actor'] : '',
    subject: typeof r['subject'] === 'string' ? r['subject'] : '',
    data: Array.isArray(r['data']) ? (r['data'] as string[]).join(';') : '',
    action: typeof r['action'] === 'string' ? r['action'] : '',
    purpose: typeof r['purpose'] === 'string' ? r['purpose'] : '',
    basis: typeof r['basis'] === 'string' ? r['basis'] : '',
    decision: typeof r['decision'] === 'string' ? r['decision'] : '',
    reason: typeof r['reason'] === 'string' ? r['reason'] : '',
    recipient: typeof r['recipient'] === 'string' ? r['recipient'] : '',
    requestId: typeof r['requestId'] === 'string' ? r['requestId'] : '',
    policyId: policy?.id ?? '',
    policyVersion: policy?.version ?? '',
    attributes: r['attributes'] === undefined ? '' : JSON.stringify(r['attributes']),
    keyId: typeof r['keyId'] === 'string' ? r['keyId'] : '',
    prev: record.prev,
    hash: record.hash,
  };
  return `${AUDIT_CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}

/**
 * Streams a trail as text chunks: `json` is one JSON array with a record per line;
 * `csv` has a header row and one row per record ({@link AUDIT_CSV_COLUMNS}).
 * Checkpoints are included (their `keyId` column is set).
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for an unknown format;
 *   PURPOSEKIT_ERR_AUDIT_CORRUPT / PURPOSEKIT_ERR_FILE_ACCESS from reading.
 */
export async function* exportAuditTrail(path: string, options: AuditExportOptions): AsyncGenerator<string> {
  const format = options.format;
  if (format !== 'json' && format !== 'csv') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `audit export: "format" must be json or csv; got ${JSON.stringify(format)}.`, { details: { option: 'format' } });
  }
  const readOptions = { ...(options.prefix === undefined ? {} : { prefix: options.prefix }), ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) };
  let first = true;
  let buffer = format === 'csv' ? `${AUDIT_CSV_COLUMNS.join(',')}\r\n` : '[';
  for await (const { record } of readAuditTrail(path, readOptions)) {
    buffer += format === 'csv' ? auditCsvRow(record) : `${first ? '\n' : ',\n'}${JSON.stringify(record)}`;
    first = false;
    if (buffer.length >= 65536) {
      yield buffer;
      buffer = '';
    }
  }
  if (format === 'json') buffer += first ? ']\n' : '\n]\n';
  yield buffer;
}
