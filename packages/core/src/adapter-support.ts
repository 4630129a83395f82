/**
 * Helpers every adapter shares, so that Express, Koa and NestJS take the same option
 * shapes and fail the same way. Adapters import these; apps do not need them.
 */
import { PurposekitError } from './errors';
import { validateOptions } from './options';
import { show } from './policy/suggest';
import { isPurposekit } from './purposekit';
import type { Purposekit } from './purposekit';
import { compileTrust } from './ip';
import type { TrustFn } from './ip';
import { gpcWellKnownResponse } from './signals/gpc';
import { warningText } from './warnings';

/** What an adapter knows about the request a server-side failure answered. No personal value. */
export interface ServerErrorInfo {
  /** The status sent (≥ 500), e.g. 503 for an audit outage. */
  readonly status: number;
  /** The request's purposekit id (also in the audit trail and its log line), when it has a context. */
  readonly requestId: string | undefined;
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** Which adapter answered: `express`, `koa`, `nestjs`. */
  readonly adapter: string;
}

/** Options every adapter accepts. */
export interface AdapterOptions {
  /** Receives start-up warnings. Default: `process.emitWarning(message, { code })`. Codes: docs/warnings.md. */
  onWarning?: (message: string, code: string) => void;
  /**
   * Routes that get no privacy context at all (health checks, metrics): no request id, no
   * purpose, nothing in the audit trail. A list of exact paths (`'/healthz'`, compared
   * without the query string) and regular expressions (tested against the path), or a
   * function `(path, method) => boolean`. A skipped route must not declare a purpose, an
   * age gate or an access (they need the context). Default: none.
   */
  skip?: readonly (string | RegExp)[] | ((path: string, method: string) => boolean);
  /**
   * Called once for every purposekit failure the adapter answers with a 5xx (an audit sink
   * that cannot write → 503, a consent store that cannot be read → 500), after the answer
   * is chosen. Default: the framework's own channel (Express: a line on stderr, as Express's
   * final handler prints errors, silent when the app's env is `test`; Koa: the app's `error`
   * event; NestJS: Nest's `Logger`). Errors it throws are ignored.
   */
  onServerError?: (error: PurposekitError, info: ServerErrorInfo) => void;
}

/** Validated adapter options. */
export interface ResolvedAdapterOptions {
  readonly onWarning: (message: string, code: string) => void;
  /** `(method, url)` → true for a skipped route; `undefined` when nothing is skipped (the common case costs nothing). */
  readonly skip: ((method: string, url: string) => boolean) | undefined;
  /** The app's reporter, or undefined: the adapter then uses its framework's default. */
  readonly onServerError: ((error: PurposekitError, info: ServerErrorInfo) => void) | undefined;
}

/** The spec of {@link AdapterOptions}, for adapters whose own options extend it (`skip` is checked by {@link compileSkipRule}). */
export const ADAPTER_OPTIONS_SPEC = Object.freeze({ onWarning: 'function', onServerError: 'function', skip: null } as const);

/**
 * Compiles a `skip` option (adapters, request loggers): `(method, url) => boolean`, or
 * `undefined` when nothing is skipped.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 * @internal
 */
export function compileSkipRule(skip: unknown, factory: string): ResolvedAdapterOptions['skip'] {
  if (skip === undefined) return undefined;
  if (typeof skip === 'function') {
    const fn = skip as (path: string, method: string) => boolean;
    return (method, url) => fn(pathOf(url), method) === true;
  }
  if (!Array.isArray(skip)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${factory}(): "skip" must be a list of paths and regular expressions, or a function (path, method) => boolean; got ${show(skip)}.`);
  }
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const rule of skip as unknown[]) {
    if (typeof rule === 'string' && rule.startsWith('/')) exact.add(rule);
    else if (rule instanceof RegExp && !rule.global && !rule.sticky) patterns.push(rule);
    else {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_INVALID_OPTION',
        `${factory}(): each "skip" entry must be a path starting with "/" (e.g. '/healthz') or a RegExp without the g or y flag, got ${show(rule)}.`,
      );
    }
  }
  if (exact.size === 0 && patterns.length === 0) return undefined;
  return (_method, url) => {
    const path = pathOf(url);
    if (exact.has(path)) return true;
    for (const p of patterns) if (p.test(path)) return true;
    return false;
  };
}

/**
 * Validates the engine and the adapter options once, at start-up.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolveAdapterOptions(kit: unknown, options: AdapterOptions | undefined, factory: string): ResolvedAdapterOptions {
  if (!isPurposekit(kit)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${factory}() takes the engine from createPurposekit() as its first argument, got ${show(kit)}.`);
  }
  const opts = validateOptions<AdapterOptions>(`${factory}()`, options, ADAPTER_OPTIONS_SPEC);
  return Object.freeze({
    onWarning: opts.onWarning ?? ((message: string, code: string) => process.emitWarning(message, { code })),
    onServerError: opts.onServerError,
    skip: compileSkipRule((opts as { skip?: unknown }).skip, factory),
  });
}

