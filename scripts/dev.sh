#!/usr/bin/env bash
# The local stack in one command: the Entra emulator, Azurite (when it is
# installed: `npm ci`), and the handler, all on loopback. Ctrl-C stops
# everything. No Azure subscription needed.
#
#   scripts/dev.sh                    # mode proxy (default): any MCP client can sign in
#   AUTH_MODE=entra scripts/dev.sh    # clients get tokens from the emulator directly
#   DEV_VIA_HOST=1 scripts/dev.sh     # route through funchost, the Functions host stand-in
#   DEV_VIA_APIM=1 scripts/dev.sh     # the path of Azure: APIM stand-in (real policies) -> funchost (function key) -> handler
#   DEV_SERVICES_ONLY=1 scripts/dev.sh  # only the emulator and Azurite, for `func start` in build/app
#   DEV_TRACES=1 scripts/dev.sh       # also an OTLP receiver printing every span to .dev/traces.out
#   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 scripts/dev.sh  # spans to a collector you run
#
# Ports: DEV_PORT (the public URL, default 7071: the handler, funchost or the
# APIM stand-in), DEV_IDP_PORT (emulator, default 7072), DEV_HOST_PORT
# (funchost behind the APIM stand-in, default 7073).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DEV_PORT=${DEV_PORT:-7071}
DEV_IDP_PORT=${DEV_IDP_PORT:-7072}
DEV_HOST_PORT=${DEV_HOST_PORT:-7073}
AUTH_MODE=${AUTH_MODE:-proxy}
state="$root/.dev"
mkdir -p "$state"

echo "building handler and emulator..."
go build -o "$state/handler" ./handler
go build -o "$state/entra-emulator" ./handler/cmd/entra-emulator
if [ "${DEV_VIA_HOST:-}" = 1 ] || [ "${DEV_VIA_APIM:-}" = 1 ]; then
  go build -o "$state/funchost" ./handler/cmd/funchost
fi
[ "${DEV_VIA_APIM:-}" = 1 ] && go build -o "$state/apim" ./handler/cmd/apim

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
  # MCP Inspector's web UI may call /mcp from its page (ALLOWED_ORIGINS; the
  # deployed default lists no origin).
  "ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-http://localhost:6274}"
  "${storage_env[@]}"
)
traces_note="off (DEV_TRACES=1 or OTEL_EXPORTER_OTLP_ENDPOINT turns them on)"
if [ "${DEV_TRACES:-}" = 1 ] && [ -z "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]; then
  # A local stand-in for a collector: prints one line per span it receives.
  go build -o "$state/otlp-receiver" ./handler/cmd/otlp-receiver
  "$state/otlp-receiver" -addr "127.0.0.1:${DEV_OTLP_PORT:-4318}" >"$state/traces.out" 2>&1 &
  pids+=($!)
  OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:${DEV_OTLP_PORT:-4318}"
  traces_note="printed to $state/traces.out (tail -f it)"
fi
if [ -n "${OTEL_EXPORTER_OTLP_ENDPOINT:-}" ]; then
  # The handler and funchost (host.json telemetryMode) both export there.
  env_vars+=("OTEL_EXPORTER_OTLP_ENDPOINT=$OTEL_EXPORTER_OTLP_ENDPOINT")
  [ "$traces_note" = "${traces_note#printed}" ] && traces_note="sent to $OTEL_EXPORTER_OTLP_ENDPOINT"
fi
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
via="the handler alone"
if [ "${DEV_VIA_APIM:-}" = 1 ]; then
  # As in Azure: the gateway is the public URL, the Functions host behind it
  # requires a function key, and api.xml sends it from a named value.
  mkdir -p "$state/app"
  bash scripts/build.sh "$state/app" >/dev/null
  key=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  # Two proxies append to X-Forwarded-For, as in Azure: the APIM stand-in
  # (the client) and funchost (the stand-in), so the client is 2 from the right.
  env "${env_vars[@]}" TRUSTED_PROXY_HOPS=2 "$state/funchost" -app-dir "$state/app" -addr "127.0.0.1:$DEV_HOST_PORT" -key "$key" \
    >"$state/funchost.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "listening on" "$state/funchost.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening on" "$state/funchost.out" || { echo "funchost did not start:"; cat "$state/funchost.out"; exit 1; }
  "$state/apim" -infra-dir infra -auth-mode "$AUTH_MODE" -addr "127.0.0.1:$DEV_PORT" \
    -backend "http://127.0.0.1:$DEV_HOST_PORT" -ca-file "$state/emulator-ca.pem" \
    -named-value "public-base-url=$base" -named-value "mcp-scope=mcp:tools" \
    -named-value "entra-tenant-id=11111111-1111-4111-8111-111111111111" \
    -named-value "entra-client-id=22222222-2222-4222-8222-222222222222" \
    -named-value "entra-app-id-uri=api://22222222-2222-4222-8222-222222222222" \
    -named-value "entra-api-scope=user_impersonation" -named-value "entra-authority-host=$idp" \
    -named-value "mcp-allowed-origins=,${ALLOWED_ORIGINS:-http://localhost:6274}," \
    -named-value "function-host-key=$key" >"$state/apim.out" 2>&1 &
  via="APIM stand-in (infra/policies, log .dev/apim.out) -> funchost on 127.0.0.1:$DEV_HOST_PORT (function key) -> handler"
elif [ "${DEV_VIA_HOST:-}" = 1 ]; then
  mkdir -p "$state/app"
  bash scripts/build.sh "$state/app" >/dev/null
  env "${env_vars[@]}" "$state/funchost" -app-dir "$state/app" -addr "127.0.0.1:$DEV_PORT" &
  via="funchost (the Functions host stand-in) -> handler"
else
  env "${env_vars[@]}" PORT="$DEV_PORT" "$state/handler" &
fi
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "$base/healthz" >/dev/null 2>&1 || { echo "the stack did not answer $base/healthz:"; cat "$state"/apim.out 2>/dev/null; exit 1; }

echo
echo "MCP endpoint: $base/mcp"
cat <<MSG
  mode:         $AUTH_MODE
  path:         $via
  sign-in:      Entra emulator at $idp (test users: AdeleV, AlexW, MeganB, NestorW @contoso.example)
  state:        $storage_note
  traces:       $traces_note
  emulator CA:  $state/emulator-ca.pem

  Connect MCP Inspector:  npx @modelcontextprotocol/inspector  (Streamable HTTP, URL above)
  Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
