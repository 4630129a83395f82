/**
 * The two entry points for turning an address into its log form: {@link redactIp} for
 * one-off calls and {@link createIpRedactor}, compiled once per application from the
 * policy's `logs.ip`, for the per-request path.
 */
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import type { PseudonymKey } from '../pseudonym';
import type { IpLogInput, ResolvedIpLog } from '../policy/types';
import { checkOptionsObject, integerOption, memoizeByObject } from './options';
import { createIpPseudonymizer } from './pseudonymize';
import type { IpKeyring } from './pseudonymize';
import { INVALID_IP_TOKEN, compileTruncation } from './truncate';
import type { IpTruncationOptions } from './truncate';

const compiledTruncation = memoizeByObject((o: IpTruncationOptions | undefined) => compileTruncation(o, 'redactIp()'));

/**
 * Truncates an address to its network prefix (defaults: /24 for IPv4, /48 for IPv6), in
 * canonical text (RFC 5952 for IPv6). IPv6 forms that carry an IPv4 address (mapped,
 * translated, NAT64, 6to4, Teredo) never keep that IPv4 address whole: see the table in
 * `truncate.ts`. Anything that is not a strictly valid address (legacy forms such as
 * `127.1`, `host:port`, `[v6]:port`, `unknown`, non-strings) gives `INVALID_IP_TOKEN`,
 * never the input.
 *
 * The result is "truncated", which is still personal data (pseudonymous), not anonymous.
 *
 * @example redactIp('192.0.2.33') // '192.0.2.0'
 * @example redactIp('2001:db8:85a3:8d3:1319:8a2e:370:7348') // '2001:db8:85a3::'
 * @example redactIp('::ffff:192.0.2.33', { ipv4Prefix: 16 }) // '::ffff:192.0.0.0'
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for bad options (validated once per options object).
 */
export function redactIp(ip: unknown, options?: IpTruncationOptions): string {
  return compiledTruncation(options).truncate(ip);
}

/** An address → log form function, from {@link createIpRedactor}. */
export type IpRedactor = (ip: string | undefined) => string;

/** Extra options of {@link createIpRedactor} (what the policy's `logs.ip` does not hold). */
export interface IpRedactorOptions {
  /** NAT64 network-specific prefixes in use (see {@link IpTruncationOptions.nat64Prefixes}). */
  nat64Prefixes?: readonly string[];
  /** Pseudonym cache size (pseudonymize mode). Default 1024. */
  cacheSize?: number;
}

const LOG_KEYS = ['mode', 'ipv4Prefix', 'ipv6Prefix', 'keyId', 'truncateFirst'] as const;

/**
 * Compiles the policy's IP log setting once into the per-request function that turns the
 * resolved client address into what may be logged or shown to application code:
 *
 * - `mode: 'truncate'`: {@link redactIp} with the policy's prefixes (≈ 40–70 ns IPv4,
 *   ≈ 300–500 ns IPv6 on Node 20, validation included);
 * - `mode: 'pseudonymize'`: `ip-hmac:<keyId>:<32 hex>` under the keyring's key `keyId`
 *   (default: its current key), over the truncated address when `truncateFirst`.
 *
 * `undefined` and anything that is not a strictly valid address give `INVALID_IP_TOKEN`.
 * The function never throws and never returns its input unredacted: on any internal
 * failure it returns `INVALID_IP_TOKEN` (fail closed).
 *
 * @param config `policy.logs.ip` (a {@link ResolvedIpLog}; an {@link IpLogInput} works too).
 * @param keys Required for `pseudonymize`: a keyring from `createIpKeyring`, or `{ id, secret }` / a list of them.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a bad config;
 *   PURPOSEKIT_ERR_INVALID_KEY when pseudonymizing without a usable key.
 */
export function createIpRedactor(
  config: ResolvedIpLog | IpLogInput,
  keys?: IpKeyring | PseudonymKey | readonly PseudonymKey[],
  options?: IpRedactorOptions,
): IpRedactor {
  const c = checkOptionsObject(config, 'createIpRedactor(logs.ip)', LOG_KEYS);
  const extra = checkOptionsObject(options, 'createIpRedactor() options', ['nat64Prefixes', 'cacheSize']);
  const mode = c['mode'] ?? 'truncate';
  const truncation: IpTruncationOptions = {
    ipv4Prefix: c['ipv4Prefix'] as number | undefined,
    ipv6Prefix: c['ipv6Prefix'] as number | undefined,
    nat64Prefixes: extra['nat64Prefixes'] as readonly string[] | undefined,
  };
  let apply: (ip: unknown) => string;
  if (mode === 'truncate') {
    apply = compileTruncation(truncation, 'createIpRedactor(logs.ip)').truncate;
  } else if (mode === 'pseudonymize') {
    if (keys === undefined) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_INVALID_KEY',
        'logs.ip.mode is "pseudonymize" but no key was given: pass a keyring (createIpKeyring({ id, secret })) or { id, secret } with a secret of at least 32 bytes.',
      );
    }
    const keyId = c['keyId'];
    if (keyId !== undefined && typeof keyId !== 'string') {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `logs.ip.keyId must be a string, got ${show(keyId)}.`);
    }
    apply = createIpPseudonymizer(keys, {
      ...truncation,
      ...(keyId === undefined ? {} : { keyId }),
      truncateFirst: (c['truncateFirst'] as boolean | undefined) ?? false,
      cacheSize: integerOption(extra['cacheSize'], 'cacheSize', 0, 1_000_000, 1024),
    });
  } else {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `logs.ip.mode must be "truncate" or "pseudonymize", got ${show(mode)}.`);
  }
  return function redactClientIp(ip: string | undefined): string {
    try {
      return apply(ip);
    } catch {
      return INVALID_IP_TOKEN;
    }
  };
}
