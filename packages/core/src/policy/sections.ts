/**
 * Policy sections other than purposes and age gates: custom vocabulary, controller,
 * security, named recipients, logs, audit, signals and rights. Each resolver reports its
 * problems to the shared {@link Checker} and returns a resolved (frozen) value.
 * @internal
 */
import { DATA_CATEGORIES, PURPOSES, RIGHTS } from '../vocabulary';
import { COUNTRY, FrozenSet, ID, join } from './checker';
import type { Checker } from './checker';
import { durationSeconds, parseDuration } from './duration';
import { show } from './suggest';
import type { ControllerInput, Policy, RecipientRole, ResolvedIpLog, ResolvedRecipient } from './types';

/** Recipient roles. */
export const RECIPIENT_ROLES: readonly RecipientRole[] = ['processor', 'controller', 'joint-controller', 'authority', 'public'];
const RECIPIENT_KEYS = ['name', 'role', 'country', 'consentRequired', 'source'] as const;

/** Custom purposes and categories, before anything refers to them. */
export function resolveVocabulary(c: Checker, raw: Record<string, unknown>): {
  customPurposes: Map<string, { description: string; iri: string | undefined }>;
  categories: Set<string>;
} {
  const customPurposes = new Map<string, { description: string; iri: string | undefined }>();
  if (raw['customPurposes'] !== undefined && c.object(raw['customPurposes'], 'customPurposes')) {
    for (const [key, def] of Object.entries(raw['customPurposes'])) {
      const path = join('customPurposes', key);
      if (Object.hasOwn(PURPOSES, key)) {
        c.error(path, 'redefines-built-in', `redefines the built-in purpose "${key}".`, 'Built-in meanings cannot change; pick another id.');
        continue;
      }
      if (!ID.test(key)) c.error(path, 'format', 'must be lower-case letters, digits, ".", "_" or "-".');
      if (!c.object(def, path)) continue;
      c.knownKeys(def, path, ['description', 'iri']);
      const description = c.string(def['description'], join(path, 'description'), true);
      const iri = c.string(def['iri'], join(path, 'iri'), false);
      if (description !== undefined) customPurposes.set(key, { description, iri });
    }
  }
  const categories = new Set<string>(Object.keys(DATA_CATEGORIES));
  if (raw['customCategories'] !== undefined && c.object(raw['customCategories'], 'customCategories')) {
    for (const [key, description] of Object.entries(raw['customCategories'])) {
      const path = join('customCategories', key);
      if (Object.hasOwn(DATA_CATEGORIES, key)) {
        c.error(path, 'redefines-built-in', `redefines the built-in data category "${key}".`);
        continue;
      }
      if (!ID.test(key)) c.error(path, 'format', 'must be lower-case letters, digits, ".", "_" or "-".');
      if (c.string(description, path, true) !== undefined) categories.add(key);
    }
  }
  return { customPurposes, categories };
}

/** `controller`: who decides the processing, and how to reach them. */
export function resolveController(c: Checker, raw: unknown): Readonly<ControllerInput> | undefined {
  if (raw === undefined || !c.object(raw, 'controller')) return undefined;
  c.knownKeys(raw, 'controller', ['name', 'contact', 'address', 'dpo', 'representative']);
  const name = c.string(raw['name'], 'controller.name', true);
  const contact = c.string(raw['contact'], 'controller.contact', true);
  const out: ControllerInput = { name: name ?? '', contact: contact ?? '' };
  for (const k of ['address', 'dpo', 'representative'] as const) {
    const v = c.string(raw[k], `controller.${k}`, false);
    if (v !== undefined) out[k] = v;
  }
  return Object.freeze(out);
}

/** `security`: Art. 30(1)(g) general description, one measure per entry. */
export function resolveSecurity(c: Checker, raw: unknown): readonly string[] {
  return Object.freeze(stringList(c, raw, 'security'));
}

/** A list of non-empty strings (undefined: empty). */
export function stringList(c: Checker, raw: unknown, path: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    c.error(path, 'type', `must be a list of strings, got ${show(raw)}.`);
    return [];
  }
  const out: string[] = [];
  raw.forEach((v, i) => {
    const s = c.string(v, `${path}[${i}]`, true);
    if (s !== undefined) out.push(s);
  });
  return out;
}

