import { compileAgeGate } from '@purposekit/core/adapter';
import { DOB, POLICY, POLICY_NO_DEFAULT, captureLog, createConformanceKit } from './fixtures';

describe('conformance fixtures', () => {
  it('captures pino lines and resolves waitFor() only once enough lines were written', async () => {
    const log = captureLog();
    const order: string[] = [];
    const two = log.waitFor(2).then(() => order.push('two'));
    log.logger.info({ ip: '203.0.113.0' }, 'first');
    await Promise.resolve();
    order.push('after-first');
    log.logger.info('second');
    await two;
    expect(order).toEqual(['after-first', 'two']);
    expect(log.lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { level: 30, ip: '203.0.113.0', msg: 'first' },
      { level: 30, msg: 'second' },
    ]);
  });

  it('has one policy with a default purpose and one without; the rest is identical', () => {
    expect([POLICY.defaultPurpose, POLICY_NO_DEFAULT.defaultPurpose]).toEqual(['service.provision', undefined]);
    expect(Object.keys(POLICY_NO_DEFAULT.purposes)).toEqual(Object.keys(POLICY.purposes));
    expect(POLICY.purposes['marketing.email']).toMatchObject({ basis: 'consent', gpc: true });
  });

  it('judges the age gate on TODAY: the minor is refused, the adult passes', () => {
    const { kit } = createConformanceKit();
    const gate = compileAgeGate(kit, 'adult');
    const minor = gate.check({ body: { dateOfBirth: DOB.minor }, cookieHeader: undefined, country: undefined, basis: 'contract' });
    const adult = gate.check({ body: { dateOfBirth: DOB.adult }, cookieHeader: undefined, country: undefined, basis: 'contract' });
    expect([minor.ok, adult.ok]).toEqual([false, true]);
    expect(minor.ok ? undefined : minor.error.code).toBe('PURPOSEKIT_ERR_AGE_GATE_REFUSED');
  });
});
