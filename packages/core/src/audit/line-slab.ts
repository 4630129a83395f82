/**
 * The file sink's line encoder: writes each record's line, UTF-8, straight into a large
 * append-only buffer (a slab), so that a batch of consecutive lines is one slice of it —
 * no per-batch string concatenation, no `Buffer.from` of a rope of thousands of lines, no
 * `Buffer.byteLength` per record. The event's body is encoded once: SHA-256 runs over
 * the body's bytes in the slab, then the `"hash":"…",` member is slid into place.
 *
 * Consecutive records of one route differ only in requestId, seq, subject, ts and prev:
 * the bytes of the rest (everything up to `prev`'s value, and from there to `requestId`)
 * are kept from the last record and copied when the next one has the same values.
 *
 * The bytes are exactly `Buffer.from(lineOf(before, hash, after) + '\n')` with the parts
 * of {@link encodeEventParts}; a property test (line-slab.test.ts) checks them against
 * the `canonicalize` package over generated chains of events. A slab is never written
 * twice: a full one is left to the garbage collector once no queued record refers to it.
 */
import { encodeEventBefore, encodeEventMiddle, encodeEventPrefix, encodeEventTail, sha256HexOf } from './encode';
import type { AuditEventInput } from './types';

/** `"hash":"` + 64 hex + `",` */
const HASH_MEMBER = 74;
const HASH_PREFIX = Buffer.from('"hash":"', 'latin1');
const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
/** Default slab size: about 2,000 access records. */
export const DEFAULT_SLAB_BYTES = 1 << 20;

/** The values the kept bytes were made from (never attributes: those records are encoded in full). */
interface Shape {
  readonly kind: string;
  readonly action: string | undefined;
  readonly actor: string | undefined;
  readonly basis: string | undefined;
  /** A copy: the caller may change its array later. */
  readonly data: readonly string[] | undefined;
  readonly decision: string | undefined;
  readonly policyId: string;
  readonly policyVersion: string;
  readonly purpose: string | undefined;
  readonly reason: string | undefined;
  readonly recipient: string | undefined;
  /** `{` + before + prefix: the line up to `prev`'s value, without the hash member. */
  readonly head: Buffer;
  /** Where `after` (`"kind":…`) starts in {@link head}. */
  readonly afterAt: number;
  /** From after `prev`'s value up to `requestId`. */
  readonly middle: Buffer;
}

function sameData(kept: readonly string[] | undefined, data: readonly string[] | undefined): boolean {
  if (kept === undefined || data === undefined) return kept === data;
  if (kept.length !== data.length) return false;
  for (let i = 0; i < kept.length; i++) if (kept[i] !== data[i]) return false;
  return true;
}

function sameShape(k: Shape, e: AuditEventInput): boolean {
  return (
    e.attributes === undefined &&
    k.kind === e.kind &&
    k.action === e.action &&
    k.actor === e.actor &&
    k.basis === e.basis &&
    k.decision === e.decision &&
    k.policyId === e.policy.id &&
    k.policyVersion === e.policy.version &&
    k.purpose === e.purpose &&
    k.reason === e.reason &&
    k.recipient === e.recipient &&
    sameData(k.data, e.data)
  );
}

export class LineSlab {
  /** The slab that holds the last line written. */
  buf: Buffer;
  /** Where the last line starts in {@link buf}. */
  start = 0;
  /** Where the last line ends (exclusive); the next one starts here. */
  end = 0;
  readonly #size: number;
  #shape: Shape | undefined;

  constructor(size = DEFAULT_SLAB_BYTES) {
    this.#size = size;
    this.buf = Buffer.allocUnsafeSlow(size);
  }

