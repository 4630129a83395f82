/**
 * The publishing half of an anchor outbox, shared by every sink that anchors its heads (the
 * file sink here, the PostgreSQL sink in @purposekit/postgres): per anchor, the pending
 * heads above its cursor are published one at a time, oldest first; a failure is reported
 * and retried with exponential backoff (never superseded by a later head); it never delays
 * an append. Where the heads are kept durably, and what happens once an anchor took one,
 * is the sink's part: {@link AnchorPublisher.taken}.
 */
import type { AnchoredHead, AuditAnchor, AuditAnchorErrorInfo } from './types';

/** What an anchor publisher needs from its sink. */
export interface AnchorPublisherSettings {
  readonly anchors: readonly AuditAnchor[];
  /** Called once per failed attempt; a reporter that throws does not stop the retries. */
  readonly onError: (error: unknown, info: AuditAnchorErrorInfo) => void;
  /** The first retry waits `firstMs`, doubling up to `maxMs`. */
  readonly backoff: { readonly firstMs: number; readonly maxMs: number };
}

/** One anchor's progress. */
export interface AnchorPublisherState {
  readonly anchor: AuditAnchor;
  /** Highest seq this anchor took (as far as this process knows). */
  cursor: number;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  attempt: number;
  inflight: Promise<void> | undefined;
}

export abstract class AnchorPublisher {
  protected readonly settings: AnchorPublisherSettings;
  protected readonly states: AnchorPublisherState[];
  /** Heads some anchor has not taken yet, in seq order. */
  protected pendingHeads: AnchoredHead[] = [];
  /** Set by close()/abandonment: no new retries are scheduled. */
  protected closed = false;
  /** Set once the sink is gone: a late answer changes nothing. */
  protected finished = false;

  constructor(settings: AnchorPublisherSettings) {
    this.settings = settings;
    this.states = settings.anchors.map((anchor) => ({ anchor, cursor: 0, running: false, timer: undefined, attempt: 0, inflight: undefined }));
  }

  /** Heads not yet taken by every anchor (for tests and health checks). */
  get pending(): readonly AnchoredHead[] {
    return this.pendingHeads;
  }

  /** What the sink does once `s.anchor` took `head` (its cursor already moved): persist, compact. */
  protected abstract taken(s: AnchorPublisherState, head: AnchoredHead): Promise<void>;

  /** Starts publishing on every anchor that is idle. */
  protected kickAll(): void {
    if (this.closed) return;
    for (const s of this.states) if (!s.running) this.run(s, false);
  }

  /**
   * Stops retrying and gives each anchor one last chance (at most `waitMs`) to take what is
   * pending. The caller then waits for its own storage and sets `finished`.
   */
  protected async drain(waitMs: number): Promise<void> {
    this.closed = true;
    for (const s of this.states) {
      if (s.timer !== undefined) {
        clearTimeout(s.timer);
        s.timer = undefined;
        s.running = false;
      }
    }
    for (const s of this.states) if (!s.running && this.next(s) !== undefined) this.run(s, true);
    const inflight = this.states.map((s) => s.inflight).filter((p): p is Promise<void> => p !== undefined);
    if (inflight.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(inflight), new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** Stops at once (the sink lost its stream): no retry, no further write. */
  protected stopNow(): void {
    this.closed = true;
    this.finished = true;
    for (const s of this.states) {
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.timer = undefined;
    }
  }

  private next(s: AnchorPublisherState): AnchoredHead | undefined {
    return this.pendingHeads.find((h) => h.seq > s.cursor);
  }

  private run(s: AnchorPublisherState, once: boolean): void {
    s.running = true;
    s.inflight = this.loop(s, once).finally(() => {
      s.inflight = undefined;
    });
  }

  private async loop(s: AnchorPublisherState, once: boolean): Promise<void> {
    for (let head = this.next(s); head !== undefined && !this.finished; head = this.next(s)) {
      try {
        await s.anchor.publish(head);
      } catch (error) {
        s.attempt++;
        const { firstMs, maxMs } = this.settings.backoff;
        const retryInMs = Math.min(maxMs, firstMs * 2 ** Math.min(s.attempt - 1, 30));
        try {
          this.settings.onError(error, { anchor: s.anchor.name, head, attempt: s.attempt, retryInMs });
        } catch {
          // a reporter that throws must not stop the retries
        }
        if (once || this.closed) {
          s.running = false;
          return;
        }
        s.timer = setTimeout(() => {
          s.timer = undefined;
          this.run(s, false);
        }, retryInMs);
        s.timer.unref();
        return; // still "running": the timer owns the next attempt
      }
      s.attempt = 0;
      s.cursor = Math.max(s.cursor, head.seq);
      await this.taken(s, head);
    }
    s.running = false;
  }
}
