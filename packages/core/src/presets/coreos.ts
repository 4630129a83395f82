import { definePolicy } from '../policy/define-policy';
import type { Policy } from '../policy/types';

/**
 * CoreOS privacy policy (last revised 26 January 2015; seed 000).
 *
 * Reading notes — the honest reading of a vague text:
 * - "By using any of our Services, you consent to our collection, use and disclosure":
 *   consent by use. Analytics and product improvement are modelled as consent of type
 *   IMPLIED: allowed until the person refuses or withdraws. That is only defensible because
 *   the policy is US-only ("governed by U.S. law"); put it under EU and validation warns.
 * - Log information "including ... IP address" is used "for analytic and product
 *   improvement purposes" — the two purposes that may touch `ip-address` (and security,
 *   for "detect, investigate and prevent any suspected breaches").
 * - Promotional email can be opted out of while account notices continue: two purposes,
 *   `marketing.email` (implied consent, withdrawable, GPC applies) and `notifications`
 *   (contract).
 * - No age gate: the text states none.
 * - Account deletion "on request" is answered through the rights endpoints, which record
 *   under `rights-fulfilment`: contract, not legal obligation, because the text offers it
 *   as part of the service (a US-only policy of 2015 owed no statutory erasure).
 * - Retention is "as required by law or for legitimate business purposes".
 */
export const coreos: Policy = definePolicy({
  id: 'coreos',
  version: '2015-01-26',
  title: 'Privacy Policy - CoreOS',
  source: 'https://coreos.com/legal/privacy',
  jurisdictions: ['US'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': {
      // "Provide, deliver, maintain, test and improve our Services"
      basis: 'contract',
      data: ['usage-data', 'device-info', 'cookie-id'],
      retention: 'as-required-by-law',
      // "With vendors, consultants and other service providers who need access to such
      // information to carry out work on our behalf"; "With your consent or at your direction".
      recipients: ['service-providers', 'with-your-consent'],
      source: 'Provide, deliver, maintain, test and improve our Services',
    },
    'service.registration': {
      // "The Services allow users to sign up for CoreOS products" / "your name, email address, credit/debit card information"
      basis: 'contract',
      data: ['name', 'email', 'payment'],
      retention: 'as-required-by-law',
      // "We collect information you directly give us"; and from "a site like Google.com or GitHub.com".
      sources: ['data-subject', 'third-party'],
      source: 'The types of information we may collect include your name, email address, credit/debit card information and any other information you choose to provide.',
    },
    'account-management': {
      // "If you wish to delete your account, please email us"
      basis: 'contract',
      data: ['name', 'email'],
      source: 'If you wish to delete your account, please email us at partners@coreos.com.',
    },
    'rights-fulfilment': {
      // "If you wish to delete your account, please email us" and "You may opt out of receiving promotional communications": answering those requests.
      basis: 'contract',
      data: ['name', 'email'],
      source: 'If you wish to delete your account, please email us at partners@coreos.com. Note that we may retain certain information as required by law or for legitimate business purposes as may be necessary to fulfill the purposes identified in the privacy policy.',
    },
    analytics: {
      // "We log information about your use of the Services, including the type of device you use, access times, IP address, pages viewed ... We use this information for analytic and product improvement purposes."
      basis: 'consent',
      consentType: 'implied',
      data: ['ip-address', 'usage-data', 'device-info', 'device-id', 'cookie-id'],
      recipients: ['analytics-provider'],
      source: 'We log information about your use of the Services, including the type of device you use, access times, IP address, pages viewed, and the page you visited before navigating to one of our Services. We use this information for analytic and product improvement purposes.',
    },
    'product-improvement': {
      // "... for analytic and product improvement purposes" (log info, cookies and web beacons)
      basis: 'consent',
      consentType: 'implied',
      data: ['ip-address', 'usage-data', 'device-info', 'device-id', 'cookie-id'],
      source: 'These technologies are used for analytic and product improvement purposes, such as seeing which areas and features of our Services are popular and determining whether an email has been opened and acted upon.',
    },
    'marketing.email': {
      // "You may opt out of receiving promotional communications from CoreOS by following the instructions in those communications."
      basis: 'consent',
      consentType: 'implied',
      // The text states no Global Privacy Control behaviour, and no law binding this
      // US-only policy makes GPC an opt-out of first-party promotional email (CCPA's GPC
      // rule covers sale and sharing, which CoreOS does not state): GPC changes nothing here.
      gpc: false,
      data: ['email', 'name'],
      source: 'You may opt out of receiving promotional communications from CoreOS by following the instructions in those communications.',
    },
    notifications: {
      // "If you opt out, we may still send you non-promotional communications, such as those about your account"
      basis: 'contract',
      data: ['email', 'name'],
      source: 'If you opt out, we may still send you non-promotional communications, such as those about your account or our ongoing business relations.',
    },
    security: {
      // "Detect, investigate and prevent any suspected breaches of the terms applicable to the use of our Services"
      basis: 'legitimate-interests',
      // No right to object here: an objection must not switch off abuse and attack
      // detection for the very person objecting ("compelling legitimate grounds", Art. 21(1)).
      objection: false,
      data: ['ip-address', 'usage-data', 'device-info'],
      source: 'Detect, investigate and prevent any suspected breaches of the terms applicable to the use of our Services (including our Sites)',
    },
    'customer-care': {
      // "Respond to your comments, questions and requests and provide customer service"
      basis: 'contract',
      data: ['name', 'email', 'content'],
      source: 'Respond to your comments, questions and requests and provide customer service',
    },
    'legal-compliance': {
      // "In response to a request for information if we believe disclosure is in accordance with any applicable law"
      basis: 'legal-obligation',
      data: ['name', 'email', 'ip-address', 'usage-data'],
      recipients: ['authorities'],
      retention: 'as-required-by-law',
      // What the law requires stays after an account is deleted; nothing else does.
      survivesErasure: true,
      rights: { erasure: { exceptions: [{ reason: 'retained as required by law', source: 'Note that we may retain certain information as required by law' }] } },
      source: 'In response to a request for information if we believe disclosure is in accordance with any applicable law, regulation or legal process',
    },
  },
  controller: {
    name: 'CoreOS, Inc.',
    contact: 'partners@coreos.com',
  },
  security: ['We take reasonable measures to help protect information about you from loss, theft, misuse and unauthorized access, disclosure, alteration and destruction.'],
  recipients: {
    // "We and others may use this information to, among other things, analyze and track
    // data": the analytics providers use it for their own ends too, so they are recorded
    // as controllers (the reading that tells the person most). No country is stated.
    'analytics-provider': {
      name: 'Analytics service providers',
      role: 'controller',
      source: 'We may allow others to provide analytics services in connection with the Services',
    },
    'service-providers': {
      name: 'Vendors, consultants and other service providers',
      role: 'processor',
      source: 'With vendors, consultants and other service providers who need access to such information to carry out work on our behalf',
    },
    'with-your-consent': {
      name: 'A third party you consent to, or direct us to share with',
      role: 'controller',
      consentRequired: true,
      source: 'With your consent or at your direction, including if we notify you through any of the Services that the information you provide will be shared in a particular manner and you provide such information.',
    },
    authorities: {
      name: 'Authorities (legal process)',
      role: 'authority',
      source: 'In response to a request for information if we believe disclosure is in accordance with any applicable law, regulation or legal process',
    },
  },
  logs: { ip: { mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48 } },
  rights: {
    // Account deletion on request; opt out of promotional email (the withdrawal of the
    // implied consent). No right to object is stated, and none binds a US-only policy.
    honoured: ['erasure', 'withdraw-consent'],
  },
});
