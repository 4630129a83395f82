/**
 * Versioned schema migrations. `migrate()` applies what is missing in one transaction
 * under an advisory lock, so many instances may start at once; it refuses a schema that
 * a newer purposekit migrated. Stores check the version at start-up.
 */
import type { PoolClient } from 'pg';
import { PurposekitError, isPurposekitError } from '@purposekit/core';
import { connectClient, connectError, isConnectionError, lockKey, resolveConnection } from './connection';
import type { Connection, PostgresConnectionOptions } from './connection';

/** One migration: its version and the SQL for a (quoted) schema name. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: (q: string, schema: string) => string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit streams and records (monthly partitions, append-only), consent, anchors',
    sql: (q, schema) => `
CREATE TABLE ${q}.audit_streams (
  stream text PRIMARY KEY CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  claimed_at timestamptz,
  owner text,
  head_seq bigint,
  head_hash text,
  head_checkpoint text
);
CREATE TABLE ${q}.audit_records (
  stream text NOT NULL CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  seq bigint NOT NULL,
  ts timestamptz NOT NULL,
  kind text NOT NULL,
  subject text,
  record text NOT NULL,
  PRIMARY KEY (stream, seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE ${q}.audit_records_default PARTITION OF ${q}.audit_records DEFAULT;
CREATE INDEX audit_records_subject_ts ON ${q}.audit_records (subject, ts) WHERE subject IS NOT NULL;
CREATE INDEX audit_records_rights_ts ON ${q}.audit_records (ts) WHERE kind = 'rights';
CREATE FUNCTION ${q}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'purposekit: % rows of %.% are append-only (% refused)', TG_TABLE_NAME, TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $fn$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON ${q}.audit_records
  FOR EACH ROW EXECUTE FUNCTION ${q}.refuse_change();
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON ${q}.audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION ${q}.refuse_change();
CREATE TRIGGER audit_records_default_no_truncate BEFORE TRUNCATE ON ${q}.audit_records_default
  FOR EACH STATEMENT EXECUTE FUNCTION ${q}.refuse_change();
-- Monthly partitions, made on demand by writers (SECURITY DEFINER: a writer role needs no CREATE).
CREATE FUNCTION ${q}.audit_ensure_partitions(at timestamptz) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog AS $fn$
DECLARE
  m timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
  part text;
BEGIN
  FOR i IN 0..1 LOOP
    part := 'audit_records_' || to_char(m, 'YYYYMM');
    IF to_regclass(format('%I.%I', ${lit(schema)}, part)) IS NULL THEN
      BEGIN
        EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.audit_records FOR VALUES FROM (%L) TO (%L)',
          ${lit(schema)}, part, ${lit(schema)}, (m AT TIME ZONE 'UTC'), ((m + interval '1 month') AT TIME ZONE 'UTC'));
        EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION %I.refuse_change()',
          ${lit(schema)}, part, ${lit(schema)});
      EXCEPTION WHEN duplicate_table OR duplicate_object OR check_violation OR invalid_object_definition THEN
        NULL; -- another writer made it, or the default partition already holds rows of that month
      END;
    END IF;
    m := m + interval '1 month';
  END LOOP;
END $fn$;
CREATE TABLE ${q}.consent_records (
  id bigserial PRIMARY KEY,
  subject text NOT NULL,
  purpose text NOT NULL,
  record text NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX consent_records_latest ON ${q}.consent_records (subject, purpose, id DESC);
CREATE TRIGGER consent_records_append_only BEFORE UPDATE OR DELETE ON ${q}.consent_records
  FOR EACH ROW EXECUTE FUNCTION ${q}.refuse_change();
CREATE TABLE ${q}.consent_objections (
  subject text NOT NULL,
  purpose text NOT NULL,
  PRIMARY KEY (subject, purpose)
);
CREATE TABLE ${q}.consent_restrictions (
  subject text PRIMARY KEY
);
CREATE TABLE ${q}.consent_erasures (
  subject text PRIMARY KEY
);
CREATE TABLE ${q}.audit_anchors (
  id bigserial PRIMARY KEY,
  stream text NOT NULL,
  seq bigint NOT NULL,
  hash text NOT NULL,
  ts text NOT NULL,
  key_id text NOT NULL,
  sig text NOT NULL,
  published_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX audit_anchors_stream_seq ON ${q}.audit_anchors (stream, seq);
CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE ON ${q}.audit_anchors
  FOR EACH ROW EXECUTE FUNCTION ${q}.refuse_change();
SELECT ${q}.audit_ensure_partitions(now());
`,
  },
  {
    version: 2,
    name: 'anchor outbox cursors (what each anchor took of each stream)',
    sql: (q) => `
CREATE TABLE ${q}.audit_anchor_cursors (
  stream text NOT NULL CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  anchor text NOT NULL CHECK (length(anchor) BETWEEN 1 AND 200),
  published_seq bigint NOT NULL CHECK (published_seq >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, anchor)
);
`,
  },
  {
    version: 3,
    name: 'audit_records.stream checked by the same rule, spelled to cost less per row',
    // The v1 CHECK spelled the stream rule with a bounded repeat ({0,63}), which
    // PostgreSQL's regex engine runs six to eight times slower than this equal form (one
    // anchored class and the length), on every row written. The rows already there passed
    // the same rule, so they are not read again (NOT VALID: a large trail is not scanned
    // while the migration holds the table).
    sql: (q) => `
ALTER TABLE ${q}.audit_records DROP CONSTRAINT audit_records_stream_check;
ALTER TABLE ${q}.audit_records ADD CONSTRAINT audit_records_stream_check
  CHECK (stream ~ '^[A-Za-z0-9][A-Za-z0-9._:-]*$' AND length(stream) <= 64) NOT VALID;
`,
  },
];

function lit(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The newest schema version this package knows. */
export const POSTGRES_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Options of {@link migrate}. */
export type MigrateOptions = PostgresConnectionOptions;

