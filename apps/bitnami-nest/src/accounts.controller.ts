import { randomUUID } from 'node:crypto';
import { Body, Controller, Inject, Post } from '@nestjs/common';
import { AgeGate, PrivacyService, Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, appError, fields, str } from './http';
import type { AppServices } from './http';

/**
 * "We collect information from you when you register on our site": name, e-mail
 * address, username, under a contract, from people 13 or older ("Our website, products
 * and services are all directed to people who are at least 13 years old or older").
 */
@Purpose('service.registration')
@Controller('accounts')
export class AccountsController {
  constructor(
    @Inject(APP_SERVICES) private readonly services: AppServices,
    private readonly privacy: PrivacyService,
  ) {}

  // The age gate reads `dateOfBirth` from the body before this runs; an under-13
  // submission is refused neutrally (403 + lockout cookie) and never reaches the handler.
  @AgeGate('coppa')
  @Post()
  async register(@Body() body: unknown): Promise<{ id: string }> {
    const b = fields(body);
    const name = str(b['name']);
    const email = str(b['email']);
    const username = str(b['username'], 64);
    if (name === undefined || email === undefined || username === undefined) {
      throw appError(400, 'APP_INVALID_ACCOUNT', 'name, email and username are required.');
    }
    const id = randomUUID();
    this.privacy.requireContext().setSubject(id);
    await this.privacy.access({ data: ['name', 'email', 'username'], action: 'collect' });
    // The date of birth is not stored: only the age gate saw it.
    await this.services.store.addAccount({ id, name, email, username, createdAt: new Date().toISOString() });
    return { id };
  }
}
