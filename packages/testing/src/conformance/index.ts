/** The adapter conformance suite: internal barrel; the package index re-exports by name. */
export { runConformanceSuite, CONCURRENT_REQUESTS } from './run-conformance-suite';
export type {
  AdapterHarness,
  ConformanceAppSpec,
  ConformanceRightsSpec,
  ConformanceRoute,
  ConformanceHandlerInput,
  ConformanceHandlerResult,
  StartedConformanceApp,
} from './types';
