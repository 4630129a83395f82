/**
 * The embedded default sink: a hash-chained JSON-lines trail in a directory, with group
 * commit, signed checkpoints, size-based rotation, crash recovery and fail-closed
 * writes. The format is specified in docs/audit-format.md.
 *
 * Shape of the code: `append()` validates and *sequences* synchronously (seq, ts, prev,
 * hash and the line's bytes are fixed before it returns: line-slab.ts), then queues the
 * record. The writer takes the whole queue as one batch: one write() and one fdatasync()
 * per file (group commit). Writing is pipelined: while a batch's fdatasync is in flight
 * the next batch is written and its own fdatasync started (at most `writeDepth`, 2,
 * fdatasyncs in flight); batches are acknowledged strictly in order, each only after its
 * own fdatasync — which began after its write completed — and every earlier batch's.
 * The appends acknowledged together share one promise. When a write or fdatasync fails,
 * the writer stops, lets the batches in flight finish (those whose fdatasync succeeds are
 * acknowledged), then refuses every unacknowledged record, rewinds the chain to the last
 * acknowledged one, and the next append re-reads the file tail and continues from there.
 * After each durable checkpoint its head goes to the anchor outbox (anchor-outbox.ts),
 * then to the head file; that does not hold up the batches behind it.
 *
 * The seams live beside it: options (file-sink-options.ts), the start-up checks that
 * refuse to write over evidence (file-startup.ts), tail reading and quarantine
 * (file-tail.ts), the writer lock (file-lock.ts).
 */
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { PurposekitError } from '../errors';
import { makeCheckpoint } from './checkpoint';
import { AUDIT_GENESIS_HASH, hashAuditRecord } from './encode';
import { nodeAuditFileIo } from './file-io';
import type { AuditFileIo } from './file-io';
import { anchoredHeadOf } from './anchors';
import { AnchorOutbox } from './anchor-outbox';
import { takeTrailLock } from './file-lock';
import type { TrailLock } from './file-lock';
import { FILE_SINK_FACTORY as FACTORY, resolveFileAuditSinkOptions } from './file-sink-options';
import type { FileAuditSinkInternals, ResolvedFileAuditSinkOptions } from './file-sink-options';
import { loadTrailEnd } from './file-startup';
import type { Position } from './file-startup';
import { errnoCode, fileError, quarantineBytes, readExactly, readTail, writeFully } from './file-tail';
import { headFileName, parseTrailFileName, trailFileName } from './files';
import { DEFAULT_SLAB_BYTES, LineSlab } from './line-slab';
import type { AnchoredHead, AuditDurability, AuditEventInput, AuditSink, FileAuditSinkOptions } from './types';
import { validateAuditEvent } from './validate';

export { resolveFileAuditSinkOptions } from './file-sink-options';
export type { FileAuditSinkInternals, ResolvedFileAuditSinkOptions } from './file-sink-options';

/** A file sink: an {@link AuditSink} plus a few facts about where it writes. */
export interface FileAuditSink extends AuditSink {
  /** The trail directory (absolute). */
  readonly dir: string;
  /** The file name prefix. */
  readonly prefix: string;
  /** The id written into checkpoints. */
  readonly keyId: string;
  /** The durability mode in force. */
  readonly durability: AuditDurability;
}

/**
 * Opens (or creates) a file trail and returns its sink. On start-up it takes the
 * directory's writer lock (taking over a stale one, also one holding this process's own
 * pid), moves a torn last line left by a crash to a quarantine file (with a warning),
 * refuses a trail its head file disagrees with (docs/audit-format.md §7), re-queues
 * anchor heads a crash kept from the outbox, and seals an unsigned tail with a
 * checkpoint. Checkpoints then follow `checkpointEvery`, `checkpointIntervalMs`,
 * `heartbeatIntervalMs` and close; each head is published to `anchors` in the background.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION / PURPOSEKIT_ERR_INVALID_KEY for
 *   bad options; PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the directory cannot be written or
 *   another live process holds its lock; PURPOSEKIT_ERR_AUDIT_CORRUPT when the head file
 *   is not an intact checkpoint of this trail, or the trail's end is damaged.
 */
export function createFileAuditSink(options: FileAuditSinkOptions): Promise<FileAuditSink> {
  return openFileAuditSink(options, {});
}

