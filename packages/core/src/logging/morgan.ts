/**
 * morgan integration, typed structurally (the core never imports morgan): a redacted
 * client-address token, safe versions of morgan's built-in tokens, and a safe default
 * format.
 */
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import { booleanOption, functionOption } from '../ip/options';
import { INVALID_IP_TOKEN } from '../ip/truncate';
import { escapeLogValue } from '../ip/escape';
import { isServerAddressHeader, resolveLogRedaction } from './options';
import type { LogIpRedactionOptions } from './options';
import { REDACTED, headerSet, privacyContextOf } from './request-log';

/** A morgan token function. */
export type MorganTokenFn = (req: any, res: any, arg?: string | number | boolean) => string | undefined;

/** The part of the morgan module used here: `token()` (and the token functions it stores on itself). */
export interface MorganLike {
  token(name: string, fn: MorganTokenFn): unknown;
}

/** Options for {@link registerMorganIpTokens}. */
export interface MorganIpTokenOptions extends LogIpRedactionOptions {
  /** Where the client address comes from. Default: `req.ip` (Express, already trust-proxy resolved), else the socket peer. */
  getClientIp?: (req: any) => string | undefined;
  /** Name of the redacted-address token. Default `client-ip` (use it as `:client-ip`). */
  tokenName?: string;
  /**
   * Also make morgan's built-in tokens safe, for every format of this morgan module
   * (`combined`, `common`, your own): `:remote-addr` is redacted; `:url`, `:referrer`,
   * `:user-agent`, `:req[header]` and `:res[header]` are scrubbed of addresses and
   * escaped. Default true. Turning it off leaves e.g. `:req[x-forwarded-for]` raw.
   */
  wrapBuiltInTokens?: boolean;
  /**
   * Header names (any case) that `:req[name]` and `:res[name]` write as `[Redacted]`.
   * Default `authorization`, `proxy-authorization`, `cookie`, `set-cookie` (the age
   * gate's lockout cookie included). `:req[host]` is written as is (the server's name,
   * not a client address).
   */
  redactHeaders?: readonly string[];
}

/**
 * A default format with no full address, no user name and no raw header, and the
 * request's privacy fields (our request id, purpose, legal basis, policy; `-` outside a
 * privacy context): `:client-ip - :method :url HTTP/:http-version :status :res[content-length] - :response-time ms request-id=:request-id purpose=:purpose basis=:basis policy=:policy`.
 */
export const MORGAN_SAFE_FORMAT =
  ':client-ip - :method :url HTTP/:http-version :status :res[content-length] - :response-time ms request-id=:request-id purpose=:purpose basis=:basis policy=:policy';

const WRAPPED = Symbol('purposekit.morganWrapped');

interface MorganState {
  readonly scrubText: (text: string) => string;
  readonly clientToken: MorganTokenFn;
  readonly secret: ReadonlySet<string>;
}
const current = new WeakMap<object, MorganState>();
const TOKEN_NAME = /^[-\w]{2,64}$/;
const SCRUBBED_TOKENS = ['url', 'referrer', 'user-agent', 'req', 'res'] as const;

function defaultClientIp(req: Record<string, unknown>): string | undefined {
  // The order of morgan's own remote-addr token.
  const ip = req['ip'] ?? req['_remoteAddress'] ?? (req['socket'] as Record<string, unknown> | undefined)?.['remoteAddress'];
  return typeof ip === 'string' ? ip : undefined;
}

/**
 * Registers a redacted client-address token (default `:client-ip`) on the morgan module
 * you pass, and (by default) replaces morgan's built-in request tokens with safe
 * versions, so even `morgan('combined')` writes no full address. Token output is
 * scrubbed and escaped against log injection; if anything throws, the token writes
 * `INVALID_IP_TOKEN` (fail closed). Use {@link MORGAN_SAFE_FORMAT} as the format.
 *
 * Calling it again applies the new options to every token (built-ins are wrapped once
 * and cannot be unwrapped). morgan's tokens are global to the module, so this affects
 * every morgan logger in the process (which is the point).
 *
 * @example registerMorganIpTokens(morgan, { redactor }); app.use(morgan(MORGAN_SAFE_FORMAT));
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options or something that is not morgan.
 */
