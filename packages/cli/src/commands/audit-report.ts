/** `purposekit audit report --subject <id> <path> [--key <file>] [--json]` */
import { PurposekitError, SUBJECT_PSEUDONYM_PATTERN, parseSubjectKey, streamSubjectReport } from '@purposekit/core';
import type { SubjectReport, SubjectReportEntry, SubjectReportOptions } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo, CliStream } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { jsonSafe, terminalSafe } from '../safe-text';
import { trailSize } from '../trail-size';
import { readText } from './audit-verify';
import { REPORT_COLUMNS, reportRow } from '../render/report-rows';

export interface ReportFlags {
  subject: string;
  key: string[];
  prefix?: string;
  json?: boolean;
}

/** Output is written in chunks of about this many characters (with backpressure). */
const CHUNK = 64 * 1024;

/**
 * Streams the report: memory stays flat whatever the number of records. The table needs
 * column widths, so it reads the trail twice (widths and count, then rows), printing no
 * more rows than the first pass counted (a writer may append meanwhile).
 */
export async function auditReport(io: CliIo, path: string, flags: ReportFlags): Promise<number> {
  const keys = [];
  for (const file of flags.key) keys.push(parseSubjectKey(await readText(absolute(io, file))));
  if (keys.length === 0 && !SUBJECT_PSEUDONYM_PATTERN.test(flags.subject)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report: the trail holds pseudonyms, not subject ids. Pass the subject key with --key <subject-hmac.key.json>, or a pseudonym (hmac-sha256:<keyId>:<hex>) as --subject.', {
      details: { option: 'key' },
    });
  }
  const trail = absolute(io, path);
  const progress = progressFor(io, 'report', (await trailSize(trail, flags.prefix)) * (flags.json === true ? 1 : 2));
  const base: SubjectReportOptions = {
    ...(keys.length > 0 ? { subject: flags.subject, keys } : { pseudonyms: [flags.subject] }),
    ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
  };
  let offset = 0;
  const options = (): SubjectReportOptions => {
    const from = offset;
    return { ...base, ...(progress.onProgress === undefined ? {} : { onProgress: (n: number, total: number) => progress.onProgress!(from + n, total) }) };
  };
  try {
    if (flags.json === true) {
      await streamJson(io.stdout, path, trail, options());
    } else {
      const widths = COLUMNS.map((c) => c.length);
      const first = streamSubjectReport(trail, options());
      let count = 0;
      for await (const e of first.entries) {
        const cells = cellsOf(e);
        for (let i = 0; i < cells.length; i++) if (cells[i]!.length > widths[i]!) widths[i] = cells[i]!.length;
        count++;
      }
      offset = await trailSize(trail, flags.prefix);
      await writeOut(io.stdout, headerOf(path, first.pseudonyms, count, first.recordsScanned, widths));
      const second = streamSubjectReport(trail, options());
      let buffer = '';
      let n = 0;
      if (count > 0) {
        for await (const e of second.entries) {
          buffer += `${lineOf(cellsOf(e), widths)}\n`;
          if (buffer.length >= CHUNK) {
            await writeOut(io.stdout, buffer);
            buffer = '';
          }
          if (++n >= count) break;
        }
      }
      await writeOut(io.stdout, `${buffer}${FOOTER}`);
    }
  } finally {
    progress.stop();
  }
  return 0;
}

async function streamJson(out: CliStream, path: string, trail: string, options: SubjectReportOptions): Promise<void> {
  const scan = streamSubjectReport(trail, options);
  await writeOut(out, `{\n  "trail": ${jsonSafe(JSON.stringify(path))},\n  "pseudonyms": ${jsonSafe(JSON.stringify(scan.pseudonyms))},\n  "entries": [`);
  let buffer = '';
  let first = true;
  for await (const e of scan.entries) {
    buffer += `${first ? '' : ','}\n    ${jsonSafe(JSON.stringify(e))}`;
    first = false;
    if (buffer.length >= CHUNK) {
      await writeOut(out, buffer);
      buffer = '';
    }
  }
  await writeOut(out, `${buffer}${first ? '' : '\n  '}],\n  "recordsScanned": ${scan.recordsScanned}\n}\n`);
}

const COLUMNS = REPORT_COLUMNS;
const FOOTER = '\nThis report does not check integrity: run `purposekit audit verify` on the same trail.\n';

/** The cells of one row (by record kind; terminal-safe, long ids shortened): see render/report-rows. */
const cellsOf = (e: SubjectReportEntry): string[] => reportRow(e);

function lineOf(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => c.padEnd(widths[i]!))
    .join('  ')
    .trimEnd();
}

function headerOf(path: string, pseudonyms: readonly string[], count: number, scanned: number, widths: readonly number[]): string {
  const out = [
    'Subject access report',
    `Trail:      ${terminalSafe(path)}`,
    `Pseudonyms: ${pseudonyms.map(terminalSafe).join(', ')}`,
    `Records:    ${count} about this subject (of ${scanned} read)`,
    '',
  ];
  if (count === 0) out.push('No record about this subject.');
  else out.push(lineOf(COLUMNS, widths), lineOf(widths.map((w) => '-'.repeat(w)), widths));
  return `${out.join('\n')}\n`;
}

/** The report as a plain-text table (for a report already in memory). */
export function renderReport(path: string, report: SubjectReport): string {
  const rows = report.entries.map(cellsOf);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  return `${headerOf(path, report.pseudonyms, report.entries.length, report.recordsScanned, widths)}${rows.map((r) => `${lineOf(r, widths)}\n`).join('')}${FOOTER}`;
}
