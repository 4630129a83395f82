/**
 * Text from a trail (field values, key ids, file names) is hostile input on a terminal:
 * an ANSI escape can erase a line, a CR can overwrite "FAILED" with "OK", a bidi override
 * can reorder what is shown. Every such character is written as a visible escape.
 */

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), line/paragraph separators,
// bidi embeddings, overrides and isolates, BOM and the other zero-width format characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `text` with every control or format character escaped as `\uXXXX` (and `\` as `\\` when it starts such a sequence). */
export function terminalSafe(text: string): string {
  return text.replace(/\\u/g, '\\\\u').replace(UNSAFE, escapeChar);
}

// What JSON.stringify leaves raw inside strings: DEL, C1 and format characters (it escapes C0 itself).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

/** JSON.stringify output made safe for a terminal: the characters it leaves raw are escaped (still valid, equal JSON). */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, escapeChar);
}
