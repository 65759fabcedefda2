#!/usr/bin/env bash
# The local stack in one command: the Entra emulator, Azurite (when it is
# installed: `npm ci`), and the handler, all on loopback. Ctrl-C stops
# everything. No Azure subscription needed.
#
#   scripts/dev.sh                    # mode proxy (default): any MCP client can sign in
#   AUTH_MODE=entra scripts/dev.sh    # clients get tokens from the emulator directly
#   DEV_VIA_HOST=1 scripts/dev.sh     # route through funchost, the Functions host stand-in
#   DEV_SERVICES_ONLY=1 scripts/dev.sh  # only the emulator and Azurite, for `func start` in build/app
#
# Ports: DEV_PORT (handler, default 7071), DEV_IDP_PORT (emulator, default 7072).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DEV_PORT=${DEV_PORT:-7071}
DEV_IDP_PORT=${DEV_IDP_PORT:-7072}
AUTH_MODE=${AUTH_MODE:-proxy}
state="$root/.dev"
mkdir -p "$state"

echo "building handler and emulator..."
go build -o "$state/handler" ./handler
go build -o "$state/entra-emulator" ./handler/cmd/entra-emulator
[ "${DEV_VIA_HOST:-}" = 1 ] && go build -o "$state/funchost" ./handler/cmd/funchost

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${azurite_started:-}" ] && bash scripts/azurite.sh stop >/dev/null 2>&1 || true
  echo "stopped."
}
trap cleanup INT TERM EXIT

base="http://127.0.0.1:$DEV_PORT"
idp="https://127.0.0.1:$DEV_IDP_PORT"
rm -f "$state/emulator-ca.pem"
# -tls-dir keeps the emulator's certificate across runs: accept it once in
# the browser (or trust .dev/emulator-ca.pem) and it stays accepted.
"$state/entra-emulator" -addr "127.0.0.1:$DEV_IDP_PORT" -cert-out "$state/emulator-ca.pem" -tls-dir "$state/emulator-tls" \
  -redirect-uri "$base/callback" -redirect-uri "http://localhost:$DEV_PORT/callback" \
  >"$state/emulator.out" 2>"$state/emulator.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "ready on" "$state/emulator.out" 2>/dev/null && break; sleep 0.1; done
grep -q "ready on" "$state/emulator.out" || { echo "emulator did not start:"; cat "$state/emulator.log"; exit 1; }

storage_env=()
storage_note="in memory (state is lost when the handler stops)"
[ "$AUTH_MODE" = entra ] && storage_note="none needed in mode entra"
if [ "$AUTH_MODE" = proxy ] && [ -x node_modules/.bin/azurite-table ]; then
  conn=$(AZURITE_TABLE_PORT=${AZURITE_TABLE_PORT:-10002} bash scripts/azurite.sh | tail -n 1)
  azurite_started=1
  storage_env=("STORAGE_CONNECTION_STRING=$conn")
  storage_note="Azurite Table Storage on 127.0.0.1:${AZURITE_TABLE_PORT:-10002}"
fi

env_vars=(
  "AUTH_MODE=$AUTH_MODE"
  "PUBLIC_BASE_URL=$base"
  "ENTRA_TENANT_ID=11111111-1111-4111-8111-111111111111"
  "ENTRA_CLIENT_ID=22222222-2222-4222-8222-222222222222"
  "ENTRA_CLIENT_SECRET=local-dev-secret-not-for-production"
  "ENTRA_AUTHORITY_HOST=$idp"
  "GRAPH_BASE_URL=$idp"
  "UPSTREAM_CA_FILE=$state/emulator-ca.pem"
  "LOG_LEVEL=${LOG_LEVEL:-info}"
  "${storage_env[@]}"
)
if [ "${DEV_SERVICES_ONLY:-}" = 1 ]; then
  cat <<MSG

  Entra emulator: $idp (CA: $state/emulator-ca.pem)
  state:          $storage_note
  Now run: scripts/build.sh && cp local.settings.json.example build/app/local.settings.json && (cd build/app && func start)
  Ctrl-C stops the emulator and Azurite.
MSG
  wait -n "${pids[@]}"
  exit 0
fi
if [ "${DEV_VIA_HOST:-}" = 1 ]; then
  mkdir -p "$state/app"
  bash scripts/build.sh "$state/app" >/dev/null
  env "${env_vars[@]}" "$state/funchost" -app-dir "$state/app" -addr "127.0.0.1:$DEV_PORT" &
else
  env "${env_vars[@]}" PORT="$DEV_PORT" "$state/handler" &
fi
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

echo
echo "MCP endpoint: $base/mcp"
cat <<MSG
  mode:         $AUTH_MODE
  sign-in:      Entra emulator at $idp (test users: AdeleV, AlexW, MeganB, NestorW @contoso.example)
  state:        $storage_note
  emulator CA:  $state/emulator-ca.pem

  Connect MCP Inspector:  npx @modelcontextprotocol/inspector  (Streamable HTTP, URL above)
  Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
