import { Catch, Inject, Logger, Optional } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { errorResponse, isPurposekitError } from '@purposekit/core';
import type { PrivacyContext } from '@purposekit/core';
import { pathOf, reportServerError } from '@purposekit/core/adapter';
import type { ServerErrorInfo } from '@purposekit/core/adapter';
import { RESOLVED_PRIVACY_OPTIONS } from './internal-types';
import type { ResolvedPrivacyModuleOptions } from './internal-types';

/** The request fields the filter reads, on Express or Fastify (structural: no platform type leaks). */
interface FilterRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  privacy?: PrivacyContext;
  raw?: { privacy?: PrivacyContext; url?: string };
}

const NO_REPORTER = Object.freeze({ onServerError: undefined, onWarning: () => undefined, skip: undefined });

/** Where server-side purposekit errors are logged: Nest's `Logger`, context `PurposeKit`. */
const SERVER_ERRORS = new Logger('PurposeKit');

/**
 * The global exception filter PrivacyModule installs (APP_FILTER): a purposekit error
 * becomes the catalog's status and `{ error: { code, message } }` (plus `reason` on an
 * access deny), the same as in every purposekit adapter. Anything else goes to Nest's
 * default handling unchanged. A catch-all filter of your own that runs first must pass
 * purposekit errors on (`isPurposekitError`) or extend this class.
 */
@Catch()
export class PrivacyExceptionFilter extends BaseExceptionFilter {
  /** The module's options (for `onServerError`); absent when the filter is used on its own. */
  @Optional()
  @Inject(RESOLVED_PRIVACY_OPTIONS)
  protected readonly privacyOptions?: ResolvedPrivacyModuleOptions;

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http' || !isPurposekitError(exception)) {
      super.catch(exception, host);
      return;
    }
    const adapter = this.httpAdapterHost?.httpAdapter ?? this.applicationRef;
    const response = host.switchToHttp().getResponse<unknown>();
    if (adapter === undefined) {
      super.catch(exception, host);
      return;
    }
    if (adapter.isHeadersSent(response)) {
      // Too late for a status: let Nest close the response the way it does for any error.
      super.catch(exception, host);
      return;
    }
    const { status, body } = errorResponse(exception);
    adapter.reply(response, body, status);
    // A server-side failure (an audit sink that cannot write, an internal error) is
    // answered here but must not go unseen: the app's onServerError, by default Nest's
    // Logger (code, message, request id; never a request value), as Nest's own filter
    // logs the 5xx errors it handles.
    if (status >= 500) {
      const req = host.switchToHttp().getRequest<FilterRequest>();
      const info: ServerErrorInfo = {
        status,
        requestId: (req.privacy ?? req.raw?.privacy)?.requestId,
        method: req.method ?? '',
        path: pathOf(req.originalUrl ?? req.url ?? req.raw?.url),
        adapter: 'nestjs',
      };
      reportServerError(this.privacyOptions ?? NO_REPORTER, exception, info, (e, i) =>
        SERVER_ERRORS.error(`${e.code}: ${e.message} (${i.status} on ${i.method} ${i.path}${i.requestId !== undefined ? `, request ${i.requestId}` : ''})`),
      );
    }
  }
}
