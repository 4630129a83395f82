/**
 * A stand-in for the payment gateway provider ("encrypted into our Payment gateway
 * providers database"): it takes the card number, keeps it on its side, and gives the
 * shop a token and the last four digits. This demo keeps nothing at all: the token is
 * random. The app wraps it with `kit.bind`, so every call is an access to `payment`
 * data shared with the recipient `payment-gateway`, checked and recorded first.
 */
import { randomBytes } from 'node:crypto';

/** What the shop may keep of a card. */
export interface CardToken {
  token: string;
  last4: string;
}

/** Luhn check: catches typos before anything is sent anywhere. */
export function isCardNumber(digits: string): boolean {
  if (!/^[0-9]{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export class PaymentGateway {
  /** Hands the card number to the gateway; returns what the shop may keep. */
  async tokenize(cardNumber: string): Promise<CardToken> {
    return { token: `tok_${randomBytes(12).toString('hex')}`, last4: cardNumber.slice(-4) };
  }
}
