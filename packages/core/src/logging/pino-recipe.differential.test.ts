/**
 * Differential property tests of the pino recipes' fast paths: what a logger built with
 * them writes is exactly what the slow path writes, line for line, over generated log
 * calls (merging objects, messages, format arguments, errors), generated requests and
 * generated privacy contexts, with addresses in every form a log meets (IPv4, IPv6,
 * IPv4-mapped, bracketed, with a port, inside words and URLs) and values with none.
 *
 * The slow path is the recipe as it was before the fast paths, assembled from the same
 * scrubbing primitives: a mixin that returns the raw privacy fields (so `formatters.log`
 * walks and scrubs every field of every line), `customProps` that returns `{}` instead of
 * nothing at the start of a request (pino-http then makes a second child logger) and, at
 * the end, the fields each scrubbed as the formatter scrubs a string field, and a
 * header rule that scrubs and escapes every value with a digit or a colon into a new
 * object. The fast paths: the mixin's fields scrubbed where they are made (each field's
 * last value cached) and `formatters.log` walking only the merging object's fields; no
 * child logger for nothing; headers scrubbed only when `plainValue` cannot prove them
 * unchanged, copied only when a value changes.
 */
import { escapeLogValue } from '../ip/escape';
import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import pino from 'pino';
import pinoHttp from 'pino-http';
import { begin, runInContext } from '../adapter';
import { ArraySink } from '../__tests__/array-sink';
import { getPrivacyContext } from '../context';
import { fcParams, fcTimeout, same } from '../ip/__tests__/fast-check-settings';
import { createIpRedactor } from '../ip/redact';
import { compileTrust } from '../ip/trust-match';
import { kubevirt } from '../presets';
import { createPurposekit } from '../purposekit';
import { resolveLogRedaction } from './options';
import type { ResolvedLogRedaction } from './options';
import { createPinoIpRedactionWith } from './pino';
import { createPinoHttpOptions, headerSet, privacyContextOf, redactHeaders, REDACTED } from './request-log';

jest.setTimeout(fcTimeout());

// Runs: each one logs several lines through two loggers; capped like the other
// properties that compare against a slow reference.
const PARAMS = fcParams(1_500);

// ── generated text ──────────────────────────────────────────────────────────────

const byte = fc.integer({ min: 0, max: 255 });
const v4 = fc.tuple(byte, byte, byte, byte).map((b) => b.join('.'));
const v6 = fc.ipV6();
const address = fc.oneof(
  v4,
  v6,
  v4.map((a) => `::ffff:${a}`), // IPv4-mapped
  v6.map((a) => `[${a}]`), // bracketed
  fc.tuple(v6, fc.integer({ min: 1, max: 65535 })).map(([a, p]) => `[${a}]:${p}`), // bracketed with a port
  fc.tuple(v4, fc.integer({ min: 1, max: 65535 })).map(([a, p]) => `${a}:${p}`), // with a port
  v4.map((a) => `http://${a}/path`),
  v6.map((a) => `${a}%eth0`), // zone id
);
/** Text with no address in it, but with what makes the scrubber look (digits, dots, colons). */
const noAddress = fc.constantFrom('ok', 'GET', '/x?page=2', 'purposekit-bench/1', '1.2.3', 'v1.2.3.4', '12:34:56.789', '2024-06-01T12:34:56Z', '00:1a:2b:3c:4d:5e', 'a:b', 'max-age=0', '', 'std::vector', '1.2.3.4.5', '\u2028', 'x\u0085y');
const filler = fc.constantFrom(' ', ', ', ' from ', '=', '"', '\n', '/', 'id:', '(', ')', ';');
const text = fc.array(fc.oneof({ weight: 2, arbitrary: noAddress }, { weight: 1, arbitrary: address }, { weight: 2, arbitrary: filler }), { maxLength: 6 }).map((parts) => parts.join(''));

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, fc.integer(), fc.boolean(), fc.constant(null), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.dictionary(fc.constantFrom('ip', 'msg', 'user', 'nested', 'list', 'purpose', 'requestId', 'err', 'hop', 'note'), tie('value'), { maxKeys: 4 }),
})).value;
const mergeObject = fc.dictionary(fc.constantFrom('ip', 'user', 'nested', 'hop', 'note', 'purpose', 'requestId', 'basis', 'policy'), value, { maxKeys: 4 });

