/** Policy section `ageGates`: named minimum ages. @internal */
import { durationSeconds, parseDuration } from './duration';
import { COUNTRY, ID, isTimeZone, join } from './checker';
import type { Checker } from './checker';
import { show } from './suggest';
import type { ResolvedAgeGate } from './types';

const GATE_KEYS = ['minimumAge', 'countries', 'gdprArticle8', 'lockout', 'leapDay', 'timeZone', 'source'] as const;

/** Resolves `ageGates` (before purposes, which refer to them). */
export function resolveAgeGates(c: Checker, raw: unknown): Record<string, ResolvedAgeGate> {
  const ageGates: Record<string, ResolvedAgeGate> = Object.create(null) as Record<string, ResolvedAgeGate>;
  if (raw !== undefined && c.object(raw, 'ageGates')) {
    for (const [name, gate] of Object.entries(raw)) {
      const path = join('ageGates', name);
      if (!ID.test(name)) c.error(path, 'format', 'gate names must be lower-case letters, digits, ".", "_" or "-".');
      if (!c.object(gate, path)) continue;
      c.knownKeys(gate, path, GATE_KEYS);
      if (gate['minimumAge'] === undefined) c.error(join(path, 'minimumAge'), 'required', 'is required.', 'E.g. 13 (COPPA), 16 (GDPR Art. 8 default) or 18.');
      const minimumAge = c.integer(gate['minimumAge'], join(path, 'minimumAge'), 0, 130);
      const countries: Record<string, number> = Object.create(null) as Record<string, number>;
      if (gate['countries'] !== undefined && c.object(gate['countries'], join(path, 'countries'))) {
        for (const [cc, age] of Object.entries(gate['countries'])) {
          const cpath = join(join(path, 'countries'), cc);
          if (!COUNTRY.test(cc)) c.error(cpath, 'country', `${show(cc)} is not an ISO 3166-1 alpha-2 code.`, 'Use upper-case two-letter codes such as DE, FR, GB.');
          const a = c.integer(age, cpath, 0, 130);
          if (a !== undefined && minimumAge !== undefined && a < minimumAge) {
            c.error(cpath, 'lowers-minimum', `${a} is below the gate's minimumAge ${minimumAge}; a country rule can only raise it.`);
          } else if (a !== undefined) countries[cc] = a;
        }
      }
      const lockout = c.duration(gate['lockout'], join(path, 'lockout')) ?? 'P1D';
      const leapDay = c.oneOf(gate['leapDay'], join(path, 'leapDay'), ['mar-1', 'feb-28'] as const, 'leap-day rule') ?? 'mar-1';
      const timeZone = c.string(gate['timeZone'], join(path, 'timeZone'), false);
      if (timeZone !== undefined && !isTimeZone(timeZone)) {
        c.error(join(path, 'timeZone'), 'time-zone', `${show(timeZone)} is not an IANA time zone.`, 'Examples: UTC, Europe/Berlin, America/Los_Angeles.');
      }
      if (minimumAge !== undefined) {
        ageGates[name] = Object.freeze({
          name,
          minimumAge,
          countries: Object.freeze(countries),
          gdprArticle8: c.boolean(gate['gdprArticle8'], join(path, 'gdprArticle8')) ?? false,
          lockoutSeconds: durationSeconds(parseDuration(lockout) ?? parseDuration('P1D')!),
          leapDay,
          timeZone,
          source: c.string(gate['source'], join(path, 'source'), false),
        });
      }
    }
  }

  return ageGates;
}
