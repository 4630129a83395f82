/**
 * Consent, objection and restriction facts: the store interface the engine reads once
 * per access decision, and the in-memory store. The file-backed store is in
 * `file-consent-store.ts`; a PostgreSQL store implements the same interface.
 */
import { PurposekitError } from '../errors';
import { CONSENT_STATES, CONSENT_TYPES } from '../vocabulary';
import type { ConsentState, ConsentType } from '../vocabulary';

/** Where a consent answer came from. */
export const CONSENT_SOURCES = ['form', 'api', 'gpc', 'import'] as const;
/** A consent source: a form, an API call, a Global Privacy Control signal, or an import. */
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

/** One consent record: a subject's answer for one purpose. */
export interface ConsentRecord {
  readonly subject: string;
  readonly purpose: string;
  readonly state: ConsentState;
  readonly type: ConsentType;
  /** Where the answer came from. */
  readonly source: ConsentSource;
  /** Policy version the answer was given under. */
  readonly policyVersion: string;
  /**
   * The purpose's `termsVersion` the answer was given under, when the policy versions
   * the purpose's terms. A `given` consent under other terms needs renewal.
   */
  readonly termsVersion?: string;
  /** ISO 8601 instant of the answer. */
  readonly at: string;
  /** ISO 8601 instant after which a `given` consent counts as `expired`. */
  readonly expiresAt?: string;
}

/** Everything an access decision needs to know about a subject for one purpose. */
export interface SubjectFacts {
  /** The latest consent record for the purpose, if any. */
  readonly consent: ConsentRecord | undefined;
  /** The subject objected to this purpose (GDPR Art. 21). */
  readonly objected: boolean;
  /** The subject restricted processing of their data (GDPR Art. 18). */
  readonly restricted: boolean;
  /**
   * The subject's data was erased (GDPR Art. 17): only purposes marked `survivesErasure`
   * may still process it. Optional for stores written before it existed (read as false).
   */
  readonly erased?: boolean;
}

/**
 * Where consent, objection and restriction facts live. The in-memory and file stores
 * answer {@link facts} synchronously (no promise on the hot path); a database store
 * returns promises. Every method may return a promise, so callers always `await`.
 *
 * Contract for implementations (what a PostgreSQL store must also keep):
 * - a write that has resolved is visible to every later `facts()` call, from every
 *   engine instance sharing the store: a withdrawal takes effect on the next decision;
 * - the latest record per subject + purpose wins, in the order the store committed
 *   them (not the order of their `at` timestamps);
 * - `history()` is append-only: a withdrawal never changes or removes earlier records
 *   (the processing they allowed stays lawful, GDPR Art. 7(3)).
 */
export interface ConsentStore {
  /** Facts for one subject and purpose: one lookup per access decision. */
  facts(subject: string, purpose: string): SubjectFacts | Promise<SubjectFacts>;
  /** Stores a consent answer (the latest per subject+purpose wins). */
  setConsent(record: ConsentRecord): void | Promise<void>;
  /** Records or lifts an objection to one purpose. */
  setObjection(subject: string, purpose: string, objected: boolean): void | Promise<void>;
  /** Records or lifts a restriction of processing. */
  setRestriction(subject: string, restricted: boolean): void | Promise<void>;
  /**
   * Records that the subject's data was erased (or, with false, that the mark is lifted).
   * Afterwards `facts()` answers `erased: true` for every purpose. Optional for stores
   * written before it existed; the rights handler needs it when the policy honours erasure.
   */
  setErased?(subject: string, erased: boolean): void | Promise<void>;
  /** Every consent record of the subject, oldest first (its consent history). */
  history(subject: string): readonly ConsentRecord[] | Promise<readonly ConsentRecord[]>;
  /** Releases resources (files, pools). Optional: the in-memory store has none. */
  close?(): void | Promise<void>;
}

/** The answer when nothing is known: shared and frozen, so a lookup miss allocates nothing. */
export const NO_SUBJECT_FACTS: SubjectFacts = Object.freeze({ consent: undefined, objected: false, restricted: false, erased: false });

const MAX_ID = 256;
const SOURCES: readonly string[] = CONSENT_SOURCES;

function bad(field: string, message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_BAD_REQUEST', `Consent record: ${message}`, { details: { field } });
}

function id(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID) throw bad(field, `"${field}" must be a non-empty string of at most ${MAX_ID} characters.`);
}

function instant(value: unknown, field: string): void {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw bad(field, `"${field}" must be an ISO 8601 instant with a time zone (e.g. 2026-06-01T12:00:00.000Z).`);
  }
}

