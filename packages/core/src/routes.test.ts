import { openinfra } from './presets';
import { createPurposekit } from './purposekit';
import { declarePurpose } from './adapter';
import { ArraySink } from './__tests__/array-sink';

const kit = () => createPurposekit({ policy: openinfra, audit: new ArraySink(), subjectKey: { id: 'k1', secret: 'r'.repeat(32) } });

describe('declarePurpose (adapter entry) with a route label, kit.describeRoutes()', () => {
  it('lists the labelled declarations once each, sorted by path, with their categories merged', () => {
    const k = kit();
    declarePurpose(k, 'marketing.email', { method: 'POST', path: '/newsletter', data: ['email', 'name'] });
    declarePurpose(k, 'service.registration', { method: 'POST', path: '/members', data: ['name', 'email'] });
    declarePurpose(k, 'marketing.email', { method: 'POST', path: '/newsletter', data: ['email', 'location'] });
    declarePurpose(k, 'diagnostics'); // no label: not a route the engine can describe
    declarePurpose(k, 'diagnostics', { method: 'GET', path: '/status' });
    expect(k.describeRoutes()).toEqual([
      { method: 'POST', path: '/members', purpose: 'service.registration', categories: ['email', 'name'] },
      { method: 'POST', path: '/newsletter', purpose: 'marketing.email', categories: ['email', 'location', 'name'] },
      { method: 'GET', path: '/status', purpose: 'diagnostics', categories: [] },
    ]);
    expect(Object.isFrozen(k.describeRoutes()[0])).toBe(true);
  });

  it.each([
    ['a lower-case method', { method: 'get', path: '/x' }],
    ['a relative path', { method: 'GET', path: 'x' }],
    ['a control character in the path', { method: 'GET', path: '/x\u001b[2J' }],
    ['a category that is not an id', { method: 'GET', path: '/x', data: ['Email Address'] }],
    ['not an object', 'GET /x'],
  ])('rejects %s with PURPOSEKIT_ERR_INVALID_OPTION and records nothing', (_name, label) => {
    const k = kit();
    expect(() => declarePurpose(k, 'diagnostics', label as never)).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION' }));
    expect(k.describeRoutes()).toEqual([]);
  });

  it('still rejects an unknown purpose first, recording nothing', () => {
    const k = kit();
    expect(() => declarePurpose(k, 'adverts', { method: 'GET', path: '/ads' })).toThrow(expect.objectContaining({ code: 'PURPOSEKIT_ERR_UNKNOWN_PURPOSE' }));
    expect(k.describeRoutes()).toEqual([]);
  });
});
