import fc from 'fast-check';
import { isPurposekitError } from '../errors';
import { computeAge } from './compute-age';
import type { LeapDayRule } from './compute-age';
import type { PlainDate } from './plain-date';

const at = (iso: string): Date => new Date(iso);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isPurposekitError(error) ? error.code : `not a PurposekitError: ${String(error)}`;
  }
  return 'no error';
}

describe('computeAge: the day before, of and after each threshold birthday (UTC)', () => {
  // Born 2010-06-15: 13 on 2023-06-15, 16 on 2026-06-15, 18 on 2028-06-15.
  const cases: Array<[string, string, number]> = [
    ['2010-06-15', '2023-06-14T12:00:00Z', 12],
    ['2010-06-15', '2023-06-15T12:00:00Z', 13],
    ['2010-06-15', '2023-06-16T12:00:00Z', 13],
    ['2010-06-15', '2026-06-14T12:00:00Z', 15],
    ['2010-06-15', '2026-06-15T12:00:00Z', 16],
    ['2010-06-15', '2026-06-16T12:00:00Z', 16],
    ['2010-06-15', '2028-06-14T12:00:00Z', 17],
    ['2010-06-15', '2028-06-15T12:00:00Z', 18],
    ['2010-06-15', '2028-06-16T12:00:00Z', 18],
    // First and last instant of the birthday in UTC.
    ['2010-06-15', '2028-06-14T23:59:59.999Z', 17],
    ['2010-06-15', '2028-06-15T00:00:00.000Z', 18],
    // Year boundaries: a New Year's Eve and a New Year's Day birth.
    ['2008-12-31', '2021-12-30T12:00:00Z', 12],
    ['2008-12-31', '2021-12-31T12:00:00Z', 13],
    ['2008-12-31', '2022-01-01T12:00:00Z', 13],
    ['2008-01-01', '2020-12-31T12:00:00Z', 12],
    ['2008-01-01', '2021-01-01T12:00:00Z', 13],
    // Born today: 0, not -1; the day before the first birthday: 0.
    ['2026-11-22', '2026-11-22T00:00:00Z', 0],
    ['2025-11-22', '2026-11-21T23:59:59Z', 0],
    ['2025-11-22', '2026-11-22T00:00:00Z', 1],
  ];
  it.each(cases)('born %s, at %s → %i', (dob, on, expected) => {
    expect(computeAge(dob, at(on))).toBe(expected);
  });
});

describe('computeAge: 29 February births', () => {
  const cases: Array<[string, string, LeapDayRule | undefined, number]> = [
    // Non-leap year, 13th birthday: 1 March by default, 28 February when configured.
    ['2008-02-29', '2021-02-27T12:00:00Z', undefined, 12],
    ['2008-02-29', '2021-02-28T12:00:00Z', undefined, 12],
    ['2008-02-29', '2021-02-28T12:00:00Z', 'mar-1', 12],
    ['2008-02-29', '2021-02-28T12:00:00Z', 'feb-28', 13],
    ['2008-02-29', '2021-02-27T12:00:00Z', 'feb-28', 12],
    ['2008-02-29', '2021-03-01T12:00:00Z', 'mar-1', 13],
    ['2008-02-29', '2021-03-01T12:00:00Z', 'feb-28', 13],
    // Leap year, 16th birthday: 29 February itself under either rule.
    ['2008-02-29', '2024-02-28T12:00:00Z', 'mar-1', 15],
    ['2008-02-29', '2024-02-28T12:00:00Z', 'feb-28', 15],
    ['2008-02-29', '2024-02-29T12:00:00Z', 'mar-1', 16],
    ['2008-02-29', '2024-02-29T12:00:00Z', 'feb-28', 16],
    ['2008-02-29', '2024-03-01T12:00:00Z', 'mar-1', 16],
    // Non-leap year, 18th birthday.
    ['2008-02-29', '2026-02-28T12:00:00Z', 'mar-1', 17],
    ['2008-02-29', '2026-02-28T12:00:00Z', 'feb-28', 18],
    ['2008-02-29', '2026-03-01T12:00:00Z', 'mar-1', 18],
    // Century rules: 2100 is not a leap year, 2000 is.
    ['2096-02-29', '2100-02-28T12:00:00Z', 'mar-1', 3],
    ['2096-02-29', '2100-02-28T12:00:00Z', 'feb-28', 4],
    ['1996-02-29', '2000-02-28T12:00:00Z', 'feb-28', 3],
    ['1996-02-29', '2000-02-29T12:00:00Z', 'mar-1', 4],
    // Someone born on 28 February or 1 March is not affected by the rule.
    ['2008-02-28', '2021-02-28T12:00:00Z', 'mar-1', 13],
    ['2008-03-01', '2021-02-28T12:00:00Z', 'feb-28', 12],
  ];
  it.each(cases)('born %s, at %s, leapDay %s → %i', (dob, on, leapDay, expected) => {
    expect(computeAge(dob, at(on), leapDay === undefined ? {} : { leapDay })).toBe(expected);
  });
});

