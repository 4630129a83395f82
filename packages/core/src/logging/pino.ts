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

/**
 * A framework's wrapper around a raw message (Fastify's `Request` / `Reply`: `raw` is the
 * IncomingMessage / ServerResponse): the raw message, else undefined. Walking the wrapper
 * itself would serialise the server, the logger and the socket.
 */
function rawOf(v: Rec): Rec | undefined {
  const raw = 'raw' in v ? v['raw'] : undefined;
  return isHttpMessage(raw) ? (raw as Rec) : undefined;
}

/**
 * True when a header value is written as is: it cannot hold an address (fewer than three
 * dots and fewer than two colons in the whole value, so no run the scrubber looks at can
 * be one: its rule 1) and has nothing to escape (no control, line-separator or bidi
 * character). One pass over the characters, no allocation.
 */
/** @internal */
export function plainValue(s: string): boolean {
  let dots = 0;
  let colons = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (++dots === 3) return false;
    } else if (c === 58) {
      if (++colons === 2) return false;
    } else if (c < 32 || (c >= 127 && c <= 159) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      return false;
    }
  }
  return true;
}

/** One string header value, scrubbed and escaped (escaped only, for the server's own `Host`). */
function headerValue(name: string, value: string, r: ResolvedLogRedaction): string {
  if (plainValue(value)) return value;
  return isServerAddressHeader(name) ? escapeLogValue(value) : r.scrubAndEscape(value);
}

/** Headers → the same object when nothing changes, else a scrubbed copy (copy-on-write). */
function scrubHeaders(headers: unknown, r: ResolvedLogRedaction): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  const src = headers as Rec;
  let out: Rec | undefined;
  const names = Object.keys(src);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const value = src[name];
    let next: unknown;
    if (typeof value === 'string') next = headerValue(name, value, r);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) continue;
    else if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let k = 0; k < value.length; k++) {
        const v: unknown = value[k];
        const w = typeof v === 'string' ? headerValue(name, v, r) : r.scrubValue(v, 2);
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

/**
 * An empty plain object (Express's `params`, a query without parameters: on every request
 * line), which the deep scrubber would return as is after a dozen type checks: a plain or
 * null prototype, no own key of any kind, and no inherited `toJSON`.
 */
function isEmptyRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null) && Reflect.ownKeys(value).length === 0 && (value as { toJSON?: unknown }).toJSON === undefined;
}

/**
 * Prototypes of pino-std-serializers' request objects (what pino-http hands a request
 * serializer), found by their shape: a `raw` accessor and the fields as defaults. One per
 * installed copy of pino-std-serializers; at most a few are kept.
 */
const stdRequestProtos: object[] = [];

/** Whether `rec` is a request object made by pino-std-serializers (its own fields are exactly the ones it sets). */
function isStdRequest(rec: Rec): boolean {
  const proto = Object.getPrototypeOf(rec) as object | null;
  if (proto === null || proto === Object.prototype) return false;
  for (let i = 0; i < stdRequestProtos.length; i++) if (stdRequestProtos[i] === proto) return hasStdFields(rec);
  const raw = Object.getOwnPropertyDescriptor(proto, 'raw');
  const std =
    raw !== undefined && typeof raw.get === 'function' && typeof raw.set === 'function' && raw.enumerable === false &&
    ['id', 'method', 'url', 'query', 'params', 'headers', 'remoteAddress', 'remotePort'].every((k) => Object.getOwnPropertyDescriptor(proto, k)?.enumerable === true) &&
    Object.keys(proto).length === 8;
  if (std && stdRequestProtos.length < 4) stdRequestProtos.push(proto);
  return std && hasStdFields(rec);
}

/**
 * Whether the own fields are exactly those pino-std-serializers sets, in its order (a
 * caller holding such an object may have added or re-added fields; then the general loop
 * writes them).
 */
function hasStdFields(rec: Rec): boolean {
  const k = Object.keys(rec);
  const n = k.length;
  if (n < 6 || n > 8 || k[0] !== 'id' || k[1] !== 'method' || k[2] !== 'url' || k[n - 3] !== 'headers' || k[n - 2] !== 'remoteAddress' || k[n - 1] !== 'remotePort') return false;
  if (n === 8) return k[3] === 'query' && k[4] === 'params';
  return n === 6 || k[3] === 'query' || k[3] === 'params';
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
  return createPinoIpRedactionWith(options);
}

/** @internal What a recipe built on {@link createPinoIpRedaction} adds to it. */
export interface PinoRecipeParts {
  /** Another header rule (the request-log recipe's: secrets replaced, `Host` as is), applied in the serializers' one pass over the headers. */
  readonly headerRule?: (headers: unknown, r: ResolvedLogRedaction) => unknown;
  /** The fields a pino `mixin` adds to a line (a fresh object), or undefined for none. */
  readonly mixinFields?: (mergeObject: object) => Record<string, unknown> | undefined;
}

