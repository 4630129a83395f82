import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG, PurposekitError, errorResponse, isPurposekitError } from './errors';

const DOC = join(__dirname, '../../../docs/errors.md');

/** Renders docs/errors.md from the catalog (the single source of truth). */
function renderErrorsDoc(): string {
  const rows = Object.entries(ERROR_CATALOG).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} | ${e.doc.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error purposekit raises is a `PurposekitError` with a stable `code`. Branch on',
    '`error.code` (or check with `isPurposekitError(error)`), never on the message. Adapters',
    'answer with the status below and the body `{ "error": { "code": "…", "message": "…" } }`',
    '(an access deny adds `"reason"`). The message in the body is the neutral public message',
    'shown here; the `Error.message` in your logs may say more (never personal values).',
    '',
    'This file is generated from `packages/core/src/errors.ts` by `npm run docs:errors`;',
    'a test fails when the two differ.',
    '',
    '| code | HTTP status | public message | when and what to do |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

describe('error catalog', () => {
  it('docs/errors.md matches the catalog', () => {
    const expected = renderErrorsDoc();
    if (process.env['PURPOSEKIT_UPDATE_DOCS'] === '1') writeFileSync(DOC, expected);
    expect(readFileSync(DOC, 'utf8')).toBe(expected);
  });

  it.each(Object.entries(ERROR_CATALOG))('%s has a PURPOSEKIT_ERR_ code, an HTTP status and docs', (code, entry) => {
    expect(code).toMatch(/^PURPOSEKIT_ERR_[A-Z0-9_]+$/);
    expect(entry.status).toBeGreaterThanOrEqual(400);
    expect(entry.status).toBeLessThan(600);
    expect(entry.message.length).toBeGreaterThan(5);
    expect(entry.doc.length).toBeGreaterThan(20);
  });

  it('public messages never name an age threshold', () => {
    for (const entry of Object.values(ERROR_CATALOG)) expect(entry.message).not.toMatch(/\b1[0-9]\b/);
  });
});

describe('PurposekitError', () => {
  it('carries code, status, details and cause', () => {
    const cause = new Error('disk');
    const e = new PurposekitError('PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 'no write', { cause, details: { file: 'a' } });
    expect([e.code, e.status, e.message, e.details, e.cause]).toEqual(['PURPOSEKIT_ERR_AUDIT_UNAVAILABLE', 503, 'no write', { file: 'a' }, cause]);
    expect(Object.isFrozen(e.details)).toBe(true);
  });

  it('is recognised across duplicate installs by its Symbol.for brand, not instanceof', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('purposekit.error')]: true, code: 'PURPOSEKIT_ERR_INTERNAL' });
    expect(isPurposekitError(foreign)).toBe(true);
    expect(isPurposekitError(new Error('x'))).toBe(false);
    expect(isPurposekitError(null)).toBe(false);
    expect(isPurposekitError({ code: 'PURPOSEKIT_ERR_INTERNAL' })).toBe(false);
  });
});

describe('errorResponse', () => {
  it.each([
    ['a purposekit error keeps code and status, with the public message', new PurposekitError('PURPOSEKIT_ERR_DOB_FUTURE', 'dob 2099-01-01 is after today'), 400, { error: { code: 'PURPOSEKIT_ERR_DOB_FUTURE', message: 'The date of birth is in the future.' } }],
    ['an access deny adds its reason', new PurposekitError('PURPOSEKIT_ERR_ACCESS_DENIED', 'x', { details: { reason: 'gpc-opt-out' } }), 403, { error: { code: 'PURPOSEKIT_ERR_ACCESS_DENIED', message: ERROR_CATALOG.PURPOSEKIT_ERR_ACCESS_DENIED.message, reason: 'gpc-opt-out' } }],
    ['any other error becomes an opaque 500', new TypeError('secret stack 10.1.2.3'), 500, { error: { code: 'PURPOSEKIT_ERR_INTERNAL', message: 'Internal error.' } }],
  ])('%s', (_name, error, status, body) => {
    expect(errorResponse(error)).toEqual({ status, body });
  });
});
