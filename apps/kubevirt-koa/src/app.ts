/**
 * The KubeVirt reference app: the `kubevirt` preset running for real on Koa 3 with
 * @koa/router. Every route declares its purpose; one log line per request shows the
 * purpose and legal basis it was tagged with (and only a truncated IP).
 *
 * Authentication is out of scope: the account id returned at registration is a demo
 * bearer token (`Authorization: Bearer <id>`), read by `subjectOf`. It stands in for a
 * real session and must not be copied into a real service.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import Koa from 'koa';
import type { Context, Middleware } from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import { buildSubjectReport, createConsentManager, createFileAuditSink, createFileConsentStore, createPurposekit, isPurposekitError, kubevirt, openKeyDirectory, requirePrivacyContext } from '@purposekit/core';
import type { ConsentManager, PrivacyContext, Purposekit } from '@purposekit/core';
import { createPrivacy, createRightsRouter } from '@purposekit/koa';
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
}

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
  const kit = createPurposekit({
    policy: kubevirt,
    audit,
    subjectKey: keys.subjectKey,
    consentStore: createFileConsentStore({ path: join(dataDir, 'consent.jsonl'), onWarning: (message, code) => logger.warn({ code }, message) }),
    ageGate: { secret: keys.lockoutSecret, secureCookie: false },
  });
  const consent = createConsentManager(kit);
  const privacy = createPrivacy(kit, { onWarning: (message, code) => logger.warn({ code }, message) });
  const store = await KubeVirtStore.open(dataDir);

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
    ctx.state.privacy!.setSubject(subject);
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
  app.use(
    createRightsRouter(kit, {
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
    }),
  );

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
      ],
    };
  });

  // "We use IP addresses to help diagnose problems with our servers" (legitimate interests).
  // With a bearer token the access names its subject, so an objection to diagnostics applies.
  router.get('/status', privacy.purpose('diagnostics'), async (ctx) => {
    const subject = await subjectOf(ctx);
    if (subject !== undefined) ctx.state.privacy!.setSubject(subject);
    await ctx.state.privacy!.access({ data: ['ip-address'], action: 'read' });
    ctx.body = { ok: true, accounts: await store.countAccounts(), yourAddressAsLogged: ctx.state.privacy!.clientIp };
  });

  // "... and to help ensure the security of your interaction with our services": failed
  // logins are counted per truncated address (the redacted form is all app code gets).
  // The token check itself is the demo stand-in for a real login.
  const failedLogins = new Map<string, number>();
  router.post('/login', privacy.purpose('security'), async (ctx) => {
    const p = ctx.state.privacy!;
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
    const p = ctx.state.privacy!;
    p.setSubject(id);
    await p.access({ data: categoriesOf(parsed.fields), action: 'collect' });
    const account: Account = { id, name: parsed.fields.name!, email: parsed.fields.email!, createdAt: new Date().toISOString() };
    if (parsed.fields.githubHandle !== undefined) account.githubHandle = parsed.fields.githubHandle;
    await store.addAccount(account);
    reply(ctx, 201, { id, token: id });
  });

  // "some personal data attached to KubeVirt accounts is made public by default,
  // particularly: your email address and any display name ...; your github handle."
  // Each listing is an access per person: someone who objected (or restricted processing)
  // is left out, and the deny is on the record.
  router.get('/contributors', privacy.purpose('public-record'), async (ctx) => {
    const listed = [];
    for (const a of await store.accounts()) {
      const data = a.githubHandle === undefined ? ['name', 'email'] : ['name', 'email', 'username'];
      try {
        await ctx.state.privacy!.access({ subject: a.id, data, action: 'share', recipient: 'public' });
      } catch (err) {
        const reason = isPurposekitError(err) && err.code === 'PURPOSEKIT_ERR_ACCESS_DENIED' ? (err.details as { reason?: string } | undefined)?.reason : undefined;
        if (reason === 'objection' || reason === 'restricted') continue;
        throw err;
      }
      listed.push({ name: a.name, email: a.email, ...(a.githubHandle !== undefined ? { githubHandle: a.githubHandle } : {}) });
    }
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
    const p = ctx.state.privacy!;
    const updated = await rectify(p, p.subject!, parsed.fields);
    await kit.record('rights', p, { subject: p.subject!, data, action: 'update', attributes: { right: 'rectification', status: 'completed' } });
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
    const p = ctx.state.privacy!;
    const record = await consent.change(p.subject!, 'analytics', state, { source: 'form', context: p });
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
    const p = ctx.state.privacy!;
    await p.access({ data: ['usage-data', 'ip-address'], action: 'collect' });
    await store.addPageView({ subject: p.subject!, path, at: new Date().toISOString(), ip: p.clientIp });
    reply(ctx, 204);
  });

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
