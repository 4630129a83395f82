import fc from 'fast-check';
import { isPurposekitError } from '../errors';
import type { ErrorCode } from '../errors';
import { parseDateOfBirth } from './parse-date-of-birth';

const NOW = new Date('2026-11-22T12:00:00Z');

function failure(value: unknown, on: Date = NOW, timeZone?: string): { code: ErrorCode; text: string; details: unknown } | undefined {
  try {
    parseDateOfBirth(value, on, timeZone === undefined ? {} : { timeZone });
    return undefined;
  } catch (error) {
    if (!isPurposekitError(error)) throw error;
    return { code: error.code, text: `${error.message}\n${error.publicMessage}\n${JSON.stringify(error)}\n${String(error.stack)}`, details: error.details };
  }
}

describe('parseDateOfBirth: every bad-input class has its exact code', () => {
  const cases: Array<[string, unknown, ErrorCode]> = [
    ['undefined', undefined, 'PURPOSEKIT_ERR_DOB_MISSING'],
    ['null', null, 'PURPOSEKIT_ERR_DOB_MISSING'],
    ['empty string', '', 'PURPOSEKIT_ERR_DOB_MISSING'],

    ['spaces only', '          ', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['number', 20100101, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['epoch number', 1262304000000, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['boolean', true, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['array of a valid date', ['2010-01-01'], 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['object shaped like a PlainDate', { year: 2010, month: 1, day: 1 }, 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['Date object', new Date('2010-01-01T00:00:00Z'), 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['slashes', '2010/01/01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['day-first', '01-01-2010', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['one-digit month', '2010-1-01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['dashes moved', '2010-0-101', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['compact', '20100101', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['leading space', ' 2010-01-01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['trailing space', '2010-01-01 ', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['with a time', '2010-01-01T00:00:00Z', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['expanded year', '+02010-01-01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['negative year', '-010-01-01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['letter O for zero', '2O10-01-01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['hex-looking', '0x10-01-01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['underscores', '2010_01_01', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['full-width digits', '２０１０-０１-０１', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['Arabic-Indic digits', '٢٠١٠-٠١-٠١', 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['a megabyte string', `2010-01-01${'0'.repeat(1_000_000)}`, 'PURPOSEKIT_ERR_DOB_MALFORMED'],

    ['30 February', '2023-02-30', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['29 February of a non-leap year', '2023-02-29', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['29 February 1900 (century, not leap)', '1900-02-29', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['30 February of a leap year', '2024-02-30', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['month 13', '2010-13-01', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['month 00', '2010-00-10', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['day 00', '2010-01-00', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['31 April', '2010-04-31', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['32 January', '2010-01-32', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['day 99', '2010-01-99', 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],

    ['tomorrow', '2026-11-23', 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['next year', '2027-01-01', 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['year 9999', '9999-12-31', 'PURPOSEKIT_ERR_DOB_FUTURE'],

    ['131 years ago today', '1895-11-22', 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE'],
    ['year 0001', '0001-01-01', 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE'],
    ['year 0000', '0000-01-01', 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE'],
  ];

  it.each(cases)('%s → %s', (_name, value, code) => {
    expect(failure(value)?.code).toBe(code);
  });

  it.each(cases.filter(([, value]) => typeof value === 'string' && value.length >= 4 && value.length < 100))(
    'the error for %s never contains the value, and has no details',
    (_name, value) => {
      const result = failure(value);
      expect(result).toBeDefined();
      expect(result?.text).not.toContain(value as string);
      expect(result?.details).toBeUndefined();
    },
  );
});

describe('parseDateOfBirth: accepted dates', () => {
  const cases: Array<[string, { year: number; month: number; day: number }]> = [
    ['2010-01-01', { year: 2010, month: 1, day: 1 }],
    ['2024-02-29', { year: 2024, month: 2, day: 29 }],
    ['2000-02-29', { year: 2000, month: 2, day: 29 }],
    ['2026-11-22', { year: 2026, month: 11, day: 22 }], // born today: age 0
    ['1896-11-22', { year: 1896, month: 11, day: 22 }], // exactly 130
    ['1895-11-23', { year: 1895, month: 11, day: 23 }], // 130, turns 131 tomorrow
  ];
  it.each(cases)('%s', (value, expected) => {
    expect(parseDateOfBirth(value, NOW)).toEqual(expected);
  });
});

describe('parseDateOfBirth: "today" is in the policy zone', () => {
  // 2026-11-22T11:30Z is already 2026-11-23 00:30 in Auckland (UTC+13) and still
  // 2026-11-22 03:30 in Los Angeles (UTC-8).
  const on = new Date('2026-11-22T11:30:00Z');
  const cases: Array<[string, string, ErrorCode | undefined]> = [
    ['2026-11-23', 'Pacific/Auckland', undefined],
    ['2026-11-23', 'UTC', 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['2026-11-23', 'America/Los_Angeles', 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['1895-11-23', 'Pacific/Auckland', 'PURPOSEKIT_ERR_DOB_IMPLAUSIBLE'], // 131 there
    ['1895-11-23', 'UTC', undefined], // 130 here
  ];
  it.each(cases)('%s in %s → %s', (value, timeZone, code) => {
    expect(failure(value, on, timeZone)?.code).toBe(code);
  });
});

describe('parseDateOfBirth: properties (fast-check, fixed seed)', () => {
  it('either returns a date from a strict YYYY-MM-DD string or throws a DOB_* PurposekitError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 14 }), fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/), fc.anything()), (value) => {
        let result: unknown;
        try {
          result = parseDateOfBirth(value, NOW);
        } catch (error) {
          expect(isPurposekitError(error)).toBe(true);
          expect((error as { code: string }).code).toMatch(/^PURPOSEKIT_ERR_DOB_(MISSING|MALFORMED|IMPOSSIBLE|FUTURE|IMPLAUSIBLE)$/);
          return;
        }
        expect(value).toMatch(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/);
        const [y, m, d] = (value as string).split('-').map(Number);
        expect(result).toEqual({ year: y, month: m, day: d });
      }),
      { seed: 1122, numRuns: 3000 },
    );
  });

  it('accepts every real, past, plausible date written as YYYY-MM-DD', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1897-01-01T00:00:00Z'), max: new Date('2026-11-22T00:00:00Z'), noInvalidDate: true }), (date) => {
        const value = date.toISOString().slice(0, 10);
        expect(parseDateOfBirth(value, NOW)).toEqual({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() });
      }),
      { seed: 2211, numRuns: 1000 },
    );
  });
});
