/**
 * The KubeVirt reference app: the `kubevirt` preset running for real on Koa 3 with
 * @koa/router. Every route declares its purpose; one log line per request shows the
 * purpose and legal basis it was tagged with (and only a truncated IP).
 *
 * Authentication is out of scope: the account id returned at registration is a demo
 * bearer token (`Authorization: Bearer <id>`), read by `subjectOf`. It stands in for a
 * real session and must not be copied into a real service.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import Koa from 'koa';
import type { Context, Middleware } from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { buildSubjectReport, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, createRightsHandler, isPurposekitError, kubevirt, openKeyDirectory, requirePrivacyContext } from '@purposekit/core';
import type { ConsentManager, PrivacyContext, Purposekit, RefusalReason, RetentionStore, Right, RightsHandlerOptions } from '@purposekit/core';
import { createPrivacy, createRightsRouter, privacyOf } from '@purposekit/koa';
import { jsonBody } from './json-body';
import { KubeVirtStore } from './store';
import type { Account, AccountChanges } from './store';

/** Options of {@link createApp}. */
export interface KubeVirtAppOptions {
  /** Where the accounts, the consent store, the audit trail and the keys live. */
  dataDir: string;
  /** One JSON line per request goes here. */
  logger: Logger;
  /**
   * Reverse proxies in front of the app (Koa's `app.maxIpsCount`; `app.proxy` is on when
   * this is above 0). Default 0: X-Forwarded-For is ignored and the socket peer counts.
   */
  proxyHops?: number;
  /** Failed logins per truncated address before `POST /login` answers 429. Default 5. */
  maxFailedLogins?: number;
  /**
   * The operator's bearer token for the routes under /operator. Default: read from
   * `<dataDir>/operator-token`, created there (mode 0600) on first start.
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

export interface KubeVirtApp {
  app: Koa;
  kit: Purposekit;
  consent: ConsentManager;
  store: KubeVirtStore;
  /** Where the audit trail is written, and the key that verifies it. */
  auditDir: string;
  publicKeyPath: string;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;

const str = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.trim().length > 0 && v.length <= max ? v.trim() : undefined);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// GitHub's own rule: alphanumerics and single inner hyphens, at most 39 characters.
const GITHUB_HANDLE = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const PAGE_PATH = /^\/[\x21-\x7e]{0,199}$/;

function bodyOf(ctx: Context): Body {
  const b = (ctx.request as { body?: unknown }).body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Body) : {};
}

function reply(ctx: Context, status: number, body?: unknown): void {
  ctx.status = status;
  if (body !== undefined) ctx.body = body;
}

function appError(ctx: Context, status: number, code: string, message: string): void {
  reply(ctx, status, { error: { code, message } });
}

/** Validates the profile fields of a registration or a rectification. Values are never echoed. */
function profileFields(b: Body, required: boolean): { ok: true; fields: AccountChanges } | { ok: false; message: string } {
  const fields: AccountChanges = {};
  const name = b['name'] === undefined ? undefined : str(b['name']);
  const email = b['email'] === undefined ? undefined : str(b['email'], 254);
  const handle = b['githubHandle'] === undefined ? undefined : str(b['githubHandle'], 39);
  if (b['name'] !== undefined && name === undefined) return { ok: false, message: 'name must be a non-empty string of at most 200 characters.' };
  if (b['email'] !== undefined && (email === undefined || !EMAIL.test(email))) return { ok: false, message: 'email must be an email address.' };
  if (b['githubHandle'] !== undefined && (handle === undefined || !GITHUB_HANDLE.test(handle))) return { ok: false, message: 'githubHandle must be a GitHub user name.' };
  if (required && (name === undefined || email === undefined)) return { ok: false, message: 'name and email are required.' };
  if (name !== undefined) fields.name = name;
  if (email !== undefined) fields.email = email;
  if (handle !== undefined) fields.githubHandle = handle;
  return { ok: true, fields };
}

/** The data categories a set of profile fields belongs to, in the vocabulary's terms. */
/** The subject `requireSubject` set on the request's context (a route without it is a programming error). */
function subjectSetBy(p: PrivacyContext): string {
  const subject = p.subject;
  if (subject === undefined) throw new TypeError('requireSubject must run before this route.');
  return subject;
}

function categoriesOf(fields: AccountChanges): string[] {
  const out: string[] = [];
  if (fields.name !== undefined) out.push('name');
  if (fields.email !== undefined) out.push('email');
  if (fields.githubHandle !== undefined) out.push('username');
  return out;
}

