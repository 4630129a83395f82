/**
 * The app's own data, in an embedded store (@seald-io/nedb: file-persisted, no server).
 * Never stored: a date of birth (only the age gate sees it) and a full card number (only
 * the payment gateway sees it; an order keeps the gateway's token and the last four digits).
 */
import { join } from 'node:path';
import Datastore from '@seald-io/nedb';

export interface Account {
  id: string;
  name: string;
  email: string;
  username: string;
  createdAt: string;
}

export interface Order {
  id: string;
  account: string;
  product: string;
  quantity: number;
  /** The payment gateway's token for the card: what recurring billing uses. Erased at the end of its retention. */
  cardToken?: string;
  cardLast4?: string;
  /** A recurring subscription (billed with the card until cancelled); false for a one-off purchase. */
  subscription?: boolean;
  /** When the subscription was cancelled: the card's retention clock starts then. */
  cancelledAt?: string;
  placedAt: string;
}

/** A newsletter subscriber without an account (visitors may subscribe). */
export interface Subscriber {
  id: string;
  name?: string;
  email: string;
  subscribedAt: string;
}

/** One email the app "sent" (the demo has no mail server): to whom (an id), what, when. */
export interface OutboxEntry {
  to: string;
  kind: 'newsletter' | 'order-notice';
  order?: string;
  at: string;
}

export class BitnamiStore {
  readonly #accounts: Datastore<Account>;
  readonly #orders: Datastore<Order>;
  readonly #subscribers: Datastore<Subscriber>;
  readonly #outbox: Datastore<OutboxEntry>;

  private constructor(dir: string) {
    this.#accounts = new Datastore<Account>({ filename: join(dir, 'accounts.db') });
    this.#orders = new Datastore<Order>({ filename: join(dir, 'orders.db') });
    this.#subscribers = new Datastore<Subscriber>({ filename: join(dir, 'subscribers.db') });
    this.#outbox = new Datastore<OutboxEntry>({ filename: join(dir, 'outbox.db') });
  }

  static async open(dir: string): Promise<BitnamiStore> {
    const s = new BitnamiStore(dir);
    await Promise.all([s.#accounts.loadDatabaseAsync(), s.#orders.loadDatabaseAsync(), s.#subscribers.loadDatabaseAsync(), s.#outbox.loadDatabaseAsync()]);
    await s.#accounts.ensureIndexAsync({ fieldName: 'id', unique: true });
    await s.#orders.ensureIndexAsync({ fieldName: 'id', unique: true });
    return s;
  }

  async addAccount(a: Account): Promise<void> {
    await this.#accounts.insertAsync(a);
  }

  async account(id: string): Promise<Account | undefined> {
    return (await this.#accounts.findOneAsync({ id })) ?? undefined;
  }

  async accounts(): Promise<Account[]> {
    return this.#accounts.findAsync({}).sort({ createdAt: 1 });
  }

  async addOrder(o: Order): Promise<void> {
    await this.#orders.insertAsync(o);
  }

  async order(id: string): Promise<Order | undefined> {
    return (await this.#orders.findOneAsync({ id })) ?? undefined;
  }

  /** Every order, oldest first. */
  async orders(): Promise<Order[]> {
    return this.#orders.findAsync({}).sort({ placedAt: 1 });
  }

  async ordersOf(account: string): Promise<Order[]> {
    return this.#orders.findAsync({ account }).sort({ placedAt: 1 });
  }

  /** Every order that still holds card data (the retention port's `payment` items). */
  async ordersWithCard(): Promise<Order[]> {
    return this.#orders.findAsync({ cardToken: { $exists: true } }).sort({ placedAt: 1 });
  }

  /** Marks a subscription cancelled; resolves to the order. */
  async cancelSubscription(id: string, at: string): Promise<Order | undefined> {
    await this.#orders.updateAsync({ id, subscription: true, cancelledAt: { $exists: false } }, { $set: { cancelledAt: at } }, {});
    return this.order(id);
  }

  /** Erases an order's card data (token and last four digits); the order itself stays (order-fulfilment). Compacted. */
  async eraseCard(id: string): Promise<void> {
    await this.#orders.updateAsync({ id }, { $unset: { cardToken: true, cardLast4: true } }, {});
    await this.#orders.compactDatafileAsync();
  }

  async addSubscriber(s: Subscriber): Promise<void> {
    await this.#subscribers.insertAsync(s);
  }

  async subscribers(): Promise<Subscriber[]> {
    return this.#subscribers.findAsync({}).sort({ subscribedAt: 1 });
  }

  /** "request that we remove you from our email list": the subscriber's address is deleted. */
  async removeSubscriber(id: string): Promise<boolean> {
    const n = await this.#subscribers.removeAsync({ id }, {});
    if (n > 0) await this.#subscribers.compactDatafileAsync(); // the removed address must not survive in the append log
    return n > 0;
  }

  async send(entry: OutboxEntry): Promise<void> {
    await this.#outbox.insertAsync(entry);
  }

  async outbox(): Promise<OutboxEntry[]> {
    return this.#outbox.findAsync({}).sort({ at: 1 });
  }

  async close(): Promise<void> {
    await Promise.all([this.#accounts, this.#orders, this.#subscribers, this.#outbox].map((d) => d.compactDatafileAsync()));
  }
}
