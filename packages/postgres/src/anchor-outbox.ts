/**
 * The PostgreSQL sink's anchor outbox (docs/audit-format.md §12 and §14): the same
 * guarantees as the file sink's `<prefix>.anchors.pending.jsonl`, kept in the database.
 *
 * The outbox needs no write on the append path: a checkpoint's head is durable the moment
 * its row commits (the checkpoint row *is* the head). What the outbox adds is, per stream
 * and anchor, the highest `seq` that anchor took (`audit_anchor_cursors`). Every committed
 * checkpoint above an anchor's cursor is pending for it. So a crash between a checkpoint's
 * COMMIT and its publication loses nothing: whoever claims the stream next (the restarted
 * writer, or another instance taking it over) reads the cursors and re-queues the
 * checkpoints above them from the stream's rows.
 *
 * Publishing runs in the background, one head at a time per anchor, oldest first; a
 * failure is reported and retried with exponential backoff (never superseded by a later
 * head), and never delays an append. Delivery is at least once: a head taken just before
 * a crash, whose cursor did not move yet, is published again.
 */
import type { Pool, PoolClient } from 'pg';
import { AnchorPublisher } from '@purposekit/core';
import type { AnchoredHead, AnchorPublisherSettings, AnchorPublisherState } from '@purposekit/core';

/** What the outbox needs from its sink. */
export interface PgAnchorOutboxContext extends AnchorPublisherSettings {
  readonly pool: Pool;
  /** The quoted schema name. */
  readonly q: string;
  readonly stream: string;
}

/** A checkpoint row's text as an anchored head, or undefined when it is not one. */
export function headOfCheckpoint(stream: string, text: string): AnchoredHead | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const { seq, hash, ts, keyId, sig, prev } = r;
  if (r['kind'] !== 'checkpoint' || typeof seq !== 'number' || typeof hash !== 'string' || typeof ts !== 'string' || typeof keyId !== 'string' || typeof sig !== 'string') return undefined;
  return { stream, seq, hash, ts, keyId, sig, ...(typeof prev === 'string' ? { prev } : {}) };
}

export class PgAnchorOutbox extends AnchorPublisher {
  readonly #ctx: PgAnchorOutboxContext;

  constructor(ctx: PgAnchorOutboxContext) {
    super(ctx);
    this.#ctx = ctx;
  }

  /**
   * On claiming the stream: makes sure each anchor has a cursor (a new anchor starts at
   * the stream's newest checkpoint, so it is given that head), reads the cursors, and
   * queues every committed checkpoint above the lowest one. Runs on the claiming session.
   */
  async load(client: PoolClient): Promise<void> {
    const { q, stream } = this.#ctx;
    const names = this.states.map((s) => s.anchor.name);
    const head = await client.query<{ head_seq: string | null }>(`SELECT head_seq::text FROM ${q}.audit_streams WHERE stream = $1`, [stream]);
    const start = Math.max(0, Number(head.rows[0]?.head_seq ?? 0) - 1);
    await client.query(
      `INSERT INTO ${q}.audit_anchor_cursors (stream, anchor, published_seq) SELECT $1, a, $3 FROM unnest($2::text[]) AS a ON CONFLICT (stream, anchor) DO NOTHING`,
      [stream, names, start],
    );
    const cursors = await client.query<{ anchor: string; published_seq: string }>(`SELECT anchor, published_seq::text FROM ${q}.audit_anchor_cursors WHERE stream = $1 AND anchor = ANY($2::text[])`, [stream, names]);
    const byName = new Map(cursors.rows.map((r) => [r.anchor, Number(r.published_seq)]));
    for (const s of this.states) s.cursor = byName.get(s.anchor.name) ?? start;
    const lowest = Math.min(...this.states.map((s) => s.cursor));
    const rows = await client.query<{ record: string }>(`SELECT record FROM ${q}.audit_records WHERE stream = $1 AND seq > $2 AND kind = 'checkpoint' ORDER BY seq`, [stream, lowest]);
    this.pendingHeads = rows.rows.map((r) => headOfCheckpoint(stream, r.record)).filter((h): h is AnchoredHead => h !== undefined);
    this.kickAll();
  }

  /** Queues heads whose checkpoints just committed (in seq order). */
  add(heads: readonly AnchoredHead[]): void {
    const newest = this.pendingHeads[this.pendingHeads.length - 1]?.seq ?? 0;
    for (const h of heads) if (h.seq > newest) this.pendingHeads.push(h);
    this.kickAll();
  }

  /** The stream was taken over: the new owner publishes from the cursors; stop at once. */
  abandon(): void {
    this.stopNow();
  }

  /** Stops retrying; gives each anchor one last chance (at most `waitMs`) to take what is pending. What it does not take stays pending in the database (cursors). */
  async close(waitMs: number): Promise<void> {
    await this.drain(waitMs);
    this.finished = true;
  }

  protected override async taken(s: AnchorPublisherState): Promise<void> {
    await this.#saveCursor(s);
    this.#compact();
  }

  /** Moves the anchor's cursor forward in the database (never back). A failure only means the head is published again later. */
  async #saveCursor(s: AnchorPublisherState): Promise<void> {
    if (this.finished) return;
    await this.#ctx.pool
      .query(
        `INSERT INTO ${this.#ctx.q}.audit_anchor_cursors AS c (stream, anchor, published_seq) VALUES ($1, $2, $3) ` +
          `ON CONFLICT (stream, anchor) DO UPDATE SET published_seq = GREATEST(c.published_seq, EXCLUDED.published_seq), updated_at = now()`,
        [this.#ctx.stream, s.anchor.name, s.cursor],
      )
      .catch(() => undefined);
  }

  /** Drops the heads every anchor took. */
  #compact(): void {
    const lowest = Math.min(...this.states.map((s) => s.cursor));
    let i = 0;
    while (i < this.pendingHeads.length && this.pendingHeads[i]!.seq <= lowest) i++;
    if (i > 0) this.pendingHeads = this.pendingHeads.slice(i);
  }
}
