/**
 * The app's own data, in an embedded store (@seald-io/nedb: file-persisted, no server).
 * CoreOS states no age gate, so no date of birth is ever asked for or stored.
 */
import { join } from 'node:path';
import Datastore from '@seald-io/nedb';

/** A CoreOS account: "your name, email address" (sign-up). */
export interface Account {
  id: string;
  name: string;
  email: string;
  createdAt: string;
}

/**
 * What is kept after an account is deleted, for legal compliance only ("we may retain
 * certain information as required by law"): that the account existed and when it was
 * erased, on request. No name, no email, nothing the person entered.
 */
export interface ErasureRecord {
  id: string;
  createdAt: string;
  erasedAt: string;
}

/** One analytics event ("pages viewed", "access times", "IP address"), keyed by the pseudonymous visitor id. */
export interface AnalyticsEvent {
  visitor: string;
  page: string;
  at: string;
  /** The redacted (truncated) client address: the only form app code ever gets. */
  ip: string;
}

/** Kinds of email the app sends. */
export type EmailKind = 'promotion' | 'account-notice';

/** An email handed to the (stand-in) mail relay. */
export interface OutboxMessage {
  /** Random id; also the token in the web beacon's and the opt-out link's URLs. */
  id: string;
  subject: string;
  kind: EmailKind;
  to: string;
  title: string;
  sentAt: string;
  /** Sending order (several messages can share a millisecond). */
  seq: number;
}

/** "determining whether an email has been opened": one row per beacon load of a known message. */
export interface EmailOpen {
  message: string;
  subject: string;
  at: string;
}

// nedb adds its own `_id`; it never leaves the store.
function withoutId<T extends object>(doc: T): T {
  const { _id: _ignored, ...rest } = doc as T & { _id?: string };
  return rest as T;
}

/** An account as stored: with its sign-up order, which never leaves the store. */
type StoredAccount = Account & { seq: number };

function account(doc: StoredAccount): Account {
  const { _id: _ignored, seq: _seq, ...rest } = doc as StoredAccount & { _id?: string };
  return rest;
}

export class CoreOsStore {
  readonly #accounts: Datastore<StoredAccount>;
  readonly #erased: Datastore<ErasureRecord>;
  readonly #events: Datastore<AnalyticsEvent>;
  readonly #outbox: Datastore<OutboxMessage>;
  readonly #opens: Datastore<EmailOpen>;
  #seq = 0;
  #accountSeq = 0;

  private constructor(dir: string) {
    this.#accounts = new Datastore<StoredAccount>({ filename: join(dir, 'accounts.db') });
    this.#erased = new Datastore<ErasureRecord>({ filename: join(dir, 'erased-accounts.db') });
    this.#events = new Datastore<AnalyticsEvent>({ filename: join(dir, 'analytics-events.db') });
    this.#outbox = new Datastore<OutboxMessage>({ filename: join(dir, 'outbox.db') });
    this.#opens = new Datastore<EmailOpen>({ filename: join(dir, 'email-opens.db') });
  }

