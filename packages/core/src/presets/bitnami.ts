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
      // "trusted third parties who assist us in operating our website"; and, with consent,
      // anyone: "We therefore will not distribute your personal information to outside parties without your consent."
      recipients: ['service-providers', 'with-your-consent'],
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
      // Card data is kept "solely for the purpose of processing your recurring subscription
      // payments until such a subscription is cancelled": it expires when the subscription
      // ends (an app starts the clock at the transaction for a one-off purchase).
      retention: {
        duration: 'P0D',
        from: 'subscription-end',
        onExpiry: 'erase',
        source: 'After a transaction, your private information (credit cards, social security numbers, financials, etc.) may be kept on file solely for the purpose of processing your recurring subscription payments until such a subscription is cancelled.',
      },
      ageGate: 'coppa',
      source: "BitRock collects credit card information, which is used for billing purposes by BitRock or BitRock's agent only. It is not otherwise shared with any third parties.",
    },
    notifications: {
      // "The email address you provide for order processing may be used to send you information and updates pertaining to your order"
      basis: 'contract',
      data: ['email', 'name', 'order-history'],
      recipients: ['email-service-provider'],
      source: 'The email address you provide for order processing may be used to send you information and updates pertaining to your order',
    },
    'marketing.email': {
      // "... in addition to receiving occasional company news, updates, related product or service information, etc. If at any time you would like to unsubscribe ..."
      basis: 'consent',
      consentType: 'implied',
      data: ['email', 'name'],
      ageGate: 'coppa',
      // No GPC behaviour is stated, and none is imposed: CCPA's GPC rule is an opt-out of
      // sale and sharing, and Bitnami sells and shares nothing ("We do not sell, trade").
      gpc: false,
      recipients: ['email-service-provider'],
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
      // "We may contract with third-party service providers to assist us in better understanding our site visitors."
      recipients: ['service-providers'],
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
    'service-providers': {
      name: 'Trusted third parties who assist in operating the site and business',
      role: 'processor',
      source: 'This does not include trusted third parties who assist us in operating our website, conducting our business, or servicing you, so long as those parties agree to keep this information confidential.',
    },
    'email-service-provider': {
      name: 'Email notifications sent on BitRock\'s behalf',
      role: 'processor',
      source: "to send email notifications on BitRock's behalf",
    },
    'with-your-consent': {
      name: 'An outside party you consent to',
      role: 'controller',
      consentRequired: true,
      source: 'We therefore will not distribute your personal information to outside parties without your consent.',
    },
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
    // "request that we remove you from our email list": the withdrawal of the implied
    // consent to the newsletter, the only choice the text offers. No right to object is
    // stated, and none binds this US policy.
    honoured: ['withdraw-consent'],
  },
});
