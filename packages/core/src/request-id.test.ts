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
});
