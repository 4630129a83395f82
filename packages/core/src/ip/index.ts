/**
 * IP handling: client address resolution behind trusted proxies, redaction for logs.
 *
 * CONTRACT (used by the engine in ../purposekit.ts — keep these signatures):
 * - `TrustFn`, `compileTrust(value)`, `resolveClientIp(remoteAddress, headers, options)`
 * - `createIpRedactor(config, keys?)` returning `(ip) => string`
 * - `INVALID_IP_TOKEN`
 *
 * An adapter needs two things per request: `resolveClientIp` (or a resolver from
 * `createClientIpResolver`) with the framework's trust setting, then the function from
 * `createIpRedactor(policy.logs.ip, keys)`. Nothing else sees the raw address.
 */
export { MAX_IP_TEXT_LENGTH, canonicalizeIp } from './address';
export {
  INVALID_IP_TOKEN,
  DEFAULT_IPV4_PREFIX,
  DEFAULT_IPV6_PREFIX,
  MAX_IPV4_PREFIX,
  MAX_IPV6_PREFIX,
  classifyIp,
  compileTruncation,
} from './truncate';
export type { IpTruncationOptions, ResolvedIpTruncation, Ipv6Form, CompiledTruncation } from './truncate';
export { redactIp, createIpRedactor } from './redact';
export type { IpRedactor, IpRedactorOptions } from './redact';
export { IP_PSEUDONYM_PREFIX, createIpKeyring, isIpKeyring, createIpPseudonymizer, pseudonymizeIp } from './pseudonymize';
export type { IpKeyring, IpKeyringOptions, PseudonymizeIpOptions, IpPseudonymizer } from './pseudonymize';
export { scrubIps, createIpScrubber } from './scrub';
export type { ScrubIpsOptions, IpScrubber } from './scrub';
export { escapeLogValue } from './escape';
export { compileTrust, trustsEverything, warnIfTrustsEverything } from './trust-match';
export { fastifyTrustOf } from './fastify-trust';
export type { FastifyTrust } from './fastify-trust';
export type { TrustFn, TrustSetting } from './trust-match';
export { DEFAULT_MAX_HOPS, DEFAULT_MAX_ENTRY_LENGTH, resolveClientIp, createClientIpResolver } from './client-ip';
export type { ClientIpOptions, ClientIpResolver, ClientIpResolverOptions } from './client-ip';
