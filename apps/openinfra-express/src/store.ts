/**
 * The app's own data, in an embedded store (@seald-io/nedb: file-persisted, no server).
 * A member's date of birth is never stored: the age gate only checks it.
 */
import { join } from 'node:path';
import Datastore from '@seald-io/nedb';

export interface Member {
  id: string;
  name: string;
  email: string;
  employer?: string;
  location?: string;
  profession?: string;
  /** Opted in to the Individual Member Directory. */
  inDirectory: boolean;
  joinedAt: string;
}

/** OpenInfra's "deleted members" record: name, email and id, used only to prove the erasure. */
export interface DeletedMember {
  id: string;
  name: string;
  email: string;
  erasedAt: string;
}

export interface Subscriber {
  /** The subscription token (the unsubscribe link's secret); the member id when a member subscribed. */
  id: string;
  name: string;
  email: string;
  /** The member who subscribed while signed in, if any. */
  member?: string;
  subscribedAt: string;
}

/** A survey answer or a question: what the person chose to submit. */
export interface Submission {
  id: string;
  kind: 'survey' | 'question';
  name: string;
  email: string;
  text: string;
  location?: string;
  /** The member who submitted it while signed in, if any. */
  member?: string;
  at: string;
}

/**
 * What the app keeps, whatever holds it: {@link OpenInfraStore} (embedded nedb files, the
 * default) or `PostgresOpenInfraStore` (tables in PostgreSQL, when `DATABASE_URL` is set,
 * so that every instance of the app sees the same members).
 */
export interface OpenInfraData {
  addMember(m: Member): Promise<void>;
  member(id: string): Promise<Member | undefined>;
  /** Corrects a member's profile fields (undefined clears one); false when there is no such member. */
  updateMember(id: string, fields: Partial<Pick<Member, 'name' | 'email' | 'employer' | 'location' | 'profession'>>): Promise<boolean>;
  /** Members who opted in to the directory, oldest first. */
  directory(): Promise<Member[]>;
  countMembers(): Promise<number>;
  /** Keeps the minimal "deleted members" record the policy describes (before the erasure). */
  keepDeletedRecord(id: string, erasedAt: string): Promise<DeletedMember | undefined>;
  /** Erases a member, their subscriptions and their survey answers and questions. */
  eraseMember(id: string): Promise<void>;
  members(): Promise<Member[]>;
  subscribers(): Promise<Subscriber[]>;
  subscriber(id: string): Promise<Subscriber | undefined>;
  removeSubscriber(id: string): Promise<void>;
  submissions(kind?: Submission['kind']): Promise<Submission[]>;
  removeSubmission(id: string): Promise<void>;
  deletedMember(id: string): Promise<DeletedMember | undefined>;
  addSubscriber(s: Subscriber): Promise<void>;
  addSubmission(s: Submission): Promise<void>;
  countSubmissions(kind: Submission['kind']): Promise<number>;
  close(): Promise<void>;
}

export class OpenInfraStore implements OpenInfraData {
  readonly #members: Datastore<Member>;
  readonly #deleted: Datastore<DeletedMember>;
  readonly #subscribers: Datastore<Subscriber>;
  readonly #submissions: Datastore<Submission>;

  private constructor(dir: string) {
    this.#members = new Datastore<Member>({ filename: join(dir, 'members.db') });
    this.#deleted = new Datastore<DeletedMember>({ filename: join(dir, 'deleted-members.db') });
    this.#subscribers = new Datastore<Subscriber>({ filename: join(dir, 'subscribers.db') });
    this.#submissions = new Datastore<Submission>({ filename: join(dir, 'submissions.db') });
  }

