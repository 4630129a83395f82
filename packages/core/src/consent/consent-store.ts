import type { ConsentState, ConsentType } from '../vocabulary';

/** One consent record: a subject's answer for one purpose. */
export interface ConsentRecord {
  readonly subject: string;
  readonly purpose: string;
  readonly state: ConsentState;
  readonly type: ConsentType;
  /** Where the answer came from. */
  readonly source: 'form' | 'api' | 'gpc' | 'import';
  /** Policy version the answer was given under. */
  readonly policyVersion: string;
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
}

/**
 * Where consent, objection and restriction facts live. The in-memory store answers
 * synchronously (no promise on the hot path); stores backed by a file or a database
 * return promises. Implementations must make a write visible to every later read,
 * from every instance sharing the store: a withdrawal takes effect on the next decision.
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
  /** Every consent record of the subject, oldest first (its consent history). */
  history(subject: string): readonly ConsentRecord[] | Promise<readonly ConsentRecord[]>;
}

const NO_FACTS: SubjectFacts = Object.freeze({ consent: undefined, objected: false, restricted: false });

/**
 * A consent store in process memory: the default for tests and single-instance demos.
 * Keys are user input, so maps are null-prototype objects / Maps (no prototype keys).
 */
export class InMemoryConsentStore implements ConsentStore {
  readonly #latest = new Map<string, ConsentRecord>();
  readonly #history = new Map<string, ConsentRecord[]>();
  readonly #objections = new Set<string>();
  readonly #restricted = new Set<string>();

  facts(subject: string, purpose: string): SubjectFacts {
    const key = `${subject}\u0000${purpose}`;
    const consent = this.#latest.get(key);
    const objected = this.#objections.has(key);
    const restricted = this.#restricted.has(subject);
    if (consent === undefined && !objected && !restricted) return NO_FACTS;
    return { consent, objected, restricted };
  }

  setConsent(record: ConsentRecord): void {
    const frozen = Object.freeze({ ...record });
    this.#latest.set(`${record.subject}\u0000${record.purpose}`, frozen);
    const list = this.#history.get(record.subject) ?? [];
    list.push(frozen);
    this.#history.set(record.subject, list);
  }

  setObjection(subject: string, purpose: string, objected: boolean): void {
    const key = `${subject}\u0000${purpose}`;
    if (objected) this.#objections.add(key);
    else this.#objections.delete(key);
  }

  setRestriction(subject: string, restricted: boolean): void {
    if (restricted) this.#restricted.add(subject);
    else this.#restricted.delete(subject);
  }

  history(subject: string): readonly ConsentRecord[] {
    return [...(this.#history.get(subject) ?? [])];
  }
}
