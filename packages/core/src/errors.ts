/**
 * One catalog of every error purposekit raises. `docs/errors.md` is generated from it
 * (`npm run docs:errors`) and a test keeps the two in sync.
 *
 * - `status` is the HTTP status an adapter answers with when the error reaches it.
 * - `message` is the public message: neutral, safe for a response body. It never
 *   names a threshold, a personal value or an internal rule.
 * - `doc` explains when the error happens and what to do about it.
 */
export const ERROR_CATALOG = {
  // ── configuration (thrown at start-up) ────────────────────────────────────────
  PURPOSEKIT_ERR_INVALID_OPTION: {
    status: 500,
    message: 'Invalid purposekit option.',
    doc: 'An option passed to a factory is unknown, of the wrong type or out of range. Thrown at start-up; the message names the option, the bad value and the likely fix.',
  },
  PURPOSEKIT_ERR_POLICY_INVALID: {
    status: 500,
    message: 'The privacy policy is invalid.',
    doc: 'The policy failed validation. `error.details.issues` lists every problem with its exact path (e.g. `purposes.analytics.basis`), the bad value and a hint.',
  },
  PURPOSEKIT_ERR_POLICY_LOAD: {
    status: 500,
    message: 'The privacy policy file could not be loaded.',
    doc: 'The policy file is missing, unreadable, or not valid JSON/YAML. The cause is attached as `error.cause`.',
  },
  PURPOSEKIT_ERR_UNKNOWN_PURPOSE: {
    status: 500,
    message: 'A route declares a purpose the policy does not contain.',
    doc: 'A route declaration names a purpose that is not in the policy. Thrown when a route is declared (start-up); for background jobs, when `runAs` names an unknown purpose.',
  },
  PURPOSEKIT_ERR_UNKNOWN_AGE_GATE: {
    status: 500,
    message: 'A route declares an age gate the policy does not contain.',
    doc: 'A route declaration names an age gate that is not in the policy. Thrown at start-up.',
  },
  PURPOSEKIT_ERR_INVALID_KEY: {
    status: 500,
    message: 'A key is missing or unusable.',
    doc: 'A secret or signing key is missing, too short, or not of the expected type. Thrown at start-up.',
  },

  PURPOSEKIT_ERR_FORGED_DECLARATION: {
    status: 500,
    message: 'A purpose declaration was not issued by this engine.',
    doc: 'An adapter (or code posing as one) handed `applyPurpose` a declaration the engine did not issue: a hand-built object, one from another engine, or one whose basis the policy does not give. Declare purposes with `declarePurpose(kit, purpose)` from `@purposekit/core/adapter`, at start-up.',
  },

  // ── request time ──────────────────────────────────────────────────────────────
  PURPOSEKIT_ERR_NO_CONTEXT: {
    status: 500,
    message: 'No privacy context is active.',
    doc: 'Code asked for the privacy context outside a request (or outside `runAs`). Mount the middleware before the route, or wrap background jobs in `privacy.runAs()`.',
  },
  PURPOSEKIT_ERR_BODY_NOT_PARSED: {
    status: 500,
    message: 'The age gate ran before the request body was parsed: mount the body parser before the age gate.',
    doc: 'An age gate found a JSON or form request whose body no parser had read. Mount the body parser before the gate (Express: `app.use(express.json())` before `privacy.ageGate(...)`; Koa: `@koa/bodyparser` before the router). NestJS parses bodies before guards.',
  },
  PURPOSEKIT_ERR_PURPOSE_UNDECLARED: {
    status: 500,
    message: 'This route has no declared purpose.',
    doc: 'The route declares no purpose and the policy names no `defaultPurpose`, so personal data may not be processed here (fail closed). Declare the purpose on the route.',
  },
  PURPOSEKIT_ERR_ACCESS_DENIED: {
    status: 403,
    message: 'Access to this personal data is not permitted for this purpose.',
    doc: 'An access decision denied the request. `error.details.reason` holds the reason code (see the access reasons in the core README). The denial is in the audit trail.',
  },
  PURPOSEKIT_ERR_AUDIT_UNAVAILABLE: {
    status: 503,
    message: 'The audit trail cannot be written; the request was not processed.',
    doc: 'The audit sink could not make a record durable (disk full, permission lost, file removed, database down). Access fails closed; nothing acknowledged is lost, and writing resumes when the sink recovers.',
  },
  PURPOSEKIT_ERR_AGE_GATE_REFUSED: {
    status: 403,
    message: 'Sorry, we cannot accept this submission.',
    doc: 'An age gate refused the request. The message is neutral on purpose: it never reveals the minimum age. A lockout cookie keeps refusing for the period the policy sets.',
  },
  PURPOSEKIT_ERR_DOB_MISSING: {
    status: 400,
    message: 'A date of birth is required.',
    doc: 'The age-gated request carries no date of birth in the configured field.',
  },
  PURPOSEKIT_ERR_DOB_MALFORMED: {
    status: 400,
    message: 'The date of birth is not a valid date (expected YYYY-MM-DD).',
    doc: 'The date of birth is not a calendar date in `YYYY-MM-DD` form.',
  },
  PURPOSEKIT_ERR_DOB_IMPOSSIBLE: {
    status: 400,
    message: 'The date of birth does not exist.',
    doc: 'The date of birth is well-formed but does not exist (e.g. 2023-02-30).',
  },
  PURPOSEKIT_ERR_DOB_FUTURE: {
    status: 400,
    message: 'The date of birth is in the future.',
    doc: 'The date of birth is after the current date in the policy time zone.',
  },
  PURPOSEKIT_ERR_DOB_IMPLAUSIBLE: {
    status: 400,
    message: 'The date of birth is not plausible.',
    doc: 'The date of birth implies an age over 130 years.',
  },
  PURPOSEKIT_ERR_INVALID_IP: {
    status: 400,
    message: 'The IP address is not valid.',
    doc: 'An API that requires an address (e.g. `pseudonymizeIp` in strict mode) was given something that is not a canonical IPv4 or valid IPv6 address. The bad value is never echoed.',
  },
  PURPOSEKIT_ERR_UNAUTHENTICATED: {
    status: 401,
    message: 'Authentication is required.',
    doc: 'A data-subject rights endpoint was called without an authenticated subject (`getSubject` returned nothing).',
  },
  PURPOSEKIT_ERR_BAD_REQUEST: {
    status: 400,
    message: 'The request is not valid.',
    doc: 'A request to a purposekit endpoint (rights, consent) is malformed. `error.details.field` names the field when known.',
  },
  PURPOSEKIT_ERR_AUDIT_CORRUPT: {
    status: 500,
    message: 'The audit trail is corrupt.',
    doc: 'Reading or verifying an audit file found a record that does not parse or does not chain. `error.details` names the file, line and what is wrong.',
  },
  PURPOSEKIT_ERR_INTERNAL: {
    status: 500,
    message: 'Internal error.',
    doc: 'An unexpected failure inside purposekit. Privacy checks fail closed when this happens. The cause is attached as `error.cause`.',
  },
  PURPOSEKIT_ERR_AUDIT_REJECTED: {
    status: 500,
    message: 'The audit record was refused; the request was not processed.',
    doc: 'An event handed to an audit sink is malformed (unknown field, wrong type, too long) or looks like it carries personal data: a subject that is not a keyed pseudonym, a string that looks like an IP address, an email address or a date of birth. Nothing is written. `error.details` names the field and the rule, never the value. Fix the caller: pass pseudonyms and categories, never values.',
  },
  PURPOSEKIT_ERR_FILE_ACCESS: {
    status: 500,
    message: 'A file could not be read or written.',
    doc: 'A file or directory purposekit needs is missing, not readable or writable, or (e.g. `purposekit keys generate`) already exists and would be overwritten. `error.details` holds the `path` and the system `code` (ENOENT, EACCES, EEXIST).',
  },
  PURPOSEKIT_ERR_RIGHTS_REFUSED: {
    status: 403,
    message: 'This privacy request was refused.',
    doc: 'The app\'s `screen` callback refused a data-subject request as manifestly unfounded or excessive (GDPR Art. 12(5)) or because the requester\'s identity could not be verified (Art. 12(6)). `error.details.reason` says which; the refusal is recorded in the trail (`status: refused`). Tell the person why and that they may complain to a supervisory authority (Art. 12(4)).',
  },
  PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED: {
    status: 409,
    message: 'The deadline of this privacy request cannot be extended.',
    doc: '`RightsHandler.extend()` was asked for an extension the policy does not allow: none at all (`rights.extension: false`, the default outside the EU/UK), longer than `rights.extension` (GDPR Art. 12(3): two further months), or after the first deadline passed (the notice must reach the person within the first period).',
  },
  PURPOSEKIT_ERR_RIGHT_NOT_OFFERED: {
    status: 404,
    message: 'This privacy request is not offered here.',
    doc: 'A data-subject rights endpoint was called for a right the policy does not list in `rights.honoured` (or, for rectification, the app mounted no rectifier). 404 rather than 403: the endpoint does not exist for this service, whoever asks; the privacy notice says how else to reach the controller.',
  },
  PURPOSEKIT_ERR_DB_CONNECT: {
    status: 500,
    message: 'The database could not be reached.',
    doc: 'A database store (`@purposekit/postgres`) could not connect at start-up: a malformed connection URL, wrong credentials, an unknown database or an unreachable server. `error.details.reason` says which (`malformed-url`, `auth`, `unknown-database`, `unreachable`). Messages and details never contain the password.',
  },
  PURPOSEKIT_ERR_DB_SCHEMA: {
    status: 500,
    message: 'The database schema is missing or of another version.',
    doc: 'The purposekit tables are not in the named schema (run `purposekit pg migrate`, or pass `migrate: true`), or the schema was migrated by a newer purposekit than this one (`error.details.found` and `known` give the versions): upgrade purposekit; nothing is changed.',
  },
  PURPOSEKIT_ERR_STORE_UNAVAILABLE: {
    status: 503,
    message: 'A privacy store cannot be reached; the request was not processed.',
    doc: 'A database store (the PostgreSQL consent store) could not answer or write at request time, or was closed. The decision is not made (fail closed); retry when the database is back.',
  },
  PURPOSEKIT_ERR_AUDIT_STREAM_HELD: {
    status: 500,
    message: 'The audit stream is held by another writer.',
    doc: 'Another live process writes this audit stream: each writer (instance) needs its own stream id. A crashed writer releases its stream when its database session ends, and the next claimant takes it over.',
  },
} as const satisfies Record<string, { status: number; message: string; doc: string }>;

