import { nextRequestId, setRequestIdCounterForTest } from './request-id';

const UUID_V4_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('default request ids', () => {
  test('are UUID-shaped (v4 version and variant bits) and never repeat within a process', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = nextRequestId();
      expect(id).toMatch(UUID_V4_SHAPE);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });

  test('draw a new random prefix before the 48-bit counter wraps (no id comes back)', () => {
    const before = nextRequestId();
    setRequestIdCounterForTest(0xffff_ffff_fffe);
    const last = nextRequestId();
    expect(last.slice(24)).toBe('ffffffffffff');
    expect(last.slice(0, 24)).toBe(before.slice(0, 24));
    const renewed = nextRequestId();
    expect(renewed).toMatch(UUID_V4_SHAPE);
    expect(renewed.slice(24)).toBe('000000000001');
    expect(renewed.slice(0, 24)).not.toBe(before.slice(0, 24));
    expect(renewed).not.toBe(before);
  });

  test('the last 12 hex digits are the counter, zero-padded, across every carry of the cached head', () => {
    // The oracle formats the counter with BigInt, independently of the table the ids use.
    const hex12 = (n: bigint): string => n.toString(16).padStart(12, '0');
    for (const start of [0, 1, 254, 255, 256, 0xfffe, 0xffff_ff00, 0x0fff_ffff_ff00, 0xffff_ffff_fd00]) {
      setRequestIdCounterForTest(start);
      const prefix = nextRequestId().slice(0, 24);
      for (let k = 2n; k <= 600n; k++) {
        const id = nextRequestId();
        expect(id.slice(0, 24)).toBe(prefix);
        const want = hex12(BigInt(start) + k);
        if (id.slice(24) !== want) expect(`${start}+${k}: ${id.slice(24)}`).toBe(`${start}+${k}: ${want}`);
      }
    }
  });
});

