#!/usr/bin/env bash
# Load and fault test of the real processes (README "Performance";
# docs/architecture.md §14), on loopback only.
#
#   scripts/loadtest.sh            # ~1 minute; needs npm ci and chromium (scripts/test.sh installs both)
#
# 1. Starts Azurite, the Entra emulator and the handler (mode proxy, Table
#    Storage on Azurite), signs a test user in with a real client and keeps
#    the access token.
# 2. Throughput: hey posts tools/call (auth_info) to the handler, then to a
#    bare net/http server answering the same bytes; prints both and the ratio.
# 3. Memory: the handler's resident set before and after the load.
# 4. Fault: during a load run Azurite is frozen (SIGSTOP) for 10 s, longer
#    than the grant cache (2 s) plus the store's bounded wait (5 s), then thawed.
#    Every answer must be 200 or 503 (never another 5xx), the handler must
#    recover, and the token must still work afterwards (no lost grant).
# Every request goes to 127.0.0.1; every run is bounded in time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
port=${LOAD_PORT:-17171}
idp=${LOAD_IDP_PORT:-17172}
bare_port=${LOAD_BARE_PORT:-17199}
az_port=${LOAD_AZURITE_PORT:-10072}
duration=${LOAD_DURATION:-10s}
conc=${LOAD_CONCURRENCY:-16}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  AZURITE_TABLE_PORT=$az_port bash scripts/azurite.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
export GOBIN="$work/bin"
go install github.com/rakyll/hey@v0.1.4
go build -o "$work/handler" ./handler
go build -o "$work/entra-emulator" ./handler/cmd/entra-emulator
go build -o "$work/bare" ./test/load/bare
hey="$work/bin/hey"

echo "== start Azurite, the emulator and the handler"
conn=$(AZURITE_TABLE_PORT=$az_port bash scripts/azurite.sh | tail -n 1)
az_pid=$(cat .azurite/azurite-table-$az_port.pid 2>/dev/null || pgrep -f "tablePort $az_port" | head -1)
"$work/entra-emulator" -addr "127.0.0.1:$idp" -cert-out "$work/ca.pem" -redirect-uri "http://127.0.0.1:$port/callback" >"$work/emu.out" 2>"$work/emu.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "ready on" "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
env AUTH_MODE=proxy PUBLIC_BASE_URL="http://127.0.0.1:$port" PORT="$port" LOG_LEVEL=warn \
  ENTRA_TENANT_ID=11111111-1111-4111-8111-111111111111 ENTRA_CLIENT_ID=22222222-2222-4222-8222-222222222222 \
  ENTRA_CLIENT_SECRET=local-dev-secret-not-for-production ENTRA_AUTHORITY_HOST="https://127.0.0.1:$idp" \
  GRAPH_BASE_URL="https://127.0.0.1:$idp" UPSTREAM_CA_FILE="$work/ca.pem" \
  STORAGE_CONNECTION_STRING="$conn" STORAGE_TABLE_NAME="load$RANDOM" \
  "$work/handler" 2>"$work/handler.log" &
handler_pid=$!
pids+=($handler_pid)
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== sign in (TypeScript SDK client + chromium)"
spki=$(openssl x509 -in "$work/ca.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
token=$(MCP_URL="http://127.0.0.1:$port/mcp" EMULATOR_SPKI="$spki" node test/load/get-token.mjs)
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"auth_info","arguments":{}}}'
call() { curl -s -o "$1" -w '%{http_code}' -X POST "http://127.0.0.1:$port/mcp" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$body"; }
[ "$(call "$work/response.json")" = 200 ] || { echo "tools/call with the token failed"; cat "$work/handler.log"; exit 1; }
"$work/bare" -addr "127.0.0.1:$bare_port" -body "$work/response.json" &
pids+=($!)
sleep 0.3

load() { "$hey" -z "$1" -c "$conc" -m POST -T application/json -H "Accept: application/json, text/event-stream" \
  -H "Authorization: Bearer $token" -d "$body" "$2"; }
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$handler_pid/status"; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }

echo "== throughput ($duration, $conc connections)"
rss_before=$(rss)
load "$duration" "http://127.0.0.1:$port/mcp" >"$work/handler.txt"
rss_after=$(rss)
load "$duration" "http://127.0.0.1:$bare_port/mcp" >"$work/bare.txt"
h=$(rps "$work/handler.txt"); b=$(rps "$work/bare.txt")
grep -E '^\s+\[[0-9]+\]' "$work/handler.txt" | sed 's/^\s*/  handler status /'
echo "  handler: $h req/s   bare net/http: $b req/s   ratio: $(awk -v h="$h" -v b="$b" 'BEGIN{printf "%.2f", h/b}')"
grep -E "99% in|50% in" "$work/handler.txt" | sed 's/^/  handler latency /'
echo "  handler resident memory: $rss_before before, $rss_after after the load"

echo "== fault: Azurite frozen for 10 s during a 20 s run"
load 20s "http://127.0.0.1:$port/mcp" >"$work/fault.txt" &
load_pid=$!
sleep 3; kill -STOP "$az_pid"; sleep 10; kill -CONT "$az_pid"
wait "$load_pid"
grep -E '^\s+\[[0-9]+\]' "$work/fault.txt" | sed 's/^\s*/  status /'
grep -E "99% in|Slowest" "$work/fault.txt" | sed 's/^\s*/  /'
bad=$(awk '/Status code distribution/{f=1;next} f && /\[[0-9]+\]/ {gsub(/[\[\]]/,"",$1); if ($1!=200 && $1!=503) print $1}' "$work/fault.txt")
sleep 1
after=$(call /dev/null)
echo "  after the fault: tools/call answers $after"
if [ -n "$bad" ] || [ "$after" != 200 ]; then
  echo "FAIL: unexpected statuses [$bad] or no recovery ($after)"
  tail -20 "$work/handler.log"
  exit 1
fi
echo "ok: only 200 and 503 during the fault, recovered, the grant survived"
