#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis against its own served OpenAPI document (issue 19):
# a fresh data directory, an admin and a token, Capstan serving the test environment's engines,
# then every operation but those that would reach outside this machine or end the fuzzer's own
# access. Fails on a server error, an answer that breaks its schema or an undocumented status.
#   scripts/fuzz-api.sh <capstan binary>     (engines from /run/capstan-test/env must be up)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
bin=${1:?usage: scripts/fuzz-api.sh <capstan binary>}
[ -f /run/capstan-test/env ] || die "no test engines: run scripts/testenv.sh up first"
set -a; source /run/capstan-test/env; set +a
ensure_schemathesis

data=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$data"' EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
password="fuzz-admin-password-$RANDOM$RANDOM"
CAPSTAN_DATA="$data" CAPSTAN_PASSWORD="$password" "$bin" admin create fuzz >/dev/null
CAPSTAN_DATA="$data" CAPSTAN_LOG="${CAPSTAN_FUZZ_LOG:-error}" "$bin" --listen "127.0.0.1:$port" \
  --engine "unix-engine=$CAPSTAN_TEST_UNIX_URL" \
  --engine "tls-engine=$CAPSTAN_TEST_TLS_URL,tls=$CAPSTAN_TEST_TLS_DIR" &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || die "capstan exited before it served"
  sleep 0.1
done
jar="$data/cookies"
curl -fsS -c "$jar" -H 'content-type: application/json' \
  -d "{\"username\":\"fuzz\",\"password\":\"$password\"}" "$base/api/v1/session" >/dev/null
token=$(curl -fsS -b "$jar" -H 'content-type: application/json' -H "origin: $base" \
  -d '{"name":"fuzz"}' "$base/api/v1/tokens" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')

# The objects the fuzzer works on (scripts/fuzz.toml names them).
api() { curl -sS -o /dev/null -H "Authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
api -d "{\"image\":\"$CAPSTAN_TEST_IMAGE\",\"name\":\"fuzz-box\",\"cmd\":[\"sleep\",\"3600\"]}" "$base/api/v1/hosts/unix-engine/containers"
api -d '{"name":"fuzz-vol"}' "$base/api/v1/hosts/unix-engine/volumes"
api -d '{"name":"fuzz-net"}' "$base/api/v1/hosts/unix-engine/networks"

log "schemathesis against $base/api/v1/openapi.json (seed ${CAPSTAN_FUZZ_SEED:-19})"
# Left out: what reaches outside (pull, search, adding or changing a host's address), what ends
# the fuzzer's own access (its password, tokens, user records, sign-out), and streams that
# never end by design (live stats and events).
SCHEMATHESIS_HOOKS=scripts.fuzz_hooks PYTHONPATH="$PWD" "$SCHEMATHESIS" --config-file scripts/fuzz.toml run "$base/api/v1/openapi.json" \
  -H "Authorization: Bearer $token" \
  --seed "${CAPSTAN_FUZZ_SEED:-19}" \
  --max-examples "${CAPSTAN_FUZZ_EXAMPLES:-15}" \
  --phases examples,coverage,fuzzing \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --request-timeout 20 \
  --workers 2 \
  --suppress-health-check all \
  --no-shrink \
  --exclude-operation-id images.pull --exclude-operation-id images.search \
  --exclude-operation-id host_admin.create --exclude-operation-id host_admin.update \
  --exclude-operation-id host_admin.remove \
  --exclude-operation-id account.change_password --exclude-operation-id account.revoke_token \
  --exclude-operation-id account.logout --exclude-operation-id account.login \
  --exclude-operation-id users.update --exclude-operation-id users.remove \
  --exclude-operation-id live.stats --exclude-operation-id live.host_events \
  --exclude-operation-id live.fleet_events --exclude-operation-id live_exec.exec \
  "${@:2}"