describe('computeAge: the zone decides the day (exact instants)', () => {
  // Pacific/Auckland is UTC+13 (NZDT) until 5 April 2026 and UTC+12 (NZST) in winter;
  // America/Los_Angeles is UTC-7 (PDT) from 8 March 2026. Born 2008-03-15: 18 on 2026-03-15.
  const cases: Array<[string, string, string, number]> = [
    ['2008-03-15', '2026-03-14T10:59:59.999Z', 'Pacific/Auckland', 17], // 23:59:59.999 on the 14th
    ['2008-03-15', '2026-03-14T11:00:00.000Z', 'Pacific/Auckland', 18], // 00:00 on the 15th
    ['2008-03-15', '2026-03-14T11:00:00.000Z', 'UTC', 17],
    ['2008-03-15', '2026-03-14T11:00:00.000Z', 'America/Los_Angeles', 17], // 04:00 on the 14th
    ['2008-03-15', '2026-03-15T06:59:59.999Z', 'America/Los_Angeles', 17], // 23:59:59.999 on the 14th
    ['2008-03-15', '2026-03-15T06:59:59.999Z', 'UTC', 18],
    ['2008-03-15', '2026-03-15T07:00:00.000Z', 'America/Los_Angeles', 18], // 00:00 on the 15th
    // Births on either side of midnight, one instant (12:00Z on the 14th): Auckland
    // is already on the 15th (01:00), Los Angeles still on the 14th (05:00).
    ['2008-03-14', '2026-03-14T12:00:00Z', 'Pacific/Auckland', 18],
    ['2008-03-15', '2026-03-14T12:00:00Z', 'Pacific/Auckland', 18],
    ['2008-03-16', '2026-03-14T12:00:00Z', 'Pacific/Auckland', 17],
    ['2008-03-14', '2026-03-14T12:00:00Z', 'America/Los_Angeles', 18],
    ['2008-03-15', '2026-03-14T12:00:00Z', 'America/Los_Angeles', 17],
    // Southern winter (NZST, UTC+12): 13th birthday 2026-07-01.
    ['2013-07-01', '2026-06-30T11:59:59Z', 'Pacific/Auckland', 12],
    ['2013-07-01', '2026-06-30T12:00:00Z', 'Pacific/Auckland', 13],
    ['2013-07-01', '2026-07-01T06:59:59Z', 'America/Los_Angeles', 12],
    ['2013-07-01', '2026-07-01T07:00:00Z', 'America/Los_Angeles', 13],
    // A leap-day birth at local midnight in Auckland (2025 is not a leap year, NZDT).
    ['2012-02-29', '2025-02-28T10:59:59Z', 'Pacific/Auckland', 12],
    ['2012-02-29', '2025-02-28T11:00:00Z', 'Pacific/Auckland', 13],
    // Half-hour and +14 zones.
    ['2010-01-02', '2023-01-01T18:29:59Z', 'Asia/Kolkata', 12], // 23:59:59 on 1 Jan (UTC+5:30)
    ['2010-01-02', '2023-01-01T18:30:00Z', 'Asia/Kolkata', 13],
    ['2010-01-02', '2023-01-01T10:00:00Z', 'Pacific/Kiritimati', 13], // UTC+14: already 2 Jan
  ];
  it.each(cases)('born %s, at %s in %s → %i', (dob, on, timeZone, expected) => {
    expect(computeAge(dob, at(on), { timeZone })).toBe(expected);
  });

  it('counts years before year 1 astronomically (1 BC is year 0)', () => {
    expect(computeAge('0000-01-01', at('0000-06-15T12:00:00Z'), { timeZone: 'Europe/Berlin' })).toBe(0);
    expect(computeAge('0000-01-01', at('0001-01-01T00:30:00Z'), { timeZone: 'America/Los_Angeles' })).toBe(0); // still 31 Dec, year 0
    expect(computeAge('0000-01-01', at('0001-01-01T00:30:00Z'), { timeZone: 'Pacific/Auckland' })).toBe(1);
  });

  it('uses the feb-28 rule in a zone too', () => {
    expect(computeAge('2012-02-29', at('2025-02-27T10:59:59Z'), { timeZone: 'Pacific/Auckland', leapDay: 'feb-28' })).toBe(12);
    expect(computeAge('2012-02-29', at('2025-02-27T11:00:00Z'), { timeZone: 'Pacific/Auckland', leapDay: 'feb-28' })).toBe(13);
  });

  it('does not let one zone’s cached day answer for another zone or another second', () => {
    const instant = at('2026-03-14T12:00:00Z');
    expect(computeAge('2008-03-15', instant, { timeZone: 'Pacific/Auckland' })).toBe(18);
    expect(computeAge('2008-03-15', instant, { timeZone: 'America/Los_Angeles' })).toBe(17);
    expect(computeAge('2008-03-15', instant, { timeZone: 'Pacific/Auckland' })).toBe(18);
    // Same zone, consecutive seconds across local midnight.
    expect(computeAge('2008-03-15', at('2026-03-14T10:59:59.999Z'), { timeZone: 'Pacific/Auckland' })).toBe(17);
    expect(computeAge('2008-03-15', at('2026-03-14T11:00:00.000Z'), { timeZone: 'Pacific/Auckland' })).toBe(18);
    expect(computeAge('2008-03-15', at('2026-03-14T10:59:59.000Z'), { timeZone: 'Pacific/Auckland' })).toBe(17);
  });
});

