/**
 * A public test double for the audit trail, modelled on OpenTelemetry's
 * InMemorySpanExporter: hand it to `createPurposekit({ audit })` in your own tests, then
 * assert on `getRecords()`; make it fail on demand to test that your service fails closed.
 */
import { AUDIT_GENESIS_HASH, PurposekitError, sealAuditRecord, validateAuditEvent } from '@purposekit/core';
import type { AuditEventInput, AuditEventRecord, AuditSink } from '@purposekit/core';
import { validateOptions } from '@purposekit/core/adapter';

/** Options of {@link InMemoryAuditSink}. */
export interface InMemoryAuditSinkOptions {
  /** Clock for record timestamps, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** How {@link InMemoryAuditSink.failAppends} fails. */
export interface FailAppendsOptions {
  /** How many appends fail before the sink works again. Default: every one until {@link InMemoryAuditSink.recover}. */
  times?: number;
}


/**
 * An audit sink that keeps records in memory. It behaves like the file sink where
 * your tests can see it: events are validated the same way (a refused event rejects
 * with `PURPOSEKIT_ERR_AUDIT_REJECTED` and is not kept), records get sequence numbers,
 * timestamps and the same hash chain, and an unavailable sink rejects with
 * `PURPOSEKIT_ERR_AUDIT_UNAVAILABLE` (503) without keeping the record. It writes no
 * checkpoints (it has no signing key) and nothing is durable.
 *
 * @example
 * const audit = new InMemoryAuditSink();
 * const privacy = createPurposekit({ policy: openinfra, audit, subjectKey });
 * // … exercise your service …
 * expect(audit.getRecords()).toContainEqual(expect.objectContaining({ decision: 'deny', reason: 'no-consent' }));
 * audit.failAppends();  // the next access must be refused with 503
 */
export class InMemoryAuditSink implements AuditSink {
  readonly #now: () => number;
  #records: AuditEventRecord[] = [];
  #failuresLeft = 0;
  #closed = false;

  /** @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for an unknown option or a `now` that is not a function. */
  constructor(options: InMemoryAuditSinkOptions = {}) {
    const opts = validateOptions<InMemoryAuditSinkOptions>('new InMemoryAuditSink()', options, { now: { kind: 'function', expected: 'a function returning ms since the epoch' } });
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Validates, chains and keeps the event.
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_AUDIT_REJECTED for a malformed event;
   *   PURPOSEKIT_ERR_AUDIT_UNAVAILABLE while failing ({@link failAppends}) or after {@link close}.
   */
  append(event: AuditEventInput): Promise<void> {
    const now = this.#now();
    try {
      validateAuditEvent(event, now);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.reject(unavailable('The audit sink is closed.'));
    if (this.#failuresLeft > 0) {
      this.#failuresLeft--;
      return Promise.reject(unavailable('The audit trail cannot be written (simulated by InMemoryAuditSink.failAppends).'));
    }
    const last = this.#records[this.#records.length - 1];
    this.#records.push(sealAuditRecord(event, { seq: (last?.seq ?? 0) + 1, ts: new Date(now).toISOString(), prev: last?.hash ?? AUDIT_GENESIS_HASH }));
    return Promise.resolve();
  }

  /** Resolves at once (nothing is pending); rejects while failing. */
  flush(): Promise<void> {
    return this.#failuresLeft > 0 ? Promise.reject(unavailable('The audit trail cannot be written (simulated).')) : Promise.resolve();
  }

  /** Marks the sink closed: later appends reject with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE. Records stay readable. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }

  /** The records kept so far, oldest first (frozen; a new array each call). */
  getRecords(): readonly AuditEventRecord[] {
    return [...this.#records];
  }

  /** Forgets every record, restarts the chain at seq 1, ends any simulated failure and reopens the sink. */
  reset(): void {
    this.#records = [];
    this.#failuresLeft = 0;
    this.#closed = false;
  }

  /**
   * Makes appends reject with PURPOSEKIT_ERR_AUDIT_UNAVAILABLE, as the file sink does
   * when its disk is full: the next `times` appends, or all until {@link recover}.
   * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a `times` that is not a positive integer.
   */
  failAppends(options: FailAppendsOptions = {}): void {
    const times = options.times ?? Number.POSITIVE_INFINITY;
    if (times !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(times) || times < 1)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'InMemoryAuditSink.failAppends: "times" must be a positive integer.', { details: { option: 'times' } });
    }
    this.#failuresLeft = times;
  }

  /** Ends a simulated failure: appends succeed again. */
  recover(): void {
    this.#failuresLeft = 0;
  }
}

function unavailable(message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', message);
}