  static async open(dir: string): Promise<CoreOsStore> {
    const s = new CoreOsStore(dir);
    await Promise.all([s.#accounts, s.#erased, s.#events, s.#outbox, s.#opens].map((d) => d.loadDatabaseAsync()));
    await s.#accounts.ensureIndexAsync({ fieldName: 'id', unique: true });
    await s.#outbox.ensureIndexAsync({ fieldName: 'id', unique: true });
    await s.#events.ensureIndexAsync({ fieldName: 'visitor' });
    const last = await s.#outbox.findAsync({}).sort({ seq: -1 }).limit(1);
    s.#seq = last[0]?.seq ?? 0;
    const newest = await s.#accounts.findAsync({}).sort({ seq: -1 }).limit(1);
    s.#accountSeq = newest[0]?.seq ?? 0;
    return s;
  }

  async addAccount(a: Account): Promise<void> {
    await this.#accounts.insertAsync({ ...a, seq: ++this.#accountSeq });
  }

  async account(id: string): Promise<Account | undefined> {
    const doc = await this.#accounts.findOneAsync({ id });
    return doc === null ? undefined : account(doc);
  }

  /** Every account, oldest first (the recipients of a mailing). */
  async accounts(): Promise<Account[]> {
    return (await this.#accounts.findAsync({}).sort({ seq: 1 })).map(account);
  }

  async countAccounts(): Promise<number> {
    return this.#accounts.countAsync({});
  }

  /**
   * Stores the {@link ErasureRecord} of an account about to be erased (the rights
   * handler calls this before the eraser). Resolves to it, or undefined for an unknown account.
   */
  async keepErasureRecord(id: string, erasedAt: string): Promise<ErasureRecord | undefined> {
    const a = await this.account(id);
    if (a === undefined) return undefined;
    const kept: ErasureRecord = { id: a.id, createdAt: a.createdAt, erasedAt };
    await this.#erased.insertAsync(kept);
    return kept;
  }

  /**
   * Deletes an account and everything tied to it (the emails sent to it, their opens);
   * compacts so that no erased row survives in nedb's append-only data files.
   */
  async eraseAccount(id: string): Promise<void> {
    await this.#accounts.removeAsync({ id }, { multi: true });
    await this.#outbox.removeAsync({ subject: id }, { multi: true });
    await this.#opens.removeAsync({ subject: id }, { multi: true });
    await Promise.all([this.#accounts.compactDatafileAsync(), this.#outbox.compactDatafileAsync(), this.#opens.compactDatafileAsync()]);
  }

  async erasureRecord(id: string): Promise<ErasureRecord | undefined> {
    const doc = await this.#erased.findOneAsync({ id });
    return doc === null ? undefined : withoutId(doc);
  }

  async addEvent(e: AnalyticsEvent): Promise<void> {
    await this.#events.insertAsync(e);
  }

  async events(visitor: string): Promise<AnalyticsEvent[]> {
    return (await this.#events.findAsync({ visitor }).sort({ at: 1 })).map(withoutId);
  }

  async countEvents(): Promise<number> {
    return this.#events.countAsync({});
  }

  /** Hands a message to the outbox (the stand-in for a mail relay); resolves to it with its `seq`. */
  async addMessage(m: Omit<OutboxMessage, 'seq'>): Promise<OutboxMessage> {
    const message: OutboxMessage = { ...m, seq: ++this.#seq };
    await this.#outbox.insertAsync(message);
    return message;
  }

  async message(id: string): Promise<OutboxMessage | undefined> {
    const doc = await this.#outbox.findOneAsync({ id });
    return doc === null ? undefined : withoutId(doc);
  }

  /** The messages sent to one account, oldest first. */
  async inbox(subject: string): Promise<OutboxMessage[]> {
    return (await this.#outbox.findAsync({ subject }).sort({ seq: 1 })).map(withoutId);
  }

  async addOpen(o: EmailOpen): Promise<void> {
    await this.#opens.insertAsync(o);
  }

  async opens(subject: string): Promise<EmailOpen[]> {
    return (await this.#opens.findAsync({ subject }).sort({ at: 1 })).map(withoutId);
  }

  /**
   * Every row of one store with its internal row id, for the retention port: analytics
   * events, outbox messages or email opens.
   */
  async rows(kind: 'events' | 'outbox' | 'opens'): Promise<Array<{ rowId: string; subject: string; at: string }>> {
    const db = kind === 'events' ? this.#events : kind === 'outbox' ? this.#outbox : this.#opens;
    const docs = (await (db as Datastore<Record<string, unknown>>).findAsync({})) as Array<Record<string, unknown>>;
    return docs.map((d) => ({ rowId: String(d['_id']), subject: String(d['visitor'] ?? d['subject']), at: String(d['at'] ?? d['sentAt']) }));
  }

  /** Removes one row of {@link rows} (compacted: nothing stays in the data file). */
  async removeRow(kind: 'events' | 'outbox' | 'opens', rowId: string): Promise<void> {
    const db = (kind === 'events' ? this.#events : kind === 'outbox' ? this.#outbox : this.#opens) as Datastore<Record<string, unknown>>;
    await db.removeAsync({ _id: rowId }, {});
    await db.compactDatafileAsync();
  }

  async close(): Promise<void> {
    await Promise.all([this.#accounts, this.#erased, this.#events, this.#outbox, this.#opens].map((d) => d.compactDatafileAsync()));
  }
}
