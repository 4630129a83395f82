/**
 * Logger integrations that keep full IP addresses out of log lines: pino / pino-http,
 * winston and morgan. All typed structurally: the core depends on none of them at runtime.
 */
export { DEFAULT_MAX_DEPTH } from './scrub-value';
export type { LogIpRedactionOptions } from './options';
export { createPinoIpRedaction } from './pino';
export type { PinoIpRedaction, PinoIpRedactionOptions, PinoLogMethodHook } from './pino';
export { createWinstonIpFormat } from './winston';
export type { WinstonIpFormat, WinstonIpFormatOptions, WinstonInfo } from './winston';
export { MORGAN_SAFE_FORMAT, registerMorganIpTokens } from './morgan';
export { DEFAULT_REDACTED_HEADERS, REDACTED, createPinoHttpOptions, privacyContextOf } from './request-log';
export type { PinoHttpOptionsInput, PurposekitPinoHttpOptions } from './request-log';
export type { MorganLike, MorganTokenFn, MorganIpTokenOptions } from './morgan';
