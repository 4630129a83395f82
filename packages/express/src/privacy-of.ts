import { PurposekitError } from '@purposekit/core';
import type { PrivacyContext } from '@purposekit/core';

/**
 * The purposekit context of an Express request, typed, instead of `req.privacy!`.
 * The same name in `@purposekit/koa` (which takes Koa's `ctx`).
 *
 * @example
 * app.get('/members/:id', privacy.purpose('service.provision'), async (req, res) => {
 *   await privacyOf(req).access({ subject: req.params.id, data: ['email'], action: 'read' });
 * });
 * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT when `privacy.middleware()` did not run for this request.
 */
export function privacyOf(req: { readonly privacy?: PrivacyContext | undefined }): PrivacyContext {
  const ctx = req?.privacy;
  if (ctx === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'privacyOf(req): this request has no privacy context; mount privacy.middleware() before this route.');
  }
  return ctx;
}
