/**
 * The record of processing of each preset is kept in docs/ropa/<preset>.md and reviewed
 * in the diff, with the routes its reference app declares: docs/ropa/<preset>.routes.json
 * is what `npm run routes -w apps/<app>` prints (the built app's route table), and the
 * record is `purposekit ropa <preset> --routes <that file>`. `npm run docs:ropa` builds and
 * regenerates both; this test fails when either is stale — also when an app's routes
 * change and the files were not regenerated.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cli } from './support';

const ROOT = join(__dirname, '..', '..', '..');
const DOCS = join(ROOT, 'docs', 'ropa');
const UPDATE = process.env['PURPOSEKIT_UPDATE_DOCS'] === '1';
const APPS: Array<[preset: string, app: string]> = [
  ['bitnami', 'bitnami-nest'],
  ['coreos', 'coreos-nest-fastify'],
  ['kubevirt', 'kubevirt-koa'],
  ['openinfra', 'openinfra-express'],
];

/** The app's route table as its `routes` script prints it, from its build (checked to be current). */
async function routesOf(app: string): Promise<string> {
  const dir = join(ROOT, 'apps', app);
  const script = join(dir, 'dist', 'routes.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\` first.`);
  // tsc -b rewrites .tsbuildinfo on every build that looked at the sources (it leaves an
  // unchanged .js alone), so that is the build's time.
  const info = join(dir, 'dist', '.tsbuildinfo');
  const built = existsSync(info) ? statSync(info).mtimeMs : 0;
  const newer = readdirSync(join(dir, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .filter((f) => statSync(join(dir, 'src', f)).mtimeMs > built);
  if (newer.length > 0) throw new Error(`apps/${app}/dist is older than src/${newer.join(', src/')}: run \`npm run build\` first.`);
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [script], { cwd: dir, timeout: 60_000 });
  expect(stderr).toBe('');
  return stdout;
}

describe.each(APPS)('docs/ropa/%s.md', (preset, app) => {
  it(`is what \`purposekit ropa ${preset} --routes\` prints with the route table of apps/${app}`, async () => {
    const routes = await routesOf(app);
    const table = JSON.parse(routes) as Array<{ purpose: string }>;
    expect(table.length).toBeGreaterThan(0);
    const routesFile = join(DOCS, `${preset}.routes.json`);
    const file = join(DOCS, `${preset}.md`);
    if (UPDATE) {
      mkdirSync(DOCS, { recursive: true });
      writeFileSync(routesFile, routes);
    }
    expect(existsSync(routesFile)).toBe(true);
    // The checked-in table is the app's current one.
    expect(routes).toBe(readFileSync(routesFile, 'utf8'));

    const ran = await cli(['ropa', preset, '--routes', `${preset}.routes.json`], DOCS);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toContain(`and the ${table.length} routes the application declared`);
    if (UPDATE) writeFileSync(file, ran.stdout);
    expect(existsSync(file)).toBe(true);
    expect(ran.stdout).toBe(readFileSync(file, 'utf8'));
  });
});
