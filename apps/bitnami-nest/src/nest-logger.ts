import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Nest's own log lines, into the app's pino logger as JSON. Nest's start-up chatter
 * (route mapping) goes to `debug`. An error's message and stack are withheld: an
 * unexpected error can carry a value from a request (a database error quoting a key, a
 * parser quoting the body), and personal data must never reach the log.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(_message: unknown, ...rest: unknown[]): void {
    this.logger.debug({ context: context(rest) }, String(_message));
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.logger.error({ context: context(rest), err: message instanceof Error ? message.name : typeof message }, 'error (details withheld: they may hold request values)');
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.logger.warn({ context: context(rest) }, String(message));
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.logger.debug({ context: context(rest) }, String(message));
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.logger.trace({ context: context(rest) }, String(message));
  }
}

function context(rest: unknown[]): string | undefined {
  const last = rest.at(-1);
  return typeof last === 'string' ? last : undefined;
}
