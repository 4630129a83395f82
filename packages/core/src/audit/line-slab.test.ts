// Differential test of the writer's line encoder: what LineSlab writes must be, byte for
// byte, the RFC 8785 line the canonicalize package makes of the record, and the hash
// SHA-256 over the canonical record without "hash" (oracle: canonicalize + createHash,
// no purposekit encoding code).
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { AuditLineEncoder, LineSlab } from './line-slab';
import { eventArb, text } from './__tests__/arbitraries';
import { accessEvent, pseudonymize } from './__tests__/helpers';
import type { AuditEventInput } from './types';

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

  const oneFieldChanged: fc.Arbitrary<(e: AuditEventInput) => AuditEventInput> = fc.oneof(
    fc.tuple(fc.constantFrom('action', 'actor', 'basis', 'purpose', 'reason', 'recipient'), fc.option(text, { nil: undefined })).map(
      ([field, value]) =>
        (e: AuditEventInput) => {
          const out = { ...e } as Record<string, unknown>;
          if (value === undefined) delete out[field];
          else out[field] = value;
          return out as unknown as AuditEventInput;
        },
    ),
    fc.constantFrom('access', 'consent', 'age-gate', 'rights').map((kind) => (e: AuditEventInput) => ({ ...e, kind: kind as AuditEventInput['kind'] })),
    fc.constantFrom('allow' as const, 'deny' as const).map((decision) => (e: AuditEventInput) => ({ ...e, decision })),
    text.map((version) => (e: AuditEventInput) => ({ ...e, policy: { id: e.policy.id, version } })),
    text.map((id) => (e: AuditEventInput) => ({ ...e, policy: { id, version: e.policy.version } })),
    fc.array(text, { maxLength: 3 }).map((data) => (e: AuditEventInput) => ({ ...e, data })),
  );

  it('stays exact when records repeat a few shapes (the kept bytes are reused) and differ in requestId, subject and attributes', () => {
    const noAttributes = eventArb.map((e) => {
      const { attributes: _a, ...rest } = e;
      return rest as AuditEventInput;
    });
    const step = fc.record({ shape: fc.nat(), requestId: fc.option(text, { nil: undefined }), subject: fc.integer({ min: 0, max: 3 }), attributes: fc.boolean() });
    fc.assert(
      fc.property(noAttributes, fc.array(oneFieldChanged, { maxLength: 3 }), fc.array(step, { minLength: 1, maxLength: 40 }), (base, changes, steps) => {
        // shapes that differ from the first in one field each: a reused byte range the field belongs to shows
        const shapes = [base, ...changes.map((change) => change(base))];
        const slab = new LineSlab(2048);
        let prev = GENESIS;
        steps.forEach((s, i) => {
          const event: AuditEventInput = { ...shapes[s.shape % shapes.length]!, subject: pseudonymize(`s${s.subject}`) };
          if (s.requestId === undefined) delete (event as { requestId?: string }).requestId;
          else event.requestId = s.requestId;
          if (s.attributes) event.attributes = { gate: 'x' };
          const ts = new Date(Date.UTC(2026, 0, 31) + i).toISOString();
          const hash = slab.event(event, i + 1, ts, prev);
          const record = { ...event, v: 1, seq: i + 1, ts, prev };
          expect(hash).toBe(sha256(canonicalize(record)!));
          expect(slab.buf.subarray(slab.start, slab.end).toString('utf8')).toBe(`${canonicalize({ ...record, hash })!}\n`);
          prev = hash;
        });
      }),
      { seed: 0x5a9e, numRuns: 300 },
    );
  });

  it('a data array changed by its caller after an append is encoded as it is now, not as it was', () => {
    const slab = new LineSlab();
    const data = ['email', 'name'];
    const event = accessEvent(1, { data });
    const prev = slab.event(event, 1, '2026-01-31T00:00:00.000Z', GENESIS);
    data[1] = 'phone';
    const hash = slab.event(event, 2, '2026-01-31T00:00:00.000Z', prev);
    const record = { ...event, data: ['email', 'phone'], v: 1, seq: 2, ts: '2026-01-31T00:00:00.000Z', prev };
    expect(slab.buf.subarray(slab.start, slab.end).toString('utf8')).toBe(`${canonicalize({ ...record, hash })!}\n`);
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

describe('AuditLineEncoder', () => {
  // A step of a generated run: an event record, a ready-made line (a checkpoint's text),
  // a take() that ends the batch, or a discard() that drops it.
  type Step = { op: 'event'; event: AuditEventInput } | { op: 'line'; text: string } | { op: 'take' } | { op: 'discard' };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 8, arbitrary: eventArb.map((event) => ({ op: 'event' as const, event })) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 300 }).filter((t) => !t.includes('\n')).map((t) => ({ op: 'line' as const, text: JSON.stringify({ cp: t }) })) },
    { weight: 2, arbitrary: fc.constant({ op: 'take' as const }) },
    { weight: 1, arbitrary: fc.constant({ op: 'discard' as const }) },
  );

  it('take() returns exactly the batch\'s canonical lines joined by LF, across slab boundaries, and a taken batch never changes', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1024, max: 4096 }), (steps, slabBytes) => {
        const enc = new AuditLineEncoder(slabBytes);
        let prev = GENESIS;
        let seq = 0;
        let expected: string[] = [];
        const taken: Array<{ bytes: Buffer; text: string }> = [];
        const check = (): void => {
          const bytes = enc.take();
          const text = expected.join('\n');
          expect(bytes.toString('utf8')).toBe(text);
          taken.push({ bytes, text });
          expected = [];
        };
        for (const step of [...steps, { op: 'take' as const }]) {
          if (step.op === 'event') {
            seq++;
            const ts = new Date(Date.UTC(2026, 0, 31) + seq).toISOString();
            const hash = enc.event(step.event, seq, ts, prev);
            const record = { ...step.event, v: 1, seq, ts, prev };
            expect(hash).toBe(sha256(canonicalize(record)!));
            expected.push(canonicalize({ ...record, hash })!);
            prev = hash;
          } else if (step.op === 'line') {
            enc.line(step.text);
            expected.push(step.text);
          } else if (step.op === 'take') check();
          else {
            enc.discard();
            expected = [];
          }
          expect(enc.lines).toBe(expected.length);
        }
        for (const t of taken) expect(t.bytes.toString('utf8')).toBe(t.text);
      }),
      { seed: 0xe1c0, numRuns: 300 },
    );
  });

  it('an empty batch is an empty buffer; a one-line batch has no LF', () => {
    const enc = new AuditLineEncoder();
    expect(enc.take().length).toBe(0);
    enc.line('{"a":1}');
    expect(enc.take().toString('utf8')).toBe('{"a":1}');
    expect(enc.lines).toBe(0);
  });

  it('a batch spanning two slabs comes back whole, in order', () => {
    const enc = new AuditLineEncoder(1024);
    const lines = Array.from({ length: 12 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(150) }));
    for (const l of lines) enc.line(l);
    expect(enc.take().toString('utf8')).toBe(lines.join('\n'));
  });

  it('refuses a slab size that is not an integer of at least 1024', () => {
    for (const bad of [0, 1023, 1.5, Number.NaN]) expect(() => new AuditLineEncoder(bad)).toThrow(RangeError);
  });
});
