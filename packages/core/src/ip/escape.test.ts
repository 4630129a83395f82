import fc from 'fast-check';
import { escapeLogValue } from './escape';
import { fcParams, holds } from './__tests__/fast-check-settings';

describe('escapeLogValue', () => {
  test.each([
    ['plain text', 'plain text'],
    ['a\nb', 'a\\nb'],
    ['a\r\nb', 'a\\r\\nb'],
    ['tab\there', 'tab\\there'],
    ['nul\u0000', 'nul\\u0000'],
    ['ansi \u001b[31mred', 'ansi \\u001b[31mred'],
    ['del\u007f', 'del\\u007f'],
    ['c1 \u0085 next line', 'c1 \\u0085 next line'],
    ['c1 \u009b csi', 'c1 \\u009b csi'],
    ['line\u2028sep', 'line\\u2028sep'],
    ['para\u2029sep', 'para\\u2029sep'],
    ['bidi \u202egnp.exe', 'bidi \\u202egnp.exe'],
    ['isolate \u2066x\u2069', 'isolate \\u2066x\\u2069'],
    ['kept: é ü 中文 \u00a0 \\ "', 'kept: é ü 中文 \u00a0 \\ "'],
  ])('%j → %j', (input, expected) => {
    expect(escapeLogValue(input)).toBe(expected);
  });

  test('returns the same string when nothing needs escaping', () => {
    const s = 'GET /index.html 200';
    expect(escapeLogValue(s)).toBe(s);
  });

  test('no output ever holds a line break, control character or separator (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        // eslint-disable-next-line no-control-regex
        holds(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(escapeLogValue(s)), 'no unsafe character left');
      }),
      fcParams(),
    );
  });
});
