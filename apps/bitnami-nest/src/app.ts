/**
 * The Bitnami reference app: the `bitnami` preset running for real on NestJS (Express
 * platform). Every controller declares its purpose with `@Purpose` (or relies on the
 * policy's default, said where it does); everything that collects personal data sits
 * behind `@AgeGate('coppa')`; a log line per request shows the purpose and legal basis
 * it was tagged with (and only a truncated IP).
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import { bitnami, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, openKeyDirectory } from '@purposekit/core';
import type { FileConsentStore, Purposekit } from '@purposekit/core';
import { PrivacyModule, PrivacyRightsModule } from '@purposekit/nestjs';
import { AccountsController } from './accounts.controller';
import { APP_SERVICES, bearer } from './http';
import type { AppRequest, AppServices } from './http';
import { NewsletterController } from './newsletter.controller';
import { PinoNestLogger } from './nest-logger';
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

/** Builds the app (no listening): data, consent records and audit trail under `dataDir`. */
export async function createApp(options: { dataDir: string; logger: Logger; trustProxy?: string | number | boolean }): Promise<BitnamiApp> {
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
  const kit = createPurposekit({
    policy: bitnami,
    audit,
    consentStore,
    subjectKey: keys.subjectKey,
    ageGate: { secret: keys.lockoutSecret, secureCookie: false },
  });
  const store = await BitnamiStore.open(dataDir);
  // "encrypted into our Payment gateway providers database": the only recipient of card data.
  const gateway = kit.bind(new PaymentGateway(), { tokenize: { data: ['payment'], action: 'share', recipient: 'payment-gateway' } });
  const services: AppServices = { kit, consent: createConsentManager(kit), store, gateway };

  // The rights the policy honours: "request that we remove you from our email list"
  // (withdraw-consent) and objection to the newsletter. Same demo bearer token.
  const getSubject = async (req: AppRequest): Promise<string | undefined> => {
    const id = bearer(req);
    if (id === undefined) return undefined;
    return (await store.account(id)) !== undefined || (await store.subscribers()).some((s) => s.id === id) ? id : undefined;
  };

  @Module({
    imports: [PrivacyModule.forRoot({ kit, onWarning: (message, code) => logger.warn({ code }, message) }), PrivacyRightsModule.forRoot({ getSubject })],
    controllers: [PrivacyInfoController, AccountsController, OrdersController, NewsletterController, PartnersController],
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
