/**
 * The framework-neutral data-subject rights endpoints. Adapters mount it under a prefix
 * (default `/privacy`) and translate nothing but the request (method, path, parsed
 * body, their request object, the privacy context) and the response.
 *
 * The subject is ALWAYS the one `getSubject(request)` returns (the app's
 * authentication): no path segment, query parameter or body field can name another
 * one; a body carrying a `subject` is rejected as malformed.
 */
import { createConsentManager, consentRule } from '../consent/consent-manager';
import type { ConsentManager } from '../consent/consent-manager';
import { applyPurpose, begin, declarePurpose, runInContext } from '../adapter';
import type { ConsentRecord } from '../consent/consent-store';
import type { PrivacyContext } from '../context';
import { PurposekitError, errorResponse, isPurposekitError } from '../errors';
import { didYouMean, show } from '../policy/suggest';
import type { Purposekit } from '../purposekit';
import type { Right } from '../vocabulary';
import { rightsDueDate } from './due';

/** One record of the subject's access log, as the audit trail holds it (an `AuditEventRecord` fits). */
export interface AccessLogRecord {
  readonly kind: string;
  readonly ts?: string;
  readonly subject?: string;
  readonly actor?: string;
  readonly data?: readonly string[];
  readonly action?: string;
  readonly purpose?: string;
  readonly basis?: string;
  readonly decision?: string;
  readonly reason?: string;
  readonly recipient?: string;
  readonly requestId?: string;
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/** What an app callback may answer when the work continues outside the request (a manual task). */
export type Pending = 'pending';

/** Options of {@link createRightsHandler}. */
export interface RightsHandlerOptions<TRequest = unknown> {
  /**
   * The authenticated subject's internal id (never an email), or undefined when the
   * request is not authenticated (401). Required.
   */
  getSubject(request: TRequest): string | undefined | Promise<string | undefined>;
  /** Path prefix of the endpoints. Default `/privacy`. */
  prefix?: string;
  /** The app's data about the subject, for the export (any JSON value). Required when the policy honours access or portability. */
  exporter?(subject: string): unknown;
  /**
   * Erases the subject's data. Return `'pending'` when the erasure continues outside the
   * request (the request then stays open until {@link RightsHandler.complete}). Required
   * when the policy honours erasure.
   */
  eraser?(subject: string): void | Pending | Promise<void | Pending>;
  /**
   * Called BEFORE the eraser when the policy keeps an erasure record
   * (`rights.keepErasureRecord`, default true): the app stores its minimal record (OpenInfra
   * keeps name, email and OpenStackID in a "deleted members" database) and returns it.
   * purposekit writes only the field NAMES into the trail (keyed by the subject's
   * pseudonym) and tells the subject which fields were kept. Optional: without it the
   * trail record alone proves the erasure.
   */
  erasureRecord?(subject: string): Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /**
   * The subject's records from the audit trail (the subject access report), given the
   * subject's pseudonym. Records of other subjects are filtered out again here.
   * Required when the policy honours access or portability.
   */
  accessLog?(pseudonym: string): Iterable<AccessLogRecord> | Promise<Iterable<AccessLogRecord>>;
  /**
   * Applies a rectification (`changes`: field → corrected value, or null to clear).
   * Return `'pending'` for a manual correction. Optional: without it the rectification
   * endpoint answers 404 (most apps let people edit their profile instead).
   */
  rectifier?(subject: string, changes: Readonly<Record<string, string | null>>): void | Pending | Promise<void | Pending>;
  /** Clock (ms since epoch), for tests. Default `Date.now`. */
  now?: () => number;
}

/** The framework-neutral request. */
export interface RightsHttpRequest<TRequest = unknown> {
  readonly method: string;
  /** The full path (query string allowed; it is ignored). */
  readonly path: string;
  /** The parsed JSON body (undefined when none). */
  readonly body: unknown;
  /** The framework's request object, handed to `getSubject`. */
  readonly request: TRequest;
  /** The request's privacy context (from the adapter's middleware). Default: a fresh one. */
  readonly context?: PrivacyContext;
}

/** The response an adapter sends as is (JSON body). */
export interface RightsResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** The rights endpoints of one engine. Create with {@link createRightsHandler}. */
export interface RightsHandler<TRequest = unknown> {
  /** The validated prefix, e.g. `/privacy`. */
  readonly prefix: string;
  /**
   * Answers one request. Resolves to `undefined` when the method and path are not one of
   * the endpoints (the adapter passes the request on). Never rejects: every failure is
   * a response (`{ error: { code, message } }`), and a failed request stays open in the
   * trail so that `purposekit rights due` lists it.
   */
  handle(input: RightsHttpRequest<TRequest>): Promise<RightsResponse | undefined>;
  /**
   * True when `method` + `path` (query ignored) is one of the endpoints. Adapters check it
   * before parsing a body, so the app's own routes under the prefix stay the app's.
   */
  matches(method: string, path: string): boolean;
  /**
   * Records the completion of a request that was left `pending` (a manual erasure or
   * rectification), under its original request id.
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   */
  complete(request: { requestId: string; subject: string; right: Right }): Promise<void>;
}

type Endpoint = 'access-log' | 'export' | 'erasure' | 'restriction' | 'objection' | 'consent' | 'rectification';

const ROUTES: Readonly<Record<string, Endpoint>> = Object.freeze(Object.assign(Object.create(null) as Record<string, Endpoint>, {
  'GET access-log': 'access-log',
  'GET export': 'export',
  'POST erasure': 'erasure',
  'POST restriction': 'restriction',
  'DELETE restriction': 'restriction',
  'POST objection': 'objection',
  'DELETE objection': 'objection',
  'POST consent': 'consent',
  'POST rectification': 'rectification',
}));

const OPTION_KEYS = ['getSubject', 'prefix', 'exporter', 'eraser', 'erasureRecord', 'accessLog', 'rectifier', 'now'] as const;
const PREFIX = /^(?:\/[A-Za-z0-9._~-]+)+$/;
const HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
const RIGHTS_PURPOSE = 'rights-fulfilment';
const ACTOR = 'data-subject';
const CONSENT_BODY_STATES = ['given', 'withdrawn', 'refused'] as const;
const MAX_CHANGES = 64;
const MAX_VALUE = 4096;
const FIELD = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function badRequest(field: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', message, { details: { field } });
}

function plainBody(body: unknown, allowed: readonly string[], required: boolean): Record<string, unknown> {
  if (body === undefined || body === null || (typeof body === 'string' && body === '')) {
    if (required) throw badRequest('body', 'A JSON object body is required.');
    return {};
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('body', 'The body must be a JSON object.');
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    // `subject` lands here too: the subject only ever comes from getSubject.
    if (!allowed.includes(key)) throw badRequest(key, `Unknown field ${show(key)}.${didYouMean(key, allowed)}`);
  }
  return record;
}

/** Actors shown to the subject as they are; any other (a staff member's or another user's internal id) is shown as the organisation. */
const SHOWN_ACTORS = new Set(['service', 'data-subject', 'rights-handler']);

function report(r: AccessLogRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['ts', 'kind', 'actor', 'data', 'action', 'purpose', 'basis', 'decision', 'reason', 'recipient', 'requestId', 'attributes'] as const) {
    if (r[k] !== undefined) out[k] = r[k];
  }
  // Art. 15 tells the person who processed their data by role, not which colleague:
  // another person's internal id must not leak through someone's access log.
  if (typeof out['actor'] === 'string' && !SHOWN_ACTORS.has(out['actor'])) out['actor'] = 'organisation';
  return out;
}

