/** The rights endpoints: which method + path is which endpoint. @internal */

/** One endpoint of the rights handler. */
export type Endpoint = 'access-log' | 'export' | 'erasure' | 'restriction' | 'objection' | 'consent' | 'rectification';

const ROUTES: Readonly<Record<string, Endpoint>> = Object.freeze(Object.assign(Object.create(null) as Record<string, Endpoint>, {
  'GET access-log': 'access-log',
  'GET export': 'export',
  'POST erasure': 'erasure',
  'POST restriction': 'restriction',
  'DELETE restriction': 'restriction',
  'POST objection': 'objection',
  'DELETE objection': 'objection',
  'POST consent': 'consent',
  'POST rectification': 'rectification',
}));

/** A valid prefix: `/privacy`, `/api/privacy`… (no trailing slash). */
export const PREFIX = /^(?:\/[A-Za-z0-9._~-]+)+$/;

/** The endpoint `method` + `path` (query ignored, one trailing slash tolerated) names under `prefix`, if any. */
export function endpointMatcher(prefix: string): (rawMethod: unknown, rawPath: unknown) => Endpoint | undefined {
  const prefixSlash = `${prefix}/`;
  return (rawMethod, rawPath) => {
    const method = typeof rawMethod === 'string' ? rawMethod.toUpperCase() : '';
    const raw = typeof rawPath === 'string' ? rawPath : '';
    const q = raw.indexOf('?');
    let path = q < 0 ? raw : raw.slice(0, q);
    if (path.length > prefixSlash.length && path.endsWith('/')) path = path.slice(0, -1);
    if (!path.startsWith(prefixSlash)) return undefined;
    return ROUTES[`${method} ${path.slice(prefixSlash.length)}`];
  };
}
