import type { PrivacyContext } from '@purposekit/core';
import type { AdapterOptions } from '@purposekit/core/adapter';

/** Options of {@link createPrivacy}: the same type in @purposekit/koa. */
export type PrivacyAdapterOptions = AdapterOptions;

declare global {
  // Declaration merging: `req.privacy` is typed in every Express handler.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The purposekit context of this request (set by `privacy.middleware()`). */
      privacy?: PrivacyContext;
    }
  }
}
