/**
 * The framework-neutral data-subject rights endpoints. Adapters mount it under a prefix
 * (default `/privacy`) and translate nothing but the request (method, path, parsed
 * body, their request object, the privacy context) and the response.
 *
 * The subject is ALWAYS the one `getSubject(request)` returns (the app's
 * authentication): no path segment, query parameter or body field can name another
 * one; a body carrying a `subject` is rejected as malformed.
 *
 * The parts live beside this file: routes.ts (which method + path is which endpoint),
 * request-parsing.ts (the right and the body), fulfilment.ts (callbacks, stores,
 * answers), access-report.ts (the subject access report), lifecycle.ts (the request's
 * states in the trail).
 */
import { applyPurpose, begin, declarePurpose, runInContext } from '../adapter';
import { createConsentManager } from '../consent/consent-manager';
import type { PrivacyContext } from '../context';
import { PurposekitError, errorResponse, isPurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { validateOptions } from '../options';
import type { Purposekit } from '../purposekit';
import { rightsDueDate } from './due';
import { fulfil, markErased } from './fulfilment';
import { REFUSAL_REASONS, RIGHTS_PURPOSE, SUBJECT_ACTOR, createRightsLifecycle } from './lifecycle';
import { parseRightsRequest } from './request-parsing';
import { PREFIX, endpointMatcher } from './routes';
import type { Endpoint } from './routes';
import type { RightsHandler, RightsHandlerOptions, RightsHttpRequest, RightsResponse } from './types';

export type {
  AccessLogRecord,
  CompleteRightsRequest,
  ExtendRightsRequest,
  Pending,
  RefusalReason,
  RefuseRightsRequest,
  RightsHandler,
  RightsHandlerOptions,
  RightsHttpRequest,
  RightsRequestRef,
  RightsRequestState,
  RightsResponse,
} from './types';

const OPTION_KEYS = ['getSubject', 'prefix', 'exporter', 'eraser', 'erasureRecord', 'accessLog', 'rectifier', 'screen', 'now'] as const;
const HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
const FIELD = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

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
 * `attributes: { right, status, due }`, the due date being receipt +
 * `policy.rights.responseTime`), through its states: `received` → (`extended`) →
 * `completed` | `refused` | `partly-completed` (an erasure that leaves the purposes the
 * policy keeps: `keptPurposes` in the answer). A completed erasure marks the subject
 * erased in the consent store. Errors: 401 PURPOSEKIT_ERR_UNAUTHENTICATED
 * without a subject; 404 PURPOSEKIT_ERR_RIGHT_NOT_OFFERED for a right the policy does not
 * honour; 403 PURPOSEKIT_ERR_RIGHTS_REFUSED when `screen` refuses it; 400 PURPOSEKIT_ERR_BAD_REQUEST for a malformed body (`details.field`); 503
 * PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the trail cannot record the request; 500
 * PURPOSEKIT_ERR_INTERNAL when an app callback fails.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION at start-up for a bad option, or
 *   when the policy honours a right whose callback is missing (access/portability →
 *   `exporter` and `accessLog`; erasure → `eraser`, and a consent store with `setErased`).
 */
export function createRightsHandler<TRequest = unknown>(kit: Purposekit, options: RightsHandlerOptions<TRequest>): RightsHandler<TRequest> {
  // Keys here; each value below, with the rights-specific wording.
  validateOptions('createRightsHandler()', options, Object.fromEntries(OPTION_KEYS.map((k) => [k, null])), { optional: false, usage: '{ getSubject, exporter, eraser, accessLog }' });
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
  if (honoured.has('erasure') && typeof kit.consentStore.setErased !== 'function') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createRightsHandler(): policy "${kit.policyId}" honours erasure, but the engine's consent store has no setErased(): after an erasure every access must be denied. Use a store that records erasures (InMemoryConsentStore, createFileConsentStore).`);
  }

  const { getSubject, rectifier, screen } = options;
  const now = options.now ?? Date.now;
  const lifecycle = createRightsLifecycle(kit, now);
  const scope = { kit, options, consent: createConsentManager(kit, { now }), lifecycle, headers: HEADERS };
  const rightsDecl = RIGHTS_PURPOSE in kit.policy.purposes ? declarePurpose(kit, RIGHTS_PURPOSE) : undefined;
  const endpointOf = endpointMatcher(prefix);

  async function dispatch(endpoint: Endpoint, method: string, body: unknown, request: TRequest, ctx: PrivacyContext): Promise<RightsResponse> {
    const subject = await getSubject(request);
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) {
      throw new PurposekitError('PURPOSEKIT_ERR_UNAUTHENTICATED', 'The rights endpoints need an authenticated subject (getSubject returned none).');
    }
    // Which right, and the body, before anything is recorded: a malformed request is not a request.
    const parsed = parseRightsRequest(kit, endpoint, body, rectifier !== undefined);
    const { right, isRightsRequest, purpose } = parsed;

    if (rightsDecl !== undefined) applyPurpose(kit, ctx, rightsDecl);
    ctx.setSubject(subject);
    ctx.setActor(SUBJECT_ACTOR);

    const receivedAt = new Date(now());
    const due = rightsDueDate(receivedAt, kit.policy.rights.responseTime).toISOString();
    const requestInfo = { id: ctx.requestId, right, due };
    if (isRightsRequest) {
      await lifecycle.record(ctx, subject, right, 'received', { due, ...(endpoint === 'objection' && purpose !== undefined ? { target: purpose } : {}) });
      // A withdrawal of consent is never screened: it must stay as easy as giving it (Art. 7(3)).
      const refusal = screen === undefined || right === 'withdraw-consent' ? undefined : await screen({ subject, right, request });
      if (refusal !== undefined) {
        if (!(REFUSAL_REASONS as readonly string[]).includes(refusal)) {
          throw new PurposekitError('PURPOSEKIT_ERR_INTERNAL', `screen() returned ${show(refusal)}; expected undefined or one of ${REFUSAL_REASONS.join(', ')}.`);
        }
        await lifecycle.record(ctx, subject, right, 'refused', { due, reason: refusal });
        throw new PurposekitError('PURPOSEKIT_ERR_RIGHTS_REFUSED', `The ${right} request was refused (${refusal}).`, { details: { reason: refusal, requestId: ctx.requestId } });
      }
    }
    return fulfil(scope, endpoint, method, parsed, subject, ctx, requestInfo, receivedAt);
  }

  const handler: RightsHandler<TRequest> = {
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
    complete: (req) => lifecycle.complete(req, (subject) => markErased(kit, subject)),
    extend: (req) => lifecycle.extend(req),
    refuse: (req) => lifecycle.refuse(req),
    receive: (req) => lifecycle.receive(req),
  };
  return Object.freeze(handler);
}
