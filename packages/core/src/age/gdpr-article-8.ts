/**
 * GDPR Art. 8(1) "digital age of consent": the age from which a child may consent alone
 * to an information society service offered directly to them, when consent (Art. 6(1)(a))
 * is the legal basis. The Regulation's default is 16; each state may lower it to no less
 * than 13. EEA states (Iceland, Liechtenstein, Norway) apply the GDPR through the EEA
 * Agreement; the UK keeps the rule in the UK GDPR with the age set by its DPA 2018.
 *
 * Sources (reviewed 2026-11-22):
 * - European Commission, SWD(2020) 115 final, accompanying COM(2020) 264 "Data protection
 *   as a pillar of citizens' empowerment… two years of application of the GDPR"
 *   (24 June 2020), p. 17: the age each Member State chose. Base of the EU rows.
 * - Milkaite & Lievens (Ghent University), "mapping the GDPR age of consent across the
 *   EU", Better Internet for Kids (betterinternetforkids.eu, 2017–2019 editions), and
 *   Bird & Bird's GDPR tracker, "Children": cross-checks of the national provisions.
 * - Later changes found and applied: Denmark, Databeskyttelsesloven § 6 amended in
 *   December 2023, 15 from 1 January 2024 (was 13); Slovenia, ZVOP-2 (Uradni list RS
 *   163/2022) in force 26 January 2023, sets 15.
 * - EEA and UK: Norway, Personopplysningsloven § 5 (13; Datatilsynet guidance; a 2025
 *   consultation proposes 15 — not law when reviewed); Iceland, Act 90/2018 (13);
 *   Liechtenstein, no derogation (16, the Regulation's default); United Kingdom, Data
 *   Protection Act 2018 s. 9 (13).
 *
 * Law moves: re-check before relying on it, and override per country in the policy
 * (`ageGates.<name>.countries`) when a newer national rule applies. Keys are ISO 3166-1
 * alpha-2 codes (Greece is `GR`, not the EU's `EL`; the UK is `GB`).
 */

/** The date the table below was last reviewed against its sources (ISO 8601). */
export const GDPR_ART8_AS_OF = '2026-11-22';

/** The Regulation's own age (Art. 8(1)), for a state that set no other. */
export const GDPR_ART8_DEFAULT = 16;

/** Digital age of consent per EU/EEA state and the UK, keyed by ISO 3166-1 alpha-2 code. */
export const GDPR_ART8_AGES: Readonly<Record<string, number>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, number>, {
    AT: 14, // Austria — DSG § 4(4)
    BE: 13, // Belgium — Act of 30 July 2018, art. 7
    BG: 14, // Bulgaria — Personal Data Protection Act as amended 2019
    HR: 16, // Croatia — Act on the Implementation of the GDPR (2018)
    CY: 14, // Cyprus — Law 125(I)/2018, s. 8
    CZ: 15, // Czechia — Act No. 110/2019, s. 7
    DK: 15, // Denmark — Databeskyttelsesloven § 6, 15 since 1 January 2024 (13 before)
    EE: 13, // Estonia — Personal Data Protection Act (2018)
    FI: 13, // Finland — Data Protection Act 1050/2018
    FR: 15, // France — Loi 78-17 Informatique et Libertés (art. 7-1 as amended 2018)
    DE: 16, // Germany — no derogation
    GR: 15, // Greece — Law 4624/2019, art. 21
    HU: 16, // Hungary — no derogation
    IE: 16, // Ireland — Data Protection Act 2018, s. 31
    IT: 14, // Italy — Codice privacy, art. 2-quinquies
    LV: 13, // Latvia — Personal Data Processing Law (2018)
    LT: 14, // Lithuania — Law on Legal Protection of Personal Data (2018)
    LU: 16, // Luxembourg — no derogation
    MT: 13, // Malta — Data Protection Act (Cap. 586) and its regulations
    NL: 16, // Netherlands — UAVG, art. 5
    PL: 16, // Poland — no derogation
    PT: 13, // Portugal — Lei 58/2019
    RO: 16, // Romania — no derogation
    SK: 16, // Slovakia — Act 18/2018 keeps 16
    SI: 15, // Slovenia — ZVOP-2, in force 26 January 2023
    ES: 14, // Spain — LOPDGDD (LO 3/2018), art. 7
    SE: 13, // Sweden — Dataskyddslag (2018:218)
    IS: 13, // Iceland — Act 90/2018
    LI: 16, // Liechtenstein — no derogation
    NO: 13, // Norway — Personopplysningsloven § 5
    GB: 13, // United Kingdom — Data Protection Act 2018, s. 9
  }),
);
