/**
 * OpenTelemetry, when the application has it: `@opentelemetry/api` is an optional peer of
 * the core. It is looked up once, lazily, the first time an engine asks for it; when it
 * is absent (or the engine was created with `telemetry: false`) every hook below is one
 * comparison with `null`. Only the API is used: the application owns the SDK, its
 * exporters and its sampling.
 *
 * What reaches a trace: the purpose, the legal basis and the policy on the request's span,
 * and one event per access decision (decision, reason, categories, action). Never a
 * subject, a value, a body or an address.
 */
import type { AccessReason } from '../decide';

/** The part of a span purposekit uses (structural, so the core's types need no OTel types). */
interface SpanLike {
  setAttributes(attributes: Record<string, string | boolean | string[]>): unknown;
  addEvent(name: string, attributes?: Record<string, string | boolean | string[]>): unknown;
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  isRecording(): boolean;
}

/** The part of `@opentelemetry/api` purposekit uses. @internal */
export interface OtelApi {
  trace: {
    getActiveSpan(): SpanLike | undefined;
    isSpanContextValid(spanContext: { traceId: string; spanId: string }): boolean;
  };
  context: { active(): unknown; with<T>(ctx: unknown, fn: () => T): T };
  propagation: {
    getBaggage(ctx: unknown): BaggageLike | undefined;
    getActiveBaggage(): BaggageLike | undefined;
    createBaggage(entries?: Record<string, { value: string }>): BaggageLike;
    setBaggage(ctx: unknown, baggage: BaggageLike): unknown;
    inject(ctx: unknown, carrier: Record<string, string>): void;
    fields(): string[];
  };
}

/** A W3C baggage set, as `@opentelemetry/api` models it. @internal */
export interface BaggageLike {
  getEntry(key: string): { value: string } | undefined;
  setEntry(key: string, entry: { value: string }): BaggageLike;
  removeEntry(key: string): BaggageLike;
}

let api: OtelApi | null | undefined;

/**
 * `@opentelemetry/api` if the application installed it, else `null`. Required at most once
 * per process (the result, either way, is kept).
 * @internal
 */
export function loadOtelApi(): OtelApi | null {
  if (api === undefined) {
    try {
      api = require('@opentelemetry/api') as OtelApi;
    } catch {
      api = null;
    }
  }
  return api;
}

/** Span attribute names purposekit sets (stable: dashboards rely on them). */
export const SPAN_ATTRIBUTES = Object.freeze({
  purpose: 'privacy.purpose',
  basis: 'privacy.legal_basis',
  policy: 'privacy.policy',
});

/** The span event of one access decision. */
export const ACCESS_EVENT = 'privacy.access';

/**
 * The telemetry of one engine. `null` methods are never called: the engine holds `null`
 * instead of a {@link Telemetry} when OpenTelemetry is off.
 * @internal
 */
export interface Telemetry {
  /** Tags the active span (the request's span, at the start of the request) with the purpose, basis and policy. */
  tag(purpose: string | undefined, basis: string | undefined): void;
  /** Adds the access decision as an event of the active span. */
  decision(decision: 'allow' | 'deny', reason: AccessReason, data: readonly string[], action: string, enforced: boolean): void;
  /** `{ traceId, spanId }` of the active span when it is valid, for the audit record. */
  ids(): { traceId: string; spanId: string } | undefined;
}

/** @internal */
export function createTelemetry(enabled: boolean, policyLabel: string): Telemetry | null {
  if (!enabled) return null;
  const otel = loadOtelApi();
  if (otel === null) return null;
  const { trace } = otel;
  return {
    tag(purpose, basis) {
      const span = trace.getActiveSpan();
      if (span === undefined || !span.isRecording()) return;
      const attributes: Record<string, string> = { [SPAN_ATTRIBUTES.policy]: policyLabel };
      if (purpose !== undefined) attributes[SPAN_ATTRIBUTES.purpose] = purpose;
      if (basis !== undefined) attributes[SPAN_ATTRIBUTES.basis] = basis;
      span.setAttributes(attributes);
    },
    decision(decision, reason, data, action, enforced) {
      const span = trace.getActiveSpan();
      if (span === undefined || !span.isRecording()) return;
      const attributes: Record<string, string | boolean | string[]> = {
        'privacy.decision': decision,
        'privacy.reason': reason,
        'privacy.data': [...data],
        'privacy.action': action,
      };
      if (!enforced) attributes['privacy.enforced'] = false;
      span.addEvent(ACCESS_EVENT, attributes);
    },
    ids() {
      const span = trace.getActiveSpan();
      if (span === undefined) return undefined;
      const sc = span.spanContext();
      return trace.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
    },
  };
}
