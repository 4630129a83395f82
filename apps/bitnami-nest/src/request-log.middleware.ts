import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PrivacyContext } from '@purposekit/core';
import type { Logger } from 'pino';

/**
 * One JSON line per request, when the response is finished: the privacy fields
 * (request id, purpose, basis, policy, redacted IP, signals), method, path without the
 * query string, status and duration. Never a header, a body or a full address.
 */
export function requestLog(logger: Logger) {
  return function bitnamiRequestLog(req: IncomingMessage & { privacy?: PrivacyContext; originalUrl?: string }, res: ServerResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const url = req.originalUrl ?? req.url ?? '';
      const q = url.indexOf('?');
      logger.info(
        {
          ...(req.privacy?.logFields() ?? {}),
          method: req.method,
          path: q < 0 ? url : url.slice(0, q),
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}
