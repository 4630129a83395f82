import type { CompiledAgeGate, PurposeDeclaration, ResolvedAdapterOptions } from '@purposekit/core/adapter';
import type { FastifyRequest } from 'fastify';

/** @internal Validated, frozen adapter options. */
export type ResolvedPrivacyAdapterOptions = ResolvedAdapterOptions;

/** @internal A route's declaration, compiled once (when the route is added, or on its first request). */
export interface CompiledRoute {
  readonly decl: PurposeDeclaration | undefined;
  readonly gate: CompiledAgeGate<FastifyRequest> | undefined;
}
