import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAdapterOptions } from './adapter-support';
import { createFileAuditSink, verifyAuditTrail } from './audit';
import { InMemoryConsentStore } from './consent/consent-store';
import { PurposekitError } from './errors';
import { openKeyDirectory } from './keys/key-directory';
import { kubevirt } from './presets';
import { createPurposekit } from './purposekit';
import { ArraySink } from './__tests__/array-sink';

const subjectKey = { id: 'k1', secret: 'a'.repeat(32) };

class CountingSink extends ArraySink {
  closes = 0;
  fail = false;
  override async close(): Promise<void> {
    this.closes++;
    if (this.fail) throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'cannot write the final checkpoint');
  }
}
class CountingStore extends InMemoryConsentStore {
  closes = 0;
  close(): void {
    this.closes++;
  }
}

describe('kit.close()', () => {
  it('closes the audit sink and the consent store, once, however often it is called', async () => {
    const audit = new CountingSink();
    const consentStore = new CountingStore();
    const kit = createPurposekit({ policy: kubevirt, audit, subjectKey, consentStore });
    await Promise.all([kit.close(), kit.close()]);
    await kit.close();
    expect([audit.closes, consentStore.closes]).toEqual([1, 1]);
  });

  it('still closes the consent store when the sink fails, then reports the sink\'s failure (every later call too)', async () => {
    const audit = new CountingSink();
    audit.fail = true;
    const consentStore = new CountingStore();
    const kit = createPurposekit({ policy: kubevirt, audit, subjectKey, consentStore });
    await expect(kit.close()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    await expect(kit.close()).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_AUDIT_UNAVAILABLE' });
    expect([audit.closes, consentStore.closes]).toEqual([1, 1]);
  });

  it('ends a file trail with a signed checkpoint: nothing unsigned after a clean stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adoption-lifecycle-'));
    const keys = openKeyDirectory(join(dir, 'keys'), { createIfMissing: true });
    const audit = await createFileAuditSink({ dir: join(dir, 'audit'), signingKey: keys.signingKey, keyId: 'k', checkpointEvery: 1000 });
    const kit = createPurposekit({ policy: kubevirt, audit, subjectKey: keys.subjectKey });
    await kit.runAs({ purpose: 'diagnostics', actor: 'job', subject: 'u1' }, () => kit.access({ data: ['ip-address'], action: 'read' }));
    await kit.close();
    await kit.close();
    const result = await verifyAuditTrail(join(dir, 'audit'), { publicKeys: [readFileSync(keys.publicKeyPath, 'utf8')] });
    expect(result).toMatchObject({ ok: true, unsignedTail: 0 });
    expect(result.checkpoints).toBeGreaterThanOrEqual(1);
  });
});

describe('adapter option "skip"', () => {
  const kit = createPurposekit({ policy: kubevirt, audit: new ArraySink(), subjectKey });
  const skipOf = (skip: unknown): ((method: string, url: string) => boolean) | undefined => resolveAdapterOptions(kit, { skip } as never, 'createPrivacy').skip;

  it('is undefined when nothing is skipped (no per-request cost)', () => {
    expect(resolveAdapterOptions(kit, {}, 'createPrivacy').skip).toBeUndefined();
    expect(skipOf([])).toBeUndefined();
  });

  it.each([
    [['/healthz'], 'GET', '/healthz', true],
    [['/healthz'], 'GET', '/healthz?probe=1', true],
    [['/healthz'], 'GET', '/healthz/deep', false],
    [['/healthz'], 'GET', '/status', false],
    [[/^\/metrics(\/|$)/], 'GET', '/metrics/node', true],
    [[/^\/metrics(\/|$)/], 'GET', '/metricsx', false],
    [(path: string, method: string) => method === 'HEAD' && path === '/', 'HEAD', '/?x', true],
    [(path: string, method: string) => method === 'HEAD' && path === '/', 'GET', '/', false],
  ])('%p: %s %s → %p', (skip, method, url, expected) => {
    expect(skipOf(skip)!(method, url)).toBe(expected);
  });

  it.each([
    ['healthz', 'a path starting with "/"'],
    [/x/g, 'without the g or y flag'],
    [42, 'a path starting with "/"'],
  ])('rejects the entry %p at start-up', (entry, text) => {
    expect(() => skipOf([entry])).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(text) }));
  });

  it('rejects a skip that is neither a list nor a function', () => {
    expect(() => skipOf('/healthz')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('"skip" must be a list') }));
  });
});
