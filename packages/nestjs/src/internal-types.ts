import type { Purposekit } from '@purposekit/core';
import type { ResolvedAdapterOptions } from '@purposekit/core/adapter';

/** @internal Validated, frozen module options. */
export interface ResolvedPrivacyModuleOptions extends ResolvedAdapterOptions {
  readonly kit: Purposekit;
}

/** @internal Injection token of {@link ResolvedPrivacyModuleOptions}. */
export const RESOLVED_PRIVACY_OPTIONS = Symbol('purposekit.nestjs.resolved-options');

/** @internal Metadata keys of the decorators. */
export const PURPOSE_METADATA = 'purposekit:purpose';
export const AGE_GATE_METADATA = 'purposekit:age-gate';
export const ACCESSES_METADATA = 'purposekit:accesses';
