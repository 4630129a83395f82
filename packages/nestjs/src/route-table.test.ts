import 'reflect-metadata';
import { Controller, Delete, Get, Post, RequestMethod } from '@nestjs/common';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { Accesses, PrivacyModule, Purpose } from './index';
import { PLATFORMS, closeApps, createApp } from '../test/harness';
import type { AddressInfo } from 'node:net';

@Controller('members')
@Purpose('service.registration')
class MembersController {
  @Post()
  @Accesses({ data: ['name', 'email'], action: 'collect' })
  join(): { ok: true } {
    return { ok: true };
  }

  @Get(['status', 'healthz'])
  @Purpose('diagnostics')
  @Accesses({ data: ['ip-address'], action: 'read' })
  @Accesses({ data: ['email'], action: 'read', subject: () => 'u1' })
  status(): { ok: true } {
    return { ok: true };
  }

  @Delete(':id')
  @Purpose('rights-fulfilment')
  leave(): { ok: true } {
    return { ok: true };
  }
}

@Controller()
class PlainController {
  @Get('plain')
  plain(): string {
    return 'plain';
  }
}

afterEach(closeApps);

describe.each(PLATFORMS)('kit.describeRoutes() after a Nest app (%s) initialises', (platform) => {
  it('lists each route with a purpose: method, controller + handler path, the @Accesses categories', async () => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) } });
    const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit })], controllers: [MembersController, PlainController] });
    await app.init();
    try {
      expect(kit.describeRoutes()).toEqual([
        { method: 'POST', path: '/members', purpose: 'service.registration', categories: ['email', 'name'] },
        { method: 'DELETE', path: '/members/:id', purpose: 'rights-fulfilment', categories: [] },
        { method: 'GET', path: '/members/healthz', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
        { method: 'GET', path: '/members/status', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
      ]);
    } finally {
      await app.close();
    }
  });

  it("includes the app's global prefix, except on the routes its exclude list names: the paths the router really serves", async () => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) } });
    const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit })], controllers: [MembersController, PlainController] });
    app.setGlobalPrefix('api/v2', { exclude: [{ path: 'members/healthz', method: RequestMethod.GET }] });
    await app.listen(0, '127.0.0.1');
    try {
      const routes = kit.describeRoutes();
      expect(routes).toEqual([
        { method: 'POST', path: '/api/v2/members', purpose: 'service.registration', categories: ['email', 'name'] },
        { method: 'DELETE', path: '/api/v2/members/:id', purpose: 'rights-fulfilment', categories: [] },
        { method: 'GET', path: '/api/v2/members/status', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
        { method: 'GET', path: '/members/healthz', purpose: 'diagnostics', categories: ['email', 'ip-address'] },
      ]);
      // The oracle is the router: each listed GET path is routed (here its @Accesses then
      // refuses an email read under diagnostics: 403), and the other form is not (404).
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
      const status = async (path: string): Promise<number> => (await fetch(`${base}${path}`)).status;
      expect(await status('/api/v2/members/status')).toBe(403);
      expect(await status('/members/status')).toBe(404);
      expect(await status('/members/healthz')).toBe(403);
      expect(await status('/api/v2/members/healthz')).toBe(404);
    } finally {
      await app.close();
    }
  });
});
