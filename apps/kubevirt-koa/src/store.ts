/**
 * The app's own data, in an embedded store (@seald-io/nedb: file-persisted, no server).
 * An account's date of birth is never stored: the age gate only checks it.
 */
import { join } from 'node:path';
import Datastore from '@seald-io/nedb';

/** A KubeVirt account. Name, email and GitHub handle are public by default (the seed's "public record"). */
export interface Account {
  id: string;
  name: string;
  email: string;
  githubHandle?: string;
  createdAt: string;
}

/** The fields a person may rectify. */
export type AccountChanges = Partial<Pick<Account, 'name' | 'email' | 'githubHandle'>>;

/** One analytics page view, kept only with consent: the page, the time and the truncated address. */
export interface PageView {
  subject: string;
  path: string;
  at: string;
  /** The redacted (truncated) client address: the only form app code ever gets. */
  ip: string;
}

/** Everything the app holds about one person: what the right of access and portability return. */
export interface AccountExport {
  account: Omit<Account, 'id'> & { id: string };
  pageViews: Array<Omit<PageView, 'subject'>>;
}

// nedb adds its own `_id`; it never leaves the store.
const withoutId = <T extends object>(doc: T): Omit<T, '_id'> => {
  const { _id: _ignored, ...rest } = doc as T & { _id?: string };
  return rest;
};

export class KubeVirtStore {
  readonly #accounts: Datastore<Account>;
  readonly #pageViews: Datastore<PageView>;

  private constructor(dir: string) {
    this.#accounts = new Datastore<Account>({ filename: join(dir, 'accounts.db') });
    this.#pageViews = new Datastore<PageView>({ filename: join(dir, 'page-views.db') });
  }

  static async open(dir: string): Promise<KubeVirtStore> {
    const s = new KubeVirtStore(dir);
    await Promise.all([s.#accounts.loadDatabaseAsync(), s.#pageViews.loadDatabaseAsync()]);
    await s.#accounts.ensureIndexAsync({ fieldName: 'id', unique: true });
    await s.#pageViews.ensureIndexAsync({ fieldName: 'subject' });
    return s;
  }

  async addAccount(a: Account): Promise<void> {
    await this.#accounts.insertAsync(a);
  }

  async account(id: string): Promise<Account | undefined> {
    const doc = await this.#accounts.findOneAsync({ id });
    return doc === null ? undefined : (withoutId(doc) as Account);
  }

  /** Every account, oldest first: the public contributor list before each person's choices apply. */
  async accounts(): Promise<Account[]> {
    const docs = await this.#accounts.findAsync({}).sort({ createdAt: 1 });
    return docs.map((d) => withoutId(d) as Account);
  }

  async countAccounts(): Promise<number> {
    return this.#accounts.countAsync({});
  }

  /** Rectification: replaces the given fields. Resolves to the updated account, or undefined. */
  async rectify(id: string, changes: AccountChanges): Promise<Account | undefined> {
    const set: Record<string, string> = {};
    for (const [k, v] of Object.entries(changes)) if (typeof v === 'string') set[k] = v;
    const n = await this.#accounts.updateAsync({ id }, { $set: set }, {});
    if (n.numAffected === 0) return undefined;
    // The old values must not survive in nedb's append-only data file.
    await this.#accounts.compactDatafileAsync();
    return this.account(id);
  }

  async addPageView(v: PageView): Promise<void> {
    await this.#pageViews.insertAsync(v);
  }

  async pageViews(subject: string): Promise<PageView[]> {
    const docs = await this.#pageViews.findAsync({ subject }).sort({ at: 1 });
    return docs.map((d) => withoutId(d) as PageView);
  }

  /** Every page view with its internal row id (the retention port's items). */
  async allPageViews(): Promise<Array<{ rowId: string; subject: string; at: string }>> {
    const docs = (await this.#pageViews.findAsync({})) as Array<PageView & { _id?: string }>;
    return docs.map((d) => ({ rowId: String(d._id), subject: d.subject, at: d.at }));
  }

  /** Removes one page view (the retention sweep's eraser); compacted. */
  async removePageView(rowId: string): Promise<void> {
    await this.#pageViews.removeAsync({ _id: rowId }, {});
    await this.#pageViews.compactDatafileAsync();
  }

  /** The subject's data as one document (right of access / portability), or undefined when unknown. */
  async exportSubject(id: string): Promise<AccountExport | undefined> {
    const account = await this.account(id);
    if (account === undefined) return undefined;
    const pageViews = (await this.pageViews(id)).map(({ subject: _s, ...v }) => v);
    return { account, pageViews };
  }

  /** Erases an account and its page views; compacts so that no erased row survives on disk. */
  async eraseSubject(id: string): Promise<{ accounts: number; pageViews: number }> {
    const accounts = await this.#accounts.removeAsync({ id }, { multi: true });
    const pageViews = await this.#pageViews.removeAsync({ subject: id }, { multi: true });
    await Promise.all([this.#accounts.compactDatafileAsync(), this.#pageViews.compactDatafileAsync()]);
    return { accounts, pageViews };
  }

  async close(): Promise<void> {
    await Promise.all([this.#accounts.compactDatafileAsync(), this.#pageViews.compactDatafileAsync()]);
  }
}
