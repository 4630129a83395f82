/**
 * The PostgreSQL forms of the trail commands (`--pg <url>`, or `PURPOSEKIT_PG_URL`):
 * `audit verify|report|export`, `rights due`, and `pg migrate`. Same output and exit
 * codes as the file forms. The URL is a secret: it is never printed (messages name the
 * server as user@host:port/db).
 */
import { createWriteStream } from 'node:fs';
import { PurposekitError, SUBJECT_PSEUDONYM_PATTERN, parseSubjectKey } from '@purposekit/core';
import type { AuditRecord, OpenRightsRequest, PseudonymKey } from '@purposekit/core';
import { buildPostgresSubjectReport, exportPostgresTrail, listPostgresOpenRightsRequests, migrate, readPostgresTrailRecords, verifyPostgresTrail } from '@purposekit/postgres';
import type { PostgresVerifyResult } from '@purposekit/postgres';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { jsonSafe, terminalSafe as t } from '../safe-text';
import { openAnchors } from '../anchor-source';
import { rowProgressFor } from '../progress';
import { parseAt } from '../summary/options';
import { renderReport } from './audit-report';
import { printTrailReport, writeSubjectTimeline } from './audit-report-pages';
import type { ReportPagesFlags } from './audit-report-pages';
import { printStats } from './audit-stats';
import type { StatsFlags } from './audit-stats';
import { parseExpectHead, readText } from './audit-verify';

/** Flags every PostgreSQL form takes. */
export interface PgFlags {
  pg?: string;
  schema?: string;
}

/** The connection URL: `--pg`, else `PURPOSEKIT_PG_URL`, else undefined. */
export function pgUrl(flags: PgFlags): string | undefined {
  if (typeof flags.pg === 'string' && flags.pg.length > 0) return flags.pg;
  const env = process.env['PURPOSEKIT_PG_URL'];
  return env !== undefined && env.length > 0 ? env : undefined;
}

