import 'reflect-metadata';
import { Controller, Delete, Get, Module, Post, RequestMethod, VERSION_NEUTRAL, Version, VersioningType } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { Accesses, PrivacyModule, Purpose } from './index';
import { PLATFORMS, closeApps, createApp } from '../test/harness';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';

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

@Controller({ path: 'items', version: '1' })
@Purpose('diagnostics')
class ItemsController {
  @Get()
  list(): string {
    return 'items';
  }

  @Get('legacy')
  @Version(['2', VERSION_NEUTRAL])
  legacy(): string {
    return 'legacy';
  }
}

@Module({ controllers: [ItemsController] })
class ShopModule {}

@Controller('ping')
@Purpose('diagnostics')
class PingController {
  @Get()
  ping(): string {
    return 'pong';
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

  // The oracle is the router: every listed path is served (200), and the forms without
  // the module path, the version or the prefix are not (404).
  it.each([
    {
      what: "a RouterModule's module path and URI versions (the handler's, the controller's, the default one, the neutral one)",
      setup: (app: INestApplication) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI, defaultVersion: '3' });
      },
      listed: ['GET /api/shop/items/legacy', 'GET /api/v1/shop/items', 'GET /api/v2/shop/items/legacy', 'GET /api/v3/ping'],
      unserved: ['/api/shop/items', '/api/v1/items', '/v1/shop/items', '/api/ping', '/api/v1/shop/items/legacy'],
    },
    {
      what: "the global prefix's exclude list, tested against the module path + route without the version segment",
      setup: (app: INestApplication) => {
        app.setGlobalPrefix('api', { exclude: [{ path: 'shop/items', method: RequestMethod.GET }] });
        app.enableVersioning({ type: VersioningType.URI, prefix: 'ver', defaultVersion: '3' });
      },
      listed: ['GET /api/shop/items/legacy', 'GET /api/ver2/shop/items/legacy', 'GET /api/ver3/ping', 'GET /ver1/shop/items'],
      unserved: ['/api/ver1/shop/items', '/ver1/items'],
    },
  ])('includes $what: the paths the router really serves', async ({ setup, listed, unserved }) => {
    const kit = createPurposekit({ policy: openinfra, audit: new InMemoryAuditSink(), subjectKey: { id: 'k1', secret: 'x'.repeat(32) } });
    const app = await createApp(platform, {
      imports: [PrivacyModule.forRoot({ kit }), ShopModule, RouterModule.register([{ path: 'shop', module: ShopModule }])],
      controllers: [PingController],
    });
    setup(app);
    await app.listen(0, '127.0.0.1');
    try {
      const routes = kit.describeRoutes().map((r) => `${r.method} ${r.path}`).sort();
      expect(routes).toEqual(listed);
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
      const status = async (path: string): Promise<number> => (await fetch(`${base}${path}`)).status;
      for (const r of routes) expect([r, await status(r.slice(4))]).toEqual([r, 200]);
      for (const path of unserved) expect([path, await status(path)]).toEqual([path, 404]);
    } finally {
      await app.close();
    }
  });
});
