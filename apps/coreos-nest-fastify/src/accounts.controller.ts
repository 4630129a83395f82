import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Inject, Post, Req } from '@nestjs/common';
import { requirePrivacyContext } from '@purposekit/core';
import { Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, appError, bodyObject, requireSubject, str } from './http';
import type { AppRequest, AppServices } from './http';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Sign-up, the account itself, its deletion, and the demo inbox. */
@Controller()
export class AccountsController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  // Undeclared on purpose: the policy's default purpose (service.provision). Touches no personal data.
  @Get()
  index(): unknown {
    const { kit } = this.services;
    return {
      app: 'coreos-nest-fastify',
      policy: `${kit.policyId}@${kit.policyVersion}`,
      routes: [
        'POST /signup',
        'GET /account',
        'POST /privacy/erasure',
        'POST /privacy/consent',
        'GET /inbox',
        'POST /analytics/events',
        'POST /analytics/opt-out',
        'GET /beacon.gif?m=<message id>',
        'POST /email/opt-out',
        'POST /email/promotions',
        'POST /email/notices',
        'POST /operator/rights/receive',
        'POST /operator/rights/refuse',
        'POST /operator/rights/extend',
        'POST /operator/legal-disclosure',
      ],
    };
  }

  // "The Services allow users to sign up for CoreOS products" with "your name, email
  // address". The policy states no minimum age, so there is no age gate: nothing asks for
  // (or keeps) a date of birth. Any other field of the body is ignored, never stored.
  @Purpose('service.registration')
  @Post('signup')
  async signup(@Body() body: unknown): Promise<{ id: string; token: string }> {
    const b = bodyObject(body);
    const name = str(b['name']);
    const email = str(b['email'], 254);
    if (name === undefined || email === undefined || !EMAIL.test(email)) {
      throw appError(400, 'APP_INVALID_SIGNUP', 'name (at most 200 characters) and email (an email address) are required.');
    }
    const id = randomUUID();
    const p = requirePrivacyContext();
    p.setSubject(id);
    await p.access({ data: ['name', 'email'], action: 'collect' });
    await this.services.store.addAccount({ id, name, email, createdAt: new Date().toISOString() });
    return { id, token: id };
  }

  // The account holder reads their own account.
  @Purpose('account-management')
  @Get('account')
  async account(@Req() req: AppRequest): Promise<unknown> {
    const { store } = this.services;
    const subject = await requireSubject(store, req);
    const p = requirePrivacyContext();
    p.setSubject(subject);
    await p.access({ data: ['name', 'email'], action: 'read' });
    const a = await store.account(subject);
    return { account: a };
  }

  // Stand-in for the account holder's mail client: the messages sent to them, each with
  // its web beacon and, for promotions, the opt-out link ("by following the instructions
  // in those communications").
  @Purpose('account-management')
  @Get('inbox')
  async inbox(@Req() req: AppRequest): Promise<unknown> {
    const { store } = this.services;
    const subject = await requireSubject(store, req);
    const p = requirePrivacyContext();
    p.setSubject(subject);
    await p.access({ data: ['email'], action: 'read' });
    const messages = (await store.inbox(subject)).map((m) => ({
      id: m.id,
      kind: m.kind,
      title: m.title,
      sentAt: m.sentAt,
      beacon: `/beacon.gif?m=${m.id}`,
      ...(m.kind === 'promotion' ? { optOut: `/email/opt-out?m=${m.id}` } : {}),
    }));
    return { messages };
  }
}
