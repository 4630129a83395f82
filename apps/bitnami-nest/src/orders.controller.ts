import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Inject, Param, Post, Req } from '@nestjs/common';
import { AgeGate, PrivacyService, Purpose } from '@purposekit/nestjs';
import { isCardNumber } from './payment-gateway';
import { APP_SERVICES, UUID, appError, fields, requireAccount, requireOperator, str } from './http';
import type { AppRequest, AppServices } from './http';

/** An order as the API shows it: the card only as its last four digits. */
export interface OrderView {
  id: string;
  product: string;
  quantity: number;
  /** Gone once the retention sweep erased the card data. */
  cardLast4?: string;
  /** A recurring subscription: billed with the card until cancelled. */
  subscription: boolean;
  cancelledAt?: string;
  placedAt: string;
}

/**
 * Orders, under a contract ("to process transactions"). The card number is handled only
 * under `payment` ("used for billing purposes by BitRock or BitRock's agent only. It is
 * not otherwise shared with any third parties"): it goes to the payment gateway and the
 * order keeps the gateway's token and the last four digits, never the number.
 */
@Purpose('order-fulfilment')
@Controller('orders')
export class OrdersController {
  constructor(
    @Inject(APP_SERVICES) private readonly services: AppServices,
    private readonly privacy: PrivacyService,
  ) {}

  @AgeGate('coppa')
  @Post()
  async place(@Req() req: AppRequest, @Body() body: unknown): Promise<OrderView> {
    const account = await requireAccount(this.services.store, req);
    const b = fields(body);
    const product = str(b['product'], 100);
    const quantity = b['quantity'] ?? 1;
    if (product === undefined || typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > 100) {
      throw appError(400, 'APP_INVALID_ORDER', 'product (a name) and quantity (1 to 100) are required.');
    }
    const card = fields(b['card']);
    const number = typeof card['number'] === 'string' ? card['number'].replace(/[\s-]/g, '') : '';
    // The number itself is never echoed, logged or kept.
    if (!isCardNumber(number)) throw appError(400, 'APP_INVALID_CARD', 'card.number is not a valid card number.');

    const ctx = this.privacy.requireContext();
    ctx.setSubject(account);
    await this.privacy.access({ data: ['order-history'], action: 'collect' });
    // Billing is a purpose of its own: the card number is checked and recorded under
    // `payment`, shared with the one recipient the policy names, in the same request.
    const { token, last4 } = await this.privacy.runAs({ purpose: 'payment', actor: 'billing', subject: account, requestId: ctx.requestId }, () => this.services.gateway.tokenize(number));
    const order = { id: randomUUID(), account, product, quantity, cardToken: token, cardLast4: last4, subscription: b['subscription'] === true, placedAt: new Date().toISOString() };
    await this.services.store.addOrder(order);
    return view(order);
  }

  @Get()
  async mine(@Req() req: AppRequest): Promise<{ orders: OrderView[] }> {
    const account = await requireAccount(this.services.store, req);
    await this.privacy.access({ subject: account, data: ['order-history'], action: 'read' });
    return { orders: (await this.services.store.ordersOf(account)).map(view) };
  }

  /**
   * The customer cancels a recurring subscription: the card may be kept "solely for the
   * purpose of processing your recurring subscription payments until such a subscription
   * is cancelled", so its retention clock starts now (the next sweep erases it).
   */
  @Post(':id/cancel')
  async cancel(@Req() req: AppRequest, @Param('id') id: string): Promise<OrderView> {
    const account = await requireAccount(this.services.store, req);
    const order = UUID.test(id) ? await this.services.store.order(id) : undefined;
    if (order === undefined || order.account !== account || !order.subscription) throw appError(404, 'APP_NOT_FOUND', 'No such subscription.');
    await this.privacy.access({ subject: account, data: ['order-history'], action: 'update' });
    return view((await this.services.store.cancelSubscription(id, new Date().toISOString()))!);
  }

  /**
   * The shop tells the customer about their order ("information and updates pertaining
   * to your order"): a contract purpose of its own, which an unsubscribe does not stop.
   * The operator's action (the operator token).
   */
  @Purpose('notifications')
  @Post(':id/notify')
  async notify(@Req() req: AppRequest, @Param('id') id: string): Promise<{ sent: true }> {
    requireOperator(this.services, req);
    const order = UUID.test(id) ? await this.services.store.order(id) : undefined;
    if (order === undefined) throw appError(404, 'APP_NOT_FOUND', 'No such order.');
    await this.privacy.access({ subject: order.account, data: ['email', 'name', 'order-history'], action: 'use' });
    await this.services.store.send({ to: order.account, kind: 'order-notice', order: order.id, at: new Date().toISOString() });
    return { sent: true };
  }
}

function view(o: { id: string; product: string; quantity: number; cardLast4?: string; subscription?: boolean; cancelledAt?: string; placedAt: string }): OrderView {
  return {
    id: o.id,
    product: o.product,
    quantity: o.quantity,
    ...(o.cardLast4 !== undefined ? { cardLast4: o.cardLast4 } : {}),
    subscription: o.subscription === true,
    ...(o.cancelledAt !== undefined ? { cancelledAt: o.cancelledAt } : {}),
    placedAt: o.placedAt,
  };
}
