/**
 * A purpose across services: an outbound call made inside a request carries the request's
 * purpose, basis and id in W3C baggage, with an HMAC signature bound to the call (the
 * downstream peer, the method and path called, an expiry and a nonce). A downstream
 * service accepts it only from a peer it trusts, with a key it knows, for the very request
 * it is receiving, once, before it expires, and only when its own policy has that purpose
 * with the same basis. Everything else is refused and recorded; the downstream's own route
 * declaration then applies. A client on the internet cannot sign, so it cannot set a purpose.
 *
 * The format is specified in docs/cross-service.md.
 */
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PurposekitError } from '../errors';
import { didYouMean, show } from '../policy/suggest';
import type { Policy } from '../policy/types';

/** A shared HMAC key between an upstream service and its downstreams. `secret` at least 32 bytes. */
export interface PeerKey {
  /** Key id (letters, digits, `_`, `-`; 1–64): several ids per peer allow rotation. */
  readonly id: string;
  readonly secret: string | Buffer | KeyObject;
}

/** The `crossService` engine option. */
export interface CrossServiceOptions {
  /** This service's peer id (lower-case letters, digits, `.`, `_`, `-`): what downstreams trust and what upstreams sign for. */
  id: string;
  /** The key this service signs its outbound purposes with (share it with each downstream that trusts this service). */
  signingKey?: PeerKey;
  /** Upstream peers whose signed purposes this service accepts: peer id → its keys (list the old and the new key during a rotation). */
  trust?: Readonly<Record<string, readonly PeerKey[]>>;
  /** Lifetime of a signed outbound purpose, in seconds (1–300). Default 30. */
  ttlSeconds?: number;
}

/** Baggage keys purposekit reads and writes (W3C baggage, `baggage` header). */
export const PURPOSE_BAGGAGE_KEYS = Object.freeze({
  purpose: 'purposekit.purpose',
  basis: 'purposekit.basis',
  request: 'purposekit.request',
  peer: 'purposekit.peer',
  sig: 'purposekit.sig',
});
const OUR_KEYS: ReadonlySet<string> = new Set<string>(Object.values(PURPOSE_BAGGAGE_KEYS));

/** Why an inbound purpose was refused (the `reason` of its audit record). */
export type InboundRefusal =
  | 'inbound-unsigned'
  | 'inbound-malformed'
  | 'inbound-unknown-peer'
  | 'inbound-unknown-key'
  | 'inbound-wrong-audience'
  | 'inbound-wrong-request'
  | 'inbound-bad-signature'
  | 'inbound-expired'
  | 'inbound-replayed'
  | 'inbound-purpose-unknown'
  | 'inbound-basis-mismatch';

/** @internal */
export interface ResolvedCrossService {
  readonly id: string;
  readonly signingKey: { readonly id: string; readonly key: KeyObject } | undefined;
  readonly trust: ReadonlyMap<string, ReadonlyMap<string, KeyObject>>;
  readonly ttlSeconds: number;
  readonly replay: ReplayCache;
}

/** The outcome of checking one request's inbound purpose. @internal */
export type InboundOutcome =
  | { readonly ok: true; readonly peer: string; readonly purpose: string; readonly basis: string; readonly upstreamRequestId: string }
  | { readonly ok: false; readonly reason: InboundRefusal; readonly peer: string | undefined; readonly purpose: string | undefined };

const PEER_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const IDENT = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SIG = /^([A-Za-z0-9_-]{1,64})\.([a-z0-9][a-z0-9._-]{0,63})\.(\d{1,12})\.([A-Za-z0-9_-]{16})\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
const MAX_SKEW_S = 300;
const OPTION_KEYS = ['id', 'signingKey', 'trust', 'ttlSeconds'] as const;

function invalid(message: string): PurposekitError {
  return new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `createPurposekit(): "crossService${message}`);
}

function keyOf(where: string, k: unknown): { id: string; key: KeyObject } {
  if (typeof k !== 'object' || k === null) throw invalid(`${where}" must be { id, secret }, got ${show(k)}.`);
  const { id, secret } = k as PeerKey;
  if (typeof id !== 'string' || !KEY_ID.test(id)) throw invalid(`${where}.id" must be 1–64 letters, digits, _ or -, got ${show(id)}.`);
  let key: KeyObject;
  if (typeof secret === 'object' && secret !== null && !Buffer.isBuffer(secret) && (secret as KeyObject).type === 'secret') key = secret as KeyObject;
  else if (typeof secret === 'string' || Buffer.isBuffer(secret)) key = createSecretKey(Buffer.from(secret));
  else throw invalid(`${where}.secret" must be a string, a Buffer or a secret KeyObject.`);
  if ((key.symmetricKeySize ?? 0) < 32) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_KEY', `createPurposekit(): "crossService${where}.secret" must be at least 32 bytes.`);
  return { id, key };
}

