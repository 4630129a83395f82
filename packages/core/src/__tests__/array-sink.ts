/**
 * The core's own test double for the audit sink: keeps every event as given (the core
 * cannot use @purposekit/testing, which depends on it). Adapters and apps use the public
 * `InMemoryAuditSink` instead.
 */
import type { AuditEventInput, AuditSink } from '../audit';
import { validateAuditEvent } from '../audit';
import { PurposekitError } from '../errors';

export class ArraySink implements AuditSink {
  /** The events exactly as appended. */
  readonly events: AuditEventInput[] = [];
  /** The same events with the time they were appended, as a trail reader returns them. */
  readonly records: Array<AuditEventInput & { ts: string }> = [];
  /** While true, appends fail as an unwritable sink does. */
  failing = false;
  readonly #now: () => number;
  readonly #validate: boolean;

  /** `validate`: apply the file sink's own event validation (no personal values). */
  constructor(options: { now?: () => number; validate?: boolean } = {}) {
    this.#now = options.now ?? Date.now;
    this.#validate = options.validate ?? false;
  }

  async append(e: AuditEventInput): Promise<void> {
    if (this.failing) throw new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'disk full');
    const now = this.#now();
    if (this.#validate) validateAuditEvent(e, now);
    this.events.push(e);
    this.records.push({ ...e, ts: new Date(now).toISOString() });
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
