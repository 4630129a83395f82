/**
 * One pass over a trail's records that counts what a privacy officer asks about:
 * decisions by purpose, reason and period; consent changes; age-gate refusals; rights
 * requests with their due dates. `audit stats`, `audit report --json` (without a
 * subject) and `audit report --html` all print this one object, so their numbers agree.
 *
 * The input is any iterable of records (a file trail today, a PostgreSQL query
 * tomorrow): nothing here knows where the records come from.
 */
import type { AuditRecord } from '@purposekit/core';

/** Calendar period used to group decisions (UTC). */
export type Period = 'day' | 'week' | 'month';

/** The records a summary reads: an `AuditRecord` fits; checkpoints are skipped. */
export type SummaryRecord = Pick<AuditRecord, 'kind' | 'ts'> & {
  readonly subject?: string;
  readonly purpose?: string;
  readonly decision?: 'allow' | 'deny';
  readonly reason?: string;
  readonly requestId?: string;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
  readonly policy?: { readonly id: string; readonly version: string };
};

/** Allowed and denied access decisions. */
export interface DecisionCount {
  allow: number;
  deny: number;
}

/** One rights request as the trail tells it. */
export interface RightsRequestSummary {
  requestId: string;
  right: string;
  /** Subject pseudonym, whole. */
  subject: string | undefined;
  receivedAt: string;
  /** Answer deadline (the last `due` recorded: an extension moves it). */
  due: string;
  /** `open`, or the last closing status: completed, refused, partly-completed. */
  status: string;
  closedAt: string | undefined;
  /** Open with its due date at or before `at`. */
  overdue: boolean;
  /** Closed after its due date. */
  late: boolean;
}

/** What {@link summarizeTrail} returns; JSON-safe as is. */
export interface TrailSummary {
  /** The instant overdue marks are evaluated at (ISO 8601). */
  at: string;
  by: Period;
  /** Event records read (checkpoints not counted). */
  records: number;
  /** First and last event timestamps, when any. */
  from: string | undefined;
  to: string | undefined;
  /** The policies (`id version`) the records were decided under, in order of first appearance. */
  policies: string[];
  kinds: { access: number; consent: number; 'age-gate': number; rights: number; other: number };
  decisions: DecisionCount;
  /** Access decisions per purpose, most first. `(none)` for a record without a purpose. */
  byPurpose: Array<{ purpose: string } & DecisionCount>;
  /** Denials per reason code, most first (the "top denial reasons"). */
  denialsByReason: Array<{ reason: string; count: number }>;
  /** Periods in order, each with its decisions per purpose. */
  byPeriod: Array<{ period: string; start: string; total: DecisionCount; purposes: Record<string, DecisionCount> }>;
  consent: { changes: number; byPurpose: Array<{ purpose: string; states: Record<string, number> }> };
  ageGate: { refusals: number; byGate: Array<{ gate: string; count: number }>; byOutcome: Array<{ outcome: string; count: number }> };
  rights: { requests: number; open: number; overdue: number; items: RightsRequestSummary[] };
}

/** Options of {@link summarizeTrail}. */
export interface SummaryOptions {
  /** Group decisions by this period. Default: `auto` picks day (≤ 62 days), week (≤ 1 year) or month. */
  by?: Period | 'auto';
  /** The instant for overdue marks (ms since the epoch). Default: now. */
  at?: number;
}

const NONE = '(none)';

/** Start of the UTC period holding `ms`, and its label. */
export function periodOf(ms: number, by: Period): { start: string; label: string } {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (by === 'month') {
    const start = new Date(Date.UTC(y, m, 1));
    return { start: start.toISOString(), label: start.toISOString().slice(0, 7) };
  }
  const day = new Date(Date.UTC(y, m, d.getUTCDate()));
  if (by === 'day') return { start: day.toISOString(), label: day.toISOString().slice(0, 10) };
  // ISO 8601 week: starts on Monday; week 1 holds the year's first Thursday.
  const weekday = (day.getUTCDay() + 6) % 7;
  const monday = new Date(day.getTime() - weekday * 86_400_000);
  const thursday = new Date(monday.getTime() + 3 * 86_400_000);
  const isoYear = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * 86_400_000)) + 1;
  return { start: monday.toISOString(), label: `${isoYear}-W${String(week).padStart(2, '0')}` };
}

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

