/**
 * One catalog of every warning purposekit gives (the companion of the error catalog).
 * `docs/warnings.md` is generated from it (`npm run docs:warnings`) and a test keeps the
 * two in sync, and checks that every `PURPOSEKIT_WARN_*` code the sources use is here.
 *
 * - `message` says what is wrong, in words safe for any log (no personal value).
 * - `action` says what to do about it.
 * - `when` says when it is given and through which channel.
 */
export const WARNING_CATALOG = {
  // ── configuration (given once, at start-up or on an app's first request) ─────────
  PURPOSEKIT_WARN_TRUST_ALL_PROXIES: {
    message: 'the proxy setting trusts every hop, so every client can choose its own address through X-Forwarded-For.',
    action: 'Trust only your proxies: their addresses or their number (Express / Fastify "trust proxy": an address list or a hop count; Koa: app.maxIpsCount).',
    when: 'An adapter (Express, Koa, NestJS on Express or Fastify) sees, on an app\'s first request, a trusted-proxy setting that trusts everything (`true`, `Infinity`, or Koa `proxy` without `maxIpsCount`). Given once per app through the adapter\'s `onWarning` option.',
  },

  PURPOSEKIT_WARN_POLICY: {
    message: 'the policy is valid but has a finding worth fixing (the warning names its path, e.g. a purpose that honours rights with no rights-fulfilment purpose, or a recipient that is not declared).',
    action: 'Fix the policy at the path the warning names (`purposekit policy check <file>` lists every finding with its hint), or read `policy.warnings` to handle them in code.',
    when: '`definePolicy` / `loadPolicy` / `createPurposekit` validate a policy with non-fatal findings. Given through the `onWarning` option of `definePolicy`, by default `process.emitWarning`, once per finding.',
  },
  PURPOSEKIT_WARN_REPORT_ONLY: {
    message: 'REPORT-ONLY MODE: accesses the policy would deny are recorded as denies with enforced: false and then ALLOWED. Age gates, undeclared purposes and failed decisions stay enforced.',
    action: 'Use it only to see what a policy would deny before enforcing it; remove the engine\'s "reportOnly" option to enforce.',
    when: '`createPurposekit` is given `reportOnly` (`true` or `{ purposes }`). Given once per engine, at creation, through the engine\'s `onWarning` option, naming the policy and the purposes not enforced.',
  },

  // ── consent store ─────────────────────────────────────────────────────────────────
  PURPOSEKIT_WARN_CONSENT_STORE_TORN_LINE: {
    message: 'the consent store skipped an unreadable line (a write torn by a crash, never acknowledged).',
    action: 'Nothing to do for a single line after a crash; repeated warnings mean something else writes to the file or the disk is failing.',
    when: '`createFileConsentStore` reads a line it cannot parse. Given through its `onWarning` option; the line\'s content is never shown.',
  },

  // ── audit trail (file sink) ───────────────────────────────────────────────────────
  PURPOSEKIT_WARN_AUDIT_UNAVAILABLE: {
    message: 'the audit trail cannot be written; access fails closed (503) until it can.',
    action: 'Free disk space, restore the directory\'s permissions or remount the volume; writing resumes by itself and nothing acknowledged is lost.',
    when: 'The file sink fails to write or fdatasync. Given through `process.emitWarning`, once per outage.',
  },
  PURPOSEKIT_WARN_AUDIT_RECOVERED: {
    message: 'the audit trail can be written again; the chain continues.',
    action: 'None: this closes the outage an earlier PURPOSEKIT_WARN_AUDIT_UNAVAILABLE opened.',
    when: 'The file sink wrote again after an outage. Given through `process.emitWarning`.',
  },
  PURPOSEKIT_WARN_AUDIT_FILE_RESTORED: {
    message: 'a trail file was removed while in use; its acknowledged records were restored from the open file.',
    action: 'Find what deletes files in the audit directory (a cleanup job, log rotation) and exclude it.',
    when: 'The file sink finds its current file gone. Given through `process.emitWarning`.',
  },
  PURPOSEKIT_WARN_AUDIT_QUARANTINE: {
    message: 'bytes at the end of a trail file that were written but never acknowledged were moved to a quarantine file.',
    action: 'Nothing to do: those records were never acknowledged (the writer got an error and the access failed closed). Keep the quarantine file for the record.',
    when: 'The file sink recovers from a failed write by truncating the file back to its last acknowledged record. Given through `process.emitWarning`.',
  },
  PURPOSEKIT_WARN_AUDIT_TORN_LINE: {
    message: 'the last trail file ended with an incomplete record (a crash during a write); its bytes were moved to a quarantine file and the chain continues.',
    action: 'Expected once after a crash: that record was never acknowledged. `purposekit audit verify` still passes; keep the quarantine file.',
    when: 'The file sink opens a trail whose last file ends mid-record. Given through `process.emitWarning`.',
  },
  PURPOSEKIT_WARN_AUDIT_ANCHOR: {
    message: 'an anchor did not take a checkpoint head; it waits in the outbox and is retried with backoff. The trail is written as usual.',
    action: 'Bring the anchor back (its volume, database or service). Until it takes the waiting heads, a rollback or a re-signed history after the newest head it holds would go unnoticed; `purposekit audit verify --anchors` shows how far anchoring reaches.',
    when: 'The file sink fails to publish a head to one of its `anchors` and no `onAnchorError` option is given. Given through `process.emitWarning`, once per failed attempt (attempts back off from 1 s to 5 min).',
  },

  // ── PostgreSQL stores (@purposekit/postgres) ──────────────────────────────────────
  PURPOSEKIT_WARN_AUDIT_DB_LOST: {
    message: 'the audit sink lost its database session; appends are refused (503) until it is back.',
    action: 'Check the database and the network; the sink reconnects by itself and nothing acknowledged is lost.',
    when: '`createPostgresAuditSink` sees its session end (server restart, network cut, terminated backend). Given through its `onWarning` option, once per outage.',
  },
  PURPOSEKIT_WARN_AUDIT_DB_BACK: {
    message: 'the audit sink reconnected and reclaimed its stream; writing resumes from the stream head.',
    action: 'None: this closes the outage an earlier PURPOSEKIT_WARN_AUDIT_DB_LOST opened.',
    when: '`createPostgresAuditSink` reconnected. Given through its `onWarning` option.',
  },
  PURPOSEKIT_WARN_AUDIT_DB_CORRUPT: {
    message: 'after reconnecting, the audit stream\'s last row did not match its hash or head; the sink writes no more.',
    action: 'Run `purposekit audit verify --pg` and investigate; restart the writer once the stream is sound.',
    when: '`createPostgresAuditSink` reads its stream head on reconnect. Given through its `onWarning` option.',
  },
  PURPOSEKIT_WARN_AUDIT_STREAM_TAKEN: {
    message: 'another writer claimed this audit stream while this one was disconnected; this sink writes no more.',
    action: 'Give each instance its own stream id; restart this instance to claim a stream again.',
    when: '`createPostgresAuditSink` reconnects and finds its stream held. Given through its `onWarning` option.',
  },
  PURPOSEKIT_WARN_CONSENT_LISTEN_LOST: {
    message: 'the consent store lost its LISTEN session; its cache is off and every decision reads the database.',
    action: 'None needed: it listens again by itself. Repeated warnings point at the database or the network.',
    when: '`createPostgresConsentStore` with `cache` sees its LISTEN session end. Given through its `onWarning` option.',
  },
  PURPOSEKIT_WARN_CONSENT_LISTEN_BACK: {
    message: 'the consent store listens again; its cache is back on.',
    action: 'None: this closes the outage an earlier PURPOSEKIT_WARN_CONSENT_LISTEN_LOST opened.',
    when: '`createPostgresConsentStore` re-established LISTEN. Given through its `onWarning` option.',
  },
} as const satisfies Record<string, { readonly message: string; readonly action: string; readonly when: string }>;

/** Every warning code purposekit gives. */
export type WarningCode = keyof typeof WARNING_CATALOG;

/**
 * The full text of a catalogued warning: `subject: message action` (the subject names what
 * the warning is about, e.g. `Express "trust proxy"`).
 */
export function warningText(code: WarningCode, subject?: string): string {
  const w = WARNING_CATALOG[code];
  return `${subject !== undefined ? `${subject}: ` : ''}${w.message} ${w.action}`;
}
