import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { AUDIT_GENESIS_HASH, bodyOf, encodeEventParts, hashAuditRecord, lineOf, sealAuditLine, sealAuditRecord, sha256Hex } from './encode';
import { eventArb } from './__tests__/arbitraries';
import { accessEvent } from './__tests__/helpers';
import { validateAuditEvent } from './validate';

const reference = (text: string): string => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

describe('canonical encoding (RFC 8785)', () => {
  it('the fast encoder produces exactly what the canonicalize package produces, with and without hash', () => {
    fc.assert(
      fc.property(eventArb, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (event, seq, prevRaw) => {
        const prev = prevRaw.toLowerCase();
        const ts = '2026-01-31T12:34:56.789Z';
        const record = { ...event, v: 1, seq, ts, prev };
        const [before, after] = encodeEventParts(event, seq, ts, prev);
        const body = bodyOf(before, after);
        expect(body).toBe(canonicalize(record));
        const hash = reference(body);
        expect(lineOf(before, hash, after)).toBe(canonicalize({ ...record, hash }));
      }),
      { seed: 0x5eed, numRuns: 400 },
    );
  });

  it('the hash is SHA-256 over the UTF-8 bytes of the canonical record without "hash"', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        const record = sealAuditRecord(event, { seq: 7, ts: '2026-01-31T00:00:00.000Z', prev: AUDIT_GENESIS_HASH });
        const { hash, ...rest } = record as unknown as Record<string, unknown>;
        expect(hash).toBe(reference(canonicalize(rest)!));
        expect(hashAuditRecord(record as unknown as Record<string, unknown>)).toBe(hash);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('sealAuditLine gives the canonical text of the record sealAuditRecord builds, and its hash', () => {
    fc.assert(
      fc.property(eventArb, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (event, seq) => {
        const chain = { seq, ts: '2026-02-28T23:59:59.999Z', prev: AUDIT_GENESIS_HASH };
        const { line, hash } = sealAuditLine(event, chain);
        const record = { ...event, v: 1, ...chain };
        expect(hash).toBe(reference(canonicalize(record)!));
        expect(line).toBe(canonicalize({ ...record, hash }));
        expect(JSON.parse(line)).toEqual({ ...sealAuditRecord(event, chain) });
      }),
      { seed: 0x11ae, numRuns: 200 },
    );
  });

  it('sha256Hex matches createHash for ASCII, multi-byte and astral text', () => {
    for (const s of ['', 'abc', 'é€日', '😀😀', 'x'.repeat(10_000)]) expect(sha256Hex(s)).toBe(reference(s));
  });

  it('the genesis hash is 64 zeros', () => {
    expect(AUDIT_GENESIS_HASH).toBe('0000000000000000000000000000000000000000000000000000000000000000');
  });

  it('sealed records keep their fields, omit absent ones, and chain through prev', () => {
    const first = sealAuditRecord(accessEvent(1), { seq: 1, ts: '2026-01-31T00:00:00.000Z', prev: AUDIT_GENESIS_HASH });
    const second = sealAuditRecord({ kind: 'consent', policy: { id: 'p', version: '1' } }, { seq: 2, ts: '2026-01-31T00:00:00.001Z', prev: first.hash });
    expect(first).toMatchObject({ v: 1, seq: 1, kind: 'access', actor: 'svc:accounts', data: ['email', 'name'], prev: AUDIT_GENESIS_HASH });
    expect(Object.keys(second).sort()).toEqual(['hash', 'kind', 'policy', 'prev', 'seq', 'ts', 'v']);
    expect(second.prev).toBe(first.hash);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('every generated event passes validation (the property above covers real events)', () => {
    fc.assert(
      fc.property(eventArb, (event) => {
        expect(() => validateAuditEvent(event, Date.UTC(2026, 0, 31))).not.toThrow();
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
