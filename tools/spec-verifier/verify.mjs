#!/usr/bin/env node
// An independent verifier for the purposekit audit trail format, version 1, written from
// docs/audit-format.md alone (every check names the section of that document it implements).
//
//   node tools/spec-verifier/verify.mjs <trail dir | trail file> --public-key <pem> [--public-key <pem>…]
//        [--prefix <prefix>] [--head <head file>] [--partial] [--anchors <anchor file>…] [--stream <name>]
//
// Prints `OK …` and exits 0 when the trail holds; otherwise prints the first problem
// (`FAIL <file>:<line> seq <seq>: <problem>: <detail>`) and exits 1. Usage errors exit 2.
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const canonicalize = require('canonicalize'); // RFC 8785 JCS (§4 step 2 names this package, v2)

const GENESIS = '0'.repeat(64); // §2 `prev`, §3
const HEX64 = /^[0-9a-f]{64}$/; // §2 `hash`: 64 lower-case hex digits
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/; // §2 `ts`
const EVENT_KINDS = new Set(['access', 'consent', 'age-gate', 'rights']); // §2 `kind`
const EVENT_STRINGS = ['actor', 'subject', 'action', 'purpose', 'basis', 'requestId', 'decision', 'reason', 'recipient'];
const EVENT_MEMBERS = new Set(['policy', 'data', 'attributes', ...EVENT_STRINGS]); // §2 event table
const ATTR_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/; // §2 `attributes`
const SIG = /^[A-Za-z0-9_-]{86}$/; // §2 checkpoint `sig`: base64url, no padding, 86 characters

class Problem extends Error {
  constructor(kind, detail, where = {}) {
    super(`${kind}: ${detail}`);
    Object.assign(this, { kind, detail, where });
  }
}

// ---------- arguments ----------
function parseArgs(argv) {
  const o = { keys: [], partial: false, anchors: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--public-key') o.keys.push(argv[++i]);
    else if (a === '--prefix') o.prefix = argv[++i];
    else if (a === '--head') o.head = argv[++i];
    else if (a === '--partial') o.partial = true;
    else if (a === '--anchors') o.anchors.push(argv[++i]);
    else if (a === '--stream') o.stream = argv[++i];
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (o.target === undefined) o.target = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!o.target) throw new Error('missing <trail dir or file>');
  if (o.keys.some((k) => !k)) throw new Error('--public-key needs a PEM file');
  return o;
}

// §5 "Key id": JWK thumbprint (RFC 7638) of the OKP JWK (RFC 8037) of the public key.
function loadKey(pemFile) {
  const key = createPublicKey(readFileSync(pemFile));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${pemFile}: not an Ed25519 public key`);
  const { x } = key.export({ format: 'jwk' });
  const thumb = createHash('sha256')
    .update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`, 'utf8')
    .digest('base64url');
  return { keyId: thumb, key, file: pemFile };
}

// ---------- §1 Files ----------
function findFiles(target, prefixOpt) {
  if (statSync(target).isFile()) {
    const m = /^(.+)-(\d{8,})\.jsonl$/.exec(basename(target));
    return { dir: dirname(target), prefix: m ? m[1] : undefined, files: [{ path: target, index: m ? BigInt(m[2]) : 1n }], single: true };
  }
  // `<prefix>-<index>.jsonl`, index ≥ 8 decimal digits; prefix 1–64 of [A-Za-z0-9._-] starting alnum.
  // Quarantine, lock, head and head.tmp files do not match and are "not part of the trail".
  const re = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63})-(\d{8,})\.jsonl$/;
  const byPrefix = new Map();
  for (const name of readdirSync(target)) {
    const m = re.exec(name);
    if (!m) continue;
    if (!byPrefix.has(m[1])) byPrefix.set(m[1], []);
    byPrefix.get(m[1]).push({ path: join(target, name), index: BigInt(m[2]) });
  }
  let prefix = prefixOpt;
  if (!prefix) {
    if (byPrefix.size === 1) prefix = [...byPrefix.keys()][0];
    else if (byPrefix.has('audit')) prefix = 'audit'; // §1: default prefix
    else if (byPrefix.size === 0) throw new Problem('missing', `no <prefix>-<index>.jsonl trail files in ${target}`);
    else throw new Error(`several trails in ${target} (${[...byPrefix.keys()].join(', ')}): pass --prefix`);
  }
  const files = byPrefix.get(prefix) ?? [];
  if (files.length === 0) throw new Problem('missing', `no ${prefix}-<index>.jsonl trail files in ${target}`);
  // §1: "Order the files by the numeric value of <index>."
  files.sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
  return { dir: target, prefix, files, single: false };
}