  static async open(dir: string): Promise<OpenInfraStore> {
    const s = new OpenInfraStore(dir);
    await Promise.all([s.#members.loadDatabaseAsync(), s.#deleted.loadDatabaseAsync(), s.#subscribers.loadDatabaseAsync(), s.#submissions.loadDatabaseAsync()]);
    await s.#members.ensureIndexAsync({ fieldName: 'id', unique: true });
    return s;
  }

  async addMember(m: Member): Promise<void> {
    await this.#members.insertAsync(m);
  }

  async member(id: string): Promise<Member | undefined> {
    return (await this.#members.findOneAsync({ id })) ?? undefined;
  }

  /** Corrects a member's profile fields; false when there is no such member. */
  async updateMember(id: string, fields: Partial<Pick<Member, 'name' | 'email' | 'employer' | 'location' | 'profession'>>): Promise<boolean> {
    const set: Record<string, string> = {};
    const unset: Record<string, true> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) unset[k] = true;
      else set[k] = v;
    }
    const n = await this.#members.updateAsync({ id }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) }, {});
    return n.numAffected > 0;
  }

  async directory(): Promise<Member[]> {
    return this.#members.findAsync({ inDirectory: true }).sort({ joinedAt: 1 });
  }

  async countMembers(): Promise<number> {
    return this.#members.countAsync({});
  }

  /** Keeps the minimal "deleted members" record the policy describes (before the erasure). */
  async keepDeletedRecord(id: string, erasedAt: string): Promise<DeletedMember | undefined> {
    const m = await this.member(id);
    if (m === undefined) return undefined;
    const record: DeletedMember = { id: m.id, name: m.name, email: m.email, erasedAt };
    await this.#deleted.insertAsync(record);
    return record;
  }

  /**
   * Erases a member and everything the app holds about them: the member row, their
   * mailing-list subscriptions and their survey answers and questions (those they sent
   * signed in, and those sent with their email address). Only the "deleted members"
   * record, stored before, stays.
   */
  async eraseMember(id: string): Promise<void> {
    const m = await this.member(id);
    const theirs = m === undefined ? [{ id }, { member: id }] : [{ id }, { member: id }, { email: m.email }];
    await this.#members.removeAsync({ id }, {});
    await this.#subscribers.removeAsync({ $or: theirs }, { multi: true });
    await this.#submissions.removeAsync({ $or: theirs }, { multi: true });
    // The erased rows must not survive in the append-only data files.
    await Promise.all([this.#members.compactDatafileAsync(), this.#subscribers.compactDatafileAsync(), this.#submissions.compactDatafileAsync()]);
  }

  /** Every member, oldest first. */
  async members(): Promise<Member[]> {
    return this.#members.findAsync({}).sort({ joinedAt: 1 });
  }

  /** Every mailing-list subscription, oldest first. */
  async subscribers(): Promise<Subscriber[]> {
    return this.#subscribers.findAsync({}).sort({ subscribedAt: 1 });
  }

  async subscriber(id: string): Promise<Subscriber | undefined> {
    return (await this.#subscribers.findOneAsync({ id })) ?? undefined;
  }

  /** Removes one subscription (an unsubscribe). */
  async removeSubscriber(id: string): Promise<void> {
    await this.#subscribers.removeAsync({ id }, { multi: true });
    await this.#subscribers.compactDatafileAsync();
  }

  /** Every survey answer or question, oldest first. */
  async submissions(kind?: Submission['kind']): Promise<Submission[]> {
    return this.#submissions.findAsync(kind === undefined ? {} : { kind }).sort({ at: 1 });
  }

  /** Removes one submission (the retention sweep's eraser). */
  async removeSubmission(id: string): Promise<void> {
    await this.#submissions.removeAsync({ id }, { multi: true });
    await this.#submissions.compactDatafileAsync();
  }

  async deletedMember(id: string): Promise<DeletedMember | undefined> {
    return (await this.#deleted.findOneAsync({ id })) ?? undefined;
  }

  async addSubscriber(s: Subscriber): Promise<void> {
    await this.#subscribers.insertAsync(s);
  }

  async addSubmission(s: Submission): Promise<void> {
    await this.#submissions.insertAsync(s);
  }

  async countSubmissions(kind: Submission['kind']): Promise<number> {
    return this.#submissions.countAsync({ kind });
  }

  async close(): Promise<void> {
    await Promise.all([this.#members.compactDatafileAsync(), this.#subscribers.compactDatafileAsync(), this.#deleted.compactDatafileAsync(), this.#submissions.compactDatafileAsync()]);
  }
}
