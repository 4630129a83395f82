// Differential test of the writer's line encoder: what LineSlab writes must be, byte for
// byte, the RFC 8785 line the canonicalize package makes of the record, and the hash
// SHA-256 over the canonical record without "hash" (oracle: canonicalize + createHash,
// no purposekit encoding code).
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { LineSlab } from './line-slab';
import { eventArb } from './__tests__/arbitraries';
import { accessEvent } from './__tests__/helpers';

const sha256 = (text: string): string => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
const GENESIS = '0'.repeat(64);

describe('LineSlab', () => {
  it('writes exactly the canonical line and returns the canonical hash, for chains of generated events across slab boundaries', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 64, max: 4096 }), fc.integer({ min: 1, max: 2 ** 40 }), (events, slabBytes, firstSeq) => {
        const slab = new LineSlab(slabBytes);
        let prev = GENESIS;
        const written: Array<{ buf: Buffer; start: number; end: number; expected: Buffer }> = [];
        events.forEach((event, i) => {
          const seq = firstSeq + i;
          const ts = new Date(Date.UTC(2026, 0, 31) + i * 7).toISOString();
          const hash = slab.event(event, seq, ts, prev);
          const record = { ...event, v: 1, seq, ts, prev };
          expect(hash).toBe(sha256(canonicalize(record)!));
          const expected = Buffer.from(`${canonicalize({ ...record, hash })!}\n`, 'utf8');
          expect(slab.buf.subarray(slab.start, slab.end).equals(expected)).toBe(true);
          written.push({ buf: slab.buf, start: slab.start, end: slab.end, expected });
          prev = hash;
        });
        // a later line never overwrites an earlier one (batches are slices of the slab)
        for (const w of written) expect(w.buf.subarray(w.start, w.end).equals(w.expected)).toBe(true);
      }),
      { seed: 0x51ab, numRuns: 300 },
    );
  });

  it('lays consecutive lines end to end in one slab until it is full, then starts a new one', () => {
    const slab = new LineSlab(4096);
    const first = slab.buf;
    let prev = GENESIS;
    const ends: number[] = [];
    for (let i = 1; slab.buf === first; i++) {
      const start = slab.end;
      prev = slab.event(accessEvent(i), i, '2026-01-31T00:00:00.000Z', prev);
      if (slab.buf === first) {
        expect(slab.start).toBe(start);
        ends.push(slab.end);
      }
    }
    expect(ends.length).toBeGreaterThan(3);
    expect(slab.start).toBe(0); // the line that did not fit went to the start of a new slab
  });

  it('a line longer than the slab size gets a slab of its own size', () => {
    const slab = new LineSlab(64);
    const event = accessEvent(1, { attributes: { note: 'é'.repeat(200) } });
    const hash = slab.event(event, 1, '2026-01-31T00:00:00.000Z', GENESIS);
    const record = { ...event, v: 1, seq: 1, ts: '2026-01-31T00:00:00.000Z', prev: GENESIS };
    expect(slab.buf.subarray(slab.start, slab.end).toString('utf8')).toBe(`${canonicalize({ ...record, hash })!}\n`);
  });

  it('line() appends a ready-made line (a checkpoint) and its LF', () => {
    const slab = new LineSlab(128);
    slab.line('{"a":"日本"}');
    expect(slab.buf.subarray(slab.start, slab.end).toString('utf8')).toBe('{"a":"日本"}\n');
    slab.line('x'.repeat(300));
    expect(slab.buf.subarray(slab.start, slab.end).toString('utf8')).toBe(`${'x'.repeat(300)}\n`);
  });
});
