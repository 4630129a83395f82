import type { LegalBasis } from '../vocabulary';
import { GDPR_ART8_AGES, GDPR_ART8_AS_OF, GDPR_ART8_DEFAULT } from './gdpr-article-8';
import { minimumAgeFor, normaliseCountry } from './minimum-age';
import { gate } from './__tests__/fixtures';

describe('GDPR Art. 8 table', () => {
  const EU = ['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE'];
  const EEA = ['IS', 'LI', 'NO'];

  it('covers exactly the 27 EU states, the 3 other EEA states and the UK (GB)', () => {
    expect(Object.keys(GDPR_ART8_AGES).sort()).toEqual([...EU, ...EEA, 'GB'].sort());
  });

  it('holds only ages the Regulation allows (13 to 16)', () => {
    for (const [country, age] of Object.entries(GDPR_ART8_AGES)) {
      expect({ country, ok: Number.isInteger(age) && age >= 13 && age <= 16 }).toEqual({ country, ok: true });
    }
  });

  it('has the Regulation’s default, a review date, and cannot be changed or reached through the prototype', () => {
    expect(GDPR_ART8_DEFAULT).toBe(16);
    expect(GDPR_ART8_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isNaN(Date.parse(`${GDPR_ART8_AS_OF}T00:00:00Z`))).toBe(false);
    expect(Object.isFrozen(GDPR_ART8_AGES)).toBe(true);
    expect(Object.getPrototypeOf(GDPR_ART8_AGES)).toBeNull();
    expect(GDPR_ART8_AGES['constructor' as string]).toBeUndefined();
  });
});

describe('normaliseCountry', () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ['DE', 'DE'],
    ['de', 'DE'],
    ['De', 'DE'],
    ['UK', 'GB'],
    ['uk', 'GB'],
    ['EL', 'GR'],
    ['GB', 'GB'],
    [undefined, undefined],
    ['', undefined],
    ['D', undefined],
    ['DEU', undefined],
    ['D1', undefined],
    ['__', undefined],
    ['é1', undefined],
    [' DE', undefined],
  ];
  it.each(cases)('%s → %s', (input, expected) => {
    expect(normaliseCountry(input)).toBe(expected);
  });
});

describe('minimumAgeFor', () => {
  const coppaWithArt8 = gate('newsletter', { minimumAge: 13, gdprArticle8: true, countries: { KR: 14, US: 13 } });
  const coppaOnly = gate('general', { minimumAge: 13 });
  const adults = gate('registration', { minimumAge: 18, gdprArticle8: true });
  const lowCountry = gate('low', { minimumAge: 13, countries: { FR: 10 } });
  const highCountry = gate('high', { minimumAge: 13, gdprArticle8: true, countries: { DE: 17 } });

  const cases: Array<[string, ReturnType<typeof gate>, string | undefined, LegalBasis | undefined, number]> = [
    ['no country, consent: the GDPR default 16 (protective)', coppaWithArt8, undefined, 'consent', 16],
    ['no country, contract: the gate minimum', coppaWithArt8, undefined, 'contract', 13],
    ['no country, Art. 8 off: the gate minimum', coppaOnly, undefined, 'consent', 13],
    ['Germany, consent: Art. 8 raises to 16', coppaWithArt8, 'DE', 'consent', 16],
    ['Germany in lower case', coppaWithArt8, 'de', 'consent', 16],
    ['Germany, contract: Art. 8 does not apply', coppaWithArt8, 'DE', 'contract', 13],
    ['Germany, legitimate interests', coppaWithArt8, 'DE', 'legitimate-interests', 13],
    ['Germany, basis unknown', coppaWithArt8, 'DE', undefined, 13],
    ['Belgium, consent: 13', coppaWithArt8, 'BE', 'consent', 13],
    ['Austria, consent: 14', coppaWithArt8, 'AT', 'consent', 14],
    ['France, consent: 15', coppaWithArt8, 'FR', 'consent', 15],
    ['UK alias, consent', coppaWithArt8, 'UK', 'consent', 13],
    ['Greece by the EU code EL, consent', coppaWithArt8, 'EL', 'consent', 15],
    ['per-country minimum raises (KR 14)', coppaWithArt8, 'KR', 'contract', 14],
    ['per-country minimum equal to base', coppaWithArt8, 'US', 'consent', 13],
    ['a country outside the table, consent', coppaWithArt8, 'BR', 'consent', 13],
    ['garbage country, consent: treated as unknown (16)', coppaWithArt8, 'DEU', 'consent', 16],
    ['gdprArticle8 off: Germany, consent', coppaOnly, 'DE', 'consent', 13],
    ['never lowered by Art. 8 (18+ gate, Belgium 13)', adults, 'BE', 'consent', 18],
    ['never lowered by Art. 8 (18+ gate, Germany 16)', adults, 'DE', 'consent', 18],
    ['never lowered by a per-country entry', lowCountry, 'FR', 'consent', 13],
    ['a per-country entry above Art. 8 wins', highCountry, 'DE', 'consent', 17],
    ['a per-country entry above Art. 8 applies without consent', highCountry, 'DE', 'contract', 17],
  ];
  it.each(cases)('%s', (_name, g, country, basis, expected) => {
    expect(minimumAgeFor(g, { country, basis })).toBe(expected);
  });

  it('takes every Art. 8 age from the table for a consent gate with a base of 13', () => {
    for (const [country, age] of Object.entries(GDPR_ART8_AGES)) {
      expect([country, minimumAgeFor(coppaWithArt8, { country, basis: 'consent' })]).toEqual([country, Math.max(13, age)]);
    }
  });

  it('defaults the context to nothing', () => {
    expect(minimumAgeFor(adults)).toBe(18);
  });
});
