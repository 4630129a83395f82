/** @purposekit/koa — Koa 3 adapter. */
export { createPrivacy } from './koa-adapter';
export type { KoaPrivacy } from './koa-adapter';
export type { PrivacyAdapterOptions } from './types';
export { privacyOf } from './privacy-of';
export { createRightsRouter } from './rights-router';
export type { RightsRouterOptions } from './rights-router';
