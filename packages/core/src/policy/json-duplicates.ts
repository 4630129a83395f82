/**
 * Duplicate member names in JSON text. `JSON.parse` keeps the last of two equal names
 * without a word (RFC 8259 §4 only says names SHOULD be unique), so a policy file with
 * `"basis"` twice would silently mean whichever came last. The YAML parser already
 * refuses duplicates; this gives JSON policies the same rule.
 */

/** Where a duplicate member name sits: its path (`purposes.analytics.basis`) and 1-based line. */
export interface JsonDuplicate {
  readonly path: string;
  readonly line: number;
}

const IDENT = /^[A-Za-z_][\w-]*$/;

/** The path notation of policy errors: `a.b` for identifier-like names, `a["x y"]` / `[""]` otherwise. */
export function pathJoin(path: string, key: string): string {
  if (!IDENT.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

interface Frame {
  readonly path: string;
  /** Member names seen so far (an object), or undefined (an array). */
  readonly names: Set<string> | undefined;
  index: number;
  /** The name of the member whose value comes next (objects only). */
  pending: string | undefined;
}

/**
 * The first duplicate member name in `text`, or undefined. `text` must already be valid
 * JSON (call after `JSON.parse` succeeded): this is a scanner, not a validator. Names are
 * compared after unescaping (`"a"` and `"\u0061"` are the same name). Linear time.
 */
export function findDuplicateJsonKey(text: string): JsonDuplicate | undefined {
  const stack: Frame[] = [];
  let line = 1;
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    if (top.names === undefined) return `${top.path}[${top.index}]`;
    return pathJoin(top.path, top.pending ?? '');
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case 10: // \n
        line++;
        break;
      case 123: // {
        stack.push({ path: childPath(), names: new Set(), index: 0, pending: undefined });
        break;
      case 91: // [
        stack.push({ path: childPath(), names: undefined, index: 0, pending: undefined });
        break;
      case 125: // }
      case 93: // ]
        stack.pop();
        break;
      case 44: {
        // , : the next array element
        const top = stack[stack.length - 1];
        if (top !== undefined && top.names === undefined) top.index++;
        break;
      }
      case 34: {
        // " : a string; a member name when the next non-space character is `:`
        let j = i + 1;
        while (text.charCodeAt(j) !== 34) j += text.charCodeAt(j) === 92 ? 2 : 1;
        let k = j + 1;
        while (k < text.length && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9 || text.charCodeAt(k) === 10 || text.charCodeAt(k) === 13)) k++;
        const top = stack[stack.length - 1];
        if (text.charCodeAt(k) === 58 && top?.names !== undefined) {
          const name = JSON.parse(text.slice(i, j + 1)) as string;
          top.pending = name;
          if (top.names.has(name)) return { path: pathJoin(top.path, name), line };
          top.names.add(name);
        }
        i = j; // strings never contain a raw newline in valid JSON
        break;
      }
      default:
        break;
    }
  }
  return undefined;
}
