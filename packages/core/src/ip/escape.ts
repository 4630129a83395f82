/**
 * Log-injection safety for values purposekit writes into logs.
 *
 * A value that ends up in a line-oriented log (morgan, a text format) must not be able to
 * start a new line, rewrite the terminal (ANSI escapes) or hide text. So every C0 control
 * character (U+0000–U+001F), DEL and the C1 controls (U+007F–U+009F, which Node's HTTP
 * parser lets through in header values as Latin-1 bytes), the Unicode line and paragraph
 * separators (U+2028, U+2029, which JSON leaves raw and some viewers break on) and the
 * bidirectional overrides (U+202A–U+202E, U+2066–U+2069, "Trojan Source") are written as
 * visible escapes: `\n`, `\r`, `\t`, otherwise `\uXXXX`.
 *
 * Backslashes are left as they are: the goal is that a value cannot forge log structure,
 * not a reversible encoding (a JSON logger adds its own escaping on top).
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_TEST = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/**
 * Escapes control characters (C0, DEL, C1), U+2028/U+2029 and bidi overrides in a value
 * written to a log, so it cannot forge lines or hide text. Returns the same string when
 * there is nothing to escape (the common case costs one regular-expression test).
 *
 * @example escapeLogValue('a\nb\u2028c') // 'a\\nb\\u2028c'
 */
export function escapeLogValue(value: string): string {
  const s = typeof value === 'string' ? value : String(value);
  return UNSAFE_TEST.test(s) ? s.replace(UNSAFE, escapeChar) : s;
}
