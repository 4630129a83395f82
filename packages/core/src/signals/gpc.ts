/**
 * Browser privacy signals: Global Privacy Control (`Sec-GPC`, `/.well-known/gpc.json`)
 * and Do Not Track (`DNT`).
 *
 * How the engine reads them (`Purposekit.begin`): a header counts as a preference only
 * when its value is exactly `1` (GPC spec §3: "Sec-GPC: 1"; DNT's "1" means do not
 * track). Absent, `0`, empty, `true`, ` 1`, a repeated header (`1, 1` or an array) and
 * anything else mean "no preference expressed" (`undefined`), never "consent". GPC then
 * opts the person out of every purpose the policy marks `gpc: true` (by default sale,
 * advertising, targeted advertising and marketing email); the decision records
 * `gpc-opt-out` as its reason. Against an explicit consent given earlier (not itself
 * from a GPC source) the policy's `signals.gpcVersusConsent` decides: `gpc` (the default,
 * the more protective) or `consent`. DNT is exposed as `ctx.signals.dnt` and in
 * `ctx.logFields()`; no built-in rule acts on it (see {@link signalDisclosure}).
 */
import { PurposekitError } from '../errors';
import { show } from '../policy/suggest';
import type { Policy } from '../policy/types';

/** Where a site publishes its GPC support (GPC spec §4). */
export const GPC_WELL_KNOWN_PATH = '/.well-known/gpc.json';

/** The `/.well-known/gpc.json` resource. */
export interface GpcWellKnown {
  /** True: this site honours GPC for the purposes the policy marks GPC-applicable. */
  readonly gpc: true;
  /** When `gpc` last changed, `YYYY-MM-DD` (optional in the spec). */
  readonly lastUpdate?: string;
}

/** Options of {@link gpcWellKnown}. */
export interface GpcWellKnownOptions {
  /**
   * The date support for GPC last changed: `YYYY-MM-DD` or a Date (its UTC day).
   * Default: the policy's version when it is such a date, otherwise omitted.
   */
  lastUpdate?: string | Date;
}

/** A response an adapter sends as is. */
export interface GpcWellKnownResponse {
  readonly status: 200;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: GpcWellKnown;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDay(s: string): boolean {
  const m = DAY.exec(s);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s;
}

/**
 * The body of `/.well-known/gpc.json` for a policy: `{ "gpc": true, "lastUpdate": "YYYY-MM-DD" }`.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION for a `lastUpdate` that is not a calendar day.
 */
export function gpcWellKnown(policy: Policy, options: GpcWellKnownOptions = {}): GpcWellKnown {
  let lastUpdate: string | undefined;
  const given = options.lastUpdate;
  if (given instanceof Date) {
    if (Number.isNaN(given.getTime())) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'gpcWellKnown(): "lastUpdate" is an invalid Date.');
    lastUpdate = given.toISOString().slice(0, 10);
  } else if (given !== undefined) {
    if (typeof given !== 'string' || !isCalendarDay(given)) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `gpcWellKnown(): "lastUpdate" must be a calendar day YYYY-MM-DD (GPC spec), got ${show(given)}.`);
    }
    lastUpdate = given;
  } else if (isCalendarDay(policy.version)) {
    lastUpdate = policy.version;
  }
  return Object.freeze(lastUpdate === undefined ? { gpc: true as const } : { gpc: true as const, lastUpdate });
}

/**
 * What an adapter sends for `GET /.well-known/gpc.json`, or `undefined` when the policy
 * does not ask to serve it (`signals.serveGpcJson`, default false): then the adapter
 * leaves the path to the app (usually a 404).
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION (see {@link gpcWellKnown}).
 */
export function gpcWellKnownResponse(policy: Policy, options: GpcWellKnownOptions = {}): GpcWellKnownResponse | undefined {
  if (!policy.signals.serveGpcJson) return undefined;
  return Object.freeze({
    status: 200 as const,
    // The spec asks for JSON; a day of caching matches how rarely it changes.
    headers: Object.freeze({ 'content-type': 'application/json', 'cache-control': 'max-age=86400' }),
    body: gpcWellKnown(policy, options),
  });
}

/**
 * Reads a `Sec-GPC` or `DNT` header value as the engine does: `true` only for exactly
 * `"1"`, otherwise `undefined` (no preference). For code that must read a signal before
 * or outside the engine; inside a request use `ctx.signals`.
 */
export function parseSignalHeader(value: string | readonly string[] | undefined): true | undefined {
  return value === '1' ? true : undefined;
}

/** Plain-language statements of how the service answers GPC and DNT (CalOPPA asks for the DNT one). */
export interface SignalDisclosure {
  readonly gpc: string;
  readonly dnt: string;
}

/**
 * How the policy answers browser privacy signals, in sentences for a privacy notice.
 * CalOPPA (Cal. Bus. & Prof. Code § 22575(b)(5)) asks a site to disclose how it responds
 * to Do Not Track; purposekit exposes DNT to the app (`ctx.signals.dnt`) but no policy
 * rule acts on it, so the statement says so. If your app does act on DNT, write your own.
 */
export function signalDisclosure(policy: Policy): SignalDisclosure {
  const gpcPurposes = Object.values(policy.purposes).filter((r) => r.gpc).map((r) => r.id);
  const gpc =
    gpcPurposes.length === 0
      ? 'We honour the Global Privacy Control signal; none of our purposes sells or shares personal data or uses it for advertising or marketing, so it changes nothing here.'
      : `When your browser sends the Global Privacy Control signal (Sec-GPC: 1), we treat it as your opt-out of: ${gpcPurposes.join(', ')}. ${
          policy.signals.gpcVersusConsent === 'gpc'
            ? 'The signal takes precedence over a consent you gave us earlier for those purposes.'
            : 'A consent you gave us explicitly for one of those purposes takes precedence over the signal until you withdraw it.'
        }`;
  const dnt = 'Our services do not change how they process personal data in response to a Do Not Track (DNT) browser signal; we honour Global Privacy Control instead, as described above.';
  return Object.freeze({ gpc, dnt });
}
