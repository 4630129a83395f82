/** @purposekit/express — Express 5 adapter. */
export { createPrivacy } from './express-adapter';
export type { ExpressPrivacy } from './express-adapter';
export type { PrivacyAdapterOptions } from './types';
export { privacyOf } from './privacy-of';
export { createRightsRouter } from './rights-router';
export type { RightsRouterOptions } from './rights-router';
