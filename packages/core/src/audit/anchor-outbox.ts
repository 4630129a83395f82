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
import type { AnchoredHead, AuditAnchor, AuditAnchorErrorInfo } from './types';

/** The outbox file of a prefix. */
export function anchorOutboxName(prefix: string): string {
  return `${prefix}.anchors.pending.jsonl`;
}

export interface AnchorOutboxContext {
  readonly io: AuditFileIo;
  readonly dir: string;
  readonly prefix: string;
  readonly anchors: readonly AuditAnchor[];
  readonly onError: (error: unknown, info: AuditAnchorErrorInfo) => void;
  readonly backoff: { readonly firstMs: number; readonly maxMs: number };
}

interface AnchorState {
  readonly anchor: AuditAnchor;
  /** Highest seq this anchor took in this run. */
  cursor: number;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  attempt: number;
  inflight: Promise<void> | undefined;
}

export class AnchorOutbox {
  readonly #ctx: AnchorOutboxContext;
  readonly #path: string;
  #pending: AnchoredHead[] = [];
  /** Every head up to this seq was taken by every anchor (kept as the outbox's first line). */
  #publishedUpTo = 0;
  readonly #states: AnchorState[];
  #closed = false;
  /** Set when close() returned: the sink (and its lock) is gone; a late answer changes no file. */
  #finished = false;
  #fileOps: Promise<void> = Promise.resolve();

  constructor(ctx: AnchorOutboxContext) {
    this.#ctx = ctx;
    this.#path = join(ctx.dir, anchorOutboxName(ctx.prefix));
    this.#states = ctx.anchors.map((anchor) => ({ anchor, cursor: 0, running: false, timer: undefined, attempt: 0, inflight: undefined }));
  }

  /** Heads not yet taken by every anchor. */
  get pending(): readonly AnchoredHead[] {
    return this.#pending;
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
        this.#pending.push(head);
      }
    }
    this.#pending.sort((a, b) => a.seq - b.seq);
    const newest = Math.max(this.#publishedUpTo, this.#pending[this.#pending.length - 1]?.seq ?? 0);
    const missing = fromTrail.filter((h) => h.seq > newest);
    // Rewrite rather than append: drops a torn line a crash may have left.
    if (missing.length > 0 || text.length > 0) {
      this.#pending.push(...missing);
      await this.#rewrite();
    }
    this.#kickAll();
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
      this.#pending.push(...heads);
    });
    this.#fileOps = op.catch(() => undefined);
    return op.then(() => this.#kickAll());
  }

  /** Stops retrying; gives each anchor one last chance (at most `waitMs`) to take what is pending. */
  async close(waitMs: number): Promise<void> {
    this.#closed = true;
    for (const s of this.#states) {
      if (s.timer !== undefined) {
        clearTimeout(s.timer);
        s.timer = undefined;
        s.running = false;
      }
    }
    for (const s of this.#states) if (!s.running && this.#next(s) !== undefined) this.#run(s, true);
    const inflight = this.#states.map((s) => s.inflight).filter((p): p is Promise<void> => p !== undefined);
    if (inflight.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(inflight), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
      if (timer !== undefined) clearTimeout(timer);
    }
    await this.#fileOps;
    this.#finished = true;
  }

  #next(s: AnchorState): AnchoredHead | undefined {
    return this.#pending.find((h) => h.seq > s.cursor);
  }

  #kickAll(): void {
    if (this.#closed) return;
    for (const s of this.#states) if (!s.running) this.#run(s, false);
  }

  #run(s: AnchorState, once: boolean): void {
    s.running = true;
    s.inflight = this.#loop(s, once).finally(() => {
      s.inflight = undefined;
    });
  }

  async #loop(s: AnchorState, once: boolean): Promise<void> {
    for (let head = this.#next(s); head !== undefined && !this.#finished; head = this.#next(s)) {
      try {
        await s.anchor.publish(head);
      } catch (error) {
        s.attempt++;
        const retryInMs = Math.min(this.#ctx.backoff.maxMs, this.#ctx.backoff.firstMs * 2 ** Math.min(s.attempt - 1, 30));
        try {
          this.#ctx.onError(error, { anchor: s.anchor.name, head, attempt: s.attempt, retryInMs });
        } catch {
          // a reporter that throws must not stop the retries
        }
        if (once || this.#closed) {
          s.running = false;
          return;
        }
        s.timer = setTimeout(() => {
          s.timer = undefined;
          this.#run(s, false);
        }, retryInMs);
        s.timer.unref();
        return; // still "running": the timer owns the next attempt
      }
      s.attempt = 0;
      s.cursor = Math.max(s.cursor, head.seq);
      await this.#compact();
    }
    s.running = false;
  }

  /** Empties the outbox once every anchor took every head in it. */
  async #compact(): Promise<void> {
    if (this.#finished) return;
    const newest = this.#pending[this.#pending.length - 1]?.seq;
    if (newest === undefined || this.#states.some((s) => s.cursor < newest)) return;
    const op = this.#fileOps.then(async () => {
      if (this.#finished) return;
      if (this.#states.some((s) => s.cursor < (this.#pending[this.#pending.length - 1]?.seq ?? 0))) return; // more came meanwhile
      this.#publishedUpTo = Math.max(this.#publishedUpTo, this.#pending[this.#pending.length - 1]?.seq ?? 0);
      this.#pending = [];
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
      await writeFully(io, fd, Buffer.from(marker + this.#pending.map((h) => `${canonicalJson(h)}\n`).join(''), 'utf8'));
      await io.fdatasync(fd);
    } finally {
      await io.close(fd);
    }
    await io.rename(tmp, this.#path);
    await io.fsyncDir(this.#ctx.dir);
  }
}
