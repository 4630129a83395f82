import { fastifyTrustOf } from './fastify-trust';

/** An object shaped like a Fastify instance: its options under the `fastify.options` symbol, on a prototype. */
function instance(trustProxy: unknown, where: 'own' | 'proto' = 'proto'): object {
  const holder = { [Symbol('fastify.options')]: { trustProxy } };
  return where === 'own' ? holder : Object.create(holder);
}

describe('fastifyTrustOf (Fastify trustProxy, read once)', () => {
  it.each([[undefined], [false], [null]])('%p: no proxy is trusted', (setting) => {
    const t = fastifyTrustOf(instance(setting));
    expect(t.trustsAll).toBe(false);
    expect(t.fn?.('127.0.0.1', 0)).toBe(false);
  });

  it('true trusts every hop, and says so', () => {
    const t = fastifyTrustOf(instance(true, 'own'));
    expect(t.trustsAll).toBe(true);
    expect(t.fn?.('203.0.113.9', 3)).toBe(true);
  });

  it('a comma-separated string and a list are the same addresses and ranges', () => {
    for (const setting of ['127.0.0.1, 10.0.0.0/8', ['127.0.0.1', '10.0.0.0/8']]) {
      const t = fastifyTrustOf(instance(setting));
      expect([t.trustsAll, t.fn?.('10.1.2.3', 0), t.fn?.('127.0.0.1', 1), t.fn?.('192.0.2.1', 0)]).toEqual([false, true, true, false]);
    }
  });

  it.each([
    ['a hop count (its meaning changed within Fastify 5)', 1],
    ['a setting the core does not parse', ['not an address']],
  ])('%s: left to Fastify (fn undefined: read request.ips)', (_n, setting) => {
    expect(fastifyTrustOf(instance(setting))).toEqual({ trustsAll: false, fn: undefined });
  });

  it('an object without Fastify options: left to Fastify', () => {
    expect(fastifyTrustOf({})).toEqual({ trustsAll: false, fn: undefined });
  });
});
