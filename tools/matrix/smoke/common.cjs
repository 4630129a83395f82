'use strict';
// Shared by the matrix smoke apps: a file-backed engine as in production, a tiny HTTP
// client, and the checks every adapter must pass. Uses only the public entry points of the
// installed tarballs.
const assert = require('node:assert/strict');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const core = require('@purposekit/core');

async function engine() {
  const dir = mkdtempSync(join(tmpdir(), 'purposekit-matrix-'));
  const keys = core.openKeyDirectory(join(dir, 'keys'), { createIfMissing: true });
  const audit = await core.createFileAuditSink({ dir: join(dir, 'audit'), signingKey: keys.signingKey, keyId: 'matrix' });
  const kit = core.createPurposekit({ policy: core.openinfra, audit, subjectKey: keys.subjectKey, ageGate: { secret: keys.lockoutSecret } });
  return { kit, dir, keys };
}

async function call(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, setCookie: res.headers.get('set-cookie') };
}

let passed = 0;
function check(name, fn) {
  fn();
  passed++;
  process.stdout.write(`ok   ${name}\n`);
}

/**
 * The scenarios every adapter answers the same way. The app serves:
 * GET /status (diagnostics; reads ip-address; answers logFields()),
 * GET /sell (diagnostics; shares email with "broker": denied),
 * POST /members (service.registration behind the `registration` gate; 201 when allowed),
 * GET /healthz (a skipped route: no privacy context, answers { privacy: false }).
 */
async function scenarios(base, { kit, dir, keys }, close, { closesKit = false } = {}) {
  const status = await call(base, 'GET', '/status');
  check('purpose and basis tagged, IP truncated', () => {
    assert.equal(status.status, 200, status.text);
    assert.equal(status.json.purpose, 'diagnostics');
    assert.equal(status.json.basis, 'legitimate-interests');
    assert.match(status.json.ip, /^(::ffff:)?127\.0\.0\.0$/);
  });
  const sell = await call(base, 'GET', '/sell');
  check('a denied access answers 403 with the catalog body', () => {
    assert.equal(sell.status, 403, sell.text);
    assert.equal(sell.json.error.code, 'PURPOSEKIT_ERR_ACCESS_DENIED');
  });
  const kid = await call(base, 'POST', '/members', { name: 'Kid', dateOfBirth: '2016-01-01' });
  check('the age gate refuses an under-age body with a lockout cookie', () => {
    assert.equal(kid.status, 403, kid.text);
    assert.equal(kid.json.error.code, 'PURPOSEKIT_ERR_AGE_GATE_REFUSED');
    assert.ok(kid.setCookie && kid.setCookie.length > 0, 'lockout cookie set');
  });
  const adult = await call(base, 'POST', '/members', { name: 'Ada', dateOfBirth: '1990-04-01' });
  check('the age gate lets an adult through', () => assert.equal(adult.status, 201, adult.text));
  const health = await call(base, 'GET', '/healthz');
  check('a skipped route gets no privacy context', () => {
    assert.equal(health.status, 200, health.text);
    assert.equal(health.json.privacy, false);
  });
  await close();
  // Nest: the module closes the engine on application shutdown; elsewhere the app does.
  if (!closesKit) await kit.close();
  const verified = await core.verifyAuditTrail(join(dir, 'audit'), { publicKeys: [{ id: 'matrix', key: require('node:fs').readFileSync(keys.publicKeyPath, 'utf8') }] });
  check('the trail verifies and ends with a signed checkpoint after kit.close()', () => {
    assert.equal(verified.ok, true, JSON.stringify(verified.problem));
    assert.equal(verified.unsignedTail, 0);
    assert.ok(verified.checkpoints >= 1);
    assert.ok(verified.records >= 4);
  });
  await kit.close(); // idempotent: a second close resolves and writes nothing
  const again = await core.verifyAuditTrail(join(dir, 'audit'), { publicKeys: [{ id: 'matrix', key: require('node:fs').readFileSync(keys.publicKeyPath, 'utf8') }] });
  check('kit.close() is idempotent', () => assert.equal(again.records, verified.records));
  process.stdout.write(`${passed} checks passed\n`);
}

function main(run) {
  run().catch((err) => {
    process.stderr.write(`FAIL ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}

/** The installed version of a package (read from node_modules: not every package exports its package.json). */
function versionOf(name) {
  return JSON.parse(require('node:fs').readFileSync(join(__dirname, 'node_modules', name, 'package.json'), 'utf8')).version;
}

module.exports = { engine, call, check, scenarios, main, versionOf };
