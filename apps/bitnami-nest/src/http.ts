/**
 * What the controllers share: the app's services (one injection token), the demo
 * authentication, the app's error shape and body helpers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import type { ConsentManager, Purposekit, RightsHandler } from '@purposekit/core';
import type { PaymentGateway } from './payment-gateway';
import type { BitnamiStore } from './store';

/** Injection token of {@link AppServices}. */
export const APP_SERVICES = Symbol('bitnami-nest.services');

/** The engine, the consent service, the store and the (bound) payment gateway, shared by every controller. */
export interface AppServices {
  readonly kit: Purposekit;
  readonly consent: ConsentManager;
  readonly store: BitnamiStore;
  /** Wrapped by `kit.bind`: each call is checked and recorded under the `payment` purpose. */
  readonly gateway: PaymentGateway;
  /** The rights requests made by phone, mail or email ("contact us ... to request that we remove you from our email list"). */
  readonly rights: RightsHandler<AppRequest>;
  /** SHA-256 of the operator's bearer token (the operator routes compare against it). */
  readonly operatorDigest: Buffer;
}

/** SHA-256 of a token, for a constant-time comparison. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * The operator's routes (the newsletter to every subscriber, order notices, requests
 * taken by phone or mail): `Authorization: Bearer <operator token>`, compared in constant time.
 */
export function requireOperator(services: AppServices, req: AppRequest): void {
  const header = req.headers['authorization'];
  const m = typeof header === 'string' ? /^Bearer (\S{1,200})$/.exec(header) : null;
  if (m === null || !timingSafeEqual(tokenDigest(m[1]!), services.operatorDigest)) {
    throw appError(401, 'APP_OPERATOR_ONLY', 'This route is for the operator: send Authorization: Bearer <operator token>.');
  }
}

/** The parts of an Express request the controllers read. */
export interface AppRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** `{ error: { code, message } }`, the same shape as purposekit's own errors. Values are never echoed. */
export function appError(status: number, code: string, message: string): HttpException {
  return new HttpException({ error: { code, message } }, status);
}

/** The id in `Authorization: Bearer <id>`, when well-formed (not yet checked against the store). */
export function bearer(req: AppRequest): string | undefined {
  const header = req.headers['authorization'];
  const m = typeof header === 'string' ? /^Bearer ([0-9a-fA-F-]{36})$/.exec(header) : null;
  const id = m?.[1]?.toLowerCase();
  return id !== undefined && UUID.test(id) ? id : undefined;
}

/**
 * The demo bearer token: the account id returned at registration, for an account that
 * exists. A stand-in for real sessions; do not copy it into a real service.
 */
export async function accountOf(store: BitnamiStore, req: AppRequest): Promise<string | undefined> {
  const id = bearer(req);
  return id !== undefined && (await store.account(id)) !== undefined ? id : undefined;
}

/** Like {@link accountOf}, but answers 401 without a valid token. */
export async function requireAccount(store: BitnamiStore, req: AppRequest): Promise<string> {
  const id = await accountOf(store, req);
  if (id === undefined) throw appError(401, 'APP_UNAUTHENTICATED', 'Send Authorization: Bearer <account id>.');
  return id;
}

/** A string field of a JSON body, trimmed, or undefined when absent, empty or too long. */
export function str(v: unknown, max = 200): string | undefined {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= max ? v.trim() : undefined;
}

/** The JSON body as a record (an empty one for anything else). */
export function fields(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}
