/**
 * The `purposekit` command line. `run(argv, io)` never exits the process and never
 * throws: it returns the exit code, writes results to `io.stdout` and errors to
 * `io.stderr` as `CODE: message` (no stack traces).
 *
 * Exit codes: 0 success; 1 `audit verify` found a problem; 2 a usage error or a failure
 * (unreadable file, bad key, refused overwrite).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { isPurposekitError } from '@purposekit/core';
import { auditExport } from './commands/audit-export';
import { auditReportCommand } from './commands/audit-report-pages';
import type { ReportPagesFlags } from './commands/audit-report-pages';
import { auditStats } from './commands/audit-stats';
import type { StatsFlags } from './commands/audit-stats';
import { auditVerify } from './commands/audit-verify';
import { init } from './commands/init';
import { keysGenerate } from './commands/keys-generate';
import { pgAuditExport, pgAuditReportCommand, pgAuditStats, pgAuditVerify, pgMigrate, pgRightsDue, pgUrl, needPathOrPg } from './commands/pg';
import type { PgFlags } from './commands/pg';
import { retentionDueCommand } from './commands/retention-due';
import type { RetentionDueFlags } from './commands/retention-due';
import { policyCheck } from './commands/policy-check';
import type { PolicyCheckFlags } from './commands/policy-check';
import { policyShow } from './commands/policy-show';
import type { PolicyShowFlags } from './commands/policy-show';
import { PRESETS } from './policy/policy-source';
import { ropa } from './commands/ropa';
import type { RopaFlags } from './commands/ropa';
import { rightsDue } from './commands/rights-due';
import type { RightsDueFlags } from './commands/rights-due';
import type { CliIo } from './io';

/** Exit code when verification fails. */
export const EXIT_VERIFY_FAILED = 1;
/** Exit code for usage errors and failures. */
export const EXIT_ERROR = 2;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function program(io: CliIo, setCode: (code: number) => void): Command {
  const root = new Command('purposekit')
    .description('purposekit: verify, report on and export tamper-evident audit trails; check and explain policies; the record of processing (ropa); keys.')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // errors are printed once, as CODE: message, by run()
      outputError: () => undefined,
    });

  const audit = root.command('audit').description('work with an audit trail (a trail directory, or one trail file)');

  audit
    .command('verify')
    .description('check every hash link, checkpoint signature and the head; name the first bad record (exit 0 only when all holds)')
    .argument('[path]', 'trail directory or file (or --pg)')
    .option('--public-key <file>', 'Ed25519 public key (PEM) that signs checkpoints; repeat for rotated keys', collect, [])
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--partial', 'accept a trail whose oldest files were removed (retention)')
    .option('--anchors <file|url>', 'published heads: an anchor file (createFileAuditAnchor) or a PostgreSQL URL of an anchor table (createPostgresAnchor; never printed); the trail must hold each, and not end before the newest; repeatable', collect, [])
    .option('--expect-head <seq:hash>', 'a head kept from an earlier verify (seq:hash); the trail must hold it exactly (with --pg: needs --stream)')
    .option('--max-age <duration>', 'the newest checkpoint must be at most this old (e.g. 65m, 2h): a live writer signs at least once per heartbeat')
    .option('--json', 'print the result as JSON')
    .option('--pg <url>', 'read the trail from PostgreSQL instead of a path (default: $PURPOSEKIT_PG_URL); the URL is never printed')
    .option('--schema <name>', 'PostgreSQL schema holding the purposekit tables', 'purposekit')
    .option('--stream <id>', 'with --pg: verify this stream only (default: every stream); for a file trail: the stream id its heads carry in the anchors (default: the file prefix)')
    .option('--anchors-schema <name>', 'schema of a PostgreSQL anchor table given to --anchors (default: --schema with --pg, else purposekit)')
    .option('--anchors-pg <url>', 'same as --anchors <postgres url> (older spelling)')
    .action(async (path: string | undefined, flags: PgFlags & { publicKey: string[]; prefix?: string; partial?: boolean; json?: boolean; anchors: string[]; expectHead?: string; maxAge?: string; stream?: string; anchorsPg?: string; anchorsSchema?: string }) => {
      const url = path === undefined ? pgUrl(flags) : undefined;
      if (path === undefined && url === undefined) needPathOrPg('audit verify');
      setCode(url !== undefined ? await pgAuditVerify(io, url, flags) : await auditVerify(io, path!, flags));
    });

  audit
    .command('report')
    .description('without --subject: what happened (decisions by purpose over time, denials, consent, age gates, rights requests); with --subject: every record about one person')
    .argument('[path]', 'trail directory or file (or --pg)')
    .option('--subject <id>', 'the subject id as the application knows it (with --key), or its pseudonym')
    .option('--key <file>', 'subject HMAC key (subject-hmac.key.json); repeat for rotated keys', collect, [])
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--json', 'print the report as JSON')
    .option('--html <file>', 'write a self-contained HTML page to this new file (with --subject: the person\'s timeline in plain language)')
    .option('--by <period>', 'group decisions by day, week or month (default: auto)')
    .option('--at <instant>', 'evaluate due dates as of this ISO 8601 instant instead of now')
    .option('--pg <url>', 'read the trail from PostgreSQL instead of a path (default: $PURPOSEKIT_PG_URL); the URL is never printed')
    .option('--schema <name>', 'PostgreSQL schema holding the purposekit tables', 'purposekit')
    .option('--stream <id>', 'with --pg, without --subject: report on this stream only (default: every stream)')
    .action(async (path: string | undefined, flags: PgFlags & ReportPagesFlags & { stream?: string }) => {
      const url = path === undefined ? pgUrl(flags) : undefined;
      if (path === undefined && url === undefined) needPathOrPg('audit report');
      if (url !== undefined) {
        setCode(await pgAuditReportCommand(io, url, flags));
      } else {
        setCode(await auditReportCommand(io, path!, flags));
      }
    });

  audit
    .command('stats')
    .description('allow/deny counts by purpose, by denial reason and by period; top denial reasons')
    .argument('[path]', 'trail directory or file (or --pg)')
    .option('--by <period>', 'group by day, week or month (default: auto)')
    .option('--top <n>', 'how many denial reasons to list (default 5)')
    .option('--at <instant>', 'evaluate as of this ISO 8601 instant instead of now')
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--json', 'print the counts as JSON')
    .option('--pg <url>', 'read the trail from PostgreSQL instead of a path (default: $PURPOSEKIT_PG_URL); the URL is never printed')
    .option('--schema <name>', 'PostgreSQL schema holding the purposekit tables', 'purposekit')
    .option('--stream <id>', 'with --pg: count this stream only (default: every stream)')
    .action(async (path: string | undefined, flags: PgFlags & StatsFlags & { stream?: string }) => {
      const url = path === undefined ? pgUrl(flags) : undefined;
      if (path === undefined && url === undefined) needPathOrPg('audit stats');
      setCode(url !== undefined ? await pgAuditStats(io, url, flags) : await auditStats(io, path!, flags));
    });

  audit
    .command('export')
    .description('export every record as JSON (an array) or CSV (one row per record)')
    .argument('[path]', 'trail directory or file (or --pg)')
    .requiredOption('--format <format>', 'json or csv')
    .option('--output <file>', 'write to this new file instead of stdout')
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--pg <url>', 'read the trail from PostgreSQL instead of a path (default: $PURPOSEKIT_PG_URL); the URL is never printed')
    .option('--schema <name>', 'PostgreSQL schema holding the purposekit tables', 'purposekit')
    .option('--stream <id>', 'with --pg: export this stream only (default: every stream)')
    .action(async (path: string | undefined, flags: PgFlags & { format: string; output?: string; prefix?: string; stream?: string }) => {
      const url = path === undefined ? pgUrl(flags) : undefined;
      if (path === undefined && url === undefined) needPathOrPg('audit export');
      setCode(url !== undefined ? await pgAuditExport(io, url, flags) : await auditExport(io, path!, flags));
    });

  root
    .command('rights')
    .description('data-subject rights requests recorded in an audit trail')
    .command('due')
    .description('list requests received and not yet completed, soonest due first (GDPR Art. 12(3): one month)')
    .argument('[path]', 'trail directory or file (or --pg)')
    .option('--at <instant>', 'evaluate as of this ISO 8601 instant instead of now')
    .option('--json', 'print the list as JSON')
    .option('--fail-on-overdue', 'exit 1 when any request is overdue')
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--pg <url>', 'read the trail from PostgreSQL instead of a path (default: $PURPOSEKIT_PG_URL); the URL is never printed')
    .option('--schema <name>', 'PostgreSQL schema holding the purposekit tables', 'purposekit')
    .action(async (path: string | undefined, flags: PgFlags & RightsDueFlags) => {
      const url = path === undefined ? pgUrl(flags) : undefined;
      if (path === undefined && url === undefined) needPathOrPg('rights due');
      setCode(url !== undefined ? await pgRightsDue(io, url, flags) : await rightsDue(io, path!, flags));
    });

  const policy = root.command('policy').description('check and explain a privacy policy');

  policy
    .command('check')
    .description('validate a JSON or YAML policy file: every problem with its path and a hint (exit 0 valid, 1 invalid, 2 unreadable)')
    .argument('<file>', 'policy file (.json, .yaml, .yml)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, flags: PolicyCheckFlags) => setCode(await policyCheck(io, file, flags)));

  policy
    .command('show')
    .description('what a policy allows: purposes, legal bases, data categories, retention, recipients, age gates, rights')
    .argument('<policy>', `policy file, or a preset name (${Object.keys(PRESETS).join(', ')})`)
    .option('--json', 'print the policy as JSON')
    .action(async (arg: string, flags: PolicyShowFlags) => setCode(await policyShow(io, arg, flags)));

  root
    .command('ropa')
    .description('the record of processing activities (GDPR Art. 30(1)) from a policy and, with --routes, the routes the app declared')
    .argument('<policy>', `policy file, or a preset name (${Object.keys(PRESETS).join(', ')})`)
    .option('--routes <file>', 'the JSON of kit.describeRoutes() from the running app: lists each purpose\'s routes and flags those touching data their purpose does not allow')
    .option('--format <format>', 'md (default), json or html')
    .option('--output <file>', 'write to this new file instead of stdout')
    .action(async (arg: string, flags: RopaFlags) => setCode(await ropa(io, arg, flags)));

  root
    .command('retention')
    .description('retention of the personal data an app keeps')
    .command('due')
    .description('list items that expire soon, from an export of the app\'s stores (JSON lines of { store, purpose, id, clockStart, holds? })')
    .argument('<items>', 'the items file')
    .requiredOption('--policy <file|preset>', 'the policy (.json/.yaml) or a preset name: openinfra, bitnami, coreos, kubevirt')
    .option('--at <instant>', 'evaluate as of this ISO 8601 instant instead of now')
    .option('--within <duration>', 'how far ahead to look, ISO 8601 (default P30D)')
    .option('--json', 'print the list as JSON')
    .option('--fail-on-expired', 'exit 1 when an item already expired and no hold suspends it')
    .action(async (items: string, flags: RetentionDueFlags) => setCode(await retentionDueCommand(io, items, flags)));

  root
    .command('pg')
    .description('PostgreSQL stores (@purposekit/postgres)')
    .command('migrate')
    .description('create or upgrade the purposekit tables (safe to run from many instances at once)')
    .option('--pg <url>', 'PostgreSQL URL (default: $PURPOSEKIT_PG_URL); never printed')
    .option('--schema <name>', 'schema to hold the purposekit tables', 'purposekit')
    .action(async (flags: PgFlags) => setCode(await pgMigrate(io, flags)));

  root
    .command('keys')
    .description('key management')
    .command('generate')
    .description('generate an Ed25519 checkpoint key pair and a subject HMAC key (secrets written with mode 0600; never overwrites)')
    .option('--out-dir <dir>', 'where to write the key files', '.')
    .action(async (flags: { outDir: string }) => setCode(await keysGenerate(io, flags)));

  root
    .command('init')
    .description('start a project: write a key directory and a starter policy from a preset, print the snippet for the framework in package.json')
    .option('--preset <name>', 'openinfra, kubevirt, bitnami or coreos', 'openinfra')
    .option('--keys-dir <dir>', 'where to write the keys (never overwrites)', 'purposekit-keys')
    .option('--policy <file>', 'the starter policy to write (JSON; never overwrites)', 'privacy-policy.json')
    .option('--framework <name>', 'express, koa, nestjs or fastify (default: found in ./package.json)')
    .action(async (flags: { preset: string; keysDir: string; policy: string; framework?: string }) => setCode(await init(io, flags)));

  return root;
}

/**
 * Runs the CLI with `argv` (the user's arguments, without `node` and the script) and
 * returns the exit code. `io` defaults to the process streams and working directory.
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    cwd: io.cwd ?? process.cwd(),
    progressMinBytes: io.progressMinBytes ?? 8 * 1024 * 1024,
    progressMinRows: io.progressMinRows ?? 50_000,
  };
  let code = 0;
  try {
    await program(full, (c) => (code = c)).parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      // help shown for a missing (sub)command: commander already printed it to stderr
      if (error.code === 'commander.help') return EXIT_ERROR;
      full.stderr.write(`PURPOSEKIT_ERR_INVALID_OPTION: ${error.message.replace(/^error: /, '')}\nRun \`purposekit --help\` for usage.\n`);
      return EXIT_ERROR;
    }
    if (isPurposekitError(error)) {
      full.stderr.write(`${error.code}: ${error.message}\n`);
      return EXIT_ERROR;
    }
    full.stderr.write(`PURPOSEKIT_ERR_INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_ERROR;
  }
}