/** Every error code purposekit raises. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

// Symbol.for so that the brand survives two installed copies of @purposekit/core.
const BRAND: unique symbol = Symbol.for('purposekit.error') as never;

/** Options accepted by the {@link PurposekitError} constructor. */
export interface PurposekitErrorOptions {
  /** Extra, non-personal facts (paths, reason codes). Serialised into logs, never into response bodies unless listed in `public`. */
  details?: Readonly<Record<string, unknown>>;
  /** The wrapped failure. */
  cause?: unknown;
  /** Overrides the catalog's public message. Must be safe to show to a client. */
  publicMessage?: string;
}

/**
 * The one error class purposekit throws. Check with {@link isPurposekitError} (not
 * `instanceof`: it works across duplicate installs) and branch on `code`, never on
 * `message`.
 */
export class PurposekitError extends Error {
  /** Stable code from {@link ERROR_CATALOG}. */
  readonly code: ErrorCode;
  /** HTTP status hint for adapters. */
  readonly status: number;
  /** Structured, non-personal facts about the failure. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
  /** The message an adapter may put in a response body. */
  readonly publicMessage: string;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message?: string, options: PurposekitErrorOptions = {}) {
    const entry = ERROR_CATALOG[code];
    super(message ?? entry.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PurposekitError';
    this.code = code;
    this.status = entry.status;
    this.details = options.details === undefined ? undefined : Object.freeze({ ...options.details });
    this.publicMessage = options.publicMessage ?? entry.message;
  }
}

/** True for any purposekit error, including one thrown by another installed copy. */
export function isPurposekitError(value: unknown): value is PurposekitError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The stable JSON body every adapter sends for an error. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; reason?: string };
}

/** Status and body for an HTTP response. */
export interface ErrorResponse {
  status: number;
  body: ErrorBody;
}

/**
 * Maps any thrown value to the response every adapter sends. Purposekit errors keep
 * their code and status; anything else becomes `PURPOSEKIT_ERR_INTERNAL` (500) with
 * no detail, so a stack or a personal value never reaches a client. An access deny
 * also carries its reason code (which never includes a threshold or a value).
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (!isPurposekitError(error)) {
    return { status: 500, body: { error: { code: 'PURPOSEKIT_ERR_INTERNAL', message: ERROR_CATALOG.PURPOSEKIT_ERR_INTERNAL.message } } };
  }
  const body: ErrorBody = { error: { code: error.code, message: error.publicMessage } };
  const reason = error.details?.['reason'];
  if (error.code === 'PURPOSEKIT_ERR_ACCESS_DENIED' && typeof reason === 'string') body.error.reason = reason;
  return { status: error.status, body };
}
