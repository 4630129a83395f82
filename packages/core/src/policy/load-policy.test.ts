import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPurposekitError } from '../errors';
import fc from 'fast-check';
import { loadPolicy, policyFromText } from './load-policy';

const dir = mkdtempSync(join(tmpdir(), 'pk-policy-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return isPurposekitError(e) ? e.code : `not a purposekit error: ${String(e)}`;
  }
  return 'no error';
};

describe('loadPolicy', () => {
  it('loads YAML', () => {
    const p = loadPolicy(file('ok.yaml', 'id: demo\nversion: "1"\njurisdictions: [US]\npurposes:\n  diagnostics:\n    basis: legitimate-interests\n    data: [ip-address]\n    retention: P30D\n'));
    expect(p.purposes['diagnostics']!.basis).toBe('legitimate-interests');
  });

  it('loads JSON', () => {
    const p = loadPolicy(file('ok.json', JSON.stringify({ id: 'demo', version: '1', jurisdictions: ['US'], purposes: { security: { basis: 'legitimate-interests', data: ['ip-address'] } } })));
    expect(Object.keys(p.purposes)).toEqual(['security']);
  });

  it.each([
    ['a missing file', () => loadPolicy(join(dir, 'nope.yaml')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['an unsupported extension', () => loadPolicy(file('p.toml', 'id = 1')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['broken YAML', () => loadPolicy(file('bad.yaml', 'id: [unclosed\n')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['broken JSON', () => loadPolicy(file('bad.json', '{"id": ')), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['a YAML alias bomb', () => loadPolicy(file('bomb.yaml', `a: &a [x,x,x,x,x,x,x,x,x,x]\n${Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`).join('\n')}\n`)), 'PURPOSEKIT_ERR_POLICY_LOAD'],
    ['a file that parses but is invalid', () => loadPolicy(file('invalid.yaml', 'id: demo\nversion: "1"\njurisdictions: [US]\npurposes: {}\n')), 'PURPOSEKIT_ERR_POLICY_INVALID'],
    ['a file that is not an object', () => loadPolicy(file('list.yaml', '- a\n- b\n')), 'PURPOSEKIT_ERR_POLICY_INVALID'],
  ])('rejects %s with a typed error', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

describe('loadPolicy: duplicate keys, prototype names, empty keys', () => {
  const thrown = (fn: () => unknown): { code: string; message: string; details?: Readonly<Record<string, unknown>> } => {
    try {
      fn();
    } catch (e) {
      if (!isPurposekitError(e)) throw new Error(`expected a PurposekitError, got ${String(e)}`);
      return e;
    }
    throw new Error('expected an error, none thrown');
  };
  const policyJson = (purposes: string, extra = ''): string =>
    `{"id": "demo", "version": "1", "jurisdictions": ["US"],${extra}\n "purposes": ${purposes}}`;

  it.each([
    ['a top-level key', `{"id": "demo", "id": "other", "version": "1", "jurisdictions": ["US"], "purposes": {"security": {"basis": "legitimate-interests", "data": ["ip-address"]}}}`, 'id', 1],
    ['a purpose field', policyJson('{"security": {"basis": "consent",\n "data": ["ip-address"],\n "basis": "legitimate-interests"}}'), 'purposes.security.basis', 4],
    ['a purpose', policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"]},\n"security": {"basis": "consent", "data": ["ip-address"]}}'), 'purposes.security', 3],
    ['a name written with an escape', policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"], "\\u0062asis": "consent"}}'), 'purposes.security.basis', 2],
    ['a key inside an array element', policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"]}}', ' "x": [1, {"a": 1, "a": 2}],'), 'x[1].a', 1],
    ['a non-identifier key', policyJson('{"a b": 1, "a b": 2}'), 'purposes["a b"]', 2],
    ['the empty key', policyJson('{"": 1, "": 2}'), 'purposes[""]', 2],
  ])('a duplicate JSON key (%s) is refused with its path', (_what, text, path, line) => {
    const e = thrown(() => loadPolicy(file(`dup-${Math.random().toString(36).slice(2)}.json`, text)));
    expect(e.code).toBe('PURPOSEKIT_ERR_POLICY_LOAD');
    expect(e.message).toContain(`the key ${path} twice (line ${line})`);
    expect(e.details).toEqual({ path, line });
  });

  it('a duplicate YAML key is refused too', () => {
    const e = thrown(() => loadPolicy(file('dup.yaml', 'id: demo\nid: other\nversion: "1"\njurisdictions: [US]\npurposes: {security: {basis: consent, data: [ip-address]}}\n')));
    expect(e.code).toBe('PURPOSEKIT_ERR_POLICY_LOAD');
  });

  it('equal values in different objects are not duplicates', () => {
    const p = loadPolicy(file('nodup.json', policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"], "description": "basis"}, "fraud-prevention": {"basis": "legitimate-interests", "data": ["ip-address"]}}')));
    expect(Object.keys(p.purposes).sort()).toEqual(['fraud-prevention', 'security']);
  });

  // Names on Object.prototype are ordinary names: declared, they work; undeclared, they
  // get the same error as any other unknown name.
  const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
  const customPurpose = (name: string): string =>
    policyJson(`{${JSON.stringify(name)}: {"basis": "consent", "data": ["ip-address"]}}`, ` "customPurposes": {${JSON.stringify(name)}: {"description": "a purpose named like a prototype member"}},`);

  it.each(PROTO_NAMES.map((n) => [n]))('a custom purpose named %s is an ordinary purpose (declared: usable; badly formed: the format error)', (name) => {
    for (const format of ['json', 'yaml'] as const) {
      const text = customPurpose(name);
      const path = file(`proto-${format}-${Math.random().toString(36).slice(2)}.${format}`, text);
      if (/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
        const p = loadPolicy(path);
        expect(Object.keys(p.purposes)).toEqual([name]);
        expect(p.purposes[name]!.basis).toBe('consent');
        expect(p.purposes[name]!.iri).toBeUndefined();
      } else {
        const e = thrown(() => loadPolicy(path));
        expect(e.code).toBe('PURPOSEKIT_ERR_POLICY_INVALID');
        expect(e.message).not.toContain('redefines the built-in');
        expect(e.message).toContain(`must be lower-case letters`);
      }
    }
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['description']).toBeUndefined();
  });

  it.each(PROTO_NAMES.map((n) => [n]))('a custom category named %s is an ordinary category', (name) => {
    const text = policyJson(`{"security": {"basis": "legitimate-interests", "data": [${JSON.stringify(name)}]}}`, ` "customCategories": {${JSON.stringify(name)}: "a category named like a prototype member"},`);
    const path = file(`cat-${Math.random().toString(36).slice(2)}.json`, text);
    if (/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
      expect([...loadPolicy(path).purposes['security']!.data]).toEqual([name]);
    } else {
      const e = thrown(() => loadPolicy(path));
      expect(e.message).not.toContain('redefines the built-in');
    }
  });

  it.each(PROTO_NAMES.map((n) => [n]))('an undeclared purpose named %s gets the unknown-purpose error', (name) => {
    const e = thrown(() => loadPolicy(file(`undeclared-${Math.random().toString(36).slice(2)}.json`, policyJson(`{${JSON.stringify(name)}: {"basis": "consent", "data": ["ip-address"]}}`))));
    expect(e.code).toBe('PURPOSEKIT_ERR_POLICY_INVALID');
    expect(e.message).toContain('is not a built-in purpose and not in customPurposes');
  });

  it('age gates and countries named like prototype members are ordinary names', () => {
    const text = policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"], "ageGate": "constructor"}}', ' "ageGates": {"constructor": {"minimumAge": 13, "countries": {"__proto__": 16, "constructor": 16}}},');
    const e = thrown(() => loadPolicy(file('gates.json', text)));
    expect(e.message).toContain('ageGates.constructor.countries.__proto__: "__proto__" is not an ISO 3166-1 alpha-2 code');
    expect(e.message).toContain('ageGates.constructor.countries.constructor: "constructor" is not an ISO 3166-1 alpha-2 code');
    const ok = loadPolicy(file('gates-ok.json', text.replace('"__proto__": 16, "constructor": 16', '"DE": 16')));
    expect(ok.ageGates['constructor']!.countries['DE']).toBe(16);
    expect(Object.getPrototypeOf(ok.ageGates)).toBeNull();
  });

  it('an empty key gets a path at every level', () => {
    const top = thrown(() => loadPolicy(file('empty-top.json', policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"]}}', ' "": 1,'))));
    expect(top.message).toContain('  - [""]: is not a policy field.');
    const inner = thrown(() => loadPolicy(file('empty-inner.json', policyJson('{"security": {"basis": "legitimate-interests", "data": ["ip-address"], "": 1}}'))));
    expect(inner.message).toContain('  - purposes.security[""]: is not a policy field.');
  });
});

describe('loadPolicy (property): random JSON policies', () => {
  // Keys drawn from the policy's own fields, prototype names, the empty key and noise;
  // values from JSON scalars and nested objects/arrays. The text is written by hand so
  // duplicate keys occur too.
  const key = fc.oneof(
    fc.constantFrom('id', 'version', 'jurisdictions', 'purposes', 'customPurposes', 'customCategories', 'ageGates', 'countries', 'minimumAge', 'basis', 'data', 'logs', 'ip', 'mode', 'rights', 'signals', 'audit', 'defaultPurpose', 'ageGate', 'security', 'analytics'),
    fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', ''),
    fc.string({ maxLength: 6 }),
  );
  const scalar = fc.oneof(fc.constantFrom('"consent"', '"ip-address"', '"US"', '"P30D"', 'true', 'null', '13', '-1', '1e400', '"__proto__"', '"constructor"', '""'), fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)), fc.integer().map(String));
  const { value } = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    ),
  }));
  const base = '"id":"demo","version":"1","jurisdictions":["US"],"purposes":{"security":{"basis":"legitimate-interests","data":["ip-address"]}}';
  const policyText = fc.oneof(
    value,
    fc.array(fc.tuple(key, value), { maxLength: 6 }).map((kvs) => `{${base}${kvs.map(([k, v]) => `,${JSON.stringify(k)}:${v}`).join('')}}`),
  );

  it('never throws anything but a PurposekitError, and never changes Object.prototype', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    fc.assert(
      fc.property(policyText, (text) => {
        for (const format of ['json', 'yaml'] as const) {
          try {
            policyFromText(text, format, `random.${format}`, { onWarning: () => undefined });
          } catch (e) {
            if (!isPurposekitError(e)) throw new Error(`${format}: ${String(e)} for ${text}`);
          }
          if (Object.getOwnPropertyNames(Object.prototype).length !== before.length || Object.getPrototypeOf({}) !== Object.prototype) {
            throw new Error(`Object.prototype changed by ${text}`);
          }
          for (const k of ['basis', 'data', 'purposes', 'minimumAge', 'polluted']) {
            if (k in {}) throw new Error(`Object.prototype gained "${k}" from ${text}`);
          }
        }
      }),
      { seed: 0x5eed, numRuns: process.env['CI'] ? 5_000 : 1_000 },
    );
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  }, 60_000); // 5,000 runs in CI: ≈ 3 s alone, more beside the other suites
});

describe('loadPolicy (property): a name on Object.prototype behaves like any other name', () => {
  // Metamorphic: the same random policy with a prototype name, and with an ordinary name
  // of the same shape (valid or not as an id), gives the same outcome: the same issues
  // (rule and path, the name substituted), or the same resolved purposes.
  const PROTO = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable'] as const;
  const ID_LIKE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
  const twin = (name: string): string => (ID_LIKE.test(name) ? 'ordinary-name' : 'Ordinary_Name');
  const basis = fc.constantFrom('consent', 'legitimate-interests', 'contract', 'nonsense');
  const shape = fc.record({
    name: fc.constantFrom(...PROTO),
    asPurpose: fc.boolean(),
    declarePurpose: fc.boolean(),
    asCategory: fc.boolean(),
    declareCategory: fc.boolean(),
    asGate: fc.boolean(),
    declareGate: fc.boolean(),
    asCountry: fc.boolean(),
    asDefault: fc.boolean(),
    basis,
  });
  type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;
  /** The policy as JSON text, written by hand: `{ [n]: … }` with n = `__proto__` would set a prototype, not a key. */
  const build = (s: Shape, n: string): string => {
    const key = JSON.stringify(n);
    const security = `{"basis":"legitimate-interests","data":["ip-address"${s.asCategory ? `,${key}` : ''}]${s.asGate ? `,"ageGate":${key}` : ''}}`;
    const parts = ['"id":"demo"', '"version":"1"', '"jurisdictions":["US"]'];
    if (s.declarePurpose) parts.push(`"customPurposes":{${key}:{"description":"x"}}`);
    if (s.declareCategory) parts.push(`"customCategories":{${key}:"x"}`);
    if (s.declareGate || s.asCountry) parts.push(`"ageGates":{${s.declareGate ? key : '"g"'}:{"minimumAge":13${s.asCountry ? `,"countries":{${key}:16}` : ''}}}`);
    if (s.asDefault) parts.push(`"defaultPurpose":${key}`);
    parts.push(`"purposes":{${s.asPurpose ? `${key}:{"basis":${JSON.stringify(s.basis)},"data":["ip-address"]},` : ''}"security":${security}}`);
    return `{${parts.join(',')}}`;
  };
  const outcome = (text: string, n: string): string => {
    try {
      const p = policyFromText(text, 'json', 'metamorphic.json', { onWarning: () => undefined });
      return `ok ${JSON.stringify(Object.keys(p.purposes).map((k) => (k === n ? '<n>' : k)).sort())} gates ${JSON.stringify(Object.keys(p.ageGates).map((k) => (k === n ? '<n>' : k)))}`;
    } catch (e) {
      if (!isPurposekitError(e)) throw e;
      const issues = (e.details?.['issues'] as Array<{ rule: string; path: string }> | undefined) ?? [{ rule: e.code, path: '' }];
      return `error ${issues.map((i) => `${i.rule}@${i.path.split(n).join('<n>')}`).join(' ')}`;
    }
  };

  it('same outcome with the prototype name and with an ordinary twin', () => {
    fc.assert(
      fc.property(shape, (s) => {
        const n = s.name;
        const t = twin(n);
        const a = outcome(build(s, n), n);
        const b = outcome(build(s, t), t);
        if (a !== b) throw new Error(`${n}: ${a}\n${t}: ${b}`);
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });
});
