/** The errors a new user meets first, each saying what to do. */
import { createPurposekit } from './purposekit';
import { openinfra } from './presets';
import { ArraySink } from './__tests__/array-sink';

const audit = (): ArraySink => new ArraySink();
const subjectKey = { id: 'k', secret: 'x'.repeat(32) };
const UNSET = process.env['PURPOSEKIT_SURELY_UNSET_VARIABLE'];

describe('first-contact errors of createPurposekit()', () => {
  it('a missing subjectKey says what it is and where to get one', () => {
    expect(() => createPurposekit({ policy: openinfra, audit: audit() } as never)).toThrow(
      expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_OPTION', message: expect.stringContaining('"subjectKey" is required: { id, secret }') }),
    );
  });

  it.each([
    ['subjectKey', { subjectKey: { id: 'k', secret: UNSET } }, 'subjectKey.secret is undefined. If you read it from an environment variable (e.g. process.env.SUBJECT_KEY), that variable is not set'],
    ['ageGate', { subjectKey, ageGate: { secret: UNSET } }, 'ageGate.secret is undefined. If you read it from an environment variable (e.g. process.env.AGE_GATE_SECRET), that variable is not set'],
  ])('a %s secret from an unset environment variable says so', (_n, options, text) => {
    expect(() => createPurposekit({ policy: openinfra, audit: audit(), ...options } as never)).toThrow(
      expect.objectContaining({ code: 'PURPOSEKIT_ERR_INVALID_KEY', message: expect.stringContaining(text) }),
    );
  });
});

describe('first-contact errors of access()', () => {
  const kit = createPurposekit({ policy: openinfra, audit: audit(), subjectKey });
  const run = (data: string[], action: string): Promise<unknown> => kit.runAs({ purpose: 'diagnostics', actor: 'job' }, () => kit.access({ data, action }));

  it('an unknown data category is named, with a suggestion (and denied: fail closed)', async () => {
    await expect(run(['ip-adress'], 'read')).rejects.toMatchObject({
      code: 'PURPOSEKIT_ERR_ACCESS_DENIED',
      message: expect.stringContaining('Unknown category "ip-adress": neither a built-in data category nor one of the policy\'s customCategories. Did you mean "ip-address"?'),
    });
  });

  it('an unknown action is named with the list', async () => {
    await expect(run(['ip-address'], 'fetch')).rejects.toMatchObject({ message: expect.stringContaining('Unknown action "fetch": use one of collect, read, use, update, delete, share, export.') });
  });

  it('a known category the purpose does not allow gets no hint (it is a policy decision, not a typo)', async () => {
    await expect(run(['payment'], 'read')).rejects.toMatchObject({ message: 'Access denied (purpose-limitation) for purpose "diagnostics".' });
  });
});
