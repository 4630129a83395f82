/**
 * The reports over the four reference apps' real trails (written by their end-to-end
 * tests through the real file sink: `npm run fixtures:app-trails`). Each number of
 * `audit stats --json`, `audit report --json` and the HTML page is checked against a count
 * made here straight from the JSON lines, sharing no code with the summaries.
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, metrics } from './support';

const FIXTURES = join(__dirname, 'fixtures', 'app-trails');
const AT = '2027-02-01T00:00:00.000Z';
const APPS = ['openinfra', 'kubevirt', 'bitnami', 'coreos'] as const;

interface Line {
  kind: string;
  purpose?: string;
  decision?: string;
  reason?: string;
  subject?: string;
  requestId?: string;
  attributes?: Record<string, string>;
}

/** The oracle: counts straight from the file. */
function count(app: string) {
  const dir = join(FIXTURES, app, 'audit');
  const lines: Line[] = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line))
    .filter((l) => l.kind !== 'checkpoint');
  const byPurpose: Record<string, { allow: number; deny: number }> = {};
  const reasons: Record<string, number> = {};
  const consent: Record<string, number> = {};
  const gates: Record<string, number> = {};
  const received = new Map<string, Line>();
  const closed = new Set<string>();
  for (const l of lines) {
    if (l.kind === 'access') {
      const c = (byPurpose[l.purpose!] ??= { allow: 0, deny: 0 });
      if (l.decision === 'allow') c.allow++;
      else {
        c.deny++;
        reasons[l.reason!] = (reasons[l.reason!] ?? 0) + 1;
      }
    } else if (l.kind === 'consent') {
      const k = `${l.purpose}:${l.attributes!['state']}`;
      consent[k] = (consent[k] ?? 0) + 1;
    } else if (l.kind === 'age-gate') {
      gates[l.attributes!['gate']!] = (gates[l.attributes!['gate']!] ?? 0) + 1;
    } else if (l.kind === 'rights' && l.requestId !== undefined) {
      const k = [l.requestId, l.attributes!['right'], l.subject].join('|');
      if (l.attributes!['status'] === 'received' && l.attributes!['due'] !== undefined) received.set(k, l);
      else if (l.attributes!['status'] === 'completed' && received.has(k)) closed.add(k);
    }
  }
  const open = [...received.keys()].filter((k) => !closed.has(k));
  const overdue = open.filter((k) => Date.parse(received.get(k)!.attributes!['due']!) <= Date.parse(AT));
  const access = lines.filter((l) => l.kind === 'access');
  return {
    records: lines.length,
    allow: access.filter((l) => l.decision === 'allow').length,
    deny: access.filter((l) => l.decision === 'deny').length,
    byPurpose,
    reasons,
    consent,
    consentChanges: lines.filter((l) => l.kind === 'consent').length,
    gates,
    refusals: lines.filter((l) => l.kind === 'age-gate').length,
    requests: received.size,
    open: open.length,
    overdue: overdue.length,
  };
}

describe.each(APPS)('reports over the %s app trail', (app) => {
  const trail = join(FIXTURES, app, 'audit');
  const expected = count(app);

  it('the trail is non-trivial (decisions, denials and rights requests)', () => {
    expect(expected.allow).toBeGreaterThan(5);
    expect(expected.deny + expected.refusals).toBeGreaterThan(0);
    expect(expected.requests + expected.consentChanges).toBeGreaterThan(0);
  });

  it('audit stats --json counts what the file holds', async () => {
    const ran = await cli(['audit', 'stats', trail, '--json', '--at', AT], FIXTURES);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const s = JSON.parse(ran.stdout);
    expect(s.records).toBe(expected.records);
    expect(s.decisions).toEqual({ allow: expected.allow, deny: expected.deny });
    expect(Object.fromEntries(s.byPurpose.map((p: { purpose: string; allow: number; deny: number }) => [p.purpose, { allow: p.allow, deny: p.deny }]))).toEqual(expected.byPurpose);
    expect(Object.fromEntries(s.denialsByReason.map((r: { reason: string; count: number }) => [r.reason, r.count]))).toEqual(expected.reasons);
    const periodTotal = s.byPeriod.reduce((n: number, p: { total: { allow: number; deny: number } }) => n + p.total.allow + p.total.deny, 0);
    expect(periodTotal).toBe(expected.allow + expected.deny);
  });

  it('audit report --json and --html show the same numbers, and both equal the count', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'officer-report-')), `${app}.html`);
    const ran = await cli(['audit', 'report', trail, '--json', '--html', out, '--at', AT], FIXTURES);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const json = JSON.parse(ran.stdout);
    expect(json.rights).toMatchObject({ requests: expected.requests, open: expected.open, overdue: expected.overdue });
    expect(json.consent.changes).toBe(expected.consentChanges);
    expect(json.ageGate.refusals).toBe(expected.refusals);
    const m = metrics(readFileSync(out, 'utf8'));
    const fromPage: Record<string, number> = {};
    for (const [k, v] of Object.entries(expected.byPurpose)) {
      fromPage[`purpose.allow:${k}`] = v.allow;
      fromPage[`purpose.deny:${k}`] = v.deny;
    }
    for (const [k, v] of Object.entries(expected.reasons)) fromPage[`reason:${k}`] = v;
    for (const [k, v] of Object.entries(expected.consent)) fromPage[`consent:${k}`] = v;
    for (const [k, v] of Object.entries(expected.gates)) fromPage[`gate:${k}`] = v;
    expect(m).toMatchObject({
      records: expected.records,
      'decisions.allow': expected.allow,
      'decisions.deny': expected.deny,
      'consent.changes': expected.consentChanges,
      'ageGate.refusals': expected.refusals,
      'rights.requests': expected.requests,
      'rights.overdue': expected.overdue,
      ...fromPage,
    });
    // …and the JSON agrees with the page for every metric the page shows.
    expect(m['records']).toBe(json.records);
    expect(m['rights.overdue']).toBe(json.rights.overdue);
    expect((readFileSync(out, 'utf8').match(/>OVERDUE</g) ?? []).length).toBe(expected.overdue);
  });
});
