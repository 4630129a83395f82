#!/usr/bin/env bash
# Regenerates packages/cli/test/fixtures/app-trails/<app>/: the audit trails the four
# reference apps write while their end-to-end tests run (real HTTP, real file sink), with
# the public key that verifies them and the subject key that opens subject reports.
# The CLI's tests check that its reports over these trails agree with an independent count.
# Usage: npm run fixtures:app-trails
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out=packages/cli/test/fixtures/app-trails
for app in openinfra-express kubevirt-koa bitnami-nest coreos-nest-fastify; do
  TMPDIR="$tmp" npx jest -c "apps/$app/jest.config.js" --silent >/dev/null
done
rm -rf "$out"
for app in openinfra kubevirt bitnami coreos; do
  # The first data dir of each app (coreos's tests also start a second, strict app).
  src="$(ls -d "$tmp"/pk-"$app"-* | grep -v -- '-strict-' | head -n 1)"
  mkdir -p "$out/$app/audit" "$out/$app/keys"
  cp "$src"/audit/* "$out/$app/audit/"
  cp "$src/keys/audit-signing.pub.pem" "$src/keys/subject-hmac.key.json" "$out/$app/keys/"
  echo "$app: $(cat "$out/$app"/audit/*.jsonl | wc -l) lines"
done
