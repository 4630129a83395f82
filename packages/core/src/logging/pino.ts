/**
 * pino / pino-http integration, typed structurally (the core never imports pino).
 *
 * Scrubbing happens in serializers, `formatters.log` and `hooks.logMethod`, never with
 * pino `redact` paths (which cost +155 % per log call, +310 % with wildcards, and only
 * remove fields they are told about). Three parts, because pino routes data three ways:
 *
 * - `serializers.req` / `serializers.res`: the request logger's view of a request
 *   (pino-http binds `req` to a child logger, so its serializer is the only hook that sees
 *   it). `remoteAddress` goes through the redactor; the URL, every header value
 *   (`x-forwarded-for`, `forwarded`, `referer`…), query and params are scrubbed. `Host`
 *   (and `:authority`) is escaped but not scrubbed: it names the server, not the client.
 * - `formatters.log`: the merging object and `mixin()` output, nested fields and errors
 *   included.
 * - `hooks.logMethod`: the message and format arguments, which pino writes without
 *   passing them through `formatters.log` (and `logger.error(err)` takes its message
 *   from the error before any formatter runs).
 *
 * Not covered: bindings passed to `logger.child({...})` are serialized once when the
 * child is made and pino offers no hook there beyond per-key serializers; do not bind
 * raw addresses (bind the redacted form from the privacy context).
 */
import { escapeLogValue } from '../ip/escape';
import { INVALID_IP_TOKEN } from '../ip/truncate';
import { isServerAddressHeader, resolveLogRedaction } from './options';
import type { LogIpRedactionOptions, ResolvedLogRedaction } from './options';

/** Options for {@link createPinoIpRedaction}. */
export type PinoIpRedactionOptions = LogIpRedactionOptions;

/** A pino `hooks.logMethod`. */
export type PinoLogMethodHook = (this: unknown, args: unknown[], method: (...args: unknown[]) => void, level: number) => void;

/** The pieces to spread into pino (and pino-http) options. */
export interface PinoIpRedaction {
  /** Pass to `pino({ serializers })` AND to `pinoHttp({ serializers })` (pino-http replaces the logger's own). */
  readonly serializers: {
    readonly req: (req: unknown) => unknown;
    readonly res: (res: unknown) => unknown;
  };
  /** Pass to `pino({ formatters })`. */
  readonly formatters: { readonly log: (object: Record<string, unknown>) => Record<string, unknown> };
  /** Pass to `pino({ hooks })`. */
  readonly hooks: { readonly logMethod: PinoLogMethodHook };
}

type Rec = Record<string, unknown>;

const hasOwn = Object.prototype.hasOwnProperty;

function isHttpMessage(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'socket' in v && ('headers' in v || 'setHeader' in v);
}

function scrubHeaders(headers: unknown, r: ResolvedLogRedaction): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  const out: Rec = {};
  for (const [name, value] of Object.entries(headers as Rec)) {
    if (typeof value === 'string' && isServerAddressHeader(name)) out[name] = escapeLogValue(value);
    else if (typeof value === 'string') out[name] = r.scrubAndEscape(value);
    else if (Array.isArray(value)) out[name] = value.map((v) => (typeof v === 'string' ? r.scrubAndEscape(v) : r.scrubValue(v)));
    else out[name] = r.scrubValue(value, 2);
  }
  return out;
}

/** The fields pino's standard request serializer produces, from a raw IncomingMessage. */
function fromRawRequest(req: Rec): Rec {
  const socket = req['socket'] as Rec | undefined;
  return {
    id: typeof req['id'] === 'function' ? undefined : req['id'],
    method: req['method'],
    url: req['originalUrl'] ?? req['url'],
    headers: req['headers'],
    remoteAddress: socket?.['remoteAddress'],
    remotePort: socket?.['remotePort'],
  };
}

/**
 * Builds the pino serializers, log formatter and log-method hook that keep full IP
 * addresses out of every line. Everything fails closed: a value that cannot be scrubbed
 * is written as `INVALID_IP_TOKEN` (or the request as `{ remoteAddress: INVALID_IP_TOKEN }`).
 *
 * @example
 * const ip = createPinoIpRedaction({ redactor: createIpRedactor(policy.logs.ip) });
 * const logger = pino({ serializers: ip.serializers, formatters: ip.formatters, hooks: ip.hooks });
 * app.use(pinoHttp({ logger, serializers: ip.serializers }));
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options.
 */
