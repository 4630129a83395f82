/**
 * Deep scrubbing of a value about to be logged: every string in it goes through the IP
 * scrubber, copy-on-write (an object with nothing to change is returned as is, so the
 * common clean log call allocates nothing).
 *
 * What gets walked mirrors what a JSON logger prints: plain objects, arrays, class
 * instances (own enumerable properties), `toJSON()` results (Date, URL, Buffer…) and
 * errors (cloned with the same prototype, so `instanceof Error` and the type name survive,
 * message, stack, cause, `errors` and own fields scrubbed). Deeper than `maxDepth`, a
 * value becomes `"[Object]"` and a cycle `"[Circular]"` (pino prints the same markers):
 * anything not inspected is not written (fail closed). A property whose getter throws is
 * written as `INVALID_IP_TOKEN`, and so is a whole value that cannot be walked.
 */
import { INVALID_IP_TOKEN } from '../ip/truncate';

/**
 * A value → scrubbed value function (same reference when nothing changed). `depth` is the
 * nesting level of `value` itself: 0 for a whole log entry, 1 for one of its fields.
 */
export type ValueScrubber = (value: unknown, depth?: number) => unknown;

/** Default depth of nested values scrubbed (pino prints 5 levels by default). */
export const DEFAULT_MAX_DEPTH = 10;

const DEPTH_MARKER = '[Object]';
const CIRCULAR_MARKER = '[Circular]';

/** Builds a deep scrubber around a string scrubber. */
export function createValueScrubber(scrubText: (text: string) => string, maxDepth: number): ValueScrubber {
  const ancestors: object[] = [];

  function scrubError(err: Error, depth: number): Error {
    let changed = false;
    const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
    for (const key of Reflect.ownKeys(err)) {
      const desc = Object.getOwnPropertyDescriptor(err, key)!;
      if (!('value' in desc)) {
        // Node 24 (V8 12+) defines `stack` as an own accessor bound to the original error:
        // copied as is it would read nothing on the copy, and it was never scrubbed. Read it
        // through the original once and keep a scrubbed data property instead.
        let value: unknown;
        try {
          value = (err as unknown as Record<PropertyKey, unknown>)[key];
        } catch {
          value = undefined;
        }
        const next = scrub(value, depth + 1);
        if (next !== value) changed = true;
        Object.defineProperty(copy, key, { value: next, writable: true, enumerable: desc.enumerable ?? false, configurable: true });
        continue;
      }
      if ('value' in desc) {
        const next = scrub(desc.value, depth + 1);
        if (next !== desc.value) {
          changed = true;
          desc.value = next;
        }
      }
      Object.defineProperty(copy, key, desc);
    }
    return changed ? copy : err;
  }

  function scrubObject(obj: object, depth: number): unknown {
    const keys: PropertyKey[] = Object.keys(obj);
    const symbols = Object.getOwnPropertySymbols(obj);
    // Nothing to walk (pino-http's empty `query` / `params` on every request line): no closure, no copy.
    if (keys.length === 0 && symbols.length === 0) return obj;
    let copy: Record<PropertyKey, unknown> | undefined;
    const set = (key: PropertyKey, next: unknown): void => {
      if (copy === undefined) {
        copy = Object.create(Object.getPrototypeOf(obj) as object | null) as Record<PropertyKey, unknown>;
        // Own enumerable string AND symbol keys (winston keeps its level/splat/message under symbols).
        for (const k of Reflect.ownKeys(obj)) {
          if (!Object.prototype.propertyIsEnumerable.call(obj, k)) continue;
          try {
            copy[k] = (obj as Record<PropertyKey, unknown>)[k];
          } catch {
            copy[k] = INVALID_IP_TOKEN;
          }
        }
      }
      copy[key] = next;
    };
    for (const sym of symbols) if (Object.prototype.propertyIsEnumerable.call(obj, sym)) keys.push(sym);
    for (const key of keys) {
      let value: unknown;
      let next: unknown;
      try {
        value = (obj as Record<PropertyKey, unknown>)[key];
        next = scrub(value, depth + 1);
      } catch {
        next = INVALID_IP_TOKEN;
      }
      if (next !== value) set(key, next);
    }
    return copy ?? obj;
  }

  function scrub(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return scrubText(value);
    if (typeof value !== 'object' || value === null) return value;
    if (ancestors.includes(value)) return CIRCULAR_MARKER;
    if (depth > maxDepth) return DEPTH_MARKER;
    ancestors.push(value);
    try {
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const next = scrub(value[i], depth + 1);
          if (next !== value[i] && copy === undefined) copy = value.slice(0, i);
          if (copy !== undefined) copy.push(next);
        }
        return copy ?? value;
      }
      if (value instanceof Error) return scrubError(value, depth);
      if (ArrayBuffer.isView(value) && !Buffer.isBuffer(value)) return value; // numbers only
      if (value instanceof Map || value instanceof Set) return value; // JSON prints {}
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        const json: unknown = toJSON.call(value);
        const next = scrub(json, depth);
        return next === json ? value : next;
      }
      return scrubObject(value, depth);
    } finally {
      ancestors.pop();
    }
  }

  return function scrubValue(value: unknown, depth = 0): unknown {
    try {
      return scrub(value, depth);
    } catch {
      ancestors.length = 0;
      return INVALID_IP_TOKEN;
    }
  };
}
