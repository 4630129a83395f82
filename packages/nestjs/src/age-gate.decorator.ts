import { SetMetadata } from '@nestjs/common';
import { AGE_GATE_METADATA } from './internal-types';

/**
 * Runs the policy's age gate `name` on the request body's date of birth before the
 * handler (on a controller: before each of its handlers; a handler's gate overrides).
 * A refusal answers 403 (400 for a bad date) with the lockout cookie; the body is
 * dropped and the handler never runs. Needs `ageGate: { secret }` in `createPurposekit()`.
 *
 * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_AGE_GATE from `app.init()` / `app.listen()`.
 */
export function AgeGate(name: string): ClassDecorator & MethodDecorator {
  return SetMetadata(AGE_GATE_METADATA, name);
}
