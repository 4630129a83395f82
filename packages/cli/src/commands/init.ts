/**
 * `purposekit init [--preset <name>] [--keys-dir <dir>] [--policy <file>] [--framework <name>]`
 *
 * The first five minutes of a project: a key directory, a starter policy from one of
 * the presets (a JSON file to edit, validated as written), and the snippet that wires
 * purposekit into the framework found in the project's package.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PurposekitError, bitnami, coreos, definePolicy, generateKeyDirectory, kubevirt, openinfra, policyInputOf } from '@purposekit/core';
import type { Policy } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { absolute } from '../paths';

/** The presets `init` can start from. */
export const INIT_PRESETS: Readonly<Record<string, Policy>> = Object.freeze({ openinfra, kubevirt, bitnami, coreos });
/** The frameworks `init` writes a snippet for. */
export const INIT_FRAMEWORKS = ['express', 'koa', 'nestjs', 'fastify'] as const;
export type InitFramework = (typeof INIT_FRAMEWORKS)[number];

export interface InitFlags {
  preset: string;
  keysDir: string;
  policy: string;
  framework?: string;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** The framework a package.json depends on: NestJS first (a Nest app also pulls Express or Fastify), then Fastify, Koa, Express. */
export function detectFramework(pkg: unknown): InitFramework | undefined {
  if (typeof pkg !== 'object' || pkg === null) return undefined;
  const deps: Record<string, unknown> = { ...((pkg as Record<string, unknown>)['devDependencies'] as object), ...((pkg as Record<string, unknown>)['dependencies'] as object) };
  if ('@nestjs/core' in deps) return 'nestjs';
  if ('fastify' in deps) return 'fastify';
  if ('koa' in deps) return 'koa';
  if ('express' in deps) return 'express';
  return undefined;
}

function snippet(framework: InitFramework | undefined, policyFile: string, keysDir: string, firstPurpose: string): string[] {
  const setup = [
    `import { createFileAuditSink, createPurposekit, loadPolicy, openKeyDirectory } from '@purposekit/core';`,
    '',
    `const keys = openKeyDirectory('${keysDir}');`,
    `const audit = await createFileAuditSink({ dir: './audit', signingKey: keys.signingKey }); // inside an async function in CommonJS`,
    `const kit = createPurposekit({ policy: loadPolicy('${policyFile}'), audit, subjectKey: keys.subjectKey, ageGate: { secret: keys.lockoutSecret } });`,
  ];
  switch (framework) {
    case 'express':
      return [
        'npm install @purposekit/core @purposekit/express',
        '',
        `import { createPrivacy } from '@purposekit/express';`,
        ...setup,
        'const privacy = createPrivacy(kit, { skip: [\'/healthz\'] });',
        'app.use(privacy.middleware(), express.json());',
        `app.get('/status', privacy.purpose('${firstPurpose}'), handler);`,
        'app.use(privacy.errorHandler());',
        'process.once(\'SIGTERM\', () => server.close(() => void kit.close()));',
      ];
    case 'koa':
      return [
        'npm install @purposekit/core @purposekit/koa',
        '',
        `import { createPrivacy } from '@purposekit/koa';`,
        ...setup,
        'const privacy = createPrivacy(kit, { skip: [\'/healthz\'] });',
        'app.use(privacy.middleware());',
        `router.get('/status', privacy.purpose('${firstPurpose}'), handler);`,
        'process.once(\'SIGTERM\', () => server.close(() => void kit.close()));',
      ];
    case 'nestjs':
      return [
        'npm install @purposekit/core @purposekit/nestjs',
        '',
        `import { PrivacyModule, Purpose } from '@purposekit/nestjs';`,
        ...setup,
        `@Module({ imports: [PrivacyModule.forRoot({ kit, skip: ['/healthz'] })] })  // in the root module`,
        `@Purpose('${firstPurpose}')                                                  // on a controller or handler`,
        'app.enableShutdownHooks();  // SIGTERM closes the engine: the trail ends with a signed checkpoint',
      ];
    case 'fastify':
      return [
        'npm install @purposekit/core @purposekit/fastify',
        '',
        `import { purposekit } from '@purposekit/fastify';`,
        ...setup,
        'await app.register(purposekit, { kit });  // register, and await, before your routes',
        `app.get('/status', { config: { purpose: '${firstPurpose}' } }, handler);`,
        'app.addHook(\'onClose\', () => kit.close()); // the trail ends with a signed checkpoint',
      ];
    default:
      return [
        'No express, koa, @nestjs/core or fastify dependency in package.json: the engine alone (npm install @purposekit/core):',
        '',
        ...setup,
        `await kit.runAs({ purpose: '${firstPurpose}', actor: 'job' }, () => kit.access({ data: ['ip-address'], action: 'read' }));`,
        'await kit.close();',
      ];
  }
}

/** Writes the key directory and the starter policy, then prints the integration snippet. */
export async function init(io: CliIo, flags: InitFlags): Promise<number> {
  const preset = hasOwn(INIT_PRESETS, flags.preset) ? INIT_PRESETS[flags.preset] : undefined;
  if (preset === undefined) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `init: --preset must be one of ${Object.keys(INIT_PRESETS).join(', ')}; got ${JSON.stringify(flags.preset)}.`, { details: { option: 'preset' } });
  }
  if (flags.framework !== undefined && !(INIT_FRAMEWORKS as readonly string[]).includes(flags.framework)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `init: --framework must be one of ${INIT_FRAMEWORKS.join(', ')}; got ${JSON.stringify(flags.framework)}.`, { details: { option: 'framework' } });
  }
  const policyPath = absolute(io, flags.policy);
  if (!/\.json$/i.test(policyPath)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `init: --policy must name a .json file; got ${JSON.stringify(flags.policy)}.`, { details: { option: 'policy' } });
  }
  if (!existsSync(dirname(policyPath))) {
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `${dirname(policyPath)} does not exist; create it or choose another --policy.`, { details: { path: dirname(policyPath), code: 'ENOENT' } });
  }
  if (existsSync(policyPath)) {
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `${policyPath} already exists; refusing to overwrite it (choose another --policy).`, { details: { path: policyPath, code: 'EEXIST' } });
  }
  let framework = flags.framework as InitFramework | undefined;
  const pkgPath = join(io.cwd, 'package.json');
  if (framework === undefined && existsSync(pkgPath)) {
    try {
      framework = detectFramework(JSON.parse(readFileSync(pkgPath, 'utf8')));
    } catch (cause) {
      throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot read ${pkgPath} as JSON; pass --framework.`, { cause, details: { path: pkgPath, code: 'EINVAL' } });
    }
  }

  const input = policyInputOf(preset);
  definePolicy(input); // what we write must load back
  const keysDir = absolute(io, flags.keysDir);
  generateKeyDirectory(keysDir); // refuses to overwrite any key
  try {
    writeFileSync(policyPath, `${JSON.stringify(input, null, 2)}\n`, { flag: 'wx' });
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'EIO';
    throw new PurposekitError('PURPOSEKIT_ERR_FILE_ACCESS', `Cannot write ${policyPath} (${code}).`, { cause, details: { path: policyPath, code } });
  }

  const rel = (p: string): string => {
    const r = relative(io.cwd, p);
    return r.startsWith('..') ? p : `./${r}`;
  };
  const firstPurpose = Object.keys(preset.purposes).find((p) => p !== preset.defaultPurpose) ?? Object.keys(preset.purposes)[0]!;
  await writeOut(
    io.stdout,
    [
      `Wrote ${rel(keysDir)}/ (keys: secrets mode 0600; keep them out of version control, e.g. add ${rel(keysDir)}/ to .gitignore)`,
      `Wrote ${rel(policyPath)} (the ${preset.id} preset, every section of it, as a starting point: make the controller, purposes, recipients and retention your own, then check it: npx @purposekit/cli policy check ${rel(policyPath)})`,
      framework === undefined ? '' : `Found ${framework} in package.json. Wire it in:`,
      '',
      ...snippet(framework, rel(policyPath), rel(keysDir), firstPurpose).map((l) => (l === '' ? '' : `  ${l}`)),
      '',
    ]
      .filter((l, i, all) => !(l === '' && all[i - 1] === ''))
      .join('\n'),
  );
  return 0;
}
