/**
 * The app's own data in PostgreSQL (`DATABASE_URL` set): the same {@link OpenInfraData}
 * as the embedded store, so that several instances of the app share one set of members,
 * subscriptions and submissions (purposekit's trail, consent and rights register live in
 * the same database through `@purposekit/postgres`). One table per collection, each row
 * the record as JSON; erasure deletes rows (no copy stays in the table).
 */
import type { Pool } from 'pg';
import type { DeletedMember, Member, OpenInfraData, Submission, Subscriber } from './store';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export class PostgresOpenInfraStore implements OpenInfraData {
  readonly #pool: Pool;
  readonly #t: { members: string; deleted: string; subscribers: string; submissions: string };

  private constructor(pool: Pool, schema: string) {
    this.#pool = pool;
    const q = (name: string): string => `"${schema}"."openinfra_${name}"`;
    this.#t = { members: q('members'), deleted: q('deleted_members'), subscribers: q('subscribers'), submissions: q('submissions') };
  }

  /** Creates the app's tables in `schema` when missing (idempotent; safe when instances start together). */
  static async open(pool: Pool, schema: string): Promise<PostgresOpenInfraStore> {
    if (!SCHEMA_NAME.test(schema)) throw new TypeError(`schema must be a lower-case SQL name, got ${JSON.stringify(schema)}`);
    const s = new PostgresOpenInfraStore(pool, schema);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // One instance creates, the others wait (transaction-scoped advisory lock).
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${schema}.openinfra_app`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      for (const table of [s.#t.members, s.#t.deleted, s.#t.subscribers, s.#t.submissions]) {
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, at timestamptz NOT NULL, doc jsonb NOT NULL)`);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return s;
  }

  async #docs<T>(table: string, where = '', params: unknown[] = []): Promise<T[]> {
    const r = await this.#pool.query<{ doc: T }>(`SELECT doc FROM ${table} ${where} ORDER BY at, id`, params);
    return r.rows.map((row) => row.doc);
  }

  async #insert(table: string, id: string, at: string, doc: object): Promise<void> {
    await this.#pool.query(`INSERT INTO ${table} (id, at, doc) VALUES ($1, $2, $3)`, [id, at, JSON.stringify(doc)]);
  }

  async addMember(m: Member): Promise<void> {
    await this.#insert(this.#t.members, m.id, m.joinedAt, m);
  }

  async member(id: string): Promise<Member | undefined> {
    return (await this.#docs<Member>(this.#t.members, 'WHERE id = $1', [id]))[0];
  }

  async updateMember(id: string, fields: Partial<Pick<Member, 'name' | 'email' | 'employer' | 'location' | 'profession'>>): Promise<boolean> {
    const set: Record<string, string> = {};
    const unset: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) unset.push(k);
      else set[k] = v;
    }
    const r = await this.#pool.query(`UPDATE ${this.#t.members} SET doc = (doc - $2::text[]) || $3::jsonb WHERE id = $1`, [id, unset, JSON.stringify(set)]);
    return (r.rowCount ?? 0) > 0;
  }

  directory(): Promise<Member[]> {
    return this.#docs<Member>(this.#t.members, `WHERE (doc->>'inDirectory')::boolean`);
  }

  async countMembers(): Promise<number> {
    const r = await this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#t.members}`);
    return Number(r.rows[0]!.n);
  }

  async keepDeletedRecord(id: string, erasedAt: string): Promise<DeletedMember | undefined> {
    const m = await this.member(id);
    if (m === undefined) return undefined;
    const record: DeletedMember = { id: m.id, name: m.name, email: m.email, erasedAt };
    await this.#pool.query(`INSERT INTO ${this.#t.deleted} (id, at, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at, doc = EXCLUDED.doc`, [id, erasedAt, JSON.stringify(record)]);
    return record;
  }

  async eraseMember(id: string): Promise<void> {
    const m = await this.member(id);
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`DELETE FROM ${this.#t.members} WHERE id = $1`, [id]);
      for (const table of [this.#t.subscribers, this.#t.submissions]) {
        await client.query(`DELETE FROM ${table} WHERE id = $1 OR doc->>'member' = $1 OR (doc->>'email') = $2`, [id, m?.email ?? null]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  members(): Promise<Member[]> {
    return this.#docs<Member>(this.#t.members);
  }

  subscribers(): Promise<Subscriber[]> {
    return this.#docs<Subscriber>(this.#t.subscribers);
  }

  async subscriber(id: string): Promise<Subscriber | undefined> {
    return (await this.#docs<Subscriber>(this.#t.subscribers, 'WHERE id = $1', [id]))[0];
  }

  async removeSubscriber(id: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.#t.subscribers} WHERE id = $1`, [id]);
  }

  submissions(kind?: Submission['kind']): Promise<Submission[]> {
    return kind === undefined ? this.#docs<Submission>(this.#t.submissions) : this.#docs<Submission>(this.#t.submissions, `WHERE doc->>'kind' = $1`, [kind]);
  }

  async removeSubmission(id: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.#t.submissions} WHERE id = $1`, [id]);
  }

  async deletedMember(id: string): Promise<DeletedMember | undefined> {
    return (await this.#docs<DeletedMember>(this.#t.deleted, 'WHERE id = $1', [id]))[0];
  }

  async addSubscriber(s: Subscriber): Promise<void> {
    // A member who subscribes again replaces their subscription.
    await this.#pool.query(`INSERT INTO ${this.#t.subscribers} (id, at, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at, doc = EXCLUDED.doc`, [s.id, s.subscribedAt, JSON.stringify(s)]);
  }

  async addSubmission(s: Submission): Promise<void> {
    await this.#insert(this.#t.submissions, s.id, s.at, s);
  }

  async countSubmissions(kind: Submission['kind']): Promise<number> {
    const r = await this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#t.submissions} WHERE doc->>'kind' = $1`, [kind]);
    return Number(r.rows[0]!.n);
  }

  /** Nothing of its own to close: the pool belongs to the caller (the app ends it after the purposekit stores). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
