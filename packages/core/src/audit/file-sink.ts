/**
 * The embedded default sink: a hash-chained JSON-lines trail in a directory, with group
 * commit, signed checkpoints, size-based rotation, crash recovery and fail-closed
 * writes. The format is specified in docs/audit-format.md.
 *
 * Shape of the code: `append()` validates and *sequences* synchronously (seq, ts, prev,
 * hash and the line are fixed before it returns), then queues the line. One writer loop
 * drains the queue: each batch is one write() and one fdatasync() per file, and the next
 * batch forms while that fdatasync is in flight (group commit). Acknowledgement depends
 * on the durability mode. When a write fails, every unacknowledged record is refused,
 * the chain is rewound to the last acknowledged one, and the next append re-reads the
 * file tail and continues from there.
 */
import { join, resolve as resolvePath } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { PurposekitError } from '../errors';
import { didYouMean, show } from '../policy/suggest';
import { makeCheckpoint } from './checkpoint';
import { AUDIT_GENESIS_HASH, bodyOf, encodeEventParts, hashAuditRecord, lineOf, sha256Hex } from './encode';
import { nodeAuditFileIo } from './file-io';
import type { AuditFileIo } from './file-io';
import { checkPrefix, headFileName, lockFileName, parseTrailFileName, quarantineFileName, trailFileName } from './files';
import { AUDIT_KEY_ID_PATTERN, auditKeyId, toSigningKey } from './keys';
import type { AuditDurability, AuditEventInput, AuditSink, FileAuditSinkOptions } from './types';
import { validateAuditEvent } from './validate';

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

/** Options after validation and defaults. */
export interface ResolvedFileAuditSinkOptions {
  readonly dir: string;
  readonly prefix: string;
  readonly signingKey: KeyObject;
  readonly keyId: string;
  readonly durability: AuditDurability;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly maxFileBytes: number;
}

/** Test and tooling seams (not part of the public options). */
export interface FileAuditSinkInternals {
  /** File system boundary. Default: node:fs. */
  io?: AuditFileIo;
  /** Clock, ms since the epoch. Default: `Date.now`. */
  now?: () => number;
}

const OPTION_KEYS = ['dir', 'prefix', 'signingKey', 'keyId', 'durability', 'checkpointEvery', 'checkpointIntervalMs', 'maxFileBytes'] as const;
const FACTORY = 'createFileAuditSink';
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const TAIL_WINDOW = 64 * 1024;
const NL = 0x0a;

