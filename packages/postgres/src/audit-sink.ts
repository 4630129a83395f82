/**
 * The PostgreSQL audit sink: one hash chain per writer stream, in the record format of
 * docs/audit-format.md, stored one row per record.
 *
 * Shape of the code: the sink holds one dedicated session (a client checked out of the
 * pool) for as long as it runs. On it, a session-level advisory lock claims the stream:
 * a second live writer is refused; when a writer dies its session ends, the lock goes
 * with it, and the next claimant takes the stream over from its last committed row.
 * `append()` validates and queues; the writer sequences and seals the queued events
 * (seq, ts, prev, hash, checkpoints) and writes them as one multi-row INSERT, a single
 * statement and so a single transaction; appends that arrive meanwhile join the next
 * batch (group commit). An append resolves after the COMMIT covering it.
 *
 * Batches are pipelined (node-postgres pipeline mode, where the installed `pg` has it):
 * while one batch commits, the next is already sealed and on the wire, so the server
 * never waits for this process between commits. A batch sent behind another carries a
 * guard: it inserts nothing unless its predecessor row (the last row of the batch ahead)
 * is there. So if a batch is refused, every batch behind it inserts nothing too, and the
 * chain never gets a gap; the writer rewinds to the refused batch's start.
 *
 * When the session is lost, the sink refuses appends at once (fail closed), reconnects
 * in the background, reclaims its stream and reads its head: a batch whose COMMIT
 * outcome was unknown is acknowledged if its last row is there, refused if not. Nothing
 * is ever sent twice, so nothing is duplicated.
 */
