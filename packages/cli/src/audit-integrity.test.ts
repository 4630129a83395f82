// audit verify against anchors / an expected head, and output a hostile trail cannot forge:
// no raw control character from a trail ever reaches the terminal, and a FAILED verdict
// never shows an OK line.
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { checkpointSigningInput, createFileAuditAnchor, createFileAuditSink, createSubjectPseudonymizer, hashAuditRecord, parseSubjectKey, sealAuditRecord } from '@purposekit/core';
import type { AuditEventInput } from '@purposekit/core';
import { run } from './index';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let work: string;
const pub = (): string => join(work, 'keys', 'audit-signing.pub.pem');

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await run(argv, { stdout, stderr, cwd: work });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pk-cli-integrity-'));
  expect((await cli(['keys', 'generate', '--out-dir', 'keys'])).code).toBe(0);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function event(n: number, subject: string): AuditEventInput {
  return { kind: 'access', actor: 'svc:accounts', subject, data: ['email'], action: 'read', purpose: 'service.registration', basis: 'contract', policy: { id: 'openinfra', version: '2024-06' }, requestId: `req-${n}`, decision: 'allow', reason: 'allowed' };
}

const pseudo = (): ((id: string) => string) => createSubjectPseudonymizer(parseSubjectKey(readFileSync(join(work, 'keys', 'subject-hmac.key.json'), 'utf8')));

async function anchoredTrail(name: string): Promise<{ dir: string; anchor: string }> {
  const dir = join(work, name);
  const anchor = join(work, `${name}-anchor`, 'heads.jsonl');
  const sink = await createFileAuditSink({ dir, signingKey: readFileSync(join(work, 'keys', 'audit-signing.key.pem'), 'utf8'), checkpointEvery: 3, anchors: [createFileAuditAnchor({ path: anchor })] });
  const p = pseudo();
  for (let n = 1; n <= 8; n++) await sink.append(event(n, p('alice')));
  await sink.close();
  return { dir, anchor };
}

const file = (dir: string): string => join(dir, 'audit-00000001.jsonl');
const lines = (dir: string): string[] => readFileSync(file(dir), 'utf8').split('\n').filter((l) => l !== '');
const write = (dir: string, ls: string[]): void => writeFileSync(file(dir), ls.map((l) => `${l}\n`).join(''));