function bad(option: string, value: unknown, expected: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}(): "${option}" must be ${expected}; got ${show(value)}.`, { details: { option } });
}

function integer(options: FileAuditSinkOptions, name: 'checkpointEvery' | 'checkpointIntervalMs' | 'maxFileBytes', fallback: number, min: number, max: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw bad(name, value, `an integer from ${min} to ${max}`);
  return value;
}

/**
 * Validates the options of {@link createFileAuditSink} once and freezes them.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION, PURPOSEKIT_ERR_INVALID_KEY
 */
export function resolveFileAuditSinkOptions(options: FileAuditSinkOptions): ResolvedFileAuditSinkOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}() takes an options object: { dir, signingKey }.`);
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}(): unknown option "${key}".${didYouMean(key, OPTION_KEYS)}`, { details: { option: key } });
    }
  }
  if (typeof options.dir !== 'string' || options.dir.length === 0) throw bad('dir', options.dir, 'the path of the trail directory');
  const prefix = checkPrefix(options.prefix ?? 'audit', `${FACTORY}()`);
  if (options.signingKey === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `${FACTORY}(): "signingKey" is required: an Ed25519 private key (generate one with \`purposekit keys generate\`).`);
  }
  const signingKey = toSigningKey(options.signingKey, `${FACTORY}(): signingKey`);
  let keyId: string;
  if (options.keyId === undefined) keyId = auditKeyId(signingKey);
  else if (typeof options.keyId === 'string' && AUDIT_KEY_ID_PATTERN.test(options.keyId)) keyId = options.keyId;
  else throw bad('keyId', options.keyId, '1–128 characters of letters, digits, ".", "_", ":" or "-"');
  const durability = options.durability ?? 'sync';
  if (durability !== 'sync' && durability !== 'batched' && durability !== 'async') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${FACTORY}(): "durability" must be "sync", "batched" or "async"; got ${show(durability)}.${didYouMean(String(durability), ['sync', 'batched', 'async'])}`, { details: { option: 'durability' } });
  }
  return Object.freeze({
    dir: resolvePath(options.dir),
    prefix,
    signingKey,
    keyId,
    durability,
    checkpointEvery: integer(options, 'checkpointEvery', 1000, 1, 10_000_000),
    checkpointIntervalMs: integer(options, 'checkpointIntervalMs', 5000, 10, 86_400_000),
    maxFileBytes: integer(options, 'maxFileBytes', DEFAULT_MAX_FILE_BYTES, 1024, Number.MAX_SAFE_INTEGER),
  });
}

/**
 * Opens (or creates) a file trail and returns its sink. On start-up it takes the
 * directory's writer lock, moves a torn last line left by a crash to a quarantine file
 * (with a warning), refuses a trail that is shorter than its head checkpoint or whose
 * last record does not match its hash, and seals an unsigned tail with a checkpoint.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION / PURPOSEKIT_ERR_INVALID_KEY for
 *   bad options; PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the directory cannot be written or
 *   another live process holds its lock; PURPOSEKIT_ERR_AUDIT_CORRUPT when the trail's
 *   tail is not what its head checkpoint says.
 */
export function createFileAuditSink(options: FileAuditSinkOptions): Promise<FileAuditSink> {
  return openFileAuditSink(options, {});
}

/** {@link createFileAuditSink} with test seams. @internal */
export async function openFileAuditSink(options: FileAuditSinkOptions, internals: FileAuditSinkInternals): Promise<FileAuditSink> {
  const resolved = resolveFileAuditSinkOptions(options);
  const sink = new FileSink(resolved, internals.io ?? nodeAuditFileIo, internals.now ?? Date.now);
  await sink.open();
  return sink;
}

/** A position in the chain: the state right after one record. */
interface Position {
  seq: number;
  hash: string;
  fileIndex: number;
  /** Byte offset in the file right after this record. */
  endOffset: number;
  /** Records since the last checkpoint, this one included (0 after a checkpoint). */
  sinceCheckpoint: number;
}

interface Entry extends Position {
  line: string;
  bytes: number;
  checkpoint: boolean;
  /** Resolved to the caller (async: at once; batched: after write; sync: after fdatasync). */
  acked: boolean;
  resolve: (() => void) | undefined;
  reject: ((error: Error) => void) | undefined;
}

interface FlushWaiter {
  seq: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface TailLine {
  start: number;
  end: number;
  record: Record<string, unknown>;
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function fileError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function warn(message: string, code: string): void {
  process.emitWarning(message, { type: 'PurposekitWarning', code });
}

const RESOLVED: Promise<void> = Promise.resolve();

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
  #queue: Entry[] = [];
  #inflight: Entry[] | undefined;
  #inflightFrom = 0;
  #writing = false;
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
  #closing: Promise<void> | undefined;
  #locked = false;

  constructor(options: ResolvedFileAuditSinkOptions, io: AuditFileIo, now: () => number) {
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
    try {
      validateAuditEvent(event, this.#now());
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closing !== undefined) return Promise.reject(this.#unavailable('The audit sink is closed.'));
    if (this.#failure !== undefined) return this.#recoverThenAppend(event);
    return this.#sequenceEvent(event);
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

  #stamp(): string {
    const ms = this.#now();
    // toISOString costs ≈ 0.9 µs; many records share a millisecond under load.
    if (ms !== this.#lastMs) {
      this.#lastMs = ms;
      this.#lastTs = new Date(ms).toISOString();
    }
    return this.#lastTs;
  }

  #sequenceEvent(event: AuditEventInput): Promise<void> {
    if (this.#fileBytes >= this.#o.maxFileBytes) this.#rotate();
    const seq = this.#seq + 1;
    const [before, after] = encodeEventParts(event, seq, this.#stamp(), this.#hash);
    const hash = sha256Hex(bodyOf(before, after));
    const entry = this.#push(`${lineOf(before, hash, after)}\n`, seq, hash, false);
    let promise: Promise<void>;
    if (this.durability === 'async') {
      entry.acked = true;
      promise = RESOLVED;
    } else {
      promise = new Promise<void>((resolve, reject) => {
        entry.resolve = resolve;
        entry.reject = reject;
      });
    }
    if (this.#sinceCheckpoint >= this.#o.checkpointEvery) this.#sequenceCheckpoint();
    this.#kick();
    return promise;
  }

  #sequenceCheckpoint(): void {
    const seq = this.#seq + 1;
    const { record, line } = makeCheckpoint({ seq, ts: this.#stamp(), prev: this.#hash, keyId: this.keyId }, this.#o.signingKey);
    // A checkpoint has no caller; in async mode it is kept like any acknowledged record.
    this.#push(`${line}\n`, seq, record.hash, true).acked = this.durability === 'async';
  }

  /** Seals the current file with a checkpoint and moves on to the next one. */
  #rotate(): void {
    if (this.#sinceCheckpoint > 0) this.#sequenceCheckpoint();
    this.#fileIndex += 1;
    this.#fileBytes = 0;
  }

  #push(line: string, seq: number, hash: string, checkpoint: boolean): Entry {
    const bytes = Buffer.byteLength(line);
    this.#seq = seq;
    this.#hash = hash;
    this.#fileBytes += bytes;
    this.#sinceCheckpoint = checkpoint ? 0 : this.#sinceCheckpoint + 1;
    const entry: Entry = {
      line,
      bytes,
      seq,
      hash,
      fileIndex: this.#fileIndex,
      endOffset: this.#fileBytes,
      sinceCheckpoint: this.#sinceCheckpoint,
      checkpoint,
      acked: false,
      resolve: undefined,
      reject: undefined,
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

  #kick(): void {
    if (this.#writing || this.#failure !== undefined) return;
    if (this.#queue.length === 0 && this.#flushWaiters.length === 0) return;
    this.#writing = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#failure === undefined) {
        const batch = this.#queue;
        this.#queue = [];
        this.#inflight = batch;
        this.#inflightFrom = 0;
        await this.#writeBatch(batch);
        this.#inflight = undefined;
      }
      // A flush with nothing queued but written records not yet synced (batched mode
      // after a failed fdatasync): sync them now rather than leave the flush waiting.
      if (this.#failure === undefined && this.#flushWaiters.length > 0 && this.#syncedSeq < this.#seq && this.#fd !== undefined) {
        await this.#io.fdatasync(this.#fd);
        this.#syncedSeq = this.#seq;
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#writing = false;
      this.#settleFlushWaiters();
    }
    if (this.#failure === undefined && this.#queue.length > 0) this.#kick();
  }

  async #writeBatch(batch: Entry[]): Promise<void> {
    let i = 0;
    while (i < batch.length) {
      const first = batch[i]!;
      const index = first.fileIndex;
      let j = i + 1;
      let text = first.line;
      let checkpoint: Entry | undefined = first.checkpoint ? first : undefined;
      while (j < batch.length && batch[j]!.fileIndex === index) {
        const e = batch[j]!;
        text += e.line;
        if (e.checkpoint) checkpoint = e;
        j++;
      }
      const last = batch[j - 1]!;
      const fd = await this.#fdFor(index);
      await this.#writeAll(fd, Buffer.from(text, 'utf8'));
      if (this.durability !== 'sync') {
        this.#acked = last;
        if (this.durability === 'batched') this.#ack(batch, i, j);
      }
      await this.#io.fdatasync(fd);
      if (this.#dirDirty) {
        await this.#io.fsyncDir(this.dir);
        this.#dirDirty = false;
      }
      this.#checkIdentity(fd, index);
      if (this.durability === 'sync') {
        this.#acked = last;
        this.#ack(batch, i, j);
      }
      this.#inflightFrom = j;
      if (checkpoint !== undefined) await this.#writeHead(checkpoint);
      this.#syncedSeq = last.seq;
      this.#settleFlushWaiters();
      i = j;
    }
  }

  #ack(batch: Entry[], from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const e = batch[k]!;
      e.acked = true;
      const resolve = e.resolve;
      if (resolve !== undefined) {
        e.resolve = undefined;
        e.reject = undefined;
        resolve();
      }
    }
  }

  async #writeAll(fd: number, buffer: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buffer.length) {
      const n = await this.#io.write(fd, buffer, offset, buffer.length - offset, null);
      if (n <= 0) throw fileError('EIO', 'write() wrote nothing');
      offset += n;
    }
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
    const fd = await this.#io.open(path, 'a+', 0o600);
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
      await this.#writeAll(fd, Buffer.from(checkpoint.line, 'utf8'));
      await this.#io.fdatasync(fd);
    } finally {
      await this.#io.close(fd);
    }
    await this.#io.rename(tmp, path);
    await this.#io.fsyncDir(this.dir);
  }

  #settleFlushWaiters(): void {
    if (this.#flushWaiters.length === 0) return;
    const idle = !this.#writing && this.#queue.length === 0;
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
    const pending = (this.#inflight === undefined ? [] : this.#inflight.slice(this.#inflightFrom)).concat(this.#queue);
    this.#inflight = undefined;
    this.#queue = [];
    for (const e of pending) {
      if (e.seq <= this.#acked.seq) continue; // acknowledged and in the file already
      if (e.acked) this.#retained.push(e);
      else e.reject?.(error);
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
    return this.#sequenceEvent(event);
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
          if (last === undefined || last.record['seq'] !== target.seq || last.record['hash'] !== target.hash) {
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
      let pos = 0;
      while (pos < target.endOffset) {
        const n = await this.#io.read(fd, chunk, 0, Math.min(chunk.length, target.endOffset - pos), pos);
        if (n <= 0) throw fileError('EIO', 'short read while restoring a removed trail file');
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
      await this.#lock();
    } catch (cause) {
      if (cause instanceof PurposekitError) throw cause;
      throw this.#unavailable(`${FACTORY}(): cannot use the trail directory ${this.dir} (${errnoCode(cause) ?? 'error'}).`, cause);
    }
    try {
      await this.#loadTail();
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

  #onTimer(): void {
    if (this.#failure !== undefined || this.#closing !== undefined || this.#sinceCheckpoint === 0) return;
    this.#sequenceCheckpoint();
    this.#kick();
  }

  async #lock(): Promise<void> {
    const path = join(this.dir, lockFileName(this.prefix));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = await this.#io.open(path, 'wx', 0o600);
        try {
          await this.#writeAll(fd, Buffer.from(`${process.pid}\n`));
        } finally {
          await this.#io.close(fd);
        }
        this.#locked = true;
        return;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
      }
      const holder = Number.parseInt(((await this.#io.readFile(path)) ?? Buffer.alloc(0)).toString('utf8'), 10);
      if (Number.isSafeInteger(holder) && holder > 0 && (holder === process.pid || processAlive(holder))) {
        throw this.#unavailable(`${FACTORY}(): the trail in ${this.dir} is being written by process ${holder}${holder === process.pid ? ' (this process: close the other sink first)' : ''}; one writer per trail.`);
      }
      // The holder is gone (a crash): take the lock over.
      await this.#io.unlink(path).catch(() => undefined);
    }
    throw this.#unavailable(`${FACTORY}(): could not take the lock ${lockFileName(this.prefix)} in ${this.dir}.`);
  }

  async #releaseLock(): Promise<void> {
    if (!this.#locked) return;
    this.#locked = false;
    await this.#io.unlink(join(this.dir, lockFileName(this.prefix))).catch(() => undefined);
  }

  /** Finds where the chain ends, quarantining a torn last line; checks it against the head file. */
  async #loadTail(): Promise<void> {
    const indexes: number[] = [];
    for (const name of await this.#io.readdir(this.dir)) {
      const parsed = parseTrailFileName(name);
      if (parsed !== undefined && parsed.prefix === this.prefix) indexes.push(parsed.index);
    }
    indexes.sort((a, b) => a - b);
    const lastIndex = indexes[indexes.length - 1] ?? 1;
    let end: Position = { seq: 0, hash: AUDIT_GENESIS_HASH, fileIndex: lastIndex, endOffset: 0, sinceCheckpoint: 0 };
    let window: TailLine[] = [];
    for (let k = indexes.length - 1; k >= 0; k--) {
      const index = indexes[k]!;
      const name = trailFileName(this.prefix, index);
      const fd = await this.#io.open(this.#path(index), 'r+', 0o600);
      let size: number;
      let lines: TailLine[];
      try {
        size = this.#io.fstat(fd).size;
        const tail = await readTail(this.#io, fd, size);
        lines = tail.lines;
        if (tail.tornStart < size) {
          if (index !== lastIndex) throw corrupt(`${name} ends with an incomplete record but is not the last file of the trail.`, { file: name });
          const qname = await quarantineBytes(this.#io, this.dir, name, fd, tail.tornStart, size, new Date(this.#now()));
          const last = lines[lines.length - 1]?.record['seq'];
          warn(
            `purposekit audit: ${name} ended with ${size - tail.tornStart} bytes of an incomplete record (a crash during a write; that record was never acknowledged). Moved them to ${qname}; the chain continues from ${last === undefined ? 'the previous record' : `seq ${String(last)}`}.`,
            'PURPOSEKIT_WARN_AUDIT_TORN_LINE',
          );
          size = tail.tornStart;
        }
      } finally {
        await this.#io.close(fd);
      }
      if (index === lastIndex) end = { ...end, endOffset: size };
      const last = lines[lines.length - 1];
      if (last === undefined) continue; // empty (or only torn bytes): the chain ends in an earlier file
      const record = last.record;
      if (typeof record['seq'] !== 'number' || typeof record['hash'] !== 'string' || hashAuditRecord(record) !== record['hash']) {
        throw corrupt(`${name}: the last record does not match its hash (edited?). Run \`purposekit audit verify\`; the sink will not extend a broken chain.`, { file: name, problem: 'edited' });
      }
      end = { ...end, seq: record['seq'], hash: record['hash'], sinceCheckpoint: record['kind'] === 'checkpoint' ? 0 : 1 };
      window = lines;
      break;
    }
    await this.#checkHead(end, window);
    this.#rewind(end);
    this.#acked = end;
    this.#syncedSeq = end.seq;
  }

  async #checkHead(end: Position, window: TailLine[]): Promise<void> {
    const name = headFileName(this.prefix);
    const text = await this.#io.readFile(join(this.dir, name));
    if (text === undefined) return;
    let head: Record<string, unknown>;
    try {
      head = JSON.parse(text.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw corrupt(`${name} is not valid JSON.`, { file: name });
    }
    const seq = head['seq'];
    if (typeof seq !== 'number') throw corrupt(`${name} holds no checkpoint.`, { file: name });
    if (seq > end.seq) {
      throw corrupt(`The trail ends at seq ${end.seq} but its head checkpoint (${name}) is seq ${seq}: records were removed (truncated). Run \`purposekit audit verify\`.`, { file: name, problem: 'truncated' });
    }
    const at = window.find((l) => l.record['seq'] === seq);
    if (at !== undefined && at.record['hash'] !== head['hash']) {
      throw corrupt(`The record at seq ${seq} differs from the head checkpoint (${name}): the trail was edited. Run \`purposekit audit verify\`.`, { file: name, problem: 'edited' });
    }
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
    if (this.#fd !== undefined) {
      const fd = this.#fd;
      this.#fd = undefined;
      await this.#io.close(fd).catch(() => undefined);
    }
    await this.#releaseLock();
    if (error !== undefined) throw error;
  }
}

