/**
 * Two instances of the app on one PostgreSQL database (issue 11): a withdrawal on A
 * denies the next access on B; the subject's access log fetched from A lists an access
 * made on B; `rights due` lists requests made on both; a fourth copy of one's data within
 * a day is refused whichever instance took the first three; every stream verifies.
 * Runs when CI=true (never skipped there) or when a server answers on 127.0.0.1:5432.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Pool } from 'pg';
import { listPostgresOpenRightsRequests, verifyPostgresTrail } from '@purposekit/postgres';
import { createApp, listen } from './app';
import type { OpenInfraApp } from './app';

const available = process.env['CI'] === 'true' || ((): boolean => {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-t', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!available) process.stderr.write('openinfra-express two-instance test skipped: no PostgreSQL on 127.0.0.1:5432 (never skipped under CI=true).\n');
const describePg = available ? describe : describe.skip;
jest.setTimeout(30_000);

// A schema of this run's own (the app migrates it at start-up), dropped afterwards.
const SCHEMA = `pk_apps_openinfra_${randomBytes(4).toString('hex')}`;
const URL = 'postgres://postgres@127.0.0.1:5432/test';
const pool = new Pool({ connectionString: URL, max: 2 });
const OPERATOR = 'two-instances-operator-token';
const instances: Array<{ h: OpenInfraApp; server: Server; base: string }> = [];
let keysDir: string;

async function start(name: string): Promise<{ h: OpenInfraApp; server: Server; base: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), `pk-openinfra-${name}-`));
  const logger = pino(new Writable({ write(_c, _e, cb) { cb(); } }));
  const h = await createApp({ dataDir, logger, databaseUrl: URL, databaseSchema: SCHEMA, instance: `openinfra-${name}`, keysDir, operatorToken: OPERATOR });
  const server = await listen(h.app, 0);
  const started = { h, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  instances.push(started);
  return started;
}

const call = (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

beforeAll(() => {
  keysDir = join(mkdtempSync(join(tmpdir(), 'pk-openinfra-keys-')), 'keys');
});
afterAll(async () => {
  for (const i of instances) {
    await new Promise((r) => i.server.close(r));
    await i.h.close();
  }
  if (available) await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await pool.end();
});

describePg('openinfra-express: two instances on one PostgreSQL database', () => {
  it('share consent, the access log, the rights register, and a trail whose every stream verifies', async () => {
    const a = await start('a');
    const b = await start('b');

    // Consent given on A governs B; a withdrawal on A denies B's next access.
    const sub = await call(a.base, 'POST', '/newsletter', { name: 'Bo', email: 'bo@example.org', dateOfBirth: '2000-01-01' });
    expect(sub.status).toBe(201);
    const subId = ((await sub.json()) as { id: string }).id;
    expect((await call(b.base, 'POST', `/newsletter/${subId}/deliveries`, undefined, { authorization: `Bearer ${OPERATOR}` })).status).toBe(202);
    expect((await call(a.base, 'DELETE', `/newsletter/${subId}`)).status).toBe(204);
    const denied = await call(b.base, 'POST', `/newsletter/${subId}/deliveries`, undefined, { authorization: `Bearer ${OPERATOR}` });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', reason: 'consent-withdrawn' } });

    // A member registered on A; an access about them made on B shows in the access log fetched from A.
    const ada = await call(a.base, 'POST', '/members', { name: 'Ada', email: 'ada@example.org', dateOfBirth: '1990-04-01' });
    const adaId = ((await ada.json()) as { id: string }).id;
    expect((await call(b.base, 'POST', `/newsletter/${adaId}/deliveries`, undefined, { authorization: `Bearer ${OPERATOR}` })).status).toBe(403); // no newsletter consent: denied, and recorded
    const log = await call(a.base, 'GET', '/privacy/access-log', undefined, { authorization: `Bearer ${adaId}` });
    expect(log.status).toBe(200);
    const records = ((await log.json()) as { records: Array<{ purpose?: string; decision?: string }> }).records;
    expect(records).toEqual(expect.arrayContaining([expect.objectContaining({ purpose: 'marketing.email', decision: 'deny' })]));
    expect(records).toEqual(expect.arrayContaining([expect.objectContaining({ purpose: 'service.registration', decision: 'allow' })]));

    // Rectification requests needing a person stay open, on both instances: rights due sees both.
    expect((await call(a.base, 'POST', '/privacy/rectification', { changes: { nickname: 'A' } }, { authorization: `Bearer ${adaId}` })).status).toBe(202);
    expect((await call(b.base, 'POST', '/privacy/rectification', { changes: { nickname: 'B' } }, { authorization: `Bearer ${adaId}` })).status).toBe(202);
    const due = await listPostgresOpenRightsRequests({ pool, schema: SCHEMA });
    const streamsOfDue = await pool.query<{ stream: string }>(
      `SELECT DISTINCT stream FROM "${SCHEMA}".audit_records WHERE kind = 'rights' AND (record::json)->>'requestId' = ANY($1::text[])`,
      [due.filter((d) => d.right === 'rectification').map((d) => d.requestId)],
    );
    expect(streamsOfDue.rows.map((r) => r.stream).sort()).toEqual(['openinfra-a', 'openinfra-b']);

    // "Repetitive or excessive" is counted across instances: three copies on A, the fourth
    // (on B) is refused.
    const kim = ((await (await call(a.base, 'POST', '/members', { name: 'Kim', email: 'kim@example.org', dateOfBirth: '1990-04-01' })).json()) as { id: string }).id;
    for (let i = 0; i < 3; i++) expect((await call(a.base, 'GET', '/privacy/export', undefined, { authorization: `Bearer ${kim}` })).status).toBe(200);
    const fourth = await call(b.base, 'GET', '/privacy/access-log', undefined, { authorization: `Bearer ${kim}` });
    expect([fourth.status, await fourth.json()]).toEqual([403, { error: { code: 'PURPOSEKIT_ERR_RIGHTS_REFUSED', message: 'This privacy request was refused.' } }]);

    // Every stream of the database verifies with the shared public key.
    const result = await verifyPostgresTrail({ pool, schema: SCHEMA, publicKeys: [{ id: 'openinfra-app', key: readFileSync(a.h.publicKeyPath, 'utf8') }] });
    expect(result.problem).toBeUndefined();
    expect(result.streams.map((s) => s.stream)).toEqual(['openinfra-a', 'openinfra-b']);
  });
});
