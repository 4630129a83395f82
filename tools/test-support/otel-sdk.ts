/**
 * The real OpenTelemetry SDK for adapter tests: a tracer provider with an in-memory
 * exporter, the AsyncLocalStorage context manager, W3C trace-context + baggage propagation,
 * and the HTTP instrumentation (server spans for every request, client spans and header
 * injection for outgoing calls). `{ undici: true }` adds the undici instrumentation (client
 * spans and header injection for `fetch()` and undici). Call it before the framework is loaded.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

export interface OtelHarness {
  readonly exporter: InMemorySpanExporter;
  /** The finished server spans (kind SERVER) so far. */
  serverSpans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function startOtel(options: { undici?: boolean } = {}): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  const instrumentations: Instrumentation[] = [new HttpInstrumentation()];
  if (options.undici === true) {
    // Required only when asked for: the other OTel tests keep fetch() uninstrumented.
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
    instrumentations.push(new UndiciInstrumentation());
  }
  const unregister = registerInstrumentations({ instrumentations, tracerProvider: provider });
  return {
    exporter,
    serverSpans: () => exporter.getFinishedSpans().filter((s) => s.kind === 1),
    async shutdown() {
      unregister();
      await provider.shutdown();
      contextManager.disable();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
