import { Controller, Get } from '@nestjs/common';
import { bitnami, signalDisclosure } from '@purposekit/core';
import { PrivacyService } from '@purposekit/nestjs';

const DISCLOSURE = signalDisclosure(bitnami);

/**
 * CalOPPA asks a site to disclose how it responds to Do Not Track. No personal data here:
 * the routes rely on the policy's default purpose (service.provision) on purpose.
 */
@Controller()
export class PrivacyInfoController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get()
  index() {
    return {
      app: 'bitnami-nest',
      policy: `${bitnami.id}@${bitnami.version}`,
      routes: [
        'POST /accounts',
        'POST /orders',
        'GET /orders',
        'POST /orders/:id/cancel',
        'POST /orders/:id/notify',
        'POST /newsletter',
        'POST /newsletter/unsubscribe',
        'POST /newsletter/send',
        'POST /partners/share',
        'GET /privacy/dnt',
        'POST /privacy/consent',
        'POST /operator/rights/unsubscribe',
        'POST /operator/rights/extend',
      ],
    };
  }

  /** The statement, and what this request's DNT header said (`DNT: 1` → true, else false). */
  @Get('privacy/dnt')
  dnt() {
    const signals = this.privacy.requireContext().signals;
    return {
      dnt: { received: signals.dnt === true, statement: DISCLOSURE.dnt },
      gpc: { received: signals.gpc === true, statement: DISCLOSURE.gpc },
    };
  }
}
