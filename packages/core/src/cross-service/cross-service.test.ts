import { definePolicy } from '../policy/define-policy';
import { mergeBaggage, PURPOSE_BAGGAGE_KEYS, readPurposeBaggage, resolveCrossService, signPurpose, verifyInbound } from './cross-service';

const policy = definePolicy({
  id: 'b', version: '1', jurisdictions: ['US'], rights: { honoured: [] },
  purposes: { analytics: { basis: 'legitimate-interests', data: ['usage-data'] }, 'site-administration': { basis: 'legal-obligation', data: ['usage-data'] } },
});
const KEY = { id: 'k1', secret: 'k'.repeat(32) };
const NOW = 1_800_000_000;
const upstream = resolveCrossService({ id: 'svc-a', signingKey: KEY })!;
const fresh = () => resolveCrossService({ id: 'svc-b', trust: { 'svc-a': [KEY] } })!;

function signed(overrides: Partial<{ audience: string; purpose: string; basis: string; method: string; path: string; now: number }> = {}): Map<string, string> {
  const entries = signPurpose(upstream, { audience: overrides.audience ?? 'svc-b', purpose: overrides.purpose ?? 'analytics', basis: overrides.basis ?? 'legitimate-interests', requestId: 'req-1', method: overrides.method ?? 'GET', path: overrides.path ?? '/p', nowSeconds: overrides.now ?? NOW });
  // Through a real header: merge, then parse back.
  return readPurposeBaggage(mergeBaggage('other=1', entries))!;
}
const at = { method: 'GET', path: '/p', nowSeconds: NOW };

describe('cross-service signatures', () => {
  it('accepts a fresh signature for this service and request, once', () => {
    const downstream = fresh();
    const entries = signed();
    expect(verifyInbound(downstream, policy, entries, at)).toEqual({ ok: true, peer: 'svc-a', purpose: 'analytics', basis: 'legitimate-interests', upstreamRequestId: 'req-1' });
    expect(verifyInbound(downstream, policy, entries, at)).toMatchObject({ ok: false, reason: 'inbound-replayed' });
  });

  it.each([
    ['signed for another service', signed({ audience: 'svc-c' }), at, 'inbound-wrong-audience'],
    ['another method', signed({ method: 'POST' }), at, 'inbound-wrong-request'],
    ['another path', signed({ path: '/q' }), at, 'inbound-wrong-request'],
    ['expired', signed({ now: NOW - 31 }), at, 'inbound-expired'],
    ['expiring too far ahead (a skewed clock)', signed({ now: NOW + 400 }), at, 'inbound-expired'],
    ['a basis other than the downstream policy gives', signed({ purpose: 'site-administration' }), at, 'inbound-basis-mismatch'],
    ['a purpose the downstream policy lacks', signed({ purpose: 'marketing.email', basis: 'consent' }), at, 'inbound-purpose-unknown'],
  ])('refuses %s', (_label, entries, request, reason) => {
    expect(verifyInbound(fresh(), policy, entries, request)).toMatchObject({ ok: false, reason });
  });

  it.each([
    ['a tampered purpose', (e: Map<string, string>) => e.set(PURPOSE_BAGGAGE_KEYS.purpose, 'site-administration'), 'inbound-bad-signature'],
    ['a tampered basis', (e: Map<string, string>) => e.set(PURPOSE_BAGGAGE_KEYS.basis, 'consent'), 'inbound-bad-signature'],
    ['a tampered request id', (e: Map<string, string>) => e.set(PURPOSE_BAGGAGE_KEYS.request, 'req-2'), 'inbound-bad-signature'],
    ['another peer claimed', (e: Map<string, string>) => e.set(PURPOSE_BAGGAGE_KEYS.peer, 'svc-x'), 'inbound-unknown-peer'],
    ['no signature', (e: Map<string, string>) => e.delete(PURPOSE_BAGGAGE_KEYS.sig), 'inbound-unsigned'],
    ['a malformed signature', (e: Map<string, string>) => e.set(PURPOSE_BAGGAGE_KEYS.sig, 'nope'), 'inbound-malformed'],
  ])('refuses %s', (_label, tamper, reason) => {
    const entries = signed();
    tamper(entries);
    expect(verifyInbound(fresh(), policy, entries, at)).toMatchObject({ ok: false, reason });
  });

  it('treats a key sent twice as malformed, and ignores baggage that is not ours', () => {
    const header = mergeBaggage(undefined, Object.fromEntries(signed())) + ',purposekit.purpose=analytics';
    expect(verifyInbound(fresh(), policy, readPurposeBaggage(header)!, at)).toMatchObject({ ok: false, reason: 'inbound-malformed' });
    expect(readPurposeBaggage('userId=alice,tenant=t1')).toBeUndefined();
    expect(readPurposeBaggage(undefined)).toBeUndefined();
  });

  it.each([
    ['a bad peer id', { id: 'Service A' }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['a short key', { id: 'a', signingKey: { id: 'k', secret: 'short' } }, 'PURPOSEKIT_ERR_INVALID_KEY'],
    ['an unknown key', { id: 'a', trusts: {} }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['an empty key list', { id: 'a', trust: { b: [] } }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['a long ttl', { id: 'a', ttlSeconds: 3600 }, 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ])('rejects %s at start-up', (_label, option, code) => {
    expect(() => resolveCrossService(option)).toThrow(expect.objectContaining({ code }));
  });
});
