/**
 * The life of a rights request in the trail: received → (extended) → completed |
 * refused | partly-completed. Every transition is one `rights` record under the
 * request's id, so `listOpenRightsRequests` (and `purposekit rights due`) can follow it.
 * @internal
 */
import { randomUUID } from 'node:crypto';
import type { PrivacyContext } from '../context';
import { PurposekitError } from '../errors';
import { addDuration, durationSeconds, parseDuration } from '../policy/duration';
import type { Purposekit } from '../purposekit';
import { RIGHTS } from '../vocabulary';
import type { Right } from '../vocabulary';
import { rightsDueDate } from './due';
import type { CompleteRightsRequest, ExtendRightsRequest, RefusalReason, RefuseRightsRequest, RightsRequestRef, RightsRequestState } from './types';

/** The purpose rights records are recorded under. */
export const RIGHTS_PURPOSE = 'rights-fulfilment';
/** The actor of a request the subject sent. */
export const SUBJECT_ACTOR = 'data-subject';
/** The actor of a transition the organisation records later. */
export const HANDLER_ACTOR = 'rights-handler';
/** Refusal reasons (GDPR Art. 12(5), 12(6)). */
export const REFUSAL_REASONS: readonly RefusalReason[] = ['unfounded', 'excessive', 'identity-not-verified'];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_TEXT = 200;

function invalid(message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', message);
}

function instant(value: unknown, what: string): number {
  const t = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(t)) throw invalid(`${what} must be an ISO 8601 instant or a Date.`);
  return t;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT) throw invalid(`${what} must be a non-empty string of at most ${MAX_TEXT} characters.`);
  return value;
}

/** The transitions of one engine's rights requests. */
export interface RightsLifecycle {
  /** Records one transition for a request of the current context. */
  record(ctx: PrivacyContext | undefined, subject: string, right: Right, state: RightsRequestState, attributes: Readonly<Record<string, string>>, actor?: string): Promise<void>;
  receive(req: { subject: string; right: Right; requestId?: string }): Promise<{ requestId: string; due: string }>;
  complete(req: CompleteRightsRequest, onErasure: (subject: string) => Promise<void>): Promise<void>;
  extend(req: ExtendRightsRequest): Promise<{ due: string }>;
  refuse(req: RefuseRightsRequest): Promise<void>;
}

/** Creates the transitions for an engine. */
export function createRightsLifecycle(kit: Purposekit, now: () => number): RightsLifecycle {
  // runAs needs a purpose of the policy; the records name rights-fulfilment explicitly.
  const anyPurpose = RIGHTS_PURPOSE in kit.policy.purposes ? RIGHTS_PURPOSE : (kit.policy.defaultPurpose ?? Object.keys(kit.policy.purposes)[0]!);

  const record: RightsLifecycle['record'] = (ctx, subject, right, state, attributes, actor = SUBJECT_ACTOR) =>
    kit.record('rights', ctx, { subject, actor, purpose: RIGHTS_PURPOSE, attributes: { right, status: state, ...attributes } });

  function ref(req: RightsRequestRef, what: string): void {
    if (typeof req !== 'object' || req === null) throw invalid(`${what}() takes { requestId, subject, right, … }.`);
    if (typeof req.requestId !== 'string' || !REQUEST_ID.test(req.requestId)) throw invalid(`${what}(): "requestId" must be the request's id (1–128 of [A-Za-z0-9._:-]).`);
    if (typeof req.subject !== 'string' || req.subject.length === 0 || req.subject.length > 256) throw invalid(`${what}(): "subject" must be the subject's internal id.`);
    if (!(RIGHTS as readonly string[]).includes(req.right)) throw invalid(`${what}(): "right" must be one of ${RIGHTS.join(', ')}.`);
  }

  // A later transition is recorded by the organisation under the request's original id.
  const later = (req: RightsRequestRef, state: RightsRequestState, attributes: Record<string, string>): Promise<void> =>
    kit.runAs({ purpose: anyPurpose, actor: HANDLER_ACTOR, requestId: req.requestId }, () => record(undefined, req.subject, req.right, state, attributes, HANDLER_ACTOR));

  return {
    record,
    async receive(req) {
      if (typeof req !== 'object' || req === null) throw invalid('receive() takes { subject, right, requestId? }.');
      const requestId = req.requestId ?? randomUUID();
      ref({ requestId, subject: req.subject, right: req.right }, 'receive');
      const due = rightsDueDate(new Date(now()), kit.policy.rights.responseTime).toISOString();
      await kit.runAs({ purpose: anyPurpose, actor: SUBJECT_ACTOR, requestId }, () => record(undefined, req.subject, req.right, 'received', { due, channel: 'outside-endpoints' }));
      return { requestId, due };
    },
    async complete(req, onErasure) {
      ref(req, 'complete');
      const kept = req.kept;
      if (kept !== undefined) {
        if (!Array.isArray(kept) || kept.length === 0 || kept.some((k) => typeof k !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(k))) {
          throw invalid('complete(): "kept" must list 1 or more names (purposes or fields, [A-Za-z0-9._:-]).');
        }
        text(req.reason, 'complete(): "reason" (why it was kept)');
      }
      if (req.right === 'erasure') await onErasure(req.subject);
      await later(req, kept === undefined ? 'completed' : 'partly-completed', kept === undefined ? {} : { kept: kept.join(','), reason: req.reason! });
    },
    async extend(req) {
      ref(req, 'extend');
      const reason = text(req.reason, 'extend(): "reason"');
      const received = instant(req.receivedAt, 'extend(): "receivedAt"');
      const allowed = kit.policy.rights.extension;
      if (allowed === undefined) {
        throw new PurposekitError('PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED', `Policy "${kit.policyId}" allows no extension of a request's deadline (rights.extension).`, { details: { requestId: req.requestId } });
      }
      const by = req.by ?? allowed;
      const byDuration = typeof by === 'string' ? parseDuration(by) : undefined;
      if (byDuration === undefined) throw invalid('extend(): "by" must be an ISO 8601 duration such as P1M.');
      if (durationSeconds(byDuration) > durationSeconds(parseDuration(allowed)!)) {
        throw new PurposekitError('PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED', `An extension of ${by} is longer than the ${allowed} policy "${kit.policyId}" allows (GDPR Art. 12(3): two further months at most).`, { details: { requestId: req.requestId } });
      }
      const firstDue = rightsDueDate(new Date(received), kit.policy.rights.responseTime);
      const notice = req.noticeSentAt === undefined ? now() : instant(req.noticeSentAt, 'extend(): "noticeSentAt"');
      // Art. 12(3): the person is told of the extension, with reasons, within one month of receipt.
      if (now() > firstDue.getTime() || notice > firstDue.getTime()) {
        throw new PurposekitError('PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED', `The first deadline (${firstDue.toISOString()}) has passed: an extension must be notified to the person before it (GDPR Art. 12(3)).`, { details: { requestId: req.requestId } });
      }
      const due = addDuration(firstDue, byDuration).toISOString();
      await later(req, 'extended', { due, reason, noticeSentAt: new Date(notice).toISOString() });
      return { due };
    },
    async refuse(req) {
      ref(req, 'refuse');
      if (!(REFUSAL_REASONS as readonly string[]).includes(req.reason)) throw invalid(`refuse(): "reason" must be one of ${REFUSAL_REASONS.join(', ')}.`);
      await later(req, 'refused', { reason: req.reason });
    },
  };
}
