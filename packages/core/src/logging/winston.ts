/**
 * winston integration: a format object, structurally compatible with winston's (logform)
 * `Format` (`{ transform(info, opts) }`), so `winston.format.combine(ipFormat, json())`
 * accepts it without the core importing winston.
 */
import { INVALID_IP_TOKEN } from '../ip/truncate';
import { resolveLogRedaction } from './options';
import type { LogIpRedactionOptions } from './options';

/** Options for {@link createWinstonIpFormat}. */
export type WinstonIpFormatOptions = LogIpRedactionOptions;

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
  const { resolved: r } = resolveLogRedaction(options, 'createWinstonIpFormat()');
  return Object.freeze({
    options: Object.freeze({}),
    transform(info: WinstonInfo): WinstonInfo {
      const next = r.scrubValue(info);
      if (typeof next === 'object' && next !== null) return next as WinstonInfo;
      return { level: info['level'], [LEVEL]: info[LEVEL], message: INVALID_IP_TOKEN };
    },
  });
}
