import type { PrivacyContext } from '@purposekit/core';
import type { AdapterOptions } from '@purposekit/core/adapter';

/** Options of {@link createPrivacy}: the same type as in @purposekit/express. */
export type PrivacyAdapterOptions = AdapterOptions;

declare module 'koa' {
  // Declaration merging on DefaultState: `ctx.state` is Koa's documented namespace for
  // data passed between middleware, so `ctx.state.privacy` is typed in every middleware
  // and @koa/router handler that uses the default state type.
  interface DefaultState {
    /** The purposekit context of this request (set by `privacy.middleware()`). */
    privacy?: PrivacyContext;
  }
}
