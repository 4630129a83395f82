/**
 * Test support: the real PostgreSQL on 127.0.0.1:5432 (user postgres, database test,
 * trust auth). Under CI=true a missing server fails the tests; elsewhere they skip with
 * a message. Every test file uses its own schemas, prefixed pk_postgres_.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';

export const PG_URL = process.env['PURPOSEKIT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function serverAnswers(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the PostgreSQL tests run; under CI they always do (and fail without a server). */
export const PG_AVAILABLE: boolean = process.env['CI'] === 'true' || serverAnswers();
if (!PG_AVAILABLE) {
  process.stderr.write('@purposekit/postgres tests skipped: no PostgreSQL answers on 127.0.0.1:5432 (they never skip under CI=true).\n');
}

/** `describe`, or `describe.skip` outside CI without a server. */
export const describePg: jest.Describe = PG_AVAILABLE ? describe : describe.skip;

/** A fresh schema name, unique per call: pk_postgres_<tag>_<random>. */
export function schemaName(tag: string): string {
  return `pk_postgres_${tag}_${randomBytes(4).toString('hex')}`;
}

/** A pool for tests (the caller ends it). */
export function testPool(max = 4): Pool {
  const pool = new Pool({ connectionString: PG_URL, max });
  pool.on('error', () => undefined);
  return pool;
}

/** Drops schemas made by a test. */
export async function dropSchemas(pool: Pool, schemas: readonly string[]): Promise<void> {
  for (const s of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
}
