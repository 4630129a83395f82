import { definePolicy } from '../policy/define-policy';
import type { Policy } from '../policy/types';

/**
 * OpenInfra Foundation privacy policy (current text, seed 003).
 *
 * Reading notes:
 * - The policy states a legitimate-interests balance for most uses ("only to the limited
 *   extent necessary to meet our legitimate interest") and consent for anything else
 *   ("We will not use your personal data in any other way unless (i) you have given your
 *   express consent").
 * - Two gates: 18 to register, 13 for any submission at all. The purposes that take a
 *   submission through a form (registration, mailing list, surveys, questions) carry one;
 *   the member directory and the public record only re-use what registration collected.
 * - IP addresses serve diagnostics and site administration, and legal compliance when the
 *   law requires a disclosure; no other purpose may touch them.
 * - The mailing list and surveys are read as consent ("if you sign up", "if you choose to
 *   participate"), although the text lists them among its legitimate-interest uses: opting
 *   in is what the person actually does.
 * - "Requests answered within one month" → rights.responseTime P1M; the "deleted members"
 *   record is the erasure record the rights module keeps.
 */
/**
 * Part IX: "only for as long as reasonably necessary" (never expires by itself: a person
 * decides when), held longer "in the event of a complaint or ... prospect of litigation".
 */
const AS_LONG_AS_NECESSARY = {
  duration: 'as-long-as-necessary',
  holds: ['complaint', 'litigation'],
  source: 'We will retain your personal data only for as long as reasonably necessary to fulfil the purpose for which it was collected, and to comply with our legal obligations. We may retain your personal data for a longer period in the event of a complaint or if we reasonably believe there is a prospect of litigation in respect to our relationship with you.',
};

/**
 * Part X: "this right only applies to automated information which you initially provided
 * consent for us to use or where we used the information to perform a contract with
 * you" (as GDPR Art. 20(1)(a)): no portability for the other bases.
 */
const NO_PORTABILITY = { portability: false } as const;

