/**
 * Public types of the data-subject rights endpoints (see rights-handler.ts).
 */
import type { PrivacyContext } from '../context';
import type { Right } from '../vocabulary';

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
  /**
   * Screens a request after it is recorded as received: return a refusal reason to
   * refuse it (recorded as `refused`, answered 403 PURPOSEKIT_ERR_RIGHTS_REFUSED), or
   * undefined to go on. GDPR Art. 12(5): a manifestly unfounded or excessive request may
   * be refused; Art. 12(6): the controller may ask for proof of identity. A withdrawal
   * of consent is never screened (Art. 7(3)). Optional.
   */
  screen?(input: { subject: string; right: Right; request: TRequest }): RefusalReason | undefined | Promise<RefusalReason | undefined>;
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
   * rectification, a request received by email), under its original request id. With
   * `kept`, it is recorded as `partly-completed` (what was kept, and `reason` why). A
   * completed erasure marks the subject erased (every later access is denied except
   * under purposes that survive erasure).
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a malformed call;
   *   PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   */
  complete(request: CompleteRightsRequest): Promise<void>;
  /**
   * Records an extension of a request's deadline (GDPR Art. 12(3): by up to
   * `policy.rights.extension`, default two further months, with the reasons told to the
   * person within the first period). Resolves to the new due date.
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED when the policy
   *   allows none, the extension is longer than it allows, or the first deadline has
   *   passed; PURPOSEKIT_ERR_INVALID_OPTION for a malformed call
   */
  extend(request: ExtendRightsRequest): Promise<{ due: string }>;
  /**
   * Records a refusal (`unfounded`, `excessive`, `identity-not-verified`) of a request
   * received earlier. Tell the person why, and that they may complain (Art. 12(4)).
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_INVALID_OPTION; PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   */
  refuse(request: RefuseRightsRequest): Promise<void>;
  /**
   * Records a request received outside the endpoints (an email, a letter), so its
   * deadline is tracked like any other. Resolves to its request id and due date.
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_INVALID_OPTION; PURPOSEKIT_ERR_AUDIT_UNAVAILABLE
   */
  receive(request: { subject: string; right: Right; requestId?: string }): Promise<{ requestId: string; due: string }>;
}

/** Why a request is refused: GDPR Art. 12(5) (unfounded, excessive) or 12(6) (identity). */
export type RefusalReason = 'unfounded' | 'excessive' | 'identity-not-verified';

/** The states a rights request goes through, as recorded in `attributes.status`. */
export type RightsRequestState = 'received' | 'extended' | 'completed' | 'refused' | 'partly-completed';

/** Names one request recorded earlier. */
export interface RightsRequestRef {
  readonly requestId: string;
  /** The subject's internal id (pseudonymised in the trail). */
  readonly subject: string;
  readonly right: Right;
}

/** {@link RightsHandler.complete}'s input. */
export interface CompleteRightsRequest extends RightsRequestRef {
  /** What was kept (purposes or field names); makes it `partly-completed`. */
  readonly kept?: readonly string[];
  /** Why it was kept (required with `kept`): e.g. the exception the policy quotes. */
  readonly reason?: string;
}

/** {@link RightsHandler.extend}'s input. */
export interface ExtendRightsRequest extends RightsRequestRef {
  /** When the request was received (ISO 8601 or a Date): the first deadline counts from it. */
  readonly receivedAt: string | Date;
  /** Why (Art. 12(3): the complexity and number of requests). */
  readonly reason: string;
  /** How much longer, ISO 8601. Default: the policy's `rights.extension`. */
  readonly by?: string;
  /** When the person was told (default: now). Must be before the first deadline. */
  readonly noticeSentAt?: string | Date;
}

/** {@link RightsHandler.refuse}'s input. */
export interface RefuseRightsRequest extends RightsRequestRef {
  readonly reason: RefusalReason;
}
