/**
 * Two instances of the app on one PostgreSQL database (issue 11): the real server on
 * 127.0.0.1:5432 (user postgres, database test). Under CI=true a missing server fails
 * this file; elsewhere it skips with a message. Its schema is pk_apps_openinfra_<random>.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import pino from 'pino';
import { run as purposekit } from '@purposekit/cli';
import { verifyPostgresTrail } from '@purposekit/postgres';
import { createApp, listen } from './app';
import type { OpenInfraApp } from './app';

const PG_URL = process.env['PURPOSEKIT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function serverAnswers(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '3'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const PG_AVAILABLE = process.env['CI'] === 'true' || serverAnswers();
if (!PG_AVAILABLE) process.stderr.write('openinfra-express PostgreSQL test skipped: no PostgreSQL answers on 127.0.0.1:5432 (it never skips under CI=true).\n');
const describePg = PG_AVAILABLE ? describe : describe.skip;

describePg('openinfra-express on PostgreSQL: two instances, one database', () => {
  const schema = `pk_apps_openinfra_${randomBytes(4).toString('hex')}`;
  // One key directory for both instances: the same subject pseudonyms, the same signing key.
  const dataDir = mkdtempSync(join(tmpdir(), 'pk-openinfra-pg-'));
  const instances: Array<{ app: OpenInfraApp; server: Server; base: string }> = [];
  let admin: Pool;

  beforeAll(async () => {
    admin = new Pool({ connectionString: PG_URL, max: 2 });
    for (const stream of ['openinfra-a', 'openinfra-b']) {
      const logger = pino(new Writable({ write(_c, _e, cb) { cb(); } }));
      const app = await createApp({ dataDir, logger, databaseUrl: PG_URL, databaseSchema: schema, instance: stream, operatorToken: 'pg-test-operator' });
      const server = await listen(app.app, 0);
      instances.push({ app, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    }
  });
  const closeAll = async (): Promise<void> => {
    for (const i of instances.splice(0)) {
      await new Promise((r) => i.server.close(r));
      await i.app.close();
    }
  };
  afterAll(async () => {
    await closeAll();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  const send = (at: 0 | 1, method: string, path: string, options: { body?: unknown; token?: string } = {}) =>
    fetch(`${instances[at]!.base}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });

  let ada = '';

  it('a member registered on A is a member on B (the app\'s data is shared too)', async () => {
    const res = await send(0, 'POST', '/members', { body: { name: 'Ada', email: 'ada@example.org', dateOfBirth: '1990-04-01', directory: true } });
    expect(res.status).toBe(201);
    ada = ((await res.json()) as { id: string }).id;
    expect(await (await send(1, 'GET', '/members/directory')).json()).toEqual({ members: [{ name: 'Ada' }] });
    expect((await send(1, 'GET', '/privacy/export', { token: ada })).status).toBe(200);
  });

  it('a withdrawal on A denies the next access on B', async () => {
    const w = await send(0, 'POST', '/privacy/consent', { token: ada, body: { purpose: 'membership', state: 'withdrawn' } });
    expect(w.status).toBe(200);
    expect(await (await send(1, 'GET', '/members/directory')).json()).toEqual({ members: [] });
  });

  it('the access log fetched from A lists the accesses made on B', async () => {
    const log = (await (await send(0, 'GET', '/privacy/access-log', { token: ada })).json()) as { records: Array<{ kind: string; purpose: string; decision?: string; requestId: string }> };
    const listings = log.records.filter((r) => r.kind === 'access' && r.purpose === 'membership');
    // Both directory listings ran on B: the allow before the withdrawal, the deny after it.
    expect(listings.map((r) => r.decision)).toEqual(['allow', 'deny']);
    const streams = await admin.query<{ stream: string }>(`SELECT DISTINCT stream FROM "${schema}".audit_records WHERE (record::json)->>'requestId' = ANY($1::text[])`, [listings.map((r) => r.requestId)]);
    expect(streams.rows.map((r) => r.stream)).toEqual(['openinfra-b']);
  });

  it('`purposekit rights due --pg` lists the requests made on both instances; every stream verifies', async () => {
    const onA = (await (await send(0, 'POST', '/privacy/rectification', { token: ada, body: { changes: { shoeSize: '42' } } })).json()) as { request: { id: string } };
    const onB = (await (await send(1, 'POST', '/privacy/rectification', { token: ada, body: { changes: { hatSize: '7' } } })).json()) as { request: { id: string } };
    let out = '';
    const stdout = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
    const code = await purposekit(['rights', 'due', '--pg', PG_URL, '--schema', schema, '--json'], { stdout, stderr: stdout });
    expect(code).toBe(0);
    const { open } = JSON.parse(out) as { open: Array<{ requestId: string; right: string }> };
    expect(open.map((r) => [r.requestId, r.right]).sort()).toEqual([[onA.request.id, 'rectification'], [onB.request.id, 'rectification']].sort());

    // Stopped as on shutdown (each stream sealed by a signed checkpoint), then verified together.
    await closeAll();
    const verified = await verifyPostgresTrail({ pool: admin, schema, publicKeys: [readFileSync(join(dataDir, 'keys', 'audit-signing.pub.pem'), 'utf8')] });
    expect(verified.ok).toBe(true);
    expect(verified.streams.map((s) => [s.stream, s.result.ok])).toEqual([
      ['openinfra-a', true],
      ['openinfra-b', true],
    ]);
  });
});
