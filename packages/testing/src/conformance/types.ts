import type { PrivacyContext, Purposekit, PurposekitError, RightsHandlerOptions, ServerErrorInfo } from '@purposekit/core';

/**
 * The data-subject rights endpoints a scenario asks for. The harness mounts its adapter's
 * rights router (Express/Koa `createRightsRouter`, NestJS `PrivacyRightsModule`) with
 * these options plus a `getSubject` that passes the request's raw headers to
 * `subjectFrom` (the suite's stand-in for authentication).
 */
export interface ConformanceRightsSpec {
  readonly options: Omit<RightsHandlerOptions<unknown>, 'getSubject'>;
  subjectFrom(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined;
}

/** What a conformance route's handler receives from the adapter under test. */
export interface ConformanceHandlerInput {
  /**
   * The adapter's own per-request context object: `req.privacy` (Express),
   * `ctx.state.privacy` (Koa), `PrivacyService` / `getPrivacyContext()` (NestJS).
   * The handler compares it with what AsyncLocalStorage gives after an await.
   */
  readonly privacy: PrivacyContext | undefined;
  /** The parsed JSON request body (POST routes); `undefined` when there is none. */
  readonly body: unknown;
  /** The request's path and query string as received, e.g. `/c/diagnostics?subject=s7`. */
  readonly url: string;
}

/** What a conformance handler answers: the harness sends `body` as JSON with `status`. */
export interface ConformanceHandlerResult {
  readonly status: number;
  readonly body: unknown;
}

/**
 * One route of a conformance app. The harness mounts it with its framework's idioms:
 * `privacy.purpose(purpose)` when `purpose` is set, then `privacy.ageGate(ageGate)` when
 * set, then a handler that calls {@link handle} and sends its result. An error `handle`
 * throws must travel the framework's own error channel (Express `next(err)`, Koa `throw`,
 * Nest exception) — never be caught by the harness.
 */
export interface ConformanceRoute {
  readonly method: 'GET' | 'POST';
  /** A literal path, no parameters (e.g. `/tagged`). */
  readonly path: string;
  /** Declared purpose; absent = undeclared route. Declaring an unknown one must make `start()` reject. */
  readonly purpose?: string;
  /** Age gate name; absent = no gate. */
  readonly ageGate?: string;
  /** The framework-neutral handler body. */
  handle(input: ConformanceHandlerInput): Promise<ConformanceHandlerResult>;
}

/** The app a harness builds for one scenario. */
export interface ConformanceAppSpec {
  /** The engine to hand to the adapter (`createPrivacy(kit, …)`, `PrivacyModule.forRoot({ kit })`…). */
  readonly kit: Purposekit;
  /** Routes in mounting order. */
  readonly routes: readonly ConformanceRoute[];
  /**
   * Proxy trust to configure with the framework's OWN setting:
   * - `'none'` (default): trust no proxy (Express `trust proxy` false, Koa `app.proxy` false,
   *   Fastify `trustProxy` false);
   * - `'loopback'`: the socket peer (the loopback test client, standing in for a reverse
   *   proxy) is trusted and no hop beyond it (Express `'loopback'`, Koa `app.proxy = true` +
   *   `app.maxIpsCount = 1`, Fastify `trustProxy: '127.0.0.1'`).
   */
  readonly trustProxy?: 'none' | 'loopback';
  /** Mount the privacy middleware (or module) twice. Default false. */
  readonly mountTwice?: boolean;
  /** Mount the rights endpoints (before the routes). */
  readonly rights?: ConformanceRightsSpec;
  /**
   * The app's request logger: the harness calls it once per request when the response has
   * finished, with the adapter's context for that request and the status sent
   * (Express/Nest: `res.on('finish')`; Koa: the same on `ctx.res`).
   */
  logRequest(privacy: PrivacyContext | undefined, status: number, body?: unknown): void;
  /** Receives the adapter's start-up warnings (`onWarning` option). */
  onWarning(message: string, code: string): void;
  /** Receives the adapter's server-side failures (`onServerError` option): pass it to the adapter as is. */
  onServerError(error: PurposekitError, info: ServerErrorInfo): void;
}

/** A started app. */
export interface StartedConformanceApp {
  /** `http://127.0.0.1:<port>`: the app listens on port 0 of 127.0.0.1. */
  readonly baseUrl: string;
  /** Stops listening; resolves once the server is closed. */
  close(): Promise<void>;
}

/**
 * What each adapter's conformance test implements: build a real app of its framework
 * from a spec and listen on 127.0.0.1 port 0. Requirements:
 * - parse JSON request bodies before the routes (any body parser);
 * - mount the adapter's middleware (twice when `mountTwice`), then the routes in order;
 * - map errors only through the adapter (its error handler or middleware), so a
 *   non-purposekit error reaches the framework's default handling (status 500);
 * - reject (without listening) when the adapter throws at start-up, e.g.
 *   `PURPOSEKIT_ERR_UNKNOWN_PURPOSE` for an unknown declared purpose.
 */
export interface AdapterHarness {
  start(spec: ConformanceAppSpec): Promise<StartedConformanceApp>;
}
