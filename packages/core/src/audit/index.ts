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
} from './types';