// §1 "Lines": split a file into LF-terminated lines; remember whether the last one lacks its LF.
function splitLines(buf) {
  const lines = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0a) {
      lines.push({ bytes: buf.subarray(start, i), lf: true });
      start = i + 1;
    }
  }
  if (start < buf.length) lines.push({ bytes: buf.subarray(start), lf: false });
  return lines;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// §1 "Lines" + §8 step 2: one JSON object per line, UTF-8, no BOM, no CR, no blank line.
function parseLine(bytes) {
  let text;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new Problem('malformed', 'line is not valid UTF-8');
  }
  if (text.length === 0) throw new Problem('malformed', 'blank line');
  if (text.charCodeAt(0) === 0xfeff) throw new Problem('malformed', 'byte order mark');
  if (text.includes('\r')) throw new Problem('malformed', 'CR in line');
  let r;
  try {
    r = JSON.parse(text);
  } catch (e) {
    throw new Problem('malformed', `not JSON (${e.message})`);
  }
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Problem('malformed', 'line is not a JSON object');
  // §8: nesting beyond 32 levels, and numbers that parse as infinite (no JCS form), are malformed.
  const stack = [[r, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Problem('malformed', 'a number out of range (infinite)');
    if (v === null || typeof v !== 'object') continue;
    if (d > 32) throw new Problem('malformed', 'nested deeper than 32 levels');
    for (const x of Object.values(v)) stack.push([x, d + 1]);
  }
  const dup = duplicateName(text);
  if (dup !== undefined) throw new Problem('malformed', `member name ${JSON.stringify(dup)} appears twice in one object`);
  return r;
}

// §4 hashes with JCS, whose input must be I-JSON (RFC 8785 §3.1, RFC 7493 §2.3): no object
// may repeat a member name. JSON.parse keeps the last one silently, other parsers the first,
// so a line with a repeated name could read differently elsewhere than what was hashed.
// (The document does not say this; see tools/spec-verifier/FINDINGS.md.) `text` is valid JSON.
function duplicateName(text) {
  const stack = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') stack.push(new Set());
    else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      let k = j + 1;
      while (/\s/.test(text[k] ?? '')) k++;
      const names = stack[stack.length - 1];
      if (text[k] === ':' && names) {
        const name = JSON.parse(text.slice(i, j + 1));
        if (names.has(name)) return name;
        names.add(name);
      }
      i = j;
    }
  }
  return undefined;
}

// ---------- §2 Records: member types ----------
const isStr = (x) => typeof x === 'string';
function checkTypes(r) {
  // §8 step 2 / §10: unknown `v` is refused before anything else.
  if (r.v !== 1) throw new Problem('unsupported version', `v is ${JSON.stringify(r.v)}, this verifier knows 1`);
  const bad = (m, why) => { throw new Problem('malformed', `member ${m} ${why}`); };
  if (!Number.isSafeInteger(r.seq) || r.seq < 1) bad('seq', 'is not an integer ≥ 1');
  if (!isStr(r.ts) || !TS.test(r.ts)) bad('ts', 'is not YYYY-MM-DDTHH:MM:SS.mmmZ');
  if (!isStr(r.prev) || !HEX64.test(r.prev)) bad('prev', 'is not 64 lower-case hex digits');
  if (!isStr(r.hash) || !HEX64.test(r.hash)) bad('hash', 'is not 64 lower-case hex digits');
  if (r.kind === 'checkpoint') {
    // §2 "Checkpoint records"
    if (r.alg !== 'Ed25519') bad('alg', 'is not "Ed25519"');
    if (!isStr(r.keyId) || r.keyId.length === 0) bad('keyId', 'is not a non-empty string');
    if (!isStr(r.sig) || !SIG.test(r.sig)) bad('sig', 'is not 86 base64url characters');
    // 86 chars carry 516 bits for 512: insist on the one canonical encoding (else the
    // spare bits could be changed, and the record re-hashed, without touching the signature).
    if (Buffer.from(r.sig, 'base64url').toString('base64url') !== r.sig) bad('sig', 'is not canonical base64url');
    for (const m of EVENT_MEMBERS) if (m in r) bad(m, 'is an event member in a checkpoint');
  } else if (EVENT_KINDS.has(r.kind)) {
    // §2 "Event records"
    const p = r.policy;
    if (p === null || typeof p !== 'object' || Array.isArray(p) || !isStr(p.id) || !isStr(p.version)) bad('policy', 'is not { id: string, version: string }');
    for (const m of EVENT_STRINGS) if (m in r && !isStr(r[m])) bad(m, 'is not a string'); // absent, never null
    if ('data' in r && (!Array.isArray(r.data) || !r.data.every(isStr))) bad('data', 'is not an array of strings');
    if ('attributes' in r) {
      const a = r.attributes;
      if (a === null || typeof a !== 'object' || Array.isArray(a)) bad('attributes', 'is not an object');
      for (const [k, val] of Object.entries(a)) {
        if (!ATTR_NAME.test(k)) bad(`attributes.${k}`, 'has a name outside [A-Za-z][A-Za-z0-9_.-]{0,63}');
        const ok = isStr(val) || typeof val === 'boolean' || (typeof val === 'number' && Number.isFinite(val));
        if (!ok) bad(`attributes.${k}`, 'is not a string, finite number or boolean');
      }
    }
  } else {
    bad('kind', `is ${JSON.stringify(r.kind)}, not access, consent, age-gate, rights or checkpoint`);
  }
}

