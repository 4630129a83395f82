/**
 * The retention sweep: reads each store's items through the app's port, and erases,
 * anonymises or flags what expired, recording each action in the audit trail first.
 */
import { randomUUID } from 'node:crypto';
import { PurposekitError } from '../errors';
import { addDuration, parseDuration } from '../policy/duration';
import { didYouMean, show } from '../policy/suggest';
import type { Policy, ResolvedRetention } from '../policy/types';
import { clockInstant, itemProblem, retentionDue } from './due';
import type { ListedRetentionItem } from './due';
import type { Retention, RetentionDueItem, RetentionItem, RetentionStore, RetentionSweepResult } from './types';

const STORE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ACTOR = 'retention-sweep';

/** What the sweep needs from the engine. */
export interface RetentionEngine {
  readonly policy: Policy;
  record(kind: 'retention', ctx: undefined, fields: { subject?: string; actor?: string; purpose?: string; data?: readonly string[]; action?: string; decision?: 'allow' | 'deny'; reason?: string; attributes?: Readonly<Record<string, string | number | boolean>> }): Promise<void>;
  runAs<T>(options: { purpose: string; actor: string; requestId?: string }, fn: () => T): T;
}

function invalid(message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', message);
}

/**
 * Validates the stores against the policy (at engine creation): names, purposes, and an
 * eraser / anonymiser wherever a purpose's `onExpiry` needs one.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolveRetentionStores(policy: Policy, stores: unknown): readonly RetentionStore[] {
  if (stores === undefined) return Object.freeze([]);
  if (!Array.isArray(stores)) throw invalid(`createPurposekit(): "retentionStores" must be a list of stores ({ name, purposes, list, erase?, anonymise?, flag? }), got ${show(stores)}.`);
  const names = new Set<string>();
  stores.forEach((s: Partial<RetentionStore>, i) => {
    const where = `createPurposekit(): retentionStores[${i}]`;
    if (typeof s !== 'object' || s === null) throw invalid(`${where} must be an object.`);
    if (typeof s.name !== 'string' || !STORE_NAME.test(s.name)) throw invalid(`${where}.name must be 1–64 of [a-z0-9._-], got ${show(s.name)}.`);
    if (names.has(s.name)) throw invalid(`${where}.name "${s.name}" is used twice.`);
    names.add(s.name);
    if (typeof s.list !== 'function') throw invalid(`${where}.list must be a function (purpose) => items.`);
    for (const fn of ['erase', 'anonymise', 'flag'] as const) {
      if (s[fn] !== undefined && typeof s[fn] !== 'function') throw invalid(`${where}.${fn} must be a function.`);
    }
    if (!Array.isArray(s.purposes) || s.purposes.length === 0) throw invalid(`${where}.purposes must list the purposes whose data the store keeps.`);
    for (const p of s.purposes) {
      const rule = typeof p === 'string' && Object.hasOwn(policy.purposes, p) ? policy.purposes[p] : undefined;
      if (rule === undefined) throw invalid(`${where}.purposes: ${show(p)} is not a purpose of policy "${policy.id}".${typeof p === 'string' ? didYouMean(p, Object.keys(policy.purposes)) : ''}`);
      const onExpiry = rule.retentionRule?.onExpiry;
      if (onExpiry === 'erase' && rule.retentionRule !== undefined && parseDuration(rule.retentionRule.duration) !== undefined && s.erase === undefined) {
        throw invalid(`${where}: purpose "${p}" erases at expiry (retention.onExpiry), so the store needs erase(item).`);
      }
      if (onExpiry === 'anonymise' && s.anonymise === undefined) throw invalid(`${where}: purpose "${p}" anonymises at expiry, so the store needs anonymise(item).`);
    }
  });
  return Object.freeze([...stores] as RetentionStore[]);
}

async function listItems(store: RetentionStore, purpose: string, rule: ResolvedRetention): Promise<unknown[]> {
  const listed = await store.list(purpose, rule);
  const out: unknown[] = [];
  if (listed !== null && typeof listed === 'object' && Symbol.asyncIterator in listed) {
    for await (const i of listed as AsyncIterable<unknown>) out.push(i);
  } else {
    for (const i of listed as Iterable<unknown>) out.push(i);
  }
  return out;
}

/** Creates `kit.retention` for an engine. @internal */
export function createRetention(kit: RetentionEngine, stores: readonly RetentionStore[], clock: () => number): Retention {
  const instant = (now: Date | number | undefined, what: string): number => {
    const t = now === undefined ? clock() : now instanceof Date ? now.getTime() : now;
    if (typeof t !== 'number' || !Number.isFinite(t)) throw invalid(`retention.${what}(): "now" must be a Date or ms since the epoch.`);
    return t;
  };

  /** Every (store, purpose) pair with an ISO 8601 retention. */
  function* swept(): Generator<[RetentionStore, string, ResolvedRetention]> {
    for (const store of stores) {
      for (const purpose of store.purposes) {
        const rule = kit.policy.purposes[purpose]?.retentionRule;
        if (rule !== undefined && parseDuration(rule.duration) !== undefined) yield [store, purpose, rule];
      }
    }
  }

  return Object.freeze({
    stores,
    async due(options: { now?: Date | number; within?: string } = {}): Promise<RetentionDueItem[]> {
      const now = instant(options.now, 'due');
      const within = parseDuration(options.within ?? 'P30D');
      if (within === undefined) throw invalid(`retention.due(): "within" must be an ISO 8601 duration such as P30D, got ${show(options.within)}.`);
      const items: ListedRetentionItem[] = [];
      for (const [store, purpose, rule] of swept()) {
        for (const i of await listItems(store, purpose, rule)) items.push({ ...(i as RetentionItem), store: store.name, purpose });
      }
      return retentionDue(kit.policy, items, addDuration(new Date(now), within));
    },
    async sweep(options: { now?: Date | number } = {}): Promise<RetentionSweepResult> {
      const now = instant(options.now, 'sweep');
      const sweepId = randomUUID();
      let erased = 0;
      let anonymised = 0;
      let flagged = 0;
      let held = 0;
      const failed: Array<{ store: string; purpose: string; item: string | undefined; error: string }> = [];
      for (const [store, purpose, rule] of swept()) {
        const data = [...kit.policy.purposes[purpose]!.data];
        const duration = parseDuration(rule.duration)!;
        for (const raw of await listItems(store, purpose, rule)) {
          const problem = itemProblem(raw);
          if (problem !== undefined) {
            failed.push({ store: store.name, purpose, item: undefined, error: problem });
            continue;
          }
          const item = raw as RetentionItem;
          const start = clockInstant(item.clockStart);
          if (start === undefined) continue; // the clock has not started
          const expiredAt = addDuration(new Date(start), duration);
          if (expiredAt.getTime() > now) continue;
          if ((item.holds ?? []).some((h) => rule.holds.includes(h))) {
            held += 1;
            continue;
          }
          const action = rule.onExpiry === 'review' ? 'flag' : rule.onExpiry;
          const attributes = { item: item.id, store: store.name, clockStart: new Date(start).toISOString(), expiredAt: expiredAt.toISOString(), sweep: sweepId };
          const fields = { ...(item.subject !== undefined ? { subject: item.subject } : {}), actor: ACTOR, purpose, data, action };
          // Recorded first: nothing is erased unrecorded (an outage stops the sweep).
          await kit.runAs({ purpose, actor: ACTOR, requestId: sweepId }, () => kit.record('retention', undefined, { ...fields, decision: 'allow', reason: 'retention-expired', attributes }));
          try {
            if (action === 'erase') await store.erase!(item, purpose);
            else if (action === 'anonymise') await store.anonymise!(item, purpose);
            else if (store.flag !== undefined) await store.flag(item, purpose);
          } catch (error) {
            const code = error instanceof PurposekitError ? error.code : 'app-error';
            failed.push({ store: store.name, purpose, item: item.id, error: code });
            await kit.runAs({ purpose, actor: ACTOR, requestId: sweepId }, () => kit.record('retention', undefined, { ...fields, decision: 'deny', reason: 'retention-failed', attributes: { ...attributes, error: code } }));
            continue;
          }
          if (action === 'erase') erased += 1;
          else if (action === 'anonymise') anonymised += 1;
          else flagged += 1;
        }
      }
      return { at: new Date(now).toISOString(), erased, anonymised, flagged, held, failed };
    },
  });
}
