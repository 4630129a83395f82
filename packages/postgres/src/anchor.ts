/**
 * An anchor target on PostgreSQL: signed checkpoint heads written to an append-only
 * table (a trigger refuses UPDATE and DELETE), where the writer's host cannot rewrite
 * them. Implements core's `AuditAnchor` (give it to a file sink's `anchors`, and to
 * `verifyAuditTrail` / `verifyPostgresTrail` as `anchors`).
 */
import { PurposekitError } from '@purposekit/core';
import type { AnchoredHead, AuditAnchor } from '@purposekit/core';
import { resolveConnection } from './connection';
import type { PostgresConnectionOptions } from './connection';
import { prepareSchema } from './migrate';

/** An anchor on PostgreSQL. */
export interface PostgresAnchor extends AuditAnchor {
  /** `postgres:<schema>`. */
  readonly name: string;
  /** Appends one head (a head already kept, same stream, seq and hash, is not written again). @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a malformed head; PURPOSEKIT_ERR_STORE_UNAVAILABLE when it cannot be written. */
  publish(head: AnchoredHead): Promise<void>;
  /** Every head published (of one stream, or all), oldest first. */
  heads(stream?: string): AsyncIterable<AnchoredHead>;
  /** Ends the pool if the anchor made it. */
  close(): Promise<void>;
}

/** Options of {@link createPostgresAnchor}. */
export interface PostgresAnchorOptions extends PostgresConnectionOptions {
  /** Apply the schema migrations at start-up. Default false. */
  migrate?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function check(head: AnchoredHead): void {
  const ok =
    typeof head === 'object' &&
    head !== null &&
    typeof head.stream === 'string' &&
    head.stream.length > 0 &&
    head.stream.length <= 256 &&
    Number.isSafeInteger(head.seq) &&
    head.seq >= 1 &&
    typeof head.hash === 'string' &&
    HEX64.test(head.hash) &&
    typeof head.ts === 'string' &&
    TS.test(head.ts) &&
    typeof head.keyId === 'string' &&
    /^[A-Za-z0-9._:-]{1,128}$/.test(head.keyId) &&
    typeof head.sig === 'string' &&
    /^[A-Za-z0-9_-]{86}$/.test(head.sig);
  if (!ok) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'postgres anchor: a head is { stream, seq ≥ 1, hash (64 hex), ts (ISO 8601 UTC ms), keyId, sig (86 base64url) }.', { details: { option: 'head' } });
}

/**
 * Opens an anchor on the `audit_anchors` table of `schema`.
 * @throws PurposekitError PURPOSEKIT_ERR_DB_CONNECT, PURPOSEKIT_ERR_DB_SCHEMA at start-up.
 */
export async function createPostgresAnchor(options: PostgresAnchorOptions): Promise<PostgresAnchor> {
  const conn = resolveConnection('createPostgresAnchor()', options, 2);
  try {
    await prepareSchema('createPostgresAnchor()', conn, options.migrate === true);
  } catch (error) {
    if (conn.owned) await conn.pool.end().catch(() => undefined);
    throw error;
  }
  const q = conn.q;
  return {
    name: `postgres:${conn.schema}`,
    async publish(head: AnchoredHead): Promise<void> {
      check(head);
      try {
        // Idempotent (delivery is at least once): a head already kept is not written again.
        await conn.pool.query(
          `INSERT INTO ${q}.audit_anchors (stream, seq, hash, ts, key_id, sig) SELECT $1, $2, $3, $4, $5, $6 ` +
            `WHERE NOT EXISTS (SELECT 1 FROM ${q}.audit_anchors WHERE stream = $1 AND seq = $2 AND hash = $3)`,
          [head.stream, head.seq, head.hash, head.ts, head.keyId, head.sig],
        );
      } catch (cause) {
        throw new PurposekitError('PURPOSEKIT_ERR_STORE_UNAVAILABLE', `postgres anchor: the head of stream ${head.stream} at seq ${head.seq} could not be written.`, { cause });
      }
    },
    async *heads(stream?: string): AsyncIterable<AnchoredHead> {
      let after = 0n;
      for (;;) {
        const r = await conn.pool.query<{ id: string; stream: string; seq: string; hash: string; ts: string; key_id: string; sig: string }>(
          `SELECT id, stream, seq, hash, ts, key_id, sig FROM ${q}.audit_anchors WHERE id > $1 ${stream === undefined ? '' : 'AND stream = $2'} ORDER BY id LIMIT 1000`,
          stream === undefined ? [after.toString()] : [after.toString(), stream],
        );
        for (const row of r.rows) yield { stream: row.stream, seq: Number(row.seq), hash: row.hash, ts: row.ts, keyId: row.key_id, sig: row.sig };
        if (r.rows.length < 1000) return;
        after = BigInt(r.rows[r.rows.length - 1]!.id);
      }
    },
    async close(): Promise<void> {
      if (conn.owned) await conn.pool.end().catch(() => undefined);
    },
  };
}
