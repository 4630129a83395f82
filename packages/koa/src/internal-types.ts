import type { ResolvedAdapterOptions } from '@purposekit/core/adapter';

/** @internal Validated, frozen adapter options. */
export type ResolvedPrivacyAdapterOptions = ResolvedAdapterOptions;

/** @internal The part of a Koa request the age gate reads: a body parser sets `body`. */
export interface RequestWithBody {
  body?: unknown;
}
