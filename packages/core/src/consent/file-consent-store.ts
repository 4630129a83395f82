/**
 * The embedded consent store: one JSON-lines file, appended with one fdatasync per
 * write batch (group commit), loaded on open, shared safely by several engine instances
 * on one machine.
 *
 * Why the file is the single source of truth: several processes append to it. A write
 * is never applied to memory directly; after its batch is durable the store reads the
 * file forward from where it last stopped, applying its own lines and those of other
 * instances in file order. So every instance sees the same "latest record wins" order,
 * and `facts()` picks up other instances' writes with one positional read at its
 * last offset (0 bytes back when nothing is new) before it answers: a withdrawal written by one instance takes effect on the
 * next decision of every other instance.
 *
 * Torn lines: each batch is written as ONE `write()` starting with a newline. A crash
 * mid-write can leave a fragment at the end of the file; the next batch's leading
 * newline isolates it on a line of its own, which fails to parse and is skipped with a
 * warning (a fragment was never acknowledged: acknowledgement follows the fdatasync).
 * A fragment still at the end of the file may be another instance's write in progress,
 * so reading stops before it until its newline arrives.
 */
import { closeSync, fdatasync, mkdirSync, openSync, readSync, write } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PurposekitError } from '../errors';
import { validateOptions } from '../options';
import { ConsentTables, validateConsentRecord } from './consent-store';
import type { ConsentRecord, ConsentStore, SubjectFacts } from './consent-store';

/** Options of {@link createFileConsentStore}. */
export interface FileConsentStoreOptions {
  /** The store file (JSON lines). Created with mode 0600 (its directory 0700) when missing. Required. */
  path: string;
  /**
   * Receives non-fatal findings (a torn or unreadable line that was skipped). Default:
   * `process.emitWarning` with code `PURPOSEKIT_WARN_CONSENT_STORE_TORN_LINE`.
   */
  onWarning?: (message: string, code: string) => void;
}

const FORMAT = 1;
const NEWLINE = 0x0a;

interface Pending {
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

type Line =
  | { v: 1; op: 'consent'; record: ConsentRecord }
  | { v: 1; op: 'objection'; subject: string; purpose: string; objected: boolean; at: string }
  | { v: 1; op: 'restriction'; subject: string; restricted: boolean; at: string }
  | { v: 1; op: 'erasure'; subject: string; erased: boolean; at: string };

function fileError(path: string, cause: unknown, what: string): PurposekitError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `The consent store ${path} could not be ${what}${code ? ` (${code})` : ''}.`, {
    cause,
    details: { path, ...(code !== undefined ? { code } : {}) },
  });
}

function checkId(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    throw new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', `"${field}" must be a non-empty string of at most 256 characters.`, { details: { field } });
  }
}

/**
 * A consent store backed by one append-only JSON-lines file. Create it with
 * {@link createFileConsentStore}. `facts()` and `history()` answer synchronously;
 * writes resolve once durable (after the fdatasync of their batch).
 */
export class FileConsentStore implements ConsentStore {
  /** Absolute path of the store file. */
  readonly path: string;
  readonly #tables = new ConsentTables();
  readonly #onWarning: (message: string, code: string) => void;
  #fd: number;
  #offset = 0;
  readonly #probe = Buffer.allocUnsafe(64 * 1024);
  #queue: Pending[] = [];
  #writing = false;
  #drained: Array<() => void> = [];
  #closed = false;

