import { definePolicy } from '../policy/define-policy';
import type { Policy } from '../policy/types';

/**
 * Bitnami / BitRock privacy policy (2010, archived 2018; seed 001).
 *
 * Reading notes:
 * - A US policy (CalOPPA, COPPA). "By using our site, you consent" is notice-and-choice, so
 *   the newsletter is modelled as IMPLIED consent (opt-out: "If at any time you would like
 *   to unsubscribe"): allowed until the person opts out. Under a US-only jurisdiction this
 *   raises no GDPR warning.
 * - "We do not sell, trade, or otherwise transfer to outside parties": no purpose lists a
 *   marketing recipient and `sell-to-third-parties` is absent, so a share with a partner is
 *   denied by purpose limitation. Card data goes only to the payment gateway, for billing.
 * - One gate, 13, for everything (COPPA).
 */
export const bitnami: Policy = definePolicy({
  id: 'bitnami',
  version: '2010-08-08',
  title: 'Bitnami Privacy Policy (BitRock, Incorporated)',
  source: 'https://bitnami.com/privacy',
  jurisdictions: ['US', 'US-CA'],
  defaultPurpose: 'service.provision',
  purposes: {
    'service.provision': {
      // "We use cookies to help us remember and process the items in your shopping cart, understand and save your preferences for future visits"
      basis: 'legitimate-interests',
      data: ['cookie-id', 'preferences', 'device-info'],
      ageGate: 'coppa',
      source: 'We use cookies to help us remember and process the items in your shopping cart, understand and save your preferences for future visits',
    },
    'service.registration': {
      // "We collect information from you when you register on our site ... name, e-mail address ... username and password"
      basis: 'contract',
      data: ['name', 'email', 'username', 'credentials', 'employer', 'contact'],
      ageGate: 'coppa',
      source: 'We collect information from you when you register on our site, place an order, subscribe to our newsletter',
    },
    'order-fulfilment': {
      // "Any of the information we collect from you may be used to ... process transactions."
      basis: 'contract',
      data: ['name', 'email', 'contact', 'order-history'],
      ageGate: 'coppa',
      source: 'Any of the information we collect from you may be used to manage accounts, register visitors in programs, answer questions, improve our website, improve our customer service, and to process transactions.',
    },
    payment: {
      // "BitRock collects credit card information, which is used for billing purposes by BitRock or BitRock's agent only. It is not otherwise shared with any third parties."
      basis: 'contract',
      data: ['payment', 'name'],
      recipients: ['payment-gateway'],
      ageGate: 'coppa',
      source: "BitRock collects credit card information, which is used for billing purposes by BitRock or BitRock's agent only. It is not otherwise shared with any third parties.",
    },
    notifications: {
      // "The email address you provide for order processing may be used to send you information and updates pertaining to your order"
      basis: 'contract',
      data: ['email', 'name', 'order-history'],
      source: 'The email address you provide for order processing may be used to send you information and updates pertaining to your order',
    },
    'marketing.email': {
      // "... in addition to receiving occasional company news, updates, related product or service information, etc. If at any time you would like to unsubscribe ..."
      basis: 'consent',
      consentType: 'implied',
      data: ['email', 'name'],
      ageGate: 'coppa',
      source: 'in addition to receiving occasional company news, updates, related product or service information, etc. If at any time you would like to unsubscribe from receiving future emails, we include detailed unsubscribe instructions',
    },
    'product-improvement': {
      // "we may also collect information from downloaded, pulled or deployed images or instances, such as the instance type, IP address and operating system version ... in order to improve our product offerings"
      basis: 'legitimate-interests',
      data: ['ip-address', 'device-info', 'usage-data'],
      source: 'we may also collect information from downloaded, pulled or deployed images or instances, such as the instance type, IP address and operating system version or the Bitnami account used to launch the image in order to improve our product offerings',
    },
    analytics: {
      // "compile aggregate data about site traffic and site interaction so that we can offer better site experiences"
      basis: 'legitimate-interests',
      data: ['cookie-id', 'usage-data', 'device-info'],
      source: 'compile aggregate data about site traffic and site interaction so that we can offer better site experiences and tools in the future',
    },
    'customer-care': {
      // "... file a support request ... send us an inquiry"
      basis: 'contract',
      data: ['name', 'email', 'content'],
      ageGate: 'coppa',
      source: 'We collect information from you when you ... file a support request ... send us an inquiry',
    },
    'rights-fulfilment': {
      // "You may also contact us via email, phone or mail ... to request that we remove you from our email list."
      // Honouring an unsubscribe is an obligation of US email law (CAN-SPAM), hence legal-obligation.
      basis: 'legal-obligation',
      data: ['email', 'name'],
      source: 'You may also contact us via email, phone or mail at the addresses provided at the end of this document to request that we remove you from our email list.',
    },
    'legal-compliance': {
      // "We may also release your information when we believe release is appropriate to comply with the law"
      basis: 'legal-obligation',
      data: ['name', 'email', 'order-history'],
      recipients: ['authorities'],
      source: 'We may also release your information when we believe release is appropriate to comply with the law',
    },
  },
  ageGates: {
    coppa: {
      minimumAge: 13,
      source: 'Our website, products and services are all directed to people who are at least 13 years old or older.',
    },
  },
  controller: {
    name: 'BitRock Incorporated',
    contact: 'info@bitnami.com',
    address: '650 Mission Street, 3rd Floor, San Francisco, CA 94105',
  },
  security: [
    'We implement a variety of security measures to maintain the safety of your personal information when you place an order.',
    'All supplied sensitive/credit information is transmitted via Secure Socket Layer (SSL) technology and then encrypted into our Payment gateway providers database',
  ],
  recipients: {
    'payment-gateway': {
      name: 'Payment gateway provider (BitRock\'s agent)',
      role: 'processor',
      source: "BitRock collects credit card information, which is used for billing purposes by BitRock or BitRock's agent only.",
    },
    authorities: {
      name: 'Authorities (to comply with the law)',
      role: 'authority',
      source: 'We may also release your information when we believe release is appropriate to comply with the law',
    },
  },
  logs: { ip: { mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48 } },
  rights: {
    // "request that we remove you from our email list" — the only choice the text offers.
    honoured: ['withdraw-consent', 'objection'],
  },
});
