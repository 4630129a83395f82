import type { Purposekit } from '@purposekit/core';

/** @internal Validated, frozen module options. */
export interface ResolvedPrivacyModuleOptions {
  readonly kit: Purposekit;
  readonly onWarning: (message: string, code: string) => void;
  readonly skip: ((method: string, url: string) => boolean) | undefined;
}

/** @internal Injection token of {@link ResolvedPrivacyModuleOptions}. */
export const RESOLVED_PRIVACY_OPTIONS = Symbol('purposekit.nestjs.resolved-options');

/** @internal Metadata keys of the decorators. */
export const PURPOSE_METADATA = 'purposekit:purpose';
export const AGE_GATE_METADATA = 'purposekit:age-gate';
export const ACCESSES_METADATA = 'purposekit:accesses';
