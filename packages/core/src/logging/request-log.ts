/**
 * Request logging recipes: what a request log line needs from purposekit, whatever the
 * logger. Every request line carries the request's privacy fields (our request id,
 * purpose, legal basis, policy, redacted client address), header secrets are replaced,
 * URL paths and header values are scrubbed of addresses, and the `Host` header (the
 * server's name, not a client's address) is left alone.
 *
 * The per-line cost stays low: headers are rewritten once per request by the request
 * serializer, only the values that can hold an address are scrubbed, and strings with no
 * digit and no colon (which cannot hold an IPv4 or IPv6 address) are never scanned.
 */
import { randomUUID } from 'node:crypto';
import { getPrivacyContext } from '../context';
import type { PrivacyContext, PrivacyLogFields } from '../context';
import { PurposekitError } from '../errors';
import { escapeLogValue } from '../ip/escape';
import { createIpRedactor } from '../ip/redact';
import { show } from '../policy/suggest';
import type { Purposekit } from '../purposekit';
import { compileSkipRule } from '../adapter-support';
import type { IpRedactor } from '../ip/redact';
import { resolveLogRedaction } from './options';
import type { LogIpRedactionOptions, ResolvedLogRedaction } from './options';
import { createPinoIpRedactionWith, plainValue } from './pino';
import type { PinoLogMethodHook } from './pino';

