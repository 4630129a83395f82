/** Where `audit verify` reads anchored heads from: anchor files, or PostgreSQL anchor tables. */
import { createFileAuditAnchor } from '@purposekit/core';
import type { AuditAnchor } from '@purposekit/core';
import { createPostgresAnchor } from '@purposekit/postgres';
import type { PostgresAnchor } from '@purposekit/postgres';
import type { CliIo } from './io';
import { absolute } from './paths';
import { readText } from './read-text';

/** A PostgreSQL URL given where an anchor is expected (`--anchors`). */
export function isPgUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/**
 * The anchors of `audit verify`: each `--anchors` value is an anchor file or a PostgreSQL
 * URL (its `audit_anchors` table, in `--anchors-schema`, else `--schema`, else
 * `purposekit`); `--anchors-pg <url>` is the older spelling of the latter.
 */
export async function openAnchors(io: CliIo, flags: { anchors?: string[]; anchorsPg?: string; schema?: string; anchorsSchema?: string }): Promise<{ anchors: AuditAnchor[]; close: () => Promise<void> }> {
  const anchors: AuditAnchor[] = [];
  const pgAnchors: PostgresAnchor[] = [];
  const close = async (): Promise<void> => {
    for (const a of pgAnchors) await a.close();
  };
  const values = [...(flags.anchors ?? []), ...(flags.anchorsPg === undefined ? [] : [flags.anchorsPg])];
  const schema = flags.anchorsSchema ?? flags.schema;
  try {
    for (const [i, value] of values.entries()) {
      if (isPgUrl(value)) {
        const a = await createPostgresAnchor({ connectionString: value, ...(schema === undefined ? {} : { schema }) });
        pgAnchors.push(a);
        anchors.push(a);
      } else {
        await readText(absolute(io, value)); // a mistyped path must not read as "no anchored heads"
        anchors.push(createFileAuditAnchor({ path: absolute(io, value), name: `file-${i + 1}` }));
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { anchors, close };
}
