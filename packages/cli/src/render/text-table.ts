/** Plain-text tables for the terminal, and the shortening of long identifiers in them. */

/** Control characters (C0, DEL, C1) and bidi overrides: a hostile trail must not move the cursor or reorder text. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Makes one cell safe for a terminal: control characters become `\u{…}` text. */
export function cell(value: string): string {
  return value.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
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
