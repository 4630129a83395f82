/**
 * The route table of a Fastify app: every route added with `config.purpose`, with its
 * method, full path (plugin prefixes included) and the data categories it declares in
 * `config.data`. Collected by the plugin's `onRoute` hook when each route is added: no
 * cost per request.
 */
import { PurposekitError } from '@purposekit/core';
import type { Purposekit, RouteDescription } from '@purposekit/core';
import { RouteRegistry, resolveRouteCategories } from '@purposekit/core/adapter';

/** Where the plugin keeps the routes it saw, on the Fastify instance it was registered on. */
export const ROUTE_TABLE: unique symbol = Symbol('purposekit.fastify.route-table') as never;

/** The routes one plugin registration saw (the core's bounded registry, one rule for every adapter). */
export interface RouteTable {
  readonly kit: Purposekit;
  readonly routes: RouteRegistry;
}

/**
 * Checks a route's `config.data` once, when the route is added (the core's one rule).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolveRouteData(kit: Purposekit, url: string, data: unknown): readonly string[] {
  return resolveRouteCategories(kit, data, `route ${JSON.stringify(url)}`, 'config.data');
}

/** Records one route in the table (called from the plugin's `onRoute` hook). */
export function recordRoute(table: RouteTable, route: { method: string; path: string; purpose: string; data: readonly string[] }): void {
  table.routes.add(route.purpose, { method: route.method, path: route.path, data: route.data });
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
  return table.routes.list();
}