/**
 * Creates the data-subject rights endpoints for an engine (GDPR Arts. 15–21, 7(3)):
 *
 * | method + path | right | answer |
 * |---|---|---|
 * | `GET {prefix}/access-log` | access | 200 `{ request, records }`: the subject access report from the trail |
 * | `GET {prefix}/export` | portability (or access) | 200 one JSON document: app data + consent history + access log |
 * | `POST {prefix}/erasure` | erasure | 200 `{ request, erased: true, kept }` (202 when the eraser answers `pending`) |
 * | `POST` / `DELETE {prefix}/restriction` | restriction | 200 `{ request, restricted }` |
 * | `POST` / `DELETE {prefix}/objection` `{ purpose }` | objection | 200 `{ request, purpose, objected }` |
 * | `POST {prefix}/consent` `{ purpose, state }` | withdraw-consent (for `withdrawn`) | 200 `{ consent }` |
 * | `POST {prefix}/rectification` `{ changes }` | rectification | 200 (202 when pending); only with a `rectifier` |
 *
 * Each rights request is recorded in the trail (`kind: 'rights'`, subject pseudonymised,
 * `attributes: { right, status: 'received' | 'completed', due }`, the due date being
 * receipt + `policy.rights.responseTime`). Errors: 401 PURPOSEKIT_ERR_UNAUTHENTICATED
 * without a subject; 404 PURPOSEKIT_ERR_RIGHT_NOT_OFFERED for a right the policy does not
 * honour; 400 PURPOSEKIT_ERR_BAD_REQUEST for a malformed body (`details.field`); 503
 * PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the trail cannot record the request; 500
 * PURPOSEKIT_ERR_INTERNAL when an app callback fails.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION at start-up for a bad option, or
 *   when the policy honours a right whose callback is missing (access/portability →
 *   `exporter` and `accessLog`; erasure → `eraser`).
 */