/** Throws the usage error for a command given neither a path nor a database. */
export function needPathOrPg(command: string): never {
  throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${command} needs a trail path, or a PostgreSQL URL (--pg <url> or PURPOSEKIT_PG_URL).`, { details: { option: 'pg' } });
}

function target(url: string, flags: PgFlags): { connectionString: string; schema?: string } {
  return { connectionString: url, ...(flags.schema === undefined ? {} : { schema: flags.schema }) };
}

/** Where the trail is, for output: the schema only (never the URL). */
function label(flags: PgFlags): string {
  return `postgres schema ${flags.schema ?? 'purposekit'}`;
}

/** `audit verify --pg <url> [--stream <id>] --public-key <file>`: exit 0 when every stream holds, 1 when not. */
export async function pgAuditVerify(io: CliIo, url: string, flags: PgFlags & { publicKey: string[]; stream?: string; partial?: boolean; json?: boolean; anchors?: string[]; anchorsPg?: string; anchorsSchema?: string; expectHead?: string }): Promise<number> {
  if (flags.publicKey.length === 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit verify needs --public-key <file> (the audit-signing.pub.pem that `purposekit keys generate` wrote).', { details: { option: 'public-key' } });
  }
  const publicKeys: string[] = [];
  for (const file of flags.publicKey) publicKeys.push(await readText(absolute(io, file)));
  const expectHead = flags.expectHead === undefined ? undefined : parseExpectHead(flags.expectHead);
  if (expectHead !== undefined && flags.stream === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit verify --pg: --expect-head is one stream\'s head: name the stream with --stream <id> (each stream is its own chain).', { details: { option: 'expect-head' } });
  }
  const opened = await openAnchors(io, flags);
  const progress = rowProgressFor(io, 'verify');
  let result: PostgresVerifyResult;
  try {
    result = await verifyPostgresTrail({
      ...target(url, flags),
      publicKeys,
      ...(opened.anchors.length === 0 ? {} : { anchors: opened.anchors }),
      ...(flags.stream === undefined ? {} : { stream: flags.stream }),
      ...(flags.partial === true ? { partial: true } : {}),
      ...(expectHead === undefined ? {} : { expectHead }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    });
  } finally {
    progress.stop();
    await opened.close();
  }
  if (flags.json === true) await writeOut(io.stdout, `${jsonSafe(JSON.stringify(result, null, 2))}\n`);
  else await writeOut(io.stdout, renderVerify(label(flags), result, opened.anchors.length > 0 || expectHead !== undefined));
  if (result.problem !== undefined) {
    const p = result.problem;
    await writeOut(io.stderr, `PURPOSEKIT_ERR_AUDIT_CORRUPT: ${p.kind}: ${t(p.message)}\n`);
    return 1;
  }
  return 0;
}

function renderVerify(where: string, r: PostgresVerifyResult, anchored: boolean): string {
  const lines: string[] = [];
  if (r.problem !== undefined) {
    const p = r.problem;
    lines.push(`FAILED ${t(where)}: ${p.kind} at ${t(p.file)}${p.line > 0 ? `, row ${p.line}` : ''}${p.seq === undefined ? '' : ` (seq ${p.seq})`}`);
    lines.push(`  ${t(p.message)}`);
  } else {
    lines.push(`OK ${t(where)}: ${r.records} records in ${r.streams.length} stream${r.streams.length === 1 ? '' : 's'}, ${r.checkpoints} signed checkpoint${r.checkpoints === 1 ? '' : 's'}.`);
  }
  for (const s of r.streams) {
    const x = s.result;
    if (x.problem !== undefined) lines.push(`  stream ${t(s.stream)}: FAILED ${x.problem.kind}${x.problem.seq === undefined ? '' : ` at seq ${x.problem.seq}`}`);
    else {
      lines.push(`  stream ${t(s.stream)}: ${x.records} records, chain head seq ${x.lastSeq ?? 0} ${t(x.lastHash ?? '-')}${x.unsignedTail > 0 ? `, ${x.unsignedTail} not yet signed` : ''}`);
      if (anchored) {
        if (x.anchored === undefined) lines.push(`    not anchored: no anchored head of this stream was given; its ${x.unanchoredTail ?? x.records} records are protected by its own signatures only.`);
        else lines.push(`    signed and anchored up to seq ${x.anchored.seq} at ${t(x.anchored.ts)}; ${x.unanchoredTail ?? 0} record(s) after it are not yet anchored (${x.anchorsChecked} anchored head(s) checked).`);
      }
    }
  }
  for (const note of r.notes) lines.push(`  note: ${t(note)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `audit report --pg <url>`: without `--subject`, the whole-trail report (text, `--json`,
 * `--html`) over every stream's records (or `--stream`'s); with `--subject`, the subject
 * access report, or with `--html` that person's timeline page.
 */
export async function pgAuditReportCommand(io: CliIo, url: string, flags: PgFlags & ReportPagesFlags & { stream?: string }): Promise<number> {
  if (flags.subject === undefined) {
    if (flags.key.length > 0) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report: --key only makes sense with --subject <id>.', { details: { option: 'key' } });
    parseAt('audit report', flags.at); // a bad --at is refused before the trail is read
    return withRowProgress(io, 'report', (onProgress) => printTrailReport(io, label(flags), pgRecords(url, flags, onProgress), flags));
  }
  if (flags.stream !== undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report --subject reads every stream (through the subject index); --stream applies to the whole-trail report.', { details: { option: 'stream' } });
  if (flags.html === undefined) return pgAuditReport(io, url, { ...flags, subject: flags.subject });
  const at = parseAt('audit report', flags.at);
  const report = await buildPostgresSubjectReport({ ...target(url, flags), ...(await subjectSelector(io, flags.subject, flags.key)) });
  return writeSubjectTimeline(io, label(flags), report, { html: flags.html, at, ...(flags.json === true ? { json: true } : {}) });
}

/** `audit stats --pg <url> [--stream <id>]`: the counts over every stream's records (or one stream's). */
export async function pgAuditStats(io: CliIo, url: string, flags: PgFlags & StatsFlags & { stream?: string }): Promise<number> {
  parseAt('audit stats', flags.at);
  return withRowProgress(io, 'stats', (onProgress) => printStats(io, label(flags), pgRecords(url, flags, onProgress), flags));
}

function pgRecords(url: string, flags: PgFlags & { stream?: string }, onProgress: ((done: number, total: number) => void) | undefined): AsyncGenerator<AuditRecord> {
  return readPostgresTrailRecords({ ...target(url, flags), ...(flags.stream === undefined ? {} : { stream: flags.stream }), ...(onProgress === undefined ? {} : { onProgress }) });
}

async function withRowProgress<T>(io: CliIo, what: string, work: (onProgress: ((done: number, total: number) => void) | undefined) => Promise<T>): Promise<T> {
  const progress = rowProgressFor(io, what);
  try {
    return await work(progress.onProgress);
  } finally {
    progress.stop();
  }
}

async function subjectSelector(io: CliIo, subject: string, keyFiles: string[]): Promise<{ subject: string; keys: PseudonymKey[] } | { pseudonyms: string[] }> {
  const keys: PseudonymKey[] = [];
  for (const file of keyFiles) keys.push(parseSubjectKey(await readText(absolute(io, file))));
  if (keys.length === 0 && !SUBJECT_PSEUDONYM_PATTERN.test(subject)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report: the trail holds pseudonyms, not subject ids. Pass the subject key with --key <subject-hmac.key.json>, or a pseudonym (hmac-sha256:<keyId>:<hex>) as --subject.', {
      details: { option: 'key' },
    });
  }
  return keys.length > 0 ? { subject, keys } : { pseudonyms: [subject] };
}

