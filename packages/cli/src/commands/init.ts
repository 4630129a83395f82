/**
 * `purposekit init [--preset <name>] [--keys-dir <dir>] [--policy <file>] [--framework <name>]`
 *
 * The first five minutes of a project: a key directory, a starter policy from one of
 * the presets (a JSON file to edit, validated as written), and the snippet that wires
 * purposekit into the framework found in the project's package.json.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DATA_CATEGORIES, PURPOSES, PurposekitError, bitnami, coreos, definePolicy, generateKeyDirectory, kubevirt, openinfra } from '@purposekit/core';
import type { AgeGateInput, Policy, PolicyInput, PurposeRuleInput } from '@purposekit/core';
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

/** The editable input form of a validated policy (what `definePolicy` takes back). */
export function policyInputOf(policy: Policy): PolicyInput {
  const customPurposes: Record<string, { description: string; iri?: string }> = {};
  const customCategories: Record<string, string> = {};
  const purposes: Record<string, PurposeRuleInput> = {};
  for (const [id, rule] of Object.entries(policy.purposes)) {
    if (!hasOwn(PURPOSES, id)) customPurposes[id] = { description: rule.description ?? id, ...(rule.iri === undefined ? {} : { iri: rule.iri }) };
    const p: PurposeRuleInput = { basis: rule.basis, data: [...rule.data] };
    if (rule.retention !== undefined) p.retention = rule.retention;
    if (rule.consentType !== undefined) p.consentType = rule.consentType;
    if (rule.termsVersion !== undefined) p.termsVersion = rule.termsVersion;
    p.gpc = rule.gpc;
    p.objection = rule.objection;
    if (rule.ageGate !== undefined) p.ageGate = rule.ageGate;
    if (rule.recipients.size > 0) p.recipients = [...rule.recipients];
    if (rule.description !== undefined && hasOwn(PURPOSES, id)) p.description = rule.description;
    if (rule.source !== undefined) p.source = rule.source;
    purposes[id] = p;
  }
  for (const c of policy.categories) if (!hasOwn(DATA_CATEGORIES, c)) customCategories[c] = `${c} (from the ${policy.id} preset)`;
  const ageGates: Record<string, AgeGateInput> = {};
  for (const [name, g] of Object.entries(policy.ageGates)) {
    ageGates[name] = {
      minimumAge: g.minimumAge,
      ...(Object.keys(g.countries).length > 0 ? { countries: { ...g.countries } } : {}),
      gdprArticle8: g.gdprArticle8,
      lockout: g.lockoutSeconds % 86400 === 0 ? `P${g.lockoutSeconds / 86400}D` : `PT${g.lockoutSeconds}S`,
      leapDay: g.leapDay,
      ...(g.timeZone === undefined ? {} : { timeZone: g.timeZone }),
      ...(g.source === undefined ? {} : { source: g.source }),
    };
  }
  const ip = policy.logs.ip;
  return {
    id: policy.id,
    version: policy.version,
    ...(policy.title === undefined ? {} : { title: policy.title }),
    ...(policy.source === undefined ? {} : { source: policy.source }),
    jurisdictions: [...policy.jurisdictions],
    ...(policy.defaultPurpose === undefined ? {} : { defaultPurpose: policy.defaultPurpose }),
    purposes,
    ...(Object.keys(customPurposes).length > 0 ? { customPurposes } : {}),
    ...(Object.keys(customCategories).length > 0 ? { customCategories } : {}),
    ...(Object.keys(ageGates).length > 0 ? { ageGates } : {}),
    logs: {
      ip:
        ip.mode === 'truncate'
          ? { mode: 'truncate', ipv4Prefix: ip.ipv4Prefix, ipv6Prefix: ip.ipv6Prefix }
          : { mode: 'pseudonymize', ...(ip.keyId === undefined ? {} : { keyId: ip.keyId }), truncateFirst: ip.truncateFirst, ipv4Prefix: ip.ipv4Prefix, ipv6Prefix: ip.ipv6Prefix },
    },
    audit: { ...policy.audit },
    signals: { ...policy.signals },
    rights: { honoured: [...policy.rights.honoured] as NonNullable<PolicyInput['rights']>['honoured'], responseTime: policy.rights.responseTime, keepErasureRecord: policy.rights.keepErasureRecord },
  };
}

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
        ...setup,
        `// register the @purposekit/fastify plugin with { kit } and declare each route's purpose ('${firstPurpose}', …) as its README shows`,
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
      `Wrote ${rel(policyPath)} (the ${preset.id} preset as a starting point: edit the purposes, then check it loads with loadPolicy())`,
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