function corrupt(message: string, details: Record<string, unknown>): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_AUDIT_CORRUPT', message, { details });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

function parseLine(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the end of a file of `size` bytes: the complete, parseable lines of the last
 * window, and where the torn part begins (bytes after the last newline, plus trailing
 * lines that are not JSON objects, e.g. zeros a power loss left). `tornStart === size`
 * when the file ends cleanly.
 */
async function readTail(io: AuditFileIo, fd: number, size: number): Promise<{ lines: TailLine[]; tornStart: number }> {
  let window = Math.min(size, TAIL_WINDOW);
  for (;;) {
    const base = size - window;
    const buf = Buffer.allocUnsafe(window);
    let got = 0;
    while (got < window) {
      const n = await io.read(fd, buf, got, window - got, base + got);
      if (n <= 0) break;
      got += n;
    }
    const bytes = buf.subarray(0, got);
    const lines: TailLine[] = [];
    let tornStart = size;
    let e = bytes.lastIndexOf(NL);
    if (e === -1) {
      if (base === 0) return { lines, tornStart: 0 };
      window = Math.min(size, window * 2);
      continue;
    }
    tornStart = base + e + 1;
    // Walk complete lines backwards; the first segment is whole only when base is 0.
    while (e >= 0) {
      const s = e === 0 ? -1 : bytes.lastIndexOf(NL, e - 1);
      if (s === -1 && base > 0) break;
      const record = parseLine(bytes.toString('utf8', s + 1, e));
      lines.unshift({ start: base + s + 1, end: base + e, record: record ?? {} });
      if (record === undefined && lines.length === 1) {
        // garbage at the very end: part of the torn region
        tornStart = base + s + 1;
        lines.shift();
      }
      e = s;
    }
    if (lines.length === 0 && base > 0) {
      window = Math.min(size, window * 2);
      continue;
    }
    return { lines, tornStart };
  }
}

async function quarantineBytes(io: AuditFileIo, dir: string, name: string, fd: number, from: number, to: number, at: Date): Promise<string> {
  const length = to - from;
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = await io.read(fd, buf, got, length - got, from + got);
    if (n <= 0) break;
    got += n;
  }
  let qname = '';
  let qfd: number | undefined;
  for (let attempt = 0; qfd === undefined; attempt++) {
    qname = quarantineFileName(name, at, attempt);
    try {
      qfd = await io.open(join(dir, qname), 'wx', 0o600);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST' || attempt >= 100) throw error;
    }
  }
  try {
    let off = 0;
    while (off < got) off += await io.write(qfd, buf, off, got - off, null);
    await io.fdatasync(qfd);
  } finally {
    await io.close(qfd);
  }
  await io.fsyncDir(dir);
  await io.ftruncate(fd, from);
  await io.fdatasync(fd);
  return qname;
}