/** `audit report --pg <url> --subject <id> --key <file>`. */
export async function pgAuditReport(io: CliIo, url: string, flags: PgFlags & { subject: string; key: string[]; json?: boolean }): Promise<number> {
  const report = await buildPostgresSubjectReport({ ...target(url, flags), ...(await subjectSelector(io, flags.subject, flags.key)) });
  if (flags.json === true) await writeOut(io.stdout, `${jsonSafe(JSON.stringify({ trail: label(flags), ...report }, null, 2))}\n`);
  else await writeOut(io.stdout, renderReport(label(flags), report));
  return 0;
}

/** `audit export --pg <url> --format json|csv [--stream <id>] [--output <file>]`. */
export async function pgAuditExport(io: CliIo, url: string, flags: PgFlags & { format: string; output?: string; stream?: string }): Promise<number> {
  const progress = rowProgressFor(io, 'export');
  try {
    return await exportTo(io, url, flags, progress.onProgress);
  } finally {
    progress.stop();
  }
}

async function exportTo(io: CliIo, url: string, flags: PgFlags & { format: string; output?: string; stream?: string }, onProgress: ((done: number, total: number) => void) | undefined): Promise<number> {
  const chunks = exportPostgresTrail({ ...target(url, flags), format: flags.format as 'json' | 'csv', ...(flags.stream === undefined ? {} : { stream: flags.stream }), ...(onProgress === undefined ? {} : { onProgress }) });
  if (flags.output === undefined) {
    for await (const chunk of chunks) await writeOut(io.stdout, chunk);
    return 0;
  }
  const path = absolute(io, flags.output);
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', (cause: NodeJS.ErrnoException) => reject(new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot create ${path} (${cause.code ?? 'EIO'}).`, { cause, details: { path, code: cause.code ?? 'EIO' } })));
  });
  try {
    for await (const chunk of chunks) await writeOut(out, chunk);
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return 0;
}

/** `rights due --pg <url>`: every instance's open requests. */
export async function pgRightsDue(io: CliIo, url: string, flags: PgFlags & { at?: string; json?: boolean; failOnOverdue?: boolean }): Promise<number> {
  const now = flags.at === undefined ? Date.now() : Date.parse(flags.at);
  if (!Number.isFinite(now)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `rights due: --at must be an ISO 8601 instant such as 2026-12-01T00:00:00Z; got ${JSON.stringify(flags.at)}.`, { details: { option: 'at' } });
  }
  const open: OpenRightsRequest[] = await listPostgresOpenRightsRequests({ ...target(url, flags), now });
  if (flags.json === true) {
    await writeOut(io.stdout, `${jsonSafe(JSON.stringify({ at: new Date(now).toISOString(), open }, null, 2))}\n`);
  } else if (open.length === 0) {
    await writeOut(io.stdout, `No open data-subject requests (as of ${new Date(now).toISOString()}).\n`);
  } else {
    const rows = open.map((r) => [t(r.due), r.overdue ? 'OVERDUE' : '', t(r.right), t(r.receivedAt ?? ''), t(r.requestId), t(r.subject ?? '')]);
    const head = ['due', 'state', 'right', 'received', 'request', 'subject (pseudonym)'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    const overdue = open.filter((r) => r.overdue).length;
    await writeOut(io.stdout, `${[line(head), ...rows.map(line)].join('\n')}\n${open.length} open, ${overdue} overdue (as of ${new Date(now).toISOString()}).\n`);
  }
  return flags.failOnOverdue === true && open.some((r) => r.overdue) ? 1 : 0;
}

/** `pg migrate [--pg <url>] [--schema <name>]`. */
export async function pgMigrate(io: CliIo, flags: PgFlags): Promise<number> {
  const url = pgUrl(flags);
  if (url === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'pg migrate needs a PostgreSQL URL: --pg <url> or PURPOSEKIT_PG_URL.', { details: { option: 'pg' } });
  const r = await migrate(target(url, flags));
  await writeOut(
    io.stdout,
    r.applied.length === 0 ? `Schema ${r.schema} is up to date (version ${r.to}).\n` : `Schema ${r.schema} migrated from version ${r.from} to ${r.to} (applied ${r.applied.join(', ')}).\n`,
  );
  return 0;
}
