import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { isPurposekitError } from '@purposekit/core';
import { AgeGate, PrivacyService, Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, appError, bearer, fields, str } from './http';
import type { AppRequest, AppServices } from './http';

/**
 * The newsletter: "occasional company news, updates, related product or service
 * information", sent to the email address given for order processing and to visitors who
 * subscribe. Implied consent (the policy's `consentType: 'implied'`): allowed until the
 * person unsubscribes ("If at any time you would like to unsubscribe from receiving
 * future emails"). A withdrawal stops the newsletter, not the order notices.
 */
@Purpose('marketing.email')
@Controller('newsletter')
export class NewsletterController {
  constructor(
    @Inject(APP_SERVICES) private readonly services: AppServices,
    private readonly privacy: PrivacyService,
  ) {}

  /** A visitor subscribes (13+, as everything that collects personal data). */
  @AgeGate('coppa')
  @Post()
  async subscribe(@Body() body: unknown): Promise<{ id: string }> {
    const b = fields(body);
    const email = str(b['email']);
    const name = str(b['name']);
    if (email === undefined) throw appError(400, 'APP_INVALID_SUBSCRIBER', 'email is required.');
    const id = randomUUID();
    this.privacy.requireContext().setSubject(id);
    await this.privacy.access({ data: name === undefined ? ['email'] : ['email', 'name'], action: 'collect' });
    await this.services.store.addSubscriber({ id, email, ...(name !== undefined ? { name } : {}), subscribedAt: new Date().toISOString() });
    // The subscription form is the notice-and-choice moment: recorded as implied consent given.
    await this.services.consent.give(id, 'marketing.email', { source: 'form' });
    return { id };
  }

  /**
   * The unsubscribe link of each email (the demo takes the account or subscriber id as a
   * bearer token). Records the withdrawal; a visitor's address is removed from the list.
   */
  @Post('unsubscribe')
  @HttpCode(200)
  async unsubscribe(@Req() req: AppRequest): Promise<{ unsubscribed: true }> {
    const id = bearer(req);
    const store = this.services.store;
    const known = id !== undefined && ((await store.account(id)) !== undefined || (await store.subscribers()).some((s) => s.id === id));
    if (!known) throw appError(401, 'APP_UNAUTHENTICATED', 'Send Authorization: Bearer <account or subscriber id>.');
    await this.services.consent.withdraw(id, 'marketing.email', { source: 'form' });
    await store.removeSubscriber(id);
    return { unsubscribed: true };
  }

  /**
   * Sends this issue of the newsletter to every customer and subscriber the policy allows
   * (an operator's action or a job in a real shop; authentication is out of scope here).
   * Each recipient is one access decision in the trail; a deny skips that recipient.
   */
  @Post('send')
  @HttpCode(200)
  async send(): Promise<{ sent: string[]; skipped: Array<{ id: string; reason: string }> }> {
    const store = this.services.store;
    const recipients = [...(await store.accounts()).map((a) => a.id), ...(await store.subscribers()).map((s) => s.id)];
    const sent: string[] = [];
    const skipped: Array<{ id: string; reason: string }> = [];
    for (const id of recipients) {
      try {
        await this.privacy.access({ subject: id, data: ['email', 'name'], action: 'use' });
      } catch (e) {
        // A deny is an answer (recorded already); anything else (the trail cannot write) fails the send.
        if (!isPurposekitError(e) || e.code !== 'PURPOSEKIT_ERR_ACCESS_DENIED') throw e;
        skipped.push({ id, reason: String(e.details?.['reason']) });
        continue;
      }
      await store.send({ to: id, kind: 'newsletter', at: new Date().toISOString() });
      sent.push(id);
    }
    return { sent, skipped };
  }
}
