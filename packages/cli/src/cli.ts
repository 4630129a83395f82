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
import { auditReport } from './commands/audit-report';
import { auditVerify } from './commands/audit-verify';
import { init } from './commands/init';
import { keysGenerate } from './commands/keys-generate';
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
    .description('purposekit: verify, report on and export tamper-evident audit trails; generate their keys.')
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
    .argument('<path>', 'trail directory or file')
    .option('--public-key <file>', 'Ed25519 public key (PEM) that signs checkpoints; repeat for rotated keys', collect, [])
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--partial', 'accept a trail whose oldest files were removed (retention)')
    .option('--json', 'print the result as JSON')
    .action(async (path: string, flags: { publicKey: string[]; prefix?: string; partial?: boolean; json?: boolean }) => setCode(await auditVerify(io, path, flags)));

  audit
    .command('report')
    .description('subject access report: every record about one person (when, by whom, categories, purpose, basis, decision)')
    .requiredOption('--subject <id>', 'the subject id as the application knows it (with --key), or its pseudonym')
    .argument('<path>', 'trail directory or file')
    .option('--key <file>', 'subject HMAC key (subject-hmac.key.json); repeat for rotated keys', collect, [])
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .option('--json', 'print the report as JSON')
    .action(async (path: string, flags: { subject: string; key: string[]; prefix?: string; json?: boolean }) => setCode(await auditReport(io, path, flags)));

  audit
    .command('export')
    .description('export every record as JSON (an array) or CSV (one row per record)')
    .argument('<path>', 'trail directory or file')
    .requiredOption('--format <format>', 'json or csv')
    .option('--output <file>', 'write to this new file instead of stdout')
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .action(async (path: string, flags: { format: string; output?: string; prefix?: string }) => setCode(await auditExport(io, path, flags)));

  root
    .command('rights')
    .description('data-subject rights requests recorded in an audit trail')
    .command('due')
    .description('list requests received and not yet completed, soonest due first (GDPR Art. 12(3): one month)')
    .argument('<path>', 'trail directory or file')
    .option('--at <instant>', 'evaluate as of this ISO 8601 instant instead of now')
    .option('--json', 'print the list as JSON')
    .option('--fail-on-overdue', 'exit 1 when any request is overdue')
    .option('--prefix <prefix>', 'file prefix, when the directory holds several trails')
    .action(async (path: string, flags: RightsDueFlags) => setCode(await rightsDue(io, path, flags)));

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