/** One log call: (merging object?, message?, format arguments) or an error. */
const call = fc.oneof(
  fc.tuple(mergeObject, text).map(([o, m]) => [o, m] as unknown[]),
  text.map((m) => [m] as unknown[]),
  fc.tuple(text, text).map(([m, a]) => [`${m} %s`, a] as unknown[]),
  mergeObject.map((o) => [o] as unknown[]),
  fc.tuple(text, text).map(([m, a]) => [Object.assign(new Error(m), { address: a })] as unknown[]),
);

const headerValue = fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 3 }));
const headers = fc.dictionary(fc.constantFrom('host', 'x-forwarded-for', 'forwarded', 'referer', 'user-agent', 'accept', 'cookie', 'Authorization', 'via', 'x-real-ip', 'location', 'set-cookie'), headerValue, { maxKeys: 6 });

// ── engine and contexts ─────────────────────────────────────────────────────────

let nextRequestId = 'r-1';
const kit = createPurposekit({ policy: kubevirt, audit: new ArraySink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) }, requestId: () => nextRequestId });
const trust = compileTrust('loopback');
/** A request's context: its id (which may hold an address: the id function is the application's) and client. */
const contextFacts = fc.record({ requestId: fc.oneof(fc.constant('8f14e45f-ceea-467f-a0e6-3b4f1d2c5a77'), text), client: fc.oneof(v4, v6, fc.constant('garbage')) });

function inContext<T>(facts: { requestId: string; client: string } | null, fn: () => T): T {
  if (facts === null) return fn();
  nextRequestId = facts.requestId;
  const ctx = begin(kit, { headers: { 'x-forwarded-for': facts.client }, remoteAddress: '127.0.0.1', trust });
  return runInContext(kit, ctx, fn);
}

// ── the slow path ───────────────────────────────────────────────────────────────

/** The header rule as it was: every value with a digit or a colon scrubbed and escaped, into a new object. */
function slowRedactHeaders(headers: unknown, secret: ReadonlySet<string>, r: ResolvedLogRedaction): unknown {
  if (typeof headers !== 'object' || headers === null) return headers;
  const holds = (s: string): boolean => /[0-9:]/.test(s);
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(headers)) {
    const v = (headers as Record<string, unknown>)[name];
    const lower = name.toLowerCase();
    if (secret.has(lower)) out[name] = REDACTED;
    else if (lower === 'host' || lower === ':authority') out[name] = typeof v === 'string' ? escapeLogValue(v) : v;
    else if (typeof v === 'string') out[name] = holds(v) ? r.scrubAndEscape(v) : escapeLogValue(v);
    else if (Array.isArray(v)) out[name] = v.map((x) => (typeof x === 'string' ? (holds(x) ? r.scrubAndEscape(x) : escapeLogValue(x)) : r.scrubValue(x, 2)));
    else out[name] = r.scrubValue(v, 2);
  }
  return out;
}

const redactor = createIpRedactor(kubevirt.logs.ip);

/** The pino-http options of the slow path. */
function slowOptions() {
  const { resolved: r } = resolveLogRedaction({ redactor }, 'test');
  const secret = headerSet(undefined, 'test');
  const ip = createPinoIpRedactionWith({ redactor }, { headerRule: (h) => slowRedactHeaders(h, secret, r) });
  const fast = createPinoHttpOptions(kit);
  return {
    genReqId: fast.genReqId,
    customAttributeKeys: fast.customAttributeKeys,
    customProps(req: any, res: any): Record<string, unknown> {
      if (res?.writableEnded !== true && res?.headersSent !== true) return {};
      const ctx = privacyContextOf(req);
      if (ctx === undefined || getPrivacyContext() === ctx) return {};
      // Bound to a child logger, never seen by formatters.log: scrubbed as the formatter
      // scrubs a line's string fields (before this change they were not scrubbed at all).
      const fields: Record<string, unknown> = { ...ctx.logFields() };
      for (const k of Object.keys(fields)) if (typeof fields[k] === 'string') fields[k] = r.scrubText(fields[k] as string);
      return fields;
    },
    mixin(m: object): object {
      const ctx = getPrivacyContext();
      if (ctx === undefined || 'purpose' in m) return {};
      return ctx.logFields();
    },
    serializers: ip.serializers,
    formatters: ip.formatters,
    hooks: ip.hooks,
  };
}