/** One recipient declaration (top level, or inline in a purpose). */
export function resolveRecipient(c: Checker, raw: unknown, path: string, reference: string): ResolvedRecipient | undefined {
  if (!c.object(raw, path)) return undefined;
  c.knownKeys(raw, path, RECIPIENT_KEYS);
  if (raw['role'] === undefined) c.error(join(path, 'role'), 'required', 'is required.', `Use one of: ${RECIPIENT_ROLES.join(', ')}.`);
  const role = c.oneOf(raw['role'], join(path, 'role'), RECIPIENT_ROLES, 'recipient role');
  const country = c.string(raw['country'], join(path, 'country'), false);
  if (country !== undefined && !COUNTRY.test(country)) {
    c.error(join(path, 'country'), 'country', `${show(country)} is not an ISO 3166-1 alpha-2 code.`, 'Use upper-case two-letter codes such as US, DE, GB.');
  }
  const name = c.string(raw['name'], join(path, 'name'), false) ?? reference;
  const consentRequired = c.boolean(raw['consentRequired'], join(path, 'consentRequired')) ?? false;
  const source = c.string(raw['source'], join(path, 'source'), false);
  if (role === undefined) return undefined;
  return Object.freeze({ name, role, country: country !== undefined && COUNTRY.test(country) ? country : undefined, consentRequired, source });
}

/** Top-level `recipients`: name → declaration. */
export function resolveRecipients(c: Checker, raw: unknown): Map<string, ResolvedRecipient> {
  const out = new Map<string, ResolvedRecipient>();
  if (raw === undefined || !c.object(raw, 'recipients')) return out;
  for (const [key, def] of Object.entries(raw)) {
    const path = join('recipients', key);
    if (!ID.test(key)) c.error(path, 'format', 'recipient names must be lower-case letters, digits, ".", "_" or "-" (at most 64).');
    const r = resolveRecipient(c, def, path, key);
    if (r !== undefined) out.set(key, r);
  }
  return out;
}

/** `logs.ip`. */
export function resolveIpLog(c: Checker, logs: unknown): ResolvedIpLog {
  const fallback: ResolvedIpLog = Object.freeze({ mode: 'truncate', ipv4Prefix: 24, ipv6Prefix: 48, keyId: undefined, truncateFirst: false });
  if (logs === undefined || !c.object(logs, 'logs')) return fallback;
  c.knownKeys(logs, 'logs', ['ip']);
  const ip = logs['ip'];
  if (ip === undefined || !c.object(ip, 'logs.ip')) return fallback;
  const mode = c.oneOf(ip['mode'], 'logs.ip.mode', ['truncate', 'pseudonymize'] as const, 'IP log mode') ?? 'truncate';
  c.knownKeys(ip, 'logs.ip', mode === 'truncate' ? ['mode', 'ipv4Prefix', 'ipv6Prefix'] : ['mode', 'keyId', 'truncateFirst', 'ipv4Prefix', 'ipv6Prefix']);
  // A prefix longer than /24 (v4) or /64 (v6) keeps so much of the address that it is
  // effectively the full IP in a log line, which this library exists to prevent.
  const v4 = c.integer(ip['ipv4Prefix'], 'logs.ip.ipv4Prefix', 0, 24, 'Matomo levels: 24 (1 byte removed), 16 (2 bytes), 8 (3 bytes).');
  const v6 = c.integer(ip['ipv6Prefix'], 'logs.ip.ipv6Prefix', 0, 64, 'Familiar settings: 64, 48 (default), 32.');
  return Object.freeze({
    mode,
    ipv4Prefix: v4 ?? 24,
    ipv6Prefix: v6 ?? 48,
    keyId: mode === 'pseudonymize' ? c.string(ip['keyId'], 'logs.ip.keyId', false) : undefined,
    truncateFirst: mode === 'pseudonymize' ? (c.boolean(ip['truncateFirst'], 'logs.ip.truncateFirst') ?? false) : false,
  });
}