export const openinfra: Policy = definePolicy({
  id: 'openinfra',
  version: '2024-current',
  title: 'OpenInfra Foundation Privacy Policy',
  source: 'https://openinfra.dev/privacy-policy',
  // "committed to the principles of the EU-U.S. Data Privacy Framework"; principal office in Texas.
  jurisdictions: ['EU', 'US'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': {
      // "We will use your personal data to provide information and services to you as a participant in the OpenInfra community"
      basis: 'legitimate-interests',
      data: ['usage-data', 'device-info', 'cookie-id'],
      retention: AS_LONG_AS_NECESSARY,
      // "our site is hosted and monitored by third parties"
      recipients: ['hosting'],
      rights: NO_PORTABILITY,
      source: 'We will use your personal data to provide information and services to you as a participant in the OpenInfra community',
    },
    'service.registration': {
      // "if you want to join the Open Infrastructure Foundation as an individual member, you will be asked to complete a web form with your name, contact information, employer name, physical location, field of activity, profession"
      basis: 'contract',
      data: ['name', 'email', 'contact', 'employer', 'location', 'profession'],
      retention: AS_LONG_AS_NECESSARY,
      ageGate: 'registration',
      // "Salesforce for community relationship information management"; "Formstack to administer webforms"
      recipients: ['crm', 'webforms'],
      source: 'if you want to join the Open Infrastructure Foundation as an individual member, you will be asked to complete a web form with your name, contact information, employer name, physical location, field of activity, profession, and other information',
    },
    membership: {
      // "if you elect to be included in our Individual Member Directory, we will publish your member profile on our site"
      basis: 'consent',
      consentType: 'explicit',
      data: ['name', 'employer', 'location', 'profession'],
      recipients: ['public'],
      retention: AS_LONG_AS_NECESSARY,
      source: 'if you elect to be included in our Individual Member Directory, we will publish your member profile on our site',
    },
    'marketing.email': {
      // "if you sign up for a mailing list, we will ask for your name and contact information" / "we may use your email address to send you information about upcoming events, Foundation news"
      basis: 'consent',
      consentType: 'explicit',
      data: ['name', 'email'],
      ageGate: 'any-collection',
      retention: AS_LONG_AS_NECESSARY,
      // The text names no Global Privacy Control. The law does: GDPR Art. 21(5) lets a
      // person object "by automated means using technical specifications", and an
      // objection to direct marketing is absolute (Art. 21(3)). So Sec-GPC: 1 opts out.
      gpc: true,
      recipients: ['email-service-provider'],
      transfers: [
        {
          to: 'email-service-provider',
          country: 'US',
          // Standard contractual clauses: "a contract that provides the same level of protection"
          // (the text says the DPF alone is "no longer recognized by the EU").
          mechanism: 'scc',
          source: 'We ensure that any transfer of personal data to third parties is covered by a contract that provides the same level of protection.',
        },
      ],
      source: 'if you sign up for a mailing list, we will ask for your name and contact information',
    },
    surveys: {
      // "If you choose to participate in such a survey, you will be asked to submit personal data such as your name, email address, and location."
      basis: 'consent',
      consentType: 'explicit',
      data: ['name', 'email', 'location', 'content'],
      ageGate: 'any-collection',
      retention: AS_LONG_AS_NECESSARY,
      // "Survey Monkey to administer surveys and analyze the results"
      recipients: ['survey-provider'],
      source: 'If you choose to participate in such a survey, you will be asked to submit personal data such as your name, email address, and location.',
    },
    'customer-care': {
      // "when you send us an email ... or via our site to submit a question to openstack.org: we will collect your name and email address."
      basis: 'legitimate-interests',
      data: ['name', 'email', 'content'],
      ageGate: 'any-collection',
      retention: AS_LONG_AS_NECESSARY,
      // "Zendesk to manage incoming email and other requests"
      recipients: ['helpdesk'],
      rights: NO_PORTABILITY,
      source: 'via our site to submit a question to openstack.org: we will collect your name and email address',
    },
    diagnostics: {
      // "we use web visitor IP addresses to help diagnose problems with our servers"
      basis: 'legitimate-interests',
      data: ['ip-address', 'device-info'],
      retention: AS_LONG_AS_NECESSARY,
      recipients: ['hosting'],
      rights: NO_PORTABILITY,
      source: 'we use web visitor IP addresses to help diagnose problems with our servers, and to administer our site',
    },
    'site-administration': {
      // "... and to administer our site."
      basis: 'legitimate-interests',
      data: ['ip-address', 'usage-data'],
      retention: AS_LONG_AS_NECESSARY,
      rights: NO_PORTABILITY,
      source: 'we use web visitor IP addresses to help diagnose problems with our servers, and to administer our site',
    },
    'product-improvement': {
      // "we use web visit information to measure interest in and develop our web pages and marketing plans"
      basis: 'legitimate-interests',
      data: ['usage-data', 'device-info', 'cookie-id'],
      retention: AS_LONG_AS_NECESSARY,
      rights: NO_PORTABILITY,
      source: 'we use web visit information to measure interest in and develop our web pages and marketing plans, and administer our site',
    },
    'public-record': {
      // "If you contribute code or documentation ... retain and publish your name in connection with that contribution indefinitely"
      basis: 'legitimate-interests',
      data: ['name'],
      retention: 'indefinite',
      recipients: ['public'],
      // "... indefinitely, even if you ask to you have your name removed": neither an
      // objection nor an erasure stops it (Part X: "we will disclose this to you at the time
      // of the request"; the erasure answer lists it under keptPurposes).
      objection: false,
      survivesErasure: true,
      rights: {
        ...NO_PORTABILITY,
        erasure: { exceptions: [{ reason: 'contribution record', source: 'If you contribute code or documentation to the OpenStack Project we believe our legitimate interest as the manager of the OpenStack Project requires us to retain and publish your name in connection with that contribution indefinitely, even if you ask to you have your name removed.' }] },
      },
      source: 'we believe our legitimate interest as the manager of the OpenStack Project requires us to retain and publish your name in connection with that contribution indefinitely',
    },
    'rights-fulfilment': {
      // "we may retain your name, email and OpenStackID in a separate “deleted members” database. We will use this record only to track our compliance with your deletion request"
      basis: 'legal-obligation',
      data: ['name', 'email', 'username'],
      retention: AS_LONG_AS_NECESSARY,
      // The "deleted members" record outlives the erasure it proves, and serves only that.
      survivesErasure: true,
      rights: {
        ...NO_PORTABILITY,
        erasure: { exceptions: [{ reason: 'deleted-members record', source: 'If you ask to have your individual member data removed, we may retain your name, email and OpenStackID in a separate “deleted members” database. We will use this record only to track our compliance with your deletion request and to respond to any subsequent communications you may have with us' }] },
      },
      source: 'we may retain your name, email and OpenStackID in a separate “deleted members” database. We will use this record only to track our compliance with your deletion request',
    },
    'legal-compliance': {
      // "(ii) to the limited extent necessary to comply with a legal obligation that we are subject to"
      basis: 'legal-obligation',
      data: ['name', 'email', 'ip-address', 'usage-data'],
      retention: AS_LONG_AS_NECESSARY,
      // "exchanging information with government regulatory or law enforcement agencies"
      recipients: ['authorities'],
      survivesErasure: true,
      rights: {
        ...NO_PORTABILITY,
        erasure: { exceptions: [{ reason: 'legal obligation', source: 'We will retain your personal data only for as long as reasonably necessary to fulfil the purpose for which it was collected, and to comply with our legal obligations.' }] },
      },
      source: 'to the limited extent necessary to comply with a legal obligation that we are subject to',
    },
  },
  ageGates: {
    registration: {
      minimumAge: 18,
      source: 'Do not attempt to register as a services user unless you are at least 18 years old.',
    },
    'any-collection': {
      minimumAge: 13,
      source: 'Do not submit information about yourself using our websites or applications if you are under 13.',
    },
  },
  controller: {
    name: 'OpenStack Foundation, d/b/a Open Infrastructure Foundation',
    contact: 'legalnotice@openinfra.dev',
    address: 'PO Box 1903, Austin, Texas 78767',
  },
  security: [
    'We have put in place appropriate security measures to prevent your personal data from being accidentally lost or accessed in an unauthorized manner, including being altered or disclosed.',
    'We have put in place procedures to handle security incidents, including a process for making notifications to you or a data breach as required by law.',
    'We require our service providers to comply with appropriate security measures and to give us notice of security events as necessary for us to meet our security obligations to you.',
  ],
  recipients: {
    // "Mailchimp, Emma, and Sendgrid for outgoing email": service providers "not
    // authorized to ... use your personal data for any purpose other than providing
    // services to us" — processors. The DPF section's onward-transfer principle covers
    // them: personal data received from the EU, sent on to third parties in the US.
    crm: {
      name: 'Salesforce (community relationship management)',
      role: 'processor',
      source: 'Salesforce for community relationship information management',
    },
    webforms: {
      name: 'Formstack (web forms)',
      role: 'processor',
      source: 'Formstack to administer webforms',
    },
    'survey-provider': {
      name: 'Survey Monkey (surveys)',
      role: 'processor',
      source: 'Survey Monkey to administer surveys and analyze the results',
    },
    helpdesk: {
      name: 'Zendesk (incoming email and requests)',
      role: 'processor',
      source: 'Zendesk to manage incoming email and other requests',
    },
    hosting: {
      name: 'Hosting and infrastructure monitoring providers',
      role: 'processor',
      source: 'our site is hosted and monitored by third parties and we use third party infrastructure monitoring services',
    },
    authorities: {
      name: 'Government regulatory or law enforcement agencies',
      role: 'authority',
      source: 'This may include exchanging information with government regulatory or law enforcement agencies',
    },
    // Declared for the record of processing; no purpose of the preset shares with them
    // (events are not modelled): a badge scan needs the person's consent.
    'event-sponsors': {
      name: 'Event sponsors (badge scans)',
      role: 'controller',
      consentRequired: true,
      source: 'You do not have to permit an event sponsor to scan your event badge',
    },
    'email-service-provider': {
      name: 'Mailchimp, Emma, Sendgrid (outgoing email)',
      role: 'processor',
      country: 'US',
      source: 'Mailchimp, Emma, and Sendgrid for outgoing email',
    },
  },
  logs: { ip: { mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48 } },
  audit: { durability: 'sync' },
  rights: {
    // Part X lists access, correction, erasure, objection, restriction, transfer, withdrawal of consent.
    honoured: ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent'],
    // "We will try to respond to all legitimate requests within one month."
    responseTime: 'P1M',
    // "it may take us longer than a month. In this case, we will notify you and keep you
    // updated": no limit is stated, so the law's applies (GDPR Art. 12(3): two further months).
    extension: 'P2M',
    keepErasureRecord: true,
  },
});