function sinkLogger(o: { serializers: any; formatters: any; hooks: any; mixin: any }) {
  const lines: string[] = [];
  const logger = pino({ base: undefined, timestamp: false, serializers: o.serializers, formatters: o.formatters, hooks: o.hooks, mixin: o.mixin }, { write: (s: string) => void lines.push(s) });
  return { logger, lines };
}

// ── the properties ──────────────────────────────────────────────────────────────

describe('pino recipe fast paths write what the slow path writes', () => {
  test('pino with the recipe\'s mixin, formatter and hook: every line equal, in and out of requests, one logger for several', () => {
    const request = fc.tuple(fc.option(contextFacts, { nil: null }), fc.array(call, { minLength: 1, maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), (requests) => {
        const fast = sinkLogger(createPinoHttpOptions(kit));
        const slow = sinkLogger(slowOptions());
        for (const [facts, calls] of requests) {
          inContext(facts, () => {
            for (const args of calls) {
              (fast.logger.info as (...a: unknown[]) => void)(...args);
              (slow.logger.info as (...a: unknown[]) => void)(...args);
            }
          });
        }
        same(fast.lines.length, slow.lines.length, 'line count');
        for (let i = 0; i < fast.lines.length; i++) same(fast.lines[i], slow.lines[i], `line ${i}`);
      }),
      PARAMS,
    );
  });

  test('the merging object is never mutated by the fast path', () => {
    fc.assert(
      fc.property(contextFacts, mergeObject, text, (facts, o, m) => {
        const before = JSON.stringify(o);
        const fast = sinkLogger(createPinoHttpOptions(kit));
        inContext(facts, () => fast.logger.info(o, m));
        same(JSON.stringify(o), before, 'merging object');
      }),
      PARAMS,
    );
  });

  /** A request and response as pino-http sees them (Express's fields), with generated headers and URL. */
  class Res extends EventEmitter {
    statusCode = 200;
    headersSent = false;
    writableEnded = false;
    socket = {};
    constructor(private readonly h: Record<string, unknown>) {
      super();
    }
    setHeader(): void {}
    getHeaders(): Record<string, unknown> {
      return { ...this.h };
    }
  }

  test('pino-http: the request, the lines inside it and the completion line equal, whether the response ends inside the request\'s context or not', () => {
    fc.assert(
      fc.property(
        contextFacts,
        headers,
        headers,
        text,
        fc.array(call, { maxLength: 2 }),
        fc.boolean(),
        (facts, reqHeaders, resHeaders, url, calls, finishInside) => {
          const run = (options: any): string[] => {
            const lines: string[] = [];
            const { serializers, formatters, hooks, mixin, ...http } = options;
            const logger = pino({ base: undefined, timestamp: false, serializers, formatters, hooks, mixin }, { write: (s: string) => void lines.push(s) });
            const mw = pinoHttp({ ...http, logger, serializers });
            const req: any = { method: 'GET', url: `/${url}`, originalUrl: `/${url}`, headers: reqHeaders, socket: { remoteAddress: '127.0.0.1', remotePort: 5000 }, query: {}, params: {} };
            const res = new Res(resHeaders);
            const finish = (): void => {
              res.headersSent = true;
              res.writableEnded = true;
              res.emit('finish');
            };
            inContext(facts, () => {
              req.privacy = getPrivacyContext();
              mw(req, res as any, () => {
                for (const args of calls) (req.log.info as (...a: unknown[]) => void)(...args);
              });
              if (finishInside) finish();
            });
            if (!finishInside) finish();
            return lines.map((l) => l.replace(/"responseTime":\d+/, '"responseTime":0'));
          };
          const fast = run(createPinoHttpOptions(kit));
          const slow = run(slowOptions());
          same(fast.length, slow.length, 'line count');
          for (let i = 0; i < fast.length; i++) same(fast[i], slow[i], `line ${i}`);
        },
      ),
      PARAMS,
    );
  });

  test('redactHeaders: the same headers as the slow rule, and the input object back when nothing changes', () => {
    const { resolved: r } = resolveLogRedaction({}, 'test');
    const secret = headerSet(undefined, 'test');
    fc.assert(
      fc.property(headers, (h) => {
        const out = redactHeaders(h, secret, r);
        same(JSON.stringify(out), JSON.stringify(slowRedactHeaders(h, secret, r)), 'headers');
        if (JSON.stringify(out) === JSON.stringify(h)) same(out, h, 'same object when nothing changes');
      }),
      fcParams(),
    );
  });
});