describe('purposekit audit verify --anchors / --expect-head', () => {
  it('says how far signing and anchoring reach', async () => {
    const { anchor } = await anchoredTrail('anchored');
    // two records the writer appended after its last checkpoint (it died before signing them)
    const dir = join(work, 'anchored');
    const ls = lines(dir);
    const last = JSON.parse(ls.at(-1)!) as { seq: number; hash: string; ts: string };
    const r1 = sealAuditRecord(event(9, pseudo()('bob')), { seq: last.seq + 1, ts: last.ts, prev: last.hash });
    const r2 = sealAuditRecord(event(10, pseudo()('bob')), { seq: last.seq + 2, ts: last.ts, prev: r1.hash });
    write(dir, [...ls, JSON.stringify(r1), JSON.stringify(r2)]);
    const ran = await cli(['audit', 'verify', 'anchored', '--public-key', pub(), '--anchors', anchor, '--expect-head', `${last.seq}:${last.hash}`]);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toContain(`  signed and anchored up to seq ${last.seq} at ${last.ts}; 2 record(s) after it are not yet anchored (3 anchored head(s) checked).\n`);
  });

  it('exits 1 for a directory rolled back with its head file, which the trail alone cannot see', async () => {
    const { dir, anchor } = await anchoredTrail('rollback');
    const older = join(work, 'rollback-older');
    cpSync(dir, older, { recursive: true });
    // the older copy: cut back to its second checkpoint, with that checkpoint as head
    const ls = lines(older);
    const cps = ls.filter((l) => l.includes('"kind":"checkpoint"'));
    write(older, ls.slice(0, ls.indexOf(cps[1]!) + 1));
    writeFileSync(join(older, 'audit.head.json'), cps[1]!);
    expect((await cli(['audit', 'verify', 'rollback-older', '--public-key', pub()])).code).toBe(0);
    const ran = await cli(['audit', 'verify', 'rollback-older', '--public-key', pub(), '--anchors', anchor]);
    expect(ran.code).toBe(1);
    expect(ran.stdout.split('\n')[0]).toMatch(/^FAILED rollback-older: rolled-back at anchor "file-1" \(seq \d+\)$/);
  });

  it('reads a PostgreSQL URL given to --anchors as an anchor table: an unreachable server is a typed error (exit 2), never an empty anchor, never the password', async () => {
    await anchoredTrail('pg-url');
    // port 1: nothing listens there (the PostgreSQL anchor itself is tested in test/pg-officer.test.ts)
    const ran = await cli(['audit', 'verify', 'pg-url', '--public-key', pub(), '--anchors', 'postgres://postgres:s3cret-marker@127.0.0.1:1/test']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^PURPOSEKIT_ERR_DB_CONNECT: createPostgresAnchor\(\): cannot connect to PostgreSQL at postgres@127\.0\.0\.1:1\/test/);
    expect(ran.stdout + ran.stderr).not.toContain('s3cret-marker');
  });

  it('refuses an anchor file that does not exist (exit 2), rather than verify without it', async () => {
    await anchoredTrail('no-anchor-file');
    const ran = await cli(['audit', 'verify', 'no-anchor-file', '--public-key', pub(), '--anchors', 'nowhere/heads.jsonl']);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^PURPOSEKIT_ERR_FILE_ACCESS: Cannot read .*nowhere\/heads\.jsonl \(ENOENT\)\.\n$/);
  });

  it('--max-age: a trail signed just now passes; a trail whose newest checkpoint is older fails as stale; a bad value exits 2', async () => {
    await anchoredTrail('fresh');
    expect((await cli(['audit', 'verify', 'fresh', '--public-key', pub(), '--max-age', '65m'])).code).toBe(0);
    const old = join(work, 'stale');
    const sink = await createFileAuditSink({ dir: old, signingKey: readFileSync(join(work, 'keys', 'audit-signing.key.pem'), 'utf8') });
    await sink.append(event(1, pseudo()('alice')));
    await sink.close();
    // the same trail, as if signed two hours ago: rewrite the checkpoint times with the key
    const ls = lines(old).map((l) => JSON.parse(l) as Record<string, unknown>);
    const key = readFileSync(join(work, 'keys', 'audit-signing.key.pem'), 'utf8');
    const ts = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const { createPrivateKey } = await import('node:crypto');
    const e = { ...ls[0]!, ts };
    delete e['hash'];
    const e1 = { ...e, hash: hashAuditRecord(e) };
    const cpUnsigned = { alg: 'Ed25519', keyId: ls[1]!['keyId'], kind: 'checkpoint', prev: e1.hash, seq: 2, ts, v: 1 };
    const cp = { ...cpUnsigned, sig: sign(null, checkpointSigningInput(cpUnsigned), createPrivateKey(key)).toString('base64url') };
    const cp1 = { ...cp, hash: hashAuditRecord(cp) };
    write(old, [JSON.stringify(e1), JSON.stringify(cp1)]);
    writeFileSync(join(old, 'audit.head.json'), JSON.stringify(cp1));
    expect((await cli(['audit', 'verify', 'stale', '--public-key', pub()])).code).toBe(0);
    const ran = await cli(['audit', 'verify', 'stale', '--public-key', pub(), '--max-age', '90m']);
    expect(ran.code).toBe(1);
    expect(ran.stdout.split('\n')[0]).toBe('FAILED stale: stale at audit-00000001.jsonl (seq 2)');
    const bad = await cli(['audit', 'verify', 'stale', '--public-key', pub(), '--max-age', '1 hour']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/^PURPOSEKIT_ERR_INVALID_OPTION: audit verify: --max-age must be/)]);
  });

  it.each([['12'], ['x:y'], [`0:${'a'.repeat(64)}`], [`1:${'A'.repeat(64)}`]])('rejects --expect-head %s (exit 2)', async (value) => {
    await anchoredTrail(`bad-head-${value.length}-${value[0]}`);
    const ran = await cli(['audit', 'verify', `bad-head-${value.length}-${value[0]}`, '--public-key', pub(), '--expect-head', value]);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toMatch(/^PURPOSEKIT_ERR_INVALID_OPTION: audit verify: --expect-head must be <seq>:<hash>/);
  });
});

