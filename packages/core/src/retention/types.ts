/**
 * Retention: the port an app implements per store, and what a sweep reports.
 */
import type { ResolvedRetention } from '../policy/types';

/** One item a store holds for a purpose (a row, a file, a record). */
export interface RetentionItem {
  /**
   * An opaque id of the item (a row id, a UUID): 1–128 of `[A-Za-z0-9._:/-]`. It is
   * written to the trail, so never a personal value (an email, a name).
   */
  readonly id: string;
  /**
   * When its retention clock started, per the purpose's `retention.from` (collection,
   * last activity, end of the contract or subscription, withdrawal of consent): a Date,
   * an ISO 8601 instant or ms since the epoch. Undefined: the clock has not started
   * (the subscription still runs) and the item never expires yet.
   */
  readonly clockStart: Date | string | number | undefined;
  /** Whose data it is, when one person's (an internal id; pseudonymised in the trail). */
  readonly subject?: string;
  /** Holds the item carries (e.g. `litigation`): one the purpose lists in `retention.holds` suspends expiry. */
  readonly holds?: readonly string[];
}

/**
 * The port an app implements for each store that keeps personal data: list a
 * purpose's items with the instant their clock started; erase or anonymise one.
 * Every method may return a promise.
 */
export interface RetentionStore {
  /** The store's name in the trail (e.g. `members-db`): 1–64 of `[a-z0-9._-]`. */
  readonly name: string;
  /** The purposes whose data this store keeps. */
  readonly purposes: readonly string[];
  /** The store's items for `purpose`; `rule` says what starts the clock. */
  list(purpose: string, rule: ResolvedRetention): Iterable<RetentionItem> | AsyncIterable<RetentionItem> | Promise<Iterable<RetentionItem>>;
  /** Erases one item (required when a listed purpose's `onExpiry` is `erase`). */
  erase?(item: RetentionItem, purpose: string): void | Promise<void>;
  /** Anonymises one item (required when a listed purpose's `onExpiry` is `anonymise`). */
  anonymise?(item: RetentionItem, purpose: string): void | Promise<void>;
  /**
   * Marks one item for review (for `onExpiry: review`). Optional: without it the sweep
   * only records the flag. Either way a flagged item is flagged again on the next sweep
   * until it is erased, its clock restarts, or it carries a hold the purpose lists.
   */
  flag?(item: RetentionItem, purpose: string): void | Promise<void>;
}

/** One expired (or soon expiring) item. */
export interface RetentionDueItem {
  readonly store: string;
  readonly purpose: string;
  readonly item: string;
  /** ISO 8601 instant its clock started. */
  readonly clockStart: string;
  /** ISO 8601 instant it expires (expired). */
  readonly expiresAt: string;
  /** What happens at expiry: erase, anonymise or review. */
  readonly onExpiry: ResolvedRetention['onExpiry'];
  /** Holds (of those the purpose lists) that suspend it now. */
  readonly heldBy: readonly string[];
}

/** What one sweep did. */
export interface RetentionSweepResult {
  /** ISO 8601 instant the sweep ran as. */
  readonly at: string;
  readonly erased: number;
  readonly anonymised: number;
  readonly flagged: number;
  /** Expired items a hold suspends (left in place, not recorded). */
  readonly held: number;
  /** Items whose eraser / anonymiser failed, or which the store listed malformed (each recorded when it had an id). */
  readonly failed: ReadonlyArray<{ readonly store: string; readonly purpose: string; readonly item: string | undefined; readonly error: string }>;
}

/** The retention service of an engine: `kit.retention`. */
export interface Retention {
  /** The stores it sweeps. */
  readonly stores: readonly RetentionStore[];
  /**
   * Finds every item whose retention expired at `now` (default: the engine's clock),
   * skips the held ones, and erases, anonymises or flags the rest as the purpose's
   * `onExpiry` says. Each action is recorded first as a `retention` audit event (action
   * `erase` | `anonymise` | `flag`, purpose, categories, attributes `{ item, store,
   * clockStart, expiredAt }`; the subject pseudonymised), then carried out; a failure is
   * recorded too and listed in `failed`. Purposes kept `as-long-as-necessary`,
   * `as-required-by-law` or `indefinite` never expire by themselves.
   * @throws (rejects) PurposekitError PURPOSEKIT_ERR_AUDIT_UNAVAILABLE when the trail
   *   cannot record an action (nothing is erased unrecorded)
   */
  sweep(options?: { now?: Date | number }): Promise<RetentionSweepResult>;
  /**
   * What expires by `now + within` (default `P30D`), soonest first, without acting:
   * what `purposekit retention due` prints.
   */
  due(options?: { now?: Date | number; within?: string }): Promise<RetentionDueItem[]>;
}