export function registerMorganIpTokens(morgan: MorganLike, options?: MorganIpTokenOptions): void {
  if ((typeof morgan !== 'function' && typeof morgan !== 'object') || morgan === null || typeof morgan.token !== 'function') {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `registerMorganIpTokens(): pass the morgan module (require('morgan')), got ${show(morgan)}.`);
  }
  const { resolved: r, raw } = resolveLogRedaction(options, 'registerMorganIpTokens()', ['getClientIp', 'tokenName', 'wrapBuiltInTokens', 'redactHeaders']);
  const secret = headerSet(raw['redactHeaders'], 'registerMorganIpTokens()');
  const getClientIp = functionOption<(req: any) => string | undefined>(raw['getClientIp'], 'getClientIp', defaultClientIp);
  const tokenName = raw['tokenName'] ?? 'client-ip';
  if (typeof tokenName !== 'string' || !TOKEN_NAME.test(tokenName)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `tokenName must be 2–64 characters of letters, digits, "_" or "-", got ${show(tokenName)}.`);
  }
  const wrapBuiltIns = booleanOption(raw['wrapBuiltInTokens'], 'wrapBuiltInTokens', true);

  const clientToken: MorganTokenFn = (req) => {
    try {
      return r.redactAddress(getClientIp(req));
    } catch {
      return INVALID_IP_TOKEN;
    }
  };
  morgan.token(tokenName, clientToken);
  // The request's privacy fields: from req.privacy (morgan writes when the response has
  // finished, possibly outside the request's async context), else the active context.
  const field = (pick: (f: ReturnType<NonNullable<ReturnType<typeof privacyContextOf>>['logFields']>) => string | null) =>
    function privacyToken(req: unknown): string | undefined {
      try {
        const ctx = privacyContextOf(req);
        const value = ctx === undefined ? null : pick(ctx.logFields());
        return value === null ? undefined : escapeLogValue(value);
      } catch {
        return undefined;
      }
    };
  morgan.token('request-id', field((f) => f.requestId));
  morgan.token('purpose', field((f) => f.purpose));
  morgan.token('basis', field((f) => f.basis));
  morgan.token('policy', field((f) => f.policy));
  // The wrapped built-ins read the latest registration, so calling again with new
  // options takes effect everywhere.
  current.set(morgan, { scrubText: r.scrubText, clientToken, secret });
  if (!wrapBuiltIns) return;

  // morgan keeps each token as a property of the module (that is how its compiled
  // formats look them up). Replace the property directly rather than through
  // morgan.token(), which would escape our already-escaped output a second time.
  const tokens = morgan as unknown as Record<string, MorganTokenFn & { [WRAPPED]?: true }>;
  const wrap = (name: string, make: (original: MorganTokenFn) => MorganTokenFn): void => {
    const original = tokens[name];
    if (typeof original !== 'function' || original[WRAPPED] === true) return;
    const safe = make(original) as MorganTokenFn & { [WRAPPED]?: true };
    safe[WRAPPED] = true;
    tokens[name] = safe;
  };
  const state = (): MorganState => current.get(morgan)!;
  wrap('remote-addr', () =>
    function safeRemoteAddr(req, res) {
      return state().clientToken(req, res);
    },
  );
  for (const name of SCRUBBED_TOKENS) {
    wrap(name, (original) =>
      function safeToken(this: unknown, req, res, arg) {
        try {
          const header = (name === 'req' || name === 'res') && typeof arg === 'string' ? arg.toLowerCase() : undefined;
          const value = original.call(this, req, res, arg) as unknown;
          if (value === undefined || value === null) return undefined;
          if (header !== undefined && state().secret.has(header)) return REDACTED;
          // `:req[host]` names the server the client connected to, not the client.
          if (name === 'req' && typeof arg === 'string' && isServerAddressHeader(arg)) return escapeLogValue(String(value));
          return escapeLogValue(state().scrubText(String(value)));
        } catch {
          return INVALID_IP_TOKEN;
        }
      },
    );
  }
}
