import { definePolicy } from '../policy/define-policy';
import type { Policy } from '../policy/types';

/**
 * KubeVirt privacy statement (amended 25 May 2018; seed 002).
 *
 * Reading notes:
 * - Legitimate interests are spelled out per use; IPs are captured "to help diagnose
 *   problems with our servers, to administer our website, and to help ensure the
 *   security" — three purposes, each objectionable.
 * - Google Analytics tracks "times, IP addresses, and pages visited". Under the GDPR and
 *   ePrivacy that needs consent, so analytics is consent-based (explicit) here: the
 *   statement names no basis for it, and this is the reading that survives an EU audit.
 * - Contributor data is public by default ("made public by default") as a public record.
 * - Under 13 never accepted (COPPA): the purposes that take a submission (registration,
 *   questions, surveys) carry the gate; the others only use what those collected.
 * - All GDPR rights apply. Security processing is not open to objection (see `security`).
 */
export const kubevirt: Policy = definePolicy({
  id: 'kubevirt',
  version: '2018-05-25',
  title: 'Privacy Statement for the KubeVirt Project',
  source: 'https://kubevirt.io/privacy/',
  jurisdictions: ['EU', 'US'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': {
      // "It is in KubeVirt’s legitimate business interests to provide you with the information, communications, and services you request"
      basis: 'legitimate-interests',
      data: ['usage-data', 'device-info', 'cookie-id', 'preferences'],
      source: 'It is in KubeVirt’s legitimate business interests to provide you with the information, communications, and services you request',
    },
    'service.registration': {
      // "KubeVirt does not knowingly allow children under the age of 13 to become registered members of our sites." / "identify and authenticate you"
      basis: 'contract',
      data: ['name', 'email', 'username', 'employer', 'location'],
      ageGate: 'coppa',
      source: 'KubeVirt uses the personal data you provide to: … identify and authenticate you',
    },
    authentication: {
      // "Remind us of who you are and to access your account information"
      basis: 'contract',
      data: ['email', 'username', 'cookie-id'],
      source: 'Remind us of who you are and to access your account information (stored on our computers) in order to provide a better and more personalized service.',
    },
    'public-record': {
      // "some personal data attached to KubeVirt accounts is made public by default, particularly: your email address and any display name ...; your github handle."
      basis: 'legitimate-interests',
      data: ['name', 'email', 'username', 'content'],
      recipients: ['public'],
      retention: 'indefinite',
      // "Some of this public data is retained as proof of your contributions, and cannot be
      // removed": it survives an erasure; the rest is removed on request.
      survivesErasure: true,
      rights: {
        erasure: {
          exceptions: [{ reason: 'proof of contributions', source: 'Some of this public data is retained as proof of your contributions, and cannot be removed, so that we can preserve the integrity of our historical project data.' }],
        },
      },
      source: 'some personal data attached to KubeVirt accounts is made public by default, particularly: … your email address and any display name associated with your email; … your github handle.',
    },
    diagnostics: {
      // "We use IP addresses to help diagnose problems with our servers"
      basis: 'legitimate-interests',
      data: ['ip-address', 'device-info'],
      source: 'We use IP addresses to help diagnose problems with our servers, to administer our website, and to help ensure the security of your interaction with our services.',
    },
    'site-administration': {
      // "... to administer our website"
      basis: 'legitimate-interests',
      data: ['ip-address', 'usage-data'],
      source: 'We use IP addresses to help diagnose problems with our servers, to administer our website',
    },
    security: {
      // "... and to help ensure the security of your interaction with our services."
      basis: 'legitimate-interests',
      // No right to object here: an objection must not switch off abuse and attack
      // detection for the very person objecting ("compelling legitimate grounds", Art. 21(1)).
      objection: false,
      data: ['ip-address', 'usage-data', 'device-info'],
      source: 'to help ensure the security of your interaction with our services',
    },
    analytics: {
      // "our project uses Google Analytics to track your website activity, including times, IP addresses, and pages visited"
      basis: 'consent',
      consentType: 'explicit',
      data: ['ip-address', 'usage-data', 'cookie-id'],
      recipients: ['google-analytics'],
      source: 'our project uses Google Analytics to track your website activity, including times, IP addresses, and pages visited',
    },
    'customer-care': {
      // "answer your questions"
      basis: 'legitimate-interests',
      data: ['name', 'email', 'content'],
      ageGate: 'coppa',
      source: 'KubeVirt uses the personal data you provide to: ... answer your questions',
    },
    notifications: {
      // "KubeVirt may send you e-mail about your account ... to fulfill and comply with its contractual obligations to you"
      basis: 'contract',
      data: ['email', 'name'],
      // "As required to provide service, and for e-mail housing"
      recipients: ['email-housing'],
      source: 'KubeVirt may send you e-mail about your account, to inform you of important upcoming KubeVirt events (e.g. elections), or in response to your questions.',
    },
    surveys: {
      // "you participate in surveys and evaluations" / "send you surveys"
      basis: 'consent',
      consentType: 'explicit',
      data: ['name', 'email', 'content'],
      ageGate: 'coppa',
      source: 'KubeVirt collects personal data when: ... you participate in surveys and evaluations',
    },
    research: {
      // "for research activities, including the production of statistical reports (such aggregated information is not used to contact the subjects of the report)"
      basis: 'legitimate-interests',
      data: ['usage-data'],
      source: 'for research activities, including the production of statistical reports (such aggregated information is not used to contact the subjects of the report)',
    },
    'rights-fulfilment': {
      // "you have the following rights, subject to some limitations, against KubeVirt: The right to access ... rectify ... erase ... restrict ... object ... data portability"
      // Answering them is a legal obligation (GDPR Arts. 12-22), and stays lawful under a restriction (Art. 18(2)).
      basis: 'legal-obligation',
      data: ['name', 'email', 'username', 'content', 'usage-data', 'ip-address', 'cookie-id'],
      source: 'Where the EU General Data Protection Regulation 2016/679 (“GDPR”) applies to the processing of your personal data ... you have the following rights, subject to some limitations, against KubeVirt',
    },
    'legal-compliance': {
      // "As required by law (such as responding to a valid subpoena, warrant, audit, or agency action, or to prevent fraud)."
      basis: 'legal-obligation',
      data: ['name', 'email', 'ip-address', 'usage-data'],
      recipients: ['authorities'],
      // Art. 17(3)(b) GDPR: erasure does not reach what the law requires to be kept.
      survivesErasure: true,
      rights: { erasure: { exceptions: [{ reason: 'required by law', source: 'As required by law (such as responding to a valid subpoena, warrant, audit, or agency action, or to prevent fraud).' }] } },
      source: 'As required by law (such as responding to a valid subpoena, warrant, audit, or agency action, or to prevent fraud).',
    },
  },
  ageGates: {
    coppa: {
      minimumAge: 13,
      source: 'KubeVirt does not knowingly accept online personal information from children under the age of 13.',
    },
  },
  controller: {
    name: 'The KubeVirt Project',
    contact: 'privacy@kubevirt.io',
  },
  recipients: {
    // The statement sends people to Google to remove data "from their servers": Google
    // decides about its copy, so it is recorded as a controller. It names no country and
    // no transfer mechanism (a gap under GDPR Art. 13(1)(f); see docs/presets/kubevirt.md).
    'email-housing': {
      name: 'E-mail housing provider',
      role: 'processor',
      source: 'As required to provide service, and for e-mail housing (as a consequence of uses already described in this Privacy Statement).',
    },
    'google-analytics': {
      name: 'Google (Google Analytics)',
      role: 'controller',
      source: 'our project uses Google Analytics to track your website activity, including times, IP addresses, and pages visited',
    },
    authorities: {
      name: 'Authorities (subpoena, warrant, audit, agency action)',
      role: 'authority',
      source: 'As required by law (such as responding to a valid subpoena, warrant, audit, or agency action, or to prevent fraud).',
    },
  },
  logs: { ip: { mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48 } },
  rights: {
    // "Your Rights and Choices in the EEA": access, rectify, erase, restrict, object, portability, withdraw consent.
    honoured: ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent'],
    responseTime: 'P1M',
  },
});
