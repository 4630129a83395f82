/** Shared fixtures of the package's tests: keys, events, a rejection catcher. */
import { createHmac } from 'node:crypto';
import { generateAuditKeys, isPurposekitError } from '@purposekit/core';
import type { AuditEventInput, PurposekitError } from '@purposekit/core';

export const KEYS = generateAuditKeys();
export const SUBJECT_SECRET = Buffer.alloc(32, 7);
export const SUBJECT_KEY = { id: 's-test', secret: SUBJECT_SECRET };

/** The pseudonym of a subject id, computed here (not with the code under test). */
export function pseudonym(id: string): string {
  return `hmac-sha256:s-test:${createHmac('sha256', SUBJECT_SECRET).update(id, 'utf8').digest('hex')}`;
}

export function access(requestId: string, subject?: string): AuditEventInput {
  return {
    kind: 'access',
    actor: 'svc:test',
    ...(subject === undefined ? {} : { subject: pseudonym(subject) }),
    data: ['email'],
    action: 'read',
    purpose: 'service.provision',
    basis: 'contract',
    policy: { id: 'test', version: '1' },
    requestId,
    decision: 'allow',
    reason: 'allowed',
  };
}

export async function caught(p: Promise<unknown>): Promise<PurposekitError> {
  try {
    await p;
  } catch (e) {
    if (isPurposekitError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** Polls `check` until it returns true or the deadline passes (no fixed sleeps). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
