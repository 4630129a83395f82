import { randomUUID } from 'node:crypto';
import { Controller, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import { requirePrivacyContext } from '@purposekit/core';
import { Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, UUID, appError, requireOperator, subjectOf } from './http';
import type { AppRequest, AppServices } from './http';
import type { EmailKind } from './store';

/** What a mailing answers: counts only, never an address. */
export interface MailingResult {
  sent: number;
  skipped: number;
}

/**
 * Promotional email with its opt-out, and the account notices that continue after it:
 * "You may opt out of receiving promotional communications ... If you opt out, we may
 * still send you non-promotional communications, such as those about your account".
 *
 * The two mailing routes are operator actions (a campaign, a service notice) that touch
 * every account: they require the operator's token (`Authorization: Bearer <operator
 * token>`, see the README).
 */
@Controller('email')
export class EmailController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  // "by following the instructions in those communications": the opt-out link of a
  // promotion (`?m=<message id>`, one click, RFC 8058 style), or the account holder's
  // own request with the bearer token. Withdraws the implied consent to `marketing.email`
  // only: `notifications` (contract) is untouched.
  @Purpose('marketing.email')
  @Post('opt-out')
  @HttpCode(200)
  async optOut(@Req() req: AppRequest, @Query('m') m: unknown): Promise<unknown> {
    const { consent, store } = this.services;
    let subject = await subjectOf(store, req);
    if (subject === undefined && typeof m === 'string' && UUID.test(m.toLowerCase())) {
      subject = (await store.message(m.toLowerCase()))?.subject;
    }
    if (subject === undefined) throw appError(401, 'APP_UNAUTHENTICATED', 'Follow the opt-out link of a promotional email, or send Authorization: Bearer <account id>.');
    const p = requirePrivacyContext();
    p.setSubject(subject);
    const record = await consent.withdraw(subject, 'marketing.email', { source: 'form', context: p });
    return { purpose: 'marketing.email', state: record.state };
  }

  // "Communicate with you about products, services, offers, promotions": one access per
  // recipient under marketing.email (implied consent). Whoever opted out is skipped, and
  // the deny (consent-withdrawn) is on the trail.
  // Sec-GPC: 1 changes nothing here: the CoreOS text states no GPC behaviour and no law
  // binding this US-only policy makes it an opt-out of first-party promotions
  // (docs/presets/coreos.md); the opt-out link is the person's choice.
  @Purpose('marketing.email')
  @Post('promotions')
  async promotions(@Req() req: AppRequest): Promise<MailingResult> {
    requireOperator(this.services, req);
    return this.mailing('promotion', 'CoreOS Enterprise Registry: new features this month');
  }

  // "Send you technical notices, updates, confirmations, security alerts and support and
  // administrative messages": contract, so an opt-out of promotions does not stop them.
  @Purpose('notifications')
  @Post('notices')
  async notices(@Req() req: AppRequest): Promise<MailingResult> {
    requireOperator(this.services, req);
    return this.mailing('account-notice', 'Your CoreOS account: scheduled maintenance');
  }

  private async mailing(kind: EmailKind, title: string): Promise<MailingResult> {
    const { store } = this.services;
    const p = requirePrivacyContext();
    p.setActor('operator');
    const result: MailingResult = { sent: 0, skipped: 0 };
    const accounts = await store.accounts();
    // One checkEach() for the whole list: a decision (and a trail record) per account, all
    // committed together; whoever opted out is skipped, the deny on the trail.
    const decisions = await p.checkEach(accounts.map((a) => a.id), { data: ['email', 'name'], action: 'use' });
    for (const [i, a] of accounts.entries()) {
      if (!decisions[i]!.allowed) {
        result.skipped += 1;
        continue;
      }
      await store.addMessage({ id: randomUUID(), subject: a.id, kind, to: a.email, title, sentAt: new Date().toISOString() });
      result.sent += 1;
    }
    return result;
  }
}
