/**
 * What the scenarios share: one policy written for the suite (so preset edits never
 * change adapter outcomes), engines over a private array sink, and a captured pino log.
 */
import { Writable } from 'node:stream';
import type pino from 'pino';
import { createPurposekit, definePolicy } from '@purposekit/core';
import type { Policy, PolicyInput, Purposekit, PurposekitOptions, AuditEventInput, AuditSink } from '@purposekit/core';


/** The day the age gates are judged on. */
export const TODAY = new Date('2026-06-15T12:00:00Z');

/** Dates of birth relative to {@link TODAY} and the 18+ gate. */
export const DOB = { minor: '2009-01-01', adult: '1996-03-03' } as const;

function purposeRules(): PolicyInput['purposes'] {
  return {
    'service.provision': { basis: 'legitimate-interests', data: ['usage-data'] },
    diagnostics: { basis: 'legitimate-interests', data: ['ip-address', 'usage-data'] },
    'site-administration': { basis: 'legitimate-interests', data: ['usage-data'] },
    // Implied (opt-out) consent with GPC honoured: `Sec-GPC: 1` is the opt-out.
    'marketing.email': { basis: 'consent', consentType: 'implied', gpc: true, data: ['email'] },
    'service.registration': { basis: 'contract', data: ['name', 'email'], ageGate: 'adult' },
    'rights-fulfilment': { basis: 'legal-obligation', data: ['name', 'email'] },
  };
}

/** The suite's policy, with a default purpose. */
export const POLICY: Policy = definePolicy({
  id: 'conformance',
  version: '1',
  jurisdictions: ['US'],
  defaultPurpose: 'service.provision',
  purposes: purposeRules(),
  ageGates: { adult: { minimumAge: 18 } },
});

/** The same policy, asking the adapter to serve /.well-known/gpc.json. */
export const POLICY_SERVES_GPC: Policy = definePolicy({
  id: 'conformance-gpc',
  version: '2026-01-15',
  jurisdictions: ['US', 'US-CA'],
  defaultPurpose: 'service.provision',
  purposes: purposeRules(),
  ageGates: { adult: { minimumAge: 18 } },
  signals: { serveGpcJson: true },
});

/** The same policy without a default purpose: undeclared routes fail closed. */
export const POLICY_NO_DEFAULT: Policy = definePolicy({
  id: 'conformance-nodefault',
  version: '1',
  jurisdictions: ['US'],
  purposes: purposeRules(),
  ageGates: { adult: { minimumAge: 18 } },
});

/**
 * A private array sink: the public `InMemoryAuditSink` of this package belongs to the
 * audit-trail work; the suite only needs to see what the engine appended.
 */
export class ArrayAuditSink implements AuditSink {
  readonly events: AuditEventInput[] = [];
  /** While true, appends fail as a full disk does (the engine answers 503). */
  failing = false;
  async append(event: AuditEventInput): Promise<void> {
    if (this.failing) throw new Error('ENOSPC: no space left on device (conformance sink)');
    this.events.push(event);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** An engine over the suite's policy and a fresh array sink. */
export function createConformanceKit(policy: Policy = POLICY, extra: Pick<PurposekitOptions, 'reportOnly' | 'onWarning'> = {}): { kit: Purposekit; audit: ArrayAuditSink } {
  const audit = new ArrayAuditSink();
  const kit = createPurposekit({
    policy,
    audit,
    subjectKey: { id: 'conformance-key', secret: 'c'.repeat(32) },
    ageGate: { secret: 'g'.repeat(32), secureCookie: false, now: () => TODAY },
    ...extra,
  });
  return { kit, audit };
}

/** A pino logger writing JSON lines into memory, and a way to wait for lines without sleeping. */
export interface CapturedLog {
  readonly logger: pino.Logger;
  readonly lines: string[];
  /** Resolves once at least `count` lines were written. */
  waitFor(count: number): Promise<void>;
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (lines.length >= waiters[i]!.count) waiters.splice(i, 1)[0]!.resolve();
      }
      callback();
    },
  });
  // pino writes synchronously to a non-destination stream's write(); no timestamp or
  // host noise, so the captured text holds only what the app logged.
  // pino is an optional peer dependency, loaded only when the conformance suite runs:
  // a project that uses only InMemoryAuditSink installs no logger.
   
  const createLogger = require('pino') as typeof pino;
  const logger = createLogger({ base: null, timestamp: false }, stream);
  return {
    logger,
    lines,
    waitFor(count) {
      if (lines.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}