import { createHash, createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import type { PoolClient } from 'pg';
import {
  AUDIT_GENESIS_HASH,
  AuditLineEncoder,
  PurposekitError,
  auditKeyId,
  checkpointSigningInput,
  hashAuditRecord,
  isPurposekitError,
  validateAuditEvent,
} from '@purposekit/core';
import type { AnchoredHead, AuditAnchor, AuditAnchorErrorInfo, AuditAnchorFunction, AuditEventInput, AuditSink } from '@purposekit/core';
import { PgAnchorOutbox } from './anchor-outbox';
import { connectClient, connectError, isConnectionError, lockKey, resolveConnection } from './connection';
import type { Connection, PostgresConnectionOptions } from './connection';
import { checkSchema, migrateConnection } from './migrate';

/** Options of {@link createPostgresAuditSink}. */
export interface PostgresAuditSinkOptions extends PostgresConnectionOptions {
  /**
   * This writer's stream id: 1–64 characters of `[A-Za-z0-9._:-]`, starting with a letter
   * or digit. Each running instance needs its own (e.g. the pod name); a stream is held
   * by one live writer at a time. Required.
   */
  stream: string;
  /** Ed25519 private key for checkpoints: a KeyObject or a PKCS#8 PEM string. Required. */
  signingKey: KeyObject | string;
  /** Key id written into checkpoints. Default: the RFC 7638 JWK thumbprint of the public key. */
  keyId?: string;
  /** A signed checkpoint after this many records. Default 1000. */
  checkpointEvery?: number;
  /** …or after this many milliseconds with unsigned records, whichever first. Default 5000. */
  checkpointIntervalMs?: number;
  /** Most records in one INSERT. Default 2000. */
  maxBatch?: number;
  /** Most appends waiting for a batch; beyond it appends reject with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE. Default 20000. */
  maxQueue?: number;
  /** Apply the schema migrations at start-up (under the migration lock). Default false: the schema must be migrated. */
  migrate?: boolean;
  /** How long an append whose COMMIT outcome is unknown (session lost mid-commit) waits for the reconnect that resolves it, in ms. Default 5000. */
  unknownOutcomeWaitMs?: number;
  /**
   * Where each committed checkpoint's signed head is also published (anchors the
   * database's owner cannot rewrite: a file on another mount, another database, a
   * function). Published in order after the checkpoint's COMMIT, never on the append
   * path, through a durable outbox: what each anchor took of the stream is kept in
   * `audit_anchor_cursors`, every committed checkpoint above it is pending, a failure is
   * reported and retried (1 s, 2 s, 4 s… up to 5 min), and whoever claims the stream
   * next (after a restart, a crash or a takeover) publishes what is still pending.
   * Delivery is at least once. Anchors are told apart by `name`: keep names stable.
   */
  anchors?: ReadonlyArray<AuditAnchor | AuditAnchorFunction>;
  /** Called when an anchor did not take a head (it is retried). Default: an `onWarning` with code `PURPOSEKIT_WARN_AUDIT_ANCHOR`. */
  onAnchorError?: (error: unknown, info: AuditAnchorErrorInfo) => void;
  /** First retry delay after a failed publication, in ms (doubling up to 5 min). Default 1000. */
  anchorRetryMs?: number;
  /** Called for non-fatal events (session lost, reconnected, stream taken over). Never receives personal data or the password. */
  onWarning?: (message: string, code: string) => void;
}

/** The PostgreSQL sink: an {@link AuditSink} plus where it writes. */
export interface PostgresAuditSink extends AuditSink {
  readonly schema: string;
  readonly stream: string;
  readonly keyId: string;
  /** `up` (writing), `down` (reconnecting; appends refused), `closed`, or `lost` (another writer took the stream while this one was disconnected; appends refused for good). */
  readonly state: 'up' | 'down' | 'closed' | 'lost';
  /** Committed checkpoint heads some anchor has not taken yet (empty without anchors). */
  pendingAnchorHeads(): readonly AnchoredHead[];
}

const FACTORY = 'createPostgresAuditSink()';
/** How long close() gives anchors to take the last heads; the rest stays pending for the next claimant. */
const ANCHOR_CLOSE_WAIT_MS = 2000;
const OPTION_KEYS = [
  'pool',
  'connectionString',
  'schema',
  'stream',
  'signingKey',
  'keyId',
  'checkpointEvery',
  'checkpointIntervalMs',
  'maxBatch',
  'maxQueue',
  'migrate',
  'unknownOutcomeWaitMs',
  'anchors',
  'onAnchorError',
  'anchorRetryMs',
  'onWarning',
] as const;
/** Stream ids: what the audit_streams CHECK constraint allows. */
export const STREAM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

interface Resolved {
  readonly stream: string;
  readonly signingKey: KeyObject;
  readonly keyId: string;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly maxBatch: number;
  readonly maxQueue: number;
  readonly migrate: boolean;
  readonly unknownOutcomeWaitMs: number;
  readonly anchors: readonly AuditAnchor[];
  readonly onAnchorError: ((error: unknown, info: AuditAnchorErrorInfo) => void) | undefined;
  readonly anchorRetryMs: number;
  readonly onWarning: ((message: string, code: string) => void) | undefined;
}

function bad(option: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}: ${message}`, { details: { option } });
}

function int(options: PostgresAuditSinkOptions, name: 'checkpointEvery' | 'checkpointIntervalMs' | 'maxBatch' | 'maxQueue' | 'unknownOutcomeWaitMs' | 'anchorRetryMs', fallback: number, min: number, max: number): number {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(name, `"${name}" must be an integer from ${min} to ${max}; got ${JSON.stringify(v)}.`);
  return v;
}

function resolveOptions(options: PostgresAuditSinkOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY} takes an options object: { connectionString | pool, stream, signingKey }.`);
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw bad(key, `unknown option "${key}".`);
  }
  if (typeof options.stream !== 'string' || !STREAM_PATTERN.test(options.stream)) {
    throw bad('stream', `"stream" must be 1–64 characters of letters, digits, ".", "_", ":" or "-" (one per writer, e.g. the pod name); got ${JSON.stringify(options.stream)}.`);
  }
  if (options.signingKey === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${FACTORY}: "signingKey" is required: an Ed25519 private key (generate one with \`purposekit keys generate\`).`);
  let signingKey: KeyObject;
  try {
    signingKey = typeof options.signingKey === 'string' ? createPrivateKey(options.signingKey) : options.signingKey;
  } catch (cause) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${FACTORY}: "signingKey" is not a PEM private key.`, { cause });
  }
  if (signingKey.type !== 'private' || signingKey.asymmetricKeyType !== 'ed25519') throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${FACTORY}: "signingKey" must be an Ed25519 private key.`);
  let keyId: string;
  if (options.keyId === undefined) keyId = auditKeyId(signingKey);
  else if (typeof options.keyId === 'string' && KEY_ID_PATTERN.test(options.keyId)) keyId = options.keyId;
  else throw bad('keyId', '"keyId" must be 1–128 characters of letters, digits, ".", "_", ":" or "-".');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw bad('onWarning', '"onWarning" must be a function.');
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean') throw bad('migrate', '"migrate" must be true or false.');
  const anchors: AuditAnchor[] = [];
  if (options.anchors !== undefined) {
    if (!Array.isArray(options.anchors)) throw bad('anchors', '"anchors" must be an array of anchors ({ name, publish }) or functions.');
    options.anchors.forEach((a: unknown, i: number) => {
      if (typeof a === 'function') anchors.push(Object.freeze({ name: `function#${i}`, publish: async (head: AnchoredHead) => (a as AuditAnchorFunction)(head) }));
      else if (typeof a === 'object' && a !== null && typeof (a as AuditAnchor).publish === 'function' && typeof (a as AuditAnchor).name === 'string') anchors.push(a as AuditAnchor);
      else throw bad('anchors', `"anchors[${i}]" must be an anchor ({ name, publish }) or a function.`);
    });
    const names = anchors.map((a) => a.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw bad('anchors', `two anchors are named ${JSON.stringify(twice)}: the outbox tells anchors apart by name; give each its own.`);
    if (names.some((n) => n.length === 0 || n.length > 200)) throw bad('anchors', 'an anchor\'s name must be 1–200 characters.');
  }
  if (options.onAnchorError !== undefined && typeof options.onAnchorError !== 'function') throw bad('onAnchorError', '"onAnchorError" must be a function.');
  return Object.freeze({
    stream: options.stream,
    signingKey,
    keyId,
    checkpointEvery: int(options, 'checkpointEvery', 1000, 1, 10_000_000),
    checkpointIntervalMs: int(options, 'checkpointIntervalMs', 5000, 10, 86_400_000),
    maxBatch: int(options, 'maxBatch', 2000, 1, 10_000),
    maxQueue: int(options, 'maxQueue', 20_000, 1, 10_000_000),
    migrate: options.migrate === true,
    unknownOutcomeWaitMs: int(options, 'unknownOutcomeWaitMs', 5000, 0, 600_000),
    anchors: Object.freeze(anchors),
    onAnchorError: options.onAnchorError,
    anchorRetryMs: int(options, 'anchorRetryMs', 1000, 10, 300_000),
    onWarning: options.onWarning,
  });
}

/**
 * Opens a writer on one stream of a PostgreSQL trail: checks (or, with `migrate: true`,
 * applies) the schema, claims the stream, checks its last row against its hash and its
 * head checkpoint, and seals an unsigned tail left by a crashed writer with a checkpoint.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION / PURPOSEKIT_ERR_INVALID_KEY for
 *   bad options; PURPOSEKIT_ERR_DB_CONNECT when the server cannot be reached or refuses
 *   the credentials; PURPOSEKIT_ERR_DB_SCHEMA for a missing or newer schema;
 *   PURPOSEKIT_ERR_AUDIT_STREAM_HELD when another live writer holds the stream;
 *   PURPOSEKIT_ERR_AUDIT_CORRUPT when the stream's last row does not match its hash or
 *   the stream is shorter than its head checkpoint.
 */
export async function createPostgresAuditSink(options: PostgresAuditSinkOptions): Promise<PostgresAuditSink> {
  const resolved = resolveOptions(options);
  const conn = resolveConnection(FACTORY, options, 2);
  const sink = new PgSink(conn, resolved);
  try {
    if (resolved.migrate) await migrateConnection(FACTORY, conn);
    await sink.open();
  } catch (error) {
    await sink.abandon();
    throw error;
  }
  return sink;
}