  /** Makes room for `bytes` more bytes, starting a new slab when this one is too full. */
  #reserve(bytes: number): void {
    if (this.end + bytes <= this.buf.length) return;
    this.buf = Buffer.allocUnsafeSlow(Math.max(this.#size, bytes));
    this.end = 0;
  }

  /**
   * Encodes an event record's line (with its LF) at the end of the slab and returns the
   * record's hash; the line is `buf[start, end)`. Only for validated events.
   */
  event(event: AuditEventInput, seq: number, ts: string, prev: string): string {
    const tail = encodeEventTail(event, seq, ts);
    let shape = this.#shape;
    let start: number;
    let p: number;
    let afterAt: number;
    let buf: Buffer;
    if (shape !== undefined && sameShape(shape, event)) {
      // UTF-8 takes at most 3 bytes per UTF-16 code unit.
      this.#reserve(shape.head.length + 64 + shape.middle.length + 3 * tail.length + HASH_MEMBER + 2);
      buf = this.buf;
      start = this.end;
      afterAt = start + shape.afterAt;
      p = start + shape.head.copy(buf, start);
      p += buf.write(prev, p, 'latin1');
      p += shape.middle.copy(buf, p);
    } else {
      const before = encodeEventBefore(event);
      const prefix = encodeEventPrefix(event);
      const middle = encodeEventMiddle(event);
      this.#reserve(3 * (before.length + prefix.length + middle.length + tail.length) + 64 + HASH_MEMBER + 3);
      buf = this.buf;
      start = this.end;
      buf[start] = OPEN;
      afterAt = start + 1 + buf.write(before, start + 1);
      p = afterAt + buf.write(prefix, afterAt);
      const headEnd = p;
      p += buf.write(prev, p, 'latin1');
      const middleStart = p;
      p += buf.write(middle, p);
      if (event.attributes === undefined) {
        shape = {
          kind: event.kind,
          action: event.action,
          actor: event.actor,
          basis: event.basis,
          data: event.data === undefined ? undefined : event.data.slice(),
          decision: event.decision,
          policyId: event.policy.id,
          policyVersion: event.policy.version,
          purpose: event.purpose,
          reason: event.reason,
          recipient: event.recipient,
          head: Buffer.from(buf.subarray(start, headEnd)),
          afterAt: afterAt - start,
          middle: Buffer.from(buf.subarray(middleStart, p)),
        };
        this.#shape = shape;
      }
    }
    p += buf.write(tail, p);
    buf[p++] = CLOSE;
    // The hashed form is the record without "hash": `{before after}`, exactly these bytes.
    const hash = sha256HexOf(buf.subarray(start, p));
    // Slide `after}` right to make room for the hash member, which sorts between the two.
    buf.copyWithin(afterAt + HASH_MEMBER, afterAt, p);
    HASH_PREFIX.copy(buf, afterAt);
    buf.write(hash, afterAt + 8, 'latin1');
    buf[afterAt + 72] = QUOTE;
    buf[afterAt + 73] = COMMA;
    p += HASH_MEMBER;
    buf[p++] = LF;
    this.start = start;
    this.end = p;
    return hash;
  }

  /** Writes a ready-made line (a checkpoint's) and its LF at the end of the slab. */
  line(text: string): void {
    this.#reserve(3 * text.length + 1);
    const start = this.end;
    const p = start + this.buf.write(text, start);
    this.buf[p] = LF;
    this.start = start;
    this.end = p + 1;
  }
}

/**
 * Encodes a batch of audit records as the UTF-8 bytes a store keeps: each record's line
 * (its RFC 8785 form, exactly the `line` of `sealAuditLine`), one after another, separated
 * by LF. For sinks that hand a whole batch to their store at once (the PostgreSQL sink
 * sends it as one parameter): no per-record string, no join, no re-encoding; the bytes
 * are the file sink's, written by the same slab encoder.
 *
 * ```ts
 * const enc = new AuditLineEncoder();
 * const h1 = enc.event(e1, 1, ts, AUDIT_GENESIS_HASH);
 * const h2 = enc.event(e2, 2, ts, h1);
 * const bytes = enc.take(); // line 1 + "\n" + line 2 (no final LF)
 * ```
 *
 * Only for events that passed `validateAuditEvent`. The buffer `take()` returns is never
 * written again by the encoder.
 */
export class AuditLineEncoder {
  readonly #slab: LineSlab;
  /** Earlier slabs' parts of the batch (each ends with its LF). */
  #parts: Buffer[] = [];
  /** The slab holding the batch's latest line, and where the batch starts in it. */
  #buf: Buffer | undefined;
  #from = 0;
  #endBefore = 0;
  #lines = 0;

  /** @param slabBytes size of each slab (default 1 MiB, about 2,000 access records). */
  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes < 1024) throw new RangeError('AuditLineEncoder: slabBytes must be an integer of at least 1024.');
    this.#slab = new LineSlab(slabBytes);
  }

  /** Lines encoded since the last {@link take} or {@link discard}. */
  get lines(): number {
    return this.#lines;
  }

  #before(): void {
    const slab = this.#slab;
    if (this.#buf === undefined) {
      this.#buf = slab.buf;
      this.#from = slab.end;
    }
    this.#endBefore = slab.end;
  }

  #after(): void {
    const slab = this.#slab;
    this.#lines++;
    if (slab.buf === this.#buf) return;
    // The line did not fit: it starts a new slab; the batch so far stays in the old one.
    if (this.#endBefore > this.#from) this.#parts.push(this.#buf!.subarray(this.#from, this.#endBefore));
    this.#buf = slab.buf;
    this.#from = slab.start;
  }

  /**
   * Encodes the record of a validated event with its chain position as the next line.
   * @returns the record's chain hash (the `prev` of the next record).
   */
  event(event: AuditEventInput, seq: number, ts: string, prev: string): string {
    this.#before();
    const hash = this.#slab.event(event, seq, ts, prev);
    this.#after();
    return hash;
  }

  /** Adds a ready-made line (a checkpoint's canonical text, without LF). */
  line(text: string): void {
    this.#before();
    this.#slab.line(text);
    this.#after();
  }

  /** The batch's bytes (lines separated by LF, no final LF), and starts a new batch. */
  take(): Buffer {
    const buf = this.#buf;
    if (buf === undefined) return Buffer.alloc(0);
    const last = buf.subarray(this.#from, this.#slab.end - 1);
    const out = this.#parts.length === 0 ? last : Buffer.concat([...this.#parts, last]);
    this.discard();
    return out;
  }

  /** Drops the batch (its bytes stay unused in the slab) and starts a new one. */
  discard(): void {
    this.#parts = [];
    this.#buf = undefined;
    this.#lines = 0;
  }
}
