#!/usr/bin/env bash
# The one source of this project's performance figures (BENCHMARKS.md says
# how to read them). Every server runs as its own release-built process on
# loopback; every comparison is made within one run.
#
#   scripts/bench.sh                 # the full run, about 10 minutes (BENCH_GOGC: ~100 s more per value)
#   BENCH_QUICK=1 scripts/bench.sh   # every step once, tiny runs (a smoke test of this script)
#
# 1. Throughput: interleaved rounds of hey and of wrk (16 connections) posting
#    tools/call auth_info to: a bare net/http server answering the same bytes
#    (the ceiling, test/load/bare), the same mcp-go server with no
#    authentication (handler/cmd/mcp-noauth), and the handler, signed in, on
#    the memory store and on Azurite. Per target: req/s, ratio to the ceiling
#    in the same round, p50/p99, server CPU per request (/proc), errors, and
#    the load average. Medians of the rounds.
# 2. Allocations per request (go test -benchmem, the same three handlers
#    in-process).
# 3. Cold start: median of BENCH_STARTS process starts to the first 200 on
#    the protected resource metadata, beside an empty Go server's.
# 4. Resident memory of a fresh handler after 100,000 and 200,000 requests.
# 5. Binary size; refresh-grant p50/p99 on memory and Azurite.
#
# Settings: BENCH_ROUNDS (5), BENCH_DURATION (10s), BENCH_CONNECTIONS (16),
# BENCH_STARTS (20), BENCH_RSS_STEPS (100000,200000), BENCH_REFRESHES (2000),
# BENCH_GOGC (e.g. "100 150 200 300": adds the handler on Azurite once per
# GOGC value to the rounds), BENCH_AZURITE_PORT (10082), BENCH_PORT (17300:
# first of the ports used). Installs hey and wrk if missing. With
# AZURE_TABLES_TEST_CONNECTION set (scripts/test.sh), that Azurite is used.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--mod=mod}

if [ "${BENCH_QUICK:-}" = 1 ]; then
  rounds=1 duration=2s warmup=1s starts=3 rss_steps=5000,10000 refreshes=200 allocs=2000x
else
  rounds=${BENCH_ROUNDS:-5} duration=${BENCH_DURATION:-10s} warmup=2s starts=${BENCH_STARTS:-20}
  rss_steps=${BENCH_RSS_STEPS:-100000,200000} refreshes=${BENCH_REFRESHES:-2000} allocs=20000x
fi
conns=${BENCH_CONNECTIONS:-16}
az_port=${BENCH_AZURITE_PORT:-10082}
p=${BENCH_PORT:-17300}
mem_port=$((p + 1)) az_handler_port=$((p + 2)) bare_port=$((p + 3)) noauth_port=$((p + 4)) idp_port=$((p + 5)) rss_port=$((p + 6))

work=$(mktemp -d)
pids=()
failed=0
own_azurite=0
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$own_azurite" = 0 ] || AZURITE_TABLE_PORT=$az_port bash scripts/azurite.sh stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n== %s\n' "$*"; }

step "tools"
gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"
command -v hey >/dev/null || GOBIN="$gobin" go install github.com/rakyll/hey@v0.1.4
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
echo "hey $(command -v hey), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"

step "machine"
echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores; memory $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)"
commit=none
if git rev-parse --git-dir >/dev/null 2>&1; then
  commit=$(git rev-parse --short HEAD)
  git diff --quiet HEAD -- . 2>/dev/null || commit="$commit (with local changes)"
fi
echo "$(go version); commit $commit"
# A saturated run adds about 2 (this machine's cores) by itself; more is
# other work sharing the machine.
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

