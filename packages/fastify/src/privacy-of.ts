import { PurposekitError } from '@purposekit/core';
import type { PrivacyContext } from '@purposekit/core';

/**
 * The purposekit context of a Fastify request, typed, instead of `request.privacy!`.
 * The same name in `@purposekit/express` and `@purposekit/koa`.
 *
 * @example
 * app.get('/members/:id', { config: { purpose: 'service.provision' } }, async (request) => {
 *   await privacyOf(request).access({ subject: request.params.id, data: ['email'], action: 'read' });
 * });
 * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT when the purposekit plugin did not run for this request.
 */
export function privacyOf(request: { readonly privacy?: PrivacyContext | undefined }): PrivacyContext {
  const ctx = request?.privacy;
  if (ctx === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'privacyOf(request): this request has no privacy context; register the purposekit plugin (await app.register(purposekit, { kit })) before your routes.');
  }
  return ctx;
}