interface Pending {
  readonly event: AuditEventInput | undefined; // undefined: a checkpoint request
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Whether `value` can travel as one line of a column's text: a non-empty string without LF. */
const isLine = (value: unknown): boolean => typeof value === 'string' && value.length > 0 && !value.includes('\n');

/** Most batches on the wire at once: one committing, the next already sent behind it. */
const PIPELINE_DEPTH = 2;
/**
 * Fewest records worth a second batch behind one in flight: below it they wait for that
 * batch's COMMIT and go in the next (a few callers split into two alternating batches
 * would pay two commits where one does).
 */
const PIPELINE_MIN_RECORDS = 16;

/** A batch on the wire, with the chain position to rewind to if it did not commit. */
interface InFlight {
  readonly pendings: Pending[];
  /** Heads of the checkpoints in the batch (for the anchors, once it is known to have committed). */
  readonly heads: AnchoredHead[];
  /** Rows in the batch (records and checkpoints). */
  readonly rows: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly startSeq: number;
  readonly startPrev: string;
  readonly startTs: string | undefined;
  readonly startSince: number;
  /**
   * Sent behind a batch that was then refused: its predecessor guard makes it insert
   * nothing, so it is refused too, without rewinding (the refused batch ahead did).
   */
  doomed: boolean;
}

/** Batches whose COMMIT outcome is unknown (the session went while they were on the wire). */
interface Uncertain {
  readonly batches: InFlight[];
  settled: boolean;
  /** Refuses them after unknownOutcomeWaitMs; cleared once they are settled otherwise. */
  timer?: ReturnType<typeof setTimeout>;
}

/** Returns a client to its pool (destroying it when `error` is set); a second release is harmless. */
const LISTENERS = new WeakMap<PoolClient, (error: Error) => void>();

/**
 * Puts the sink's own session into node-postgres pipeline mode (`pipeline`, a Client
 * option since pg 8.2x; an older `pg` has no such property and queues queries one at a
 * time, which is slower but just as correct: the guard does not depend on it). The
 * session is the sink's alone while it holds it, and idle when switched either way.
 */
function setPipeline(client: PoolClient, on: boolean): void {
  const c = client as unknown as { pipeline?: unknown };
  if (typeof c.pipeline === 'boolean') c.pipeline = on;
}

/** A named statement: parsed once per session, not once per batch. */
interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * Names a statement by its text (a prepared statement's name is per session and at most
 * 63 bytes: a name made from the schema could be cut short and collide).
 */
function named(what: string, text: string): Statement {
  return { name: `purposekit_audit_${what}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`, text };
}

function release(client: PoolClient, error?: Error | boolean): void {
  const onError = LISTENERS.get(client);
  if (onError !== undefined) {
    // pg-pool listens for errors of idle clients once the client is back in the pool
    client.removeListener('error', onError);
    LISTENERS.delete(client);
  }
  // Back in the pool it is an ordinary client again (a destroyed one is never reused).
  if (error === undefined || error === false) setPipeline(client, false);
  try {
    client.release(error);
  } catch {
    // already released (the pool throws on a double release)
  }
}

function unavailable(message: string, cause?: unknown): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}

class PgSink implements PostgresAuditSink {
  readonly schema: string;
  readonly stream: string;
  readonly keyId: string;
  readonly #conn: Connection & { password?: string | undefined };
  readonly #o: Resolved;
  readonly #lockKey: string;
  /** The batch INSERT, and the same with the stream head's update for a batch with a checkpoint. */
  readonly #insert: Statement;
  readonly #insertHead: Statement;
  #client: PoolClient | undefined;
  /** The server process of the session last attached (to end it if it outlives its connection). */
  #backendPid: number | undefined;
  #state: 'up' | 'down' | 'closed' | 'lost' | 'opening' = 'opening';
  #seq = 0;
  #prev = AUDIT_GENESIS_HASH;
  /** The `ts` of the row at #seq (undefined for an empty stream): a guard names its predecessor by (seq, ts). */
  #headTs: string | undefined;
  #sinceCheckpoint = 0;
  #queue: Pending[] = [];
  /** A pump is due on the next turn of the event loop. */
  #scheduled = false;
  /** The partitions for a new month are being made; nothing is sent until they are. */
  #ensuring = false;
  #idle: Array<() => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #reconnecting = false;
  #closing = false;
  #months = new Set<string>();
  #uncertain: Uncertain | undefined;
  /** The anchor outbox, when anchors are configured. */
  readonly #outbox: PgAnchorOutbox | undefined;
  /** The batches on the wire, oldest first (results come back in that order). */
  #inflight: InFlight[] = [];
  /** Encodes each batch's records straight to the UTF-8 bytes that are sent. */
  readonly #encoder = new AuditLineEncoder();
  /** Rejects when the current session is lost (a pending query may never settle by itself). */
  #aborted: Promise<never> = new Promise<never>(() => undefined);
  #abort: (error: Error) => void = () => undefined;

