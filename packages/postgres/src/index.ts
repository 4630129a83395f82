/**
 * @purposekit/postgres: one audit trail, one consent store and one rights register
 * shared by every instance of a service, on PostgreSQL (node-postgres).
 */
export { migrate, POSTGRES_SCHEMA_VERSION } from './migrate';
export type { MigrateOptions, MigrateResult } from './migrate';
export type { PostgresConnectionOptions } from './connection';
export { createPostgresAuditSink } from './audit-sink';
export type { PostgresAuditSink, PostgresAuditSinkOptions } from './audit-sink';
export { verifyPostgresTrail, readPostgresTrailRecords, buildPostgresSubjectReport, exportPostgresTrail, listPostgresOpenRightsRequests, createPostgresAccessLog } from './trail';
export type {
  PostgresVerifyOptions,
  PostgresVerifyResult,
  PostgresStreamVerifyResult,
  PostgresSubjectReportOptions,
  PostgresExportOptions,
  PostgresReadOptions,
  PostgresRightsOptions,
} from './trail';
export { createPostgresConsentStore } from './consent-store';
export type { PostgresConsentStore, PostgresConsentStoreOptions } from './consent-store';
export { createPostgresAnchor } from './anchor';
export type { PostgresAnchor, PostgresAnchorOptions } from './anchor';