/** {@link createFileAuditSink} with test seams. @internal */
export async function openFileAuditSink(options: FileAuditSinkOptions, internals: FileAuditSinkInternals): Promise<FileAuditSink> {
  const resolved = resolveFileAuditSinkOptions(options);
  const sink = new FileSink(resolved, internals.io ?? nodeAuditFileIo, internals.now ?? Date.now, {
    backoff: internals.anchorBackoff ?? { firstMs: 1000, maxMs: 300_000 },
    closeWaitMs: internals.anchorCloseWaitMs ?? ANCHOR_CLOSE_WAIT_MS,
    writeDepth: internals.writeDepth ?? WRITE_DEPTH,
    slabBytes: internals.slabBytes ?? DEFAULT_SLAB_BYTES,
  });
  await sink.open();
  return sink;
}

interface Entry extends Position {
  /** The record's line and its LF: `buf[start, end)`. */
  buf: Buffer;
  start: number;
  end: number;
  /** A checkpoint's line (for the head file); undefined for an event. */
  checkpointLine: string | undefined;
  /**
   * Acknowledged before it was written (async mode, and checkpoints in async mode): kept
   * through a failure. Other records are acknowledged once written (batched) or synced
   * (sync), which `#acked` tracks.
   */
  acked: boolean;
  /** The promise its append returned; undefined for checkpoints and in async mode. */
  group: AckGroup | undefined;
  /** A checkpoint's head, when anchors are configured. */
  head: AnchoredHead | undefined;
}

/**
 * One promise for the appends that are acknowledged (or refused) together. A group never
 * spans two batches or two files: it closes when the writer takes the queue, on rotation
 * and on failure; so a batch is acknowledged or refused as a whole, and so is a group.
 */
class AckGroup {
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (error: Error) => void;
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

/** A batch's records in one file, as written. */
interface Segment {
  readonly entries: Entry[];
  readonly last: Entry;
  readonly groups: AckGroup[];
  /** The last checkpoint among the entries. */
  readonly checkpoint: Entry | undefined;
  readonly heads: AnchoredHead[];
}

/** A batch whose fdatasync was started: settles to false when it was not acknowledged. */
interface Stage {
  /** Settles once the batch is acknowledged (true) or cannot be (false). */
  readonly acked: Promise<boolean>;
  /** Settles once its heads reached the outbox and the head file, too. */
  readonly done: Promise<boolean>;
}

interface FlushWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

function warn(message: string, code: string): void {
  process.emitWarning(message, { type: 'PurposekitWarning', code });
}

const RESOLVED: Promise<void> = Promise.resolve();
/**
 * Batches whose fdatasync may be in flight at once. 2: while one batch is made durable
 * the next is written and its fdatasync started, so that a record never waits for a
 * whole fdatasync that began before it was written, then for its own.
 */
const WRITE_DEPTH = 2;
/**
 * The fewest queued records worth a second fdatasync in flight. Fewer wait for the one in
 * flight, as without pipelining: each fdatasync costs the process tens of µs of system
 * time, so splitting a handful of callers into two batches would double that per record
 * (at low concurrency) for no throughput. Under load the queue passes it within a fraction
 * of an fdatasync, and the overlap bounds how long a record waits. @internal
 */
export const PIPELINE_MIN_RECORDS = 16;
/** How long close() gives anchors to take the last heads; the rest waits in the outbox. */
const ANCHOR_CLOSE_WAIT_MS = 2000;

function reportAnchorError(error: unknown, info: { anchor: string; head: AnchoredHead; attempt: number; retryInMs: number }): void {
  const why = error instanceof Error ? error.message : String(error);
  warn(
    `purposekit audit: anchor "${info.anchor}" did not take the head of seq ${info.head.seq} (attempt ${info.attempt}: ${why.slice(0, 200)}); retrying in ${Math.round(info.retryInMs / 1000)} s. The head waits in the outbox; the trail is written as usual.`,
    'PURPOSEKIT_WARN_AUDIT_ANCHOR',
  );
}


class FileSink implements FileAuditSink {
  readonly dir: string;
  readonly prefix: string;
  readonly keyId: string;
  readonly durability: AuditDurability;
  readonly #o: ResolvedFileAuditSinkOptions;
  readonly #io: AuditFileIo;
  readonly #now: () => number;

  // sequencer: the state after the last sequenced record
  #seq = 0;
  #hash = AUDIT_GENESIS_HASH;
  #fileIndex = 1;
  #fileBytes = 0;
  #sinceCheckpoint = 0;
  #lastMs = -1;
  #lastTs = '';

