/**
 * The OpenInfra Foundation reference app: the `openinfra` preset running for real on
 * Express. Every route declares its purpose; a log line per request shows the purpose and
 * legal basis it was tagged with (and only a truncated IP).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { buildSubjectReport, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, createRightsHandler, isPurposekitError, openinfra, openKeyDirectory } from '@purposekit/core';
import type { AccessLogRecord, AuditSink, ConsentManager, ConsentStore, Purposekit, RetentionStore, RightsHandlerOptions } from '@purposekit/core';
import { createPostgresAccessLog, createPostgresAuditSink, createPostgresConsentStore } from '@purposekit/postgres';
import { Pool } from 'pg';
import { createPrivacy, createRightsRouter, privacyOf } from '@purposekit/express';
import { PostgresOpenInfraStore } from './pg-store';
import { OpenInfraStore } from './store';
import type { Member, OpenInfraData } from './store';

export interface OpenInfraApp {
  app: express.Express;
  kit: Purposekit;
  consent: ConsentManager;
  store: OpenInfraData;
  /** Where the audit trail is written (a directory, or on PostgreSQL its schema, for the banner), and the key that verifies it. */
  auditDir: string;
  /** On PostgreSQL: the pool the app's stores share (ended by `close()`). */
  pool: Pool | undefined;
  publicKeyPath: string;
  /** The operator's bearer token (the operator routes under /operator require it). */
  operatorToken: string;
  close(): Promise<void>;
}

