/**
 * The PostgreSQL consent store: the `ConsentStore` contract of @purposekit/core on
 * tables every instance shares. Consent answers are append-only rows (a trigger refuses
 * UPDATE and DELETE); writes to one subject + purpose are serialised by a transaction
 * advisory lock, so row order is commit order and "the latest committed answer wins".
 *
 * By default every `facts()` reads the database (one round trip, three index lookups):
 * a withdrawal committed on one instance governs the very next decision on every other.
 * With `cache: true`, answers are kept per subject and dropped when any instance writes
 * for that subject (LISTEN/NOTIFY, sent in the writing transaction, delivered on
 * COMMIT): the window in which another instance may still answer from its cache is the
 * notification's delivery time. While the LISTEN session is down, the cache is off.
 */
import type { PoolClient } from 'pg';
import { NO_SUBJECT_FACTS, PurposekitError, validateConsentRecord } from '@purposekit/core';
import type { ConsentRecord, ConsentStore, SubjectFacts } from '@purposekit/core';
import { isConnectionError, lockKey, resolveConnection } from './connection';
import type { Connection, PostgresConnectionOptions } from './connection';
import { prepareSchema } from './migrate';

/** Options of {@link createPostgresConsentStore}. */
export interface PostgresConsentStoreOptions extends PostgresConnectionOptions {
  /** Apply the schema migrations at start-up. Default false. */
  migrate?: boolean;
  /**
   * Keep answers in memory, invalidated by LISTEN/NOTIFY when any instance writes for the
   * subject. Default false (every decision reads the database). `true` keeps up to 10,000
   * subjects; or `{ maxSubjects }`.
   */
  cache?: boolean | { maxSubjects: number };
  /** Non-fatal events (LISTEN session lost / back). Never receives personal data. */
  onWarning?: (message: string, code: string) => void;
}

/** The PostgreSQL consent store. */
export interface PostgresConsentStore extends ConsentStore {
  facts(subject: string, purpose: string): Promise<SubjectFacts>;
  setConsent(record: ConsentRecord): Promise<void>;
  setObjection(subject: string, purpose: string, objected: boolean): Promise<void>;
  setRestriction(subject: string, restricted: boolean): Promise<void>;
  setErased(subject: string, erased: boolean): Promise<void>;
  history(subject: string): Promise<readonly ConsentRecord[]>;
  close(): Promise<void>;
  /** True while answers may come from the cache (cache on and its LISTEN session up). */
  readonly caching: boolean;
}

const FACTORY = 'createPostgresConsentStore()';
const OPTION_KEYS = ['pool', 'connectionString', 'schema', 'migrate', 'cache', 'onWarning'] as const;
const CHANNEL = 'purposekit_consent';
const MAX_ID = 256;

function badRequest(field: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', `Consent record: ${message}`, { details: { field } });
}

function id(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID) throw badRequest(field, `"${field}" must be a non-empty string of at most ${MAX_ID} characters.`);
}

/**
 * Opens the store: checks (or, with `migrate: true`, applies) the schema, and with
 * `cache` starts listening for other instances' writes.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION, PURPOSEKIT_ERR_DB_CONNECT,
 *   PURPOSEKIT_ERR_DB_SCHEMA.
 */
