import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { isPurposekitError } from '@purposekit/core';
import { Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, UUID, appError, fields, requireOperator } from './http';
import type { AppRequest, AppServices } from './http';

/**
 * The operator's side of the one right the policy offers: "You may also contact us via
 * email, phone or mail ... to request that we remove you from our email list". Every
 * route requires the operator token.
 */
/**
 * A malformed body to a rights call: the engine names it an invalid option (500
 * elsewhere: a programming error); here it is the operator's input, so 400.
 */
async function operatorInput<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isPurposekitError(err) && err.code === 'PURPOSEKIT_ERR_INVALID_OPTION') throw appError(400, 'APP_INVALID_OPERATOR_REQUEST', 'The body does not name a rights request (requestId, subject, right) with a valid reason, date or duration; see the README.');
    throw err;
  }
}

@Controller('operator')
export class OperatorController {
  constructor(@Inject(APP_SERVICES) private readonly services: AppServices) {}

  // A removal asked for by phone or mail: { subject } (an account or subscriber id). The
  // request is recorded as received, the consent withdrawn, a visitor's address removed,
  // and the request completed: a withdrawal is never refused.
  @Purpose('rights-fulfilment')
  @Post('rights/unsubscribe')
  @HttpCode(200)
  async unsubscribe(@Req() req: AppRequest, @Body() body: unknown): Promise<unknown> {
    requireOperator(this.services, req);
    const { store, consent, rights } = this.services;
    const subject = fields(body)['subject'];
    const known = typeof subject === 'string' && UUID.test(subject) && ((await store.account(subject)) !== undefined || (await store.subscribers()).some((s) => s.id === subject));
    if (!known) throw appError(404, 'APP_NOT_FOUND', 'No such account or subscriber.');
    const { requestId, due } = await rights.receive({ subject, right: 'withdraw-consent' });
    await consent.withdraw(subject, 'marketing.email', { source: 'import' });
    await store.removeSubscriber(subject);
    await rights.complete({ requestId, subject, right: 'withdraw-consent' });
    return { requestId, status: 'completed', due };
  }

  // The policy states no deadline and no extension, and none is imposed outside the EU/UK:
  // the engine answers 409 PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED.
  @Purpose('rights-fulfilment')
  @Post('rights/extend')
  @HttpCode(200)
  async extend(@Req() req: AppRequest, @Body() body: unknown): Promise<unknown> {
    requireOperator(this.services, req);
    const b = fields(body);
    const { due } = await operatorInput(this.services.rights.extend({ requestId: String(b['requestId']), subject: String(b['subject']), right: 'withdraw-consent', receivedAt: String(b['receivedAt']), reason: String(b['reason']) }));
    return { requestId: b['requestId'], status: 'extended', due };
  }
}
