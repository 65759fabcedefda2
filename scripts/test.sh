#!/usr/bin/env bash
# The project's one test command (README "Quick start"; .ci/run calls it).
# On a fresh Debian machine it installs what the tests need (npm packages
# from package-lock.json into ./node_modules, Go modules, the pinned linters
# into ./.tools, Debian's chromium for the consent-page browser test), starts
# Azurite, runs the linters (go vet, staticcheck, errcheck), then every Go
# test (unit, conformance on memory and Azurite, end-to-end with the Entra
# emulator and the handler as separate processes, and TestDeps, which fails
# if test code or a stand-in is linked into the handler binary) and a short
# smoke run of scripts/bench.sh, then stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--mod=mod}
export DEBIAN_FRONTEND=noninteractive
artifacts="$root/.artifacts"
mkdir -p "$artifacts"

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
if ! command -v go >/dev/null; then echo "Go 1.26 is required (https://go.dev/dl)"; exit 1; fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "installing Node.js and npm (Debian packages)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
if ! command -v chromium >/dev/null; then
  echo "installing chromium (Debian package) for the consent-page browser test"
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed; the browser test will be skipped"
fi
go mod download
# Linters at pinned versions (staticcheck v0.8.2 is release 2026.2.2, which
# checks Go 1.26 code), one directory per version so a bump reinstalls.
install_tool() { # name module version; prints the binary's path
  local dir="$root/.tools/$1-$3"
  if [ ! -x "$dir/$1" ]; then
    echo "installing $2@$3" >&2
    GOBIN="$dir" go install "$2@$3" >&2
  fi
  echo "$dir/$1"
}
staticcheck=$(install_tool staticcheck honnef.co/go/tools/cmd/staticcheck v0.8.2)
errcheck=$(install_tool errcheck github.com/kisielk/errcheck v1.30.0)

step "azurite"
conn=$(bash scripts/azurite.sh | tail -n 1)
cleanup() { bash scripts/azurite.sh stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
export AZURE_TABLES_TEST_CONNECTION="$conn"

step "linters"
go vet ./...
"$staticcheck" ./...
# Test code may drop errors (a failed test says why); the rest must handle
# them or say why not: errcheck-excludes.txt lists the accepted idioms.
"$errcheck" -ignoretests -exclude scripts/errcheck-excludes.txt ./...
echo "go vet, staticcheck, errcheck: clean"

step "go test"
export TEST_ARTIFACTS_DIR="$artifacts"
# Full verbose output goes to .artifacts/go-test.txt; the console shows each
# package's result and every skipped or failed test.
set +e
go test -count=1 -v -timeout 15m ./... >"$artifacts/go-test.txt" 2>&1
status=$?
set -e
grep -E -- '^(ok|FAIL|panic:)|--- (FAIL|SKIP)' "$artifacts/go-test.txt" || true
passed=$(grep -cE -- '^\s*--- PASS' "$artifacts/go-test.txt" || true)
failed=$(grep -cE -- '^\s*--- FAIL' "$artifacts/go-test.txt" || true)
if [ "$status" -ne 0 ]; then
  echo "go test failed; the last lines of the full output:"
  tail -n 60 "$artifacts/go-test.txt"
  exit "$status"
fi

step "race detector on the concurrent parts"
go test -count=1 -race -timeout 10m ./handler/internal/store/... ./handler/internal/resource/... ./handler/internal/oauth/... ./handler/internal/tokens/... ./handler/internal/tokencache/... ./handler/internal/apimemu/... ./handler/internal/mcpserver/... 2>&1 | tail -n 20

step "bench.sh smoke run (BENCH_QUICK=1: every step once, briefly; figures come from the full run)"
# Its ports follow Azurite's, so runs with different AZURITE_TABLE_PORTs
# on one machine do not collide.
BENCH_PORT=${BENCH_PORT:-$((17300 + (${AZURITE_TABLE_PORT:-10002} - 10000) * 20))} \
  BENCH_QUICK=1 bash scripts/bench.sh >"$artifacts/bench-quick.txt" 2>&1 || { tail -n 40 "$artifacts/bench-quick.txt"; exit 1; }
grep -E "^(target|ceiling|mcp-go|ours|cold start|memory)" "$artifacts/bench-quick.txt"

echo
echo "tests: $passed passed, $failed failed"
