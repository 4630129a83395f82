/**
 * The route table of a Koa app's router: every route whose middleware includes
 * `privacy.purpose(…)`, with its method, full path (prefixes included) and the data
 * categories it declares. Read from the router's stack when the table is asked for: no
 * cost per request.
 */
import { PurposekitError } from '@purposekit/core';
import type { Purposekit, RouteDescription } from '@purposekit/core';
import { declarePurpose } from '@purposekit/core/adapter';

// privacy.purpose()'s options are checked by the core's one rule (resolvePurposeOptions).
export { resolvePurposeOptions } from '@purposekit/core/adapter';

/** Carried by each `privacy.purpose()` middleware function (not enumerable). */
export const ROUTE_DECLARATION: unique symbol = Symbol('purposekit.koa.route-declaration') as never;

/** What a `privacy.purpose()` middleware declares. */
export interface RouteDeclaration {
  readonly purpose: string;
  readonly data: readonly string[];
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
