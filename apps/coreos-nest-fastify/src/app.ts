/**
 * The CoreOS reference app: the `coreos` preset running for real on NestJS 12 with the
 * Fastify platform, through `@purposekit/nestjs`. Every route declares its purpose (or
 * says that it relies on the policy's default); one log line per request shows the
 * purpose and legal basis it was tagged with, and only a truncated IP.
 *
 * Authentication is out of scope: the account id returned at sign-up is a demo bearer
 * token (`Authorization: Bearer <id>`). It stands in for a real session.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { coreos, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, createRightsHandler, openKeyDirectory } from '@purposekit/core';
import type { ConsentManager, Purposekit, RetentionStore, RightsHandlerOptions } from '@purposekit/core';
import { PrivacyModule, PrivacyRightsModule } from '@purposekit/nestjs';
import { AccountsController } from './accounts.controller';
import { AnalyticsController } from './analytics.controller';
import { AppExceptionFilter } from './app-exception.filter';
import { EmailController } from './email.controller';
import { APP_SERVICES, subjectOf, tokenDigest } from './http';
import { OperatorController } from './operator.controller';
import type { AppRequest } from './http';
import type { AppServices } from './http';
import { CoreOsStore } from './store';

/** Options of {@link createApp}. */
export interface CoreOsAppOptions {
  /** Where the accounts, the consent store, the audit trail and the keys live. */
  dataDir: string;
  /** One JSON line per request goes here. */
  logger: Logger;
  /**
   * Fastify's `trustProxy`: the reverse proxies whose X-Forwarded-For is believed.
   * Default `'loopback'` (a proxy on the same host); `false` believes none.
   */
  trustProxy?: boolean | string | string[];
  /**
   * The operator's bearer token for the mailings and the /operator routes. Default: read
   * from `<dataDir>/operator-token`, created there (mode 0600) on first start.
   */
  operatorToken?: string;
}

/** The operator token from `<dataDir>/operator-token`, created on first start. */
function operatorTokenIn(dataDir: string): string {
  const path = join(dataDir, 'operator-token');
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(path)) writeFileSync(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return readFileSync(path, 'utf8').trim();
}

export interface CoreOsApp {
  app: NestFastifyApplication;
  kit: Purposekit;
  consent: ConsentManager;
  store: CoreOsStore;
  /** Where the audit trail is written, and the key that verifies it. */
  auditDir: string;
  publicKeyPath: string;
  /** Closes the server (if listening), the store, the audit sink (flushed) and the consent store. */
  close(): Promise<void>;
}

@Module({})
class CoreOsModule {}

/** Builds the app (no listening): data, consent store and audit trail under `dataDir`. */
export async function createApp(options: CoreOsAppOptions): Promise<CoreOsApp> {
  const { dataDir, logger } = options;
  // First start creates the key directory (a demo convenience; production keys come from
  // `purposekit keys generate`). Its subject key also opens `purposekit audit report --key`.
  const keys = openKeyDirectory(join(dataDir, 'keys'), { createIfMissing: true });
  const auditDir = join(dataDir, 'audit');
  const audit = await createFileAuditSink({
    dir: auditDir,
    signingKey: keys.signingKey,
    keyId: 'coreos-app',
    durability: coreos.audit.durability,
    checkpointEvery: coreos.audit.checkpointEvery,
    checkpointIntervalMs: coreos.audit.checkpointIntervalMs,
  });
  const onWarning = (message: string, code: string): void => {
    logger.warn({ code }, message);
  };
  const store = await CoreOsStore.open(dataDir);
  // The retention port, one entry per store. CoreOS keeps what it keeps "as required by
  // law": no purpose states a duration, so a sweep finds nothing expired by itself; the
  // port is in place for the day the policy states one.
  const rows = (kind: 'events' | 'outbox' | 'opens', name: string, purposes: string[]): RetentionStore => ({
    name,
    purposes,
    list: async () => (await store.rows(kind)).map((r) => ({ id: r.rowId, clockStart: r.at, subject: r.subject })),
    erase: (item) => store.removeRow(kind, item.id),
  });
  const retentionStores: RetentionStore[] = [
    {
      name: 'accounts-db',
      purposes: ['service.registration', 'account-management'],
      list: async () => (await store.accounts()).map((a) => ({ id: a.id, clockStart: a.createdAt, subject: a.id })),
      erase: (item) => store.eraseAccount(item.id),
    },
    rows('events', 'analytics-events-db', ['analytics']),
    rows('outbox', 'outbox-db', ['marketing.email', 'notifications']),
    rows('opens', 'email-opens-db', ['product-improvement']),
  ];
  const kit = createPurposekit({
    policy: coreos,
    audit,
    subjectKey: keys.subjectKey,
    consentStore: createFileConsentStore({ path: join(dataDir, 'consent.jsonl'), onWarning }),
    retentionStores,
  });
  const consent = createConsentManager(kit);
  // The rights the policy honours (erasure, withdraw-consent) under /privacy, served by
  // the core's rights handler. Account deletion on request is POST /privacy/erasure: "we
  // may retain certain information as required by law", so the erasure record (account
  // id, sign-up and erasure dates: no name, no email) is stored first, for
  // legal-compliance, and only its field names reach the trail.
  const rightsOptions: RightsHandlerOptions<AppRequest> = {
    getSubject: (req) => subjectOf(store, req),
    erasureRecord: async (subject) => {
      const kept = await store.keepErasureRecord(subject, new Date().toISOString());
      return kept === undefined ? {} : { ...kept };
    },
    eraser: (subject) => store.eraseAccount(subject),
  };
  const services: AppServices = { kit, consent, store, operatorDigest: tokenDigest(options.operatorToken ?? operatorTokenIn(dataDir)), rights: createRightsHandler(kit, rightsOptions) };

  const root: DynamicModule = {
    module: CoreOsModule,
    imports: [
      PrivacyModule.forRoot({ kit, onWarning }),
      PrivacyRightsModule.forRoot<AppRequest>(rightsOptions),
    ],
    controllers: [AccountsController, AnalyticsController, EmailController, OperatorController],
    providers: [{ provide: APP_SERVICES, useValue: services }],
  };
  // Fastify decides which X-Forwarded-For hops to believe; purposekit takes exactly its
  // answer (request.ips) and redacts it before anything else sees it.
  const adapter = new FastifyAdapter({ trustProxy: options.trustProxy ?? 'loopback', bodyLimit: 16 * 1024 });
  const app = await NestFactory.create<NestFastifyApplication>(root, adapter, { logger: false, abortOnError: false });
  app.useGlobalFilters(new AppExceptionFilter(logger, app.getHttpAdapter()));

  // A body is JSON or nothing: Fastify's own text/plain parser is removed, so any other
  // media type is 415 before a controller runs.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  // One line per request, once the response is sent. Path only: a query string can carry
  // a token (the beacon's message id), so it never reaches the log.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      const url = request.url;
      const q = url.indexOf('?');
      logger.info(
        { ...request.raw.privacy?.logFields(), method: request.method, path: q === -1 ? url : url.slice(0, q), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 1000) / 1000 },
        'request',
      );
      done();
    });

  return {
    app,
    kit,
    consent,
    store,
    auditDir,
    publicKeyPath: keys.publicKeyPath,
    close: async () => {
      await app.close();
      await store.close();
      await kit.close();
      await kit.consentStore.close?.();
    },
  };
}

/** Listens on `port` (0: any) on `host`; resolves to the base URL. */
export async function listen(app: NestFastifyApplication, port: number, host = '127.0.0.1'): Promise<string> {
  await app.listen(port, host);
  const address = app.getHttpServer().address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
}
