import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp, listen } from './app';
import type { OpenInfraApp } from './app';

let h: OpenInfraApp;
let server: Server;
let base: string;
const lines: string[] = [];

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pk-openinfra-'));
  const logger = pino(new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
  h = await createApp({ dataDir, logger, trustProxy: 'loopback' });
  server = await listen(h.app, 0);
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await h.close();
});

const json = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

const logFor = (path: string, method = 'GET') => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.path === path && l.method === method);

function auditRecords(): Array<Record<string, unknown>> {
  return readdirSync(h.auditDir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(h.auditDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('openinfra-express reference app', () => {
  it('tags each request with its purpose and basis in the log line, with a truncated IP only', async () => {
    expect((await fetch(`${base}/`)).status).toBe(200);
    const status = await fetch(`${base}/status`, { headers: { 'x-forwarded-for': '198.51.100.23' } });
    expect(await status.json()).toMatchObject({ ok: true, yourAddressAsLogged: '198.51.100.0' });
    expect(logFor('/')[0]).toMatchObject({ purpose: 'service.provision', basis: 'legitimate-interests', policy: 'openinfra@2024-current', status: 200 });
    expect(logFor('/status')[0]).toMatchObject({ purpose: 'diagnostics', basis: 'legitimate-interests', ip: '198.51.100.0', status: 200 });
  });

  it('registers members only at 18+, neutrally, and never keeps the refused submission', async () => {
    const kid = await json('POST', '/members', { name: 'Young Person', email: 'young@example.org', dateOfBirth: '2009-02-01' });
    expect(kid.status).toBe(403);
    expect(await kid.json()).toEqual({ error: { code: 'PURPOSEKIT_ERR_AGE_GATE_REFUSED', message: 'Sorry, we cannot accept this submission.' } });
    const ada = await json('POST', '/members', { name: 'Ada', email: 'ada@example.org', dateOfBirth: '1990-04-01', employer: 'Acme', directory: true });
    expect(ada.status).toBe(201);
    const bo = await json('POST', '/members', { name: 'Bo', email: 'bo@example.org', dateOfBirth: '1985-01-01' });
    expect(bo.status).toBe(201);
    const dir = (await (await fetch(`${base}/members/directory`)).json()) as { members: Array<{ name: string }> };
    expect(dir.members.map((m) => m.name)).toEqual(['Ada']);
  });

  it('takes newsletter sign-ups by consent (13+) and honours withdrawal', async () => {
    expect((await json('POST', '/newsletter', { name: 'Kid', email: 'kid@example.org', dateOfBirth: '2015-01-01' })).status).toBe(403);
    const res = await json('POST', '/newsletter', { name: 'Cy', email: 'cy@example.org', dateOfBirth: '2010-01-01' });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    expect((await json('DELETE', `/newsletter/${id}`)).status).toBe(204);
  });

  it('keeps no full IP, no birthdate and no refused body in any log line', () => {
    const all = lines.join('\n');
    for (const leaked of ['127.0.0.1', '198.51.100.23', '2009-02-01', '1990-04-01', '2015-01-01', 'Young Person', 'young@example.org']) {
      expect(all).not.toContain(leaked);
    }
  });

  it('writes the expected decisions to the audit trail, without personal values', async () => {
    await h.kit.close();
    const records = auditRecords();
    const events = records.filter((r) => r['kind'] !== 'checkpoint');
    expect(events.map((r) => [r['kind'], r['purpose'], r['decision'], r['reason']])).toEqual([
      ['access', 'diagnostics', 'allow', 'allowed'],
      ['age-gate', 'service.registration', 'deny', 'refused'],
      ['access', 'service.registration', 'allow', 'allowed'],
      ['consent', 'membership', undefined, undefined],
      ['access', 'service.registration', 'allow', 'allowed'],
      ['access', 'membership', 'allow', 'allowed'],
      ['age-gate', 'marketing.email', 'deny', 'refused'],
      ['consent', 'marketing.email', undefined, undefined],
      ['access', 'marketing.email', 'allow', 'allowed'],
      ['consent', 'marketing.email', undefined, undefined],
    ]);
    const text = JSON.stringify(records);
    for (const leaked of ['Ada', 'ada@example.org', '1990-04-01', '127.0.0.1', '198.51.100']) expect(text).not.toContain(leaked);
    expect(records.some((r) => r['kind'] === 'checkpoint')).toBe(true);
  });
});
