/**
 * The route table of a Fastify app: every route added with `config.purpose`, with its
 * method, full path (plugin prefixes included) and the data categories it declares in
 * `config.data`. Collected by the plugin's `onRoute` hook when each route is added: no
 * cost per request.
 */
import { PurposekitError } from '@purposekit/core';
import type { Purposekit, RouteDescription } from '@purposekit/core';

/** Where the plugin keeps the routes it saw, on the Fastify instance it was registered on. */
export const ROUTE_TABLE: unique symbol = Symbol('purposekit.fastify.route-table') as never;

/** The routes one plugin registration saw (bounded like the engine's own registry). */
export interface RouteTable {
  readonly kit: Purposekit;
  readonly routes: Map<string, { method: string; path: string; purpose: string; categories: Set<string> }>;
}

const CATEGORY = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_ROUTES = 10_000;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Checks a route's `config.data` once, when the route is added.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolveRouteData(kit: Purposekit, url: string, data: unknown): readonly string[] {
  if (data === undefined) return Object.freeze([]);
  const bad = (message: string): PurposekitError => new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `route ${JSON.stringify(url)}: ${message}`, { details: { option: 'data' } });
  if (!Array.isArray(data) || data.length > 64 || !data.every((d) => typeof d === 'string' && CATEGORY.test(d))) throw bad('config.data must be a list of data category ids (at most 64).');
  const unknown = data.filter((d) => !kit.policy.categories.has(d as string));
  if (unknown.length > 0) throw bad(`config.data names ${unknown.map((u) => JSON.stringify(u)).join(', ')}, not a data category of policy "${kit.policyId}".`);
  return Object.freeze([...new Set(data as string[])]);
}

/** Records one route in the table (called from the plugin's `onRoute` hook). */
export function recordRoute(table: RouteTable, route: { method: string; path: string; purpose: string; data: readonly string[] }): void {
  const key = `${route.method} ${route.path} ${route.purpose}`;
  let entry = table.routes.get(key);
  if (entry === undefined) {
    if (table.routes.size >= MAX_ROUTES) return;
    entry = { method: route.method, path: route.path, purpose: route.purpose, categories: new Set() };
    table.routes.set(key, entry);
  }
  for (const c of route.data) entry.categories.add(c);
}

/**
 * The routes of a Fastify app that declare a purpose (`config.purpose`), with their
 * method, full path and `config.data` categories, sorted by path, method and purpose —
 * the shape of `kit.describeRoutes()` and of `purposekit ropa --routes`. Fastify's
 * automatic HEAD twin of a GET route is not listed. Only routes added after the plugin
 * are seen (register it, and await it, first).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when the purposekit plugin is not registered on `app`
 */
export function describeRoutes(app: object): RouteDescription[] {
  const table = (app as Record<symbol, RouteTable | undefined>)[ROUTE_TABLE];
  if (table === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'describeRoutes() takes a Fastify instance the purposekit plugin is registered on.', { details: { option: 'app' } });
  }
  return [...table.routes.values()]
    .map((r) => Object.freeze({ method: r.method, path: r.path, purpose: r.purpose, categories: Object.freeze([...r.categories].sort()) }))
    .sort((a, b) => cmp(a.path, b.path) || cmp(a.method, b.method) || cmp(a.purpose, b.purpose));
}