describe('request serializer fast paths write what the general loop writes', () => {
  /** The serializer as it was: the request's fields (pino's standard ones from a raw message), then one loop over every own field. */
  function slowSerializeRequest(req: any, r: ResolvedLogRedaction, headerRule: (h: unknown) => unknown): unknown {
    const isMsg = (v: any): boolean => typeof v === 'object' && v !== null && 'socket' in v && ('headers' in v || 'setHeader' in v);
    const fromRaw = (m: any, id: unknown): Record<string, unknown> => ({
      id: typeof id === 'function' ? undefined : id,
      method: m.method,
      url: m.originalUrl ?? m.url,
      headers: m.headers,
      remoteAddress: m.socket?.remoteAddress,
      remotePort: m.socket?.remotePort,
    });
    let src: Record<string, unknown> = req;
    if (isMsg(req)) {
      const raw = 'raw' in req ? req.raw : undefined;
      src = isMsg(raw) ? fromRaw(raw, req.id) : 'raw' in req ? req : fromRaw(req, req.id);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(src)) {
      const v = src[key];
      if (key === 'remoteAddress') out[key] = r.redactAddress(v);
      else if (key === 'headers') out[key] = headerRule(v);
      else if (typeof v === 'string') out[key] = r.scrubAndEscape(v);
      else out[key] = typeof v === 'number' || v === undefined ? v : r.scrubValue(v, 1);
    }
    return out;
  }

  const rawRequest = fc.record(
    {
      method: fc.constantFrom('GET', 'POST'),
      url: text.map((t) => `/${t}`),
      originalUrl: text.map((t) => `/${t}`),
      headers,
      socket: fc.record({ remoteAddress: fc.oneof(v4, v6, fc.constant(undefined)), remotePort: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constant(undefined)) }),
      id: fc.oneof(text, fc.integer(), fc.constant(undefined)),
      query: fc.oneof(fc.constant(undefined), fc.constant({}), fc.constant(null).map(() => Object.create(null) as object), fc.constant([]), fc.constant(new Date(0)), mergeObject),
      params: fc.oneof(fc.constant(undefined), fc.constant({}), mergeObject),
    },
    { requiredKeys: ['method', 'url', 'headers', 'socket'] },
  );
  /** What the serializer is handed: the raw message, a framework wrapper around it, pino's standard object, or that object changed by a caller. */
  const handed = fc.tuple(rawRequest, fc.constantFrom('raw', 'wrapper', 'std', 'std+extra', 'std-reordered', 'plain')).map(([raw, how]) => {
    switch (how) {
      case 'raw':
        return raw;
      case 'wrapper':
        return { id: raw.id, raw, get socket() { return raw.socket; }, get headers() { return raw.headers; } };
      case 'std':
        return pino.stdSerializers.req(raw as never);
      case 'std+extra':
        return Object.assign(pino.stdSerializers.req(raw as never), { extra: `${String(raw.url)} 192.0.2.1` });
      case 'std-reordered': {
        const s: any = pino.stdSerializers.req(raw as never);
        const id = s.id;
        delete s.id;
        s.id = id;
        return s;
      }
      default: {
        const { socket, ...rest } = raw;
        return { ...rest, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort };
      }
    }
  });

  test.each([
    ['createPinoIpRedaction', 'ip'],
    ['createPinoHttpOptions', 'options'],
  ])('%s: the same JSON, field for field and in order', (_name, which) => {
    const { resolved: r } = resolveLogRedaction({ redactor }, 'test');
    const secret = headerSet(undefined, 'test');
    const fast = which === 'ip' ? createPinoIpRedactionWith({ redactor }).serializers.req : createPinoHttpOptions(kit).serializers.req;
    const rule = which === 'ip' ? (h: unknown) => createPinoIpRedactionWith({ redactor }).serializers.req({ headers: h }) : (h: unknown) => redactHeaders(h, secret, r);
    // createPinoIpRedaction's own header rule, reached through its general loop (a plain object with only headers).
    const headerRule = which === 'ip' ? (h: unknown) => (rule(h) as { headers: unknown }).headers : rule;
    fc.assert(
      fc.property(handed, (req) => {
        same(JSON.stringify(fast(req)), JSON.stringify(slowSerializeRequest(req, r, headerRule)), 'serialized request');
      }),
      fcParams(5_000),
    );
  });
});