export function createRightsHandler<TRequest = unknown>(kit: Purposekit, options: RightsHandlerOptions<TRequest>): RightsHandler<TRequest> {
  if (typeof options !== 'object' || options === null) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'createRightsHandler(kit, options) takes an options object: { getSubject, exporter, eraser, accessLog }.');
  }
  for (const key of Object.keys(options)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `Unknown option "${key}" for createRightsHandler().${didYouMean(key, OPTION_KEYS)}`);
    }
  }
  for (const key of OPTION_KEYS) {
    if (key === 'prefix') continue;
    const v = options[key];
    if ((v !== undefined || key === 'getSubject') && typeof v !== 'function') {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createRightsHandler(): "${key}" must be a function, got ${show(v)}.${key === 'getSubject' ? ' It returns the authenticated subject id of a request (or undefined).' : ''}`);
    }
  }
  const prefix = options.prefix ?? '/privacy';
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createRightsHandler(): "prefix" must be a path such as /privacy (no trailing slash), got ${show(prefix)}.`);
  }
  const honoured = kit.policy.rights.honoured;
  const missing: string[] = [];
  if ((honoured.has('access') || honoured.has('portability')) && options.exporter === undefined) missing.push('exporter (the app\'s data for the export)');
  if ((honoured.has('access') || honoured.has('portability')) && options.accessLog === undefined) missing.push('accessLog (the subject\'s records from the audit trail)');
  if (honoured.has('erasure') && options.eraser === undefined) missing.push('eraser');
  if (missing.length > 0) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createRightsHandler(): policy "${kit.policyId}" honours ${[...honoured].join(', ')}, so these callbacks are required: ${missing.join('; ')}.`);
  }

  const { getSubject, exporter, eraser, erasureRecord, accessLog, rectifier } = options;
  const now = options.now ?? Date.now;
  const consent: ConsentManager = createConsentManager(kit, { now });
  const rightsDecl = RIGHTS_PURPOSE in kit.policy.purposes ? declarePurpose(kit, RIGHTS_PURPOSE) : undefined;
  // runAs needs a purpose of the policy; the records name rights-fulfilment explicitly.
  const anyPurpose = kit.policy.defaultPurpose ?? rightsDecl?.purpose ?? Object.keys(kit.policy.purposes)[0]!;

  const record = (ctx: PrivacyContext | undefined, subject: string, right: Right, status: 'received' | 'completed', due: string, extra: Record<string, string> = {}): Promise<void> =>
    kit.record('rights', ctx, { subject, actor: ACTOR, purpose: RIGHTS_PURPOSE, attributes: { right, status, due, ...extra } });

  function notOffered(right: string): PurposekitError {
    return new PurposekitError('PURPOSEKIT_ERR_RIGHT_NOT_OFFERED', `The policy "${kit.policyId}" does not honour the right "${right}".`, { details: { right } });
  }

  async function subjectRecords(subject: string): Promise<Array<Record<string, unknown>>> {
    const pseudonym = kit.pseudonymizeSubject(subject);
    const out: Array<Record<string, unknown>> = [];
    for (const r of await accessLog!(pseudonym)) {
      // Filtered here again, whatever the callback does: one subject never sees another's records.
      if (r.kind !== 'checkpoint' && r.subject === pseudonym) out.push(report(r));
    }
    return out;
  }

  async function dispatch(endpoint: Endpoint, method: string, body: unknown, request: TRequest, ctx: PrivacyContext): Promise<RightsResponse> {
    const subject = await getSubject(request);
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      throw new PurposekitError('PURPOSEKIT_ERR_UNAUTHENTICATED', 'The rights endpoints need an authenticated subject (getSubject returned none).');
    }

    // Which right, and the body, before anything is recorded: a refused request is not a request.
    let right: Right;
    let input: Record<string, unknown> = {};
    switch (endpoint) {
      case 'access-log':
        right = 'access';
        break;
      case 'export':
        right = honoured.has('portability') ? 'portability' : 'access';
        break;
      case 'erasure':
      case 'restriction':
        right = endpoint;
        input = plainBody(body, [], false);
        break;
      case 'objection':
        right = 'objection';
        input = plainBody(body, ['purpose'], true);
        break;
      case 'rectification':
        right = 'rectification';
        if (rectifier === undefined) throw notOffered(right);
        input = plainBody(body, ['changes'], true);
        break;
      case 'consent': {
        input = plainBody(body, ['purpose', 'state'], true);
        const state = input['state'];
        if (typeof state !== 'string' || !(CONSENT_BODY_STATES as readonly string[]).includes(state)) {
          throw badRequest('state', `"state" must be one of ${CONSENT_BODY_STATES.join(', ')}.`);
        }
        right = 'withdraw-consent';
        break;
      }
    }
    const consentState = endpoint === 'consent' ? (input['state'] as (typeof CONSENT_BODY_STATES)[number]) : undefined;
    // Giving or refusing consent is not a rights request; withdrawing one is (Art. 7(3)).
    const isRightsRequest = consentState === undefined || consentState === 'withdrawn';
    // Withdrawing consent is always possible, whatever the policy lists: it must be as easy
    // as giving it (GDPR Art. 7(3)), and giving it is always accepted here.
    const alwaysOffered = consentState === 'withdrawn';
    if (isRightsRequest && !alwaysOffered && !honoured.has(right) && !(endpoint === 'export' && honoured.has('access'))) throw notOffered(right);

    let purpose: string | undefined;
    if (endpoint === 'objection' || endpoint === 'consent') {
      const p = input['purpose'];
      if (typeof p !== 'string' || p.length === 0) throw badRequest('purpose', '"purpose" must be one of the policy\'s purposes.');
      if (endpoint === 'objection') {
        const rule = kit.policy.purposes[p];
        if (rule === undefined) throw badRequest('purpose', `${show(p)} is not a purpose of this service.${didYouMean(p, Object.keys(kit.policy.purposes))}`);
        // Art. 21: legitimate interests, public task, and direct marketing (the policy's `objection` flag).
        if (!rule.objection) throw badRequest('purpose', `The right to object does not apply to "${p}" (basis ${rule.basis}).`);
      } else {
        consentRule(kit, p); // 400 for an unknown or non-consent purpose
      }
      purpose = p;
    }
    let changes: Record<string, string | null> | undefined;
    if (endpoint === 'rectification') {
      const c = input['changes'];
      if (typeof c !== 'object' || c === null || Array.isArray(c)) throw badRequest('changes', '"changes" must be an object of field → corrected value.');
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length === 0 || entries.length > MAX_CHANGES) throw badRequest('changes', `"changes" must name 1 to ${MAX_CHANGES} fields.`);
      changes = Object.create(null) as Record<string, string | null>;
      for (const [k, v] of entries) {
        if (k.length > 64 || (v !== null && (typeof v !== 'string' || v.length > MAX_VALUE))) throw badRequest('changes', '"changes" values must be strings (at most 4096 characters) or null.');
        changes[k] = v as string | null;
      }
    }

    if (rightsDecl !== undefined) applyPurpose(kit, ctx, rightsDecl);
    ctx.setSubject(subject);
    ctx.setActor(ACTOR);

    const receivedAt = new Date(now());
    const due = rightsDueDate(receivedAt, kit.policy.rights.responseTime).toISOString();
    const requestInfo = { id: ctx.requestId, right, due };
    if (isRightsRequest) await record(ctx, subject, right, 'received', due, endpoint === 'objection' && purpose !== undefined ? { target: purpose } : {});
    const done = async (status: number, payload: Record<string, unknown>, extra?: Record<string, string>): Promise<RightsResponse> => {
      if (isRightsRequest) await record(ctx, subject, right, 'completed', due, extra);
      return { status, headers: HEADERS, body: isRightsRequest ? { request: { ...requestInfo, status: 'completed' }, ...payload } : payload };
    };
    const pending = (payload: Record<string, unknown>): RightsResponse => ({ status: 202, headers: HEADERS, body: { request: { ...requestInfo, status: 'pending' }, ...payload } });

    switch (endpoint) {
      case 'access-log':
        return done(200, { records: await subjectRecords(subject) });
      case 'export': {
        const [data, history, log] = await Promise.all([exporter!(subject), consent.history(subject), subjectRecords(subject)]);
        return done(200, {
          format: 'purposekit-export',
          version: 1,
          generatedAt: receivedAt.toISOString(),
          policy: { id: kit.policyId, version: kit.policyVersion },
          subject,
          data: data === undefined ? null : data,
          consent: history,
          accessLog: log,
        });
      }
      case 'erasure': {
        let kept: string[] = [];
        if (kit.policy.rights.keepErasureRecord && erasureRecord !== undefined) {
          kept = Object.keys(await erasureRecord(subject)).sort();
        }
        const outcome = await eraser!(subject);
        // Consent given before stays on record (proof, Art. 7(1)) but no longer counts:
        // an account re-created under the same id must not inherit it.
        for (const r of latestGiven(await consent.history(subject))) {
          if (kit.policy.purposes[r.purpose]?.basis !== 'consent') continue;
          await consent.withdraw(subject, r.purpose, { context: ctx, source: 'api', type: r.type });
        }
        if (outcome === 'pending') return pending({ erased: false, kept });
        return done(200, { erased: true, kept }, kept.length > 0 ? { keptRecord: kept.join(',') } : {});
      }
      case 'restriction': {
        const restricted = method === 'POST';
        await kit.consentStore.setRestriction(subject, restricted);
        return done(200, { restricted }, restricted ? {} : { lifted: 'true' });
      }
      case 'objection': {
        const objected = method === 'POST';
        await kit.consentStore.setObjection(subject, purpose!, objected);
        return done(200, { purpose, objected }, { target: purpose!, ...(objected ? {} : { lifted: 'true' }) });
      }
      case 'consent': {
        const rec = await consent.change(subject, purpose!, consentState!, { context: ctx, source: 'api' });
        return done(200, { consent: rec });
      }
      case 'rectification': {
        const outcome = await rectifier!(subject, changes!);
        if (outcome === 'pending') return pending({ fields: Object.keys(changes!) });
        return done(200, { fields: Object.keys(changes!) });
      }
    }
  }

  const prefixSlash = `${prefix}/`;
  const endpointOf = (rawMethod: unknown, rawPath: unknown): Endpoint | undefined => {
    const method = typeof rawMethod === 'string' ? rawMethod.toUpperCase() : '';
    const raw = typeof rawPath === 'string' ? rawPath : '';
    const q = raw.indexOf('?');
    let path = q < 0 ? raw : raw.slice(0, q);
    if (path.length > prefixSlash.length && path.endsWith('/')) path = path.slice(0, -1);
    if (!path.startsWith(prefixSlash)) return undefined;
    return ROUTES[`${method} ${path.slice(prefixSlash.length)}`];
  };
  return Object.freeze({
    prefix,
    matches: (method: string, path: string): boolean => endpointOf(method, path) !== undefined,
    async handle(input: RightsHttpRequest<TRequest>): Promise<RightsResponse | undefined> {
      const method = typeof input.method === 'string' ? input.method.toUpperCase() : '';
      const endpoint = endpointOf(method, input.path);
      if (endpoint === undefined) return undefined;
      const ctx = input.context ?? begin(kit, { headers: {}, remoteAddress: undefined });
      try {
        return await runInContext(kit, ctx, () => dispatch(endpoint, method, input.body, input.request, ctx));
      } catch (error) {
        const { status, body } = errorResponse(error);
        // Name the offending field of a malformed body (a schema name, never a value).
        const field = isPurposekitError(error) && error.code === 'PURPOSEKIT_ERR_BAD_REQUEST' ? error.details?.['field'] : undefined;
        if (typeof field === 'string' && FIELD.test(field)) return { status, headers: HEADERS, body: { error: { ...body.error, field } } };
        return { status, headers: HEADERS, body };
      }
    },
    async complete(req: { requestId: string; subject: string; right: Right }): Promise<void> {
      if (typeof req?.requestId !== 'string' || typeof req.subject !== 'string' || typeof req.right !== 'string') {
        throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'complete() takes { requestId, subject, right }.');
      }
      await kit.runAs({ purpose: anyPurpose, actor: 'rights-handler', requestId: req.requestId }, () =>
        kit.record('rights', undefined, { subject: req.subject, actor: 'rights-handler', purpose: RIGHTS_PURPOSE, attributes: { right: req.right, status: 'completed' } }),
      );
    },
  });
}

function latestGiven(history: readonly ConsentRecord[]): ConsentRecord[] {
  const latest = new Map<string, ConsentRecord>();
  for (const r of history) latest.set(r.purpose, r);
  return [...latest.values()].filter((r) => r.state === 'given');
}
