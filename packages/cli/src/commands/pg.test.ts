import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { generateAuditKeys } from '@purposekit/core';
import type { AuditEventInput } from '@purposekit/core';
import { createPostgresAnchor, createPostgresAuditSink, migrate } from '@purposekit/postgres';
import { run } from '../index';

// The real PostgreSQL on 127.0.0.1 (trust auth: any password is accepted, so a password
// in the URL is a marker the output must never show).
const SECRET = `pw-${randomBytes(6).toString('hex')}`;
const URL_WITH_SECRET = `postgres://postgres:${SECRET}@127.0.0.1:5432/test`;
const available = process.env['CI'] === 'true' || ((): boolean => {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-t', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!available) process.stderr.write('purposekit CLI --pg tests skipped: no PostgreSQL on 127.0.0.1:5432 (never skipped under CI=true).\n');
const describePg = available ? describe : describe.skip;

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const schema = `pk_postgres_cli_${randomBytes(4).toString('hex')}`;
const keys = generateAuditKeys();
const subjectSecret = Buffer.alloc(32, 3);
const pseudonym = (id: string): string => `hmac-sha256:s-cli:${createHmac('sha256', subjectSecret).update(id).digest('hex')}`;
let work: string;
const pool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 3 });

async function cli(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = process.env['PURPOSEKIT_PG_URL'];
  if ('PURPOSEKIT_PG_URL' in env) {
    if (env['PURPOSEKIT_PG_URL'] === undefined) delete process.env['PURPOSEKIT_PG_URL'];
    else process.env['PURPOSEKIT_PG_URL'] = env['PURPOSEKIT_PG_URL'];
  }
  try {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await run(argv, { stdout, stderr, cwd: work });
    expect(stdout.text + stderr.text).not.toContain(SECRET);
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    if (saved === undefined) delete process.env['PURPOSEKIT_PG_URL'];
    else process.env['PURPOSEKIT_PG_URL'] = saved;
  }
}

function ev(n: number, subject: string, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return { kind: 'access', actor: 'svc:web', subject: pseudonym(subject), data: ['email'], action: 'read', purpose: 'service.provision', basis: 'contract', policy: { id: 'p', version: '1' }, requestId: `r${n}`, decision: 'allow', reason: 'allowed', ...extra };
}

beforeAll(async () => {
  if (!available) return;
  work = mkdtempSync(join(tmpdir(), 'pk-cli-pg-'));
  writeFileSync(join(work, 'pub.pem'), keys.signingPublicKeyPem);
  writeFileSync(join(work, 'subject.key.json'), JSON.stringify({ kty: 'oct', kid: 's-cli', alg: 'HS256', k: subjectSecret.toString('base64url') }));
});
afterAll(async () => {
  if (available) {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    rmSync(work, { recursive: true, force: true });
  }
  await pool.end();
});

