import { validateOptions } from './options';
import type { OptionsSpec } from './options';

const SPEC: OptionsSpec = {
  path: { kind: 'non-empty-string', required: true, expected: 'a file path' },
  onWarning: 'function',
  retries: 'integer',
  secret: { kind: 'string', secret: true, check: (v) => typeof v === 'string' && v.length >= 8, expected: 'at least 8 characters' },
  anything: null,
};
const run = (options: unknown, settings = {}) => () => validateOptions('createThing()', options, SPEC, settings);
const failure = (fn: () => unknown): { message: string; details: unknown } => {
  try {
    fn();
  } catch (e) {
    const err = e as { code: string; message: string; details: unknown };
    expect(err.code).toBe('PURPOSEKIT_ERR_INVALID_OPTION');
    return { message: err.message, details: err.details };
  }
  throw new Error('expected a throw');
};

describe('validateOptions', () => {
  it('returns a frozen copy of what was given, nothing added', () => {
    const given = { path: '/tmp/x', retries: 3 };
    const out = validateOptions<{ path: string; retries?: number }>('createThing()', given, SPEC);
    expect(out).toEqual(given);
    expect(out).not.toBe(given);
    expect(Object.isFrozen(out)).toBe(true);
    expect(Object.keys(out)).toEqual(['path', 'retries']);
  });

  it('names an unknown key with a hint and the known keys', () => {
    const f = failure(run({ path: 'x', onWarnings: () => undefined }));
    expect(f.message).toBe('createThing(): unknown option "onWarnings". Did you mean "onWarning"? Known options: path, onWarning, retries, secret, anything.');
    expect(f.details).toEqual({ factory: 'createThing()', option: 'onWarnings', suggestion: 'onWarning' });
  });

  it.each([
    ['a missing required option', {}, 'createThing(): "path" is required: a file path.'],
    ['a wrong kind', { path: '' }, 'createThing(): "path" must be a file path, got "".'],
    ['a function expected', { path: 'x', onWarning: 'log' }, 'createThing(): "onWarning" must be a function, got "log".'],
    ['a whole number expected', { path: 'x', retries: 1.5 }, 'createThing(): "retries" must be a whole number, got 1.5.'],
  ])('rejects %s', (_n, options, message) => {
    expect(failure(run(options)).message).toBe(message);
  });

  it('never shows a secret value', () => {
    const f = failure(run({ path: 'x', secret: 'hunter2' }));
    expect(f.message).toBe('createThing(): "secret" must be at least 8 characters, got a string.');
    expect(f.message).not.toContain('hunter2');
  });

  it('accepts any value for a null rule, and undefined for an optional one', () => {
    expect(run({ path: 'x', anything: Symbol('s'), onWarning: undefined })()).toMatchObject({ path: 'x' });
  });

  it.each([null, 'x', 42, [1]])('rejects options that are not an object (%p)', (options) => {
    expect(failure(run(options, { usage: '{ path }' })).message).toMatch(/^createThing\(\): options must be an object \{ path \}, got /);
  });

  it('undefined options count as {} unless the factory requires an object', () => {
    expect(failure(run(undefined)).message).toBe('createThing(): "path" is required: a file path.');
    expect(failure(run(undefined, { optional: false })).message).toBe('createThing(): options must be an object, got undefined.');
    expect(validateOptions('f()', undefined, { a: 'string' })).toEqual({});
  });

  it('ignores keys inherited from the prototype of the spec', () => {
    expect(failure(run({ path: 'x', constructor: 1 })).message).toContain('unknown option "constructor"');
  });
});
