import type { PrivacyContext, Purposekit } from '@purposekit/core';
import type { AdapterOptions } from '@purposekit/core/adapter';

/** Options every purposekit adapter takes: the same type as in @purposekit/express and @purposekit/koa. */
export type PrivacyAdapterOptions = AdapterOptions;

/** Options of the {@link purposekit} plugin: the engine, plus the adapter options every adapter takes. */
export interface PurposekitPluginOptions extends PrivacyAdapterOptions {
  /** The engine from `createPurposekit()`. Required. */
  kit: Purposekit;
}

/**
 * What a route declares in its `config` (Fastify's per-route configuration object).
 * Both are checked against the policy when the route is added, so a typo fails at start-up.
 */
export interface PrivacyRouteConfig {
  /** The route's purpose (a purpose of the policy). Absent: the policy's `defaultPurpose`. */
  purpose?: string;
  /** The policy's age gate to run on the body's date of birth before the handler. */
  ageGate?: string;
  /**
   * The data categories the route's handler touches (ids of the policy), listed by
   * `describeRoutes(app)` and `kit.describeRoutes()`; the record of processing flags a
   * category the purpose does not allow.
   */
  data?: readonly string[];
}

declare module 'fastify' {
  // Declaration merging: `request.privacy` is typed in every hook and handler, and the
  // route `config` accepts `purpose` and `ageGate` (Fastify's documented extension points).
  interface FastifyRequest {
    /** The purposekit context of this request (set by the plugin's onRequest hook). */
    privacy?: PrivacyContext;
  }
  interface FastifyContextConfig {
    /** The route's purpose (see {@link PrivacyRouteConfig}). */
    purpose?: string;
    /** The route's age gate (see {@link PrivacyRouteConfig}). */
    ageGate?: string;
    /** The data categories the route touches (see {@link PrivacyRouteConfig}). */
    data?: readonly string[];
  }
}
