/**
 * The OpenInfra Foundation reference app: the `openinfra` preset running for real on
 * Express. Every route declares its purpose; a log line per request shows the purpose and
 * legal basis it was tagged with (and only a truncated IP).
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { buildSubjectReport, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, openinfra, openKeyDirectory } from '@purposekit/core';
import type { AccessLogRecord, AuditSink, ConsentManager, ConsentStore, Purposekit } from '@purposekit/core';
import { Pool } from 'pg';
import { createPostgresAccessLog, createPostgresAuditSink, createPostgresConsentStore } from '@purposekit/postgres';
import { createPrivacy, createRightsRouter } from '@purposekit/express';
import { OpenInfraStore } from './store';
import type { Member } from './store';

export interface OpenInfraApp {
  app: express.Express;
  kit: Purposekit;
  consent: ConsentManager;
  store: OpenInfraStore;
  /** Where the audit trail is written, and the key that verifies it. */
  auditDir: string;
  publicKeyPath: string;
  close(): Promise<void>;
}

const str = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);

/** Options of {@link createApp}. */
export interface OpenInfraAppOptions {
  /** App data (members, submissions) and, without a database, the audit trail and consent file. */
  dataDir: string;
  logger: Logger;
  trustProxy?: string | number | boolean;
  /**
   * A PostgreSQL URL (`DATABASE_URL`): the audit trail, consent and rights register then
   * live in the database, shared by every instance. Default: the embedded file stores.
   */
  databaseUrl?: string;
  /** The PostgreSQL schema (with `databaseUrl`). Default `purposekit`. */
  databaseSchema?: string;
  /** This instance's audit stream id (with `databaseUrl`; one per instance). Default `openinfra-1`. */
  instance?: string;
  /** The key directory; instances sharing a database share it. Default `<dataDir>/keys`. */
  keysDir?: string;
}

