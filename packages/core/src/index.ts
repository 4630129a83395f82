/**
 * @purposekit/core — the framework-agnostic privacy core: what applications, audit-sink
 * and consent-store implementers and the CLI use. Framework adapters also import
 * `@purposekit/core/adapter` (request lifecycle, route declarations, age-gate plumbing);
 * applications never need it.
 * One explicit export list, grouped by domain. No `export *`.
 */

// ── errors ─────────────────────────────────────────────────────────────────────
export { ERROR_CATALOG, PurposekitError, isPurposekitError, errorResponse } from './errors';
export type { ErrorCode, ErrorBody, ErrorResponse, PurposekitErrorOptions } from './errors';
/** What an adapter's `onServerError(error, info)` receives besides the error. */
export type { ServerErrorInfo } from './adapter-support';

// ── warnings ───────────────────────────────────────────────────────────────────
export { WARNING_CATALOG } from './warnings';
export type { WarningCode } from './warnings';

// ── vocabulary ─────────────────────────────────────────────────────────────────
export {
  PURPOSES,
  LEGAL_BASES,
  DATA_CATEGORIES,
  CONSENT_STATES,
  CONSENT_TYPES,
  RIGHTS,
  ACTIONS,
  JURISDICTIONS,
} from './vocabulary';
export type {
  PurposeDefinition,
  BuiltInPurpose,
  PurposeId,
  LegalBasis,
  BuiltInCategory,
  DataCategory,
  ConsentState,
  ConsentType,
  Right,
  Action,
  Jurisdiction,
} from './vocabulary';

// ── policy ─────────────────────────────────────────────────────────────────────
export type {
  PolicyInput,
  PurposeRuleInput,
  AgeGateInput,
  IpLogInput,
  AuditInput,
  Policy,
  ResolvedPurposeRule,
  ResolvedAgeGate,
  ResolvedIpLog,
  PolicyIssue,
  ControllerInput,
  RecipientInput,
  RecipientRole,
  TransferInput,
  TransferMechanism,
  RetentionInput,
  RetentionClock,
  RetentionAction,
  RightRuleInput,
  DataSource,
  ResolvedRecipient,
  ResolvedTransfer,
  ResolvedRetention,
  ResolvedRightRule,
} from './policy/types';
export { ADEQUATE_COUNTRIES } from './policy/purposes';

export { definePolicy, isPolicy, policyInputOf, GPC_DEFAULT_PURPOSES } from './policy/define-policy';
export type { DefinePolicyOptions } from './policy/define-policy';
export { loadPolicy } from './policy/load-policy';
export { parseDuration, addDuration } from './policy/duration';
export type { Duration } from './policy/duration';

// ── presets (the four seed policies) ────────────────────────────────────────────
export { bitnami, coreos, kubevirt, openinfra } from './presets';

// ── engine ─────────────────────────────────────────────────────────────────────
export { createPurposekit, isPurposekit } from './purposekit';
export type {
  Purposekit,
  PurposekitOptions,
  RequestFacts,
  AccessRequest,
  AccessDecision,
  AccessAllowed,
  AccessDenied,
  RunAsOptions,
  OutboundCall,
  BindSpec,
  Bound,
} from './purposekit';
export type { AccessReason } from './decide';
export { ALWAYS_ENFORCED } from './report-only';
export { PURPOSE_BAGGAGE_KEYS } from './cross-service/cross-service';
export type { CrossServiceOptions, PeerKey, InboundRefusal } from './cross-service/cross-service';
export type { ReportOnlyOption } from './report-only';
export type { RouteLabel, RouteDescription } from './routes';

// ── context (read API) ─────────────────────────────────────────────────────────
export { getPrivacyContext, requirePrivacyContext } from './context';
export type { PrivacyContext, Signals, PrivacyLogFields } from './context';

// ── keys and pseudonyms ────────────────────────────────────────────────────────
export { createSubjectPseudonymizer } from './pseudonym';
export type { PseudonymKey } from './pseudonym';
export { KEY_FILES, generateKeyDirectory, openKeyDirectory } from './keys/key-directory';
export type { KeyDirectory, OpenKeyDirectoryOptions } from './keys/key-directory';

// ── consent store ──────────────────────────────────────────────────────────────
export { InMemoryConsentStore, NO_SUBJECT_FACTS, CONSENT_SOURCES, validateConsentRecord } from './consent/consent-store';
export type { ConsentStore, ConsentRecord, ConsentSource, SubjectFacts } from './consent/consent-store';

// ── consent, signals, rights (issue 8) ─────────────────────────────────────────
export { FileConsentStore, createFileConsentStore } from './consent/file-consent-store';
export type { FileConsentStoreOptions } from './consent/file-consent-store';
export { createConsentManager } from './consent/consent-manager';
export type { ConsentManager, ConsentManagerOptions, ConsentChangeOptions, ConsentStatus } from './consent/consent-manager';
export { GPC_WELL_KNOWN_PATH, gpcWellKnown, signalDisclosure } from './signals/gpc';
export type { GpcWellKnown, GpcWellKnownOptions, SignalDisclosure } from './signals/gpc';
export { createRightsHandler } from './rights/rights-handler';
export type {
  RightsHandler,
  RightsHandlerOptions,
  RightsHttpRequest,
  RightsResponse,
  AccessLogRecord,
  Pending,
  RefusalReason,
  RightsRequestState,
  RightsRequestRef,
  CompleteRightsRequest,
  ExtendRightsRequest,
  RefuseRightsRequest,
} from './rights/rights-handler';
export { rightsDueDate, listOpenRightsRequests } from './rights/due';
export type { RightsTrailRecord, OpenRightsRequest } from './rights/due';

