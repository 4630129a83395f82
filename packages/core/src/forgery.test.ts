/**
 * Issue 17: code must not be able to hand the core a purpose declaration it did not
 * issue, nor change a context's purpose, basis, subject, actor or proven age through any
 * property, so the audit trail never records a basis the policy does not give.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { applyPurpose, begin, checkAgeGate, declarePurpose, runInContext } from './adapter';
import type { PrivacyContext } from './context';
import { isPurposekitError } from './errors';
import { createPurposekit } from './purposekit';
import type { Purposekit, PurposeDeclaration } from './purposekit';
import { ArraySink } from './__tests__/array-sink';

const subjectKey = { id: 'k1', secret: 'f'.repeat(32) };
// Two purposes with different bases: the forgery would turn a contract access into a consent one.
const POLICY = {
  id: 'forgery',
  version: '1',
  jurisdictions: ['EU'],
  purposes: {
    'service.provision': { basis: 'contract', data: ['email'] },
    'marketing.email': { basis: 'consent', data: ['email'] },
  },
  rights: { honoured: [] },
};
const BASIS_OF: Record<string, string> = { 'service.provision': 'contract', 'marketing.email': 'consent' };

function setup(): { kit: Purposekit; audit: ArraySink; ctx: PrivacyContext } {
  const audit = new ArraySink();
  const kit = createPurposekit({ policy: POLICY as never, audit, subjectKey });
  const ctx = begin(kit, { headers: {}, remoteAddress: '192.0.2.1' });
  return { kit, audit, ctx };
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return isPurposekitError(e) ? e.code : `other: ${String(e)}`;
  }
};

/** Every access record names the basis its purpose has in the policy, or none without a purpose. */
function expectTruthfulTrail(audit: ArraySink): void {
  for (const e of audit.events) {
    if (e.purpose === undefined) expect(e.basis).toBeUndefined();
    else expect(e.basis).toBe(BASIS_OF[e.purpose]);
  }
}

describe('only declarations the engine issued are applied', () => {
  it.each<[string, (kit: Purposekit) => unknown]>([
    ['a hand-built object', () => ({ purpose: 'service.provision', basis: 'consent' })],
    ['a hand-built object with the true basis', () => ({ purpose: 'service.provision', basis: 'contract' })],
    ['a copy of an issued declaration', (kit) => ({ ...declarePurpose(kit, 'service.provision') })],
    ['an object inheriting from an issued declaration', (kit) => Object.create(declarePurpose(kit, 'service.provision'))],
    ['a proxy around an issued declaration', (kit) => new Proxy(declarePurpose(kit, 'service.provision'), { get: (t, p) => (p === 'basis' ? 'consent' : Reflect.get(t, p)) })],
    ['a declaration issued by another engine with the same policy', () => declarePurpose(createPurposekit({ policy: POLICY as never, audit: new ArraySink(), subjectKey }), 'marketing.email')],
    ['undefined', () => undefined],
    ['a string', () => 'marketing.email'],
  ])('refuses %s with PURPOSEKIT_ERR_FORGED_DECLARATION and records nothing under it', async (_name, make) => {
    const { kit, audit, ctx } = setup();
    const decl = make(kit) as PurposeDeclaration;
    expect(codeOf(() => applyPurpose(kit, ctx, decl))).toBe('PURPOSEKIT_ERR_FORGED_DECLARATION');
    expect(ctx.purpose).toBeUndefined();
    await expect(runInContext(kit, ctx, () => ctx.access({ subject: 'u1', data: ['email'], action: 'read' }))).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_PURPOSE_UNDECLARED' });
    expect(audit.events.map((e) => [e.purpose, e.basis])).toEqual([[undefined, undefined]]);
  });

  it('issued declarations are frozen: their basis cannot be rewritten', () => {
    const { kit } = setup();
    const decl = declarePurpose(kit, 'service.provision') as { basis: string };
    expect(Object.isFrozen(decl)).toBe(true);
    expect(() => {
      decl.basis = 'consent';
    }).toThrow(TypeError);
  });

  it('refuses a context another engine created', () => {
    const { kit } = setup();
    const other = setup();
    expect(codeOf(() => applyPurpose(kit, other.ctx, declarePurpose(kit, 'service.provision')))).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
  });
});