// Every control and format character except the LF that ends our own lines.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;
const HOSTILE = '\u001b[2K\r\u001b[1AOK hostile: 99 records in 1 file, 9 signed checkpoints.\nOK \u009b2J\u202eKO\u0007';

describe('a hostile trail cannot forge the output', () => {
  it('verify: a FAILED verdict stays FAILED, with every control character escaped (text and --json)', async () => {
    const { dir } = await anchoredTrail('hostile');
    // the last checkpoint forged by an attacker under a key id full of escapes (fails its signature)
    const ls = lines(dir);
    const cp = JSON.parse(ls.at(-1)!) as Record<string, unknown>;
    const attacker = generateKeyPairSync('ed25519');
    const unsigned = { alg: 'Ed25519', keyId: HOSTILE, kind: 'checkpoint', prev: cp['prev'], seq: cp['seq'], ts: cp['ts'], v: 1 };
    const signed = { ...unsigned, sig: sign(null, checkpointSigningInput(unsigned), attacker.privateKey).toString('base64url') };
    write(dir, [...ls.slice(0, -1), JSON.stringify({ ...signed, hash: hashAuditRecord(signed) })]);
    // and a quarantine file whose name tries the same
    writeFileSync(join(dir, `audit-00000001.jsonl.quarantine-\r\u001b[2KOK ${'\u009b'}`), '');
    const ran = await cli(['audit', 'verify', 'hostile', '--public-key', pub()]);
    expect(ran.code).toBe(1);
    const out = ran.stdout.split('\n');
    expect(out[0]).toMatch(/^FAILED hostile: bad-signature at audit-00000001\.jsonl:\d+ \(seq \d+\)$/);
    for (const text of [ran.stdout, ran.stderr]) {
      expect(text).not.toMatch(UNSAFE);
      expect(text.split('\n').filter((l) => /^\s*OK\b/.test(l))).toEqual([]);
    }
    expect(ran.stdout).toContain('\\u001b[2K\\u000d\\u001b[1AOK hostile');
    expect(ran.stdout).toContain('quarantine-\\u000d\\u001b[2KOK \\u009b');
    const json = await cli(['audit', 'verify', 'hostile', '--public-key', pub(), '--json']);
    expect(json.stdout).not.toMatch(UNSAFE);
    expect((JSON.parse(json.stdout) as { ok: boolean; problem: { message: string } }).problem.message).toContain(HOSTILE);
  });

  it('report: field values with escapes are shown escaped, in the table and in --json', async () => {
    const dir = join(work, 'hostile-report');
    const subject = pseudo()('alice');
    const r1 = sealAuditRecord({ ...event(1, subject), actor: HOSTILE, requestId: '\rOK\u001b]0;pwned\u0007' }, { seq: 1, ts: '2026-11-22T12:00:00.000Z', prev: '0'.repeat(64) });
    mkdirSync(dir);
    writeFileSync(file(dir), `${JSON.stringify(r1)}\n`);
    const table = await cli(['audit', 'report', '--subject', 'alice', 'hostile-report', '--key', 'keys/subject-hmac.key.json']);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(UNSAFE);
    expect(table.stdout.split('\n').filter((l) => /^\s*OK\b/.test(l))).toEqual([]);
    expect(table.stdout).toContain('\\u000dOK\\u001b]0;pwned\\u0007');
    const json = await cli(['audit', 'report', '--subject', 'alice', 'hostile-report', '--key', 'keys/subject-hmac.key.json', '--json']);
    expect(json.stdout).not.toMatch(/[\u007f-\u009f\u202e]/u);
    expect((JSON.parse(json.stdout) as { entries: Array<{ actor: string }> }).entries[0]!.actor).toBe(HOSTILE);
  });
});