/**
 * Validates the `crossService` option once, at start-up.
 * @throws PurposekitError PURPOSEKIT_ERR_INVALID_OPTION, PURPOSEKIT_ERR_INVALID_KEY
 * @internal
 */
export function resolveCrossService(option: unknown): ResolvedCrossService | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null) throw invalid(`" must be an object { id, signingKey?, trust? }, got ${show(option)}.`);
  for (const key of Object.keys(option)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw invalid(`": unknown key "${key}".${didYouMean(key, OPTION_KEYS)}`);
  }
  const o = option as CrossServiceOptions;
  if (typeof o.id !== 'string' || !PEER_ID.test(o.id)) throw invalid(`.id" must be a peer id (lower-case letters, digits, . _ -), got ${show(o.id)}.`);
  const ttl = o.ttlSeconds ?? 30;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_SKEW_S) throw invalid(`.ttlSeconds" must be an integer from 1 to ${MAX_SKEW_S}, got ${show(ttl)}.`);
  const trust = new Map<string, Map<string, KeyObject>>();
  if (o.trust !== undefined) {
    if (typeof o.trust !== 'object' || o.trust === null) throw invalid(`.trust" must be { peerId: [keys] }.`);
    for (const [peer, keys] of Object.entries(o.trust)) {
      if (!PEER_ID.test(peer)) throw invalid(`.trust" names an invalid peer id ${show(peer)}.`);
      if (!Array.isArray(keys) || keys.length === 0) throw invalid(`.trust.${peer}" must be a non-empty list of { id, secret }.`);
      const byId = new Map<string, KeyObject>();
      keys.forEach((k, i) => {
        const { id, key } = keyOf(`.trust.${peer}[${i}]`, k);
        byId.set(id, key);
      });
      trust.set(peer, byId);
    }
  }
  return Object.freeze({
    id: o.id,
    signingKey: o.signingKey === undefined ? undefined : Object.freeze(keyOf('.signingKey', o.signingKey)),
    trust,
    ttlSeconds: ttl,
    replay: new ReplayCache(),
  });
}

