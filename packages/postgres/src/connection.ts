/**
 * Where a store connects: the user's own `pg.Pool`, or a connection string from which
 * we make (and later end) a pool. Every message built here names the server with the
 * password replaced by `***`: a connection URL is a secret.
 */
import { createHash } from 'node:crypto';
import { Pool } from 'pg';
import type { PoolClient } from 'pg';
import { PurposekitError } from '@purposekit/core';

/** How a store reaches PostgreSQL: exactly one of `pool` or `connectionString`. */
export interface PostgresConnectionOptions {
  /** Your own `pg.Pool` (left open on `close()`: it is yours). */
  pool?: Pool;
  /** A `postgres://user:password@host:port/database` URL; the store makes a pool and ends it on `close()`. */
  connectionString?: string;
  /** The schema holding purposekit's tables. Default `purposekit`. */
  schema?: string;
}

/** A resolved connection. @internal */
export interface Connection {
  readonly pool: Pool;
  /** True when we made the pool (so we end it). */
  readonly owned: boolean;
  readonly schema: string;
  /** The schema, quoted for SQL. */
  readonly q: string;
  /** The server as `user@host:port/db`, no password: for messages. */
  readonly where: string;
}

/** A schema name: a plain lower-case SQL identifier (no quoting surprises, ≤ 63 bytes). */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Removes any password from a text that may hold a connection URL or the password itself. @internal */
export function scrub(text: string, password?: string): string {
  let out = text.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
  if (password !== undefined && password.length > 0) out = out.split(password).join('***');
  return out;
}

interface ParsedUrl {
  readonly where: string;
  readonly password: string | undefined;
}

function invalid(option: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', message, { details: { option } });
}

function parseUrl(factory: string, text: string): ParsedUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PurposekitError('PURPOSEKIT_ERR_DB_CONNECT', `${factory}: "connectionString" is not a URL; expected postgres://user:password@host:5432/database.`, {
      details: { option: 'connectionString', reason: 'malformed-url' },
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new PurposekitError('PURPOSEKIT_ERR_DB_CONNECT', `${factory}: "connectionString" must start with postgres:// or postgresql://; got ${url.protocol}//….`, {
      details: { option: 'connectionString', reason: 'malformed-url' },
    });
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new PurposekitError('PURPOSEKIT_ERR_DB_CONNECT', `${factory}: "connectionString" names no host; expected postgres://user:password@host:5432/database.`, {
      details: { option: 'connectionString', reason: 'malformed-url' },
    });
  }
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const user = url.username === '' ? '' : `${decodeURIComponent(url.username)}@`;
  return { where: `${user}${url.hostname}${url.port === '' ? '' : `:${url.port}`}${url.pathname}`, password };
}

function describePool(pool: Pool): string {
  const o = (pool as unknown as { options?: Record<string, unknown> }).options ?? {};
  if (typeof o['connectionString'] === 'string') {
    try {
      return parseUrl('', o['connectionString']).where;
    } catch {
      return 'the pool’s server';
    }
  }
  const user = typeof o['user'] === 'string' ? `${o['user']}@` : '';
  const host = typeof o['host'] === 'string' ? o['host'] : 'localhost';
  const port = o['port'] === undefined ? '' : `:${String(o['port'])}`;
  const db = typeof o['database'] === 'string' ? `/${o['database']}` : '';
  return `${user}${host}${port}${db}`;
}

function poolPassword(pool: Pool): string | undefined {
  const o = (pool as unknown as { options?: Record<string, unknown> }).options ?? {};
  return typeof o['password'] === 'string' ? o['password'] : undefined;
}

/**
 * Validates the connection options and makes the pool (not connected yet).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION (neither or both of pool and
 *   connectionString, a bad schema name); PURPOSEKIT_ERR_DB_CONNECT for a malformed URL.
 * @internal
 */
export function resolveConnection(factory: string, options: PostgresConnectionOptions, poolMax = 4): Connection & { readonly password: string | undefined } {
  const schema = options.schema ?? 'purposekit';
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw invalid('schema', `${factory}: "schema" must be a lower-case SQL name (letters, digits, "_", at most 63, not starting with a digit); got ${JSON.stringify(schema)}.`);
  }
  const q = `"${schema}"`;
  if (options.pool !== undefined && options.connectionString !== undefined) {
    throw invalid('pool', `${factory}: give either "pool" or "connectionString", not both.`);
  }
  if (options.pool !== undefined) {
    if (typeof options.pool !== 'object' || options.pool === null || typeof (options.pool as { connect?: unknown }).connect !== 'function') {
      throw invalid('pool', `${factory}: "pool" must be a pg.Pool.`);
    }
    return { pool: options.pool, owned: false, schema, q, where: describePool(options.pool), password: poolPassword(options.pool) };
  }
  if (typeof options.connectionString !== 'string' || options.connectionString.length === 0) {
    throw invalid('connectionString', `${factory}: give "connectionString" (postgres://user:password@host:5432/database) or your own "pool".`);
  }
  const parsed = parseUrl(factory, options.connectionString);
  const pool = new Pool({ connectionString: options.connectionString, max: poolMax });
  // An idle pooled connection that the server drops must not crash the process; the next
  // checkout connects afresh.
  pool.on('error', () => undefined);
  return { pool, owned: true, schema, q, where: parsed.where, password: parsed.password };
}

/** True for an error that means "the connection is gone" (as opposed to a SQL error). @internal */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(08|57P0|53300)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  // node-postgres' `query_timeout` gives up on a query the server may still run (and commit):
  // its outcome is as unknown as a lost connection's, so it is treated as one.
  return /Connection terminated|Client has encountered a connection error|not queryable|Client was closed|Query read timeout/i.test(message);
}

/**
 * Maps a failure to connect into a typed error that names the server (never the password).
 * @internal
 */
export function connectError(factory: string, conn: { where: string; password?: string | undefined }, cause: unknown): PurposekitError {
  const e = cause as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  let reason = 'unreachable';
  let what = `cannot reach the server (${code === '' ? 'connection failed' : code})`;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (code === '28P01' || code === '28000') {
    reason = 'auth';
    what = 'the server refused the credentials (wrong user or password)';
  } else if (code === '' && /^SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a (non-empty )?string$/.test(message)) {
    // node-postgres fails on its side when the server asks for a SCRAM password and the
    // connection gives none (no password in the URL, PGPASSWORD or ~/.pgpass).
    reason = 'auth';
    what = 'the server asks for a password and none was given (wrong credentials)';
  } else if (code === '3D000') {
    reason = 'unknown-database';
    what = 'the database does not exist';
  }
  const safeCause = new Error(scrub(message === '' ? String(cause) : message, conn.password));
  (safeCause as { code?: string }).code = code;
  return new PurposekitError('PURPOSEKIT_ERR_DB_CONNECT', `${factory}: cannot connect to PostgreSQL at ${conn.where}: ${what}.`, { cause: safeCause, details: { reason, server: conn.where, ...(code === '' ? {} : { code }) } });
}

/**
 * Checks a client out of the pool, mapping failures to PURPOSEKIT_ERR_DB_CONNECT.
 * @internal
 */
export async function connectClient(factory: string, conn: Connection & { password?: string | undefined }): Promise<PoolClient> {
  try {
    return await conn.pool.connect();
  } catch (cause) {
    throw connectError(factory, conn, cause);
  }
}

/** A 64-bit advisory lock key for a name (first 8 bytes of its SHA-256, signed). @internal */
export function lockKey(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest().readBigInt64BE(0).toString();
}