/** Builds the app (no listening): data, consent store and audit trail under `dataDir`. */
export async function createApp(options: KubeVirtAppOptions): Promise<KubeVirtApp> {
  const { dataDir, logger } = options;
  const proxyHops = options.proxyHops ?? 0;
  const maxFailedLogins = options.maxFailedLogins ?? 5;
  // First start creates the key directory (a demo convenience; production keys come from
  // `purposekit keys generate`). Its subject key also opens `purposekit audit report --key`.
  const keys = openKeyDirectory(join(dataDir, 'keys'), { createIfMissing: true });
  const auditDir = join(dataDir, 'audit');
  const audit = await createFileAuditSink({
    dir: auditDir,
    signingKey: keys.signingKey,
    keyId: 'kubevirt-app',
    durability: kubevirt.audit.durability,
    checkpointEvery: kubevirt.audit.checkpointEvery,
    checkpointIntervalMs: kubevirt.audit.checkpointIntervalMs,
  });
  const store = await KubeVirtStore.open(dataDir);
  // The retention port for both stores. The statement states no retention period (the
  // public contribution record is kept indefinitely, "as proof of your contributions"),
  // so a sweep finds nothing expired by itself.
  const retentionStores: RetentionStore[] = [
    {
      name: 'accounts-db',
      purposes: ['service.registration', 'public-record', 'notifications'],
      list: async () => (await store.accounts()).map((a) => ({ id: a.id, clockStart: a.createdAt, subject: a.id })),
      erase: async (item) => {
        await store.eraseSubject(item.id);
      },
    },
    {
      name: 'page-views-db',
      purposes: ['analytics'],
      list: async () => (await store.allPageViews()).map((v) => ({ id: v.rowId, clockStart: v.at, subject: v.subject })),
      erase: (item) => store.removePageView(item.id),
    },
  ];
  const kit = createPurposekit({
    policy: kubevirt,
    audit,
    subjectKey: keys.subjectKey,
    consentStore: createFileConsentStore({ path: join(dataDir, 'consent.jsonl'), onWarning: (message, code) => logger.warn({ code }, message) }),
    ageGate: { secret: keys.lockoutSecret, secureCookie: false },
    retentionStores,
  });
  const consent = createConsentManager(kit);
  const privacy = createPrivacy(kit, { onWarning: (message, code) => logger.warn({ code }, message) });
  const operatorDigest = digest(options.operatorToken ?? operatorTokenIn(dataDir));
  /** The operator's routes: `Authorization: Bearer <operator token>`, compared in constant time. */
  const requireOperator: Middleware = async (ctx, next) => {
    const m = /^Bearer (\S{1,200})$/.exec(ctx.get('authorization'));
    if (m === null || !timingSafeEqual(digest(m[1]!), operatorDigest)) {
      appError(ctx, 401, 'APP_OPERATOR_ONLY', 'This route is for the operator: send Authorization: Bearer <operator token>.');
      return;
    }
    await next();
  };

  /** The demo bearer token: the account id given at registration, for an account that exists. */
  async function subjectOf(ctx: Context): Promise<string | undefined> {
    const m = /^Bearer ([0-9a-f-]{36})$/i.exec(ctx.get('authorization'));
    const id = m?.[1]?.toLowerCase();
    return id !== undefined && (await store.account(id)) !== undefined ? id : undefined;
  }
  const requireSubject: Middleware = async (ctx, next) => {
    const subject = await subjectOf(ctx);
    if (subject === undefined) {
      appError(ctx, 401, 'APP_UNAUTHENTICATED', 'Send Authorization: Bearer <account id>.');
      return;
    }
    privacyOf(ctx).setSubject(subject);
    await next();
  };

  /** Rectification, shared by `PATCH /account` and the rights router: checked, then applied. */
  async function rectify(p: PrivacyContext, subject: string, fields: AccountChanges): Promise<Account | undefined> {
    await p.access({ subject, data: categoriesOf(fields), action: 'update' });
    return store.rectify(subject, fields);
  }

  const app = new Koa({ proxy: proxyHops > 0, maxIpsCount: proxyHops });
  app.silent = true;
  // Outermost: one log line per request, after the response is final.
  app.use(async function requestLog(ctx, next) {
    const started = process.hrtime.bigint();
    ctx.res.once('finish', () => {
      logger.info({ ...ctx.state.privacy?.logFields(), method: ctx.method, path: ctx.path, status: ctx.res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    });
    try {
      await next();
      // No route (or not this method): the standard error shape, never Koa's text.
      if (ctx.body === undefined && (ctx.status === 404 || ctx.status === 405 || ctx.status === 501)) {
        appError(ctx, ctx.status, 'APP_NOT_FOUND', 'No such route or method.');
      }
    } catch (err) {
      // Last resort: an app error never echoes its message (it could hold a value).
      logger.error({ requestId: ctx.state.privacy?.requestId, err: err instanceof Error ? err.name : 'unknown' }, 'unhandled error');
      appError(ctx, 500, 'APP_INTERNAL', 'Internal error.');
    }
  });
  app.use(privacy.middleware());
  app.use(jsonBody());

  // The GDPR rights ("Your Rights and Choices in the EEA") under /privacy, for the subject
  // of the demo bearer token. Each request runs under `rights-fulfilment` (set by the
  // handler), is recorded received/completed with its due date (one month), and each
  // callback checks its own access before it touches the data.
  const rightsOptions: RightsHandlerOptions<Context> = {
      getSubject: subjectOf,
      // Access and portability: the account and the page views, as one JSON document.
      exporter: async (subject) => {
        await kit.access({ subject, data: ['name', 'email', 'username', 'usage-data', 'ip-address'], action: 'export' });
        return store.exportSubject(subject);
      },
      // Erasure: the account and the page views, compacted away. The handler then
      // withdraws any consent still given, so a re-created account inherits none.
      eraser: async (subject) => {
        await kit.access({ subject, data: ['name', 'email', 'username', 'usage-data', 'ip-address'], action: 'delete' });
        await store.eraseSubject(subject);
      },
      // The subject access report: the subject's records in the audit trail. Report entries
      // leave out the pseudonym they were found by; the handler re-checks it on every record.
      accessLog: async (pseudonym) => (await buildSubjectReport(auditDir, { pseudonyms: [pseudonym] })).entries,
      // `POST /privacy/rectification { changes }`: the account fields are corrected at once;
      // anything else (or an invalid value) becomes a manual task for the privacy team
      // ('pending': the request stays open in the trail until it is completed).
      rectifier: async (subject, changes) => {
        const known = Object.keys(changes).every((k) => k === 'name' || k === 'email' || k === 'githubHandle');
        const parsed = known ? profileFields(changes, false) : undefined;
        if (parsed === undefined || !parsed.ok || categoriesOf(parsed.fields).length !== Object.keys(changes).length) return 'pending';
        await rectify(requirePrivacyContext(), subject, parsed.fields);
        return undefined;
      },
  };
  app.use(createRightsRouter(kit, rightsOptions));
  // The privacy team's side of the same requests (by their ids): an emailed request
  // recorded, a deadline extended (two further months at most, GDPR Art. 12(3): the
  // statement gives no deadline, the law does), a request refused ("the rights enumerated
  // above are not absolute in all cases": unfounded, excessive, identity not verified).
  const rights = createRightsHandler<Context>(kit, rightsOptions);

  const router = new Router();

  // Undeclared: the policy's default purpose (service.provision). Touches no personal data.
  router.get('/', (ctx) => {
    ctx.body = {
      app: 'kubevirt-koa',
      policy: `${kubevirt.id}@${kubevirt.version}`,
      routes: [
        'GET /status',
        'POST /login',
        'POST /accounts',
        'GET /contributors',
        'PATCH /account',
        'POST /analytics/consent',
        'POST /analytics/pageview',
        'GET /privacy/access-log',
        'GET /privacy/export',
        'POST /privacy/erasure',
        'POST|DELETE /privacy/restriction',
        'POST|DELETE /privacy/objection',
        'POST /privacy/consent',
        'POST /privacy/rectification',
        'POST /operator/notifications/send',
        'POST /operator/rights/receive',
        'POST /operator/rights/extend',
        'POST /operator/rights/refuse',
      ],
    };
  });

  // "We use IP addresses to help diagnose problems with our servers" (legitimate interests).
  // With a bearer token the access names its subject, so an objection to diagnostics applies.
  router.get('/status', privacy.purpose('diagnostics'), async (ctx) => {
    const subject = await subjectOf(ctx);
    const p = privacyOf(ctx);
    if (subject !== undefined) p.setSubject(subject);
    await p.access({ data: ['ip-address'], action: 'read' });
    ctx.body = { ok: true, accounts: await store.countAccounts(), yourAddressAsLogged: p.clientIp };
  });

  // "... and to help ensure the security of your interaction with our services": failed
  // logins are counted per truncated address (the redacted form is all app code gets).
  // The token check itself is the demo stand-in for a real login.
  const failedLogins = new Map<string, number>();
  router.post('/login', privacy.purpose('security'), async (ctx) => {
    const p = privacyOf(ctx);
    await p.access({ data: ['ip-address', 'usage-data'], action: 'use' });
    const address = p.clientIp;
    if ((failedLogins.get(address) ?? 0) >= maxFailedLogins) {
      appError(ctx, 429, 'APP_TOO_MANY_ATTEMPTS', 'Too many failed logins from your network; try again later.');
      return;
    }
    const token = str(bodyOf(ctx)['token'], 64);
    if (token === undefined || (await store.account(token.toLowerCase())) === undefined) {
      failedLogins.set(address, (failedLogins.get(address) ?? 0) + 1);
      appError(ctx, 401, 'APP_LOGIN_FAILED', 'Login failed.');
      return;
    }
    failedLogins.delete(address);
    ctx.body = { ok: true };
  });

  // Accounts only at 13+: "KubeVirt does not knowingly allow children under the age of 13
  // to become registered members of our sites." The date of birth is seen by the gate only.
  router.post('/accounts', privacy.purpose('service.registration'), privacy.ageGate('coppa'), async (ctx) => {
    const parsed = profileFields(bodyOf(ctx), true);
    if (!parsed.ok) {
      appError(ctx, 400, 'APP_INVALID_ACCOUNT', parsed.message);
      return;
    }
    const id = randomUUID();
    const p = privacyOf(ctx);
    p.setSubject(id);
    await p.access({ data: categoriesOf(parsed.fields), action: 'collect' });
    const account: Account = { id, name: parsed.fields.name!, email: parsed.fields.email!, createdAt: new Date().toISOString() };
    if (parsed.fields.githubHandle !== undefined) account.githubHandle = parsed.fields.githubHandle;
    await store.addAccount(account);
    reply(ctx, 201, { id, token: id });
  });

  // "some personal data attached to KubeVirt accounts is made public by default,
  // particularly: your email address and any display name ...; your github handle."
  // One decision per person, through checkEach(): someone who objected (or restricted
  // processing) is left out, the deny on the record and never in the answer; the whole
  // list costs one durable commit of the file sink (one record per listed person, written
  // together with one fdatasync), not one per person.
  router.get('/contributors', privacy.purpose('public-record'), async (ctx) => {
    const accounts = await store.accounts();
    const p = privacyOf(ctx);
    const withHandle = accounts.filter((a) => a.githubHandle !== undefined);
    const without = accounts.filter((a) => a.githubHandle === undefined);
    const allowed = new Set<string>();
    for (const [group, data] of [[withHandle, ['name', 'email', 'username']], [without, ['name', 'email']]] as const) {
      if (group.length === 0) continue;
      const decisions = await p.checkEach(group.map((a) => a.id), { data: [...data], action: 'share', recipient: 'public' });
      group.forEach((a, i) => {
        if (decisions[i]!.allowed) allowed.add(a.id);
      });
    }
    const listed = accounts.filter((a) => allowed.has(a.id)).map((a) => ({ name: a.name, email: a.email, ...(a.githubHandle !== undefined ? { githubHandle: a.githubHandle } : {}) }));
    ctx.body = { contributors: listed };
  });

  // "The right to rectify the personal data we hold about you": answering it is a legal
  // obligation (rights-fulfilment), which stays lawful even under a restriction.
  router.patch('/account', privacy.purpose('rights-fulfilment'), requireSubject, async (ctx) => {
    const parsed = profileFields(bodyOf(ctx), false);
    if (!parsed.ok) {
      appError(ctx, 400, 'APP_INVALID_ACCOUNT', parsed.message);
      return;
    }
    const data = categoriesOf(parsed.fields);
    if (data.length === 0) {
      appError(ctx, 400, 'APP_NOTHING_TO_RECTIFY', 'Send at least one of name, email, githubHandle.');
      return;
    }
    const p = privacyOf(ctx);
    const subject = subjectSetBy(p);
    const updated = await rectify(p, subject, parsed.fields);
    await kit.record('rights', p, { subject, data, action: 'update', attributes: { right: 'rectification', status: 'completed' } });
    ctx.body = { account: updated };
  });

  // Analytics consent, as a cookie banner would send it: given, refused or withdrawn.
  // "the withdrawal of consent will not affect the lawfulness of processing based on
  // consent before its withdrawal": the page views kept before it stay.
  router.post('/analytics/consent', privacy.purpose('analytics'), requireSubject, async (ctx) => {
    const state = bodyOf(ctx)['state'];
    if (state !== 'given' && state !== 'refused' && state !== 'withdrawn') {
      appError(ctx, 400, 'APP_INVALID_CONSENT', 'state must be given, refused or withdrawn.');
      return;
    }
    const p = privacyOf(ctx);
    const record = await consent.change(subjectSetBy(p), 'analytics', state, { source: 'form', context: p });
    ctx.body = { purpose: 'analytics', state: record.state, at: record.at };
  });

  // "our project uses Google Analytics to track your website activity, including times, IP
  // addresses, and pages visited": only with consent (explicit). A page view without it is
  // refused with the reason, and nothing of it is kept.
  router.post('/analytics/pageview', privacy.purpose('analytics'), requireSubject, async (ctx) => {
    const path = bodyOf(ctx)['path'];
    if (typeof path !== 'string' || !PAGE_PATH.test(path)) {
      appError(ctx, 400, 'APP_INVALID_PAGE', 'path must be a site path such as /docs/.');
      return;
    }
    const p = privacyOf(ctx);
    await p.access({ data: ['usage-data', 'ip-address'], action: 'collect' });
    await store.addPageView({ subject: subjectSetBy(p), path, at: new Date().toISOString(), ip: p.clientIp });
    reply(ctx, 204);
  });

  const operator = new Router({ prefix: '/operator' });
  // A malformed body to a rights call: the engine names it an invalid option (500
  // elsewhere: a programming error); here it is the operator's input, so 400.
  operator.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!(isPurposekitError(err) && err.code === 'PURPOSEKIT_ERR_INVALID_OPTION')) throw err;
      appError(ctx, 400, 'APP_INVALID_OPERATOR_REQUEST', 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.');
    }
  });
  const field = (ctx: Context, k: string): string => String(bodyOf(ctx)[k]);
  // An emailed request: { subject, right } → its id and due date.
  operator.post('/rights/receive', requireOperator, privacy.purpose('rights-fulfilment'), async (ctx) => {
    reply(ctx, 201, await rights.receive({ subject: field(ctx, 'subject'), right: field(ctx, 'right') as Right }));
  });
  // { requestId, subject, right, receivedAt, reason, by? } → the new due date, the notice recorded.
  operator.post('/rights/extend', requireOperator, privacy.purpose('rights-fulfilment'), async (ctx) => {
    const b = bodyOf(ctx);
    const { due } = await rights.extend({ requestId: field(ctx, 'requestId'), subject: field(ctx, 'subject'), right: field(ctx, 'right') as Right, receivedAt: field(ctx, 'receivedAt'), reason: field(ctx, 'reason'), ...(b['by'] !== undefined ? { by: field(ctx, 'by') } : {}) });
    ctx.body = { requestId: b['requestId'], status: 'extended', due };
  });
  // { requestId, subject, right, reason: unfounded | excessive | identity-not-verified }.
  operator.post('/rights/refuse', requireOperator, privacy.purpose('rights-fulfilment'), async (ctx) => {
    await rights.refuse({ requestId: field(ctx, 'requestId'), subject: field(ctx, 'subject'), right: field(ctx, 'right') as Right, reason: field(ctx, 'reason') as RefusalReason });
    ctx.body = { requestId: bodyOf(ctx)['requestId'], status: 'refused' };
  });
  // A batch job: "to inform you of important upcoming KubeVirt events (e.g. elections)",
  // by e-mail through the e-mail housing provider (a processor; the statement names no
  // country and no transfer mechanism, so none is recorded). One checkEach() over every
  // account; a deny (an objection does not apply: contract) skips that account.
  operator.post('/notifications/send', requireOperator, privacy.purpose('notifications'), async (ctx) => {
    const accounts = await store.accounts();
    const p = privacyOf(ctx);
    p.setActor('operator');
    const decisions = await p.checkEach(accounts.map((a) => a.id), { data: ['email', 'name'], action: 'share', recipient: 'email-housing' });
    ctx.body = {
      sent: accounts.filter((_, i) => decisions[i]!.allowed).map((a) => a.id),
      skipped: accounts.flatMap((a, i) => (decisions[i]!.allowed ? [] : [{ id: a.id, reason: decisions[i]!.reason }])),
    };
  });

  app.use(operator.routes());
  app.use(router.routes());
  app.use(router.allowedMethods());

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
      await kit.consentStore.close?.();
    },
  };
}

/** Listens on `port` (0: any) on `host`. */
export function listen(app: Koa, port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
