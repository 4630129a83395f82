import type { PrivacyContext, Purposekit } from '@purposekit/core';
import type { AdapterOptions, CompiledAgeGate, PurposeDeclaration } from '@purposekit/core/adapter';

/**
 * Options of {@link PrivacyModule.forRoot} / `forRootAsync` (from `useFactory`).
 * The same adapter options as `@purposekit/express` and `@purposekit/koa`, plus the engine.
 */
export interface PrivacyModuleOptions extends AdapterOptions {
  /** The engine from `createPurposekit()`. Required. Build it yourself so that jobs and repositories share it. */
  kit: Purposekit;
}

/**
 * What `@Accesses()` checks and records before the handler runs.
 * `TRequest` is the platform's request (Express `Request` or `FastifyRequest`).
 */
export interface AccessesOptions<TRequest = any> {
  /** Data categories the handler touches. At least one. */
  data: readonly string[];
  /** What the handler does with them: collect, read, use, update, delete, share, export. */
  action: string;
  /** A third party the data goes to. */
  recipient?: string;
  /** Whose data, from the request (e.g. `(req) => req.params.id`). Default: the context's subject. */
  subject?: (request: TRequest) => string | undefined;
}

/** A route's declarations, validated and compiled at start-up (what `PrivacyGuard.getRoute` returns). */
export interface CompiledRoute {
  /** From the handler's `@Purpose`, else its controller's; undefined: the policy default applies. */
  readonly purpose: PurposeDeclaration | undefined;
  /** From the handler's `@AgeGate`, else its controller's. */
  readonly ageGate: CompiledAgeGate<unknown> | undefined;
  /** The handler's `@Accesses`, in source order. */
  readonly accesses: readonly AccessesOptions[];
}

/**
 * The platform request as PrivacyGuard reads it, typed structurally so that no platform
 * type leaks into this package's declarations: Express `Request` or `FastifyRequest`.
 */
export interface PrivacyGuardRequest {
  body?: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** Express platform. */
  privacy?: PrivacyContext;
  /** Fastify platform: the raw Node request. */
  raw?: { privacy?: PrivacyContext; body?: unknown };
}

declare global {
  // Declaration merging: `req.privacy` is typed in Express handlers on the Express platform.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The purposekit context of this request (set by PrivacyModule's middleware). */
      privacy?: PrivacyContext;
    }
  }
}

declare module 'node:http' {
  // On the Fastify platform Nest middleware sees the raw request: `req.raw.privacy`.
  interface IncomingMessage {
    /** The purposekit context of this request (set by PrivacyModule's middleware). */
    privacy?: PrivacyContext;
  }
}