/**
 * Checks a consent record's shape and returns a frozen copy with only the known fields
 * (stores keep exactly what they were meant to, never extra caller properties).
 * @throws PurposekitError PURPOSEKIT_ERR_BAD_REQUEST, `details.field` naming the field.
 */
export function validateConsentRecord(record: ConsentRecord): ConsentRecord {
  if (typeof record !== 'object' || record === null) throw bad('record', 'must be an object.');
  id(record.subject, 'subject');
  id(record.purpose, 'purpose');
  if (!(CONSENT_STATES as readonly string[]).includes(record.state)) throw bad('state', `"state" must be one of ${CONSENT_STATES.join(', ')}.`);
  if (!(CONSENT_TYPES as readonly string[]).includes(record.type)) throw bad('type', `"type" must be one of ${CONSENT_TYPES.join(', ')}.`);
  if (!SOURCES.includes(record.source)) throw bad('source', `"source" must be one of ${CONSENT_SOURCES.join(', ')}.`);
  id(record.policyVersion, 'policyVersion');
  if (record.termsVersion !== undefined) id(record.termsVersion, 'termsVersion');
  instant(record.at, 'at');
  if (record.expiresAt !== undefined) instant(record.expiresAt, 'expiresAt');
  return Object.freeze({
    subject: record.subject,
    purpose: record.purpose,
    state: record.state,
    type: record.type,
    source: record.source,
    policyVersion: record.policyVersion,
    ...(record.termsVersion !== undefined ? { termsVersion: record.termsVersion } : {}),
    at: record.at,
    ...(record.expiresAt !== undefined ? { expiresAt: record.expiresAt } : {}),
  });
}

/**
 * The facts tables shared by the in-memory and file stores. Keys are user input, so
 * they live in Maps (no prototype keys).
 * @internal
 */
export class ConsentTables {
  readonly #latest = new Map<string, ConsentRecord>();
  readonly #history = new Map<string, ConsentRecord[]>();
  readonly #objections = new Set<string>();
  readonly #restricted = new Set<string>();
  readonly #erased = new Set<string>();

  facts(subject: string, purpose: string): SubjectFacts {
    const key = `${subject}\u0000${purpose}`;
    const consent = this.#latest.get(key);
    const objected = this.#objections.has(key);
    const restricted = this.#restricted.has(subject);
    const erased = this.#erased.has(subject);
    if (consent === undefined && !objected && !restricted && !erased) return NO_SUBJECT_FACTS;
    return { consent, objected, restricted, erased };
  }

  erasure(subject: string, erased: boolean): void {
    if (erased) this.#erased.add(subject);
    else this.#erased.delete(subject);
  }

  consent(record: ConsentRecord): void {
    this.#latest.set(`${record.subject}\u0000${record.purpose}`, record);
    const list = this.#history.get(record.subject);
    if (list === undefined) this.#history.set(record.subject, [record]);
    else list.push(record);
  }

  objection(subject: string, purpose: string, objected: boolean): void {
    const key = `${subject}\u0000${purpose}`;
    if (objected) this.#objections.add(key);
    else this.#objections.delete(key);
  }

  restriction(subject: string, restricted: boolean): void {
    if (restricted) this.#restricted.add(subject);
    else this.#restricted.delete(subject);
  }

  history(subject: string): readonly ConsentRecord[] {
    return [...(this.#history.get(subject) ?? [])];
  }
}

/**
 * A consent store in process memory: the engine's default, for tests and
 * single-instance demos. Nothing survives a restart; use `createFileConsentStore` for an
 * app. Every method answers synchronously.
 */
export class InMemoryConsentStore implements ConsentStore {
  readonly #tables = new ConsentTables();

  facts(subject: string, purpose: string): SubjectFacts {
    return this.#tables.facts(subject, purpose);
  }

  /** @throws PurposekitError PURPOSEKIT_ERR_BAD_REQUEST for a malformed record. */
  setConsent(record: ConsentRecord): void {
    this.#tables.consent(validateConsentRecord(record));
  }

  setObjection(subject: string, purpose: string, objected: boolean): void {
    id(subject, 'subject');
    id(purpose, 'purpose');
    this.#tables.objection(subject, purpose, objected === true);
  }

  setRestriction(subject: string, restricted: boolean): void {
    id(subject, 'subject');
    this.#tables.restriction(subject, restricted === true);
  }

  setErased(subject: string, erased: boolean): void {
    id(subject, 'subject');
    this.#tables.erasure(subject, erased === true);
  }

  history(subject: string): readonly ConsentRecord[] {
    return this.#tables.history(subject);
  }
}
