/** `purposekit ropa <policy> [--routes <routes.json>] [--format md|json|html] [--output <file>]` */
import { PurposekitError } from '@purposekit/core';
import type { RouteDescription } from '@purposekit/core';
import { writeOut } from '../io';
import type { CliIo } from '../io';
import { writeNewFile } from '../output-file';
import { absolute } from '../paths';
import { policyFrom } from '../policy/policy-source';
import { buildRopa, parseRoutes } from '../ropa/build-ropa';
import { ropaHtml } from '../ropa/render-ropa-html';
import { ropaMarkdown } from '../ropa/render-ropa-md';
import { readText } from './audit-verify';

export interface RopaFlags {
  routes?: string;
  format?: string;
  output?: string;
}

/** Prints (or writes) the record of processing activities. Exit 0. */
export async function ropa(io: CliIo, arg: string, flags: RopaFlags): Promise<number> {
  const format = flags.format ?? 'md';
  if (!['md', 'json', 'html'].includes(format)) {
    throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `ropa: --format must be md, json or html; got ${JSON.stringify(format)}.`, { details: { option: 'format' } });
  }
  const { policy } = policyFrom(io, arg);
  let routes: RouteDescription[] | undefined;
  if (flags.routes !== undefined) {
    const file = absolute(io, flags.routes);
    const text = await readText(file);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (cause) {
      throw new PurposekitError('PURPOSEKIT_ERR_INVALID_OPTION', `ropa: ${flags.routes} is not JSON (${cause instanceof Error ? cause.message : 'parse error'}).`, { cause, details: { option: 'routes' } });
    }
    routes = parseRoutes(data, `ropa --routes ${flags.routes}`);
  }
  const record = buildRopa(policy, routes);
  const text = format === 'json' ? `${JSON.stringify(record, null, 2)}\n` : format === 'html' ? ropaHtml(record) : ropaMarkdown(record);
  if (flags.output === undefined) await writeOut(io.stdout, text);
  else await writeOut(io.stdout, `Wrote ${await writeNewFile(io, flags.output, text)}\n`);
  return 0;
}
