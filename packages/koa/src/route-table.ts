/**
 * The route table of a Koa app's router: every route whose middleware includes
 * `privacy.purpose(…)`, with its method, full path (prefixes included) and the data
 * categories it declares. Read from the router's stack when the table is asked for: no
 * cost per request.
 */
import { PurposekitError } from '@purposekit/core';
import type { Purposekit, RouteDescription } from '@purposekit/core';
import { declarePurpose } from '@purposekit/core/adapter';

/** Carried by each `privacy.purpose()` middleware function (not enumerable). */
export const ROUTE_DECLARATION: unique symbol = Symbol('purposekit.koa.route-declaration') as never;

/** What a `privacy.purpose()` middleware declares. */
export interface RouteDeclaration {
  readonly purpose: string;
  readonly data: readonly string[];
}

const CATEGORY = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Checks `privacy.purpose()`'s options once, at start-up.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolvePurposeOptions(kit: Purposekit, purpose: string, options: unknown): readonly string[] {
  if (options === undefined) return Object.freeze([]);
  const bad = (message: string): PurposekitError => new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `privacy.purpose(${JSON.stringify(purpose)}): ${message}`, { details: { option: 'data' } });
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw bad('options must be an object { data?: string[] }.');
  for (const key of Object.keys(options)) if (key !== 'data') throw bad(`unknown option "${key}"; the only option is "data" (the data categories the route touches).`);
  const data = (options as { data?: unknown }).data;
  if (data === undefined) return Object.freeze([]);
  if (!Array.isArray(data) || data.length > 64 || !data.every((d) => typeof d === 'string' && CATEGORY.test(d))) throw bad('"data" must be a list of data category ids (at most 64).');
  const unknown = data.filter((d) => !kit.policy.categories.has(d as string));
  if (unknown.length > 0) throw bad(`"data" names ${unknown.map((u) => JSON.stringify(u)).join(', ')}, not a data category of policy "${kit.policyId}".`);
  return Object.freeze([...new Set(data as string[])]);
}

interface LayerLike {
  path?: unknown;
  methods?: unknown;
  stack?: unknown;
}

const declarationOf = (fn: unknown): RouteDeclaration | undefined =>
  typeof fn === 'function' ? ((fn as unknown as Record<symbol, RouteDeclaration | undefined>)[ROUTE_DECLARATION] ?? undefined) : undefined;

/**
 * Walks a `@koa/router` Router (nested routers are already flattened into its stack, with
 * their prefixes) and records each route that declares a purpose in the engine; returns
 * `kit.describeRoutes()`. Routes with a RegExp path are left out; `app.use(privacy.purpose(…))`
 * outside a router has no path and is not listed.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `router` is not a @koa/router Router
 */
export function describeKoaRoutes(kit: Purposekit, router: object): RouteDescription[] {
  const stack = (router as { stack?: unknown }).stack;
  if (!Array.isArray(stack)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'privacy.describeRoutes() takes a @koa/router Router (something with a layer stack).', { details: { option: 'router' } });
  }
  for (const layer of stack as LayerLike[]) {
    if (typeof layer.path !== 'string' || !Array.isArray(layer.stack)) continue;
    const path = layer.path.replaceAll('(.*)', '') || '/';
    const all = Array.isArray(layer.methods) ? layer.methods.filter((m): m is string => typeof m === 'string') : [];
    // @koa/router adds HEAD to every GET route; the declaration is the GET.
    const methods = all.filter((m) => m !== 'HEAD' || !all.includes('GET'));
    for (const fn of layer.stack) {
      const decl = declarationOf(fn);
      if (decl === undefined) continue;
      for (const method of methods.length === 0 ? ['ALL'] : methods) declarePurpose(kit, decl.purpose, { method, path, data: decl.data });
    }
  }
  return kit.describeRoutes();
}
