/**
 * The sink's anchor outbox: `<prefix>.anchors.pending.jsonl` in the trail directory holds
 * every checkpoint head not yet taken by every anchor. A head is appended (and made
 * durable) right after its checkpoint is durable and before the head file is replaced;
 * at start-up the outbox is re-read and the checkpoints near the end of the trail that it
 * lacks (a crash between the two) are added. Publishing runs in the background, one head
 * at a time per anchor, oldest first, retried with exponential backoff; it never delays
 * an append. Delivery is at least once: anchors must treat a repeated head as a no-op.
 */
import { join } from 'node:path';
import { canonicalJson } from './encode';
import type { AuditFileIo } from './file-io';
import { writeFully } from './file-tail';
import { toAnchoredHead } from './anchors';
import { AnchorPublisher } from './anchor-publisher';
import type { AnchorPublisherSettings } from './anchor-publisher';
import type { AnchoredHead } from './types';

/** The outbox file of a prefix. */
export function anchorOutboxName(prefix: string): string {
  return `${prefix}.anchors.pending.jsonl`;
}

export interface AnchorOutboxContext extends AnchorPublisherSettings {
  readonly io: AuditFileIo;
  readonly dir: string;
  readonly prefix: string;
}

export class AnchorOutbox extends AnchorPublisher {
  readonly #ctx: AnchorOutboxContext;
  readonly #path: string;
  /** Every head up to this seq was taken by every anchor (kept as the outbox's first line). */
  #publishedUpTo = 0;
  #fileOps: Promise<void> = Promise.resolve();

  constructor(ctx: AnchorOutboxContext) {
    super(ctx);
    this.#ctx = ctx;
    this.#path = join(ctx.dir, anchorOutboxName(ctx.prefix));
  }

  /** Reads the outbox, adds `fromTrail` heads it lacks (newer than what it holds), starts publishing. */
  async load(fromTrail: readonly AnchoredHead[]): Promise<void> {
    const text = (await this.#ctx.io.readFile(this.#path))?.toString('utf8') ?? '';
    const seen = new Set<number>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let head: AnchoredHead | undefined;
      try {
        const value = JSON.parse(line) as unknown;
        const upTo = (value as { publishedUpTo?: unknown } | null)?.publishedUpTo;
        if (typeof upTo === 'number' && Number.isSafeInteger(upTo)) this.#publishedUpTo = Math.max(this.#publishedUpTo, upTo);
        head = toAnchoredHead(value);
      } catch {
        head = undefined; // a torn last line: the trail still holds that checkpoint (added below)
      }
      if (head !== undefined && !seen.has(head.seq)) {
        seen.add(head.seq);
        this.pendingHeads.push(head);
      }
    }
    this.pendingHeads.sort((a, b) => a.seq - b.seq);
    const newest = Math.max(this.#publishedUpTo, this.pendingHeads[this.pendingHeads.length - 1]?.seq ?? 0);
    const missing = fromTrail.filter((h) => h.seq > newest);
    // Rewrite rather than append: drops a torn line a crash may have left.
    if (missing.length > 0 || text.length > 0) {
      this.pendingHeads.push(...missing);
      await this.#rewrite();
    }
    this.kickAll();
  }

  /** Durably records new checkpoint heads, then publishes them in the background. */
  add(heads: readonly AnchoredHead[]): Promise<void> {
    if (heads.length === 0) return Promise.resolve();
    const op = this.#fileOps.then(async () => {
      const fd = await this.#ctx.io.open(this.#path, 'a', 0o600);
      try {
        await writeFully(this.#ctx.io, fd, Buffer.from(heads.map((h) => `${canonicalJson(h)}\n`).join(''), 'utf8'));
        await this.#ctx.io.fdatasync(fd);
      } finally {
        await this.#ctx.io.close(fd);
      }
      this.pendingHeads.push(...heads);
    });
    this.#fileOps = op.catch(() => undefined);
    return op.then(() => this.kickAll());
  }

  /** Stops retrying; gives each anchor one last chance (at most `waitMs`) to take what is pending. */
  async close(waitMs: number): Promise<void> {
    await this.drain(waitMs);
    await this.#fileOps;
    this.finished = true;
  }

  protected override async taken(): Promise<void> {
    await this.#compact();
  }

  /** Empties the outbox once every anchor took every head in it. */
  async #compact(): Promise<void> {
    if (this.finished) return;
    const newest = this.pendingHeads[this.pendingHeads.length - 1]?.seq;
    if (newest === undefined || this.states.some((s) => s.cursor < newest)) return;
    const op = this.#fileOps.then(async () => {
      if (this.finished) return;
      if (this.states.some((s) => s.cursor < (this.pendingHeads[this.pendingHeads.length - 1]?.seq ?? 0))) return; // more came meanwhile
      this.#publishedUpTo = Math.max(this.#publishedUpTo, this.pendingHeads[this.pendingHeads.length - 1]?.seq ?? 0);
      this.pendingHeads = [];
      await this.#rewrite();
    });
    this.#fileOps = op.catch(() => undefined);
    await op.catch(() => undefined); // a failed compaction only leaves heads to publish again
  }

  /** Replaces the outbox with the pending heads (write a temporary file, rename). */
  async #rewrite(): Promise<void> {
    const io = this.#ctx.io;
    const tmp = `${this.#path}.tmp`;
    const fd = await io.open(tmp, 'w', 0o600);
    try {
      const marker = this.#publishedUpTo > 0 ? `{"publishedUpTo":${this.#publishedUpTo}}\n` : '';
      await writeFully(io, fd, Buffer.from(marker + this.pendingHeads.map((h) => `${canonicalJson(h)}\n`).join(''), 'utf8'));
      await io.fdatasync(fd);
    } finally {
      await io.close(fd);
    }
    await io.rename(tmp, this.#path);
    await io.fsyncDir(this.#ctx.dir);
  }
}