  constructor(conn: Connection & { password?: string | undefined }, o: Resolved) {
    this.#conn = conn;
    this.#o = o;
    this.schema = conn.schema;
    this.stream = o.stream;
    this.keyId = o.keyId;
    this.#lockKey = lockKey(`purposekit:stream:${conn.schema}:${o.stream}`);
    const q = conn.q;
    this.#outbox =
      o.anchors.length === 0
        ? undefined
        : new PgAnchorOutbox({
            pool: conn.pool,
            q,
            stream: o.stream,
            anchors: o.anchors,
            onError: o.onAnchorError ?? ((error, info) => this.#anchorWarning(error, info)),
            backoff: { firstMs: o.anchorRetryMs, maxMs: 300_000 },
          });
    // One statement per batch (so one transaction). A batch's seqs are consecutive ($2 is
    // the first) and share one ts ($3); each column travels as one text, a line per row:
    // the kinds ($4), the subjects ($5, '' for none) and the records ($6, the encoder's
    // UTF-8 bytes, sent as they are). A canonical JSON line holds no raw newline (nor do
    // a kind or a pseudonym, checked when sealed), and this costs far less than text[]
    // literals, which escape every quote of every record. $7/$8 name the predecessor row
    // for a batch sent behind another (NULL otherwise): without that row nothing is
    // inserted (one index probe, run once: an InitPlan). A batch without a checkpoint is
    // that INSERT alone, its row count from the command tag; one with a checkpoint also
    // moves the stream head ($9–$11), in the same statement.
    const insertRows =
      `INSERT INTO ${q}.audit_records (stream, seq, ts, kind, subject, record) ` +
      `SELECT $1, $2::bigint + u.n - 1, $3::timestamptz, u.k, NULLIF(u.j, ''), u.r FROM unnest(string_to_array($4::text, E'\\n'), string_to_array($5::text, E'\\n'), string_to_array($6::text, E'\\n')) WITH ORDINALITY AS u(k, j, r, n) ` +
      `WHERE $7::bigint IS NULL OR EXISTS (SELECT 1 FROM ${q}.audit_records p WHERE p.stream = $1 AND p.seq = $7::bigint AND p.ts = $8::timestamptz)`;
    this.#insert = named('insert', insertRows);
    this.#insertHead = named(
      'insert_head',
      `WITH ins AS (${insertRows} RETURNING 1), ` +
        `head AS (UPDATE ${q}.audit_streams SET head_seq = $9, head_hash = $10, head_checkpoint = $11 WHERE stream = $1 AND (SELECT count(*) FROM ins) > 0 RETURNING 1) ` +
        `SELECT (SELECT count(*) FROM ins)::int AS n`,
    );
  }

  get state(): 'up' | 'down' | 'closed' | 'lost' {
    return this.#state === 'opening' ? 'down' : this.#state;
  }

  // ── start-up, claim, head ───────────────────────────────────────────────────

  async open(): Promise<void> {
    const client = await connectClient(FACTORY, this.#conn);
    this.#attach(client);
    try {
      await checkSchema(FACTORY, this.#conn, client);
      await this.#claim(client);
      await this.#readHead(client, true);
      // Heads a crash (or the previous owner) left unpublished are queued again.
      await this.#outbox?.load(client);
    } catch (error) {
      throw this.#startupError(error);
    }
    this.#state = 'up';
    this.#timer = setInterval(() => this.#onTimer(), this.#o.checkpointIntervalMs);
    this.#timer.unref();
    if (this.#sinceCheckpoint > 0) await this.#request();
  }

  #startupError(error: unknown): unknown {
    if (isPurposekitError(error)) return error;
    if (isConnectionError(error)) return connectError(FACTORY, this.#conn, error);
    const code = (error as { code?: string }).code;
    return new PurposekitError('PURPOSEKIT_ERR_DB_SCHEMA', `${FACTORY}: opening stream ${this.stream} in schema "${this.schema}" failed${code === undefined ? '' : ` (SQLSTATE ${code})`}.`, {
      details: { schema: this.schema, stream: this.stream, ...(code === undefined ? {} : { code }) },
    });
  }

  /** Releases what a failed start-up holds. @internal */
  async abandon(): Promise<void> {
    this.#state = 'closed';
    this.#outbox?.abandon();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    const c = this.#client;
    this.#client = undefined;
    if (c !== undefined) release(c, true);
    if (this.#conn.owned) await this.#conn.pool.end().catch(() => undefined);
  }

  #attach(client: PoolClient): void {
    this.#client = client;
    const pid = (client as unknown as { processID?: unknown }).processID;
    this.#backendPid = typeof pid === 'number' ? pid : undefined;
    setPipeline(client, true);
    this.#aborted = new Promise<never>((_resolve, reject) => (this.#abort = reject));
    this.#aborted.catch(() => undefined);
    const onError = (error: Error): void => this.#lost(client, error);
    client.on('error', onError);
    LISTENERS.set(client, onError);
  }

  async #claim(client: PoolClient): Promise<void> {
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.#lockKey]);
    if (r.rows[0]?.ok !== true) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_AUDIT_STREAM_HELD',
        `${FACTORY}: audit stream ${this.stream} in schema "${this.schema}" is held by another live writer; give each instance its own "stream".`,
        { details: { schema: this.schema, stream: this.stream } },
      );
    }
    await client.query(
      `INSERT INTO ${this.#conn.q}.audit_streams (stream, owner, claimed_at) VALUES ($1, $2, now()) ON CONFLICT (stream) DO UPDATE SET owner = EXCLUDED.owner, claimed_at = EXCLUDED.claimed_at`,
      [this.stream, `${hostname()}:${process.pid}`],
    );
  }