  /** @internal use {@link createFileConsentStore} */
  constructor(path: string, onWarning: (message: string, code: string) => void) {
    this.path = path;
    this.#onWarning = onWarning;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // a+: O_APPEND for writes (each batch lands whole at the end, even with other
      // writers), positional reads for catching up.
      this.#fd = openSync(path, 'a+', 0o600);
    } catch (cause) {
      throw fileError(path, cause, 'opened');
    }
    this.#catchUp();
  }

  /** Facts for one subject and purpose, after reading any lines other instances appended. */
  facts(subject: string, purpose: string): SubjectFacts {
    this.#catchUp();
    return this.#tables.facts(subject, purpose);
  }

  /**
   * Appends a consent answer; resolves once it is durable and visible to `facts()`.
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_BAD_REQUEST for a malformed record,
   *   PURPOSEKIT_ERR_FILE_ACCESS when the file cannot be written.
   */
  setConsent(record: ConsentRecord): Promise<void> {
    let valid: ConsentRecord;
    try {
      valid = validateConsentRecord(record);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append({ v: FORMAT, op: 'consent', record: valid });
  }

  /** Appends an objection (or its lifting). Same durability and errors as {@link setConsent}. */
  setObjection(subject: string, purpose: string, objected: boolean): Promise<void> {
    try {
      checkId(subject, 'subject');
      checkId(purpose, 'purpose');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append({ v: FORMAT, op: 'objection', subject, purpose, objected: objected === true, at: new Date().toISOString() });
  }

  /** Appends a restriction (or its lifting). Same durability and errors as {@link setConsent}. */
  setRestriction(subject: string, restricted: boolean): Promise<void> {
    try {
      checkId(subject, 'subject');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append({ v: FORMAT, op: 'restriction', subject, restricted: restricted === true, at: new Date().toISOString() });
  }

  /** Appends an erasure mark (or its lifting). Same durability and errors as {@link setConsent}. */
  setErased(subject: string, erased: boolean): Promise<void> {
    try {
      checkId(subject, 'subject');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#append({ v: FORMAT, op: 'erasure', subject, erased: erased === true, at: new Date().toISOString() });
  }

  /** Every consent record of the subject, oldest first (file order). */
  history(subject: string): readonly ConsentRecord[] {
    this.#catchUp();
    return this.#tables.history(subject);
  }

  /** Waits for queued writes, then closes the file. Later calls throw PURPOSEKIT_ERR_FILE_ACCESS. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#writing) await new Promise<void>((r) => this.#drained.push(r));
    closeSync(this.#fd);
  }

  #append(line: Line): Promise<void> {
    if (this.#closed) return Promise.reject(fileError(this.path, undefined, 'written: it is closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ line: JSON.stringify(line), resolve, reject });
      if (!this.#writing) this.#flush();
    });
  }

  // Group commit: whatever queued while a batch was in flight goes out as the next
  // batch, in one write and one fdatasync.
  #flush(): void {
    this.#writing = true;
    const batch = this.#queue;
    this.#queue = [];
    const data = Buffer.from(`\n${batch.map((p) => p.line).join('\n')}\n`, 'utf8');
    const done = (error: unknown): void => {
      if (error === undefined) {
        try {
          this.#catchUp();
        } catch (e) {
          error = e;
        }
      }
      for (const p of batch) {
        if (error === undefined) p.resolve();
        else p.reject(error instanceof PurposekitError ? error : fileError(this.path, error, 'written'));
      }
      if (this.#queue.length > 0) this.#flush();
      else {
        this.#writing = false;
        for (const r of this.#drained.splice(0)) r();
      }
    };
    const writeFrom = (start: number): void => {
      write(this.#fd, data, start, data.length - start, null, (err, written) => {
        if (err) return done(err);
        if (start + written < data.length) return writeFrom(start + written);
        fdatasync(this.#fd, (syncErr) => done(syncErr ?? undefined));
      });
    };
    writeFrom(0);
  }

  #catchUp(): void {
    if (this.#closed && !this.#writing) throw fileError(this.path, undefined, 'read: it is closed');
    // One positional read at the known end: 0 bytes back (the common case) means nothing
    // new, without the cost of an fstat (which allocates a Stats object, ≈ 1 µs).
    const chunks: Buffer[] = [];
    let got = 0;
    try {
      for (;;) {
        const n = readSync(this.#fd, this.#probe, 0, this.#probe.length, this.#offset + got);
        if (n === 0) break;
        chunks.push(Buffer.from(this.#probe.subarray(0, n)));
        got += n;
      }
    } catch (cause) {
      throw fileError(this.path, cause, 'read');
    }
    if (got === 0) return;
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got);
    const end = buf.lastIndexOf(NEWLINE, got - 1);
    if (end < 0) return; // only a fragment so far: wait for its newline
    let start = 0;
    while (start <= end) {
      const nl = buf.indexOf(NEWLINE, start);
      if (nl > start) this.#apply(buf.toString('utf8', start, nl), this.#offset + start);
      start = nl + 1;
    }
    this.#offset += end + 1;
  }

  #apply(text: string, at: number): void {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
      if (typeof line !== 'object' || line === null || line.v !== FORMAT) throw new Error('not a version 1 line');
      switch (line.op) {
        case 'consent':
          this.#tables.consent(validateConsentRecord(line.record));
          return;
        case 'objection':
          checkId(line.subject, 'subject');
          checkId(line.purpose, 'purpose');
          this.#tables.objection(line.subject, line.purpose, line.objected === true);
          return;
        case 'restriction':
          checkId(line.subject, 'subject');
          this.#tables.restriction(line.subject, line.restricted === true);
          return;
        case 'erasure':
          checkId(line.subject, 'subject');
          this.#tables.erasure(line.subject, line.erased === true);
          return;
        default:
          throw new Error('unknown op');
      }
    } catch {
      // Never the line's content: it holds subject ids.
      this.#onWarning(`Consent store ${this.path}: skipped an unreadable line at byte ${at} (a write torn by a crash, never acknowledged).`, 'PURPOSEKIT_WARN_CONSENT_STORE_TORN_LINE');
    }
  }
}

/**
 * Opens (or creates) the embedded consent store: the default for apps. The whole file
 * is read once here; afterwards each `facts()` call checks the file size and reads
 * only what other instances appended.
 *
 * @example
 * const kit = createPurposekit({ policy, audit, subjectKey,
 *   consentStore: createFileConsentStore({ path: 'var/consent.jsonl' }) });
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options;
 *   PURPOSEKIT_ERR_FILE_ACCESS when the file cannot be created or read.
 */
export function createFileConsentStore(options: FileConsentStoreOptions): FileConsentStore {
  const opts = validateOptions<FileConsentStoreOptions>(
    'createFileConsentStore()',
    options,
    { path: { kind: 'non-empty-string', required: true, expected: 'a file path' }, onWarning: 'function' },
    { optional: false, usage: '{ path }' },
  );
  const onWarning = opts.onWarning ?? ((message: string, code: string) => process.emitWarning(message, { code }));
  return new FileConsentStore(resolve(opts.path), onWarning);
}
