import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { isPurposekitError, requirePrivacyContext } from '@purposekit/core';
import type { RefusalReason, Right } from '@purposekit/core';
import { Purpose } from '@purposekit/nestjs';
import { APP_SERVICES, UUID, appError, bodyObject, requireOperator, str } from './http';
import type { AppRequest, AppServices } from './http';

const RIGHTS_ON_EMAIL: readonly string[] = ['erasure', 'withdraw-consent'];

/**
 * The operator's side (privacy team, legal): every route requires the operator token.
 * Rights requests that arrive by email ("please email us at partners@coreos.com") are
 * recorded, refused or extended here, under the same request ids as the endpoints'.
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

  // An emailed request: { subject: <account id>, right }. Recorded as received with its due date.
  @Purpose('rights-fulfilment')
  @Post('rights/receive')
  @HttpCode(201)
  async receive(@Req() req: AppRequest, @Body() body: unknown): Promise<unknown> {
    requireOperator(this.services, req);
    const b = bodyObject(body);
    const subject = str(b['subject'], 36)?.toLowerCase();
    if (subject === undefined || !UUID.test(subject) || typeof b['right'] !== 'string' || !RIGHTS_ON_EMAIL.includes(b['right'])) {
      throw appError(400, 'APP_INVALID_RIGHTS_REQUEST', 'subject (an account id) and right (erasure or withdraw-consent) are required.');
    }
    return operatorInput(this.services.rights.receive({ subject, right: b['right'] as Right }));
  }

  // "we may refuse": { requestId, subject, right, reason: unfounded | excessive | identity-not-verified }.
  @Purpose('rights-fulfilment')
  @Post('rights/refuse')
  @HttpCode(200)
  async refuse(@Req() req: AppRequest, @Body() body: unknown): Promise<unknown> {
    requireOperator(this.services, req);
    const b = bodyObject(body);
    await operatorInput(this.services.rights.refuse({ requestId: String(b['requestId']), subject: String(b['subject']), right: b['right'] as Right, reason: b['reason'] as RefusalReason }));
    return { requestId: b['requestId'], status: 'refused' };
  }

  // CoreOS promises no extension and no law binding it imposes one: the engine answers
  // 409 PURPOSEKIT_ERR_EXTENSION_NOT_ALLOWED (rights.extension is unset outside the EU/UK).
  @Purpose('rights-fulfilment')
  @Post('rights/extend')
  @HttpCode(200)
  async extend(@Req() req: AppRequest, @Body() body: unknown): Promise<unknown> {
    requireOperator(this.services, req);
    const b = bodyObject(body);
    const { due } = await operatorInput(this.services.rights.extend({ requestId: String(b['requestId']), subject: String(b['subject']), right: b['right'] as Right, receivedAt: String(b['receivedAt']), reason: String(b['reason']) }));
    return { requestId: b['requestId'], status: 'extended', due };
  }

  // "In response to a request for information if we believe disclosure is in accordance
  // with any applicable law": { subject } → name and email shared with the authorities
  // (recipient `authorities`), under legal-compliance, which the policy keeps after an
  // account's deletion. CoreOS is US-only: no transfer abroad is recorded.
  @Purpose('legal-compliance')
  @Post('legal-disclosure')
  @HttpCode(200)
  async disclose(@Req() req: AppRequest, @Body() body: unknown): Promise<unknown> {
    requireOperator(this.services, req);
    const subject = str(bodyObject(body)['subject'], 36)?.toLowerCase();
    if (subject === undefined || !UUID.test(subject)) throw appError(400, 'APP_INVALID_SUBJECT', 'subject (an account id) is required.');
    const decision = await requirePrivacyContext().access({ subject, data: ['name', 'email'], action: 'share', recipient: 'authorities' });
    const account = await this.services.store.account(subject);
    const kept = await this.services.store.erasureRecord(subject);
    return { decision: decision.reason, disclosed: account !== undefined ? { name: account.name, email: account.email } : kept !== undefined ? { erasureRecord: kept } : null };
  }
}
