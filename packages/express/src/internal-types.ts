import type { ResolvedAdapterOptions } from '@purposekit/core';

/** @internal Validated, frozen adapter options. */
export type ResolvedPrivacyAdapterOptions = ResolvedAdapterOptions;