const sortedCounts = <T extends string>(map: Map<string, number>, name: T): Array<Record<T, string> & { count: number }> =>
  [...map]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, count]) => ({ [name]: k, count }) as Record<T, string> & { count: number });

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Reads every record once and returns the counts. Records must come in trail order
 * (a rights request's later statuses follow its receipt).
 */
export async function summarizeTrail(records: AsyncIterable<SummaryRecord> | Iterable<SummaryRecord>, options: SummaryOptions = {}): Promise<TrailSummary> {
  const at = options.at ?? Date.now();
  const events: Array<{ ms: number; purpose: string; decision: 'allow' | 'deny' }> = [];
  const kinds = { access: 0, consent: 0, 'age-gate': 0, rights: 0, other: 0 };
  const byPurpose = new Map<string, DecisionCount>();
  const reasons = new Map<string, number>();
  const consent = new Map<string, Map<string, number>>();
  const gates = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const rights = new Map<string, RightsRequestSummary>();
  let count = 0;
  const policies = new Set<string>();
  let first: number | undefined;
  let last: number | undefined;
  let from: string | undefined;
  let to: string | undefined;

  for await (const r of records) {
    if (r.kind === 'checkpoint') continue;
    count++;
    if (r.policy !== undefined) policies.add(`${r.policy.id} ${r.policy.version}`);
    const ms = Date.parse(r.ts);
    if (Number.isFinite(ms)) {
      if (first === undefined || ms < first) {
        first = ms;
        from = r.ts;
      }
      if (last === undefined || ms > last) {
        last = ms;
        to = r.ts;
      }
    }
    switch (r.kind) {
      case 'access': {
        kinds.access++;
        if (r.decision !== 'allow' && r.decision !== 'deny') break;
        const purpose = str(r.purpose) ?? NONE;
        const c = byPurpose.get(purpose) ?? { allow: 0, deny: 0 };
        c[r.decision]++;
        byPurpose.set(purpose, c);
        if (r.decision === 'deny') bump(reasons, str(r.reason) ?? NONE);
        if (Number.isFinite(ms)) events.push({ ms, purpose, decision: r.decision });
        break;
      }
      case 'consent': {
        kinds.consent++;
        const purpose = str(r.purpose) ?? NONE;
        const states = consent.get(purpose) ?? new Map<string, number>();
        bump(states, str(r.attributes?.['state']) ?? NONE);
        consent.set(purpose, states);
        break;
      }
      case 'age-gate': {
        kinds['age-gate']++;
        if (r.decision !== 'deny') break;
        bump(gates, str(r.attributes?.['gate']) ?? NONE);
        bump(outcomes, str(r.reason) ?? NONE);
        break;
      }
      case 'rights': {
        kinds.rights++;
        const right = str(r.attributes?.['right']);
        const status = str(r.attributes?.['status']);
        if (r.requestId === undefined || right === undefined || status === undefined) break;
        // Same key as `rights due`: a status recorded for another subject closes nothing.
        const key = `${r.requestId}\u0000${right}\u0000${r.subject ?? ''}`;
        const due = str(r.attributes?.['due']);
        const known = rights.get(key);
        if (status === 'received') {
          if (due === undefined || Number.isNaN(Date.parse(due))) break;
          rights.set(key, { requestId: r.requestId, right, subject: r.subject, receivedAt: r.ts, due, status: 'open', closedAt: undefined, overdue: false, late: false });
        } else if (known !== undefined) {
          if (status === 'extended') {
            if (due !== undefined && !Number.isNaN(Date.parse(due))) known.due = due;
          } else if (known.status === 'open') {
            known.status = status;
            known.closedAt = r.ts;
          }
        }
        break;
      }
      default:
        kinds.other++;
    }
  }

  const by: Period = options.by === undefined || options.by === 'auto' ? autoPeriod(first, last) : options.by;
  const periods = new Map<string, { period: string; start: string; total: DecisionCount; purposes: Record<string, DecisionCount> }>();
  for (const e of events) {
    const { start, label } = periodOf(e.ms, by);
    let p = periods.get(label);
    if (p === undefined) periods.set(label, (p = { period: label, start, total: { allow: 0, deny: 0 }, purposes: Object.create(null) as Record<string, DecisionCount> }));
    p.total[e.decision]++;
    const c = (p.purposes[e.purpose] ??= { allow: 0, deny: 0 });
    c[e.decision]++;
  }

  const items = [...rights.values()].map((r) => {
    const dueMs = Date.parse(r.due);
    return { ...r, overdue: r.status === 'open' && dueMs <= at, late: r.closedAt !== undefined && Date.parse(r.closedAt) > dueMs };
  });
  items.sort((a, b) => Date.parse(a.due) - Date.parse(b.due) || a.receivedAt.localeCompare(b.receivedAt) || a.requestId.localeCompare(b.requestId));
  const decisions = { allow: 0, deny: 0 };
  for (const c of byPurpose.values()) {
    decisions.allow += c.allow;
    decisions.deny += c.deny;
  }

  return {
    at: new Date(at).toISOString(),
    by,
    records: count,
    from,
    to,
    policies: [...policies],
    kinds,
    decisions,
    byPurpose: [...byPurpose]
      .sort((a, b) => b[1].allow + b[1].deny - (a[1].allow + a[1].deny) || a[0].localeCompare(b[0]))
      .map(([purpose, c]) => ({ purpose, allow: c.allow, deny: c.deny })),
    denialsByReason: sortedCounts(reasons, 'reason'),
    byPeriod: [...periods.values()].sort((a, b) => a.start.localeCompare(b.start)),
    consent: {
      changes: kinds.consent,
      byPurpose: [...consent].sort((a, b) => a[0].localeCompare(b[0])).map(([purpose, states]) => ({ purpose, states: Object.fromEntries([...states].sort((a, b) => a[0].localeCompare(b[0]))) })),
    },
    ageGate: { refusals: [...gates.values()].reduce((a, b) => a + b, 0), byGate: sortedCounts(gates, 'gate'), byOutcome: sortedCounts(outcomes, 'outcome') },
    rights: { requests: items.length, open: items.filter((i) => i.status === 'open').length, overdue: items.filter((i) => i.overdue).length, items },
  };
}

function autoPeriod(first: number | undefined, last: number | undefined): Period {
  if (first === undefined || last === undefined) return 'day';
  const days = (last - first) / 86_400_000;
  return days <= 62 ? 'day' : days <= 366 ? 'week' : 'month';
}