/** @internal {@link PinoIpRedaction} with the recipe's `mixin` when {@link PinoRecipeParts.mixinFields} was given. */
export interface PinoRecipe extends PinoIpRedaction {
  readonly mixin?: (mergeObject: object) => object;
  /** The mixin's scrubbing of its fields, for the same fields bound another way (pino-http's customProps). */
  readonly scrubFields?: (fields: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * @internal {@link createPinoIpRedaction} with a recipe's own parts: a header rule applied
 * in the serializers' one pass over the headers (instead of a second pass after them), and
 * a `mixin` whose fields are scrubbed where they are made, so that `formatters.log` walks
 * only the merging object's fields of the lines it merges into (and none when the hook
 * already scrubbed that object).
 */
export function createPinoIpRedactionWith(options: PinoIpRedactionOptions | undefined, parts: PinoRecipeParts = {}): PinoRecipe {
  const { resolved: r } = resolveLogRedaction(options, 'createPinoIpRedaction()');
  const scrubHeadersOf = parts.headerRule ?? scrubHeaders;
  const mixinFields = parts.mixinFields;

  /** A request field other than the address and the headers, as the general loop below writes it. */
  function requestField(value: unknown): unknown {
    if (typeof value === 'string') return plainValue(value) ? value : r.scrubAndEscape(value);
    if (typeof value === 'number' || value === undefined || isEmptyRecord(value)) return value;
    return r.scrubValue(value, 1);
  }

  // The two shapes every request line has are written with named fields, in their order,
  // instead of the general loop: keyed reads and writes of a changing key go megamorphic
  // in V8 and cost more than the scrubbing itself (≈ 1.5 µs of 2 per request, measured).

  /** The fields of {@link fromRawRequest}, redacted: id, method, url, headers, remoteAddress, remotePort. */
  function requestFromRaw(req: Rec, id: unknown): Rec {
    const socket = req['socket'] as Rec | undefined;
    return {
      id: requestField(typeof id === 'function' ? undefined : id),
      method: requestField(req['method']),
      url: requestField(req['originalUrl'] ?? req['url']),
      headers: scrubHeadersOf(req['headers'], r),
      remoteAddress: r.redactAddress(socket?.['remoteAddress']),
      remotePort: requestField(socket?.['remotePort']),
    };
  }

  /** pino-std-serializers' request (pino-http's): id, method, url, query and params when set, headers, remoteAddress, remotePort. */
  function requestFromStd(req: Rec): Rec {
    const out: Rec = { id: requestField(req['id']), method: requestField(req['method']), url: requestField(req['url']) };
    if (hasOwn.call(req, 'query')) out['query'] = requestField(req['query']);
    if (hasOwn.call(req, 'params')) out['params'] = requestField(req['params']);
    out['headers'] = scrubHeadersOf(req['headers'], r);
    out['remoteAddress'] = r.redactAddress(req['remoteAddress']);
    out['remotePort'] = requestField(req['remotePort']);
    return out;
  }

  function serializeRequest(req: unknown): unknown {
    try {
      if (typeof req !== 'object' || req === null) return r.scrubValue(req);
      // pino-http hands over pino's standard serialization (with a hidden `raw`); plain
      // pino with `logger.info({ req })` hands over the IncomingMessage itself, and
      // Fastify's logger its Request (whose `raw` is the IncomingMessage).
      const rec = req as Rec;
      if (isHttpMessage(rec)) {
        const raw = rawOf(rec);
        if (raw !== undefined) return requestFromRaw(raw, rec['id']);
        if (!('raw' in rec)) return requestFromRaw(rec, rec['id']);
      } else if (isStdRequest(rec)) return requestFromStd(rec);
      // Anything else: every own field, whatever its name (the shape pino-http would
      // write for a serializer of its own).
      const out: Rec = {};
      for (const key of Object.keys(rec)) {
        const value = rec[key];
        switch (key) {
          case 'remoteAddress':
            out[key] = r.redactAddress(value);
            break;
          case 'headers':
            out[key] = scrubHeadersOf(value, r);
            break;
          default:
            out[key] = requestField(value);
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
      // A ServerResponse itself, or Fastify's Reply around one (never walked: it holds the
      // server; its own getHeaders() has the headers it has not yet handed to the raw one).
      const rec = res as Rec;
      const raw = rawOf(rec);
      const msg = raw !== undefined && typeof rec['getHeaders'] === 'function' ? rec : (raw ?? (isHttpMessage(rec) ? rec : undefined));
      if (msg !== undefined && typeof msg['getHeaders'] === 'function') {
        return { statusCode: msg['statusCode'], headers: scrubHeadersOf((msg['getHeaders'] as () => unknown).call(msg), r) };
      }
      const out: Rec = {};
      for (const key of Object.keys(rec)) out[key] = key === 'headers' ? scrubHeadersOf(rec[key], r) : r.scrubValue(rec[key], 1);
      return out;
    } catch {
      return { statusCode: undefined };
    }
  }

  // The merging object logMethod already scrubbed, so formatters.log does not walk it
  // twice (pino calls formatters.log synchronously inside the same log call).
  let lastScrubbed: unknown;
  // Whether that walk changed nothing (then a second walk of the same values would not either).
  let lastUnchanged = false;
  // The object the mixin last returned, already scrubbed, and the merging object pino
  // merges into it (its default mixinMergeStrategy: Object.assign(mixed, mergeObject)),
  // then hands to formatters.log in the same call.
  let mixed: Rec | undefined;
  let mixedFrom: Rec | undefined;

  function formatLog(object: Rec): Rec {
    if (object === lastScrubbed) {
      lastScrubbed = undefined;
      return object;
    }
    // The mixin's own fields are already scrubbed: walk only the merging object's fields,
    // and not even those when the hook's walk of them changed nothing. (When it changed
    // something they are walked again: pino merges the merging object into the mixin's
    // object, which the formatter has always scrubbed as a whole, and a second pass can
    // differ from the first on contrived text, e.g. a zone id glued to more hex. Same lines
    // as before.)
    let only: Rec | undefined;
    if (object === mixed) {
      only = mixedFrom;
      mixed = undefined;
      mixedFrom = undefined;
      if (only === lastScrubbed && lastUnchanged) {
        lastScrubbed = undefined;
        return object;
      }
    }
    try {
      let copy: Rec | undefined;
      // for…in + own check, as pino's own serializer loop does (no key array allocated).
      for (const key in object) {
        if (!hasOwn.call(object, key)) continue;
        if (only !== undefined && !hasOwn.call(only, key)) continue;
        const value = object[key];
        let next: unknown;
        // Inline the cheap cases: most fields are numbers, booleans or short strings.
        if (typeof value === 'string') next = r.scrubText(value);
        else if (typeof value !== 'object' || value === null) continue;
        // Raw req/res objects (and Fastify's Request/Reply around them) are left to the
        // serializers above (pino runs them after this hook).
        else if ((key === 'req' || key === 'res') && (isHttpMessage(value) || rawOf(value as Rec) !== undefined)) continue;
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
        next = isHttpMessage(a) || rawOf(a as Rec) !== undefined ? a : formatLog(a as Rec);
        lastScrubbed = next;
        lastUnchanged = next === a;
      } else next = r.scrubValue(a, i === 0 ? 0 : 1);
      if (next !== a) {
        scrubbed ??= args.slice();
        scrubbed[i] = next;
      }
    }
    method.apply(this, scrubbed ?? args);
    lastScrubbed = undefined;
    lastUnchanged = false;
  }

  // The mixin's fields repeat from line to line (policy, purpose, basis, the redacted
  // client address of one request), so each field's last value and its scrubbed form are
  // kept, by position: a field is scrubbed again only when its value changes.
  const seenKey: string[] = [];
  const seenIn: unknown[] = [];
  const seenOut: unknown[] = [];

  function scrubField(i: number, key: string, value: unknown): unknown {
    if (typeof value !== 'string') return typeof value === 'object' && value !== null ? r.scrubValue(value, 1) : value;
    if (seenKey[i] === key && seenIn[i] === value) return seenOut[i];
    const out = r.scrubText(value);
    seenKey[i] = key;
    seenIn[i] = value;
    seenOut[i] = out;
    return out;
  }

  /** A fresh fields object, scrubbed in place (fails closed). */
  function scrubFields(fields: Rec): Rec {
    try {
      const keys = Object.keys(fields);
      for (let i = 0; i < keys.length; i++) fields[keys[i]!] = scrubField(i, keys[i]!, fields[keys[i]!]);
      return fields;
    } catch {
      return { redaction: INVALID_IP_TOKEN };
    }
  }

  function mixin(mergeObject: object): object {
    let fields: Rec | undefined;
    try {
      fields = mixinFields!(mergeObject);
      if (fields !== undefined) fields = scrubFields(fields);
    } catch {
      fields = { redaction: INVALID_IP_TOKEN };
    }
    mixed = fields ?? {};
    mixedFrom = mergeObject as Rec;
    return mixed;
  }

  return Object.freeze({
    serializers: Object.freeze({ req: serializeRequest, res: serializeResponse }),
    formatters: Object.freeze({ log: formatLog }),
    hooks: Object.freeze({ logMethod }),
    ...(mixinFields === undefined ? {} : { mixin, scrubFields }),
  });
}
