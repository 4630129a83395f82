/**
 * The officer commands and the integrity options on a PostgreSQL trail, against the real
 * server: `audit stats --pg`, the whole-trail `audit report --pg` (text, JSON, HTML),
 * `--subject --html` with `--pg`, progress bars for `--pg` work, `--expect-head` with
 * `--pg --stream`, and `audit verify <file trail> --anchors <postgres url>`.
 *
 * The trail: the events of two reference apps' real trails (kubevirt, openinfra), written
 * through the real PostgreSQL sink as two streams. The oracle counts straight from the
 * fixture files, sharing no code with the summaries.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { createFileAuditSink, generateAuditKeys } from '@purposekit/core';
import type { AuditEventInput } from '@purposekit/core';
import { createPostgresAnchor, createPostgresAuditSink, migrate } from '@purposekit/postgres';
import { run } from '../src/index';
import { metrics } from './support';

const available =
  process.env['CI'] === 'true' ||
  ((): boolean => {
    try {
      execFileSync('pg_isready', ['-h', '127.0.0.1', '-t', '3'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
if (!available) process.stderr.write('purposekit CLI officer --pg tests skipped: no PostgreSQL on 127.0.0.1:5432 (never skipped under CI=true).\n');
const describePg = available ? describe : describe.skip;

// trust auth: the password is a marker the output must never show
const SECRET = `pw-${randomBytes(6).toString('hex')}`;
const URL = `postgres://postgres:${SECRET}@127.0.0.1:5432/test`;
const schema = `pk_pg2_cli_${randomBytes(4).toString('hex')}`;
const anchorSchema = `pk_pg2_anchor_${randomBytes(4).toString('hex')}`;
const pool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 3 });
const keys = generateAuditKeys();
const FIXTURES = join(__dirname, 'fixtures', 'app-trails');
const AT = '2027-02-01T00:00:00.000Z';
const STREAMS = { 'kubevirt-1': 'kubevirt', 'openinfra-1': 'openinfra' } as const;
let work: string;

class Capture extends Writable {
  text = '';
  isTTY: boolean | undefined;
  constructor(tty = false) {
    super();
    if (tty) this.isTTY = true;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(argv: string[], options: { tty?: boolean; progressMinRows?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture(options.tty === true);
  const code = await run(argv, { stdout, stderr, cwd: work, ...(options.progressMinRows === undefined ? {} : { progressMinRows: options.progressMinRows }) });
  expect(stdout.text + stderr.text).not.toContain(SECRET);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

interface Line {
  kind: string;
  purpose?: string;
  decision?: string;
  reason?: string;
  subject?: string;
  requestId?: string;
  attributes?: Record<string, string>;
  [k: string]: unknown;
}

function fixture(app: string): Line[] {
  return readFileSync(join(FIXTURES, app, 'audit', 'audit-00000001.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.kind !== 'checkpoint');
}

/** The oracle: counts straight from the fixture lines. */
function count(lines: Line[]) {
  const byPurpose: Record<string, { allow: number; deny: number }> = {};
  const reasons: Record<string, number> = {};
  const consent: Record<string, number> = {};
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
    } else if (l.kind === 'rights' && l.requestId !== undefined) {
      const k = [l.requestId, l.attributes!['right'], l.subject].join('|');
      if (l.attributes!['status'] === 'received' && l.attributes!['due'] !== undefined) received.set(k, l);
      else if (l.attributes!['status'] === 'completed' && received.has(k)) closed.add(k);
    }
  }
  const open = [...received.keys()].filter((k) => !closed.has(k));
  const access = lines.filter((l) => l.kind === 'access');
  return {
    records: lines.length,
    allow: access.filter((l) => l.decision === 'allow').length,
    deny: access.filter((l) => l.decision === 'deny').length,
    byPurpose,
    reasons,
    consent,
    consentChanges: lines.filter((l) => l.kind === 'consent').length,
    refusals: lines.filter((l) => l.kind === 'age-gate').length,
    requests: received.size,
    overdue: open.filter((k) => Date.parse(received.get(k)!.attributes!['due']!) <= Date.parse(AT)).length,
  };
}