// ── retention (issue 13) ───────────────────────────────────────────────────────
export { retentionDue } from './retention/due';
export type { ListedRetentionItem } from './retention/due';
export type { Retention, RetentionStore, RetentionItem, RetentionDueItem, RetentionSweepResult } from './retention/types';

// ── ip (issue 3) ───────────────────────────────────────────────────────────────
export {
  INVALID_IP_TOKEN,
  IP_PSEUDONYM_PREFIX,
  DEFAULT_IPV4_PREFIX,
  DEFAULT_IPV6_PREFIX,
  canonicalizeIp,
  redactIp,
  createIpRedactor,
  createIpKeyring,
  isIpKeyring,
  pseudonymizeIp,
  createIpPseudonymizer,
  scrubIps,
  createIpScrubber,
  escapeLogValue,
  resolveClientIp,
  createClientIpResolver,
} from './ip';
export type {
  TrustFn,
  TrustSetting,
  ClientIpOptions,
  ClientIpResolver,
  ClientIpResolverOptions,
  IpTruncationOptions,
  IpRedactor,
  IpRedactorOptions,
  IpKeyring,
  IpKeyringOptions,
  PseudonymizeIpOptions,
  IpPseudonymizer,
  ScrubIpsOptions,
  IpScrubber,
} from './ip';
// logging (issue 3): pino / pino-http, winston, morgan, typed structurally
export {
  createPinoIpRedaction,
  createPinoHttpOptions,
  createWinstonIpFormat,
  registerMorganIpTokens,
  MORGAN_SAFE_FORMAT,
  DEFAULT_REDACTED_HEADERS,
  REDACTED,
  privacyContextOf,
} from './logging';
export type {
  LogIpRedactionOptions,
  PinoIpRedaction,
  PinoIpRedactionOptions,
  PinoLogMethodHook,
  WinstonIpFormat,
  WinstonIpFormatOptions,
  WinstonInfo,
  MorganLike,
  MorganTokenFn,
  MorganIpTokenOptions,
  PinoHttpOptionsInput,
  PurposekitPinoHttpOptions,
} from './logging';

// ── age gates (issue 4) ────────────────────────────────────────────────────────
export {
  computeAge,
  parseDateOfBirth,
  MAX_PLAUSIBLE_AGE,
  toPlainDate,
  plainDateIn,
  GDPR_ART8_AGES,
  GDPR_ART8_DEFAULT,
  GDPR_ART8_AS_OF,
  minimumAgeFor,
  normaliseCountry,
  DEFAULT_LOCKOUT_COOKIE_NAME,
  MIN_LOCKOUT_KEY_BYTES,
} from './age';
export type {
  PlainDate,
  LeapDayRule,
  ComputeAgeOptions,
  ParseDateOfBirthOptions,
  MinimumAgeContext,
  AgeGateOptions,
} from './age';

// ── audit trail (issue 5) ──────────────────────────────────────────────────────
export {
  AUDIT_FORMAT_VERSION,
  AUDIT_GENESIS_HASH,
  AUDIT_CSV_COLUMNS,
  SUBJECT_PSEUDONYM_PATTERN,
  createFileAuditSink,
  createFileAuditAnchor,
  validateAuditEvent,
  sealAuditRecord,
  sealAuditLine,
  AuditLineEncoder,
  hashAuditRecord,
  checkpointSigningInput,
  verifyCheckpointSignature,
  auditKeyId,
  generateAuditKeys,
  parseSubjectKey,
  readAuditTrail,
  verifyAuditTrail,
  verifyAuditLines,
  buildSubjectReport,
  streamSubjectReport,
  subjectReportEntry,
  AnchorPublisher,
  exportAuditTrail,
  auditCsvRow,
} from './audit';
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
  FileAuditSink,
  AnchoredHead,
  AuditAnchor,
  AuditAnchorFunction,
  AuditAnchorErrorInfo,
  FileAuditAnchor,
  FileAuditAnchorOptions,
  GeneratedAuditKeys,
  SubjectKeyJwk,
  AuditTrailEntry,
  ReadAuditTrailOptions,
  AuditLinesSource,
  AuditLinesVerifyOptions,
  AuditProblem,
  AuditProblemKind,
  AuditPublicKey,
  AuditVerifyOptions,
  AuditVerifyResult,
  SubjectReport,
  SubjectReportEntry,
  AnchorPublisherSettings,
  AnchorPublisherState,
  SubjectReportOptions,
  SubjectReportScan,
  AuditExportFormat,
  AuditExportOptions,
} from './audit';
