/**
 * The two-service scenario (Jest): A calls B inside its requests, each in its own process
 * (service.ts). B trusts A's keys and records what it accepts and what it refuses
 * (docs/cross-service.md). Every B framework runs the same tests.
 */
import { startService } from './processes';
import type { Framework, RunningService } from './processes';

export interface TrailRecord {
  kind: string;
  actor?: string;
  action?: string;
  purpose?: string;
  basis?: string;
  decision?: string;
  reason?: string;
  requestId?: string;
  attributes?: Record<string, unknown>;
}
export interface Answer {
  status: number;
  body: { purpose: string; basis: string; requestId: string };
}

export const json = async <T>(url: string, init?: RequestInit): Promise<T> => (await fetch(url, init)).json() as Promise<T>;

/** B's records of the request with id `requestId` (the accept/refuse record, then the access). */
export async function trailOf(b: RunningService, requestId: string): Promise<TrailRecord[]> {
  const all = await json<TrailRecord[]>(`${b.base}/trail`);
  return all.filter((r) => r.requestId === requestId);
}

/** Registers the two-service tests with A on `aFramework` and B on `bFramework`. */
export function crossServiceScenario(aFramework: Framework, bFramework: Framework): void {
  describe(`a purpose across services: A (${aFramework}) → B (${bFramework})`, () => {
    let a: RunningService;
    let b: RunningService;
    beforeAll(async () => {
      b = await startService('b', bFramework);
      a = await startService('a', aFramework, b.base);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('A calls B with a signed purpose: B accepts it, records it with A\'s request id, and its access runs under it', async () => {
      const out = await json<Answer>(`${a.base}/call?mode=signed`);
      expect(out.status).toBe(200);
      expect(out.body).toMatchObject({ purpose: 'analytics', basis: 'legitimate-interests' });
      const records = await trailOf(b, out.body.requestId);
      expect(records).toEqual([
        expect.objectContaining({ kind: 'access', action: 'accept-purpose', actor: 'service-a', purpose: 'analytics', basis: 'legitimate-interests', decision: 'allow', reason: 'inbound-purpose', attributes: { peer: 'service-a', upstreamRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) } }),
        expect.objectContaining({ kind: 'access', action: 'read', purpose: 'analytics', decision: 'allow', reason: 'allowed' }),
      ]);
    });

    it('a key being rotated out (still listed by B) is accepted', async () => {
      const out = await json<Answer>(`${a.base}/call?mode=retired`);
      expect(out.body.purpose).toBe('analytics');
    });

    it.each([
      ['unsigned', '/call?mode=unsigned', 'inbound-unsigned', 'analytics'],
      ['signed with a wrong key', '/call?mode=wrong-key', 'inbound-bad-signature', 'analytics'],
      ['signed with a key id B does not know', '/call?mode=unknown-key', 'inbound-unknown-key', 'analytics'],
      ['replayed onto another request (signed for GET /profile, sent to GET /other)', '/call?mode=other-request', 'inbound-wrong-request', 'analytics'],
      ['expired', '/call?mode=expired', 'inbound-expired', 'analytics'],
      ['a purpose B\'s policy does not have', '/call-marketing', 'inbound-purpose-unknown', 'marketing.email'],
    ])('%s: refused and recorded; B\'s own route declaration applies', async (_label, path, reason, inboundPurpose) => {
      const out = await json<Answer>(`${a.base}${path}`);
      expect(out.status).toBe(200);
      expect(out.body).toMatchObject({ purpose: 'service.provision', basis: 'legitimate-interests' });
      const records = await trailOf(b, out.body.requestId);
      expect(records).toEqual([
        // The purpose in force when checked: B's route declaration (Fastify) or its default
        // purpose (the others); B declares both as service.provision.
        expect.objectContaining({ kind: 'access', action: 'accept-purpose', actor: 'service', purpose: 'service.provision', basis: 'legitimate-interests', decision: 'deny', reason, attributes: { claimedPeer: 'service-a', inboundPurpose } }),
        expect.objectContaining({ kind: 'access', action: 'read', purpose: 'service.provision', decision: 'allow' }),
      ]);
    });

    it('replayed from the same call: accepted once, refused the second time', async () => {
      const out = await json<{ first: Answer; second: Answer }>(`${a.base}/call?mode=replay`);
      expect([out.first.body.purpose, out.second.body.purpose]).toEqual(['analytics', 'service.provision']);
      expect((await trailOf(b, out.second.body.requestId))[0]).toMatchObject({ decision: 'deny', reason: 'inbound-replayed' });
    });

    it('a client on the internet cannot set the purpose, with or without a made-up signature', async () => {
      for (const baggage of [
        'purposekit.purpose=analytics',
        'purposekit.purpose=analytics,purposekit.basis=legitimate-interests,purposekit.request=r1,purposekit.peer=service-a,purposekit.sig=k2.service-b.9999999999.AAAAAAAAAAAAAAAA.0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      ]) {
        const out = await json<Answer['body']>(`${b.base}/profile`, { headers: { baggage, 'x-purpose': 'analytics' } });
        expect(out.purpose).toBe('service.provision');
        expect((await trailOf(b, out.requestId))[0]).toMatchObject({ decision: 'deny', reason: expect.stringMatching(/^inbound-(unsigned|bad-signature)$/) });
      }
    });
  });
}
