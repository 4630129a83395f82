import { Catch, Logger } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { errorResponse, isPurposekitError } from '@purposekit/core';

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
    // A server-side failure (an audit sink that cannot write, an internal error) is
    // answered here but must not go unseen: log its code and message (never a request
    // value), as Nest's own filter logs the 5xx errors it handles.
    if (status >= 500) SERVER_ERRORS.error(`${exception.code}: ${exception.message}`);
    adapter.reply(response, body, status);
  }
}
