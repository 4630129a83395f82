import { SetMetadata } from '@nestjs/common';
import { PURPOSE_METADATA } from './internal-types';

/**
 * Declares the purpose of a controller's routes, or of one handler (a handler's
 * declaration overrides its controller's). Validated against the policy when the
 * application starts, never at request time.
 *
 * @example
 * \@Purpose('service.registration')
 * \@Controller('members')
 * export class MembersController {}
 * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE from `app.init()` / `app.listen()`.
 */
export function Purpose(purpose: string): ClassDecorator & MethodDecorator {
  return SetMetadata(PURPOSE_METADATA, purpose);
}
