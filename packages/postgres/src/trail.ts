/**
 * Reading a PostgreSQL trail: verify (core's verifier, one stream at a time), the
 * subject access report (through the subject index: only that subject's rows), export,
 * and the open rights requests of every instance.
 */
import { AUDIT_CSV_COLUMNS, PurposekitError, auditCsvRow, createSubjectPseudonymizer, listOpenRightsRequests, subjectReportEntry, verifyAuditLines } from '@purposekit/core';
import type {
  AccessLogRecord,
  AuditExportFormat,
  AuditProblem,
  AuditPublicKey,
  AuditRecord,
  AuditVerifyOptions,
  AuditVerifyResult,
  OpenRightsRequest,
  PseudonymKey,
  RightsTrailRecord,
  SubjectReport,
  SubjectReportEntry,
} from '@purposekit/core';
import type { PoolClient } from 'pg';
import { resolveConnection } from './connection';
import type { Connection, PostgresConnectionOptions } from './connection';
import { checkSchema } from './migrate';

const PAGE = 5000;
const SUBJECT_PSEUDONYM = /^hmac-sha256:[A-Za-z0-9._-]{1,32}:[0-9a-f]{64}$/;

async function withConnection<T>(factory: string, options: PostgresConnectionOptions, run: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = resolveConnection(factory, { ...(options.pool === undefined ? {} : { pool: options.pool }), ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }), ...(options.schema === undefined ? {} : { schema: options.schema }) }, 2);
  try {
    await checkSchema(factory, conn);
    return await run(conn);
  } finally {
    if (conn.owned) await conn.pool.end().catch(() => undefined);
  }
}

/** Options of {@link verifyPostgresTrail}. */
export interface PostgresVerifyOptions extends PostgresConnectionOptions {
  /** Verify this stream only. Default: every stream (registered ones, and any stream name found on a row). */
  stream?: string;
  /** Keys that may sign checkpoints (as for `verifyAuditTrail`). Without keys, signatures are not checked. */
  publicKeys?: readonly AuditPublicKey[];
  /** Accept streams whose first records were archived (detached partitions): the first row present anchors each chain. Default false. */
  partial?: boolean;
  /** Published heads to hold each stream to (anchors, e.g. `createPostgresAnchor` or file anchors; matched by stream id), as for `verifyAuditTrail`. */
  anchors?: AuditVerifyOptions['anchors'];
  /** Held to this one head (`seq`, `hash`), as `verifyAuditTrail`'s `expectHead`: only with `stream`. */
  expectHead?: { readonly seq: number; readonly hash: string };
  /** Progress: rows read so far, and the rows to read (counted once at the start, only when this is set). */
  onProgress?: (rowsRead: number, rowsTotal: number) => void;
}

/** One stream's verification: exactly what `verifyAuditTrail` returns for a file trail; `problem.file` is `stream <id>`, `problem.line` the row's position in the stream. */
export interface PostgresStreamVerifyResult {
  readonly stream: string;
  readonly result: AuditVerifyResult;
}

/** The outcome of {@link verifyPostgresTrail}: `verifyAuditTrail`'s shape summed over streams, plus each stream's own result. */
export interface PostgresVerifyResult extends AuditVerifyResult {
  /** The stream of `problem`, when `ok` is false. */
  readonly problemStream?: string;
  readonly streams: readonly PostgresStreamVerifyResult[];
}

interface PgRow {
  seq: string;
  tstext: string;
  kind: string;
  subject: string | null;
  record: string;
}

/**
 * Verifies a PostgreSQL trail: each stream is one chain, checked by core's verifier
 * (hashes, links, checkpoint signatures) with the stream's head checkpoint in the role
 * of the head file. Also checks that each row's columns (seq, ts, kind, subject) say
 * what its record says, since the subject report and the archive work from them.
 * Resolves with `ok: false` and the first problem of each failing stream; does not
 * throw for a tampered trail.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_DB_CONNECT / PURPOSEKIT_ERR_DB_SCHEMA at start;
 *   PURPOSEKIT_ERR_INVALID_KEY for an unusable public key.
 */
