/**
 * Plain-language words for the pages a privacy officer or a data subject reads: what a
 * reason code, a data category, an action or a purpose means, in a sentence.
 * Unknown codes (a custom purpose, a newer reason) fall back to the code itself.
 */
import { PURPOSES } from '@purposekit/core';

const own = <T>(map: Readonly<Record<string, T>>, key: string): T | undefined => (Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined);

const REASONS: Readonly<Record<string, string>> = {
  'purpose-limitation': 'the data is not allowed for this purpose',
  'recipient-not-allowed': 'the recipient is not allowed for this purpose',
  'age-unverified': 'the person’s age was not verified for this purpose',
  restricted: 'the person asked to restrict processing',
  objection: 'the person objected to this processing',
  'no-subject': 'no person was named, so consent could not be checked',
  'no-purpose': 'the route declared no purpose',
  'invalid-request': 'the code asked for something malformed',
  'consent-missing': 'no consent on record',
  'consent-refused': 'the person refused consent',
  'consent-withdrawn': 'the person withdrew consent',
  'consent-expired': 'the consent had expired',
  'consent-renewal-required': 'the terms changed and consent must be asked again',
  'gpc-opt-out': 'the browser sent a Global Privacy Control opt-out',
  'store-unavailable': 'the consent records could not be read (refused to be safe)',
};

/** What a deny reason code means. */
export function reasonText(reason: string): string {
  return own(REASONS, reason) ?? reason;
}

/** The same, addressed to the person (`the person withdrew consent` → `you withdrew consent`). */
export function reasonTextForYou(reason: string): string {
  return reasonText(reason).replace(/^the person’s /, 'your ').replace(/^the person /, 'you ');
}

const OUTCOMES: Readonly<Record<string, string>> = {
  refused: 'under the minimum age',
  'locked-out': 'locked out after an earlier refusal',
  'invalid-dob': 'date of birth missing or not a date',
};

/** What an age-gate outcome means. */
export function ageOutcomeText(outcome: string): string {
  return own(OUTCOMES, outcome) ?? outcome;
}

const CATEGORIES: Readonly<Record<string, string>> = {
  'ip-address': 'IP address',
  'cookie-id': 'cookie identifier',
  'device-id': 'device identifier',
  'device-info': 'device and browser details',
  email: 'email address',
  name: 'name',
  username: 'user name',
  contact: 'contact details',
  'date-of-birth': 'date of birth',
  'age-range': 'age range',
  'child-data': 'data about a child',
  payment: 'payment details',
  location: 'location',
  employer: 'employer',
  profession: 'profession',
  'usage-data': 'usage of the site',
  content: 'messages and content',
  preferences: 'preferences',
  'order-history': 'order history',
  credentials: 'password',
  photo: 'photo',
};

/** A data category as words (`email` → `email address`). */
export function categoryText(category: string): string {
  return own(CATEGORIES, category) ?? category.replace(/-/g, ' ');
}

/** A list of categories as "your name and email address". */
export function yourData(categories: readonly string[]): string {
  const words = categories.map(categoryText);
  if (words.length === 0) return 'your data';
  const list = words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
  return `your ${list}`;
}

const ACTIONS: Readonly<Record<string, string>> = {
  collect: 'collected',
  read: 'read',
  use: 'used',
  update: 'updated',
  delete: 'deleted',
  share: 'shared',
  export: 'exported',
};

/** An action in the past tense (`collect` → `collected`). */
export function actionText(action: string | undefined): string {
  return action === undefined ? 'used' : (own(ACTIONS, action) ?? action);
}

const PURPOSE_PHRASES: Readonly<Record<string, string>> = {
  'service.provision': 'providing the service',
  'service.registration': 'registration',
  'account-management': 'managing your account',
  authentication: 'signing you in',
  security: 'security',
  'fraud-prevention': 'preventing fraud',
  diagnostics: 'diagnosing problems',
  'site-administration': 'running the site',
  analytics: 'statistics on how the site is used',
  'product-improvement': 'improving the site',
  research: 'research',
  personalisation: 'personalising the service',
  advertising: 'advertising',
  'targeted-advertising': 'targeted advertising',
  'marketing.email': 'the newsletter',
  notifications: 'notices about your account',
  'customer-care': 'answering your questions',
  'order-fulfilment': 'your orders',
  payment: 'payment',
  membership: 'the member directory',
  'public-record': 'the public record of contributions',
  surveys: 'surveys',
  'legal-compliance': 'complying with the law',
  'rights-fulfilment': 'answering your privacy requests',
  'age-verification': 'checking your age',
  'sell-to-third-parties': 'selling data to third parties',
};

/** A purpose as a phrase that follows "for" (`marketing.email` → `the newsletter`). */
export function purposeText(purpose: string | undefined): string {
  if (purpose === undefined) return 'no stated purpose';
  return own(PURPOSE_PHRASES, purpose) ?? purpose;
}

/** The built-in one-line description of a purpose, when there is one. */
export function purposeDescription(purpose: string): string | undefined {
  return own(PURPOSES as Readonly<Record<string, { description: string }>>, purpose)?.description;
}

const BASES: Readonly<Record<string, string>> = {
  consent: 'consent',
  contract: 'contract',
  'legal-obligation': 'legal obligation',
  'vital-interests': 'vital interests',
  'public-task': 'public task',
  'legitimate-interests': 'legitimate interests',
};

/** A legal basis as words. */
export function basisText(basis: string | undefined): string {
  return basis === undefined ? 'no stated basis' : (own(BASES, basis) ?? basis);
}

const RIGHTS: Readonly<Record<string, string>> = {
  access: 'a copy of your data',
  rectification: 'a correction of your data',
  erasure: 'the deletion of your data',
  restriction: 'a restriction of the use of your data',
  objection: 'an objection to the use of your data',
  portability: 'your data in a portable format',
  'withdraw-consent': 'the withdrawal of your consent',
};

/** What a person asked for with a right (`erasure` → `the deletion of your data`). */
export function rightText(right: string): string {
  return own(RIGHTS, right) ?? right;
}

const CONSENT: Readonly<Record<string, string>> = {
  given: 'gave consent',
  refused: 'refused consent',
  withdrawn: 'withdrew consent',
  expired: 'consent expired',
};

/** A consent state as a verb phrase (`withdrawn` → `withdrew consent`). */
export function consentText(state: string): string {
  return own(CONSENT, state) ?? `consent ${state}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2026-03-12T10:04:55.123Z` → `12 Mar 2026 10:04` (UTC). */
export function when(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

/** `2026-03-12T…` → `12 Mar 2026` (UTC). */
export function day(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}