describePg('purposekit … --pg', () => {
  it('pg migrate takes the URL from PURPOSEKIT_PG_URL and never prints it', async () => {
    const r = await cli(['pg', 'migrate', '--schema', schema], { PURPOSEKIT_PG_URL: URL_WITH_SECRET });
    expect(r).toMatchObject({ code: 0, stdout: `Schema ${schema} migrated from version 0 to 3 (applied 1, 2, 3).\n` });
    expect((await cli(['pg', 'migrate', '--pg', URL_WITH_SECRET, '--schema', schema])).stdout).toMatch(/up to date/);
  });

  it('verify, report, export and rights due read every stream; tampering fails verify with exit 1', async () => {
    await migrate({ pool, schema });
    for (const stream of ['web-a', 'web-b']) {
      const s = await createPostgresAuditSink({ pool, schema, stream, signingKey: keys.signingPrivateKeyPem });
      await s.append(ev(1, 'alice'));
      await s.append(ev(2, stream === 'web-a' ? 'bob' : 'alice'));
      await s.append({ kind: 'rights', subject: pseudonym('carol'), policy: { id: 'p', version: '1' }, requestId: `q-${stream}`, attributes: { right: 'erasure', status: 'received', due: '2030-01-01T00:00:00.000Z' } });
      await s.close();
    }
    const v = await cli(['audit', 'verify', '--pg', URL_WITH_SECRET, '--schema', schema, '--public-key', 'pub.pem']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^OK postgres schema ${schema}: 8 records in 2 streams, 2 signed checkpoints\\.`));
    expect((await cli(['audit', 'verify', '--pg', URL_WITH_SECRET, '--schema', schema, '--stream', 'web-b', '--public-key', 'pub.pem'])).stdout).toMatch(/4 records in 1 stream,/);

    const rep = await cli(['audit', 'report', '--pg', URL_WITH_SECRET, '--schema', schema, '--subject', 'alice', '--key', 'subject.key.json', '--json']);
    expect(rep.code).toBe(0);
    expect((JSON.parse(rep.stdout) as { entries: Array<{ file: string; requestId: string }> }).entries.map((e) => `${e.file}:${e.requestId}`).sort()).toEqual(['stream web-a:r1', 'stream web-b:r1', 'stream web-b:r2']);

    const csv = await cli(['audit', 'export', '--pg', URL_WITH_SECRET, '--schema', schema, '--format', 'csv']);
    expect(csv.stdout.trimEnd().split('\r\n')).toHaveLength(9);

    const due = await cli(['rights', 'due', '--pg', URL_WITH_SECRET, '--schema', schema, '--at', '2029-01-01T00:00:00Z', '--json']);
    expect((JSON.parse(due.stdout) as { open: Array<{ requestId: string }> }).open.map((o) => o.requestId).sort()).toEqual(['q-web-a', 'q-web-b']);

    await pool.query(`ALTER TABLE "${schema}".audit_records DISABLE TRIGGER USER`);
    await pool.query(`DELETE FROM "${schema}".audit_records WHERE stream = 'web-b' AND seq = 2`);
    const bad = await cli(['audit', 'verify', '--pg', URL_WITH_SECRET, '--schema', schema, '--public-key', 'pub.pem']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAILED .*: missing at stream web-b, row 2 \(seq 2\)/);
    expect(bad.stderr).toMatch(/^PURPOSEKIT_ERR_AUDIT_CORRUPT: missing: /);
  });

  it('wrong credentials, a malformed URL, a missing schema and no URL at all: exit 2 with a typed error, no password', async () => {
    const cred = await cli(['audit', 'verify', '--pg', `postgres://nobody_pk:${SECRET}@127.0.0.1:5432/test`, '--public-key', 'pub.pem']);
    expect(cred.code).toBe(2);
    expect(cred.stderr).toMatch(/^PURPOSEKIT_ERR_DB_CONNECT: .*nobody_pk@127\.0\.0\.1:5432\/test.*credentials/);
    const url = await cli(['rights', 'due', '--pg', `postgres//postgres:${SECRET}@127.0.0.1/test`]);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/^PURPOSEKIT_ERR_DB_CONNECT: /);
    const missing = await cli(['rights', 'due', '--pg', URL_WITH_SECRET, '--schema', 'pk_postgres_cli_none']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^PURPOSEKIT_ERR_DB_SCHEMA: .*purposekit pg migrate/);
    const none = await cli(['audit', 'verify', '--public-key', 'pub.pem'], { PURPOSEKIT_PG_URL: undefined });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^PURPOSEKIT_ERR_INVALID_OPTION: audit verify needs a trail path, or a PostgreSQL URL/);
  });

  it('verify --pg --anchors-pg holds every stream to its published heads: a consistent rollback fails with exit 1', async () => {
    await migrate({ pool, schema });
    const s = await createPostgresAuditSink({ pool, schema, stream: 'anchored', signingKey: keys.signingPrivateKeyPem, checkpointEvery: 2, anchors: [await createPostgresAnchor({ pool, schema })] });
    for (let i = 0; i < 4; i++) await s.append(ev(10 + i, 'dora'));
    await s.close();
    const args = ['audit', 'verify', '--pg', URL_WITH_SECRET, '--schema', schema, '--stream', 'anchored', '--public-key', 'pub.pem'];
    expect((await cli([...args, '--anchors-pg', URL_WITH_SECRET])).code).toBe(0);
    await pool.query(`ALTER TABLE "${schema}".audit_records DISABLE TRIGGER USER`);
    await pool.query(`DELETE FROM "${schema}".audit_records WHERE stream = 'anchored' AND seq > 3`);
    await pool.query(`UPDATE "${schema}".audit_streams SET head_seq = 3, head_hash = r.hash, head_checkpoint = r.record FROM (SELECT record, (record::json)->>'hash' AS hash FROM "${schema}".audit_records WHERE stream = 'anchored' AND seq = 3) r WHERE stream = 'anchored'`);
    expect((await cli(args)).code).toBe(0); // consistent on its own
    const held = await cli([...args, '--anchors-pg', URL_WITH_SECRET]);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/^PURPOSEKIT_ERR_AUDIT_CORRUPT: (rolled-back|truncated): /);
    // a head kept by an auditor (with --stream): seq 3 with another hash is a fork
    const kept = await cli([...args, '--expect-head', `3:${'a'.repeat(64)}`]);
    expect(kept.code).toBe(1);
    expect(kept.stderr).toMatch(/^PURPOSEKIT_ERR_AUDIT_CORRUPT: forked: /);
  });
});