  // writer
  readonly #slab: LineSlab;
  readonly #writeDepth: number;
  #queue: Entry[] = [];
  /** The group that appends join until the writer takes the queue. */
  #group: AckGroup | undefined;
  /** Batches taken from the queue and not yet acknowledged, in order (the first one is the oldest). */
  #unacked: Entry[][] = [];
  /** A write() is in progress. */
  #writing = false;
  /** Stages whose acknowledgement is pending (their fdatasync is in flight, or an earlier one's). */
  #syncing = 0;
  /** Stages not finished (acknowledgement, outbox, head file). */
  #stages = 0;
  /** The newest stage, which the next one waits for. */
  #lastStage: Stage | undefined;
  /** The first error of a write or stage: no more writes; the sink fails once nothing is in flight. */
  #error: unknown;
  #fd: number | undefined;
  #fdIndex = 0;
  #dirDirty = false;
  /** The last record that is acknowledged AND written to the file. */
  #acked!: Position;
  /** The last record covered by a completed fdatasync. */
  #syncedSeq = 0;
  #flushWaiters: FlushWaiter[] = [];

  // failure and recovery
  #failure: PurposekitError | undefined;
  /** async mode: records acknowledged but not yet written when writing failed. */
  #retained: Entry[] = [];
  #recovering: Promise<void> | undefined;

  #timer: NodeJS.Timeout | undefined;
  /** Timer ticks (each checkpointIntervalMs) since the last checkpoint: drives the heartbeat. */
  #ticksSinceCheckpoint = 0;
  #outbox: AnchorOutbox | undefined;
  readonly #backoff: { firstMs: number; maxMs: number };
  readonly #closeWaitMs: number;
  #closing: Promise<void> | undefined;
  #lock: TrailLock | undefined;
  /** The highest file index found at start-up or created since. */
  #knownIndex = 0;

  constructor(
    options: ResolvedFileAuditSinkOptions,
    io: AuditFileIo,
    now: () => number,
    tuning: { backoff: { firstMs: number; maxMs: number }; closeWaitMs: number; writeDepth: number; slabBytes: number },
  ) {
    this.#backoff = tuning.backoff;
    this.#closeWaitMs = tuning.closeWaitMs;
    this.#writeDepth = tuning.writeDepth;
    this.#slab = new LineSlab(tuning.slabBytes);
    this.#o = options;
    this.#io = io;
    this.#now = now;
    this.dir = options.dir;
    this.prefix = options.prefix;
    this.keyId = options.keyId;
    this.durability = options.durability;
  }

  // ── public API ───────────────────────────────────────────────────────────────

