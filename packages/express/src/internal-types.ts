import type { ResolvedAdapterOptions } from '@purposekit/core/adapter';

/** @internal Validated, frozen adapter options. */
export type ResolvedPrivacyAdapterOptions = ResolvedAdapterOptions;