export async function verifyPostgresTrail(options: PostgresVerifyOptions): Promise<PostgresVerifyResult> {
  if (options.expectHead !== undefined && options.stream === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'verifyPostgresTrail(): "expectHead" is one stream\'s head: name that stream with "stream".', { details: { option: 'expectHead' } });
  }
  return withConnection('verifyPostgresTrail()', options, async (conn) => {
    const q = conn.q;
    const total = options.onProgress === undefined ? 0 : await countRows(conn, options.stream);
    const registered = await conn.pool.query<{ stream: string; head_checkpoint: string | null }>(`SELECT stream, head_checkpoint FROM ${q}.audit_streams ORDER BY stream`);
    const heads = new Map(registered.rows.map((r) => [r.stream, r.head_checkpoint]));
    let names: string[];
    if (options.stream !== undefined) names = [options.stream];
    else {
      const onRows = await conn.pool.query<{ stream: string }>(`SELECT DISTINCT stream FROM ${q}.audit_records`);
      names = [...new Set([...heads.keys(), ...onRows.rows.map((r) => r.stream)])].sort();
    }
    let read = 0;
    const streams: PostgresStreamVerifyResult[] = [];
    for (const stream of names) {
      const name = `stream ${stream}`;
      let columnProblem: AuditProblem | undefined;
      async function* lines(): AsyncGenerator<string[]> {
        let after: { seq: string; ts: string } | undefined;
        let position = 0;
        for (;;) {
          const page = await conn.pool.query<PgRow>(
            after === undefined
              ? `SELECT seq, ts::text AS tstext, kind, subject, record, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso FROM ${q}.audit_records WHERE stream = $1 ORDER BY seq, ts LIMIT ${PAGE}`
              : `SELECT seq, ts::text AS tstext, kind, subject, record, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso FROM ${q}.audit_records WHERE stream = $1 AND (seq, ts) > ($2::bigint, $3::timestamptz) ORDER BY seq, ts LIMIT ${PAGE}`,
            after === undefined ? [stream] : [stream, after.seq, after.ts],
          );
          if (page.rows.length === 0) return;
          const out: string[] = [];
          for (const row of page.rows as Array<PgRow & { iso: string }>) {
            position++;
            const why = columnProblem === undefined ? columnMismatch(row) : undefined;
            if (why !== undefined) {
              columnProblem = { kind: 'edited', message: `Row ${position} of ${name} (seq column ${row.seq}) was edited: ${why}.`, file: name, line: position, seq: Number(row.seq) };
            }
            out.push(row.record);
          }
          read += page.rows.length;
          options.onProgress?.(read, Math.max(total, read));
          yield out;
          const last = page.rows[page.rows.length - 1]!;
          after = { seq: last.seq, ts: last.tstext };
          if (page.rows.length < PAGE) return;
        }
      }
      const head = heads.get(stream);
      let result = await verifyAuditLines(
        { name, lines: lines(), ...(head == null ? {} : { head, headName: `${name} head (audit_streams)` }) },
        {
          stream,
          ...(options.publicKeys === undefined ? {} : { publicKeys: options.publicKeys }),
          ...(options.partial === true ? { partial: true } : {}),
          ...(options.anchors === undefined ? {} : { anchors: options.anchors }),
          ...(options.expectHead === undefined ? {} : { expectHead: options.expectHead }),
        },
      );
      const cp = columnProblem as AuditProblem | undefined;
      // The earlier of the two problems wins (a problem of the head is found last).
      if (cp !== undefined && (result.ok || result.problem === undefined || result.problem.file !== name || result.problem.line >= cp.line)) result = { ...result, ok: false, problem: cp };
      if (!heads.has(stream) && options.stream === undefined) {
        result = { ...result, ok: false, problem: { kind: 'inserted', message: `Rows carry stream name ${stream}, which no writer registered: they were inserted or moved there.`, file: name, line: 1 } };
      }
      if (options.stream !== undefined && !heads.has(stream) && result.records === 0) {
        result = { ...result, ok: false, problem: { kind: 'missing', message: `No stream ${stream} in schema "${conn.schema}".`, file: name, line: 0 } };
      }
      streams.push({ stream, result });
    }
    return summarise(streams, conn.schema);
  });
}

