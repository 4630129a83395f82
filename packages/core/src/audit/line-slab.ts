/**
 * The file sink's line encoder: writes each record's line, UTF-8, straight into a large
 * append-only buffer (a slab), so that a batch of consecutive lines is one slice of it —
 * no per-batch string concatenation, no `Buffer.from` of a rope of thousands of lines, no
 * `Buffer.byteLength` per record. The event's body is encoded once: SHA-256 runs over
 * the body's bytes in the slab, then the `"hash":"…",` member is slid into place.
 *
 * The bytes are exactly `Buffer.from(lineOf(before, hash, after) + '\n')` with the parts
 * of {@link encodeEventParts}; a property test (line-slab.test.ts) checks them against
 * the `canonicalize` package over generated events. A slab is never written twice:
 * a full one is left to the garbage collector once no queued record refers to it.
 */
import { encodeEventAfter, encodeEventBefore, sha256HexOf } from './encode';
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

export class LineSlab {
  /** The slab that holds the last line written. */
  buf: Buffer;
  /** Where the last line starts in {@link buf}. */
  start = 0;
  /** Where the last line ends (exclusive); the next one starts here. */
  end = 0;
  readonly #size: number;

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
    const before = encodeEventBefore(event);
    const after = encodeEventAfter(event, seq, ts, prev);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.#reserve(3 * (before.length + after.length) + HASH_MEMBER + 3);
    const buf = this.buf;
    const start = this.end;
    buf[start] = OPEN;
    const afterAt = start + 1 + buf.write(before, start + 1);
    let p = afterAt + buf.write(after, afterAt);
    buf[p++] = CLOSE;
    // The hashed form is the record without "hash": `{before after}`, exactly these bytes.
    const hash = sha256HexOf(buf.subarray(start, p));
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
