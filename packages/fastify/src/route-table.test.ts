import Fastify from 'fastify';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { describeRoutes, purposekit } from './index';

const kitFor = () => createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) } });

async function appWithRoutes() {
  const kit = kitFor();
  const app = Fastify();
  await app.register(purposekit, { kit, onWarning: () => undefined });
  app.post('/members', { config: { purpose: 'service.registration', data: ['name', 'email', 'employer', 'email'] } }, async () => ({ ok: true }));
  app.get('/status', { config: { purpose: 'diagnostics', data: ['ip-address'] } }, async (request) => ({ purpose: request.privacy!.purpose }));
  app.get('/plain', async () => 'plain');
  app.route({ method: ['PUT', 'DELETE'], url: '/members/:id', config: { purpose: 'membership' }, handler: async () => ({ ok: true }) });
  await app.register(
    async (child) => {
      child.post('/subscribe', { config: { purpose: 'marketing.email', data: ['email'] } }, async () => ({ ok: true }));
    },
    { prefix: '/newsletter' },
  );
  return { app, kit };
}

describe('describeRoutes(app) on Fastify', () => {
  it('lists every route with config.purpose, full paths (prefixes included), each method once, data sorted; the engine lists them too', async () => {
    const { app, kit } = await appWithRoutes();
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const expected = [
        { method: 'POST', path: '/members', purpose: 'service.registration', categories: ['email', 'employer', 'name'] },
        { method: 'DELETE', path: '/members/:id', purpose: 'membership', categories: [] },
        { method: 'PUT', path: '/members/:id', purpose: 'membership', categories: [] },
        { method: 'POST', path: '/newsletter/subscribe', purpose: 'marketing.email', categories: ['email'] },
        { method: 'GET', path: '/status', purpose: 'diagnostics', categories: ['ip-address'] },
      ];
      expect(describeRoutes(app)).toEqual(expected);
      expect(kit.describeRoutes()).toEqual(expected);
      // The routes the table names are the ones the running app serves.
      const port = (app.server.address() as AddressInfo).port;
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      expect(await res.json()).toEqual({ purpose: 'diagnostics' });
      const sub = await fetch(`http://127.0.0.1:${port}/newsletter/subscribe`, { method: 'POST' });
      expect(sub.status).toBe(200);
      // Collected when the routes were added: serving requests leaves the table as it was.
      expect(describeRoutes(app)).toEqual(expected);
      expect(Object.isFrozen(describeRoutes(app)[0])).toBe(true);
    } finally {
      await app.close();
      await kit.close();
    }
  });

  it('feeds `purposekit ropa --routes`, which flags the route touching a category its purpose does not allow', async () => {
    // The built CLI, as a user runs it (`npm run build` first; CI builds before testing).
    const bin = join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
    expect(existsSync(bin)).toBe(true);
    const { app, kit } = await appWithRoutes();
    // openinfra's diagnostics purpose covers the IP address, not the email address.
    app.get('/debug/whoami', { config: { purpose: 'diagnostics', data: ['ip-address', 'email'] } }, async () => 'ok');
    const work = mkdtempSync(join(tmpdir(), 'routes-fastify-ropa-'));
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      expect((await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/debug/whoami`)).status).toBe(200);
      writeFileSync(join(work, 'routes.json'), JSON.stringify(describeRoutes(app)));
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'ropa', 'openinfra', '--routes', 'routes.json'], { cwd: work });
      expect(stderr).toBe('');
      expect(stdout).toContain('and the 6 routes the application declared');
      expect(stdout).toContain('| Routes declaring it | `GET /debug/whoami` (email, ip-address) **FLAGGED: touches email, not allowed for this purpose**<br>`GET /status` (ip-address) |');
      expect(stdout).toContain('`POST /newsletter/subscribe` (email) |');
      expect(stdout).toContain('6 routes declared, 1 flagged.');
    } finally {
      rmSync(work, { recursive: true, force: true });
      await app.close();
      await kit.close();
    }
  });

  it('refuses at start-up a config.data category the policy does not have, with a typed error', async () => {
    const kit = kitFor();
    const app = Fastify();
    try {
      await app.register(purposekit, { kit, onWarning: () => undefined });
      expect(() => app.get('/x', { config: { purpose: 'diagnostics', data: ['shoe-size'] } }, async () => 'x')).toThrow(
        expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('"shoe-size"') }),
      );
      expect(() => app.get('/y', { config: { purpose: 'diagnostics', data: 'email' as never } }, async () => 'y')).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
    } finally {
      await app.close();
      await kit.close();
    }
  });

  it('throws a typed error for an instance without the plugin', async () => {
    const app = Fastify();
    expect(() => describeRoutes(app)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
    await app.close();
  });
});