/** Rows of one stream, or of all. */
async function countRows(conn: Connection, stream: string | undefined): Promise<number> {
  const r = await conn.pool.query<{ n: string }>(
    stream === undefined ? `SELECT count(*)::text AS n FROM ${conn.q}.audit_records` : `SELECT count(*)::text AS n FROM ${conn.q}.audit_records WHERE stream = $1`,
    stream === undefined ? [] : [stream],
  );
  return Number(r.rows[0]?.n ?? 0);
}

/** Options of {@link readPostgresTrailRecords}. */
export interface PostgresReadOptions extends PostgresConnectionOptions {
  /** One stream only. Default: every stream. */
  stream?: string;
  /** Include checkpoint records. Default false. */
  checkpoints?: boolean;
  /** Progress: rows read so far, and the rows to read (counted once at the start, only when this is set). */
  onProgress?: (rowsRead: number, rowsTotal: number) => void;
}

/**
 * Every record of a PostgreSQL trail (all streams, or one), in time order across streams
 * (`ts`, then stream, then `seq`), read through a server-side cursor: memory stays flat
 * whatever the trail's size. The records are parsed as stored; nothing is verified (run
 * {@link verifyPostgresTrail} for that). This is the input the CLI's `audit stats` and
 * whole-trail `audit report` summarise.
 * @throws PurposekitError PURPOSEKIT_ERR_DB_CONNECT / PURPOSEKIT_ERR_DB_SCHEMA at start.
 */
export async function* readPostgresTrailRecords(options: PostgresReadOptions): AsyncGenerator<AuditRecord> {
  const conn = resolveConnection('readPostgresTrailRecords()', options, 1);
  let client: PoolClient | undefined;
  try {
    await checkSchema('readPostgresTrailRecords()', conn);
    const total = options.onProgress === undefined ? 0 : await countRows(conn, options.stream);
    client = await conn.pool.connect();
    await client.query('BEGIN READ ONLY');
    const where = [options.stream === undefined ? '' : 'stream = $1', options.checkpoints === true ? '' : "kind <> 'checkpoint'"].filter((w) => w !== '');
    await client.query(
      `DECLARE pk_records NO SCROLL CURSOR FOR SELECT record FROM ${conn.q}.audit_records ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY ts, stream, seq`,
      options.stream === undefined ? [] : [options.stream],
    );
    let read = 0;
    for (;;) {
      const page = await client.query<{ record: string }>(`FETCH ${PAGE} FROM pk_records`);
      for (const row of page.rows) yield JSON.parse(row.record) as AuditRecord;
      read += page.rows.length;
      if (page.rows.length > 0) options.onProgress?.(read, Math.max(total, read));
      if (page.rows.length < PAGE) break;
    }
    await client.query('COMMIT');
  } finally {
    if (client !== undefined) {
      // a reader that stopped early leaves the transaction open: end it with the session
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    if (conn.owned) await conn.pool.end().catch(() => undefined);
  }
}

/** Why a row's columns disagree with its record, or undefined. */
function columnMismatch(row: PgRow & { iso: string }): string | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(row.record) as Record<string, unknown>;
  } catch {
    return undefined; // the verifier names a record that is not JSON
  }
  if (typeof r !== 'object' || r === null) return undefined;
  if (r['seq'] !== Number(row.seq)) return undefined; // a seq out of place: the verifier classifies it (reordered, inserted…)
  if (r['kind'] !== row.kind) return `its kind column says ${JSON.stringify(row.kind)}, its record ${JSON.stringify(r['kind'])}`;
  if ((r['subject'] ?? null) !== row.subject) return 'its subject column differs from its record (the subject report reads the column)';
  if (r['ts'] !== row.iso) return 'its ts column differs from its record';
  return undefined;
}