// ---------- §4 Canonical form and hash ----------
const jcs = (o) => Buffer.from(canonicalize(o), 'utf8');
const without = (r, ...names) => Object.fromEntries(Object.entries(r).filter(([k]) => !names.includes(k)));
const recordHash = (r) => createHash('sha256').update(jcs(without(r, 'hash'))).digest('hex');

// ---------- §5 Checkpoints: signature ----------
function checkSignature(r, keys) {
  // §5 "Key id": find the key by keyId; for an unknown id, a single supplied key is tried.
  let k = keys.find((x) => x.keyId === r.keyId);
  if (!k && keys.length === 1) k = keys[0];
  if (!k) throw new Problem('bad signature', `unknown key id ${r.keyId} (supplied: ${keys.map((x) => x.keyId).join(', ')})`);
  // §5 "What is signed": JCS of the checkpoint without `sig` and `hash`; pure Ed25519.
  const ok = edVerify(null, jcs(without(r, 'sig', 'hash')), k.key, Buffer.from(r.sig, 'base64url'));
  const tried = k.keyId === r.keyId ? `key ${k.keyId}` : `key id ${r.keyId} is not ${k.keyId}; tried that single supplied key`;
  if (!ok) throw new Problem('bad signature', `signature does not verify (${tried}, ${k.file})`);
}

