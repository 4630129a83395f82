import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PurposekitError } from '../errors';
import { definePolicy } from './define-policy';
import type { DefinePolicyOptions } from './define-policy';
import { findDuplicateJsonKey } from './json-duplicates';
import type { Policy, PolicyInput } from './types';

/** The YAML parser, loaded on the first YAML policy only (JSON and preset users never load it). */
function loadYaml(): typeof import('yaml') {
   
  return require('yaml') as typeof import('yaml');
}

/** Largest policy file read; a policy is a page of rules, not a data set. */
const MAX_POLICY_BYTES = 1024 * 1024;

/**
 * Reads a JSON (`.json`) or YAML (`.yaml`, `.yml`) policy file and validates it.
 * Synchronous: it runs once at start-up, before the server listens.
 *
 * Duplicate keys are refused in both formats (JSON, unlike `JSON.parse`, does not keep
 * the last one silently). Names that exist on `Object.prototype` (`constructor`,
 * `__proto__`, `toString`, …) are ordinary names: they never reach or change a prototype.
 *
 * @throws PurposekitError `PURPOSEKIT_ERR_POLICY_LOAD` when the file is missing,
 *   unreadable, too large, not valid JSON/YAML or has a duplicate key (cause attached
 *   where there is one, the path of a duplicate in the message);
 *   `PURPOSEKIT_ERR_POLICY_INVALID` when it parses but fails validation.
 */
export function loadPolicy(path: string, options: DefinePolicyOptions = {}): Policy {
  const ext = extname(path).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) {
    throw new PurposekitError('PURPOSEKIT_ERR_POLICY_LOAD', `Cannot load policy "${path}": the file must end in .json, .yaml or .yml.`);
  }
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_POLICY_BYTES) {
      throw new PurposekitError('PURPOSEKIT_ERR_POLICY_LOAD', `Cannot load policy "${path}": it is ${buf.length} bytes; the limit is ${MAX_POLICY_BYTES}.`);
    }
    text = buf.toString('utf8');
  } catch (cause) {
    if (cause instanceof PurposekitError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown';
    throw new PurposekitError('PURPOSEKIT_ERR_POLICY_LOAD', `Cannot read policy "${path}" (${code}).`, { cause });
  }
  return policyFromText(text, ext === '.json' ? 'json' : 'yaml', path, options);
}

/**
 * Parses policy text and validates it (the part of {@link loadPolicy} after the read).
 * @internal exported for tests.
 */
export function policyFromText(text: string, format: 'json' | 'yaml', path: string, options: DefinePolicyOptions = {}): Policy {
  let data: unknown;
  try {
    // YAML aliases are capped so a "billion laughs" file cannot exhaust memory; the
    // yaml package refuses duplicate keys by default (uniqueKeys).
    data = format === 'json' ? JSON.parse(text) : loadYaml().parse(text, { maxAliasCount: 100, prettyErrors: true, uniqueKeys: true });
  } catch (cause) {
    const where = cause instanceof Error ? cause.message.split('\n')[0] : 'parse error';
    throw new PurposekitError('PURPOSEKIT_ERR_POLICY_LOAD', `Policy "${path}" is not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${where}`, { cause });
  }
  if (format === 'json') {
    const dup = findDuplicateJsonKey(text);
    if (dup !== undefined) {
      throw new PurposekitError(
        'PURPOSEKIT_ERR_POLICY_LOAD',
        `Policy "${path}" has the key ${dup.path} twice (line ${dup.line}); JSON would silently keep the last one. Remove one of them.`,
        { details: { path: dup.path, line: dup.line } },
      );
    }
  }
  return definePolicy(data as PolicyInput, options);
}
