import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { AgeGate, PrivacyService, Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, appError, bearer, fields, requireOperator, str } from './http';
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
   * Sends this issue of the newsletter to every customer and subscriber the policy allows:
   * the operator's action (the operator token), handed to the email service provider
   * ("to send email notifications on BitRock's behalf": a processor; no transfer is
   * stated). One checkEach() for the whole list: one decision and one trail record per
   * recipient, all committed together; a deny skips that recipient. Sec-GPC: 1 changes
   * nothing: the text states no GPC behaviour (docs/presets/bitnami.md).
   */
  @Post('send')
  @HttpCode(200)
  async send(@Req() req: AppRequest): Promise<{ sent: string[]; skipped: Array<{ id: string; reason: string }> }> {
    requireOperator(this.services, req);
    const store = this.services.store;
    const recipients = [...(await store.accounts()).map((a) => a.id), ...(await store.subscribers()).map((s) => s.id)];
    const ctx = this.privacy.requireContext();
    ctx.setActor('operator');
    const decisions = await ctx.checkEach(recipients, { data: ['email', 'name'], action: 'share', recipient: 'email-service-provider' });
    const sent: string[] = [];
    const skipped: Array<{ id: string; reason: string }> = [];
    for (const [i, id] of recipients.entries()) {
      const d = decisions[i]!;
      if (!d.allowed) {
        skipped.push({ id, reason: d.reason });
        continue;
      }
      await store.send({ to: id, kind: 'newsletter', at: new Date().toISOString() });
      sent.push(id);
    }
    return { sent, skipped };
  }
}
