import { Inject, Injectable } from '@nestjs/common';
import { getPrivacyContext, requirePrivacyContext } from '@purposekit/core';
import type { AccessDecision, AccessRequest, PrivacyContext, Purposekit, RunAsOptions } from '@purposekit/core';
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
    return getPrivacyContext();
  }

  /**
   * The privacy context of the current request or job.
   * @throws PurposekitError PURPOSEKIT_ERR_NO_CONTEXT outside one.
   */
  requireContext(): PrivacyContext {
    return requirePrivacyContext();
  }

  /**
   * Checks and records one access under the current request's purpose.
   * @throws PurposekitError PURPOSEKIT_ERR_ACCESS_DENIED, PURPOSEKIT_ERR_PURPOSE_UNDECLARED,
   *   PURPOSEKIT_ERR_AUDIT_UNAVAILABLE, PURPOSEKIT_ERR_NO_CONTEXT (see `Purposekit.access`).
   */
  access(request: AccessRequest): Promise<AccessDecision> {
    return this.kit.access(request);
  }

  /**
   * Runs a background job (a cron, a queue consumer) under a declared purpose.
   * @throws PurposekitError PURPOSEKIT_ERR_UNKNOWN_PURPOSE
   */
  runAs<T>(options: RunAsOptions, fn: () => T): T {
    return this.kit.runAs(options, fn);
  }
}
