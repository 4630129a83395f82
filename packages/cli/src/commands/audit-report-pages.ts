/**
 * `purposekit audit report <path> [--subject <id> [--key <file>]] [--json] [--html <out>] [--by …] [--at …]`
 *
 * Without `--subject`: the trail report (counts by purpose, reason and period, consent
 * changes, age-gate refusals, rights requests with due dates), as text, JSON or an HTML
 * page. With `--subject`: the subject access report (`audit-report.ts`), or with
 * `--html` that person's timeline in plain language.
 */
import { PurposekitError, SUBJECT_PSEUDONYM_PATTERN, buildSubjectReport, parseSubjectKey } from '@purposekit/core';
import type { PseudonymKey, SubjectReport } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { writeNewFile } from '../output-file';
import { absolute } from '../paths';
import { progressFor } from '../progress';
import { subjectTimelineHtml, trailReportHtml } from '../render/report-html';
import { renderTrailReport } from '../render/trail-report-text';
import { fileTrailRecords } from '../summary/file-source';
import { parseAt, parsePeriod } from '../summary/options';
import { summarizeTrail } from '../summary/trail-summary';
import type { SummaryRecord } from '../summary/trail-summary';
import { jsonSafe, terminalSafe } from '../safe-text';
import { trailSize } from '../trail-size';
import { auditReport } from './audit-report';
import { readText } from './audit-verify';

export interface ReportPagesFlags {
  subject?: string;
  key: string[];
  prefix?: string;
  json?: boolean;
  html?: string;
  by?: string;
  at?: string;
}

export async function auditReportCommand(io: CliIo, path: string, flags: ReportPagesFlags): Promise<number> {
  if (flags.subject === undefined) {
    if (flags.key.length > 0) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report: --key only makes sense with --subject <id>.', { details: { option: 'key' } });
    }
    return printTrailReport(io, path, fileTrailRecords(io, path, flags.prefix, 'report'), flags);
  }
  if (flags.html === undefined) {
    return auditReport(io, path, { subject: flags.subject, key: flags.key, ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }), ...(flags.json === true ? { json: true } : {}) });
  }
  const keys: PseudonymKey[] = [];
  for (const file of flags.key) keys.push(parseSubjectKey(await readText(absolute(io, file))));
  if (keys.length === 0 && !SUBJECT_PSEUDONYM_PATTERN.test(flags.subject)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'audit report: the trail holds pseudonyms, not subject ids. Pass the subject key with --key <subject-hmac.key.json>, or a pseudonym (hmac-sha256:<keyId>:<hex>) as --subject.', {
      details: { option: 'key' },
    });
  }
  const at = parseAt('audit report', flags.at);
  const trail = absolute(io, path);
  const progress = progressFor(io, 'report', await trailSize(trail, flags.prefix));
  let report;
  try {
    report = await buildSubjectReport(trail, {
      ...(keys.length > 0 ? { subject: flags.subject, keys } : { pseudonyms: [flags.subject] }),
      ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }),
      ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }),
    });
  } finally {
    progress.stop();
  }
  return writeSubjectTimeline(io, path, report, { html: flags.html, at, ...(flags.json === true ? { json: true } : {}) });
}

/** The whole-trail report (text, JSON, and/or an HTML page) over any source of records, labelled `trail`. Exit 0. */
export async function printTrailReport(io: CliIo, trail: string, records: AsyncIterable<SummaryRecord>, flags: Pick<ReportPagesFlags, 'json' | 'html' | 'by' | 'at'>): Promise<number> {
  const summary = await summarizeTrail(records, { by: parsePeriod('audit report', flags.by), at: parseAt('audit report', flags.at) });
  if (flags.html !== undefined) {
    const out = await writeNewFile(io, flags.html, trailReportHtml(trail, summary));
    if (flags.json !== true) await writeOut(io.stdout, `Wrote ${terminalSafe(out)}\n`);
  }
  if (flags.json === true) await writeOut(io.stdout, `${jsonSafe(JSON.stringify({ trail, ...summary }, null, 2))}\n`);
  else if (flags.html === undefined) await writeOut(io.stdout, renderTrailReport(trail, summary));
  return 0;
}

/** Writes one person's timeline page (`--subject --html`) from a report read anywhere. Exit 0. */
export async function writeSubjectTimeline(io: CliIo, trail: string, report: SubjectReport, flags: { html: string; at: number; json?: boolean }): Promise<number> {
  const out = await writeNewFile(io, flags.html, subjectTimelineHtml(report, { at: flags.at }));
  if (flags.json === true) await writeOut(io.stdout, `${jsonSafe(JSON.stringify({ trail, ...report }, null, 2))}\n`);
  else await writeOut(io.stdout, `Wrote ${terminalSafe(out)} (${report.entries.length} entries about this subject)\n`);
  return 0;
}