/** `audit`. */
export function resolveAudit(c: Checker, raw: unknown): Policy['audit'] {
  if (raw === undefined || !c.object(raw, 'audit')) return Object.freeze({ durability: 'sync', checkpointEvery: 1000, checkpointIntervalMs: 5000 });
  c.knownKeys(raw, 'audit', ['durability', 'checkpointEvery', 'checkpointIntervalMs']);
  return Object.freeze({
    durability: c.oneOf(raw['durability'], 'audit.durability', ['sync', 'batched', 'async'] as const, 'durability mode') ?? 'sync',
    checkpointEvery: c.integer(raw['checkpointEvery'], 'audit.checkpointEvery', 1, 1_000_000) ?? 1000,
    checkpointIntervalMs: c.integer(raw['checkpointIntervalMs'], 'audit.checkpointIntervalMs', 10, 86_400_000) ?? 5000,
  });
}

/** `signals`. */
export function resolveSignals(c: Checker, raw: unknown): Policy['signals'] {
  if (raw === undefined || !c.object(raw, 'signals')) return Object.freeze({ gpcVersusConsent: 'gpc', serveGpcJson: false });
  c.knownKeys(raw, 'signals', ['gpcVersusConsent', 'serveGpcJson']);
  return Object.freeze({
    gpcVersusConsent: c.oneOf(raw['gpcVersusConsent'], 'signals.gpcVersusConsent', ['gpc', 'consent'] as const, 'GPC conflict rule') ?? 'gpc',
    serveGpcJson: c.boolean(raw['serveGpcJson'], 'signals.serveGpcJson') ?? false,
  });
}

const ONE_MONTH = durationSeconds(parseDuration('P1M')!);
const TWO_MONTHS = durationSeconds(parseDuration('P2M')!);

/** `rights`: what is honoured, the answer deadline and its extension. */
export function resolveRights(c: Checker, raw: unknown, eu: boolean): Policy['rights'] {
  const defaults = { honoured: new FrozenSet<string>(RIGHTS), responseTime: 'P1M', extension: eu ? 'P2M' : undefined, keepErasureRecord: true };
  if (raw === undefined || !c.object(raw, 'rights')) return Object.freeze(defaults);
  c.knownKeys(raw, 'rights', ['honoured', 'responseTime', 'extension', 'keepErasureRecord']);
  const honoured = new Set<string>();
  if (raw['honoured'] !== undefined) {
    if (!Array.isArray(raw['honoured'])) c.error('rights.honoured', 'type', `must be a list of rights, got ${show(raw['honoured'])}.`);
    else raw['honoured'].forEach((h, i) => {
      const v = c.oneOf(h, `rights.honoured[${i}]`, RIGHTS, 'right');
      if (v !== undefined) honoured.add(v);
    });
  }
  const responseTime = c.duration(raw['responseTime'], 'rights.responseTime') ?? 'P1M';
  if (eu && parseDuration(responseTime) !== undefined && durationSeconds(parseDuration(responseTime)!) > ONE_MONTH) {
    c.warn('rights.responseTime', 'beyond-one-month', `${responseTime} is longer than the one month GDPR Art. 12(3) allows (extensions need notice to the person).`);
  }
  let extension: string | undefined = defaults.extension;
  if (raw['extension'] === false) extension = undefined;
  else if (raw['extension'] !== undefined) {
    extension = c.duration(raw['extension'], 'rights.extension');
    if (eu && extension !== undefined && durationSeconds(parseDuration(extension)!) > TWO_MONTHS) {
      c.error('rights.extension', 'beyond-two-months', `${extension} is longer than the "two further months" GDPR Art. 12(3) allows.`, 'Use P2M or less, or false for no extension.');
    }
  }
  return Object.freeze({
    honoured: new FrozenSet(raw['honoured'] === undefined ? RIGHTS : honoured),
    responseTime,
    extension,
    keepErasureRecord: c.boolean(raw['keepErasureRecord'], 'rights.keepErasureRecord') ?? true,
  });
}
