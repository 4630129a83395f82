/**
 * Default request ids: UUID-shaped (8-4-4-4-12 hex), unique without a random draw per
 * request. Each process draws 74 random bits once (`crypto.randomUUID()`'s first 23
 * characters: the version and variant bits stay those of a v4 UUID), and the last
 * 12 hex digits count requests. A new prefix is drawn before the 48-bit counter would
 * wrap, so two ids of one process never repeat, and two processes collide only if their
 * random prefixes do (74 bits). About 3× cheaper than `randomUUID()` per request.
 *
 * Not secret, not unguessable: ids of one process are sequential (like most
 * correlation ids). Pass `requestId: () => crypto.randomUUID()` to `createPurposekit()`
 * when ids are exposed and must not reveal request volume.
 */
import { randomUUID } from 'node:crypto';

const COUNTER_LIMIT = 0xffff_ffff_ffff; // 48 bits

// The last two hex digits of an id, one lookup: the first 34 characters change only once
// every 256 ids, so formatting the counter costs a concatenation (≈ 70 ns instead of
// ≈ 120–170 ns for toString(16) + padStart on Node 24: tools/bench/hotpath.bench.cjs).
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

let prefix = '';
let counter = COUNTER_LIMIT;
/** `prefix` and the counter's first 10 hex digits; `''` when it must be recomputed. */
let head = '';

/** @internal The next default request id. */
export function nextRequestId(): string {
  if (counter >= COUNTER_LIMIT) {
    prefix = randomUUID().slice(0, 24); // "xxxxxxxx-xxxx-4xxx-yxxx-"
    counter = 0;
    head = '';
  }
  counter++;
  const low = counter % 256;
  if (low === 0 || head === '') head = prefix + Math.floor(counter / 256).toString(16).padStart(10, '0');
  return head + HEX2[low]!;
}

/** @internal Test seam: the counter's position (to check the prefix renewal). */
export function setRequestIdCounterForTest(value: number): void {
  counter = value;
  head = '';
}
