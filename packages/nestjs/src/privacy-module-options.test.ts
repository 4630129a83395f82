import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import { createPurposekit, getPrivacyContext, openinfra } from '@purposekit/core';
import { InMemoryAuditSink } from '@purposekit/testing';
import type { PrivacyContext, Purposekit } from '@purposekit/core';
import { Accesses, PrivacyGuard, PrivacyModule, PrivacyService, Purpose } from './index';
import { PLATFORMS, closeApps, createApp, json, startApp } from '../test/harness';
import type { Platform } from '../test/harness';

const subjectKey = { id: 'k1', secret: 'x'.repeat(32) };
const kitFor = (audit = new InMemoryAuditSink()): Purposekit => createPurposekit({ policy: openinfra, audit, subjectKey });

@Controller()
class RootController {
  @Purpose('diagnostics')
  @Get()
  root() {
    return getPrivacyContext()!.logFields();
  }
}

@Injectable()
class ConfigService {
  readonly kit = kitFor();
}

@Module({ providers: [ConfigService], exports: [ConfigService] })
class ConfigModule {}

afterEach(closeApps);

describe('PrivacyModule options (validated once, sync and async alike)', () => {
  const bad: Array<[string, () => object, string]> = [
    ['no kit', () => ({}), '"kit" is required'],
    ['a kit that is not an engine', () => ({ kit: {} }), '"kit" must be the engine from createPurposekit()'],
    ['an unknown option', () => ({ kit: kitFor(), onWarnings: () => undefined }), 'Did you mean "onWarning"?'],
    ['a bad onWarning', () => ({ kit: kitFor(), onWarning: 'log' }), '"onWarning" must be a function'],
    ['a bad onServerError', () => ({ kit: kitFor(), onServerError: 'log' }), '"onServerError" must be a function'],
  ];

  it.each(bad)('forRoot rejects %s at start-up', async (_n, options, message) => {
    await expect(createApp('express', { imports: [PrivacyModule.forRoot(options() as never)], controllers: [RootController] })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(message) });
  });

  it.each(bad)('forRootAsync rejects %s the same way', async (_n, options, message) => {
    await expect(createApp('express', { imports: [PrivacyModule.forRootAsync({ useFactory: async () => options() as never })], controllers: [RootController] })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(message) });
  });

  it('does not change the caller\'s options object', async () => {
    const options = Object.freeze({ kit: kitFor() });
    await startApp('express', { imports: [PrivacyModule.forRoot(options)], controllers: [RootController] });
    expect(Object.keys(options)).toEqual(['kit']);
  });
});

describe.each(PLATFORMS)('PrivacyModule on %s', (platform: Platform) => {
  it('forRootAsync takes the engine from an injected provider', async () => {
    const base = await startApp(platform, {
      imports: [PrivacyModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (config: ConfigService) => ({ kit: config.kit }) })],
      controllers: [RootController],
    });
    expect(await json(await fetch(`${base}/`))).toMatchObject({ purpose: 'diagnostics', ip: '127.0.0.0' });
  });

  it('covers the root path and answers 404s without breaking', async () => {
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [RootController] });
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it('installs a PrivacyGuard subclass given as `guard`, whose protected methods run', async () => {
    const calls: string[] = [];
    @Injectable()
    class AuditedGuard extends PrivacyGuard {
      protected override getPrivacyContext(request: Parameters<PrivacyGuard['getPrivacyContext']>[0]): PrivacyContext | undefined {
        const ctx = super.getPrivacyContext(request);
        ctx?.setActor('staff-7');
        calls.push(`context:${ctx?.requestId.length}`);
        return ctx;
      }
      override async canActivate(context: ExecutionContext): Promise<boolean> {
        const ok = await super.canActivate(context);
        calls.push(`purpose:${getPrivacyContext()?.purpose}`);
        return ok;
      }
    }
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor(), guard: AuditedGuard })], controllers: [RootController] });
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect(calls).toEqual(['context:36', 'purpose:diagnostics']);
  });

  it('PrivacyService runs background jobs under a declared purpose, and rejects an unknown one', async () => {
    const app = await createApp(platform, { imports: [PrivacyModule.forRoot({ kit: kitFor() })], controllers: [RootController] });
    await app.init();
    const service = app.get(PrivacyService);
    expect(service.context).toBeUndefined();
    expect(() => service.requireContext()).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_NO_CONTEXT' }));
    const seen = await service.runAs({ purpose: 'site-administration', actor: 'cron' }, async () => {
      await service.access({ data: ['usage-data'], action: 'read' });
      return { purpose: service.context?.purpose, actor: service.context?.actor };
    });
    expect(seen).toEqual({ purpose: 'site-administration', actor: 'cron' });
    expect(() => service.runAs({ purpose: 'site-admin', actor: 'cron' }, () => 1)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE' }));
    await app.close();
  });

  it('is harmless when imported twice: one context per request, one record per @Accesses', async () => {
    const audit = new InMemoryAuditSink();
    const kit = kitFor(audit);
    const ids: string[] = [];
    @Controller()
    class IdController {
      @Purpose('diagnostics')
      @Accesses({ data: ['device-info'], action: 'read' })
      @Get('id')
      id() {
        ids.push(getPrivacyContext()!.requestId);
        return {};
      }
    }
    @Module({ imports: [PrivacyModule.forRoot({ kit })] })
    class FeatureModule {}
    const base = await startApp(platform, { imports: [PrivacyModule.forRoot({ kit }), FeatureModule], controllers: [IdController] });
    const res = await fetch(`${base}/id`);
    expect(res.status).toBe(200);
    await fetch(`${base}/id`);
    expect(new Set(ids).size).toBe(2);
    expect(audit.getRecords().map((e) => [e.kind, e.decision, e.requestId])).toEqual(ids.map((id) => ['access', 'allow', id]));
  });
});

it('warns once when the Express platform trusts every proxy', async () => {
  const warnings: string[] = [];
  const base = await startApp('express', { imports: [PrivacyModule.forRoot({ kit: kitFor(), onWarning: (_m, code) => warnings.push(code) })], controllers: [RootController], trustProxy: true });
  await fetch(`${base}/`);
  await fetch(`${base}/`);
  expect(warnings).toEqual(['PURPOSEKIT_WARN_TRUST_ALL_PROXIES']);
});
