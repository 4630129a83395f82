import { runConsentStoreContract } from '@purposekit/testing';
import type { ConsentRecord } from '@purposekit/core';
import { createPostgresConsentStore } from './consent-store';
import type { PostgresConsentStore, PostgresConsentStoreOptions } from './consent-store';
import { migrate } from './migrate';
import { PG_AVAILABLE, describePg, dropSchemas, schemaName, testPool } from './__tests__/pg';
import { caught, until } from './__tests__/fixtures';

jest.setTimeout(30_000);
const pool = testPool(10);
const made: string[] = [];
const open: PostgresConsentStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await dropSchemas(pool, made);
  await pool.end();
});

async function freshSchema(): Promise<string> {
  const schema = schemaName('consent');
  made.push(schema);
  await migrate({ pool, schema });
  return schema;
}
async function store(schema: string, options: Partial<PostgresConsentStoreOptions> = {}): Promise<PostgresConsentStore> {
  const s = await createPostgresConsentStore({ pool, schema, ...options });
  open.push(s);
  return s;
}
const rec = (over: Partial<ConsentRecord> = {}): ConsentRecord => ({
  subject: 'u1',
  purpose: 'marketing.email',
  state: 'given',
  type: 'explicit',
  source: 'form',
  policyVersion: '2024-current',
  at: '2026-06-01T10:00:00.000Z',
  ...over,
});

if (PG_AVAILABLE) {
  runConsentStoreContract('PostgresConsentStore', {
    make: async () => store(await freshSchema()),
    makePair: async () => {
      const schema = await freshSchema();
      return [await store(schema), await store(schema)];
    },
  });
  runConsentStoreContract('PostgresConsentStore with cache', {
    make: async () => store(await freshSchema(), { cache: true }),
    makePair: async () => {
      const schema = await freshSchema();
      return [await store(schema, { cache: true }), await store(schema, { cache: true })];
    },
  });
}

describePg('createPostgresConsentStore', () => {
  it('a withdrawal committed on instance A governs the next decision on instance B (no cache: at once)', async () => {
    const schema = await freshSchema();
    const a = await store(schema);
    const b = await store(schema);
    await a.setConsent(rec());
    expect((await b.facts('u1', 'marketing.email')).consent?.state).toBe('given');
    await a.setConsent(rec({ state: 'withdrawn' }));
    expect((await b.facts('u1', 'marketing.email')).consent?.state).toBe('withdrawn');
  });

  it('with a cache: B answers from its cache, and A\'s withdrawal drops it through NOTIFY (the window is measured)', async () => {
    const schema = await freshSchema();
    const a = await store(schema, { cache: true });
    const b = await store(schema, { cache: true });
    expect(b.caching).toBe(true);
    await a.setConsent(rec());
    // a cache hit answers with the same object (once the notification of A's own write has passed)
    await until(async () => (await b.facts('u1', 'marketing.email')) === (await b.facts('u1', 'marketing.email')), 'a cache hit');
    expect((await b.facts('u1', 'marketing.email')).consent?.state).toBe('given');
    await a.setConsent(rec({ state: 'withdrawn' }));
    const committed = process.hrtime.bigint();
    await until(async () => (await b.facts('u1', 'marketing.email')).consent?.state === 'withdrawn', 'the NOTIFY to reach B', 5000);
    const windowMs = Number(process.hrtime.bigint() - committed) / 1e6;
    expect(windowMs).toBeLessThan(1000);
  });

  it('while B\'s LISTEN session is down, B does not cache, and it listens again by itself', async () => {
    const schema = await freshSchema();
    const codes: string[] = [];
    const b = await store(schema, { cache: true, onWarning: (_m, c) => codes.push(c) });
    await pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN purposekit_consent%' AND pid <> pg_backend_pid()`);
    await until(() => codes.includes('PURPOSEKIT_WARN_CONSENT_LISTEN_LOST'), 'the loss');
    await until(() => b.caching, 'LISTEN again');
    const a = await store(schema);
    await b.facts('u9', 'x');
    await a.setRestriction('u9', true);
    await until(async () => (await b.facts('u9', 'x')).restricted, 'the notification after the re-LISTEN', 5000);
  });

  it('keeps the append-only history: the trigger refuses UPDATE and DELETE of consent answers', async () => {
    const schema = await freshSchema();
    const a = await store(schema);
    await a.setConsent(rec());
    await expect(pool.query(`UPDATE "${schema}".consent_records SET record = '{}'`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM "${schema}".consent_records`)).rejects.toThrow(/append-only/);
  });

  it('refuses bad options and a closed store with typed errors', async () => {
    const schema = await freshSchema();
    expect((await caught(createPostgresConsentStore({ pool, schema, cach: true } as never))).code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    expect((await caught(createPostgresConsentStore({ pool, schema: 'pk_postgres_never_made' }))).code).toBe('PURPOSEKIT_ERR_DB_SCHEMA');
    const s = await createPostgresConsentStore({ pool, schema });
    await s.close();
    expect((await caught(s.facts('u1', 'x'))).code).toBe('PURPOSEKIT_ERR_STORE_UNAVAILABLE');
  });
});
