/** The trail report (no subject) as plain text: the stats plus consent, age gates and rights. */
import type { TrailSummary } from '../summary/trail-summary';
import { renderStats } from '../commands/audit-stats';
import { shortId, textTable } from './text-table';

export function renderTrailReport(path: string, s: TrailSummary): string {
  const out = [renderStats(path, s, 10).trimEnd(), '', `Consent changes: ${s.consent.changes}`];
  if (s.consent.byPurpose.length > 0) {
    const states = [...new Set(s.consent.byPurpose.flatMap((p) => Object.keys(p.states)))].sort();
    out.push(textTable(['purpose', ...states], s.consent.byPurpose.map((p) => [p.purpose, ...states.map((st) => String(p.states[st] ?? 0))]), ['left', ...states.map(() => 'right' as const)]));
  }
  out.push('', `Age-gate refusals: ${s.ageGate.refusals}`);
  if (s.ageGate.refusals > 0) out.push(textTable(['gate', 'refusals'], s.ageGate.byGate.map((g) => [g.gate, String(g.count)]), ['left', 'right']));
  out.push('', `Rights requests: ${s.rights.requests} (${s.rights.open} open, ${s.rights.overdue} overdue as of ${s.at})`);
  if (s.rights.items.length > 0) {
    out.push(
      textTable(
        ['right', 'subject', 'received', 'due', 'status'],
        s.rights.items.map((r) => [r.right, r.subject === undefined ? '-' : shortId(r.subject), r.receivedAt, r.due, r.overdue ? 'OVERDUE' : r.late ? `${r.status} (late)` : r.status]),
      ),
    );
  }
  out.push('', 'This report does not check integrity: run `purposekit audit verify` on the same trail.');
  return `${out.join('\n')}\n`;
}
