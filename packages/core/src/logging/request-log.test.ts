import { createPurposekit } from '../purposekit';
import { kubevirt } from '../presets';
import { ArraySink } from '../__tests__/array-sink';
import { createPinoHttpOptions, redactHeaders, headerSet } from './request-log';
import { resolveLogRedaction } from './options';
import { createWinstonIpFormat } from './winston';
import { registerMorganIpTokens } from './morgan';
import { begin, runInContext } from '../adapter';

const kit = createPurposekit({ policy: kubevirt, audit: new ArraySink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) } });

describe('createPinoHttpOptions options', () => {
  it.each([
    [{ redactHeaders: 'cookie' }, '"redactHeaders" must be a list of header names'],
    [{ redactHeaders: ['bad header'] }, '"redactHeaders" must be a list of header names'],
    [{ skip: ['healthz'] }, 'a path starting with "/"'],
    [{ redactHeader: [] }, 'Did you mean "redactHeaders"'],
  ])('rejects %p at start-up', (options, text) => {
    expect(() => createPinoHttpOptions(kit, options as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining(text) }));
  });

  it('rejects something that is not the engine', () => {
    expect(() => createPinoHttpOptions({} as never)).toThrow(expect.objectContaining({ message: expect.stringContaining('takes the engine') }));
  });

  it('asks for a redactor when the policy pseudonymises addresses (the keys are the engine\'s)', () => {
    const policy = { ...kubevirt, logs: { ip: { mode: 'pseudonymize' } } };
    const pk = createPurposekit({ policy: policy as never, audit: new ArraySink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) }, ipKeys: { id: 'ip', secret: 'z'.repeat(32) } });
    expect(() => createPinoHttpOptions(pk)).toThrow(expect.objectContaining({ message: expect.stringContaining('pass "redactor"') }));
    expect(() => createPinoHttpOptions(pk, { redactor: () => 'ip-pseudonym' })).not.toThrow();
  });

  it('customProps stays out of the request-start call (the purpose is not declared yet) and ignore follows skip', () => {
    const o = createPinoHttpOptions(kit, { skip: [/^\/metrics/] });
    // undefined, not {}: pino-http makes a child logger for any object it is given.
    expect(o.customProps({}, { writableEnded: false, headersSent: false })).toBeUndefined();
    expect(o.autoLogging!.ignore({ method: 'GET', url: '/metrics?x' })).toBe(true);
    expect(o.autoLogging!.ignore({ method: 'GET', url: '/status' })).toBe(false);
    expect(createPinoHttpOptions(kit).autoLogging).toBeUndefined();
  });
});

describe('createPinoHttpOptions: the completion line outside the request\'s context', () => {
  it('binds the privacy fields scrubbed (pino-http binds them to a child logger, which formatters.log never sees)', () => {
    const pk = createPurposekit({ policy: kubevirt, audit: new ArraySink(), subjectKey: { id: 'k', secret: 'x'.repeat(32) }, requestId: () => 'req-for-203.0.113.9' });
    const o = createPinoHttpOptions(pk);
    const ctx = begin(pk, { headers: {}, remoteAddress: '198.51.100.7' });
    const fields = o.customProps({ privacy: ctx }, { writableEnded: true, headersSent: true }) as Record<string, unknown>;
    expect(fields).toMatchObject({ requestId: 'req-for-203.0.113.0', ip: '198.51.100.0', purpose: 'service.provision' });
    // Inside the context the mixin adds them instead: nothing to bind.
    expect(runInContext(pk, ctx, () => o.customProps({ privacy: ctx }, { writableEnded: true, headersSent: true }))).toBeUndefined();
  });
});

describe('redactHeaders', () => {
  const { resolved } = resolveLogRedaction({}, 'test');
  it.each([
    [{ Authorization: 'Bearer x', host: '192.0.2.10:443', 'x-real-ip': '203.0.113.9', accept: 'text/html' }, { Authorization: '[Redacted]', host: '192.0.2.10:443', 'x-real-ip': '203.0.113.0', accept: 'text/html' }],
    [{ 'set-cookie': ['a=1', 'pk_age_lock=zzz'], via: ['1.1 198.51.100.7'] }, { 'set-cookie': '[Redacted]', via: ['1.1 198.51.100.0'] }],
  ])('%p → %p', (input, expected) => {
    expect(redactHeaders(input, headerSet(undefined, 'test'), resolved)).toEqual(expected);
  });
  it('an empty list turns redaction off', () => {
    expect(redactHeaders({ cookie: 'a=1' }, headerSet([], 'test'), resolved)).toEqual({ cookie: 'a=1' });
  });
  it('escapes control characters in values that cannot hold an address, and in Host (not scrubbed: the server\'s own name)', () => {
    const out = redactHeaders({ 'user-agent': 'bot\u0085evil\u202e', host: 'example.org\r\nx: y', accept: 'text/html' }, headerSet(undefined, 'test'), resolved) as Record<string, string>;
    expect(out).toEqual({ 'user-agent': 'bot\\u0085evil\\u202e', host: 'example.org\\r\\nx: y', accept: 'text/html' });
  });
});

describe('winston and morgan options', () => {
  it('reject a bad redactHeaders or privacyFields', () => {
    expect(() => createWinstonIpFormat({ redactHeaders: 'cookie' } as never)).toThrow('"redactHeaders" must be a list');
    expect(() => createWinstonIpFormat({ privacyFields: 'yes' } as never)).toThrow('privacyFields');
    const fakeMorgan = { token: () => undefined };
    expect(() => registerMorganIpTokens(fakeMorgan, { redactHeaders: [1] } as never)).toThrow('"redactHeaders" must be a list');
  });

  it('winston: privacy fields only inside a context, and never over an entry\'s own purpose', () => {
    const format = createWinstonIpFormat();
    expect(format.transform({ level: 'info', message: 'm' })).toEqual({ level: 'info', message: 'm' });
    const ctx = begin(kit, { headers: {}, remoteAddress: '203.0.113.9' });
    runInContext(kit, ctx, () => {
      expect(format.transform({ level: 'info', message: 'm' })).toMatchObject({ requestId: ctx.requestId, purpose: 'service.provision', ip: '203.0.113.0' });
      expect(format.transform({ level: 'info', message: 'm', purpose: 'mine' })).toEqual({ level: 'info', message: 'm', purpose: 'mine' });
    });
  });

  it('winston: the Host header keeps its address (the server\'s) but is escaped like every header', () => {
    const format = createWinstonIpFormat();
    const out = format.transform({ level: 'info', message: 'm', req: { headers: { host: '192.0.2.10:8443\r\nforged: 1', 'x-real-ip': '203.0.113.9' } } }) as { req: { headers: Record<string, string> } };
    expect(out.req.headers).toEqual({ host: '192.0.2.10:8443\\r\\nforged: 1', 'x-real-ip': '203.0.113.0' });
  });
});
