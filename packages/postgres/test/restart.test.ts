/**
 * Done means (issue 11): PostgreSQL restarted while writers run. Appends are refused
 * while the server is down; the writers resume by themselves (no restart of theirs);
 * no acknowledged record is lost or duplicated; every stream verifies.
 *
 * This restarts the shared server on this machine (`pg_ctlcluster <version> main restart`)
 * and waits for `pg_isready`, leaving it running. The project's jest config runs this file
 * only with PURPOSEKIT_TEST_PG_RESTART=1, alone (.ci/run does so as its own step after
 * `npm test`), so that no other suite talks to the server while it restarts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { generateAuditKeys } from '@purposekit/core';
import { migrate } from '../src/migrate';
import { verifyPostgresTrail } from '../src/trail';
import { PG_AVAILABLE, dropSchemas, schemaName, testPool } from '../src/__tests__/pg';
import { startWriter } from './writers';

const run = promisify(execFile);
if (!PG_AVAILABLE) throw new Error('The PostgreSQL restart test needs the server on 127.0.0.1:5432 (start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start).');
/** The installed cluster's major version (Debian: one directory per version under /etc/postgresql). */
const PG_VERSION = readdirSync('/etc/postgresql').sort().at(-1)!;

jest.setTimeout(120_000);
const keys = generateAuditKeys();
const pool = testPool(2);
const made: string[] = [];
afterAll(async () => {
  await dropSchemas(pool, made).catch(() => undefined);
  await pool.end();
});

function ready(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('PostgreSQL restarted while writers run', () => {
  it('refuses appends while down, resumes without restarting the writers, loses and duplicates nothing acknowledged', async () => {
    const schema = schemaName('restart');
    made.push(schema);
    await migrate({ pool, schema });
    const writers = ['r1', 'r2'].map((s) => startWriter(schema, s, 0, 16, keys.signingPrivateKeyPem, 'forever'));
    await Promise.all(writers.map((w) => w.acks(300)));

    await run('pg_ctlcluster', ['--skip-systemctl-redirect', PG_VERSION, 'main', 'restart']);
    const deadline = Date.now() + 60_000;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error('PostgreSQL did not come back within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const afterRestart = writers.map((w) => w.acked.size);
    // the same processes write again
    await Promise.all(writers.map((w, i) => w.acks(afterRestart[i]! + 300)));
    for (const w of writers) {
      expect(w.refused.length).toBeGreaterThan(0);
      expect(w.refused.every((r) => / PURPOSEKIT_ERR_AUDIT_UNAVAILABLE$/.test(r))).toBe(true);
      w.child.kill('SIGTERM');
    }
    expect(await Promise.all(writers.map((w) => w.exited))).toEqual([0, 0]);

    const r = await pool.query<{ id: string; n: string }>(`SELECT (record::json)->>'requestId' AS id, count(*) AS n FROM "${schema}".audit_records WHERE kind <> 'checkpoint' GROUP BY 1`);
    const rows = new Map(r.rows.map((x) => [x.id, Number(x.n)]));
    for (const w of writers) for (const id of w.acked) expect(rows.get(id)).toBe(1);
    expect([...rows.values()].every((n) => n === 1)).toBe(true);
    const v = await verifyPostgresTrail({ pool, schema, publicKeys: [keys.signingPublicKeyPem] });
    expect(v.problem).toBeUndefined();
    expect(v.ok).toBe(true);
  });
});