/** The method and path a signature is bound to: 16 hex digits of SHA-256, so neither travels in clear. */
function binding(method: string, path: string): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${path}`).digest('hex').slice(0, 16);
}

function mac(key: KeyObject, parts: readonly string[]): string {
  return createHmac('sha256', key).update(`purposekit-purpose-v1\n${parts.join('\n')}`).digest('base64url');
}

/** The path of a URL or path (the query string is not bound). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  if (p.startsWith('/')) return p;
  try {
    return new URL(p).pathname;
  } catch {
    return p;
  }
}

/** What a signed outbound purpose says. @internal */
export interface OutboundFacts {
  readonly audience: string;
  readonly purpose: string;
  readonly basis: string;
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly nowSeconds: number;
}

/** The baggage entries of one signed outbound call. @internal */
export function signPurpose(config: ResolvedCrossService, facts: OutboundFacts): Record<string, string> {
  const key = config.signingKey;
  if (key === undefined) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'Signing an outbound purpose needs crossService.signingKey in createPurposekit().');
  if (!PEER_ID.test(facts.audience)) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `The downstream peer id ${show(facts.audience)} is not a peer id (lower-case letters, digits, . _ -).`);
  if (!REQUEST_ID.test(facts.requestId)) throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', 'The request id cannot travel in baggage (letters, digits, . _ : -; up to 128).');
  const exp = String(facts.nowSeconds + config.ttlSeconds);
  const nonce = randomBytes(12).toString('base64url');
  const bind = binding(facts.method, facts.path);
  const m = mac(key.key, [config.id, facts.audience, facts.purpose, facts.basis, facts.requestId, bind, exp, nonce]);
  return {
    [PURPOSE_BAGGAGE_KEYS.purpose]: facts.purpose,
    [PURPOSE_BAGGAGE_KEYS.basis]: facts.basis,
    [PURPOSE_BAGGAGE_KEYS.request]: facts.requestId,
    [PURPOSE_BAGGAGE_KEYS.peer]: config.id,
    [PURPOSE_BAGGAGE_KEYS.sig]: `${key.id}.${facts.audience}.${exp}.${nonce}.${bind}.${m}`,
  };
}

/** Our entries of a `baggage` header (W3C Baggage: `key=value;props`, comma-separated, values percent-encoded), or undefined when it has none. @internal */
export function readPurposeBaggage(header: string | string[] | undefined): Map<string, string> | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text.includes('purposekit.')) return undefined;
  let found: Map<string, string> | undefined;
  for (const member of text.split(',')) {
    const eq = member.indexOf('=');
    if (eq === -1) continue;
    const key = member.slice(0, eq).trim();
    if (!OUR_KEYS.has(key)) continue;
    const raw = member.slice(eq + 1).split(';')[0]!.trim();
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      value = '';
    }
    found ??= new Map();
    // A key sent twice is ambiguous: keep an empty value, which fails every check below.
    found.set(key, found.has(key) ? '' : value);
  }
  return found;
}

/** Adds baggage entries to an existing `baggage` header value (ours replace any of the same key). */
export function mergeBaggage(existing: string | undefined, entries: Readonly<Record<string, string>>): string {
  const kept = (existing ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '' && !OUR_KEYS.has(m.slice(0, m.indexOf('=')).trim()));
  for (const [k, v] of Object.entries(entries)) kept.push(`${k}=${encodeURIComponent(v)}`);
  return kept.join(',');
}

/**
 * Checks one request's inbound purpose. Pure apart from the replay cache, which remembers
 * each accepted nonce until its expiry.
 * @internal
 */
export function verifyInbound(
  config: ResolvedCrossService,
  policy: Policy,
  entries: ReadonlyMap<string, string>,
  request: { method: string; path: string; nowSeconds: number },
): InboundOutcome {
  const purpose = entries.get(PURPOSE_BAGGAGE_KEYS.purpose);
  const peerRaw = entries.get(PURPOSE_BAGGAGE_KEYS.peer);
  const peer = peerRaw !== undefined && PEER_ID.test(peerRaw) ? peerRaw : undefined;
  const shownPurpose = purpose !== undefined && IDENT.test(purpose) ? purpose : undefined;
  const refuse = (reason: InboundRefusal): InboundOutcome => ({ ok: false, reason, peer, purpose: shownPurpose });
  const sig = entries.get(PURPOSE_BAGGAGE_KEYS.sig);
  if (sig === undefined || sig === '') return refuse('inbound-unsigned');
  const basis = entries.get(PURPOSE_BAGGAGE_KEYS.basis);
  const upstream = entries.get(PURPOSE_BAGGAGE_KEYS.request);
  const m = SIG.exec(sig);
  if (m === null || shownPurpose === undefined || basis === undefined || !IDENT.test(basis) || upstream === undefined || !REQUEST_ID.test(upstream)) return refuse('inbound-malformed');
  if (peer === undefined) return refuse('inbound-malformed');
  const [, keyId, audience, exp, nonce, bind, given] = m as unknown as [string, string, string, string, string, string, string];
  const keys = config.trust.get(peer);
  if (keys === undefined) return refuse('inbound-unknown-peer');
  const key = keys.get(keyId);
  if (key === undefined) return refuse('inbound-unknown-key');
  const expected = mac(key, [peer, audience, shownPurpose, basis, upstream, bind, exp, nonce]);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(given))) return refuse('inbound-bad-signature');
  // Signed by a trusted peer: now whether it was signed for this service and this request.
  if (audience !== config.id) return refuse('inbound-wrong-audience');
  if (bind !== binding(request.method, request.path)) return refuse('inbound-wrong-request');
  const expires = Number(exp);
  if (expires < request.nowSeconds || expires > request.nowSeconds + MAX_SKEW_S) return refuse('inbound-expired');
  if (!config.replay.claim(`${peer}.${nonce}`, expires, request.nowSeconds)) return refuse('inbound-replayed');
  const rule = Object.hasOwn(policy.purposes, shownPurpose) ? policy.purposes[shownPurpose] : undefined;
  if (rule === undefined) return refuse('inbound-purpose-unknown');
  if (rule.basis !== basis) return refuse('inbound-basis-mismatch');
  return { ok: true, peer, purpose: rule.id, basis: rule.basis, upstreamRequestId: upstream };
}

/**
 * Nonces seen, until their expiry: a signed purpose is accepted once. Per process; bounded
 * (the oldest entries go first past {@link ReplayCache.MAX}).
 * @internal
 */
export class ReplayCache {
  static readonly MAX = 100_000;
  readonly #seen = new Map<string, number>();

  /** False when `nonce` was already claimed and has not expired. */
  claim(nonce: string, expires: number, nowSeconds: number): boolean {
    const seen = this.#seen.get(nonce);
    if (seen !== undefined && seen >= nowSeconds) return false;
    if (this.#seen.size >= ReplayCache.MAX) {
      for (const [k, e] of this.#seen) {
        if (e < nowSeconds || this.#seen.size >= ReplayCache.MAX) this.#seen.delete(k);
        else break;
      }
    }
    this.#seen.set(nonce, expires);
    return true;
  }
}
