/** Plain-text tables for the terminal, and the shortening of long identifiers in them. */
import { terminalSafe } from '../safe-text';

/** Makes one cell safe for a terminal: control and format characters become `\\uXXXX` text (one rule for every command: safe-text). */
export function cell(value: string): string {
  return terminalSafe(value);
}

const PSEUDONYM = /^hmac-sha256:([^:]{1,64}):([0-9a-f]{64})$/;

/**
 * Shortens a subject pseudonym for a table: `hmac-sha256:<keyId>:<64 hex>` becomes
 * `<keyId>:<first 10 hex>…` (enough to tell subjects apart on a page; `--json` keeps the
 * whole value). Other values longer than `max` are cut with `…`.
 */
export function shortId(value: string, max = 28): string {
  const m = PSEUDONYM.exec(value);
  if (m !== null) return `${m[1]!.length > 12 ? `${m[1]!.slice(0, 12)}…` : m[1]}:${m[2]!.slice(0, 10)}…`;
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

/** Renders rows under a header with a dashed rule; columns padded to their widest cell. */
export function textTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>, align: ReadonlyArray<'left' | 'right'> = []): string {
  const safe = rows.map((r) => r.map(cell));
  const widths = head.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...safe.map(line)].join('\n');
}
