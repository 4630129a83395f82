/**
 * winston integration: a format object, structurally compatible with winston's (logform)
 * `Format` (`{ transform(info, opts) }`), so `winston.format.combine(ipFormat, json())`
 * accepts it without the core importing winston.
 */
import { getPrivacyContext } from '../context';
import { INVALID_IP_TOKEN } from '../ip/truncate';
import { booleanOption } from '../ip/options';
import { resolveLogRedaction } from './options';
import type { LogIpRedactionOptions } from './options';
import { escapeLogValue } from '../ip/escape';
import { headerSet, redactHeaders } from './request-log';

/** Options for {@link createWinstonIpFormat}. */
export interface WinstonIpFormatOptions extends LogIpRedactionOptions {
  /**
   * Add the active request's privacy fields (`requestId`, `purpose`, `basis`, `policy`,
   * redacted `ip`; from `getPrivacyContext()`) to every entry logged inside a request that
   * does not carry a `purpose` already. Default true.
   */
  privacyFields?: boolean;
  /**
   * Header names (any case) written as `[Redacted]` wherever an entry carries headers
   * (`headers`, `req.headers`, `res.headers`). Default `authorization`,
   * `proxy-authorization`, `cookie`, `set-cookie`. The `host` header is escaped, not scrubbed.
   */
  redactHeaders?: readonly string[];
}

/** A winston log entry (logform's `TransformableInfo`). */
export interface WinstonInfo {
  level: string;
  message: unknown;
  [key: string | symbol]: unknown;
}

/** A winston (logform) format: `transform` returns the info object to pass on. */
export interface WinstonIpFormat {
  readonly options: Readonly<Record<string, unknown>>;
  transform(info: WinstonInfo, opts?: unknown): WinstonInfo;
}

const LEVEL = Symbol.for('level');

/**
 * A winston format that scrubs every address out of a log entry: the message, every
 * meta field (nested objects and errors included), the `splat` arguments and, when it runs
 * after a finalizing format (`json()`, `printf()`), the finished line in
 * `info[Symbol.for('message')]`. Put it first in `combine(...)` so later formats see
 * clean data. The caller's objects are never mutated (a changed entry is a copy; an
 * Error entry stays an Error). If scrubbing fails, the entry becomes
 * `{ level, message: INVALID_IP_TOKEN }` (fail closed).
 *
 * @example winston.createLogger({ format: winston.format.combine(createWinstonIpFormat({ redactor }), winston.format.json()), transports })
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options.
 */
export function createWinstonIpFormat(options?: WinstonIpFormatOptions): WinstonIpFormat {
  const { resolved: r, raw } = resolveLogRedaction(options, 'createWinstonIpFormat()', ['privacyFields', 'redactHeaders']);
  const privacyFields = booleanOption(raw['privacyFields'], 'privacyFields', true);
  const secret = headerSet(raw['redactHeaders'], 'createWinstonIpFormat()');
  type Rec = Record<PropertyKey, unknown>;
  // Headers are rewritten here (secrets replaced, host kept), then marked so the deep
  // scrub below does not rewrite the host header's address.
  const withHeaders = (owner: Rec, copy: () => Rec): Rec => {
    let out = owner;
    for (const key of ['req', 'res'] as const) {
      const part = owner[key];
      if (typeof part === 'object' && part !== null && typeof (part as Rec)['headers'] === 'object') {
        if (out === owner) out = copy();
        out[key] = { ...(part as Rec), headers: redactHeaders((part as Rec)['headers'], secret, r) };
      }
    }
    if (typeof owner['headers'] === 'object' && owner['headers'] !== null) {
      if (out === owner) out = copy();
      out['headers'] = redactHeaders(owner['headers'], secret, r);
    }
    return out;
  };
  // The Host header names the server, not a client: the deep scrub must not rewrite it
  // (escaped all the same, as every header value is).
  const keepHost = (before: Rec, after: Rec): void => {
    const put = (b: unknown, a: unknown): void => {
      if (typeof b !== 'object' || b === null || typeof a !== 'object' || a === null || a === b) return;
      const host = (b as Rec)['host'];
      if (typeof host === 'string') (a as Rec)['host'] = escapeLogValue(host);
    };
    put(before['headers'], after['headers']);
    for (const key of ['req', 'res'] as const) {
      const b = before[key];
      const a = after[key];
      if (typeof b === 'object' && b !== null && typeof a === 'object' && a !== null) put((b as Rec)['headers'], (a as Rec)['headers']);
    }
  };
  return Object.freeze({
    options: Object.freeze({}),
    transform(info: WinstonInfo): WinstonInfo {
      let entry: WinstonInfo = info;
      const copy = (): Rec => {
        if (entry === info) entry = Object.assign(Object.create(Object.getPrototypeOf(info) as object) as WinstonInfo, info);
        return entry as Rec;
      };
      try {
        if (privacyFields && !('purpose' in info)) {
          const ctx = getPrivacyContext();
          if (ctx !== undefined) Object.assign(copy(), ctx.logFields());
        }
        withHeaders(entry as Rec, copy);
      } catch {
        return { level: info['level'], [LEVEL]: info[LEVEL], message: INVALID_IP_TOKEN };
      }
      const next = r.scrubValue(entry);
      if (typeof next === 'object' && next !== null) {
        if (next !== entry) keepHost(entry as Rec, next as Rec);
        return next as WinstonInfo;
      }
      return { level: info['level'], [LEVEL]: info[LEVEL], message: INVALID_IP_TOKEN };
    },
  });
}
