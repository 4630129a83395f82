/** The audit trail (issue 5): internal barrel; the package index re-exports by name. */
export type {
  AuditEventKind,
  AuditRecordKind,
  AuditAttributeValue,
  AuditEventInput,
  AuditSink,
  AuditRecordBase,
  AuditEventRecord,
  AuditCheckpointRecord,
  AuditRecord,
  AuditDurability,
  FileAuditSinkOptions,
  AnchoredHead,
  AuditAnchor,
  AuditAnchorFunction,
  AuditAnchorErrorInfo,
} from './types';
export { AUDIT_FORMAT_VERSION, AUDIT_GENESIS_HASH, hashAuditRecord, sealAuditLine, sealAuditRecord } from './encode';
export { AuditLineEncoder } from './line-slab';
export { validateAuditEvent, SUBJECT_PSEUDONYM_PATTERN } from './validate';
export { auditKeyId, generateAuditKeys, parseSubjectKey } from './keys';
export type { GeneratedAuditKeys, SubjectKeyJwk } from './keys';
export { checkpointSigningInput, verifyCheckpointSignature } from './checkpoint';
export { createFileAuditSink } from './file-sink';
export { createFileAuditAnchor } from './anchors';
export type { FileAuditAnchor, FileAuditAnchorOptions } from './anchors';
export type { FileAuditSink } from './file-sink';
export { readAuditTrail } from './trail';
export type { AuditTrailEntry, ReadAuditTrailOptions } from './trail';
export { verifyAuditTrail, verifyAuditLines } from './verify';
export type { AuditLinesSource, AuditLinesVerifyOptions, AuditProblem, AuditProblemKind, AuditPublicKey, AuditVerifyOptions, AuditVerifyResult } from './verify';
export { buildSubjectReport, streamSubjectReport, subjectReportEntry } from './report';
export type { SubjectReport, SubjectReportEntry, SubjectReportOptions, SubjectReportScan } from './report';
export { exportAuditTrail, auditCsvRow, AUDIT_CSV_COLUMNS } from './export';
export type { AuditExportFormat, AuditExportOptions } from './export';
export { AnchorPublisher } from './anchor-publisher';
export type { AnchorPublisherSettings, AnchorPublisherState } from './anchor-publisher';
