import { Catch, HttpException } from '@nestjs/common';
import type { ArgumentsHost, HttpServer } from '@nestjs/common';
import { isPurposekitError } from '@purposekit/core';
import { PrivacyExceptionFilter } from '@purposekit/nestjs';
import type { Logger } from 'pino';

// The same filter serves apps/coreos-nest-fastify (Nest on Fastify): it answers through
// Nest's HTTP adapter, so it does not depend on the platform.

/** The fixed answers for what Nest or the platform reject before a controller runs. Never the request's own text. */
const BY_STATUS: Readonly<Record<number, readonly [code: string, message: string]>> = {
  400: ['APP_INVALID_BODY', 'The body is not valid JSON.'],
  404: ['APP_NOT_FOUND', 'No such route or method.'],
  405: ['APP_NOT_FOUND', 'No such route or method.'],
  413: ['APP_BODY_TOO_LARGE', 'The body is larger than 16 KiB.'],
  415: ['APP_UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.'],
};

function isAppBody(body: unknown): boolean {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
}

/**
 * Every error answers `{ error: { code, message } }`: purposekit's own (as the module's
 * filter answers them), the app's (already in that shape), and what Nest or Express
 * throw (an unknown route or method, a body that does not parse, is too large or of
 * another type) with a fixed message: Express's body parser and Nest's messages quote the start
 * of a malformed body, so they are never passed on. Anything else is a 500 that echoes nothing.
 */
@Catch()
export class AppExceptionFilter extends PrivacyExceptionFilter {
  constructor(
    private readonly logger: Logger,
    applicationRef: HttpServer,
  ) {
    super(applicationRef);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http' || isPurposekitError(exception)) {
      super.catch(exception, host);
      return;
    }
    const adapter = this.httpAdapterHost?.httpAdapter ?? this.applicationRef;
    const response = host.switchToHttp().getResponse<unknown>();
    if (adapter === undefined || adapter.isHeadersSent(response)) {
      super.catch(exception, host);
      return;
    }
    if (exception instanceof HttpException && isAppBody(exception.getResponse())) {
      adapter.reply(response, exception.getResponse(), exception.getStatus());
      return;
    }
    const status = exception instanceof HttpException ? exception.getStatus() : (exception as { statusCode?: unknown } | null)?.statusCode;
    const known = typeof status === 'number' ? BY_STATUS[status] : undefined;
    if (typeof status === 'number' && known !== undefined) {
      adapter.reply(response, { error: { code: known[0], message: known[1] } }, status);
      return;
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      adapter.reply(response, { error: { code: 'APP_BAD_REQUEST', message: 'The request was not accepted.' } }, status);
      return;
    }
    this.logger.error({ err: exception instanceof Error ? exception.name : 'unknown' }, 'unhandled error');
    adapter.reply(response, { error: { code: 'APP_INTERNAL', message: 'Internal error.' } }, 500);
  }
}
