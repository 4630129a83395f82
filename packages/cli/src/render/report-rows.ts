/** The cells of one subject-report row in the terminal table, by record kind. */
import type { SubjectReportEntry } from '@purposekit/core';
import { cell, shortId } from './text-table';

/** Column heads of the subject report table. */
export const REPORT_COLUMNS = ['When (UTC)', 'By', 'Kind', 'Action', 'Data', 'Purpose', 'Basis', 'Outcome', 'Request'] as const;

const attr = (e: SubjectReportEntry, name: string): string | undefined => {
  const v = e.attributes?.[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
};

/**
 * One row. Access rows show the decision (`deny (reason)`); rights rows the right in the
 * action column and its status (with the due date while it is open); consent rows the
 * consent state; age-gate rows the gate and the refusal. Long identifiers are shortened
 * (`--json` keeps them whole); control and format characters are shown as `\uXXXX` (safe-text).
 */
export function reportRow(e: SubjectReportEntry): string[] {
  let action = e.action ?? '-';
  let outcome = e.decision === undefined ? '-' : e.decision === 'deny' && e.reason !== undefined ? `deny (${e.reason})` : e.decision;
  if (e.kind === 'rights') {
    action = attr(e, 'right') ?? action;
    const status = attr(e, 'status');
    const due = attr(e, 'due');
    if (status !== undefined) outcome = status === 'received' && due !== undefined ? `received, due ${due.slice(0, 10)}` : status;
  } else if (e.kind === 'consent') {
    action = 'consent';
    outcome = attr(e, 'state') ?? outcome;
  } else if (e.kind === 'age-gate') {
    const gate = attr(e, 'gate');
    if (gate !== undefined) action = `gate ${gate}`;
  }
  const cells = [
    e.ts.replace('T', ' ').replace('Z', ''),
    shortId(e.actor ?? '-', 24),
    e.kind,
    action,
    e.data.length > 0 ? e.data.join(', ') : '-',
    e.purpose ?? '-',
    e.basis ?? '-',
    outcome,
    e.requestId ?? '-',
  ];
  // A hostile trail must not move the terminal's cursor or reorder its text.
  return cells.map(cell);
}