/** Builds the app (no listening): data under `dataDir`; trail and consent in files or PostgreSQL. */
export async function createApp(options: OpenInfraAppOptions): Promise<OpenInfraApp> {
  const { dataDir, logger } = options;
  // First start creates the key directory (a demo convenience; production keys come from
  // `purposekit keys generate`). Its subject key also opens `purposekit audit report --key`.
  const keys = openKeyDirectory(options.keysDir ?? join(dataDir, 'keys'), { createIfMissing: true });
  const auditDir = options.databaseUrl === undefined ? `${dataDir}/audit` : 'PostgreSQL ($DATABASE_URL)';
  let audit: AuditSink;
  let consentStore: ConsentStore & { close(): Promise<void> | void };
  let accessLog: (pseudonym: string) => Promise<Iterable<AccessLogRecord>>;
  let pool: Pool | undefined;
  if (options.databaseUrl !== undefined) {
    pool = new Pool({ connectionString: options.databaseUrl, max: 6 });
    pool.on('error', (err) => logger.warn({ code: (err as { code?: string }).code }, 'idle database connection lost'));
    const schema = options.databaseSchema ?? 'purposekit';
    audit = await createPostgresAuditSink({
      pool,
      schema,
      stream: options.instance ?? 'openinfra-1',
      signingKey: keys.signingKey,
      keyId: 'openinfra-app',
      checkpointEvery: openinfra.audit.checkpointEvery,
      checkpointIntervalMs: openinfra.audit.checkpointIntervalMs,
      migrate: true,
      onWarning: (message, code) => logger.warn({ code }, message),
    });
    consentStore = await createPostgresConsentStore({ pool, schema });
    accessLog = createPostgresAccessLog({ pool, schema });
  } else {
    audit = await createFileAuditSink({
      dir: auditDir,
      signingKey: keys.signingKey,
      keyId: 'openinfra-app',
      durability: openinfra.audit.durability,
      checkpointEvery: openinfra.audit.checkpointEvery,
      checkpointIntervalMs: openinfra.audit.checkpointIntervalMs,
    });
    consentStore = createFileConsentStore({ path: `${dataDir}/consent.jsonl` });
    accessLog = async (pseudonym) => (await buildSubjectReport(auditDir, { pseudonyms: [pseudonym] })).entries;
  }
  const kit = createPurposekit({
    policy: openinfra,
    audit,
    consentStore,
    subjectKey: keys.subjectKey,
    ageGate: { secret: keys.lockoutSecret, secureCookie: false },
  });
  const privacy = createPrivacy(kit, { onWarning: (message, code) => logger.warn({ code }, message) });
  const consent = createConsentManager(kit);
  const store = await OpenInfraStore.open(dataDir);
  /** Demo authentication: the member id returned at registration, as a bearer token. */
  const memberOf = (req: Request): string | undefined => {
    const m = /^Bearer ([0-9a-f-]{36})$/.exec(req.headers.authorization ?? '');
    return m?.[1];
  };

  const app = express();
  app.set('trust proxy', options.trustProxy ?? 'loopback');
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));
  app.use(privacy.middleware());
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // originalUrl: routers strip their mount prefix from req.path; the query string is never logged.
      const path = req.originalUrl.split('?', 1)[0];
      logger.info({ ...req.privacy!.logFields(), method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });

  const wrap = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

  // Undeclared: the policy's default purpose (service.provision).
  app.get('/', (_req, res) => {
    res.json({
      app: 'openinfra-express',
      policy: `${openinfra.id}@${openinfra.version}`,
      routes: ['GET /status', 'POST /members', 'GET /members/directory', 'POST /newsletter', 'DELETE /newsletter/:id', 'POST /newsletter/:id/deliveries', 'POST /surveys', 'POST /questions', 'GET /privacy/access-log', 'GET /privacy/export', 'POST /privacy/erasure', 'POST /privacy/restriction', 'POST /privacy/objection', 'POST /privacy/consent'],
    });
  });

  // "we use web visitor IP addresses to help diagnose problems with our servers"
  app.get('/status', privacy.purpose('diagnostics'), wrap(async (req, res) => {
    await req.privacy!.access({ data: ['ip-address'], action: 'read' });
    res.json({ ok: true, members: await store.countMembers(), yourAddressAsLogged: req.privacy!.clientIp });
  }));

  // Individual membership: 18+ ("Do not attempt to register as a services user unless you are at least 18").
  app.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), wrap(async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const name = str(b['name']);
    const email = str(b['email']);
    if (!name || !email) {
      res.status(400).json({ error: { code: 'APP_INVALID_MEMBER', message: 'name and email are required.' } });
      return;
    }
    const id = randomUUID();
    req.privacy!.setSubject(id);
    await req.privacy!.access({ data: ['name', 'email', 'employer', 'location', 'profession'], action: 'collect' });
    const inDirectory = b['directory'] === true;
    const member: Member = { id, name, email, inDirectory, joinedAt: new Date().toISOString() };
    for (const k of ['employer', 'location', 'profession'] as const) {
      const v = str(b[k]);
      if (v !== undefined) member[k] = v;
    }
    await store.addMember(member);
    if (inDirectory) {
      // "if you elect to be included in our Individual Member Directory": explicit consent.
      await consent.give(id, 'membership', { source: 'form', type: 'explicit' });
    }
    res.status(201).json({ id });
  }));

  // The Individual Member Directory lists only members who opted in.
  app.get('/members/directory', privacy.purpose('membership'), wrap(async (req, res) => {
    const listed = [];
    for (const m of await store.directory()) {
      await req.privacy!.access({ subject: m.id, data: ['name', 'employer', 'location', 'profession'], action: 'share', recipient: 'public' });
      listed.push({ name: m.name, employer: m.employer, location: m.location, profession: m.profession });
    }
    res.json({ members: listed });
  }));

  // Mailing list: consent, 13+ ("Do not submit information about yourself ... if you are under 13").
  app.post('/newsletter', privacy.purpose('marketing.email'), privacy.ageGate('any-collection'), wrap(async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const name = str(b['name']);
    const email = str(b['email']);
    if (!name || !email) {
      res.status(400).json({ error: { code: 'APP_INVALID_SUBSCRIBER', message: 'name and email are required.' } });
      return;
    }
    const id = randomUUID();
    req.privacy!.setSubject(id);
    await consent.give(id, 'marketing.email', { source: 'form', type: 'explicit' });
    await req.privacy!.access({ data: ['name', 'email'], action: 'collect' });
    await store.addSubscriber({ id, name, email });
    res.status(201).json({ id });
  }));

  // Surveys: "If you choose to participate in such a survey, you will be asked to submit
  // personal data such as your name, email address, and location." Consent, 13+.
  app.post('/surveys', privacy.purpose('surveys'), privacy.ageGate('any-collection'), wrap(async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const name = str(b['name']);
    const email = str(b['email']);
    const text = str(b['answer'], 2000);
    if (!name || !email || !text) {
      res.status(400).json({ error: { code: 'APP_INVALID_SURVEY', message: 'name, email and answer are required.' } });
      return;
    }
    const id = randomUUID();
    req.privacy!.setSubject(id);
    await consent.give(id, 'surveys', { source: 'form', type: 'explicit' });
    await req.privacy!.access({ data: ['name', 'email', 'location', 'content'], action: 'collect' });
    const location = str(b['location']);
    await store.addSubmission({ id, kind: 'survey', name, email, text, ...(location ? { location } : {}), at: new Date().toISOString() });
    res.status(201).json({ id });
  }));

  // Questions: "via our site to submit a question ... we will collect your name and email
  // address." Legitimate interests, 13+.
  app.post('/questions', privacy.purpose('customer-care'), privacy.ageGate('any-collection'), wrap(async (req, res) => {
    const b = req.body as Record<string, unknown>;
    const name = str(b['name']);
    const email = str(b['email']);
    const text = str(b['question'], 2000);
    if (!name || !email || !text) {
      res.status(400).json({ error: { code: 'APP_INVALID_QUESTION', message: 'name, email and question are required.' } });
      return;
    }
    const id = randomUUID();
    req.privacy!.setSubject(id);
    await req.privacy!.access({ data: ['name', 'email', 'content'], action: 'collect' });
    await store.addSubmission({ id, kind: 'question', name, email, text, at: new Date().toISOString() });
    res.status(201).json({ id });
  }));

  // Withdrawal: takes effect on the next decision; earlier processing stays lawful.
  app.delete('/newsletter/:id', privacy.purpose('marketing.email'), wrap(async (req, res) => {
    // The id is the subscription token returned at sign-up (the unsubscribe link's secret).
    const id = String(req.params['id']);
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      res.status(404).json({ error: { code: 'APP_NOT_FOUND', message: 'No such subscription.' } });
      return;
    }
    await consent.withdraw(id, 'marketing.email', { source: 'api' });
    res.status(204).end();
  }));

  // The mailing job sends one issue to one subscriber: only while their consent stands
  // (a withdrawal made on any instance governs it).
  app.post('/newsletter/:id/deliveries', privacy.purpose('marketing.email'), wrap(async (req, res) => {
    const id = String(req.params['id']);
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      res.status(404).json({ error: { code: 'APP_NOT_FOUND', message: 'No such subscription.' } });
      return;
    }
    await req.privacy!.access({ subject: id, data: ['email'], action: 'use' });
    res.status(202).json({ queued: true });
  }));

  // The GDPR rights, for the authenticated member, under /privacy (answered within one
  // month: each request is recorded with its due date). Erasure keeps the minimal "deleted
  // members" record the policy describes: "we may retain your name, email and OpenStackID".
  // (The rights handler tags its own requests with rights-fulfilment once it knows the
  // subject; no purpose() here, or every request falling through would carry it.)
  app.use(
    createRightsRouter(kit, {
      getSubject: memberOf,
      exporter: async (subject) => {
        const m = await store.member(subject);
        return m === undefined ? null : { member: m };
      },
      erasureRecord: async (subject): Promise<Record<string, string>> => {
        const kept = await store.keepDeletedRecord(subject, new Date().toISOString());
        return kept === undefined ? {} : { id: kept.id, name: kept.name, email: kept.email };
      },
      eraser: (subject) => store.eraseMember(subject),
      // "Request correction of the personal data that we hold about you": the profile fields
      // are corrected at once; anything else needs a person ("we may need to verify the
      // accuracy of the new data"), so it stays an open request until completed.
      rectifier: async (subject, changes) => {
        const fields = ['name', 'email', 'employer', 'location', 'profession'] as const;
        const update: Partial<Member> = {};
        for (const [k, v] of Object.entries(changes)) {
          if (!(fields as readonly string[]).includes(k) || (v !== null && str(v) === undefined) || ((k === 'name' || k === 'email') && v === null)) return 'pending';
          (update as Record<string, string | undefined>)[k] = v ?? undefined;
        }
        return (await store.updateMember(subject, update)) ? undefined : 'pending';
      },
      accessLog,
    }),
  );

  app.use(privacy.errorHandler());
  // Last resort: an app error never echoes its message (it could hold a value).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ requestId: req.privacy?.requestId, err: err instanceof Error ? err.name : 'unknown' }, 'unhandled error');
    if (!res.headersSent) res.status(500).json({ error: { code: 'APP_INTERNAL', message: 'Internal error.' } });
  });

  return {
    app,
    kit,
    consent,
    store,
    auditDir,
    publicKeyPath: keys.publicKeyPath,
    close: async () => {
      await store.close();
      await kit.close();
      await consentStore.close();
      await pool?.end();
    },
  };
}

/** Listens on `port` (0: any) on `host`. */
export function listen(app: express.Express, port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
