/**
 * Parsing a rights request: which right an endpoint serves and its validated body,
 * before anything is recorded (a malformed request is not a request). @internal
 */
import { consentRule } from '../consent/consent-manager';
import { PurposekitError } from '../errors';
import { didYouMean, show } from '../policy/suggest';
import type { Purposekit } from '../purposekit';
import type { Right } from '../vocabulary';
import type { Endpoint } from './routes';

const CONSENT_BODY_STATES = ['given', 'withdrawn', 'refused'] as const;
const MAX_CHANGES = 64;
const MAX_VALUE = 4096;

/** A parsed, validated rights request. */
export interface ParsedRightsRequest {
  readonly right: Right;
  /** False for giving or refusing consent (not a rights request; withdrawing one is, Art. 7(3)). */
  readonly isRightsRequest: boolean;
  /** The purpose an objection or consent change is about. */
  readonly purpose: string | undefined;
  readonly consentState: (typeof CONSENT_BODY_STATES)[number] | undefined;
  readonly changes: Readonly<Record<string, string | null>> | undefined;
}

/** A 400 naming the offending field (a schema name, never a value). */
export function badRequest(field: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', message, { details: { field } });
}

/** A 404 for a right the policy does not honour. */
export function notOffered(kit: Purposekit, right: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_RIGHT_NOT_OFFERED', `The policy "${kit.policyId}" does not honour the right "${right}".`, { details: { right } });
}

function plainBody(body: unknown, allowed: readonly string[], required: boolean): Record<string, unknown> {
  if (body === undefined || body === null || (typeof body === 'string' && body === '')) {
    if (required) throw badRequest('body', 'A JSON object body is required.');
    return {};
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('body', 'The body must be a JSON object.');
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    // `subject` lands here too: the subject only ever comes from getSubject.
    if (!allowed.includes(key)) throw badRequest(key, `Unknown field ${show(key)}.${didYouMean(key, allowed)}`);
  }
  return record;
}

/**
 * Which right, and the body.
 * @throws PurposekitError PURPOSEKIT_ERR_BAD_REQUEST, PURPOSEKIT_ERR_RIGHT_NOT_OFFERED
 */
export function parseRightsRequest(kit: Purposekit, endpoint: Endpoint, body: unknown, hasRectifier: boolean): ParsedRightsRequest {
  const honoured = kit.policy.rights.honoured;
  let right: Right;
  let input: Record<string, unknown> = {};
  switch (endpoint) {
    case 'access-log':
      right = 'access';
      break;
    case 'export':
      right = honoured.has('portability') ? 'portability' : 'access';
      break;
    case 'erasure':
    case 'restriction':
      right = endpoint;
      input = plainBody(body, [], false);
      break;
    case 'objection':
      right = 'objection';
      input = plainBody(body, ['purpose'], true);
      break;
    case 'rectification':
      right = 'rectification';
      if (!hasRectifier) throw notOffered(kit, right);
      input = plainBody(body, ['changes'], true);
      break;
    case 'consent': {
      input = plainBody(body, ['purpose', 'state'], true);
      const state = input['state'];
      if (typeof state !== 'string' || !(CONSENT_BODY_STATES as readonly string[]).includes(state)) {
        throw badRequest('state', `"state" must be one of ${CONSENT_BODY_STATES.join(', ')}.`);
      }
      right = 'withdraw-consent';
      break;
    }
  }
  const consentState = endpoint === 'consent' ? (input['state'] as (typeof CONSENT_BODY_STATES)[number]) : undefined;
  const isRightsRequest = consentState === undefined || consentState === 'withdrawn';
  // Withdrawing consent is always possible, whatever the policy lists: it must be as easy
  // as giving it (GDPR Art. 7(3)), and giving it is always accepted here.
  const alwaysOffered = consentState === 'withdrawn';
  if (isRightsRequest && !alwaysOffered && !honoured.has(right) && !(endpoint === 'export' && honoured.has('access'))) throw notOffered(kit, right);

  let purpose: string | undefined;
  if (endpoint === 'objection' || endpoint === 'consent') {
    const p = input['purpose'];
    if (typeof p !== 'string' || p.length === 0) throw badRequest('purpose', '"purpose" must be one of the policy\'s purposes.');
    if (endpoint === 'objection') {
      const rule = kit.policy.purposes[p];
      if (rule === undefined) throw badRequest('purpose', `${show(p)} is not a purpose of this service.${didYouMean(p, Object.keys(kit.policy.purposes))}`);
      // Art. 21: legitimate interests, public task, and direct marketing (the policy's `objection` flag).
      if (!rule.objection) throw badRequest('purpose', `The right to object does not apply to "${p}" (basis ${rule.basis}).`);
    } else {
      consentRule(kit, p); // 400 for an unknown or non-consent purpose
    }
    purpose = p;
  }
  let changes: Record<string, string | null> | undefined;
  if (endpoint === 'rectification') {
    const c = input['changes'];
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw badRequest('changes', '"changes" must be an object of field → corrected value.');
    const entries = Object.entries(c as Record<string, unknown>);
    if (entries.length === 0 || entries.length > MAX_CHANGES) throw badRequest('changes', `"changes" must name 1 to ${MAX_CHANGES} fields.`);
    changes = Object.create(null) as Record<string, string | null>;
    for (const [k, v] of entries) {
      if (k.length > 64 || (v !== null && (typeof v !== 'string' || v.length > MAX_VALUE))) throw badRequest('changes', '"changes" values must be strings (at most 4096 characters) or null.');
      changes[k] = v as string | null;
    }
  }
  return { right, isRightsRequest, purpose, consentState, changes };
}
