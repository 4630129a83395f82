import 'reflect-metadata';
import { Controller, Delete, Get, Post } from '@nestjs/common';
import { createPurposekit, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import { Accesses, PrivacyModule, Purpose } from './index';
import { PLATFORMS, closeApps, createApp } from '../test/harness';

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
});
