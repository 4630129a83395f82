/** Options shared by the logger integrations, resolved once. */
import { checkOptionsObject, functionOption, integerOption } from '../ip/options';
import { createIpRedactor } from '../ip/redact';
import type { IpRedactor } from '../ip/redact';
import { createIpScrubber } from '../ip/scrub';
import { INVALID_IP_TOKEN } from '../ip/truncate';
import { escapeLogValue } from '../ip/escape';
import { DEFAULT_MAX_DEPTH, createValueScrubber } from './scrub-value';
import type { ValueScrubber } from './scrub-value';

/** Options every logger integration takes. */
export interface LogIpRedactionOptions {
  /**
   * Turns one address into its log form. Pass the engine's policy redactor:
   * `createIpRedactor(policy.logs.ip, keys)`. Default: truncation to /24 (IPv4) and /48
   * (IPv6). It receives canonical addresses (and `undefined` for a missing socket
   * address); if it throws, `INVALID_IP_TOKEN` is written.
   */
  redactor?: IpRedactor;
  /**
   * Levels of nested objects scrubbed, counting a log entry's own fields as level 1;
   * objects deeper than this are written as `"[Object]"` (pino's default depth is 5).
   * 1–100, default 10.
   */
  maxDepth?: number;
}

/** @internal */
export interface ResolvedLogRedaction {
  /** Address → log form, never throws. */
  readonly redactAddress: (ip: unknown) => string;
  /** Free text → text with addresses redacted, never throws. */
  readonly scrubText: (text: string) => string;
  /** Free text → scrubbed and escaped for a log (values we write ourselves). */
  readonly scrubAndEscape: (text: string) => string;
  /** Any value → deep-scrubbed copy (or the same value). */
  readonly scrubValue: ValueScrubber;
}

/** @internal */
export function resolveLogRedaction(options: unknown, where: string, extraKeys: readonly string[] = []): {
  resolved: ResolvedLogRedaction;
  raw: Readonly<Record<string, unknown>>;
} {
  const o = checkOptionsObject(options, where, ['redactor', 'maxDepth', ...extraKeys]);
  const redactor = functionOption<IpRedactor>(o['redactor'], 'redactor', createIpRedactor({ mode: 'truncate' }));
  const maxDepth = integerOption(o['maxDepth'], 'maxDepth', 1, 100, DEFAULT_MAX_DEPTH);
  const redactAddress = (ip: unknown): string => {
    try {
      const out = redactor(typeof ip === 'string' ? ip : undefined);
      return typeof out === 'string' ? escapeLogValue(out) : INVALID_IP_TOKEN;
    } catch {
      return INVALID_IP_TOKEN;
    }
  };
  const scrubber = createIpScrubber({ redact: redactAddress });
  const scrubText = (text: string): string => {
    try {
      return scrubber(text);
    } catch {
      return INVALID_IP_TOKEN;
    }
  };
  const scrubAndEscape = (text: string): string => escapeLogValue(scrubText(text));
  return {
    resolved: Object.freeze({ redactAddress, scrubText, scrubAndEscape, scrubValue: createValueScrubber(scrubText, maxDepth) }),
    raw: o,
  };
}

/**
 * Headers that name the server, not the client: `Host` (and HTTP/2's `:authority`) is
 * the address the client connected to, the service's own. Escaped, not scrubbed.
 */
/** @internal */
export function isServerAddressHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'host' || n === ':authority';
}