export async function createPostgresConsentStore(options: PostgresConsentStoreOptions): Promise<PostgresConsentStore> {
  if (typeof options !== 'object' || options === null) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY} takes an options object: { connectionString | pool }.`);
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}: unknown option "${key}".`, { details: { option: key } });
  }
  let maxSubjects = 0;
  if (options.cache === true) maxSubjects = 10_000;
  else if (typeof options.cache === 'object' && options.cache !== null) {
    const n = options.cache.maxSubjects;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}: "cache.maxSubjects" must be a positive integer.`, { details: { option: 'cache' } });
    maxSubjects = n;
  } else if (options.cache !== undefined && options.cache !== false) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}: "cache" must be true, false or { maxSubjects }.`, { details: { option: 'cache' } });
  }
  const conn = resolveConnection(FACTORY, options, 4);
  const store = new PgConsentStore(conn, maxSubjects, options.onWarning);
  try {
    await prepareSchema(FACTORY, conn, options.migrate === true);
    if (maxSubjects > 0) await store.listen();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function unavailable(cause: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_STORE_UNAVAILABLE', 'The consent store (PostgreSQL) cannot be reached; the decision was not made.', { cause });
}

class PgConsentStore implements PostgresConsentStore {
  readonly #conn: Connection;
  readonly #maxSubjects: number;
  readonly #onWarning: ((message: string, code: string) => void) | undefined;
  readonly #cache = new Map<string, Map<string, SubjectFacts>>();
  readonly #factsSql: string;
  #listener: PoolClient | undefined;
  #listening = false;
  #closed = false;
  /** Bumped on every invalidation: a read that started before it must not fill the cache. */
  #epoch = 0;

  constructor(conn: Connection, maxSubjects: number, onWarning: ((message: string, code: string) => void) | undefined) {
    this.#conn = conn;
    this.#maxSubjects = maxSubjects;
    this.#onWarning = onWarning;
    const q = conn.q;
    this.#factsSql =
      `SELECT (SELECT record FROM ${q}.consent_records WHERE subject = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1) AS consent, ` +
      `EXISTS (SELECT 1 FROM ${q}.consent_objections WHERE subject = $1 AND purpose = $2) AS objected, ` +
      `EXISTS (SELECT 1 FROM ${q}.consent_restrictions WHERE subject = $1) AS restricted, ` +
      `EXISTS (SELECT 1 FROM ${q}.consent_erasures WHERE subject = $1) AS erased`;
  }

  get caching(): boolean {
    return this.#maxSubjects > 0 && this.#listening;
  }

  // ── LISTEN/NOTIFY ─────────────────────────────────────────────────────────

  async listen(): Promise<void> {
    const client = await this.#conn.pool.connect();
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || msg.payload === undefined) return;
      const cut = msg.payload.indexOf(':');
      if (msg.payload.slice(0, cut) !== this.#conn.schema) return;
      this.#epoch++;
      this.#cache.delete(msg.payload.slice(cut + 1));
    });
    client.on('error', () => this.#listenerLost(client));
    await client.query(`LISTEN ${CHANNEL}`);
    this.#listener = client;
    // Anything cached before LISTEN took effect may have missed a notification.
    this.#epoch++;
    this.#cache.clear();
    this.#listening = true;
  }

  #listenerLost(client: PoolClient): void {
    if (this.#listener !== client) return;
    this.#listener = undefined;
    this.#listening = false;
    this.#epoch++;
    this.#cache.clear();
    try {
      client.release(true);
    } catch {
      // already released
    }
    if (this.#closed) return;
    this.#onWarning?.('consent store: the LISTEN session was lost; answers come from the database until it is back.', 'PURPOSEKIT_WARN_CONSENT_LISTEN_LOST');
    let delay = 50;
    const retry = (): void => {
      if (this.#closed) return;
      this.listen().then(
        () => this.#onWarning?.('consent store: listening again; the cache is back on.', 'PURPOSEKIT_WARN_CONSENT_LISTEN_BACK'),
        () => {
          delay = Math.min(delay * 2, 2000);
          setTimeout(retry, delay).unref();
        },
      );
    };
    setTimeout(retry, delay).unref();
  }

  // ── reads ─────────────────────────────────────────────────────────────────

  async facts(subject: string, purpose: string): Promise<SubjectFacts> {
    this.#open();
    const useCache = this.caching;
    if (useCache) {
      const hit = this.#cache.get(subject)?.get(purpose);
      if (hit !== undefined) return hit;
    }
    const epoch = this.#epoch;
    let row: { consent: string | null; objected: boolean; restricted: boolean; erased: boolean } | undefined;
    try {
      row = (await this.#conn.pool.query<{ consent: string | null; objected: boolean; restricted: boolean; erased: boolean }>(this.#factsSql, [subject, purpose])).rows[0];
    } catch (error) {
      throw isConnectionError(error) ? unavailable(error) : error;
    }
    const consent = row?.consent == null ? undefined : (JSON.parse(row.consent) as ConsentRecord);
    const facts: SubjectFacts =
      consent === undefined && row?.objected !== true && row?.restricted !== true && row?.erased !== true
        ? NO_SUBJECT_FACTS
        : Object.freeze({ consent, objected: row?.objected === true, restricted: row?.restricted === true, erased: row?.erased === true });
    if (useCache && this.caching && epoch === this.#epoch) {
      if (this.#cache.size >= this.#maxSubjects && !this.#cache.has(subject)) this.#cache.clear();
      let m = this.#cache.get(subject);
      if (m === undefined) this.#cache.set(subject, (m = new Map()));
      m.set(purpose, facts);
    }
    return facts;
  }

  async history(subject: string): Promise<readonly ConsentRecord[]> {
    this.#open();
    const r = await this.#conn.pool.query<{ record: string }>(`SELECT record FROM ${this.#conn.q}.consent_records WHERE subject = $1 ORDER BY id`, [subject]);
    return r.rows.map((x) => JSON.parse(x.record) as ConsentRecord);
  }

  // ── writes: one transaction each, with the notification ──────────────────

  async #write(subject: string, lockName: string, run: (c: PoolClient) => Promise<void>): Promise<void> {
    this.#open();
    let client: PoolClient;
    try {
      client = await this.#conn.pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
    let failed: unknown;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(`purposekit:consent:${this.#conn.schema}\u0000${lockName}`)]);
      await run(client);
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, `${this.#conn.schema}:${subject}`]);
      await client.query('COMMIT');
    } catch (error) {
      failed = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw isConnectionError(error) ? unavailable(error) : error;
    } finally {
      client.release(failed !== undefined && isConnectionError(failed) ? (failed as Error) : undefined);
      // Our own write: drop our cache entry at once (the notification will too).
      this.#epoch++;
      this.#cache.delete(subject);
    }
  }

  async setConsent(record: ConsentRecord): Promise<void> {
    const r = validateConsentRecord(record);
    await this.#write(r.subject, `${r.subject}\u0000${r.purpose}`, async (c) => {
      await c.query(`INSERT INTO ${this.#conn.q}.consent_records (subject, purpose, record) VALUES ($1, $2, $3)`, [r.subject, r.purpose, JSON.stringify(r)]);
    });
  }

  async setObjection(subject: string, purpose: string, objected: boolean): Promise<void> {
    id(subject, 'subject');
    id(purpose, 'purpose');
    const q = this.#conn.q;
    await this.#write(subject, `${subject}\u0000${purpose}`, async (c) => {
      if (objected === true) await c.query(`INSERT INTO ${q}.consent_objections (subject, purpose) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [subject, purpose]);
      else await c.query(`DELETE FROM ${q}.consent_objections WHERE subject = $1 AND purpose = $2`, [subject, purpose]);
    });
  }

  async setRestriction(subject: string, restricted: boolean): Promise<void> {
    id(subject, 'subject');
    const q = this.#conn.q;
    await this.#write(subject, subject, async (c) => {
      if (restricted === true) await c.query(`INSERT INTO ${q}.consent_restrictions (subject) VALUES ($1) ON CONFLICT DO NOTHING`, [subject]);
      else await c.query(`DELETE FROM ${q}.consent_restrictions WHERE subject = $1`, [subject]);
    });
  }

  async setErased(subject: string, erased: boolean): Promise<void> {
    id(subject, 'subject');
    const q = this.#conn.q;
    await this.#write(subject, subject, async (c) => {
      if (erased === true) await c.query(`INSERT INTO ${q}.consent_erasures (subject) VALUES ($1) ON CONFLICT DO NOTHING`, [subject]);
      else await c.query(`DELETE FROM ${q}.consent_erasures WHERE subject = $1`, [subject]);
    });
  }

  #open(): void {
    if (this.#closed) throw new PurposekitError('PURPOSEKIT_ERR_STORE_UNAVAILABLE', 'The consent store is closed.');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listening = false;
    this.#cache.clear();
    const l = this.#listener;
    this.#listener = undefined;
    if (l !== undefined) {
      try {
        l.release(true); // ends the LISTEN session (and its listeners) rather than pooling it
      } catch {
        // already released
      }
    }
    if (this.#conn.owned) await this.#conn.pool.end().catch(() => undefined);
  }
}