/** Headers whose values are replaced by {@link REDACTED} by default: credentials and cookies (the age gate's lockout cookie included). */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = Object.freeze(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** What a redacted header value is written as. */
export const REDACTED = '[Redacted]';

/** Options of {@link createPinoHttpOptions}. */
export interface PinoHttpOptionsInput extends LogIpRedactionOptions {
  /**
   * Header names (any case) whose values are written as `[Redacted]`, in the request and
   * the response. Default {@link DEFAULT_REDACTED_HEADERS}. Pass a longer list to add your
   * own (e.g. `x-api-key`); an empty list turns redaction off.
   */
  redactHeaders?: readonly string[];
  /**
   * Requests not logged at all (pino-http's `autoLogging.ignore`), with the same rules as
   * the adapters' `skip` option: exact paths and regular expressions, or a function
   * `(path, method) => boolean`. Default: every request is logged.
   */
  skip?: readonly (string | RegExp)[] | ((path: string, method: string) => boolean);
}

/** The options {@link createPinoHttpOptions} gives pino-http (spread them into `pinoHttp({...})`). */
export interface PurposekitPinoHttpOptions {
  /** Our request id (the one in the audit trail), from the privacy context. */
  readonly genReqId: (req: any, res: any) => string;
  /** pino-http writes the id as `requestId`, the name every purposekit log field uses. */
  readonly customAttributeKeys: { readonly reqId: 'requestId' };
  /**
   * The privacy fields (an object) on the request's completion line when the mixin cannot
   * add them (the response finished outside the request's async context); `undefined`
   * otherwise, so pino-http makes no child logger for them. Typed `any` because pino-http's
   * own type for `customProps` says `object`, while it treats `undefined` as no bindings.
   */
  readonly customProps: (req: any, res: any) => any;
  /** The privacy fields on every line logged inside the request (`req.log.info(...)`). */
  readonly mixin: (mergeObject: object) => object;
  readonly serializers: { readonly req: (req: unknown) => unknown; readonly res: (res: unknown) => unknown };
  readonly formatters: { readonly log: (object: Record<string, unknown>) => Record<string, unknown> };
  readonly hooks: { readonly logMethod: PinoLogMethodHook };
  readonly autoLogging?: { readonly ignore: (req: any) => boolean };
}

type Rec = Record<string, unknown>;

/** The privacy context of a request object (Express `req.privacy`, Fastify's `req.raw.privacy`), else the active one. */
export function privacyContextOf(req: unknown): PrivacyContext | undefined {
  if (typeof req === 'object' && req !== null) {
    const own = (req as { privacy?: unknown }).privacy;
    if (own !== undefined) return own as PrivacyContext;
    const raw = (req as { raw?: { privacy?: unknown } }).raw;
    if (typeof raw === 'object' && raw !== null && raw.privacy !== undefined) return raw.privacy as PrivacyContext;
  }
  return getPrivacyContext();
}

/** @internal Header-name list → lower-case set, validated. */
export function headerSet(value: unknown, where: string): ReadonlySet<string> {
  if (value === undefined) return new Set(DEFAULT_REDACTED_HEADERS);
  if (!Array.isArray(value) || !value.every((h) => typeof h === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/.test(h))) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: "redactHeaders" must be a list of header names, got ${show(value)}.`);
  }
  return new Set((value as string[]).map((h) => h.toLowerCase()));
}

/** A string that cannot hold an IPv4 (needs digits) or IPv6 (needs colons) address. */
function cannotHoldAddress(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 58) return false;
  }
  return true;
}

/**
 * One header value: as is when it cannot hold an address (no digit and no colon), else
 * scrubbed and escaped. `plainValue` first: one pass that proves scrub + escape would
 * return the value unchanged (rule 1 of the scrubber, nothing to escape), so the common
 * value with a digit (`purposekit/1.2`, `max-age=0`) is not scrubbed either.
 */
function headerText(value: string, r: ResolvedLogRedaction): string {
  if (plainValue(value)) return value;
  // No digit and no colon: no address to scrub, but maybe a control character to escape.
  return cannotHoldAddress(value) ? escapeLogValue(value) : r.scrubAndEscape(value);
}

/**
 * @internal Headers → secrets replaced, `host` escaped, every other value scrubbed and escaped: the
 * same object when nothing changes, else a copy (copy-on-write).
 */
export function redactHeaders(headers: unknown, secret: ReadonlySet<string>, r: ResolvedLogRedaction): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  const src = headers as Rec;
  const names = Object.keys(src);
  let out: Rec | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = src[name];
    const lower = name.toLowerCase();
    let next: unknown;
    if (secret.has(lower)) next = REDACTED;
    else if (lower === 'host' || lower === ':authority') {
      // The server's own name: not a client address, so not scrubbed; escaped all the same.
      if (typeof value !== 'string') continue;
      next = escapeLogValue(value);
    }
    else if (typeof value === 'string') next = headerText(value, r);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) continue;
    else if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let k = 0; k < value.length; k++) {
        const v: unknown = value[k];
        const w = typeof v === 'string' ? headerText(v, r) : r.scrubValue(v, 2);
        if (w !== v && copy === undefined) copy = value.slice(0, k);
        if (copy !== undefined) copy.push(w);
      }
      next = copy ?? value;
    } else next = r.scrubValue(value, 2);
    if (next !== value) {
      // A spread copies in one step (keyed writes of each name would go megamorphic).
      if (out === undefined) out = { ...src };
      out[name] = next;
    }
  }
  return out ?? headers;
}

function compileIgnore(skip: unknown): ((req: any) => boolean) | undefined {
  if (skip === undefined) return undefined;
  // The adapters' rules, resolved the same way (one implementation in adapter-support).
  const match = compileSkipRule(skip, 'createPinoHttpOptions');
  if (match === undefined) return undefined;
  return (req) => match(String(req?.method ?? 'GET'), String(req?.originalUrl ?? req?.url ?? '/'));
}

const fieldsOf = (ctx: PrivacyContext): PrivacyLogFields => ctx.logFields();

/**
 * Everything pino-http needs, in one call: our request id (`genReqId`, written as
 * `requestId`), the request's purpose, legal basis, policy and redacted client address on
 * every line (`mixin` inside the request, `customProps` on the completion line), header
 * secrets redacted (`authorization`, `proxy-authorization`, `cookie`, `set-cookie` by
 * default: bearer tokens, session cookies and the age gate's lockout cookie never reach
 * a log), the URL and other header values scrubbed of addresses, the `Host` header left
 * alone, and {@link createPinoIpRedaction}'s formatter and hook for everything else.
 *
 * Mount pino-http **after** the adapter's middleware, so the request already has its
 * context when pino-http asks for the id. Let pino-http create the logger (`mixin`,
 * `formatters` and `hooks` are logger options; with your own `logger`, build it with
 * them).
 *
 * The client address is redacted with the policy's `logs.ip` (pass `redactor` when the
 * policy pseudonymises, with the same keys as the engine).
 *
 * @example
 * app.use(privacy.middleware());
 * app.use(pinoHttp(createPinoHttpOptions(kit)));
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options.
 */
export function createPinoHttpOptions(kit: Purposekit, options?: PinoHttpOptionsInput): PurposekitPinoHttpOptions {
  if (typeof kit !== 'object' || kit === null || typeof (kit as { policy?: unknown }).policy !== 'object') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createPinoHttpOptions() takes the engine from createPurposekit() as its first argument, got ${show(kit)}.`);
  }
  const o = (options ?? {}) as Rec;
  const redactor = (o['redactor'] as IpRedactor | undefined) ?? (kit.policy.logs.ip.mode === 'pseudonymize' ? undefined : createIpRedactor(kit.policy.logs.ip));
  if (redactor === undefined) {
    throw new PurposekitError(
      'PURPOSEKIT_ERR_INVALID_OPTION',
      `createPinoHttpOptions(): policy "${kit.policy.id}" pseudonymises addresses in logs: pass "redactor" (createIpRedactor(policy.logs.ip, ipKeys), with the engine's keys).`,
    );
  }
  const { resolved: r } = resolveLogRedaction({ ...o, redactor }, 'createPinoHttpOptions()', ['redactHeaders', 'skip']);
  const secret = headerSet(o['redactHeaders'], 'createPinoHttpOptions()');
  // One pass over the headers: the recipe's rule (secrets, Host) inside the serializers.
  const ip = createPinoIpRedactionWith(
    { redactor, ...(o['maxDepth'] === undefined ? {} : { maxDepth: o['maxDepth'] as number }) },
    {
      headerRule: (headers) => redactHeaders(headers, secret, r),
      // The fields on every line logged inside the request; the recipe's mixin scrubs them
      // where they are made (each field's last value cached), not on every line.
      mixinFields(mergeObject: object): Record<string, unknown> | undefined {
        const ctx = getPrivacyContext();
        if (ctx === undefined || 'purpose' in mergeObject) return undefined;
        return fieldsOf(ctx) as unknown as Record<string, unknown>; // a fresh object every call
      },
    },
  );
  const ignore = compileIgnore(o['skip']);

  const serializeRequest = ip.serializers.req;
  const serializeResponse = ip.serializers.res;

  return Object.freeze({
    genReqId(req: any): string {
      return privacyContextOf(req)?.requestId ?? randomUUID();
    },
    customAttributeKeys: Object.freeze({ reqId: 'requestId' as const }),
    customProps(req: any, res: any): Record<string, unknown> | undefined {
      // pino-http asks twice: when the request starts (too early: the route has not
      // declared its purpose yet) and when it completes. Only the completion line gets
      // the fields here, and only when the mixin (active context) does not already.
      // Nothing is `undefined`, not `{}`: pino-http makes a child logger of the request
      // logger for any object it gets, and a child of a child costs more than the rest of
      // the request's logging (it turns the first child into a prototype).
      if (res?.writableEnded !== true && res?.headersSent !== true) return undefined;
      const ctx = privacyContextOf(req);
      if (ctx === undefined || getPrivacyContext() === ctx) return undefined;
      // pino-http binds these to a child logger: bindings never pass through
      // formatters.log, so they are scrubbed here, as the mixin scrubs its own (the request
      // id comes from the application's function and may be anything).
      return ip.scrubFields!(fieldsOf(ctx) as unknown as Record<string, unknown>); // a fresh object every call
    },
    mixin: ip.mixin!,
    serializers: Object.freeze({ req: serializeRequest, res: serializeResponse }),
    formatters: ip.formatters,
    hooks: ip.hooks,
    ...(ignore === undefined ? {} : { autoLogging: Object.freeze({ ignore }) }),
  });
}
