/** `purposekit audit report --subject <id> <path> [--key <file>] [--json]` */
import { PurposekitError, SUBJECT_PSEUDONYM_PATTERN, buildSubjectReport, parseSubjectKey } from '@purposekit/core';
import type { SubjectReport } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { trailSize } from '../trail-size';
import { readText } from './audit-verify';
import { REPORT_COLUMNS, reportRow } from '../render/report-rows';

export interface ReportFlags {
  subject: string;
  key: string[];
  prefix?: string;
  json?: boolean;
}

export async function auditReport(io: CliIo, path: string, flags: ReportFlags): Promise<number> {
  const keys = [];
  for (const file of flags.key) keys.push(parseSubjectKey(await readText(absolute(io, file))));
  if (keys.length === 0 && !SUBJECT_PSEUDONYM_PATTERN.test(flags.subject)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report: the trail holds pseudonyms, not subject ids. Pass the subject key with --key <subject-hmac.key.json>, or a pseudonym (hmac-sha256:<keyId>:<hex>) as --subject.', {
      details: { option: 'key' },
    });
  }
  const trail = absolute(io, path);
  const progress = progressFor(io, 'report', await trailSize(trail, flags.prefix));
  let report: SubjectReport;
  try {
    report = await buildSubjectReport(trail, {
      ...(keys.length > 0 ? { subject: flags.subject, keys } : { pseudonyms: [flags.subject] }),
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    });
  } finally {
    progress.stop();
  }
  if (flags.json === true) {
    await writeOut(io.stdout, `${JSON.stringify({ trail: path, ...report }, null, 2)}\n`);
  } else {
    await writeOut(io.stdout, renderReport(path, report));
  }
  return 0;
}

const COLUMNS = REPORT_COLUMNS;

/** The report as a plain-text table. */
export function renderReport(path: string, report: SubjectReport): string {
  const rows = report.entries.map(reportRow);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    'Subject access report',
    `Trail:      ${path}`,
    `Pseudonyms: ${report.pseudonyms.join(', ')}`,
    `Records:    ${report.entries.length} about this subject (of ${report.recordsScanned} read)`,
    '',
  ];
  if (rows.length === 0) out.push('No record about this subject.');
  else out.push(line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  out.push('', 'This report does not check integrity: run `purposekit audit verify` on the same trail.');
  return `${out.join('\n')}\n`;
}