step "build (release: CGO_ENABLED=0, -trimpath, -ldflags '-s -w', as scripts/build.sh)"
release() { CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/$1" "$2"; }
release handler ./handler
release mcp-noauth ./handler/cmd/mcp-noauth
release entra-emulator ./handler/cmd/entra-emulator
release bare ./test/load/bare
release empty ./test/load/empty
go build -o "$work/bench" ./test/load/bench
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN{printf "%.1f MB (%d bytes)", b/1048576, b}'; }
echo "binary size: handler $(size "$work/handler"); empty Go server $(size "$work/empty")"

step "start Azurite, the Entra emulator, the handler on memory and on Azurite"
if [ -n "${AZURE_TABLES_TEST_CONNECTION:-}" ]; then
  conn=$AZURE_TABLES_TEST_CONNECTION # scripts/test.sh's Azurite; left running
else
  conn=$(AZURITE_TABLE_PORT=$az_port bash scripts/azurite.sh | tail -n 1)
  own_azurite=1
fi
"$work/entra-emulator" -addr "127.0.0.1:$idp_port" -cert-out "$work/ca.pem" \
  -redirect-uri "http://127.0.0.1:$mem_port/callback" -redirect-uri "http://127.0.0.1:$az_handler_port/callback" \
  >"$work/emu.out" 2>"$work/emu.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "ready on" "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
# Fixed keys, so that a token stays valid across handler processes sharing
# one Azurite table (the GOGC variants, the memory run).
signing_key=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null)
sealing_key=$(openssl rand -base64 32)
table="bench$RANDOM"
# As in Azure: behind the host's port, JSON logs at info.
handler_env=(AUTH_MODE=proxy LOG_LEVEL=info LOG_FORMAT=json
  ENTRA_TENANT_ID=11111111-1111-4111-8111-111111111111 ENTRA_CLIENT_ID=22222222-2222-4222-8222-222222222222
  ENTRA_CLIENT_SECRET=local-dev-secret-not-for-production ENTRA_AUTHORITY_HOST="https://127.0.0.1:$idp_port"
  GRAPH_BASE_URL="https://127.0.0.1:$idp_port" UPSTREAM_CA_FILE="$work/ca.pem"
  SIGNING_KEY="$signing_key" SEALING_KEY="$sealing_key")
# start_handler NAME PORT [VAR=value...]: the handler with handler_env plus
# the extra settings; sets $started to its pid.
start_handler() {
  local name=$1 port=$2
  shift 2
  env "${handler_env[@]}" FUNCTIONS_CUSTOMHANDLER_PORT="$port" PUBLIC_BASE_URL="http://127.0.0.1:$port" "$@" \
    "$work/handler" 2>"$work/$name.log" &
  started=$!
  pids+=("$started")
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "$name did not start:"; cat "$work/$name.log"; exit 1
}
start_handler memory "$mem_port"
mem_pid=$started
# Every handler on Azurite shares one table, the keys and the public URL
# (the token's iss and aud), so one token is valid on all of them.
az_env=(STORAGE_CONNECTION_STRING="$conn" STORAGE_TABLE_NAME="$table" PUBLIC_BASE_URL="http://127.0.0.1:$az_handler_port")
start_handler azurite "$az_handler_port" "${az_env[@]}"
az_pid=$started

