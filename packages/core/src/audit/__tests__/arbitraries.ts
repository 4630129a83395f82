// fast-check generators of audit events the validator accepts, shared by the encoding tests.
import fc from 'fast-check';
import type { AuditEventInput } from '../types';
import { pseudonymize } from './helpers';

// Strings the validator accepts: printable, including non-ASCII and astral characters.
export const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '9', ' ', '"', '\\', '/', 'é', 'ß', '€', '日', '😀', '_', '-', '.', '~', '\u2028'), minLength: 1, maxLength: 24 });
const attributeValue = fc.oneof(text, fc.boolean(), fc.integer({ min: -1e9, max: 1e9 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }));

export const eventArb: fc.Arbitrary<AuditEventInput> = fc.record(
  {
    kind: fc.constantFrom('access', 'consent', 'age-gate', 'rights'),
    actor: text,
    subject: fc.integer({ min: 0, max: 1000 }).map((n) => pseudonymize(`s${n}`)),
    data: fc.array(text, { maxLength: 5 }),
    action: text,
    purpose: text,
    basis: text,
    policy: fc.record({ id: text, version: text }),
    requestId: text,
    decision: fc.constantFrom('allow' as const, 'deny' as const),
    reason: text,
    recipient: text,
    attributes: fc.dictionary(fc.constantFrom('gate', 'state', 'right', 'due', 'x.y', 'Zz', 'a-b', 'n1'), attributeValue, { maxKeys: 5 }),
  },
  { requiredKeys: ['kind', 'policy'] },
) as fc.Arbitrary<AuditEventInput>;
