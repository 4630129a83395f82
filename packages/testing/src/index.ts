/**
 * @purposekit/testing — test doubles and the adapter conformance suite.
 * One explicit export list, grouped by area. No `export *`.
 */

// ── adapter conformance suite (issue 6; Jest only) ─────────────────────────────
export { runConformanceSuite, CONCURRENT_REQUESTS } from './conformance';
export type {
  AdapterHarness,
  ConformanceAppSpec,
  ConformanceRightsSpec,
  ConformanceRoute,
  ConformanceHandlerInput,
  ConformanceHandlerResult,
  StartedConformanceApp,
} from './conformance';

// ── in-memory audit sink (issue 5) ─────────────────────────────────────────────
export { InMemoryAuditSink } from './in-memory-audit-sink';
export type { InMemoryAuditSinkOptions, FailAppendsOptions } from './in-memory-audit-sink';

// ── consent store contract suite (issue 11; Jest only) ─────────────────────────
export { runConsentStoreContract } from './consent-store-contract';
export type { ConsentStoreContractOptions } from './consent-store-contract';