step "sign in to each (MCP TypeScript SDK client, chromium at the consent page and the emulator)"
spki=$(openssl x509 -in "$work/ca.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
signin() { MCP_URL="http://127.0.0.1:$1/mcp" EMULATOR_SPKI="$spki" node test/load/get-token.mjs; }
mem_token=$(signin "$mem_port")
az_token=$(signin "$az_handler_port")
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"auth_info","arguments":{}}}'
printf '%s' "$body" >"$work/body.json"
call() { curl -s -o "$1" -w '%{http_code}' -X POST "$2" -H "Authorization: Bearer $3" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$body"; }
[ "$(call "$work/response.json" "http://127.0.0.1:$mem_port/mcp" "$mem_token")" = 200 ] || { echo "tools/call failed"; cat "$work/response.json"; exit 1; }
[ "$(call /dev/null "http://127.0.0.1:$az_handler_port/mcp" "$az_token")" = 200 ] || { echo "tools/call on Azurite failed"; exit 1; }
"$work/bare" -addr "127.0.0.1:$bare_port" -body "$work/response.json" 2>/dev/null &
bare_pid=$!
pids+=("$bare_pid")
"$work/mcp-noauth" -addr "127.0.0.1:$noauth_port" 2>/dev/null &
noauth_pid=$!
pids+=("$noauth_pid")
sleep 0.3
[ "$(call "$work/noauth.json" "http://127.0.0.1:$noauth_port/mcp" x)" = 200 ] || { echo "mcp-noauth failed"; exit 1; }
echo "response bytes: handler $(stat -c %s "$work/response.json") (the ceiling answers these), mcp-noauth $(stat -c %s "$work/noauth.json")"

targets=(-target "ceiling=$bare_pid@http://127.0.0.1:$bare_port/mcp"
  -target "mcp-go-noauth=$noauth_pid@http://127.0.0.1:$noauth_port/mcp"
  -target "ours-memory=$mem_pid@http://127.0.0.1:$mem_port/mcp"
  -target "ours-azurite=$az_pid@http://127.0.0.1:$az_handler_port/mcp")
handlers=("ours-memory=$mem_pid" "ours-azurite=$az_pid")
gogc_port=$((p + 10))
for g in ${BENCH_GOGC:-}; do
  start_handler "gogc$g" "$gogc_port" "${az_env[@]}" GOGC="$g"
  targets+=(-target "azurite-gogc$g=$started@http://127.0.0.1:$gogc_port/mcp")
  handlers+=("azurite-gogc$g=$started")
  gogc_port=$((gogc_port + 1))
done
hdrs=(-H "Content-Type: application/json" -H "Accept: application/json, text/event-stream")

step "throughput: $rounds rounds × (hey, wrk) × $((${#targets[@]} / 2)) targets, $duration each"
# Every target gets the same request bytes; the memory handler's grant lives
# in its own process, so it gets its own token (of the same length).
"$work/bench" rounds -rounds "$rounds" -duration "$duration" -warmup "$warmup" -c "$conns" \
  -body "$work/body.json" "${hdrs[@]}" -token "$az_token" -token-for "ours-memory=$mem_token" "${targets[@]}" || failed=1
echo
for h in "${handlers[@]}"; do
  echo "resident memory after the rounds: ${h%%=*} $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/${h#*=}/status") (peak $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' "/proc/${h#*=}/status"))"
done

step "allocations per request (in-process, go test -benchmem, $allocs)"
go test -run '^$' -bench 'ToolsCall$' -benchmem -benchtime "$allocs" ./handler/ |
  awk '/^BenchmarkToolsCall\// {sub(/^BenchmarkToolsCall\//, "", $1); sub(/-[0-9]+$/, "", $1);
       printf "  %-24s %8s B/req  %5s allocs/req\n", $1, $5, $7}'

step "cold start: process start to the first 200 on PRM, $starts starts each, interleaved"
env "${handler_env[@]}" "${az_env[@]}" "$work/bench" coldstart -n "$starts" empty="$work/empty" handler="$work/handler"

step "resident memory of a fresh handler (Azurite) under $rss_steps requests"
start_handler rss "$rss_port" "${az_env[@]}"
"$work/bench" rss -pid "$started" -url "http://127.0.0.1:$rss_port/mcp" -steps "$rss_steps" -c "$conns" \
  -body "$work/body.json" "${hdrs[@]}" -H "Authorization: Bearer $az_token" -name handler || failed=1

step "refresh grant: /token refresh_token rotation, $refreshes each (in-process)"
AZURE_TABLES_TEST_CONNECTION="$conn" go test -run '^$' -bench 'Refresh' -benchtime "${refreshes}x" ./handler/ |
  awk '/^BenchmarkRefresh\// {sub(/^BenchmarkRefresh\//, "", $1); sub(/-[0-9]+$/, "", $1);
       for (i = 1; i <= NF; i++) { if ($i == "p50-ms") p50 = $(i-1); if ($i == "p99-ms") p99 = $(i-1) }
       printf "  %-8s p50 %s ms  p99 %s ms\n", $1, p50, p99}'

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$failed" != 0 ]; then
  echo "FAIL: some runs had errors (see above)"
  exit 1
fi