describe('computeAge: inputs', () => {
  it('accepts a PlainDate', () => {
    expect(computeAge({ year: 2010, month: 6, day: 15 }, at('2023-06-15T00:00:00Z'))).toBe(13);
  });

  const errors: Array<[string, () => unknown, string]> = [
    ['future birth', () => computeAge('2026-11-23', at('2026-11-22T12:00:00Z')), 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['future in the zone only', () => computeAge('2026-11-23', at('2026-11-22T12:00:00Z'), { timeZone: 'America/Los_Angeles' }), 'PURPOSEKIT_ERR_DOB_FUTURE'],
    ['malformed string', () => computeAge('2010-6-15', at('2026-01-01T00:00:00Z')), 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['impossible string', () => computeAge('2023-02-29', at('2026-01-01T00:00:00Z')), 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['impossible PlainDate', () => computeAge({ year: 2023, month: 2, day: 29 }, at('2026-01-01T00:00:00Z')), 'PURPOSEKIT_ERR_DOB_IMPOSSIBLE'],
    ['fractional PlainDate', () => computeAge({ year: 2010, month: 1.5, day: 1 }, at('2026-01-01T00:00:00Z')), 'PURPOSEKIT_ERR_DOB_MALFORMED'],
    ['invalid Date', () => computeAge('2010-01-01', new Date(Number.NaN)), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['not a Date', () => computeAge('2010-01-01', '2026-01-01' as unknown as Date), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['unknown zone', () => computeAge('2010-01-01', at('2026-01-01T00:00:00Z'), { timeZone: 'Mars/Olympus_Mons' }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
    ['unknown leap-day rule', () => computeAge('2010-01-01', at('2026-01-01T00:00:00Z'), { leapDay: 'feb-29' as LeapDayRule }), 'PURPOSEKIT_ERR_INVALID_OPTION'],
  ];
  it.each(errors)('%s → %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

// ── properties ────────────────────────────────────────────────────────────────
// The oracle is independent of the implementation: "today" comes from
// toLocaleDateString('en-CA') (YYYY-MM-DD), and the k-th birthday from Date's own
// calendar arithmetic, where 29 February of a non-leap year rolls over to 1 March.

const ZONES = ['UTC', 'Pacific/Auckland', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Europe/Berlin'] as const;

function localToday(on: Date, timeZone: string): PlainDate {
  const [year, month, day] = on.toLocaleDateString('en-CA', { timeZone }).split('-').map(Number) as [number, number, number];
  return { year, month, day };
}

function utcMs(year: number, monthIndex: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  return d.getTime();
}

function kthBirthday(dob: PlainDate, k: number, rule: LeapDayRule): number {
  const ms = utcMs(dob.year + k, dob.month - 1, dob.day);
  if (new Date(ms).getUTCMonth() === dob.month - 1 || rule === 'mar-1') return ms;
  return utcMs(dob.year + k, dob.month, 0); // last day of the intended month: 28 February
}

function oracleAge(dob: PlainDate, on: Date, timeZone: string, rule: LeapDayRule): number | 'future' {
  const today = localToday(on, timeZone);
  const todayMs = utcMs(today.year, today.month - 1, today.day);
  if (utcMs(dob.year, dob.month - 1, dob.day) > todayMs) return 'future';
  let k = today.year - dob.year;
  while (kthBirthday(dob, k, rule) > todayMs) k--;
  return k;
}

const plainDate = fc
  .record({ year: fc.integer({ min: 1890, max: 2100 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 31 }) })
  .map(({ year, month, day }) => ({ year, month, day: Math.min(day, new Date(utcMs(year, month, 0)).getUTCDate()) }));
const leapBirth = fc
  .integer({ min: 473, max: 524 })
  .map((n) => ({ year: n * 4, month: 2, day: 29 }))
  .filter((d) => new Date(utcMs(d.year, 1, 29)).getUTCMonth() === 1); // 1900 and 2100 are not leap years
const birth = fc.oneof(plainDate, leapBirth);
const instant = fc.date({ min: new Date('1890-01-01T00:00:00Z'), max: new Date('2100-12-31T23:59:59Z'), noInvalidDate: true });
const zone = fc.constantFrom(...ZONES);
const rule = fc.constantFrom<LeapDayRule>('mar-1', 'feb-28');
const iso = (d: PlainDate): string => `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

describe('computeAge: properties (fast-check, fixed seed)', () => {
  it('matches the independent oracle, or refuses a future birth', () => {
    fc.assert(
      fc.property(birth, instant, zone, rule, (dob, on, timeZone, leapDay) => {
        const expected = oracleAge(dob, on, timeZone, leapDay);
        if (expected === 'future') {
          expect(codeOf(() => computeAge(iso(dob), on, { timeZone, leapDay }))).toBe('PURPOSEKIT_ERR_DOB_FUTURE');
        } else {
          expect(computeAge(iso(dob), on, { timeZone, leapDay })).toBe(expected);
        }
      }),
      { seed: 20261122, numRuns: 2000 },
    );
  });

  it('is monotonic in `on`, never negative, and is the naive year difference minus 0 or 1', () => {
    fc.assert(
      fc.property(birth, instant, instant, zone, rule, (dob, a, b, timeZone, leapDay) => {
        const [earlier, later] = a.getTime() <= b.getTime() ? [a, b] : [b, a];
        if (oracleAge(dob, earlier, timeZone, leapDay) === 'future') return;
        const first = computeAge(dob, earlier, { timeZone, leapDay });
        const second = computeAge(dob, later, { timeZone, leapDay });
        expect(first).toBeGreaterThanOrEqual(0);
        expect(second).toBeGreaterThanOrEqual(first);
        const naive = localToday(earlier, timeZone).year - dob.year;
        expect([naive - 1, naive]).toContain(first);
      }),
      { seed: 4, numRuns: 2000 },
    );
  });
});