/**
 * Reports one server-side failure through the app's `onServerError`, or `fallback` (the
 * framework's default) when it gave none. A reporter that throws does not change the answer.
 */
export function reportServerError(resolved: ResolvedAdapterOptions, error: PurposekitError, info: ServerErrorInfo, fallback: (error: PurposekitError, info: ServerErrorInfo) => void): void {
  try {
    (resolved.onServerError ?? fallback)(error, info);
  } catch {
    // The response is already decided; a failing reporter must not turn it into a crash.
  }
}

/** The path of a request URL without its query string (for {@link ServerErrorInfo}). */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Gives the one trust-all warning (`PURPOSEKIT_WARN_TRUST_ALL_PROXIES`) every adapter
 * shares, naming the framework setting at fault (e.g. `Express "trust proxy"`).
 */
export function warnTrustAllProxies(resolved: Pick<ResolvedAdapterOptions, 'onWarning'>, setting: string): void {
  resolved.onWarning(warningText('PURPOSEKIT_WARN_TRUST_ALL_PROXIES', setting), 'PURPOSEKIT_WARN_TRUST_ALL_PROXIES');
}

/** A fixed response an adapter sends as is. */
export interface StaticResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The `/.well-known/gpc.json` response for this engine's policy, serialised once, or
 * `undefined` when the policy does not ask to serve it (`signals.serveGpcJson`).
 */
export function gpcWellKnownFor(kit: Purposekit): StaticResponse | undefined {
  const r = gpcWellKnownResponse(kit.policy);
  if (r === undefined) return undefined;
  const body = JSON.stringify(r.body);
  // Content-Length up front, so a HEAD answer carries it too (the body is not sent then).
  return Object.freeze({ status: r.status, headers: Object.freeze({ ...r.headers, 'content-length': String(Buffer.byteLength(body)) }), body });
}

/** True when a request is `GET`/`HEAD` for `path` (the query string ignored). */
export function isWellKnownRequest(method: string | undefined, url: string | undefined, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (url === undefined || !url.startsWith(path)) return false;
  return url.length === path.length || url.charCodeAt(path.length) === 63; // '?'
}

const trustCache = new WeakMap<object, { setting: unknown; fn: TrustFn }>();

/**
 * The trust decision for one app, compiled once from the framework's own setting
 * (Express `trust proxy`, Koa `proxy` + `maxIpsCount`) with the core's matcher, which is
 * about ten times faster than proxy-addr's compiled function. Recompiled only when the
 * setting changes. A setting the core does not parse (it is stricter than proxy-addr,
 * e.g. octal-looking addresses) falls back to the framework's compiled function, so the
 * decision always stays the framework's.
 */
export function trustForApp(app: object, setting: unknown, fallback: () => TrustFn | undefined): TrustFn {
  const hit = trustCache.get(app);
  if (hit !== undefined && hit.setting === setting) return hit.fn;
  let fn: TrustFn;
  try {
    fn = compileTrust(setting as Parameters<typeof compileTrust>[0]);
  } catch {
    fn = fallback() ?? NEVER_TRUST;
  }
  trustCache.set(app, { setting, fn });
  return fn;
}

const NEVER_TRUST: TrustFn = () => false;

/**
 * Drops a refused submission from request objects before the refusal travels on: the
 * parsed `body`, and the `rawBody` copy that common body parsers (and NestJS's
 * `rawBody: true`) keep. Pass every object the framework hangs a body on.
 */
export function discardSubmission(...requests: ReadonlyArray<object | undefined>): void {
  for (const r of requests) {
    if (r === undefined || r === null) continue;
    const o = r as Record<string, unknown>;
    o['body'] = undefined;
    if ('rawBody' in o) o['rawBody'] = undefined;
  }
}

/**
 * The age gate's first-contact check: a request that carries a JSON or form body no
 * parser has read means the body parser is mounted after the gate (or not at all).
 * Returns the error to raise (`PURPOSEKIT_ERR_BODY_NOT_PARSED`, 500), or undefined.
 * `raw` is the node:http request; `body` what the framework holds as the parsed body.
 */
export function bodyNotParsed(raw: unknown, body: unknown, fix: string): PurposekitError | undefined {
  if (body !== undefined || typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { headers?: Record<string, unknown>; readableEnded?: boolean; complete?: boolean; _body?: unknown };
  const headers = r.headers ?? {};
  const type = String(headers['content-type'] ?? '');
  const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
  if (!hasBody || !/\bjson\b|x-www-form-urlencoded/i.test(type)) return undefined;
  // A parser that read the stream leaves it ended (or marks `_body`, as body-parser does).
  if (r.readableEnded === true || r._body === true) return undefined;
  return new PurposekitError('PURPOSEKIT_ERR_BODY_NOT_PARSED', `The age gate ran before the request body was parsed: ${fix}`);
}
