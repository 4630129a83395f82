/**
 * The Bitnami reference app: the `bitnami` preset running for real on NestJS (Express
 * platform). Every controller declares its purpose with `@Purpose` (or relies on the
 * policy's default, said where it does); everything that collects personal data sits
 * behind `@AgeGate('coppa')`; a log line per request shows the purpose and legal basis
 * it was tagged with (and only a truncated IP).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { bitnami, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, createRightsHandler, openKeyDirectory } from '@purposekit/core';
import type { FileConsentStore, Purposekit, RetentionStore, RightsHandlerOptions } from '@purposekit/core';
import { PrivacyModule, PrivacyRightsModule } from '@purposekit/nestjs';
import { AccountsController } from './accounts.controller';
import { AppExceptionFilter } from './app-exception.filter';
import { APP_SERVICES, bearer, tokenDigest } from './http';
import type { AppRequest, AppServices } from './http';
import { NewsletterController } from './newsletter.controller';
import { PinoNestLogger } from './nest-logger';
import { OperatorController } from './operator.controller';
import { OrdersController } from './orders.controller';
import { PartnersController } from './partners.controller';
import { PaymentGateway } from './payment-gateway';
import { PrivacyInfoController } from './privacy-info.controller';
import { requestLog } from './request-log.middleware';
import { BitnamiStore } from './store';

export interface BitnamiApp {
  /** The Nest application, initialised but not listening. */
  app: NestExpressApplication;
  kit: Purposekit;
  store: BitnamiStore;
  /** The payment gateway as the app uses it (bound: each call is an access under `payment`). */
  gateway: PaymentGateway;
  /** Where the audit trail is written, and the key that verifies it. */
  auditDir: string;
  publicKeyPath: string;
  /** Stops the app, then flushes and closes the stores and the audit trail. */
  close(): Promise<void>;
}

/** Options of {@link createApp}. */
export interface BitnamiAppOptions {
  /** Where the accounts, orders, consent records, the audit trail and the keys live. */
  dataDir: string;
  /** One JSON line per request goes here. */
  logger: Logger;
  /** Express's `trust proxy`. Default `'loopback'`. */
  trustProxy?: string | number | boolean;
  /**
   * The operator's bearer token (the newsletter send, order notices, /operator routes).
   * Default: read from `<dataDir>/operator-token`, created there (mode 0600) on first start.
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

/** Builds the app (no listening): data, consent records and audit trail under `dataDir`. */
export async function createApp(options: BitnamiAppOptions): Promise<BitnamiApp> {
  const { dataDir, logger } = options;
  // First start creates the key directory (a demo convenience; production keys come from
  // `purposekit keys generate`). Its subject key also opens `purposekit audit report --key`.
  const keys = openKeyDirectory(join(dataDir, 'keys'), { createIfMissing: true });
  const auditDir = join(dataDir, 'audit');
  const audit = await createFileAuditSink({
    dir: auditDir,
    signingKey: keys.signingKey,
    keyId: 'bitnami-app',
    durability: bitnami.audit.durability,
    checkpointEvery: bitnami.audit.checkpointEvery,
    checkpointIntervalMs: bitnami.audit.checkpointIntervalMs,
  });
  const consentStore: FileConsentStore = createFileConsentStore({ path: join(dataDir, 'consent.jsonl'), onWarning: (message, code) => logger.warn({ code }, message) });
  const store = await BitnamiStore.open(dataDir);
  // The retention port. The one period the policy states: card data is kept "solely for
  // the purpose of processing your recurring subscription payments until such a
  // subscription is cancelled" (payment: P0D from subscription-end, erased). A
  // subscription's clock starts when it is cancelled (not before); a one-off purchase's at
  // the transaction, as it has no subscription to wait for.
  const retentionStores: RetentionStore[] = [
    {
      name: 'orders-db',
      purposes: ['payment'],
      list: async () =>
        (await store.ordersWithCard()).map((o) => ({ id: o.id, subject: o.account, clockStart: o.subscription === true ? o.cancelledAt : o.placedAt })),
      erase: (item) => store.eraseCard(item.id),
    },
  ];
  const kit = createPurposekit({
    policy: bitnami,
    audit,
    consentStore,
    subjectKey: keys.subjectKey,
    ageGate: { secret: keys.lockoutSecret, secureCookie: false },
    retentionStores,
  });
  // "encrypted into our Payment gateway providers database": the only recipient of card data.
  const gateway = kit.bind(new PaymentGateway(), { tokenize: { data: ['payment'], action: 'share', recipient: 'payment-gateway' } });

  // The rights the policy honours: "request that we remove you from our email list"
  // (withdraw-consent) and objection to the newsletter. Same demo bearer token.
  const getSubject = async (req: AppRequest): Promise<string | undefined> => {
    const id = bearer(req);
    if (id === undefined) return undefined;
    return (await store.account(id)) !== undefined || (await store.subscribers()).some((s) => s.id === id) ? id : undefined;
  };
  const rightsOptions: RightsHandlerOptions<AppRequest> = { getSubject };
  const services: AppServices = {
    kit,
    consent: createConsentManager(kit),
    store,
    gateway,
    rights: createRightsHandler(kit, rightsOptions),
    operatorDigest: tokenDigest(options.operatorToken ?? operatorTokenIn(dataDir)),
  };

  @Module({
    imports: [PrivacyModule.forRoot({ kit, onWarning: (message, code) => logger.warn({ code }, message) }), PrivacyRightsModule.forRoot(rightsOptions)],
    controllers: [PrivacyInfoController, AccountsController, OrdersController, NewsletterController, PartnersController, OperatorController],
    providers: [{ provide: APP_SERVICES, useValue: services }],
  })
  class AppModule {}

  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: new PinoNestLogger(logger), abortOnError: false, bodyParser: false });
  app.set('trust proxy', options.trustProxy ?? 'loopback');
  app.disable('x-powered-by');
  // Before the body parser: a request whose body does not parse still gets its log line
  // (without the privacy fields, which Nest's middleware adds after parsing).
  app.use(requestLog(logger));
  app.useBodyParser('json', { limit: '16kb' });
  // Every error in the standard shape, nothing of the request echoed (see the filter).
  app.useGlobalFilters(new AppExceptionFilter(logger, app.getHttpAdapter()));
  await app.init();

  return {
    app,
    kit,
    store,
    gateway,
    auditDir,
    publicKeyPath: keys.publicKeyPath,
    close: async () => {
      await app.close();
      await store.close();
      await consentStore.close();
      await kit.close();
    },
  };
}

/** Listens on `port` (0: any) on `host`. */
export async function listen(app: NestExpressApplication, port: number, host = '127.0.0.1'): Promise<Server> {
  await app.listen(port, host);
  return app.getHttpServer() as Server;
}
