/**
 * The route table of a running Express app: every route whose middleware includes
 * `privacy.purpose(…)`, with its method, full path (mount prefixes included) and the data
 * categories it declares. Read from the app's router stack once, at the time the table is
 * asked for: no cost per request.
 */
import { PurposekitError } from '@purposekit/core';
import type { Purposekit, RouteDescription } from '@purposekit/core';
import { declarePurpose } from '@purposekit/core/adapter';

// privacy.purpose()'s options are checked by the core's one rule (resolvePurposeOptions).
export { resolvePurposeOptions } from '@purposekit/core/adapter';

/** Carried by each `privacy.purpose()` middleware function (not enumerable). */
export const ROUTE_DECLARATION: unique symbol = Symbol('purposekit.express.route-declaration') as never;

/** What a `privacy.purpose()` middleware declares. */
export interface RouteDeclaration {
  readonly purpose: string;
  readonly data: readonly string[];
}

interface LayerLike {
  route?: { path?: unknown; stack?: LayerLike[] };
  handle?: unknown;
  method?: string;
  rawPath?: unknown;
}

const declarationOf = (fn: unknown): RouteDeclaration | undefined =>
  typeof fn === 'function' ? ((fn as unknown as Record<symbol, RouteDeclaration | undefined>)[ROUTE_DECLARATION] ?? undefined) : undefined;

const paths = (p: unknown): string[] => (typeof p === 'string' ? [p] : Array.isArray(p) ? p.flat(Infinity).filter((x): x is string => typeof x === 'string') : []);

function join(prefix: string, path: string): string {
  if (path === '/' || path === '') return prefix === '' ? '/' : prefix;
  return `${prefix.replace(/\/$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
}

function walk(stack: readonly LayerLike[], prefix: string, out: Array<{ method: string; path: string; decl: RouteDeclaration }>): void {
  for (const layer of stack) {
    if (layer.route !== undefined) {
      for (const handler of layer.route.stack ?? []) {
        const decl = declarationOf(handler.handle);
        if (decl === undefined) continue;
        const method = typeof handler.method === 'string' ? handler.method.toUpperCase() : 'ALL';
        for (const p of paths(layer.route.path)) out.push({ method, path: join(prefix, p), decl });
      }
      continue;
    }
    const decl = declarationOf(layer.handle);
    // `app.use('/prefix', privacy.purpose(…))`: every method, every path under the prefix.
    if (decl !== undefined) {
      for (const p of paths(layer.rawPath ?? '/')) out.push({ method: 'ALL', path: join(prefix, p), decl });
      continue;
    }
    const nested = (layer.handle as { stack?: unknown } | undefined)?.stack;
    if (Array.isArray(nested)) for (const p of paths(layer.rawPath ?? '/')) walk(nested as LayerLike[], join(prefix, p), out);
  }
}

/**
 * Walks an Express app (or Router) and records each route that declares a purpose in the
 * engine; returns `kit.describeRoutes()`. Routes with a RegExp path are left out (they have
 * no path to print).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION when `app` is not an Express app or router
 */
export function describeExpressRoutes(kit: Purposekit, app: object): RouteDescription[] {
  const router = (app as { router?: { stack?: unknown } }).router ?? app;
  const stack = (router as { stack?: unknown }).stack;
  if (!Array.isArray(stack)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'privacy.describeRoutes() takes an Express app or Router (something with a router stack).', { details: { option: 'app' } });
  }
  const found: Array<{ method: string; path: string; decl: RouteDeclaration }> = [];
  walk(stack as LayerLike[], '', found);
  for (const f of found) declarePurpose(kit, f.decl.purpose, { method: f.method, path: f.path, data: f.decl.data });
  return kit.describeRoutes();
}
