/** @purposekit/fastify — Fastify 5 adapter. */
export { purposekit, privacyOf } from './fastify-adapter';
export type { PrivacyAdapterOptions, PurposekitPluginOptions, PrivacyRouteConfig } from './types';
export { createRightsRouter } from './rights-router';
export type { RightsRouterOptions } from './rights-router';
