import { Inject, Injectable } from '@nestjs/common';
import { PurposekitError } from '@purposekit/core';
import type { AccessAllowed, AccessDecision, AccessRequest, PrivacyContext, Purposekit, RunAsOptions } from '@purposekit/core';
import { currentContext } from '@purposekit/core/adapter';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';

/**
 * Injectable access to purposekit inside Nest providers: the current request's
 * context, access checks and background jobs. Exported by the (global) PrivacyModule.
 */
@Injectable()
export class PrivacyService {
  /** The engine given to `PrivacyModule.forRoot()`. */
  readonly kit: Purposekit;

  constructor(@Inject(RESOLVED_PRIVACY_OPTIONS) options: ResolvedPrivacyModuleOptions) {
    this.kit = options.kit;
  }

  /** The privacy context of the current request or job, or undefined outside one. */
  get context(): PrivacyContext | undefined {
    // Through the engine: the engine may come from another installed copy of the core.
    return currentContext(this.kit);
  }

  /**
   * The privacy context of the current request or job.
   * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT outside one.
   */
  requireContext(): PrivacyContext {
    const ctx = currentContext(this.kit);
    if (ctx === undefined) {
      throw new PurposekitError('PURPOSEKIT_ERR_NO_CONTEXT', 'No privacy context is active: this code runs outside a request the PrivacyModule handles, or outside privacy.runAs().');
    }
    return ctx;
  }

  /**
   * Checks and records one access under the current request's purpose.
   * @throws PurposekitError PURPOSEKIT_ERR_ACCESS_DENIED, PURPOSEKIT_ERR_PURPOSE_UNDECLARED,
   *   PURPOSEKIT_ERR_AUDIT_UNAVAILABLE, PURPOSEKIT_ERR_NO_CONTEXT (see `Purposekit.access`).
   */
  access(request: AccessRequest): Promise<AccessAllowed> {
    return this.kit.access(request);
  }

  /**
   * The non-throwing form of {@link access} for code that filters: the decision, recorded
   * exactly as `access` records it, returned instead of thrown on a deny.
   * @throws PurposekitError PURPOSEKIT_ERR_PURPOSE_UNDECLARED, PURPOSEKIT_ERR_AUDIT_UNAVAILABLE,
   *   PURPOSEKIT_ERR_NO_CONTEXT (see `Purposekit.check`).
   */
  check(request: AccessRequest): Promise<AccessDecision> {
    return this.kit.check(request);
  }

  /**
   * {@link check} for a list of subjects: one decision per subject, in order, recorded and
   * committed together (see `Purposekit.checkEach`).
   */
  checkEach(subjects: readonly string[], request: Omit<AccessRequest, 'subject'>): Promise<AccessDecision[]> {
    return this.kit.checkEach(subjects, request);
  }

  /**
   * Runs a background job (a cron, a queue consumer) under a declared purpose.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE
   */
  runAs<T>(options: RunAsOptions, fn: () => T): T {
    return this.kit.runAs(options, fn);
  }
}