export function createPinoIpRedaction(options?: PinoIpRedactionOptions): PinoIpRedaction {
  const { resolved: r } = resolveLogRedaction(options, 'createPinoIpRedaction()');

  function serializeRequest(req: unknown): unknown {
    try {
      if (typeof req !== 'object' || req === null) return r.scrubValue(req);
      // pino-http hands over pino's standard serialization (with a hidden `raw`); plain
      // pino with `logger.info({ req })` hands over the IncomingMessage itself.
      const src: Rec = isHttpMessage(req) && !('raw' in req) ? fromRawRequest(req as Rec) : (req as Rec);
      const out: Rec = {};
      for (const key of Object.keys(src)) {
        const value = src[key];
        switch (key) {
          case 'remoteAddress':
            out[key] = r.redactAddress(value);
            break;
          case 'headers':
            out[key] = scrubHeaders(value, r);
            break;
          default:
            out[key] = typeof value === 'string' ? r.scrubAndEscape(value) : r.scrubValue(value, 1);
        }
      }
      return out;
    } catch {
      return { remoteAddress: INVALID_IP_TOKEN };
    }
  }

  function serializeResponse(res: unknown): unknown {
    try {
      if (typeof res !== 'object' || res === null) return r.scrubValue(res);
      const src = res as Rec;
      if (isHttpMessage(src) && typeof src['getHeaders'] === 'function') {
        return { statusCode: src['statusCode'], headers: scrubHeaders((src['getHeaders'] as () => unknown).call(src), r) };
      }
      const out: Rec = {};
      for (const key of Object.keys(src)) out[key] = key === 'headers' ? scrubHeaders(src[key], r) : r.scrubValue(src[key], 1);
      return out;
    } catch {
      return { statusCode: undefined };
    }
  }

  // The merging object logMethod already scrubbed, so formatters.log does not walk it
  // twice (pino calls formatters.log synchronously inside the same log call).
  let lastScrubbed: unknown;

  function formatLog(object: Rec): Rec {
    if (object === lastScrubbed) {
      lastScrubbed = undefined;
      return object;
    }
    try {
      let copy: Rec | undefined;
      // for…in + own check, as pino's own serializer loop does (no key array allocated).
      for (const key in object) {
        if (!hasOwn.call(object, key)) continue;
        const value = object[key];
        let next: unknown;
        // Inline the cheap cases: most fields are numbers, booleans or short strings.
        if (typeof value === 'string') next = r.scrubText(value);
        else if (typeof value !== 'object' || value === null) continue;
        // Raw req/res objects are left to the serializers above (pino runs them after this hook).
        else if ((key === 'req' || key === 'res') && isHttpMessage(value)) continue;
        else next = r.scrubValue(value, 1);
        if (next !== value) {
          copy ??= { ...object };
          copy[key] = next;
        }
      }
      return copy ?? object;
    } catch {
      return { redaction: INVALID_IP_TOKEN };
    }
  }

  function logMethod(this: unknown, args: unknown[], method: (...args: unknown[]) => void): void {
    // Copy the arguments only when something changes (the common clean call allocates nothing).
    let scrubbed: unknown[] | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      let next: unknown;
      if (typeof a === 'string') next = r.scrubText(a);
      else if (typeof a !== 'object' || a === null) continue;
      else if (i === 0 && !(a instanceof Error)) {
        // The merging object: pino may take the message from its `err`, so scrub now.
        next = isHttpMessage(a) ? a : formatLog(a as Rec);
        lastScrubbed = next;
      } else next = r.scrubValue(a, i === 0 ? 0 : 1);
      if (next !== a) {
        scrubbed ??= args.slice();
        scrubbed[i] = next;
      }
    }
    method.apply(this, scrubbed ?? args);
    lastScrubbed = undefined;
  }

  return Object.freeze({
    serializers: Object.freeze({ req: serializeRequest, res: serializeResponse }),
    formatters: Object.freeze({ log: formatLog }),
    hooks: Object.freeze({ logMethod }),
  });
}
