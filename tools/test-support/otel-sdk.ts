/**
 * The real OpenTelemetry SDK for adapter tests: a tracer provider with an in-memory
 * exporter, the AsyncLocalStorage context manager, W3C trace-context + baggage propagation,
 * and the HTTP instrumentation (server spans for every request, client spans and header
 * injection for outgoing calls). Call it before the framework is loaded.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

export interface OtelHarness {
  readonly exporter: InMemorySpanExporter;
  /** The finished server spans (kind SERVER) so far. */
  serverSpans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function startOtel(): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  const http = new HttpInstrumentation();
  const unregister = registerInstrumentations({ instrumentations: [http], tracerProvider: provider });
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