// ---------- §8 Verifying a trail ----------
function verifyTrail(opts) {
  const keys = opts.keys.map(loadKey);
  const { dir, prefix, files, single } = findFiles(opts.target, opts.prefix);

  // §1: indexes start at 1 and grow by 1 (a gap is a removed file). With --partial (§8,
  // retention) the first files may be gone; a gap after the first is still an error.
  for (let i = 0; i < files.length; i++) {
    const expected = i === 0 ? (opts.partial || single ? files[0].index : 1n) : files[i - 1].index + 1n;
    if (files[i].index !== expected) {
      if (i > 0 && files[i].index === files[i - 1].index) {
        throw new Problem('malformed', `${basename(files[i - 1].path)} and ${basename(files[i].path)} have the same index`, { file: files[i].path });
      }
      throw new Problem('missing', `expected index ${expected}, found ${basename(files[i].path)}`, { file: files[i].path });
    }
  }

  // Read every line first, so that §8 step 4 can look at neighbouring records.
  const lines = []; // { file, fileNo, line, bytes, lf, rec?, err? }
  files.forEach((f, fileNo) => {
    splitLines(readFileSync(f.path)).forEach((l, i) => {
      const entry = { file: f.path, fileNo, line: i + 1, ...l };
      try { entry.rec = parseLine(l.bytes); } catch (e) { entry.err = e; }
      lines.push(entry);
    });
  });
  const lastFileNo = files.length - 1;

  let prev = null; // previous good record
  let torn = null;
  let count = 0;
  let checkpoints = 0;
  let lastCheckpoint = null;
  const bySeq = new Map(); // seq → hash of accepted records, for the head check
  const fileEnds = new Map(); // fileNo → last record of that file

  for (let i = 0; i < lines.length; i++) {
    const L = lines[i];
    const where = { file: L.file, line: L.line, seq: L.rec?.seq };
    const fail = (kind, detail) => { throw new Problem(kind, detail, where); };

    // §8 step 1 / §7 "Torn lines": a last line without LF in the last file is torn, not a failure.
    if (!L.lf) {
      if (L.fileNo === lastFileNo && i === lines.length - 1) { torn = L; break; }
      fail('truncated', 'line without LF before the end of the trail (file was cut)');
    }
    // §8 step 2: JSON object, version, member types.
    if (L.err) throw Object.assign(L.err, { where });
    const r = L.rec;
    try { checkTypes(r); } catch (e) { throw Object.assign(e, { where }); }

    // §8 step 3 / §4: recompute the hash.
    const h = recordHash(r);
    if (h !== r.hash) fail('edited', `hash does not match content (computed ${h}, recorded ${r.hash})`);

    // §8 step 4 / §3: chain link. The first record anchors on genesis (or on itself with --partial).
    const expSeq = prev ? prev.seq + 1 : (opts.partial ? r.seq : 1);
    const expPrev = prev ? prev.hash : (opts.partial ? r.prev : GENESIS);
    if (r.seq === expSeq && r.prev !== expPrev) {
      fail('edited', prev
        ? `prev ${r.prev} is not the hash of seq ${prev.seq} (${prev.hash}): the previous record was edited and re-hashed, or this one replaced`
        : `first record's prev is not the genesis hash`);
    }
    if (r.seq < expSeq) fail('inserted', `seq ${r.seq} was already passed (expected ${expSeq}): duplicate or forged record`);
    if (r.seq > expSeq) {
      // Look for the expected record later, and for this record's predecessor (seq - 1).
      const later = lines.slice(i + 1).filter((x) => x.rec && !x.err);
      const expectedLater = later.some((x) => x.rec.seq === expSeq);
      const before = lines.filter((x) => x.rec && x.rec.seq === r.seq - 1);
      const linked = before.some((x) => x.rec.hash === r.prev);
      if (expectedLater && linked) fail('reordered', `seq ${r.seq} comes where seq ${expSeq} was expected; seq ${expSeq} appears later`);
      if (expectedLater) fail('inserted', `seq ${r.seq} comes where seq ${expSeq} was expected and does not link to seq ${r.seq - 1}`);
      fail('missing', `expected seq ${expSeq}, found seq ${r.seq}: records ${expSeq}..${r.seq - 1} are missing`);
    }

    // §8 step 5 / §5: checkpoint signature.
    if (r.kind === 'checkpoint') {
      try { checkSignature(r, keys); } catch (e) { throw Object.assign(e, { where }); }
      checkpoints++;
      lastCheckpoint = r;
    }
    prev = r;
    count++;
    bySeq.set(r.seq, r.hash);
    fileEnds.set(L.fileNo, { rec: r, L });
  }

  // §3 / §7 "Rotation": every non-last file (that is not empty) ends with a checkpoint.
  for (const [fileNo, { rec, L }] of fileEnds) {
    if (fileNo !== lastFileNo && rec.kind !== 'checkpoint') {
      throw new Problem('missing', 'file is not the last one but does not end with a checkpoint', { file: L.file, line: L.line, seq: rec.seq });
    }
  }

  // §8 step 6 / §6: the head file, when present.
  const headPath = opts.head ?? (prefix && !single ? join(dir, `${prefix}.head.json`) : undefined);
  let head = null;
  if (headPath && existsSync(headPath)) {
    const where = { file: headPath, line: 1 };
    const hl = splitLines(readFileSync(headPath));
    // "holds one line" — accepted with or without its final LF.
    if (hl.length !== 1) throw new Problem('malformed', `head file holds ${hl.length} lines, not one`, where);
    try {
      head = parseLine(hl[0].bytes);
      where.seq = head.seq;
      checkTypes(head);
      if (head.kind !== 'checkpoint') throw new Problem('malformed', 'head is not a checkpoint');
      if (recordHash(head) !== head.hash) throw new Problem('edited', 'head hash does not match its content');
      checkSignature(head, keys);
    } catch (e) {
      throw Object.assign(e, { where, detail: `head file: ${e.detail}` });
    }
    const last = prev ? prev.seq : 0;
    if (bySeq.has(head.seq)) {
      if (bySeq.get(head.seq) !== head.hash) throw new Problem('edited', `trail's seq ${head.seq} has hash ${bySeq.get(head.seq)}, head says ${head.hash}`, where);
    } else if (head.seq > last) {
      throw new Problem('truncated', `trail ends at seq ${last} but the head file is at seq ${head.seq}`, where);
    } else if (!opts.partial) {
      throw new Problem('missing', `trail has no record with the head's seq ${head.seq}`, where);
    }
  }

  // §12 + §8 step 7: anchored heads (JSON lines) of this trail's stream.
  const stream = opts.stream ?? prefix ?? 'audit';
  const anchored = new Map(); // seq → { hash, from }
  for (const file of opts.anchors) {
    splitLines(readFileSync(file)).forEach((l, i) => {
      const where = { file, line: i + 1 };
      let h;
      try { h = JSON.parse(utf8.decode(l.bytes)); } catch { throw new Problem('malformed', 'anchor line is not JSON', where); }
      if (h === null || typeof h !== 'object' || !isStr(h.stream) || !Number.isSafeInteger(h.seq) || !isStr(h.hash) || !HEX64.test(h.hash)) {
        throw new Problem('malformed', 'anchor line is not an anchored head', where);
      }
      if (h.stream !== stream) return;
      where.seq = h.seq;
      if (h.prev !== undefined) {
        // §12: rebuild the checkpoint the head describes; it must be signed and hash to `hash`.
        const cp = { alg: 'Ed25519', keyId: h.keyId, kind: 'checkpoint', prev: h.prev, seq: h.seq, ts: h.ts, v: 1, sig: h.sig };
        try { checkSignature(cp, keys); } catch (e) { throw Object.assign(e, { where, detail: `anchored head: ${e.detail}` }); }
        if (createHash('sha256').update(jcs(cp)).digest('hex') !== h.hash) throw new Problem('bad signature', 'anchored head: hash is not the hash of its checkpoint', where);
      }
      const known = anchored.get(h.seq);
      if (known && known.hash !== h.hash) throw new Problem('forked', `two anchored heads for seq ${h.seq}: ${known.hash} and ${h.hash}`, where);
      anchored.set(h.seq, { hash: h.hash, where });
    });
  }
  const first = lines.find((x) => x.rec)?.rec?.seq ?? 1;
  const lastSeq = prev ? prev.seq : 0;
  for (const [seq, a] of [...anchored].sort((x, y) => x[0] - y[0])) {
    if (seq < first) continue; // before a partial trail: not checkable
    if (seq > lastSeq) throw new Problem(head ? 'rolled-back' : 'truncated', `trail ends at seq ${lastSeq} but an anchor holds seq ${seq}`, a.where);
    if (bySeq.get(seq) !== a.hash) throw new Problem('forked', `trail's seq ${seq} has hash ${bySeq.get(seq)}, the anchor holds ${a.hash}`, a.where);
  }

  return { dir: opts.target, count, files: files.length, checkpoints, prev, lastCheckpoint, torn, head, anchored: anchored.size };
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`usage: verify.mjs <trail dir or file> --public-key <pem> [--prefix p] [--head file] [--partial] [--anchors file] [--stream name]\n${e.message}`);
    process.exit(2);
  }
  try {
    const s = verifyTrail(opts);
    console.log(`OK ${s.dir}: ${s.count} records in ${s.files} file${s.files === 1 ? '' : 's'}, ${s.checkpoints} signed checkpoint${s.checkpoints === 1 ? '' : 's'}.`);
    if (s.prev) console.log(`  chain head: seq ${s.prev.seq} ${s.prev.hash}`);
    if (s.lastCheckpoint) console.log(`  last checkpoint: seq ${s.lastCheckpoint.seq} at ${s.lastCheckpoint.ts}, key ${s.lastCheckpoint.keyId}`);
    else console.log('  no signed checkpoint: nothing in this trail is protected by a signature');
    if (s.prev && (!s.lastCheckpoint || s.lastCheckpoint.seq < s.prev.seq)) {
      console.log(`  note: ${s.prev.seq - (s.lastCheckpoint?.seq ?? 0)} record(s) after the last checkpoint are not signed (§5)`);
    }
    if (s.head) console.log(`  head file: seq ${s.head.seq} matches`);
    if (opts.anchors.length > 0) console.log(`  anchors: ${s.anchored} anchored head(s) hold`);
    if (s.torn) console.log(`  note: torn last line ${s.torn.file}:${s.torn.line} (${s.torn.bytes.length} bytes, no LF) ignored (§8 step 1)`);
    process.exit(0);
  } catch (e) {
    if (!(e instanceof Problem)) {
      console.error(`error: ${e.message}`);
      process.exit(2);
    }
    const w = e.where ?? {};
    const loc = w.file ? `${w.file}${w.line ? `:${w.line}` : ''}` : opts.target;
    console.log(`FAIL ${loc}${w.seq !== undefined ? ` seq ${w.seq}` : ''}: ${e.kind}: ${e.detail}`);
    process.exit(1);
  }
}

main();