function summarise(streams: PostgresStreamVerifyResult[], schema: string): PostgresVerifyResult {
  const failed = streams.find((s) => !s.result.ok);
  const notes = streams.flatMap((s) => s.result.notes.map((n) => `stream ${s.stream}: ${n}`));
  const base = {
    records: streams.reduce((n, s) => n + s.result.records, 0),
    checkpoints: streams.reduce((n, s) => n + s.result.checkpoints, 0),
    files: streams.map((s) => `stream ${s.stream}`),
    unsignedTail: streams.reduce((n, s) => n + s.result.unsignedTail, 0),
    signaturesChecked: streams.every((s) => s.result.signaturesChecked),
    anchorsChecked: streams.reduce((n, s) => n + s.result.anchorsChecked, 0),
    streams,
  };
  if (streams.length === 0) {
    return { ...base, ok: false, problem: { kind: 'missing', message: `Schema "${schema}" holds no audit streams.`, file: '', line: 0 }, notes };
  }
  if (failed !== undefined) return { ...base, ok: false, problem: failed.result.problem!, problemStream: failed.stream, notes };
  return { ...base, ok: true, notes };
}

/** Options of {@link buildPostgresSubjectReport}: the subject by id and key(s), or by pseudonym(s). */
export interface PostgresSubjectReportOptions extends PostgresConnectionOptions {
  subject?: string;
  keys?: readonly PseudonymKey[];
  pseudonyms?: readonly string[];
}

/**
 * The subject access report from PostgreSQL: every record about one person across all
 * streams, read through the (subject, ts) index: the cost grows with the subject's
 * records, not the trail's. Same shape as core's `buildSubjectReport`; `file` is
 * `stream <id>` and `line` the record's seq. Entries are in time order.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when no subject is named.
 */
export async function buildPostgresSubjectReport(options: PostgresSubjectReportOptions): Promise<SubjectReport> {
  const wanted = new Set<string>();
  for (const p of options.pseudonyms ?? []) {
    if (typeof p !== 'string' || !SUBJECT_PSEUDONYM.test(p)) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'subject report: a pseudonym must look like hmac-sha256:<keyId>:<64 hex>.', { details: { option: 'pseudonyms' } });
    wanted.add(p);
  }
  if (options.subject !== undefined) {
    if (typeof options.subject !== 'string' || options.subject.length === 0 || options.keys === undefined || options.keys.length === 0) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'subject report: a subject id needs at least one subject key to compute its pseudonym.', { details: { option: 'keys' } });
    }
    for (const key of options.keys) wanted.add(createSubjectPseudonymizer(key)(options.subject));
  }
  if (wanted.size === 0) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'subject report: name the subject (subject id and key, or pseudonym).', { details: { option: 'subject' } });
  return withConnection('buildPostgresSubjectReport()', options, async (conn) => {
    const rows = await conn.pool.query<{ stream: string; record: string }>(`SELECT stream, record FROM ${conn.q}.audit_records WHERE subject = ANY($1::text[]) ORDER BY ts, stream, seq`, [[...wanted]]);
    const entries: SubjectReportEntry[] = [];
    for (const row of rows.rows) {
      const record = JSON.parse(row.record) as AuditRecord;
      if (record.kind === 'checkpoint' || record.subject === undefined || !wanted.has(record.subject)) continue;
      entries.push(subjectReportEntry(record, `stream ${row.stream}`, record.seq));
    }
    return { pseudonyms: [...wanted], recordsScanned: rows.rows.length, entries };
  });
}

/** Options of {@link exportPostgresTrail}. */
export interface PostgresExportOptions extends PostgresConnectionOptions {
  format: AuditExportFormat;
  /** One stream only. Default: every stream, one after the other. */
  stream?: string;
  /** Progress: rows read so far, and the rows to read (counted once at the start, only when this is set). */
  onProgress?: (rowsRead: number, rowsTotal: number) => void;
}

/**
 * Streams a PostgreSQL trail as text chunks, stream by stream in seq order: `json` is
 * one array of `{ "stream", "record" }` objects (the record exactly as stored); `csv`
 * has a `stream` column followed by core's `AUDIT_CSV_COLUMNS`.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for an unknown format.
 */
