/**
 * The built-in vocabulary. Purposes are a FLAT list on purpose: allowing one purpose
 * never allows another "beneath" it (allowing `marketing` must never allow
 * `sell-to-third-parties`). A policy may add its own purposes and data categories
 * (`customPurposes`, `customCategories`) but never changes the meaning of these.
 *
 * IRIs are from the W3C Data Privacy Vocabulary, namespace https://w3id.org/dpv#.
 */

const DPV = 'https://w3id.org/dpv#';

/** A built-in purpose: its DPV IRI and a one-line description. */
export interface PurposeDefinition {
  readonly iri: string;
  readonly description: string;
}

/** Built-in purposes, keyed by the id a policy and a route use. */
export const PURPOSES = Object.freeze({
  'service.provision': { iri: `${DPV}ServiceProvision`, description: 'Provide the service the person asked for.' },
  'service.registration': { iri: `${DPV}ServiceRegistration`, description: 'Register a person for an account, membership or service.' },
  'account-management': { iri: `${DPV}AccountManagement`, description: 'Manage an existing account (profile, settings, deletion).' },
  authentication: { iri: `${DPV}IdentityAuthentication`, description: 'Identify and authenticate a person.' },
  security: { iri: `${DPV}EnforceSecurity`, description: 'Keep the service and its users secure.' },
  'fraud-prevention': { iri: `${DPV}FraudPreventionAndDetection`, description: 'Detect and prevent fraud and abuse.' },
  diagnostics: { iri: `${DPV}ServiceMonitoring`, description: 'Diagnose problems with servers and the service.' },
  'site-administration': { iri: `${DPV}ServiceManagement`, description: 'Administer the web site or service.' },
  analytics: { iri: `${DPV}ServiceUsageAnalytics`, description: 'Measure how the service is used.' },
  'product-improvement': { iri: `${DPV}ImproveExistingProductsAndServices`, description: 'Improve existing products and services.' },
  research: { iri: `${DPV}ResearchAndDevelopment`, description: 'Research and statistical reports (aggregated; not used to contact subjects).' },
  personalisation: { iri: `${DPV}ServicePersonalisation`, description: 'Personalise the service for a person.' },
  advertising: { iri: `${DPV}Advertising`, description: 'Show advertising.' },
  'targeted-advertising': { iri: `${DPV}TargetedAdvertising`, description: 'Show advertising targeted at a person.' },
  'marketing.email': { iri: `${DPV}DirectMarketing`, description: 'Send promotional email or newsletters.' },
  notifications: { iri: `${DPV}CommunicationManagement`, description: 'Send non-promotional notices about an account or order.' },
  'customer-care': { iri: `${DPV}CustomerCare`, description: 'Answer questions, support requests and complaints.' },
  'order-fulfilment': { iri: `${DPV}CustomerOrderManagement`, description: 'Process and deliver an order.' },
  payment: { iri: `${DPV}PaymentManagement`, description: 'Bill and collect payment.' },
  membership: { iri: `${DPV}MembersAndPartnersManagement`, description: 'Manage members of an organisation (e.g. a member directory).' },
  'public-record': { iri: `${DPV}RecordManagement`, description: 'Keep a public record of contributions.' },
  surveys: { iri: `${DPV}CustomerRelationshipManagement`, description: 'Run surveys and evaluations.' },
  'legal-compliance': { iri: `${DPV}LegalCompliance`, description: 'Comply with a legal obligation.' },
  'rights-fulfilment': { iri: `${DPV}RightsFulfilment`, description: 'Answer a data-subject rights request.' },
  'age-verification': { iri: `${DPV}AgeVerification`, description: 'Verify that a person is old enough.' },
  'sell-to-third-parties': { iri: `${DPV}SellDataToThirdParties`, description: 'Sell or trade personal data to third parties.' },
} satisfies Record<string, PurposeDefinition>);

/** Id of a built-in purpose. */
export type BuiltInPurpose = keyof typeof PURPOSES;
/** A purpose id: built in, or declared by the policy's `customPurposes`. */
export type PurposeId = BuiltInPurpose | (string & {});

/** The six lawful bases of GDPR Art. 6(1), (a) to (f). */
export const LEGAL_BASES = Object.freeze({
  consent: { article: 'Art. 6(1)(a)', iri: `${DPV}Consent` },
  contract: { article: 'Art. 6(1)(b)', iri: `${DPV}Contract` },
  'legal-obligation': { article: 'Art. 6(1)(c)', iri: `${DPV}LegalObligation` },
  'vital-interests': { article: 'Art. 6(1)(d)', iri: `${DPV}VitalInterest` },
  'public-task': { article: 'Art. 6(1)(e)', iri: `${DPV}PublicInterest` },
  'legitimate-interests': { article: 'Art. 6(1)(f)', iri: `${DPV}LegitimateInterest` },
} as const);

/** A GDPR Art. 6(1) lawful basis. */
export type LegalBasis = keyof typeof LEGAL_BASES;

/** Built-in personal data categories. */
export const DATA_CATEGORIES = Object.freeze({
  'ip-address': 'An IP address (personal data even when truncated).',
  'cookie-id': 'A cookie or other online identifier.',
  'device-id': 'A unique device identifier.',
  'device-info': 'Browser, operating system, hardware model.',
  email: 'An email address.',
  name: 'A first or last name, or a display name.',
  username: 'A user name, handle or chat nickname.',
  contact: 'Contact details other than email (phone, postal address).',
  'date-of-birth': 'A date of birth.',
  'age-range': 'An age or age range (e.g. "18+").',
  'child-data': 'Any data about a child.',
  payment: 'Card or bank details.',
  location: 'A physical location or coordinates.',
  employer: 'Employer or affiliation.',
  profession: 'Profession or field of activity.',
  'usage-data': 'Pages viewed, clicks, access times.',
  content: 'Content the person wrote or uploaded.',
  preferences: 'Settings and preferences (language, time zone, cart).',
  'order-history': 'Orders and subscriptions.',
  credentials: 'Passwords and other secrets.',
  photo: 'A photograph.',
} as const);

/** Id of a built-in data category. */
export type BuiltInCategory = keyof typeof DATA_CATEGORIES;
/** A data category id: built in, or declared by the policy's `customCategories`. */
export type DataCategory = BuiltInCategory | (string & {});

/** Consent states, as in DPV. */
export const CONSENT_STATES = ['given', 'refused', 'withdrawn', 'expired'] as const;
/** A consent state. */
export type ConsentState = (typeof CONSENT_STATES)[number];

/** How consent was expressed. Implied consent is weak under the GDPR (it warns). */
export const CONSENT_TYPES = ['explicit', 'implied'] as const;
/** A consent type. */
export type ConsentType = (typeof CONSENT_TYPES)[number];

/** GDPR data-subject rights. */
export const RIGHTS = ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent'] as const;
/** A data-subject right. */
export type Right = (typeof RIGHTS)[number];

/** Actions on personal data that an access names. */
export const ACTIONS = ['collect', 'read', 'use', 'update', 'delete', 'share', 'export'] as const;
/** An action on personal data. */
export type Action = (typeof ACTIONS)[number];

/** Jurisdictions the policy model knows (`EU` means EU/EEA member states). */
export const JURISDICTIONS = ['EU', 'UK', 'US', 'US-CA', 'global'] as const;
/** A jurisdiction. */
export type Jurisdiction = (typeof JURISDICTIONS)[number];
