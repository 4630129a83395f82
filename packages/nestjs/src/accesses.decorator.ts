import { ACCESSES_METADATA } from './internal-types';
import type { AccessesOptions } from './types';

/**
 * Checks and records an access to personal data BEFORE the handler runs, under the
 * route's purpose. Stack it to declare several accesses (checked top to bottom); a deny
 * answers 403 `{ error: { code, message, reason } }` and the handler never runs.
 * `data` and `action` are validated when the application starts.
 *
 * @example
 * \@Accesses({ data: ['email'], action: 'read', subject: (req) => req.params.id })
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION from `app.init()` for a bad declaration.
 */
export function Accesses<TRequest = any>(options: AccessesOptions<TRequest>): MethodDecorator {
  return (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const previous = (Reflect.getMetadata(ACCESSES_METADATA, handler) as AccessesOptions[] | undefined) ?? [];
    // Decorators apply bottom-up; prepend so the list reads in source order.
    Reflect.defineMetadata(ACCESSES_METADATA, [options, ...previous], handler);
    return descriptor;
  };
}
