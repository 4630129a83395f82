import { isPurposekitError } from '@purposekit/core';
import type { PurposekitError } from '@purposekit/core';
import { POSTGRES_SCHEMA_VERSION, migrate } from './migrate';
import { createPostgresAuditSink } from './audit-sink';
import { verifyPostgresTrail } from './trail';
import { access } from './__tests__/fixtures';
import { generateAuditKeys } from '@purposekit/core';
import { PG_URL, describePg, dropSchemas, schemaName, testPool } from './__tests__/pg';

jest.setTimeout(30_000);
const pool = testPool(8);
const made: string[] = [];
afterAll(async () => {
  await dropSchemas(pool, made);
  await pool.end();
});
function fresh(tag: string): string {
  const s = schemaName(tag);
  made.push(s);
  return s;
}
async function schemaExists(name: string): Promise<boolean> {
  const r = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
  return r.rowCount === 1;
}
async function caught(p: Promise<unknown>): Promise<PurposekitError> {
  try {
    await p;
  } catch (e) {
    if (isPurposekitError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
/** Every text an operator could see from an error: message, details, cause, stack. */
function everything(e: PurposekitError): string {
  const cause = e.cause as { message?: string; stack?: string } | undefined;
  return [e.message, e.stack ?? '', JSON.stringify(e.details ?? {}), cause?.message ?? '', cause?.stack ?? '', String(e.cause ?? '')].join('\n');
}

describePg('migrate()', () => {
  it('creates the tables once; a second run applies nothing', async () => {
    const schema = fresh('mig');
    expect(await migrate({ connectionString: PG_URL, schema })).toEqual({ schema, from: 0, to: POSTGRES_SCHEMA_VERSION, applied: [1, 2, 3] });
    expect(await migrate({ pool, schema })).toEqual({ schema, from: 3, to: 3, applied: [] });
    const tables = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [schema]);
    expect(tables.rows.map((r) => r.t)).toEqual(expect.arrayContaining(['audit_anchor_cursors', 'audit_records_default', 'audit_streams', 'consent_records', 'schema_version']));
  });

  it('upgrades a version-1 schema to version 3 (the anchor cursors, the stream check respelled), keeping its rows', async () => {
    const schema = fresh('up');
    await migrate({ pool, schema });
    // Back to what version 1 left: no cursors table, the stream check as v1 spelled it.
    await pool.query(`DROP TABLE "${schema}".audit_anchor_cursors`);
    await pool.query(`ALTER TABLE "${schema}".audit_records DROP CONSTRAINT audit_records_stream_check`);
    await pool.query(`ALTER TABLE "${schema}".audit_records ADD CONSTRAINT audit_records_stream_check CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$')`);
    await pool.query(`DELETE FROM "${schema}".schema_version WHERE version > 1`);
    await pool.query(`INSERT INTO "${schema}".audit_streams (stream) VALUES ('kept')`);
    await pool.query(`INSERT INTO "${schema}".audit_records (stream, seq, ts, kind, record) VALUES ('kept', 1, now(), 'access', '{}')`);
    const keys = generateAuditKeys();
    const e = await caught(createPostgresAuditSink({ pool, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem }));
    expect(e.code).toBe('PURPOSEKIT_ERR_DB_SCHEMA');
    expect(e.message).toMatch(/is at version 1; this @purposekit\/postgres needs 3/);
    expect(await migrate({ pool, schema })).toEqual({ schema, from: 1, to: 3, applied: [2, 3] });
    expect((await pool.query(`SELECT stream FROM "${schema}".audit_streams`)).rows).toEqual([{ stream: 'kept' }]);
    expect((await pool.query(`SELECT stream, seq::int FROM "${schema}".audit_records`)).rows).toEqual([{ stream: 'kept', seq: 1 }]);
    const check = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c WHERE c.conname = 'audit_records_stream_check' AND c.conrelid = to_regclass($1)`,
      [`"${schema}".audit_records`],
    );
    expect(check.rows[0]?.def).toMatch(/\*\$'::text\) AND \(length\(stream\) <= 64\)/);
  });

  it("version 3's stream check refuses exactly what version 1's refused (checked on every partition)", async () => {
    const schema = fresh('check');
    await migrate({ pool, schema });
    const names = ['a', 'A9', 'web-1', 'pod_7.x:y', 'a'.repeat(64), '', ' a', 'a b', '-a', '.a', '_a', ':a', 'a'.repeat(65), 'é', 'a\n', 'a/b', 'a;b'];
    // The oracle: JavaScript's regex engine with v1's spelling of the rule.
    const v1 = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
    for (const [i, name] of names.entries()) {
      const insert = pool.query(`INSERT INTO "${schema}".audit_records (stream, seq, ts, kind, record) VALUES ($1, $2, now(), 'access', '{}')`, [name, i + 1]);
      if (v1.test(name)) await insert;
      else expect(((await insert.then(() => undefined, (err: unknown) => err)) as { code?: string } | undefined)?.code).toBe('23514');
    }
    const kept = await pool.query<{ stream: string }>(`SELECT stream FROM "${schema}".audit_records ORDER BY seq`);
    expect(kept.rows.map((r) => r.stream)).toEqual(names.filter((n) => v1.test(n)));
  });

  it('migration 3 applied while a writer runs: the writer goes on writing, nothing is refused, the trail verifies', async () => {
    const schema = fresh('live');
    await migrate({ pool, schema });
    const keys = generateAuditKeys();
    const sink = await createPostgresAuditSink({ pool, schema, stream: 'live', signingKey: keys.signingPrivateKeyPem });
    // The writer's named INSERT is prepared on its session before the migration runs.
    await sink.append(access('before'));
    // The schema as version 2 left it, under the running writer.
    await pool.query(`ALTER TABLE "${schema}".audit_records DROP CONSTRAINT audit_records_stream_check`);
    await pool.query(`ALTER TABLE "${schema}".audit_records ADD CONSTRAINT audit_records_stream_check CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$')`);
    await pool.query(`DELETE FROM "${schema}".schema_version WHERE version = 3`);
    let stop = false;
    let written = 0;
    const refused: unknown[] = [];
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        await sink.append(access(`w${w}-${i}`)).then(
          () => written++,
          (error: unknown) => refused.push(error),
        );
      }
    });
    expect(await migrate({ pool, schema })).toEqual({ schema, from: 2, to: 3, applied: [3] });
    const at = written;
    // Writing goes on after the migration (no fixed wait: until 200 more are acknowledged).
    await new Promise<void>((resolve) => {
      const check = (): void => (written >= at + 200 ? resolve() : void setImmediate(check));
      check();
    });
    stop = true;
    await Promise.all(writers);
    await sink.close();
    expect(refused).toEqual([]);
    const result = await verifyPostgresTrail({ pool, schema, publicKeys: [keys.signingPublicKeyPem] });
    expect(result.problem).toBeUndefined();
    expect(result.ok).toBe(true);
    const n = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".audit_records WHERE kind = 'access'`);
    expect(n.rows[0]!.n).toBe(written + 1);
  });

  it('is safe when eight instances migrate the same schema at once: one applies, the others find it done', async () => {
    const schema = fresh('race');
    const results = await Promise.all(Array.from({ length: 8 }, () => migrate({ connectionString: PG_URL, schema })));
    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(results.every((r) => r.to === POSTGRES_SCHEMA_VERSION)).toBe(true);
    const v = await pool.query(`SELECT version FROM "${schema}".schema_version`);
    expect(v.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
  });

  it('refuses a schema newer than it knows, changing nothing', async () => {
    const schema = fresh('newer');
    await migrate({ pool, schema });
    await pool.query(`INSERT INTO "${schema}".schema_version (version, name) VALUES (99, 'from the future')`);
    const e = await caught(migrate({ pool, schema }));
    expect(e.code).toBe('PURPOSEKIT_ERR_DB_SCHEMA');
    expect(e.details).toMatchObject({ found: 99, known: POSTGRES_SCHEMA_VERSION });
    const keys = generateAuditKeys();
    const e2 = await caught(createPostgresAuditSink({ pool, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem }));
    expect(e2.code).toBe('PURPOSEKIT_ERR_DB_SCHEMA');
    expect(e2.message).toMatch(/newer/);
  });

  it('a store on a schema that was never migrated fails at start-up with a typed error and creates nothing', async () => {
    const schema = fresh('none');
    const keys = generateAuditKeys();
    const e = await caught(createPostgresAuditSink({ pool, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem }));
    expect(e.code).toBe('PURPOSEKIT_ERR_DB_SCHEMA');
    expect(e.message).toMatch(/purposekit pg migrate/);
    expect(await schemaExists(schema)).toBe(false);
  });

  it('migrates at start-up when the store is told to', async () => {
    const schema = fresh('optin');
    const keys = generateAuditKeys();
    const sink = await createPostgresAuditSink({ pool, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem, migrate: true });
    await sink.close();
    expect(await schemaExists(schema)).toBe(true);
  });

  const SECRET = 'S3cret-pa55word-xyzzy';
  it.each([
    ['a malformed URL', `postgres//postgres:${SECRET}@127.0.0.1:5432/test`, 'malformed-url'],
    ['another scheme', `mysql://postgres:${SECRET}@127.0.0.1:5432/test`, 'malformed-url'],
    ['an unknown role (wrong credentials)', `postgres://nobody_pk:${SECRET}@127.0.0.1:5432/test`, 'auth'],
    ['an unknown database', `postgres://postgres:${SECRET}@127.0.0.1:5432/pk_postgres_no_such_db`, 'unknown-database'],
    ['a closed port', `postgres://postgres:${SECRET}@127.0.0.1:1/test`, 'unreachable'],
  ])('%s: a typed PURPOSEKIT_ERR_DB_CONNECT naming the reason, never the password, nothing created', async (_name, url, reason) => {
    const schema = fresh('bad');
    const e = await caught(migrate({ connectionString: url, schema }));
    expect(e.code).toBe('PURPOSEKIT_ERR_DB_CONNECT');
    expect(e.details).toMatchObject({ reason });
    expect(everything(e)).not.toContain(SECRET);
    const keys = generateAuditKeys();
    const e2 = await caught(createPostgresAuditSink({ connectionString: url, schema, stream: 'w1', signingKey: keys.signingPrivateKeyPem, migrate: true }));
    expect(e2.code).toBe('PURPOSEKIT_ERR_DB_CONNECT');
    expect(everything(e2)).not.toContain(SECRET);
    expect(await schemaExists(schema)).toBe(false);
  });

  it.each([
    ['no connection', {}, 'connectionString'],
    ['both pool and URL', { pool, connectionString: PG_URL }, 'pool'],
    ['a schema name needing quotes', { pool, schema: 'Bad-Schema"; drop' }, 'schema'],
  ])('%s: PURPOSEKIT_ERR_INVALID_OPTION naming the option', async (_n, options, option) => {
    const e = await caught(migrate(options as never));
    expect(e.code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    expect(e.details).toMatchObject({ option });
  });
});