describe('context state is private', () => {
  const STATE_NAMES = ['_purpose', '_basis', '_subject', '_actor', '_ageProven', '_engine', 'purpose', 'basis', 'subject', 'actor', 'ageProven', 'engine', '#basis', '#purpose'];

  it('holds no state in own properties: only the read-only request facts', () => {
    const { ctx } = setup();
    expect(Reflect.ownKeys(ctx).sort()).toEqual(['clientIp', 'country', 'policyId', 'policyVersion', 'requestId', 'signals']);
  });

  it.each(STATE_NAMES)('writing "%s" (assignment, Object.assign, defineProperty) changes nothing the trail records', async (name) => {
    const { kit, audit, ctx } = setup();
    applyPurpose(kit, ctx, declarePurpose(kit, 'service.provision'));
    ctx.setSubject('u1');
    const forged = name.includes('engine') ? { access: async () => ({ allowed: true }) } : name.includes('age') ? 99 : 'newsletter-consent';
    try {
      (ctx as unknown as Record<string, unknown>)[name] = name.includes('basis') ? 'consent' : forged;
    } catch {
      // a getter without setter refuses assignment in strict mode: fine
    }
    try {
      Object.assign(ctx, { [name]: name.includes('basis') ? 'consent' : forged });
    } catch {
      // same
    }
    Object.defineProperty(ctx, name, { value: name.includes('basis') ? 'consent' : forged, configurable: true });
    await runInContext(kit, ctx, () => ctx.access({ data: ['email'], action: 'read' }));
    await kit.access({ data: ['email'], action: 'read' }, ctx);
    expect(audit.events).toHaveLength(2);
    for (const e of audit.events) expect([e.purpose, e.basis, e.decision]).toEqual(['service.provision', 'contract', 'allow']);
    expect(new Set(audit.events.map((e) => e.subject)).size).toBe(1);
    expectTruthfulTrail(audit);
  });

  it('redefining the prototype getters changes nothing the trail records', async () => {
    const { kit, audit, ctx } = setup();
    applyPurpose(kit, ctx, declarePurpose(kit, 'service.provision'));
    const proto = Object.getPrototypeOf(ctx) as object;
    const saved = Object.getOwnPropertyDescriptor(proto, 'basis')!;
    try {
      Object.defineProperty(proto, 'basis', { get: () => 'consent', configurable: true });
      expect(ctx.basis).toBe('consent'); // what the caller reads is its own business…
      await kit.access({ subject: 'u1', data: ['email'], action: 'read' }, ctx);
    } finally {
      Object.defineProperty(proto, 'basis', saved);
    }
    // …what the trail records is not.
    expect(audit.events.map((e) => [e.purpose, e.basis])).toEqual([['service.provision', 'contract']]);
  });

  it.each<[string, (ctx: PrivacyContext) => unknown]>([
    ['an object with the context prototype', (ctx) => Object.setPrototypeOf({ requestId: 'x', signals: {}, country: undefined, _purpose: 'marketing.email', _basis: 'contract' }, Object.getPrototypeOf(ctx))],
    ['an object inheriting from a real context', (ctx) => Object.create(ctx)],
    ['a spread copy of a real context', (ctx) => ({ ...ctx, purpose: 'marketing.email', basis: 'contract' })],
    ['a proxy around a real context', (ctx) => new Proxy(ctx, {})],
  ])('refuses %s as a context (access, record, applyPurpose, age gate) with a typed error', async (_name, make) => {
    const { kit, audit, ctx } = setup();
    const fake = make(ctx) as PrivacyContext;
    await expect(kit.access({ subject: 'u1', data: ['email'], action: 'read' }, fake)).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_NO_CONTEXT' });
    await expect(kit.record('consent', fake, { subject: 'u1', purpose: 'marketing.email' })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_NO_CONTEXT' });
    expect(codeOf(() => applyPurpose(kit, fake, declarePurpose(kit, 'service.provision')))).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
    await expect(checkAgeGate(kit, fake, { gate: {}, check: () => ({ ok: true }) } as never, { body: {}, cookieHeader: undefined })).rejects.toMatchObject({ code: 'PURPOSEKIT_ERR_NO_CONTEXT' });
    expect(audit.events).toEqual([]);
  });

  it('cannot be constructed outside the core', () => {
    const { ctx } = setup();
    const Ctor = ctx.constructor as new (...args: unknown[]) => PrivacyContext;
    const engine = { policyId: 'forgery', policyVersion: '1', access: async () => ({}) };
    expect(codeOf(() => new Ctor(engine, 'r', {}, '0.0.0.0', undefined, 'marketing.email', 'contract'))).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
    expect(codeOf(() => new Ctor(Symbol('purposekit.context.create'), engine, 'r', {}, '0.0.0.0', undefined, 'marketing.email', 'contract'))).toBe('PURPOSEKIT_ERR_NO_CONTEXT');
  });

  it('property: whatever is written to a context under any name, every record shows the basis the policy gives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('service.provision', 'marketing.email'),
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...STATE_NAMES), fc.string({ maxLength: 12 })), fc.oneof(fc.constantFrom('consent', 'contract', 'legal-obligation', 'service.provision', 'marketing.email'), fc.anything())), { maxLength: 6 }),
        async (purpose, writes) => {
          const { kit, audit, ctx } = setup();
          applyPurpose(kit, ctx, declarePurpose(kit, purpose));
          for (const [name, value] of writes) {
            try {
              Object.defineProperty(ctx, name, { value, configurable: true, writable: true });
            } catch {
              // a non-configurable own property (requestId…) stays as it is
            }
          }
          await kit.access({ subject: 'u1', data: ['email'], action: 'read' }, ctx).catch((e: unknown) => {
            if (!isPurposekitError(e) || e.code !== 'PURPOSEKIT_ERR_ACCESS_DENIED') throw e;
          });
          expect(audit.events).toHaveLength(1);
          expect([audit.events[0]!.purpose, audit.events[0]!.basis]).toEqual([purpose, BASIS_OF[purpose]]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the emitted declaration of the context names no state field', () => {
    const source = readFileSync(path.join(__dirname, 'context.ts'), 'utf8');
    const dts = ts.transpileDeclaration(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, declaration: true, strict: true } }).outputText;
    const classText = dts.slice(dts.indexOf('export declare class PrivacyContext'));
    expect(classText).toContain('#private;');
    expect(classText).toContain('private constructor');
    for (const name of ['_purpose', '_basis', '_subject', '_actor', '_ageProven', '_engine']) expect(dts).not.toContain(name);
  });
});