/** What {@link migrate} did. */
export interface MigrateResult {
  readonly schema: string;
  /** The version before (0: nothing there). */
  readonly from: number;
  /** The version now. */
  readonly to: number;
  /** Versions applied by this call (empty when another instance got there first). */
  readonly applied: readonly number[];
}

async function versionOf(client: PoolClient, conn: Connection): Promise<number> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${conn.q}.schema_version`]);
  if (exists.rows[0]?.t == null) return 0;
  const r = await client.query<{ v: number | null }>(`SELECT max(version)::int AS v FROM ${conn.q}.schema_version`);
  return r.rows[0]?.v ?? 0;
}

function newer(factory: string, conn: Connection, found: number): PurposekitError {
  return new PurposekitError(
    'PURPOSEKIT_ERR_DB_SCHEMA',
    `${factory}: schema "${conn.schema}" at ${conn.where} is at version ${found}, newer than this @purposekit/postgres knows (${POSTGRES_SCHEMA_VERSION}); upgrade purposekit. Nothing was changed.`,
    { details: { schema: conn.schema, found, known: POSTGRES_SCHEMA_VERSION } },
  );
}

/** Runs the migrations on a connection. @internal */
export async function migrateConnection(factory: string, conn: Connection & { password?: string | undefined }): Promise<MigrateResult> {
  const client = await connectClient(factory, conn);
  let broken: unknown;
  try {
    const key = lockKey(`purposekit:migrate:${conn.schema}`);
    await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      await client.query('BEGIN');
      try {
        const from = await versionOf(client, conn);
        if (from > POSTGRES_SCHEMA_VERSION) throw newer(factory, conn, from);
        const applied: number[] = [];
        if (from < POSTGRES_SCHEMA_VERSION) {
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${conn.q}`);
          await client.query(`CREATE TABLE IF NOT EXISTS ${conn.q}.schema_version (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
          for (const m of MIGRATIONS) {
            if (m.version <= from) continue;
            await client.query(m.sql(conn.q, conn.schema));
            await client.query(`INSERT INTO ${conn.q}.schema_version (version, name) VALUES ($1, $2)`, [m.version, m.name]);
            applied.push(m.version);
          }
        }
        await client.query('COMMIT');
        return { schema: conn.schema, from, to: Math.max(from, POSTGRES_SCHEMA_VERSION), applied };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
    }
  } catch (error) {
    broken = error;
    if (isPurposekitError(error)) throw error;
    if (isConnectionError(error)) throw connectError(factory, conn, error);
    const code = (error as { code?: string }).code;
    throw new PurposekitError('PURPOSEKIT_ERR_DB_SCHEMA', `${factory}: migrating schema "${conn.schema}" at ${conn.where} failed${code === undefined ? '' : ` (SQLSTATE ${code})`}; nothing was changed.`, {
      details: { schema: conn.schema, ...(code === undefined ? {} : { code }) },
    });
  } finally {
    client.release(broken !== undefined && isConnectionError(broken) ? (broken as Error) : undefined);
  }
}

/**
 * Creates or upgrades purposekit's tables in `schema` (default `purposekit`). Safe when
 * many instances run it at once: an advisory lock serialises them and each applies only
 * what is missing, in one transaction (all or nothing).
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options;
 *   PURPOSEKIT_ERR_DB_CONNECT when the server cannot be reached or refuses the
 *   credentials; PURPOSEKIT_ERR_DB_SCHEMA when the schema is newer than this package
 *   knows, or a migration fails (nothing is changed). No message contains the password.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const conn = resolveConnection('migrate()', options, 1);
  try {
    return await migrateConnection('migrate()', conn);
  } finally {
    if (conn.owned) await conn.pool.end().catch(() => undefined);
  }
}

/**
 * Checks that the schema is at this package's version (what a store does at start-up
 * when it is not told to migrate).
 * @throws PurposekitError PURPOSEKIT_ERR_DB_SCHEMA (missing, older or newer), PURPOSEKIT_ERR_DB_CONNECT.
 * @internal
 */
export async function checkSchema(factory: string, conn: Connection & { password?: string | undefined }, client?: PoolClient): Promise<void> {
  const c = client ?? (await connectClient(factory, conn));
  try {
    const found = await versionOf(c, conn);
    if (found > POSTGRES_SCHEMA_VERSION) throw newer(factory, conn, found);
    if (found < POSTGRES_SCHEMA_VERSION) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_DB_SCHEMA',
        found === 0
          ? `${factory}: schema "${conn.schema}" at ${conn.where} has no purposekit tables; run \`purposekit pg migrate\` (or migrate()), or pass migrate: true.`
          : `${factory}: schema "${conn.schema}" at ${conn.where} is at version ${found}; this @purposekit/postgres needs ${POSTGRES_SCHEMA_VERSION}: run \`purposekit pg migrate\` (or migrate()), or pass migrate: true.`,
        { details: { schema: conn.schema, found, known: POSTGRES_SCHEMA_VERSION } },
      );
    }
  } catch (error) {
    if (isPurposekitError(error)) throw error;
    throw connectError(factory, conn, error);
  } finally {
    if (client === undefined) c.release();
  }
}

/** Start-up for a store: connect, then migrate (opt-in) or check the version. @internal */
export async function prepareSchema(factory: string, conn: Connection & { password?: string | undefined }, migrateFirst: boolean): Promise<void> {
  if (migrateFirst) await migrateConnection(factory, conn);
  else await checkSchema(factory, conn);
}
