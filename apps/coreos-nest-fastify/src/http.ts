/**
 * What the controllers share: the app's services (one injection token), the demo
 * authentication, cookies and the app's error shape. Typed structurally: the app needs
 * nothing from Fastify's types but headers and a reply that can take a header.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import type { ConsentManager, Purposekit, RightsHandler } from '@purposekit/core';
import type { CoreOsStore } from './store';

/** Injection token of {@link AppServices}. */
export const APP_SERVICES = Symbol('coreos-nest-fastify.services');

/** The engine, the consent service and the store, shared by every controller. */
export interface AppServices {
  readonly kit: Purposekit;
  readonly consent: ConsentManager;
  readonly store: CoreOsStore;
  /** The rights requests' later states (received by email, refused, extended). */
  readonly rights: RightsHandler<AppRequest>;
  /** SHA-256 of the operator's bearer token (the operator routes compare against it). */
  readonly operatorDigest: Buffer;
}

/** SHA-256 of a token, for a constant-time comparison. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The operator's routes (a mailing to every account, a rights request's later states, a
 * disclosure): `Authorization: Bearer <operator token>`, compared in constant time.
 */
export function requireOperator(services: AppServices, req: AppRequest): void {
  const header = req.headers['authorization'];
  const m = typeof header === 'string' ? /^Bearer (\S{1,200})$/.exec(header) : null;
  if (m === null || !timingSafeEqual(tokenDigest(m[1]!), services.operatorDigest)) {
    throw appError(401, 'APP_OPERATOR_ONLY', 'This route is for the operator: send Authorization: Bearer <operator token>.');
  }
}

/** The parts of a FastifyRequest the controllers read. */
export interface AppRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The part of a FastifyReply the controllers use. */
export interface AppReply {
  header(name: string, value: string): unknown;
}

/** The pseudonymous analytics visitor id cookie. */
export const VISITOR_COOKIE = 'coreos_vid';
/** One year, the usual lifetime of an analytics id. */
const VISITOR_COOKIE_MAX_AGE = 365 * 24 * 3600;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `{ error: { code, message } }`, the same shape as purposekit's own errors. Values are never echoed. */
export function appError(status: number, code: string, message: string): HttpException {
  return new HttpException({ error: { code, message } }, status);
}

/**
 * The demo bearer token: the account id given at sign-up, for an account that exists.
 * A stand-in for real sessions; do not copy it into a real service.
 */
export async function subjectOf(store: CoreOsStore, req: AppRequest): Promise<string | undefined> {
  const header = req.headers['authorization'];
  const m = typeof header === 'string' ? /^Bearer ([0-9a-f-]{36})$/i.exec(header) : null;
  const id = m?.[1]?.toLowerCase();
  return id !== undefined && UUID.test(id) && (await store.account(id)) !== undefined ? id : undefined;
}

/** Like {@link subjectOf}, but answers 401 without a valid token. */
export async function requireSubject(store: CoreOsStore, req: AppRequest): Promise<string> {
  const subject = await subjectOf(store, req);
  if (subject === undefined) throw appError(401, 'APP_UNAUTHENTICATED', 'Send Authorization: Bearer <account id>.');
  return subject;
}

/** The visitor id from the `coreos_vid` cookie, when it holds a well-formed id. */
export function visitorOf(req: AppRequest): string | undefined {
  const header = req.headers['cookie'];
  const cookies = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== VISITOR_COOKIE) continue;
    const value = part.slice(eq + 1).trim().toLowerCase();
    return UUID.test(value) ? value : undefined;
  }
  return undefined;
}

/** The `Set-Cookie` value of a visitor id. */
export function visitorCookie(id: string): string {
  return `${VISITOR_COOKIE}=${id}; Path=/; Max-Age=${VISITOR_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax`;
}

/** A string field of a JSON body, trimmed, or undefined when absent, empty or too long. */
export function str(v: unknown, max = 200): string | undefined {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= max ? v.trim() : undefined;
}

/** The body as a plain object (`{}` for anything else). */
export function bodyObject(b: unknown): Record<string, unknown> {
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? (b as Record<string, unknown>) : {};
}