export async function* exportPostgresTrail(options: PostgresExportOptions): AsyncGenerator<string> {
  const format = options.format;
  if (format !== 'json' && format !== 'csv') throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `audit export: "format" must be json or csv; got ${JSON.stringify(format)}.`, { details: { option: 'format' } });
  const conn = resolveConnection('exportPostgresTrail()', options, 1);
  try {
    await checkSchema('exportPostgresTrail()', conn);
    const q = conn.q;
    const names =
      options.stream !== undefined
        ? [options.stream]
        : (await conn.pool.query<{ stream: string }>(`SELECT stream FROM ${q}.audit_streams UNION SELECT DISTINCT stream FROM ${q}.audit_records ORDER BY 1`)).rows.map((r) => r.stream);
    let buffer = format === 'csv' ? `stream,${AUDIT_CSV_COLUMNS.join(',')}\r\n` : '[';
    let first = true;
    const total = options.onProgress === undefined ? 0 : await countRows(conn, options.stream);
    let read = 0;
    for (const stream of names) {
      let after: { seq: string; ts: string } | undefined;
      for (;;) {
        const page = await conn.pool.query<{ seq: string; tstext: string; record: string }>(
          after === undefined
            ? `SELECT seq, ts::text AS tstext, record FROM ${q}.audit_records WHERE stream = $1 ORDER BY seq, ts LIMIT ${PAGE}`
            : `SELECT seq, ts::text AS tstext, record FROM ${q}.audit_records WHERE stream = $1 AND (seq, ts) > ($2::bigint, $3::timestamptz) ORDER BY seq, ts LIMIT ${PAGE}`,
          after === undefined ? [stream] : [stream, after.seq, after.ts],
        );
        for (const row of page.rows) {
          if (format === 'csv') buffer += `${csvStream(stream)},${auditCsvRow(JSON.parse(row.record) as AuditRecord)}`;
          else buffer += `${first ? '\n' : ',\n'}{"stream":${JSON.stringify(stream)},"record":${row.record}}`;
          first = false;
        }
        read += page.rows.length;
        if (page.rows.length > 0) options.onProgress?.(read, Math.max(total, read));
        if (buffer.length >= 65536) {
          yield buffer;
          buffer = '';
        }
        if (page.rows.length < PAGE) break;
        const last = page.rows[page.rows.length - 1]!;
        after = { seq: last.seq, ts: last.tstext };
      }
    }
    if (format === 'json') buffer += first ? ']\n' : '\n]\n';
    yield buffer;
  } finally {
    if (conn.owned) await conn.pool.end().catch(() => undefined);
  }
}

function csvStream(stream: string): string {
  return /[",\r\n]/.test(stream) ? `"${stream.replace(/"/g, '""')}"` : stream;
}

/** Options of {@link listPostgresOpenRightsRequests}. */
export interface PostgresRightsOptions extends PostgresConnectionOptions {
  /** Reference instant for `overdue`. Default: now. */
  now?: Date | number;
}

/**
 * The rights register shared by every instance: open data-subject requests (received,
 * not completed) recorded on any stream, soonest due first: core's
 * `listOpenRightsRequests` over the `rights` records of all streams in time order (read
 * through a partial index on rights records). The request state is the record's
 * `attributes.status` text, so states added later (extended, refused…) need no schema change.
 */
export async function listPostgresOpenRightsRequests(options: PostgresRightsOptions): Promise<OpenRightsRequest[]> {
  return withConnection('listPostgresOpenRightsRequests()', options, async (conn) => {
    const rows = await conn.pool.query<{ record: string }>(`SELECT record FROM ${conn.q}.audit_records WHERE kind = 'rights' ORDER BY ts, stream, seq`);
    const records = rows.rows.map((r) => JSON.parse(r.record) as RightsTrailRecord);
    return listOpenRightsRequests(records, options.now ?? Date.now());
  });
}

/**
 * The rights endpoints' access log on PostgreSQL: pass the result as
 * `createRightsHandler(kit, { accessLog })`. Each call reads the subject's rows of every
 * stream through the (subject, ts) index, in time order. The pool stays open (yours).
 */
export function createPostgresAccessLog(options: { pool: import('pg').Pool; schema?: string }): (pseudonym: string) => Promise<AccessLogRecord[]> {
  const conn = resolveConnection('createPostgresAccessLog()', { pool: options.pool, ...(options.schema === undefined ? {} : { schema: options.schema }) });
  const sql = `SELECT record FROM ${conn.q}.audit_records WHERE subject = $1 ORDER BY ts, stream, seq`;
  return async (pseudonym: string) => {
    const rows = await conn.pool.query<{ record: string }>(sql, [pseudonym]);
    return rows.rows.map((r) => JSON.parse(r.record) as AccessLogRecord);
  };
}
