import { PurposekitError } from '@purposekit/core';
import type { PrivacyContext } from '@purposekit/core';

/**
 * The purposekit context of a Koa request, typed, instead of `ctx.state.privacy!`.
 * The same name in `@purposekit/express` (which takes Express's `req`).
 *
 * @example
 * router.get('/members/:id', privacy.purpose('service.provision'), async (ctx) => {
 *   await privacyOf(ctx).access({ subject: ctx.params.id, data: ['email'], action: 'read' });
 * });
 * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT when `privacy.middleware()` did not run for this request.
 */
export function privacyOf(ctx: { readonly state: { readonly privacy?: PrivacyContext | undefined } }): PrivacyContext {
  const privacy = ctx?.state?.privacy;
  if (privacy === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'privacyOf(ctx): this request has no privacy context; mount privacy.middleware() before this route.');
  }
  return privacy;
}
