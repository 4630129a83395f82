/** @purposekit/fastify — Fastify 5 adapter. */
export { purposekit } from './fastify-adapter';
export { privacyOf } from './privacy-of';
export { describeRoutes } from './route-table';
export type { PrivacyAdapterOptions, PurposekitPluginOptions, PrivacyRouteConfig } from './types';
export { createRightsRouter } from './rights-router';
export type { RightsRouterOptions } from './rights-router';