  /** Reads the stream's last row and head checkpoint; sets the chain position from them. */
  async #readHead(client: PoolClient, startup: boolean): Promise<void> {
    const q = this.#conn.q;
    const last = await client.query<{ seq: string; record: string }>(`SELECT seq, record FROM ${q}.audit_records WHERE stream = $1 ORDER BY seq DESC LIMIT 1`, [this.stream]);
    const head = await client.query<{ head_seq: string | null; head_hash: string | null }>(`SELECT head_seq::text, head_hash FROM ${q}.audit_streams WHERE stream = $1`, [this.stream]);
    const row = last.rows[0];
    const headSeq = head.rows[0]?.head_seq == null ? 0 : Number(head.rows[0].head_seq);
    if (row === undefined) {
      if (headSeq > 0) throw this.#corrupt(`its head checkpoint shows seq ${headSeq}, but it holds no records: records were removed`);
      this.#seq = 0;
      this.#prev = AUDIT_GENESIS_HASH;
      this.#headTs = undefined;
      this.#sinceCheckpoint = 0;
      return;
    }
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(row.record) as Record<string, unknown>;
    } catch {
      throw this.#corrupt(`its last row (seq ${row.seq}) is not JSON`);
    }
    if (record['seq'] !== Number(row.seq) || typeof record['hash'] !== 'string' || hashAuditRecord(record) !== record['hash']) {
      throw this.#corrupt(`its last row (seq ${row.seq}) does not match its own hash`);
    }
    if (Number(row.seq) < headSeq) throw this.#corrupt(`it ends at seq ${row.seq}, but its head checkpoint shows seq ${headSeq}: records were removed`);
    this.#seq = Number(row.seq);
    this.#prev = record['hash'];
    this.#headTs = typeof record['ts'] === 'string' ? record['ts'] : undefined;
    // Unsigned records at the end: seal them (after a crash the count is unknown; any is enough).
    this.#sinceCheckpoint = record['kind'] === 'checkpoint' ? 0 : Math.max(1, this.#sinceCheckpoint);
    if (startup && record['kind'] !== 'checkpoint') this.#sinceCheckpoint = 1;
  }

  #corrupt(what: string): PurposekitError {
    return new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', `${FACTORY}: audit stream ${this.stream} in schema "${this.schema}": ${what}. Run \`purposekit audit verify --pg\`.`, {
      details: { schema: this.schema, stream: this.stream },
    });
  }

  // ── appending ───────────────────────────────────────────────────────────────

  append(event: AuditEventInput): Promise<void> {
    try {
      validateAuditEvent(event);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state !== 'up' || this.#closing) return Promise.reject(this.#refusal());
    if (this.#queue.length >= this.#o.maxQueue) return Promise.reject(unavailable(`audit stream ${this.stream}: ${this.#queue.length} records are waiting for the database; refusing more.`));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#schedule();
    });
  }

  #refusal(): PurposekitError {
    if (this.#state === 'lost') return unavailable(`audit stream ${this.stream} was taken over by another writer while this one was disconnected; this sink writes no more.`);
    if (this.#state === 'closed' || this.#closing) return unavailable(`audit stream ${this.stream}: the sink is closed.`);
    return unavailable(`audit stream ${this.stream}: the database is unreachable; reconnecting.`);
  }

  /** Queues a checkpoint request and resolves when it is durable. */
  #request(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event: undefined, resolve, reject });
      this.#schedule();
    });
  }

  /** Something is queued, on the wire or about to be. */
  #busy(): boolean {
    return this.#queue.length > 0 || this.#inflight.length > 0 || this.#scheduled || this.#ensuring;
  }

  /**
   * Sends what is queued when the pipeline has room. An idle sink sends at once (the
   * lowest latency for a lone append). Otherwise the next batch is sealed on the next turn
   * of the event loop, so that every append made meanwhile joins it: after a COMMIT
   * (`deferred`), the callers it acknowledged append again first; with a batch on the
   * wire, a second one goes behind it once PIPELINE_MIN_RECORDS are waiting.
   */
  #schedule(deferred = false): void {
    if (this.#scheduled || this.#ensuring || this.#state !== 'up' || !this.#roomFor(this.#queue.length)) return;
    if (this.#inflight.length === 0 && !deferred) {
      this.#pump();
      return;
    }
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  /** Whether `waiting` records may go out now: something to send, and room on the wire for it. */
  #roomFor(waiting: number): boolean {
    const n = this.#inflight.length;
    return waiting > 0 && n < PIPELINE_DEPTH && (n === 0 || waiting >= PIPELINE_MIN_RECORDS);
  }

  #pump(): void {
    while (this.#state === 'up' && !this.#ensuring && this.#roomFor(this.#queue.length)) {
      const ts = new Date().toISOString();
      if (!this.#months.has(this.#monthOf(ts))) {
        this.#ensurePartitions(ts);
        break;
      }
      // With nothing on the wire, a large backlog goes out as two halves, one behind the
      // other, so the next COMMIT finds the other half already on the server and the
      // callers the first half acknowledges refill the pipeline while the second commits.
      const q = this.#queue.length;
      const take = this.#inflight.length === 0 && q >= 2 * PIPELINE_MIN_RECORDS ? Math.ceil(q / 2) : q;
      this.#send(this.#queue.splice(0, Math.min(take, this.#o.maxBatch)), ts);
    }
    this.#settleIdle();
  }

  /** Wakes flush()/close() waiters once nothing is queued or on the wire. */
  #settleIdle(): void {
    if (this.#busy() && this.#state === 'up') return;
    for (const f of this.#idle.splice(0)) f();
  }

  #monthOf(ts: string): string {
    return ts.slice(0, 7);
  }

  /** Makes the partitions for the month of `ts` (once per month and session), then sends. */
  #ensurePartitions(ts: string): void {
    const client = this.#client!;
    this.#ensuring = true;
    Promise.race([client.query(`SELECT ${this.#conn.q}.audit_ensure_partitions($1)`, [ts]), this.#aborted]).then(
      () => {
        this.#ensuring = false;
        if (this.#client !== client) return;
        this.#months.add(this.#monthOf(ts));
        this.#schedule();
      },
      (error: unknown) => {
        this.#ensuring = false;
        if (this.#client !== client) return; // the session loss took over
        if (isConnectionError(error)) {
          this.#lost(client, error as Error);
          return;
        }
        // A SQL error: nothing was written. Refuse what would have been the batch.
        const code = (error as { code?: string }).code;
        const e = unavailable(`audit stream ${this.stream}: the database refused the batch${code === undefined ? '' : ` (SQLSTATE ${code})`}.`, error);
        for (const p of this.#queue.splice(0, this.#o.maxBatch)) p.reject(e);
        this.#schedule();
        this.#settleIdle();
      },
    );
  }

  /** Seals `pendings` onto the chain and sends them as one INSERT, behind whatever is on the wire. */
  #send(pendings: Pending[], ts: string): void {
    const seq = this.#seq;
    const prev = this.#prev;
    const headTs = this.#headTs;
    const since = this.#sinceCheckpoint;
    try {
      this.#sealAndSend(pendings, ts);
    } catch (error) {
      // Sealing failed (an event changed after append() into one that cannot be encoded):
      // nothing was sent; refuse these appends and leave the chain where it was.
      this.#seq = seq;
      this.#prev = prev;
      this.#headTs = headTs;
      this.#sinceCheckpoint = since;
      const e = unavailable(`audit stream ${this.stream}: a record of the batch could not be sealed; the batch was refused.`, error);
      for (const p of pendings) p.reject(e);
    }
  }

  #sealAndSend(pendings: Pending[], ts: string): void {
    const client = this.#client!;
    const startSeq = this.#seq;
    const startPrev = this.#prev;
    const startTs = this.#headTs;
    const startSince = this.#sinceCheckpoint;
    const enc = this.#encoder;
    let kinds = '';
    let subjects = '';
    let checkpoint: { seq: number; hash: string; line: string } | undefined;
    const heads: AnchoredHead[] = [];
    const addCheckpoint = (): void => {
      const seq = ++this.#seq;
      const unsigned = { alg: 'Ed25519', keyId: this.keyId, kind: 'checkpoint', prev: this.#prev, seq, ts, v: 1 };
      const sig = sign(null, checkpointSigningInput(unsigned), this.#o.signingKey).toString('base64url');
      const hash = hashAuditRecord({ ...unsigned, sig });
      // Members in RFC 8785 order: the text is the record's canonical form.
      const line = JSON.stringify({ alg: 'Ed25519', hash, keyId: this.keyId, kind: 'checkpoint', prev: this.#prev, seq, sig, ts, v: 1 });
      kinds += enc.lines === 0 ? 'checkpoint' : '\ncheckpoint';
      if (enc.lines > 0) subjects += '\n';
      enc.line(line);
      checkpoint = { seq, hash, line };
      heads.push({ stream: this.stream, seq, hash, ts, keyId: this.keyId, sig, prev: this.#prev });
      this.#prev = hash;
      this.#sinceCheckpoint = 0;
    };
    try {
      for (const p of pendings) {
        const event = p.event;
        if (event === undefined) {
          if (this.#sinceCheckpoint > 0) addCheckpoint();
          continue;
        }
        // The kind and subject travel as lines of their own columns: re-checked here, as
        // the event could have been changed since append() validated it.
        const kind = event.kind;
        const subject = event.subject;
        if (!isLine(kind) || (subject !== undefined && !isLine(subject))) {
          throw new TypeError('an event changed after append() into one that cannot be stored');
        }
        const sep = enc.lines === 0 ? '' : '\n';
        kinds += sep + kind;
        subjects += subject === undefined ? sep : sep + subject;
        this.#prev = enc.event(event, ++this.#seq, ts, this.#prev);
        if (++this.#sinceCheckpoint >= this.#o.checkpointEvery) addCheckpoint();
      }
    } catch (error) {
      enc.discard();
      throw error;
    }
    const rows = enc.lines;
    if (rows === 0) {
      // Only checkpoint requests, with nothing to sign: durable already.
      for (const p of pendings) p.resolve();
      return;
    }
    const records = enc.take();
    this.#headTs = ts;
    // Behind another batch, guard on the predecessor row: if the batch ahead is refused,
    // this one inserts nothing (no gap in the chain). With nothing ahead, the predecessor
    // is committed (read at start-up or acknowledged), so no guard is needed.
    const guarded = this.#inflight.length > 0 && startSeq > 0;
    const batch: InFlight = { pendings, heads, rows, lastSeq: this.#seq, lastHash: this.#prev, startSeq, startPrev, startTs, startSince, doomed: false };
    this.#inflight.push(batch);
    const values: unknown[] = [this.stream, startSeq + 1, ts, kinds, subjects, records, guarded ? startSeq : null, guarded ? (startTs ?? null) : null];
    const cp = checkpoint as { seq: number; hash: string; line: string } | undefined;
    if (cp !== undefined) values.push(cp.seq, cp.hash, cp.line);
    const statement = cp === undefined ? this.#insert : this.#insertHead;
    Promise.race([client.query<{ n: number }>({ name: statement.name, text: statement.text, values }), this.#aborted]).then(
      // The INSERT's command tag counts its rows; the statement with the head returns them as n.
      (result) => this.#written(batch, cp === undefined ? (result.rowCount ?? undefined) : result.rows[0]?.n),
      (error: unknown) => this.#notWritten(batch, client, error),
    );
  }

  /** The INSERT of `batch` returned: it committed with `n` rows (0: its guard found no predecessor). */
  #written(batch: InFlight, n: number | undefined): void {
    const i = this.#inflight.indexOf(batch);
    if (i < 0) return; // a session loss took it over
    if (batch.doomed || n !== batch.rows) {
      this.#refuse(batch, unavailable(`audit stream ${this.stream}: the batch was not written, because the batch before it was refused.`));
    } else {
      this.#inflight.splice(i, 1);
      for (const p of batch.pendings) p.resolve();
      if (batch.heads.length > 0) this.#outbox?.add(batch.heads);
    }
    this.#schedule(true);
    this.#settleIdle();
  }

  #notWritten(batch: InFlight, client: PoolClient, error: unknown): void {
    if (!this.#inflight.includes(batch)) return; // a session loss took it over
    if (isConnectionError(error) || this.#client !== client) {
      // The session went with the batch on the wire: its outcome is read on reconnect.
      if (this.#client === client) this.#lost(client, error as Error);
      else this.#takeOverInflight(error as Error);
      return;
    }
    // A SQL error (not a lost session): nothing of the batch was written.
    const code = (error as { code?: string }).code;
    this.#refuse(batch, unavailable(`audit stream ${this.stream}: the database refused the batch${code === undefined ? '' : ` (SQLSTATE ${code})`}.`, error));
    this.#schedule(true);
    this.#settleIdle();
  }

  /**
   * Refuses a batch that was not written. The first refused batch rewinds the chain to
   * its start; every batch still behind it on the wire is doomed (its guard fails), so it
   * is refused in turn without rewinding again.
   */
  #refuse(batch: InFlight, error: PurposekitError): void {
    const i = this.#inflight.indexOf(batch);
    if (i >= 0) this.#inflight.splice(i, 1);
    if (!batch.doomed) {
      this.#seq = batch.startSeq;
      this.#prev = batch.startPrev;
      this.#headTs = batch.startTs;
      this.#sinceCheckpoint = batch.startSince;
      for (const b of this.#inflight) b.doomed = true;
    }
    for (const p of batch.pendings) p.reject(error);
  }

  /** The default report of a failed publication (no personal data: a head holds none). */
  #anchorWarning(error: unknown, info: AuditAnchorErrorInfo): void {
    const code = (error as { code?: unknown } | null)?.code;
    this.#o.onWarning?.(
      `audit stream ${this.stream}: anchor ${info.anchor} did not take the head at seq ${info.head.seq} (attempt ${info.attempt}: ${typeof code === 'string' ? code : 'error'}); retrying in ${Math.round(info.retryInMs / 1000)} s. It stays pending in the outbox; the trail is written as usual.`,
      'PURPOSEKIT_WARN_AUDIT_ANCHOR',
    );
  }

  pendingAnchorHeads(): readonly AnchoredHead[] {
    return this.#outbox?.pending ?? [];
  }

  /**
   * Settles the batches whose COMMIT outcome was unknown, by identity: a batch committed if
   * the row at its last seq is there with the hash this sink gave it (`hashes`: seq → hash
   * of the rows found). A row with that seq but another hash was written by whoever held
   * the stream meanwhile: the batch did not commit.
   */
  #settleUncertain(hashes: ReadonlyMap<number, string>): void {
    const u = this.#uncertain;
    this.#uncertain = undefined;
    if (u === undefined || u.settled) return;
    u.settled = true;
    clearTimeout(u.timer);
    // Each batch was one statement: either all of it is there or none of it, and they
    // committed in order, so what is there is a prefix of them.
    for (const b of u.batches) {
      if (hashes.get(b.lastSeq) === b.lastHash) {
        for (const p of b.pendings) p.resolve();
        // A sink whose stream was taken over publishes nothing: the new writer publishes
        // every committed head from the outbox cursors.
        if (b.heads.length > 0 && this.#state !== 'lost') this.#outbox?.add(b.heads);
      } else for (const p of b.pendings) p.reject(unavailable(`audit stream ${this.stream}: the database connection was lost during a commit, which did not happen.`));
    }
  }

  /** Refuses every append of `u` (its outcome cannot be read), once, and stops its timer. */
  #refuseUncertain(u: Uncertain, message: string, cause?: Error): void {
    if (u.settled) return;
    u.settled = true;
    clearTimeout(u.timer);
    if (this.#uncertain === u) this.#uncertain = undefined;
    for (const b of u.batches) for (const p of b.pendings) p.reject(unavailable(message, cause));
  }

  /** The hashes of the rows at the uncertain batches' last seqs (empty when none is uncertain). */
  async #uncertainHashes(client: PoolClient): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const u = this.#uncertain;
    if (u === undefined || u.settled) return out;
    const r = await client.query<{ seq: string; record: string }>(`SELECT seq::text, record FROM ${this.#conn.q}.audit_records WHERE stream = $1 AND seq = ANY($2::bigint[])`, [
      this.stream,
      u.batches.map((b) => b.lastSeq),
    ]);
    for (const row of r.rows) {
      try {
        const hash = (JSON.parse(row.record) as { hash?: unknown }).hash;
        if (typeof hash === 'string') out.set(Number(row.seq), hash);
      } catch {
        // not JSON: not this sink's row
      }
    }
    return out;
  }

  /**
   * Who holds the stream's lock, when this sink could not take it: `'own'` when it is this
   * sink's previous session still running on the server (a connection given up on this
   * side, or cut, that the server has not noticed yet: it keeps the lock until it next
   * reads from its socket), which is then ended (only that process, only while it holds
   * this stream's lock); `'none'` when the holder has let go since (an ended session
   * exiting); `'other'` when another writer holds it.
   */
  async #lockHolder(client: PoolClient): Promise<'own' | 'none' | 'other'> {
    const key = BigInt(this.#lockKey);
    const r = await client.query<{ pid: number; ended: boolean | null }>(
      `SELECT pid, CASE WHEN pid = $1::int THEN pg_terminate_backend(pid) ELSE NULL END AS ended FROM pg_locks ` +
        `WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid::bigint = $2::bigint AND objid::bigint = $3::bigint ` +
        `AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [this.#backendPid ?? -1, ((key >> 32n) & 0xffffffffn).toString(), (key & 0xffffffffn).toString()],
    );
    const row = r.rows[0];
    if (row === undefined) return 'none';
    return row.pid === this.#backendPid ? 'own' : 'other';
  }

  // ── session loss and reconnection ──────────────────────────────────────────

  #lost(client: PoolClient, error: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    release(client, error);
    this.#abort(error);
    this.#takeOverInflight(error);
    if (this.#state === 'closed' || this.#state === 'lost') return;
    this.#state = 'down';
    this.#months.clear();
    const refused = this.#queue.splice(0);
    const e = unavailable(`audit stream ${this.stream}: the database connection was lost; reconnecting.`, error);
    for (const p of refused) p.reject(e);
    this.#settleIdle();
    this.#o.onWarning?.(`audit stream ${this.stream}: the database connection was lost (${(error as { code?: string }).code ?? 'connection error'}); appends are refused until it is back.`, 'PURPOSEKIT_WARN_AUDIT_DB_LOST');
    this.#reconnect();
  }

  /** Batches on the wire when the session went: their outcome is settled from the stream head on reconnect. */
  #takeOverInflight(error: Error): void {
    const all = this.#inflight.splice(0);
    // A doomed batch (behind a refused one) inserted nothing, whatever happened since.
    const doomed = unavailable(`audit stream ${this.stream}: the batch was not written, because the batch before it was refused.`);
    for (const b of all) if (b.doomed) for (const p of b.pendings) p.reject(doomed);
    const batches = all.filter((b) => !b.doomed);
    if (batches.length === 0) return;
    // The COMMITs may or may not have happened: these appends wait for the reconnect,
    // which reads the stream head and settles them (bounded by unknownOutcomeWaitMs).
    const uncertain: Uncertain = { batches, settled: false };
    this.#uncertain = uncertain;
    uncertain.timer = setTimeout(
      () => this.#refuseUncertain(uncertain, `audit stream ${this.stream}: the database connection was lost during a commit, and did not come back in time to tell its outcome.`, error),
      this.#o.unknownOutcomeWaitMs,
    );
    // Not unref'd: appends are waiting on this answer, so the process must stay up for it
    // (an unref'd timer let a process with nothing else to do exit mid-outage, leaving
    // its callers' promises unsettled). It fires once, after at most unknownOutcomeWaitMs,
    // unless the reconnect settles them first and clears it.
    const first = batches[0]!;
    this.#seq = first.startSeq;
    this.#prev = first.startPrev;
    this.#headTs = first.startTs;
    this.#sinceCheckpoint = first.startSince;
  }

  #reconnect(): void {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    let delay = 50;
    const attempt = async (): Promise<void> => {
      if (this.#state !== 'down') {
        this.#reconnecting = false;
        return;
      }
      let client: PoolClient | undefined;
      try {
        client = await this.#conn.pool.connect();
        if (this.#state !== 'down') {
          // Closed (or lost) while connecting: nothing to resume.
          release(client);
          this.#reconnecting = false;
          return;
        }
        const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.#lockKey]);
        if (r.rows[0]?.ok !== true) {
          // Held: by this sink's own previous session still running on the server (ended:
          // try again), by nobody any more (it just exited: try again), or by another
          // writer (taken over).
          const holder = await this.#lockHolder(client);
          // Taken over: this sink's previous session is gone (the lock is another's), so
          // each commit whose answer was lost has happened or never will; read which.
          const hashes = holder === 'other' ? await this.#uncertainHashes(client).catch(() => undefined) : undefined;
          release(client);
          client = undefined;
          if (holder !== 'other') throw new Error(`the stream's lock was still held (${holder === 'own' ? 'by this sink\'s previous session, now ended' : 'and has just been let go'})`);
          this.#reconnecting = false;
          if (this.#state === 'down') this.#takenOver(hashes);
          return;
        }
        if (this.#state !== 'down') {
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.#lockKey]).catch(() => undefined);
          release(client);
          this.#reconnecting = false;
          return;
        }
        this.#attach(client);
        await this.#readHead(client, false);
        const hashes = await this.#uncertainHashes(client);
        this.#reconnecting = false;
        if (this.#state !== 'down') {
          // Closed while reading the head: give the stream back instead of keeping its lock.
          if (this.#client === client) this.#client = undefined;
          await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.#lockKey]).catch(() => undefined);
          release(client);
          return;
        }
        this.#state = 'up';
        // Only now (writing again) settle the batches whose COMMIT outcome was unknown.
        this.#settleUncertain(hashes);
        this.#o.onWarning?.(`audit stream ${this.stream}: reconnected at seq ${this.#seq}; writing again.`, 'PURPOSEKIT_WARN_AUDIT_DB_BACK');
        this.#schedule();
      } catch (error) {
        if (client !== undefined) {
          if (this.#client === client) this.#client = undefined;
          release(client, true);
        }
        if (isPurposekitError(error) && error.code === 'PURPOSEKIT_ERR_AUDIT_CORRUPT') {
          this.#reconnecting = false;
          this.#state = 'lost';
          this.#outbox?.abandon();
          this.#o.onWarning?.(error.message, 'PURPOSEKIT_WARN_AUDIT_DB_CORRUPT');
          return;
        }
        delay = Math.min(delay * 2, 2000);
        const t = setTimeout(() => void attempt(), delay);
        // An idle sink does not keep the process alive by reconnecting; one with appends
        // waiting on the outcome of a commit does, until they are settled.
        if (this.#uncertain === undefined) t.unref();
      }
    };
    void attempt();
  }

  /**
   * Another writer holds the stream: this sink writes no more. `hashes` (the rows at the
   * uncertain batches' last seqs, read after the takeover) settle the commits whose answer
   * was lost, as on a reconnect; without them (the read failed) they are refused.
   */
  #takenOver(hashes?: ReadonlyMap<number, string>): void {
    this.#state = 'lost';
    this.#outbox?.abandon();
    if (hashes !== undefined) this.#settleUncertain(hashes);
    else if (this.#uncertain !== undefined) this.#refuseUncertain(this.#uncertain, `audit stream ${this.stream} was taken over by another writer before the outcome of a commit could be read.`);
    this.#o.onWarning?.(`audit stream ${this.stream} was taken over by another writer while this one was disconnected; this sink writes no more.`, 'PURPOSEKIT_WARN_AUDIT_STREAM_TAKEN');
  }

  #onTimer(): void {
    // Unsigned records older than the interval get a checkpoint (bounded in time as in count).
    if (this.#state !== 'up' || this.#closing || this.#sinceCheckpoint === 0) return;
    this.#request().catch(() => undefined);
  }

  // ── flush and close ────────────────────────────────────────────────────────

  flush(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    if (!this.#busy() && this.#uncertain === undefined) return Promise.resolve();
    if (this.#state !== 'up') return Promise.reject(this.#refusal());
    return new Promise<void>((resolve, reject) => {
      this.#idle.push(() => (this.#state === 'up' || this.#state === 'closed' ? resolve() : reject(this.#refusal())));
    });
  }

  async close(): Promise<void> {
    if (this.#state === 'closed' || this.#closing) return;
    this.#closing = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    let failure: unknown;
    try {
      if (this.#state === 'up') {
        if (this.#busy()) await new Promise<void>((r) => this.#idle.push(r));
        if (this.#sinceCheckpoint > 0 && this.#state === 'up') await this.#request();
      }
    } catch (error) {
      failure = error;
    }
    this.#state = 'closed';
    await this.#outbox?.close(ANCHOR_CLOSE_WAIT_MS);
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.#lockKey]).catch(() => undefined);
      release(client);
    }
    if (this.#conn.owned) await this.#conn.pool.end().catch(() => undefined);
    if (failure !== undefined) throw failure;
  }
}