/** Options of {@link createApp}. */
export interface OpenInfraAppOptions {
  /** Where the members, the consent store, the audit trail and the keys live. */
  dataDir: string;
  /** One JSON line per request goes here. */
  logger: Logger;
  /** Express's `trust proxy`. Default `'loopback'`. */
  trustProxy?: string | number | boolean;
  /**
   * A PostgreSQL connection string (`DATABASE_URL`). Set: the audit trail, the consent
   * store, the rights register (`@purposekit/postgres`) and the app's members,
   * subscriptions and submissions live in that database, shared by every instance of the
   * app. Unset (the default): embedded files under `dataDir`. The keys stay in
   * `dataDir/keys` either way: every instance needs the same ones.
   */
  databaseUrl?: string;
  /** The PostgreSQL schema (with `databaseUrl`). Default `purposekit`. */
  databaseSchema?: string;
  /** This instance's audit stream id (with `databaseUrl`; one per running instance, stable across restarts). Default `openinfra-1`. */
  instance?: string;
  /** The key directory; instances sharing a database share it. Default `<dataDir>/keys`. */
  keysDir?: string;
  /**
   * The operator's bearer token for the routes under /operator (they touch every
   * subscriber, or change rights requests). Default: read from `<dataDir>/operator-token`,
   * created there (mode 0600) with 32 random bytes on first start.
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

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

const str = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);
/** The JSON body as a record (an empty one for no body, an array or a scalar). */
const bodyOf = (req: Request): Record<string, unknown> => (typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {});

/** Builds the app (no listening): data and audit trail under `dataDir`. */
export async function createApp(options: OpenInfraAppOptions): Promise<OpenInfraApp> {
  const { dataDir, logger } = options;
  const operatorToken = options.operatorToken ?? operatorTokenIn(dataDir);
  const operatorDigest = digest(operatorToken);
  // First start creates the key directory (a demo convenience; production keys come from
  // `purposekit keys generate`). Its subject key also opens `purposekit audit report --key`.
  const keys = openKeyDirectory(options.keysDir ?? join(dataDir, 'keys'), { createIfMissing: true });
  const auditDir = options.databaseUrl === undefined ? `${dataDir}/audit` : `PostgreSQL (schema ${options.databaseSchema ?? 'purposekit'})`;
  const onWarning = (message: string, code: string): void => {
    logger.warn({ code }, message);
  };
  let pool: Pool | undefined;
  let audit: AuditSink;
  let consentStore: ConsentStore & { close?(): Promise<void> | void };
  let store: OpenInfraData;
  let accessLog: (pseudonym: string) => Promise<Iterable<AccessLogRecord>>;
  if (options.databaseUrl !== undefined) {
    // Many instances, one database: each instance writes its own audit stream (a hash
    // chain of its own, verified with the others), and reads consent and members from
    // the shared tables, so a withdrawal on one instance governs the next decision on all.
    const schema = options.databaseSchema ?? 'purposekit';
    pool = new Pool({ connectionString: options.databaseUrl, max: 6 });
    pool.on('error', (err) => logger.warn({ code: (err as { code?: string }).code }, 'idle database connection lost'));
    audit = await createPostgresAuditSink({
      pool,
      schema,
      stream: options.instance ?? 'openinfra-1',
      signingKey: keys.signingKey,
      keyId: 'openinfra-app',
      checkpointEvery: openinfra.audit.checkpointEvery,
      checkpointIntervalMs: openinfra.audit.checkpointIntervalMs,
      migrate: true,
      onWarning,
    });
    consentStore = await createPostgresConsentStore({ pool, schema, migrate: true, onWarning });
    store = await PostgresOpenInfraStore.open(pool, schema);
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
    store = await OpenInfraStore.open(dataDir);
    accessLog = async (pseudonym) => (await buildSubjectReport(auditDir, { pseudonyms: [pseudonym] })).entries;
  }
  // The retention port: each store lists its items per purpose with the instant their
  // clock started, and erases one. OpenInfra keeps data "only for as long as reasonably
  // necessary": no purpose has a duration, so a sweep finds nothing expired by itself
  // (a person decides, through erasure); the port is what a stated duration would use.
  const retentionStores: RetentionStore[] = [
    {
      name: 'members-db',
      purposes: ['service.registration', 'membership'],
      list: async () => (await store.members()).map((m) => ({ id: m.id, clockStart: m.joinedAt, subject: m.id })),
      erase: (item) => store.eraseMember(item.id),
    },
    {
      name: 'subscribers-db',
      purposes: ['marketing.email'],
      list: async () => (await store.subscribers()).map((s) => ({ id: s.id, clockStart: s.subscribedAt, subject: s.member ?? s.id })),
      erase: (item) => store.removeSubscriber(item.id),
    },
    {
      name: 'submissions-db',
      purposes: ['surveys', 'customer-care'],
      list: async (purpose) => (await store.submissions(purpose === 'surveys' ? 'survey' : 'question')).map((s) => ({ id: s.id, clockStart: s.at, subject: s.member ?? s.id })),
      erase: (item) => store.removeSubmission(item.id),
    },
  ];
  const kit = createPurposekit({
    policy: openinfra,
    audit,
    consentStore,
    subjectKey: keys.subjectKey,
    ageGate: { secret: keys.lockoutSecret, secureCookie: false },
    retentionStores,
  });
  const privacy = createPrivacy(kit, { onWarning });
  const consent = createConsentManager(kit);
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  /**
   * Demo authentication: the member id returned at registration, as a bearer token, for
   * a member that exists (a well-formed id of no one is not a member).
   */
  const memberOf = async (req: Request): Promise<string | undefined> => {
    const id = /^Bearer ([0-9a-f-]{36})$/i.exec(req.headers.authorization ?? '')?.[1]?.toLowerCase();
    return id !== undefined && UUID.test(id) && (await store.member(id)) !== undefined ? id : undefined;
  };
  /** The operator's routes: `Authorization: Bearer <operator token>` (compared in constant time). */
  const requireOperator = (req: Request, res: Response, next: NextFunction): void => {
    const m = /^Bearer (\S{1,200})$/.exec(req.headers.authorization ?? '');
    if (m !== null && timingSafeEqual(digest(m[1]!), operatorDigest)) {
      next();
      return;
    }
    res.status(401).json({ error: { code: 'APP_OPERATOR_ONLY', message: 'This route is for the operator: send Authorization: Bearer <operator token>.' } });
  };

  const app = express();
  app.set('trust proxy', options.trustProxy ?? 'loopback');
  app.disable('x-powered-by');
  // Outermost: one log line per request, whatever happens after (a body that does not
  // parse included). The path logged is the route's pattern when a route matched
  // (`/newsletter/:id`: the unsubscribe secret never reaches the log), else the path
  // without its query string.
  app.use(function requestLog(req: Request, res: Response, next: NextFunction) {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req as Request & { route?: { path?: unknown } }).route;
      const path = typeof route?.path === 'string' ? req.baseUrl + route.path : req.originalUrl.split('?', 1)[0];
      logger.info({ ...req.privacy?.logFields(), method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    next();
  });
  app.use(privacy.middleware());
  // A body is JSON or nothing: another media type is 415 before any route reads it.
  app.use(function jsonOnly(req: Request, res: Response, next: NextFunction) {
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    if (hasBody && !req.is('application/json')) {
      res.status(415).json({ error: { code: 'APP_UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json.' } });
      return;
    }
    next();
  });
  app.use(express.json({ limit: '16kb' }));

  const wrap = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

  // Undeclared: the policy's default purpose (service.provision).
  app.get('/', (_req, res) => {
    res.json({
      app: 'openinfra-express',
      policy: `${openinfra.id}@${openinfra.version}`,
      routes: ['GET /status', 'POST /members', 'GET /members/directory', 'POST /newsletter', 'DELETE /newsletter/:id', 'POST /newsletter/:id/deliveries', 'POST /surveys', 'POST /questions', 'GET /privacy/access-log', 'GET /privacy/export', 'POST /privacy/erasure', 'POST /privacy/restriction', 'POST /privacy/objection', 'POST /privacy/consent', 'POST /operator/newsletter/send', 'POST /operator/rights/extend', 'POST /operator/rights/refuse'],
    });
  });

  // "we use web visitor IP addresses to help diagnose problems with our servers"
  // With a member's bearer token the access names its subject: the member's own request,
  // so a Sec-GPC: 1 on it is stored as their opt-out (GDPR Art. 21(5)).
  app.get('/status', privacy.purpose('diagnostics'), wrap(async (req, res) => {
    const p = privacyOf(req);
    const member = await memberOf(req);
    if (member !== undefined) p.setSubject(member);
    await p.access({ data: ['ip-address'], action: 'read' });
    res.json({ ok: true, members: await store.countMembers(), yourAddressAsLogged: p.clientIp });
  }));

  // Individual membership: 18+ ("Do not attempt to register as a services user unless you are at least 18").
  app.post('/members', privacy.purpose('service.registration'), privacy.ageGate('registration'), wrap(async (req, res) => {
    const b = bodyOf(req);
    const name = str(b['name']);
    const email = str(b['email']);
    if (!name || !email) {
      res.status(400).json({ error: { code: 'APP_INVALID_MEMBER', message: 'name and email are required.' } });
      return;
    }
    const id = randomUUID();
    const p = privacyOf(req);
    p.setSubject(id);
    await p.access({ data: ['name', 'email', 'employer', 'location', 'profession'], action: 'collect' });
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

  // The Individual Member Directory lists only members who opted in, and whom the engine
  // allows to show: one checkEach() over the list, so a member who withdrew, restricted
  // or objected is left out (the deny on the trail, never in the answer), and the list
  // costs one durable commit of the file sink (one record per listed member, all written
  // together with one fdatasync), not one per member.
  app.get('/members/directory', privacy.purpose('membership'), wrap(async (req, res) => {
    const members = await store.directory();
    const decisions = await privacyOf(req).checkEach(members.map((m) => m.id), { data: ['name', 'employer', 'location', 'profession'], action: 'share', recipient: 'public' });
    const listed = members.filter((_, i) => decisions[i]!.allowed).map((m) => ({ name: m.name, employer: m.employer, location: m.location, profession: m.profession }));
    res.json({ members: listed });
  }));

  // Mailing list: consent, 13+ ("Do not submit information about yourself ... if you are under 13").
  app.post('/newsletter', privacy.purpose('marketing.email'), privacy.ageGate('any-collection'), wrap(async (req, res) => {
    const b = bodyOf(req);
    const name = str(b['name']);
    const email = str(b['email']);
    if (!name || !email) {
      res.status(400).json({ error: { code: 'APP_INVALID_SUBSCRIBER', message: 'name and email are required.' } });
      return;
    }
    // A signed-in member subscribes as themselves (their erasure then removes it); anyone
    // else gets a subscription id of their own, which is also the unsubscribe link's secret.
    const member = await memberOf(req);
    const id = member ?? randomUUID();
    const p = privacyOf(req);
    p.setSubject(id);
    await consent.give(id, 'marketing.email', { source: 'form', type: 'explicit', context: p });
    await p.access({ data: ['name', 'email'], action: 'collect' });
    await store.addSubscriber({ id, name, email, ...(member !== undefined ? { member } : {}), subscribedAt: new Date().toISOString() });
    res.status(201).json({ id });
  }));

  // Surveys: "If you choose to participate in such a survey, you will be asked to submit
  // personal data such as your name, email address, and location." Consent, 13+.
  app.post('/surveys', privacy.purpose('surveys'), privacy.ageGate('any-collection'), wrap(async (req, res) => {
    const b = bodyOf(req);
    const name = str(b['name']);
    const email = str(b['email']);
    const text = str(b['answer'], 2000);
    if (!name || !email || !text) {
      res.status(400).json({ error: { code: 'APP_INVALID_SURVEY', message: 'name, email and answer are required.' } });
      return;
    }
    const member = await memberOf(req);
    const id = randomUUID();
    const subject = member ?? id;
    const p = privacyOf(req);
    p.setSubject(subject);
    await consent.give(subject, 'surveys', { source: 'form', type: 'explicit', context: p });
    await p.access({ data: ['name', 'email', 'location', 'content'], action: 'collect' });
    const location = str(b['location']);
    await store.addSubmission({ id, kind: 'survey', name, email, text, ...(location ? { location } : {}), ...(member !== undefined ? { member } : {}), at: new Date().toISOString() });
    res.status(201).json({ id });
  }));

  // Questions: "via our site to submit a question ... we will collect your name and email
  // address." Legitimate interests, 13+.
  app.post('/questions', privacy.purpose('customer-care'), privacy.ageGate('any-collection'), wrap(async (req, res) => {
    const b = bodyOf(req);
    const name = str(b['name']);
    const email = str(b['email']);
    const text = str(b['question'], 2000);
    if (!name || !email || !text) {
      res.status(400).json({ error: { code: 'APP_INVALID_QUESTION', message: 'name, email and question are required.' } });
      return;
    }
    const member = await memberOf(req);
    const id = randomUUID();
    const p = privacyOf(req);
    p.setSubject(member ?? id);
    await p.access({ data: ['name', 'email', 'content'], action: 'collect' });
    await store.addSubmission({ id, kind: 'question', name, email, text, ...(member !== undefined ? { member } : {}), at: new Date().toISOString() });
    res.status(201).json({ id });
  }));

  // The mailing job (the operator) sends one issue to one subscriber: only while their
  // consent stands (a withdrawal made on any instance governs it).
  app.post('/newsletter/:id/deliveries', requireOperator, privacy.purpose('marketing.email'), wrap(async (req, res) => {
    const id = String(req.params['id']).toLowerCase();
    if (!UUID.test(id)) {
      res.status(404).json({ error: { code: 'APP_NOT_FOUND', message: 'No such subscription.' } });
      return;
    }
    await privacyOf(req).access({ subject: id, data: ['email'], action: 'use' });
    res.status(202).json({ queued: true });
  }));

  // Withdrawal: takes effect on the next decision; earlier processing stays lawful.
  app.delete('/newsletter/:id', privacy.purpose('marketing.email'), wrap(async (req, res) => {
    // The id is the subscription token returned at sign-up (the unsubscribe link's secret).
    // The log line names the route (`/newsletter/:id`), never the secret.
    const id = String(req.params['id']).toLowerCase();
    if (!UUID.test(id) || (await store.subscriber(id)) === undefined) {
      res.status(404).json({ error: { code: 'APP_NOT_FOUND', message: 'No such subscription.' } });
      return;
    }
    const p = privacyOf(req);
    p.setSubject(id);
    await consent.withdraw(id, 'marketing.email', { source: 'api', context: p });
    await store.removeSubscriber(id);
    res.status(204).end();
  }));

  // The GDPR rights, for the authenticated member, under /privacy (answered within one
  // month: each request is recorded with its due date). Erasure keeps the minimal "deleted
  // members" record the policy describes: "we may retain your name, email and OpenStackID".
  // (The rights handler tags its own requests with rights-fulfilment once it knows the
  // subject; no purpose() here, or every request falling through would carry it.)
  const rightsOptions: RightsHandlerOptions<Request> = {
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
      // "If your request under this section is clearly unfounded, repetitive or excessive,
      // we may ... refuse to comply": a fourth copy of one's data (access or portability)
      // within a day is refused as excessive (recorded `refused`, answered 403). Counted
      // from the trail (this request's `received` is already in it), so every instance on
      // one database sees the same requests.
      screen: async ({ subject, right }) => {
        if (right !== 'access' && right !== 'portability') return undefined;
        const since = Date.now() - 24 * 3600 * 1000;
        let copies = 0;
        for (const r of await accessLog(kit.pseudonymizeSubject(subject))) {
          const a = r.attributes;
          if (r.kind === 'rights' && a?.['status'] === 'received' && (a['right'] === 'access' || a['right'] === 'portability') && Date.parse(r.ts ?? '') >= since) copies++;
        }
        return copies > 3 ? 'excessive' : undefined;
      },
  };
  app.use(createRightsRouter(kit, rightsOptions));
  // The privacy team's side of the same requests: extend (with the notice the seed
  // promises: "we will notify you and keep you updated") or refuse one by its id.
  const rights = createRightsHandler<Request>(kit, rightsOptions);

  // Operator: "it may take us longer than a month. In this case, we will notify you":
  // { requestId, subject, right, receivedAt, reason, by? } → the new due date (two further
  // months at most, GDPR Art. 12(3); only before the first deadline).
  app.post('/operator/rights/extend', requireOperator, privacy.purpose('rights-fulfilment'), wrap(async (req, res) => {
    const b = bodyOf(req);
    const { due } = await rights.extend({ requestId: String(b['requestId']), subject: String(b['subject']), right: b['right'] as never, receivedAt: String(b['receivedAt']), reason: String(b['reason']), ...(b['by'] !== undefined ? { by: String(b['by']) } : {}) });
    res.json({ requestId: b['requestId'], status: 'extended', due });
  }));
  // Operator: "we may refuse to comply with your request" (unfounded, excessive, or the
  // identity could not be confirmed): { requestId, subject, right, reason }.
  app.post('/operator/rights/refuse', requireOperator, privacy.purpose('rights-fulfilment'), wrap(async (req, res) => {
    const b = bodyOf(req);
    await rights.refuse({ requestId: String(b['requestId']), subject: String(b['subject']), right: b['right'] as never, reason: b['reason'] as never });
    res.json({ requestId: b['requestId'], status: 'refused' });
  }));

  // Operator, a batch job: this issue of the newsletter goes to the email service provider
  // (Mailchimp, Emma, Sendgrid: a processor in the US, under standard contractual clauses)
  // for every subscriber the engine allows. One checkEach() for the whole list: a person
  // who withdrew, or sent Sec-GPC: 1 on a request of their own earlier (stored as their
  // opt-out), is skipped with the reason. The operator's own Sec-GPC header speaks for
  // the operator, not for the subscribers.
  app.post('/operator/newsletter/send', requireOperator, privacy.purpose('marketing.email'), wrap(async (req, res) => {
    const subscribers = await store.subscribers();
    const p = privacyOf(req);
    p.setActor('operator');
    const decisions = await p.checkEach(subscribers.map((s) => s.member ?? s.id), { data: ['name', 'email'], action: 'share', recipient: 'email-service-provider' });
    const sent: string[] = [];
    const skipped: Array<{ id: string; reason: string }> = [];
    subscribers.forEach((s, i) => {
      const d = decisions[i]!;
      if (d.allowed) sent.push(s.id);
      else skipped.push({ id: s.id, reason: d.reason });
    });
    res.json({ sent, skipped });
  }));

  // No route: the standard error shape (the path is not echoed: it may carry a secret).
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'APP_NOT_FOUND', message: 'No such route or method.' } });
  });
  // The body parser's errors: never a 500, never the body echoed.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (err as { type?: unknown } | null)?.type;
    const answer =
      type === 'entity.too.large' ? ([413, 'APP_BODY_TOO_LARGE', 'The body is larger than 16 KiB.'] as const)
        : type === 'encoding.unsupported' || type === 'charset.unsupported' ? ([415, 'APP_UNSUPPORTED_ENCODING', 'Send the body as UTF-8 JSON, without a content encoding the server does not support.'] as const)
          : type === 'entity.parse.failed' || type === 'entity.verify.failed' || type === 'request.aborted' || type === 'request.size.invalid' ? ([400, 'APP_INVALID_BODY', 'The body is not valid JSON.'] as const)
            : undefined;
    if (answer === undefined || res.headersSent) {
      next(err);
      return;
    }
    res.status(answer[0]).json({ error: { code: answer[1], message: answer[2] } });
  });
  // An operator's rights call with a malformed body: the engine names it an invalid
  // option (500 elsewhere: a programming error); here it is the caller's input, so 400.
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/operator/') && isPurposekitError(err) && err.code === 'PURPOSEKIT_ERR_INVALID_OPTION' && !res.headersSent) {
      res.status(400).json({ error: { code: 'APP_INVALID_OPERATOR_REQUEST', message: 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.' } });
      return;
    }
    next(err);
  });
  // The engine's errors (a deny, an extension the policy does not allow, an audit outage).
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
    operatorToken,
    pool,
    close: async () => {
      await store.close();
      await kit.close();
      await consentStore.close?.();
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
