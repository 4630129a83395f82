/**
 * The routes an app declared, as the engine saw them: which HTTP route runs under which
 * purpose and which data categories it says it touches. The record of processing
 * (`purposekit ropa --routes`) lists them per purpose, so it shows what the code does.
 */
import { PurposekitError } from './errors';

/** Where a declaration sits, given to {@link Purposekit.declarePurpose} by an adapter or the app. */
export interface RouteLabel {
  /** HTTP method (`GET`, `POST`…; `ALL` for every method). */
  readonly method: string;
  /** The route pattern as the framework writes it, e.g. `/members/:id`. */
  readonly path: string;
  /** Data categories the route's handler touches, when it declares them. */
  readonly data?: readonly string[];
}

/** One declared route: what {@link Purposekit.describeRoutes} returns (and `ropa --routes` reads). */
export interface RouteDescription {
  readonly method: string;
  readonly path: string;
  readonly purpose: string;
  /** Data categories the route declares; empty when it declares none. */
  readonly categories: readonly string[];
}

// Code-point order: the same on every machine, whatever its locale.
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const METHOD = /^[A-Z][A-Z-]{0,15}$/;
const CATEGORY = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_ROUTES = 10_000;

function bad(message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', message, { details: { option: 'route' } });
}

/**
 * Checks a route label: an upper-case method, a path starting with `/` (at most 512
 * characters, no control characters), categories as ids.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function checkRouteLabel(route: unknown): RouteLabel {
  if (typeof route !== 'object' || route === null) throw bad('A route label must be an object { method, path, data? }.');
  const r = route as Record<string, unknown>;
  if (typeof r['method'] !== 'string' || !METHOD.test(r['method'])) throw bad(`A route label's method must be an upper-case HTTP method such as GET; got ${JSON.stringify(r['method'])}.`);
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (typeof r['path'] !== 'string' || !r['path'].startsWith('/') || r['path'].length > 512 || /[\u0000-\u001f\u007f]/.test(r['path'])) {
    throw bad(`A route label's path must start with "/" and hold at most 512 printable characters; got ${JSON.stringify(r['path'])}.`);
  }
  const data = r['data'];
  if (data !== undefined && (!Array.isArray(data) || data.length > 64 || !data.every((d) => typeof d === 'string' && CATEGORY.test(d)))) {
    throw bad('A route label\'s data must be a list of data category ids (at most 64).');
  }
  return { method: r['method'], path: r['path'], ...(data === undefined ? {} : { data: data as string[] }) };
}

/** The declarations one engine has seen; the same route declared twice is listed once. */
export class RouteRegistry {
  readonly #routes = new Map<string, { method: string; path: string; purpose: string; categories: Set<string> }>();

  add(purpose: string, label: RouteLabel): void {
    const key = `${label.method} ${label.path} ${purpose}`;
    let entry = this.#routes.get(key);
    if (entry === undefined) {
      // A bounded list: an app that declares routes per request must not grow it forever.
      if (this.#routes.size >= MAX_ROUTES) return;
      entry = { method: label.method, path: label.path, purpose, categories: new Set() };
      this.#routes.set(key, entry);
    }
    for (const c of label.data ?? []) entry.categories.add(c);
  }

  list(): RouteDescription[] {
    return [...this.#routes.values()]
      .map((r) => Object.freeze({ method: r.method, path: r.path, purpose: r.purpose, categories: Object.freeze([...r.categories].sort()) }))
      .sort((a, b) => cmp(a.path, b.path) || cmp(a.method, b.method) || cmp(a.purpose, b.purpose));
  }
}

/** What {@link resolveRouteCategories} needs of an engine. */
interface CategoriesOf {
  readonly policyId: string;
  readonly policy: { readonly categories: ReadonlySet<string> };
}

/**
 * Checks the data categories a route declares (`privacy.purpose(id, { data })`, Fastify's
 * `config.data`) once, when the route is declared: ids, at most 64, each a category of the
 * engine's policy. One rule for every adapter. `where` names the declaration and `field`
 * the option in the message (`privacy.purpose("x")` / `"data"`).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolveRouteCategories(kit: CategoriesOf, data: unknown, where: string, field: string): readonly string[] {
  if (data === undefined) return Object.freeze([]);
  const fail = (message: string): PurposekitError => new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: ${message}`, { details: { option: 'data' } });
  if (!Array.isArray(data) || data.length > 64 || !data.every((d) => typeof d === 'string' && CATEGORY.test(d))) throw fail(`${field} must be a list of data category ids (at most 64).`);
  const unknown = data.filter((d) => !kit.policy.categories.has(d as string));
  if (unknown.length > 0) throw fail(`${field} names ${unknown.map((u) => JSON.stringify(u)).join(', ')}, not a data category of policy "${kit.policyId}".`);
  return Object.freeze([...new Set(data as string[])]);
}

/**
 * Checks `privacy.purpose(id, options)`'s options (Express and Koa: `{ data?: string[] }`)
 * once, at start-up, and returns the declared categories.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION
 */
export function resolvePurposeOptions(kit: CategoriesOf, purpose: string, options: unknown): readonly string[] {
  if (options === undefined) return Object.freeze([]);
  const where = `privacy.purpose(${JSON.stringify(purpose)})`;
  const fail = (message: string): PurposekitError => new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `${where}: ${message}`, { details: { option: 'data' } });
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw fail('options must be an object { data?: string[] }.');
  for (const key of Object.keys(options)) if (key !== 'data') throw fail(`unknown option "${key}"; the only option is "data" (the data categories the route touches).`);
  return resolveRouteCategories(kit, (options as { data?: unknown }).data, where, '"data"');
}
