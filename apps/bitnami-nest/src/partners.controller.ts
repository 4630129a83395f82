import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { Accesses, Purpose } from '@purposekit/nestjs';
import { APP_SERVICES } from './http';
import type { AppServices } from './http';

/**
 * A marketing partner asks for our customer list. The policy says no: "We do not sell,
 * trade, or otherwise transfer to outside parties your personally identifiable
 * information", and no purpose of the bitnami policy names a marketing recipient. The
 * `@Accesses` check runs before the handler: it is denied (`recipient-not-allowed`),
 * recorded as a deny in the trail, and the handler below never runs.
 */
@Purpose('marketing.email')
@Controller('partners')
export class PartnersController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  @Accesses({ data: ['name', 'email'], action: 'share', recipient: 'marketing-partner' })
  @Post('share')
  @HttpCode(200)
  async share(): Promise<{ shared: number }> {
    // Unreachable under this policy; here so that the test proves the handler never ran.
    const customers = await this.services.store.accounts();
    return { shared: customers.length };
  }
}