/** A fixture line back to the event a sink seals. */
function eventOf(l: Line): AuditEventInput {
  const { seq: _seq, ts: _ts, prev: _prev, hash: _hash, v: _v, ...event } = l;
  return event as unknown as AuditEventInput;
}

beforeAll(async () => {
  if (!available) return;
  work = mkdtempSync(join(tmpdir(), 'pk-pg2-cli-'));
  writeFileSync(join(work, 'pub.pem'), keys.signingPublicKeyPem);
  await migrate({ pool, schema });
  for (const [stream, app] of Object.entries(STREAMS)) {
    const sink = await createPostgresAuditSink({ pool, schema, stream, signingKey: keys.signingPrivateKeyPem, checkpointEvery: 7 });
    for (const l of fixture(app)) await sink.append(eventOf(l));
    await sink.close();
  }
});
afterAll(async () => {
  if (available) {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.query(`DROP SCHEMA IF EXISTS "${anchorSchema}" CASCADE`);
    rmSync(work, { recursive: true, force: true });
  }
  await pool.end();
});

describePg('officer reports on a PostgreSQL trail', () => {
  const all = (): Line[] => [...fixture('kubevirt'), ...fixture('openinfra')];

  it('audit stats --pg --json counts every stream; --stream counts one', async () => {
    const expected = count(all());
    expect(expected.allow).toBeGreaterThan(5);
    expect(expected.deny + expected.refusals).toBeGreaterThan(0);
    const ran = await cli(['audit', 'stats', '--pg', URL, '--schema', schema, '--json', '--at', AT]);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const s = JSON.parse(ran.stdout);
    expect(s.trail).toBe(`postgres schema ${schema}`);
    expect(s.records).toBe(expected.records);
    expect(s.decisions).toEqual({ allow: expected.allow, deny: expected.deny });
    expect(Object.fromEntries(s.byPurpose.map((p: { purpose: string; allow: number; deny: number }) => [p.purpose, { allow: p.allow, deny: p.deny }]))).toEqual(expected.byPurpose);
    expect(Object.fromEntries(s.denialsByReason.map((r: { reason: string; count: number }) => [r.reason, r.count]))).toEqual(expected.reasons);

    const one = count(fixture('openinfra'));
    const only = JSON.parse((await cli(['audit', 'stats', '--pg', URL, '--schema', schema, '--stream', 'openinfra-1', '--json', '--at', AT])).stdout);
    expect(only.records).toBe(one.records);
    expect(only.decisions).toEqual({ allow: one.allow, deny: one.deny });

    const text = await cli(['audit', 'stats', '--pg', URL, '--schema', schema, '--at', AT]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Trail:    postgres schema ${schema}`);
    expect(text.stdout).toContain(`Decided:  ${expected.allow + expected.deny}: ${expected.allow} allowed, ${expected.deny} denied`);
  });

  it('audit report --pg --json and --html show the same numbers, both equal to the count', async () => {
    const expected = count(all());
    const ran = await cli(['audit', 'report', '--pg', URL, '--schema', schema, '--json', '--html', 'trail.html', '--at', AT]);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const json = JSON.parse(ran.stdout);
    expect(json).toMatchObject({ records: expected.records, decisions: { allow: expected.allow, deny: expected.deny } });
    expect(json.rights).toMatchObject({ requests: expected.requests, overdue: expected.overdue });
    expect(json.consent.changes).toBe(expected.consentChanges);
    expect(json.ageGate.refusals).toBe(expected.refusals);
    const page = readFileSync(join(work, 'trail.html'), 'utf8');
    const m = metrics(page);
    const fromPage: Record<string, number> = {};
    for (const [k, v] of Object.entries(expected.byPurpose)) {
      fromPage[`purpose.allow:${k}`] = v.allow;
      fromPage[`purpose.deny:${k}`] = v.deny;
    }
    for (const [k, v] of Object.entries(expected.reasons)) fromPage[`reason:${k}`] = v;
    for (const [k, v] of Object.entries(expected.consent)) fromPage[`consent:${k}`] = v;
    expect(m).toMatchObject({
      records: json.records,
      'decisions.allow': json.decisions.allow,
      'decisions.deny': json.decisions.deny,
      'consent.changes': json.consent.changes,
      'ageGate.refusals': json.ageGate.refusals,
      'rights.requests': json.rights.requests,
      'rights.overdue': json.rights.overdue,
      ...fromPage,
    });
    expect(page).toContain(`postgres schema ${schema}`);
    expect(page).not.toContain(SECRET);

    const text = await cli(['audit', 'report', '--pg', URL, '--schema', schema, '--at', AT]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`postgres schema ${schema}`);
    // an existing page is never overwritten
    const again = await cli(['audit', 'report', '--pg', URL, '--schema', schema, '--html', 'trail.html']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^PURPOSEKIT_ERR_FILE_ACCESS: .*already exists/);
  });

  it('audit report --pg --subject <pseudonym> --html writes that person\'s timeline from every stream', async () => {
    const lines = all().filter((l) => typeof l.subject === 'string');
    const bySubject = new Map<string, number>();
    for (const l of lines) bySubject.set(l.subject!, (bySubject.get(l.subject!) ?? 0) + 1);
    const [subject, n] = [...bySubject.entries()].sort((a, b) => b[1] - a[1])[0]!;
    expect(n).toBeGreaterThan(1);
    const ran = await cli(['audit', 'report', '--pg', URL, '--schema', schema, '--subject', subject, '--html', 'person.html', '--at', AT]);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(new RegExp(`^Wrote .*person\\.html \\(${n} entries about this subject\\)\\n$`));
    const page = readFileSync(join(work, 'person.html'), 'utf8');
    expect(page).toMatch(/<html/);
    expect(page).not.toContain(SECRET);
    const bad = await cli(['audit', 'report', '--pg', URL, '--schema', schema, '--subject', subject, '--stream', 'kubevirt-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^PURPOSEKIT_ERR_INVALID_OPTION: audit report --subject reads every stream/);
  });

  it('draws a progress bar for --pg verify, export, report and stats on a terminal above the row threshold, and none otherwise', async () => {
    const total = all().length;
    const runs: Array<[string, string[]]> = [
      ['verify', ['audit', 'verify', '--pg', URL, '--schema', schema, '--public-key', 'pub.pem']],
      ['export', ['audit', 'export', '--pg', URL, '--schema', schema, '--format', 'csv']],
      ['report', ['audit', 'report', '--pg', URL, '--schema', schema, '--json', '--at', AT]],
      ['stats', ['audit', 'stats', '--pg', URL, '--schema', schema, '--json', '--at', AT]],
    ];
    for (const [label, argv] of runs) {
      const tty = await cli(argv, { tty: true, progressMinRows: 1 });
      expect(tty.code).toBe(0);
      expect(tty.stderr).toContain(`${label} [`);
      expect(tty.stderr).toMatch(/ rows /);
      const small = await cli(argv, { tty: true, progressMinRows: total * 10 });
      const pipe = await cli(argv, { tty: false, progressMinRows: 1 });
      expect([label, small.stderr, pipe.stderr]).toEqual([label, '', '']);
      expect(tty.stdout).toBe(pipe.stdout.replace(/"at": "[^"]*"/, tty.stdout.match(/"at": "[^"]*"/)?.[0] ?? '$&'));
    }
  });
});

describePg('--expect-head with --pg, and --anchors <postgres url> for a file trail', () => {
  it('verify --pg --stream --expect-head holds the stream to one kept head; without --stream it is refused', async () => {
    const head = await pool.query<{ head_seq: string; head_hash: string }>(`SELECT head_seq::text, head_hash FROM "${schema}".audit_streams WHERE stream = 'kubevirt-1'`);
    const { head_seq: seq, head_hash: hash } = head.rows[0]!;
    const base = ['audit', 'verify', '--pg', URL, '--schema', schema, '--public-key', 'pub.pem'];
    const ok = await cli([...base, '--stream', 'kubevirt-1', '--expect-head', `${seq}:${hash}`]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/signed and anchored up to seq \d+/);
    const wrong = await cli([...base, '--stream', 'kubevirt-1', '--expect-head', `${seq}:${'0'.repeat(64)}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^PURPOSEKIT_ERR_AUDIT_CORRUPT: forked: /);
    const beyond = await cli([...base, '--stream', 'kubevirt-1', '--expect-head', `${Number(seq) + 1000}:${hash}`]);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toMatch(/^PURPOSEKIT_ERR_AUDIT_CORRUPT: (rolled-back|truncated): /);
    const noStream = await cli([...base, '--expect-head', `${seq}:${hash}`]);
    expect(noStream.code).toBe(2);
    expect(noStream.stderr).toMatch(/^PURPOSEKIT_ERR_INVALID_OPTION: audit verify --pg: --expect-head is one stream's head: name the stream with --stream/);
    const malformed = await cli([...base, '--stream', 'kubevirt-1', '--expect-head', 'nope']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^PURPOSEKIT_ERR_INVALID_OPTION: audit verify: --expect-head must be <seq>:<hash>/);
  });

  it('audit verify <file trail> --anchors <postgres url> holds the file trail to the heads in a PostgreSQL anchor table; a rollback is caught', async () => {
    const anchor = await createPostgresAnchor({ pool, schema: anchorSchema, migrate: true });
    const dir = join(work, 'file-trail');
    const sink = await createFileAuditSink({ dir, signingKey: keys.signingPrivateKeyPem, checkpointEvery: 3, anchors: [anchor] });
    const events = fixture('openinfra').slice(0, 10);
    for (const l of events.slice(0, 7)) await sink.append(eventOf(l));
    await sink.close();
    const saved = readFileSync(join(dir, 'audit-00000001.jsonl'));
    const savedHead = readFileSync(join(dir, 'audit.head.json'));
    const sink2 = await createFileAuditSink({ dir, signingKey: keys.signingPrivateKeyPem, checkpointEvery: 3, anchors: [anchor] });
    for (const l of events.slice(7)) await sink2.append(eventOf(l));
    await sink2.close();
    const anchored = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${anchorSchema}".audit_anchors WHERE stream = 'audit'`);
    expect(Number(anchored.rows[0]!.n)).toBeGreaterThanOrEqual(4);
    await anchor.close();

    const args = ['audit', 'verify', 'file-trail', '--public-key', 'pub.pem', '--anchors', URL, '--anchors-schema', anchorSchema];
    const ok = await cli(args);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/signed and anchored up to seq \d+ at .*; 0 record\(s\) after it are not yet anchored/);
    // the older spelling reads the same table
    expect((await cli(['audit', 'verify', 'file-trail', '--public-key', 'pub.pem', '--anchors-pg', URL, '--anchors-schema', anchorSchema])).code).toBe(0);

    // a consistent rollback of the whole directory (trail and head file): the trail alone still verifies…
    writeFileSync(join(dir, 'audit-00000001.jsonl'), saved);
    writeFileSync(join(dir, 'audit.head.json'), savedHead);
    expect((await cli(['audit', 'verify', 'file-trail', '--public-key', 'pub.pem'])).code).toBe(0);
    // …the PostgreSQL anchor does not
    const held = await cli(args);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/^PURPOSEKIT_ERR_AUDIT_CORRUPT: rolled-back: /);

    const noTable = await cli(['audit', 'verify', 'file-trail', '--public-key', 'pub.pem', '--anchors', URL, '--anchors-schema', 'pk_pg2_none']);
    expect(noTable.code).toBe(2);
    expect(noTable.stderr).toMatch(/^PURPOSEKIT_ERR_DB_SCHEMA: /);
  });
});
