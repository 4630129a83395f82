/**
 * Which items expire when: a pure function of the policy and the items, shared by the
 * sweep and `purposekit retention due`.
 */
import { PurposekitError } from '../errors';
import { addDuration, parseDuration } from '../policy/duration';
import type { Policy } from '../policy/types';
import type { RetentionDueItem, RetentionItem } from './types';

const ITEM_ID = /^[A-Za-z0-9._:/-]{1,128}$/;

/** An item as `retentionDue` reads it: the store's item plus where it lives. */
export interface ListedRetentionItem extends RetentionItem {
  readonly store: string;
  readonly purpose: string;
}

/** The instant of a clock start, or undefined when it is malformed. */
export function clockInstant(value: RetentionItem['clockStart']): number | undefined {
  const t = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** Checks an item the app listed; returns what is wrong (never its values), or undefined. */
export function itemProblem(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return 'the store listed something that is not an item';
  const i = item as Partial<RetentionItem>;
  if (typeof i.id !== 'string' || !ITEM_ID.test(i.id) || i.id.includes('@')) return 'an item id must be 1–128 of [A-Za-z0-9._:/-] (an opaque id, never an email)';
  if (i.clockStart !== undefined && clockInstant(i.clockStart) === undefined) return `item ${i.id}: clockStart is not an instant`;
  if (i.holds !== undefined && (!Array.isArray(i.holds) || i.holds.some((h) => typeof h !== 'string'))) return `item ${i.id}: holds must be a list of names`;
  if (i.subject !== undefined && (typeof i.subject !== 'string' || i.subject.length === 0 || i.subject.length > 256)) return `item ${i.id}: subject must be an internal id`;
  return undefined;
}

/**
 * The items that expire at or before `until`, soonest first (held ones included, with
 * the holds that suspend them). Items of purposes without an ISO 8601 retention, of
 * purposes not in the policy, without a started clock or malformed are left out.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `until` is not an instant.
 */
export function retentionDue(policy: Policy, items: Iterable<ListedRetentionItem>, until: Date | number): RetentionDueItem[] {
  const limit = typeof until === 'number' ? until : until.getTime();
  if (!Number.isFinite(limit)) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'retentionDue(): "until" must be a Date or ms since the epoch.');
  const out: RetentionDueItem[] = [];
  for (const item of items) {
    const rule = Object.hasOwn(policy.purposes, item.purpose) ? policy.purposes[item.purpose]!.retentionRule : undefined;
    const duration = rule === undefined ? undefined : parseDuration(rule.duration);
    if (rule === undefined || duration === undefined || itemProblem(item) !== undefined) continue;
    const start = clockInstant(item.clockStart);
    if (start === undefined) continue;
    const expiresAt = addDuration(new Date(start), duration);
    if (expiresAt.getTime() > limit) continue;
    out.push({
      store: item.store,
      purpose: item.purpose,
      item: item.id,
      clockStart: new Date(start).toISOString(),
      expiresAt: expiresAt.toISOString(),
      onExpiry: rule.onExpiry,
      heldBy: (item.holds ?? []).filter((h) => rule.holds.includes(h)),
    });
  }
  return out.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.store.localeCompare(b.store) || a.item.localeCompare(b.item));
}
