/** `purposekit audit stats <path> [--by day|week|month] [--top <n>] [--at <instant>] [--json]` */
import { PurposekitError } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { textTable } from '../render/text-table';
import { fileTrailRecords } from '../summary/file-source';
import { parseAt, parsePeriod } from '../summary/options';
import { summarizeTrail } from '../summary/trail-summary';
import type { SummaryRecord, TrailSummary } from '../summary/trail-summary';
import { jsonSafe } from '../safe-text';

export interface StatsFlags {
  by?: string;
  top?: string;
  at?: string;
  json?: boolean;
  prefix?: string;
}

/** Counts allow/deny by purpose, by denial reason and by period; prints a table or JSON. Exit 0. */
export async function auditStats(io: CliIo, path: string, flags: StatsFlags): Promise<number> {
  return printStats(io, path, fileTrailRecords(io, path, flags.prefix), flags);
}

/** Stats over any source of records (a file trail, a PostgreSQL trail), labelled `trail` in the output. Exit 0. */
export async function printStats(io: CliIo, trail: string, records: AsyncIterable<SummaryRecord>, flags: StatsFlags): Promise<number> {
  const by = parsePeriod('audit stats', flags.by);
  const at = parseAt('audit stats', flags.at);
  const top = flags.top === undefined ? 5 : Number(flags.top);
  if (!Number.isInteger(top) || top < 1 || top > 1000) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `audit stats: --top must be a whole number from 1 to 1000; got ${JSON.stringify(flags.top)}.`, { details: { option: 'top' } });
  }
  const summary = await summarizeTrail(records, { by, at });
  if (flags.json === true) {
    const { byPurpose, denialsByReason, byPeriod, decisions, records, from, to, kinds } = summary;
    await writeOut(io.stdout, `${jsonSafe(JSON.stringify({ trail, at: summary.at, by: summary.by, records, from, to, kinds, decisions, byPurpose, topDenialReasons: denialsByReason.slice(0, top), denialsByReason, byPeriod }, null, 2))}\n`);
  } else {
    await writeOut(io.stdout, renderStats(trail, summary, top));
  }
  return 0;
}

const pct = (part: number, whole: number): string => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`);

/** The stats as plain text. */
export function renderStats(path: string, s: TrailSummary, top: number): string {
  const total = s.decisions.allow + s.decisions.deny;
  const out = [
    'Access decisions',
    `Trail:    ${path}`,
    `Period:   ${s.from === undefined ? 'no records' : `${s.from} to ${s.to}`}`,
    `Records:  ${s.records} (${s.kinds.access} access, ${s.kinds.consent} consent, ${s.kinds['age-gate']} age-gate, ${s.kinds.rights} rights)`,
    `Decided:  ${total}: ${s.decisions.allow} allowed, ${s.decisions.deny} denied (${pct(s.decisions.deny, total)})`,
    '',
  ];
  if (total === 0) return `${[...out, 'No access decision in this trail.'].join('\n')}\n`;
  out.push('By purpose', textTable(['purpose', 'allowed', 'denied', 'denied %'], s.byPurpose.map((p) => [p.purpose, String(p.allow), String(p.deny), pct(p.deny, p.allow + p.deny)]), ['left', 'right', 'right', 'right']), '');
  out.push(`Top denial reasons (${Math.min(top, s.denialsByReason.length)} of ${s.denialsByReason.length})`);
  if (s.denialsByReason.length === 0) out.push('No denial.');
  else out.push(textTable(['reason', 'denials', 'share'], s.denialsByReason.slice(0, top).map((r) => [r.reason, String(r.count), pct(r.count, s.decisions.deny)]), ['left', 'right', 'right']));
  out.push('', `By ${s.by} (UTC)`);
  out.push(textTable([s.by, 'allowed', 'denied', 'purposes'], s.byPeriod.map((p) => [p.period, String(p.total.allow), String(p.total.deny), Object.keys(p.purposes).sort().join(', ')]), ['left', 'right', 'right', 'left']));
  return `${out.join('\n')}\n`;
}