  append(event: AuditEventInput): Promise<void> {
    const now = this.#now();
    try {
      validateAuditEvent(event, now);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closing !== undefined) return Promise.reject(this.#unavailable('The audit sink is closed.'));
    if (this.#failure !== undefined) return this.#recoverThenAppend(event);
    return this.#sequenceEvent(event, now);
  }

  flush(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const seq = this.#seq;
    if (this.#syncedSeq >= seq) return RESOLVED;
    return new Promise<void>((resolve, reject) => {
      this.#flushWaiters.push({ seq, resolve, reject });
      this.#kick();
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  // ── sequencing (synchronous) ─────────────────────────────────────────────────

  #stamp(ms: number): string {
    // toISOString costs ≈ 0.9 µs; many records share a millisecond under load.
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastTs = new Date(ms).toISOString();
    }
    return this.#lastTs;
  }

  #sequenceEvent(event: AuditEventInput, ms: number): Promise<void> {
    if (this.#fileBytes >= this.#o.maxFileBytes) this.#rotate();
    const seq = this.#seq + 1;
    const hash = this.#slab.event(event, seq, this.#stamp(ms), this.#hash);
    const entry = this.#push(seq, hash, undefined);
    let promise: Promise<void>;
    if (this.durability === 'async') {
      entry.acked = true;
      promise = RESOLVED;
    } else {
      const group = (this.#group ??= new AckGroup());
      entry.group = group;
      promise = group.promise;
    }
    if (this.#sinceCheckpoint >= this.#o.checkpointEvery) this.#sequenceCheckpoint();
    this.#kick();
    return promise;
  }

  #sequenceCheckpoint(): void {
    const seq = this.#seq + 1;
    const { record, line } = makeCheckpoint({ seq, ts: this.#stamp(this.#now()), prev: this.#hash, keyId: this.keyId }, this.#o.signingKey);
    this.#slab.line(line);
    // A checkpoint has no caller; in async mode it is kept like any acknowledged record.
    const entry = this.#push(seq, record.hash, line);
    entry.acked = this.durability === 'async';
    if (this.#outbox !== undefined) entry.head = anchoredHeadOf(this.#o.stream, record as unknown as Readonly<Record<string, unknown>>);
    this.#ticksSinceCheckpoint = 0;
  }

  /** Seals the current file with a checkpoint and moves on to the next one. */
  #rotate(): void {
    if (this.#sinceCheckpoint > 0) this.#sequenceCheckpoint();
    this.#fileIndex += 1;
    this.#fileBytes = 0;
    this.#group = undefined; // a group never spans two files
  }

  /** Queues the line the slab holds last. */
  #push(seq: number, hash: string, checkpointLine: string | undefined): Entry {
    const slab = this.#slab;
    this.#seq = seq;
    this.#hash = hash;
    this.#fileBytes += slab.end - slab.start;
    this.#sinceCheckpoint = checkpointLine !== undefined ? 0 : this.#sinceCheckpoint + 1;
    const entry: Entry = {
      buf: slab.buf,
      start: slab.start,
      end: slab.end,
      seq,
      hash,
      fileIndex: this.#fileIndex,
      endOffset: this.#fileBytes,
      sinceCheckpoint: this.#sinceCheckpoint,
      checkpointLine,
      acked: false,
      group: undefined,
      head: undefined,
    };
    this.#queue.push(entry);
    return entry;
  }

  #rewind(to: Position): void {
    this.#seq = to.seq;
    this.#hash = to.hash;
    this.#fileIndex = to.fileIndex;
    this.#fileBytes = to.endOffset;
    this.#sinceCheckpoint = to.sinceCheckpoint;
  }

  // ── writer ───────────────────────────────────────────────────────────────────

  /** A kick is queued behind the continuations of the appends just acknowledged. */
  #kickDeferred = false;
  readonly #kickLater = (): void => {
    this.#kickDeferred = false;
    this.#kick();
  };

  /** Starts the next write when there is one to make and room in the pipeline. */
  #kick(): void {
    if (this.#writing || this.#kickDeferred || this.#failure !== undefined || this.#error !== undefined) return;
    const queue = this.#queue;
    if (queue.length === 0) {
      // A flush with nothing queued but written records not yet synced (batched mode
      // after a failed fdatasync): sync them now rather than leave the flush waiting.
      if (this.#stages === 0 && this.#flushWaiters.length > 0 && this.#syncedSeq < this.#seq && this.#fd !== undefined) {
        this.#startStage(this.#fd, this.#fdIndex, undefined, this.#seq);
      }
      return;
    }
    if (this.#syncing >= this.#writeDepth) return;
    if (this.#syncing > 0 && queue.length < PIPELINE_MIN_RECORDS) return;
    // A new file is opened only once everything written to the current one is acknowledged.
    if (this.#syncing > 0 && queue[0]!.fileIndex !== this.#fdIndex) return;
    this.#writing = true;
    void this.#writeNext();
  }

  /** Writes the queue (up to the end of its first file) and starts its fdatasync. */
  async #writeNext(): Promise<void> {
    const queue = this.#queue;
    const index = queue[0]!.fileIndex;
    let entries = queue;
    if (queue[queue.length - 1]!.fileIndex !== index) {
      let j = 1;
      while (queue[j]!.fileIndex === index) j++;
      entries = queue.slice(0, j);
      this.#queue = queue.slice(j);
    } else {
      this.#queue = [];
    }
    this.#group = undefined;
    this.#unacked.push(entries);
    try {
      const segment = segmentOf(entries);
      const fd = await this.#fdFor(index);
      await this.#writeAll(fd, segment.bytes);
      // An earlier batch failed while this one was written: it is refused with the rest.
      if (this.#error === undefined) {
        if (this.durability !== 'sync') {
          this.#acked = segment.last;
          if (this.durability === 'batched') resolveGroups(segment.groups);
        }
        this.#startStage(fd, index, segment, segment.last.seq);
      }
    } catch (error) {
      this.#error ??= error;
    } finally {
      this.#writing = false;
    }
    if (this.#error === undefined) this.#kick();
    else this.#failWhenIdle();
  }

  /** Starts the fdatasync of a written batch (or of what is written, for a flush). */
  #startStage(fd: number, index: number, segment: Segment | undefined, lastSeq: number): void {
    const previous = this.#lastStage;
    const synced = this.#io.fdatasync(fd);
    this.#syncing++;
    this.#stages++;
    const acked = this.#acknowledge(synced, previous?.acked, fd, index, segment);
    const done = this.#finish(acked, previous?.done, segment, lastSeq);
    this.#lastStage = { acked, done };
  }

  /** A batch is acknowledged after its own fdatasync and every earlier batch's acknowledgement. */
  async #acknowledge(synced: Promise<void>, previous: Promise<boolean> | undefined, fd: number, index: number, segment: Segment | undefined): Promise<boolean> {
    let ok = true;
    try {
      await synced;
    } catch (error) {
      this.#error ??= error;
      ok = false;
    }
    if (previous !== undefined && !(await previous)) ok = false;
    if (ok) {
      try {
        if (this.#dirDirty) {
          await this.#io.fsyncDir(this.dir);
          this.#dirDirty = false;
        }
        this.#checkIdentity(fd, index);
      } catch (error) {
        this.#error ??= error;
        ok = false;
      }
    }
    if (ok && segment !== undefined) {
      if (this.durability === 'sync') {
        this.#acked = segment.last;
        resolveGroups(segment.groups);
      }
      this.#unacked.shift();
    }
    this.#syncing--;
    // Not at once, and no append may start a write before: the callers just acknowledged
    // append again in their continuations (promise jobs queued by resolve(), which run
    // before this one); taking the queue after them keeps one batch per fdatasync instead
    // of splitting the callers into two alternating cohorts.
    this.#kickDeferred = true;
    queueMicrotask(this.#kickLater);
    return ok;
  }

  /** After the acknowledgement, in batch order: the outbox, then the head file; then flush waiters. */
  async #finish(acked: Promise<boolean>, previous: Promise<boolean> | undefined, segment: Segment | undefined, lastSeq: number): Promise<boolean> {
    let ok = await acked;
    if (previous !== undefined && !(await previous)) ok = false;
    if (ok && segment !== undefined) {
      try {
        // Outbox before head file: a head the head file shows is always queued for the anchors.
        if (this.#outbox !== undefined && segment.heads.length > 0) await this.#outbox.add(segment.heads);
        if (segment.checkpoint !== undefined) await this.#writeHead(segment.checkpoint);
      } catch (error) {
        this.#error ??= error;
        ok = false;
      }
    }
    if (ok) this.#syncedSeq = lastSeq;
    this.#stages--;
    if (this.#stages === 0) this.#lastStage = undefined;
    this.#settleFlushWaiters();
    this.#failWhenIdle();
    return ok;
  }

  /** Once nothing is in flight after an error: every unacknowledged record is refused. */
  #failWhenIdle(): void {
    if (this.#error === undefined || this.#writing || this.#stages > 0) return;
    const error = this.#error;
    this.#error = undefined;
    this.#fail(error);
    this.#settleFlushWaiters();
  }

  #writeAll(fd: number, buffer: Buffer): Promise<void> {
    return writeFully(this.#io, fd, buffer);
  }

  async #fdFor(index: number): Promise<number> {
    if (this.#fd !== undefined && this.#fdIndex === index) return this.#fd;
    if (this.#fd !== undefined) {
      const old = this.#fd;
      this.#fd = undefined;
      await this.#io.close(old);
    }
    const path = this.#path(index);
    const existed = this.#io.stat(path) !== undefined;
    // a+ (not a): a file unlinked while open can be read back from this descriptor.
    // A file past every one this writer has known is created, never joined: a file that
    // appeared there (planted, or left by someone else) is not ours to append to.
    const fresh = index > this.#knownIndex;
    const fd = await this.#io.open(path, fresh ? 'ax+' : 'a+', 0o600);
    if (fresh) this.#knownIndex = index;
    this.#fd = fd;
    this.#fdIndex = index;
    if (!existed) this.#dirDirty = true;
    return fd;
  }

  /** A removed or replaced file would swallow records into an orphaned inode: fail instead. */
  #checkIdentity(fd: number, index: number): void {
    const st = this.#io.fstat(fd);
    if (st.nlink === 0) throw fileError('ENOENT', `${trailFileName(this.prefix, index)} was removed while in use`);
    const byPath = this.#io.stat(this.#path(index));
    if (byPath === undefined || byPath.ino !== st.ino) throw fileError('ENOENT', `${trailFileName(this.prefix, index)} was replaced while in use`);
  }

  /** The head file: a copy of the latest durable checkpoint, replaced atomically. */
  async #writeHead(checkpoint: Entry): Promise<void> {
    const path = join(this.dir, headFileName(this.prefix));
    const tmp = `${path}.tmp`;
    const fd = await this.#io.open(tmp, 'w', 0o600);
    try {
      await this.#writeAll(fd, Buffer.from(`${checkpoint.checkpointLine!}\n`, 'utf8'));
      await this.#io.fdatasync(fd);
    } finally {
      await this.#io.close(fd);
    }
    await this.#io.rename(tmp, path);
    await this.#io.fsyncDir(this.dir);
  }

  #settleFlushWaiters(): void {
    if (this.#flushWaiters.length === 0) return;
    const idle = !this.#writing && this.#stages === 0 && this.#queue.length === 0;
    const keep: FlushWaiter[] = [];
    for (const w of this.#flushWaiters) {
      if (this.#failure !== undefined) w.reject(this.#failure);
      else if (this.#syncedSeq >= w.seq || (idle && this.#syncedSeq >= this.#seq)) w.resolve();
      else keep.push(w);
    }
    this.#flushWaiters = keep;
  }

  #path(index: number): string {
    return join(this.dir, trailFileName(this.prefix, index));
  }

  #unavailable(message: string, cause?: unknown): PurposekitError {
    const code = errnoCode(cause);
    return new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', message, {
      ...(cause === undefined ? {} : { cause }),
      details: { dir: this.dir, ...(code === undefined ? {} : { code }) },
    });
  }

  // ── failure and recovery ─────────────────────────────────────────────────────

  #fail(cause: unknown): void {
    const code = errnoCode(cause) ?? 'EIO';
    const error = this.#unavailable(`The audit trail cannot be written (${code}); appends are refused until it can.`, cause);
    this.#failure = error;
    const pending = this.#unacked.flat().concat(this.#queue);
    this.#unacked = [];
    this.#queue = [];
    this.#group = undefined;
    this.#lastStage = undefined;
    for (const e of pending) {
      if (e.seq <= this.#acked.seq) continue; // acknowledged and in the file already
      if (e.acked) this.#retained.push(e);
      else e.group?.reject(error); // a group is refused as a whole: none of its records is acknowledged
    }
    // Refused records leave the chain: the next record links to the last one kept.
    this.#rewind(this.#retained.length > 0 ? this.#retained[this.#retained.length - 1]! : this.#acked);
    warn(`purposekit audit: cannot write ${trailFileName(this.prefix, this.#fileIndex)} in ${this.dir} (${code}). Access fails closed until the trail can be written again; nothing acknowledged is lost.`, 'PURPOSEKIT_WARN_AUDIT_UNAVAILABLE');
  }

  async #recoverThenAppend(event: AuditEventInput): Promise<void> {
    this.#recovering ??= this.#recover().finally(() => {
      this.#recovering = undefined;
    });
    await this.#recovering;
    if (this.#closing !== undefined) throw this.#unavailable('The audit sink is closed.');
    if (this.#failure !== undefined) throw this.#failure;
    return this.#sequenceEvent(event, this.#now());
  }

  /**
   * Re-opens the trail after a failure: restores a file removed while in use from the
   * still-open descriptor, quarantines bytes of refused records, checks that the file
   * ends with the last acknowledged record, and resumes writing (retained records first).
   * On failure the sink stays unavailable and the next append tries again.
   */
  async #recover(): Promise<void> {
    const target = this.#acked;
    try {
      await this.#io.mkdir(this.dir, 0o700);
      if (this.#fd !== undefined) {
        const fd = this.#fd;
        const index = this.#fdIndex;
        this.#fd = undefined;
        try {
          await this.#restoreOrphan(fd, index, target);
        } finally {
          await this.#io.close(fd).catch(() => undefined);
        }
      }
      for (const name of await this.#io.readdir(this.dir)) {
        const parsed = parseTrailFileName(name);
        if (parsed !== undefined && parsed.prefix === this.prefix && parsed.index > target.fileIndex) {
          await this.#quarantineFile(parsed.index, 0, 'records refused while the trail could not be written');
        }
      }
      const path = this.#path(target.fileIndex);
      const st = this.#io.stat(path);
      if (st === undefined || st.size < target.endOffset) {
        throw fileError('ENOENT', `${trailFileName(this.prefix, target.fileIndex)} is missing or shorter than its acknowledged records (removed or truncated by someone else)`);
      }
      if (target.endOffset > 0) {
        const fd = await this.#io.open(path, 'r', 0o600);
        try {
          const { lines } = await readTail(this.#io, fd, target.endOffset);
          const last = lines[lines.length - 1];
          // The record must be the one acknowledged, byte for byte as hashed: someone may
          // have rewritten it (keeping its "hash" member) while the writer was failing.
          if (last?.record === undefined || last.record['seq'] !== target.seq || last.record['hash'] !== target.hash || hashAuditRecord(last.record) !== target.hash) {
            throw fileError('ESTALE', `${trailFileName(this.prefix, target.fileIndex)} no longer ends with the last acknowledged record (seq ${target.seq})`);
          }
          // acknowledged records whose fdatasync failed (batched mode) are made durable now
          await this.#io.fdatasync(fd);
        } finally {
          await this.#io.close(fd);
        }
      }
      if (st.size > target.endOffset) await this.#quarantineFile(target.fileIndex, target.endOffset, 'records refused while the trail could not be written');
      this.#failure = undefined;
      this.#syncedSeq = Math.max(this.#syncedSeq, target.seq);
      this.#queue = this.#retained.concat(this.#queue);
      this.#retained = [];
      warn(`purposekit audit: writing to ${this.dir} works again; the chain continues from seq ${target.seq}.`, 'PURPOSEKIT_WARN_AUDIT_RECOVERED');
      this.#kick();
    } catch (cause) {
      this.#failure = this.#unavailable(`The audit trail cannot be written (${errnoCode(cause) ?? 'EIO'}); appends are refused until it can.`, cause);
    }
  }

  async #restoreOrphan(fd: number, index: number, target: Position): Promise<void> {
    if (index !== target.fileIndex || target.endOffset === 0) return;
    const st = this.#io.fstat(fd);
    const path = this.#path(index);
    if (st.nlink !== 0 || this.#io.stat(path) !== undefined) return;
    // The file was unlinked while open: its acknowledged records still live in the inode.
    const out = await this.#io.open(path, 'wx', 0o600);
    try {
      const chunk = Buffer.allocUnsafe(Math.min(target.endOffset, 1 << 20));
      for (let pos = 0; pos < target.endOffset; ) {
        const n = Math.min(chunk.length, target.endOffset - pos);
        await readExactly(this.#io, fd, chunk, 0, n, pos);
        await this.#writeAll(out, chunk.subarray(0, n));
        pos += n;
      }
      await this.#io.fdatasync(out);
    } finally {
      await this.#io.close(out);
    }
    await this.#io.fsyncDir(this.dir);
    warn(`purposekit audit: ${trailFileName(this.prefix, index)} was removed while in use; restored its ${target.endOffset} bytes of acknowledged records from the open file.`, 'PURPOSEKIT_WARN_AUDIT_FILE_RESTORED');
  }

  /** Moves bytes [from, end) of a trail file to a new quarantine file and truncates it. */
  async #quarantineFile(index: number, from: number, why: string): Promise<void> {
    const name = trailFileName(this.prefix, index);
    const path = this.#path(index);
    const fd = await this.#io.open(path, 'r+', 0o600);
    let size = 0;
    try {
      size = this.#io.fstat(fd).size;
      if (size > from) {
        const qname = await quarantineBytes(this.#io, this.dir, name, fd, from, size, new Date(this.#now()));
        warn(`purposekit audit: moved ${size - from} bytes at the end of ${name} (${why}) to ${qname}.`, 'PURPOSEKIT_WARN_AUDIT_QUARANTINE');
      }
    } finally {
      await this.#io.close(fd);
    }
    // A file that held only refused records is removed, so that it is created afresh.
    if (from === 0) await this.#io.unlink(path);
  }

  // ── start-up and shutdown ────────────────────────────────────────────────────

  async open(): Promise<void> {
    try {
      await this.#io.mkdir(this.dir, 0o700);
      const lock = await takeTrailLock(this.#io, this.dir, this.prefix);
      if (!('release' in lock)) {
        throw this.#unavailable(
          `${FACTORY}(): the trail in ${this.dir} is being written by process ${lock.pid}${lock.self ? ' (this process: close the other sink first)' : ''}; one writer per trail.`,
        );
      }
      this.#lock = lock;
    } catch (cause) {
      if (cause instanceof PurposekitError) throw cause;
      throw this.#unavailable(`${FACTORY}(): cannot use the trail directory ${this.dir} (${errnoCode(cause) ?? 'error'}).`, cause);
    }
    try {
      const { end, checkpoints } = await loadTrailEnd({
        io: this.#io,
        dir: this.dir,
        prefix: this.prefix,
        keyId: this.keyId,
        publicKey: createPublicKey(this.#o.signingKey),
        now: this.#now,
        warn,
      });
      this.#rewind(end);
      this.#knownIndex = end.fileIndex;
      this.#acked = end;
      this.#syncedSeq = end.seq;
      if (this.#o.anchors.length > 0) {
        const outbox = new AnchorOutbox({
          io: this.#io,
          dir: this.dir,
          prefix: this.prefix,
          anchors: this.#o.anchors,
          onError: this.#o.onAnchorError ?? reportAnchorError,
          backoff: this.#backoff,
        });
        // Heads a crash kept from the outbox are still in the trail: queue them again.
        await outbox.load(checkpoints.map((c) => anchoredHeadOf(this.#o.stream, c)));
        this.#outbox = outbox;
      }
      if (this.#seq > 0 && this.#sinceCheckpoint > 0) {
        // Seal what an earlier run left unsigned (e.g. after a crash).
        this.#sequenceCheckpoint();
        this.#kick();
        await this.flush();
      }
    } catch (cause) {
      await this.#releaseLock();
      if (this.#fd !== undefined) await this.#io.close(this.#fd).catch(() => undefined);
      if (cause instanceof PurposekitError) throw cause;
      throw this.#unavailable(`${FACTORY}(): cannot open the trail in ${this.dir} (${errnoCode(cause) ?? 'error'}).`, cause);
    }
    this.#timer = setInterval(() => this.#onTimer(), this.#o.checkpointIntervalMs);
    this.#timer.unref();
  }

  /**
   * Every checkpointIntervalMs: sign records left unsigned, or — after
   * heartbeatIntervalMs without any checkpoint — write a heartbeat checkpoint, so that a
   * quiet writer is told apart from a trail cut short.
   */
  #onTimer(): void {
    if (this.#failure !== undefined || this.#closing !== undefined) return;
    this.#ticksSinceCheckpoint++;
    const heartbeatDue = this.#ticksSinceCheckpoint * this.#o.checkpointIntervalMs >= this.#o.heartbeatIntervalMs;
    if (this.#sinceCheckpoint === 0 && !heartbeatDue) return;
    this.#sequenceCheckpoint();
    this.#kick();
  }

  /** Heads waiting in the anchor outbox (for tests and health checks). @internal */
  pendingAnchorHeads(): readonly AnchoredHead[] {
    return this.#outbox?.pending ?? [];
  }

  async #releaseLock(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release();
  }

  async #close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    let error: unknown;
    try {
      if (this.#failure !== undefined) {
        this.#recovering ??= this.#recover();
        await this.#recovering;
      }
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#seq > 0 && this.#sinceCheckpoint > 0) {
        this.#sequenceCheckpoint();
        this.#kick();
      }
      await this.flush();
    } catch (cause) {
      error = cause;
    }
    // What the anchors did not take stays in the outbox for the next start.
    await this.#outbox?.close(this.#closeWaitMs).catch(() => undefined);
    if (this.#fd !== undefined) {
      const fd = this.#fd;
      this.#fd = undefined;
      await this.#io.close(fd).catch(() => undefined);
    }
    await this.#releaseLock();
    if (error !== undefined) throw error;
  }
}


function resolveGroups(groups: readonly AckGroup[]): void {
  for (let k = 0; k < groups.length; k++) groups[k]!.resolve();
}

/** The bytes of consecutive records (one slice of the slab, unless they span two) and what to do once they are durable. */
function segmentOf(entries: Entry[]): Segment & { bytes: Buffer } {
  const first = entries[0]!;
  let buf = first.buf;
  let from = first.start;
  let to = first.end;
  let pieces: Buffer[] | undefined;
  const groups: AckGroup[] = [];
  let group: AckGroup | undefined;
  let checkpoint: Entry | undefined;
  const heads: AnchoredHead[] = [];
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    if (k > 0) {
      if (e.buf === buf && e.start === to) to = e.end;
      else {
        (pieces ??= []).push(buf.subarray(from, to));
        buf = e.buf;
        from = e.start;
        to = e.end;
      }
    }
    if (e.group !== undefined && e.group !== group) {
      group = e.group;
      groups.push(group);
    }
    if (e.checkpointLine !== undefined) checkpoint = e;
    if (e.head !== undefined) heads.push(e.head);
  }
  const tail = buf.subarray(from, to);
  const bytes = pieces === undefined ? tail : Buffer.concat([...pieces, tail]);
  return { entries, last: entries[entries.length - 1]!, groups, checkpoint, heads, bytes };
}
