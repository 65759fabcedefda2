#!/usr/bin/env bash
# Soak test of a scaled-out app (issue 11; README "Scale out"), on loopback
# only: three handler processes on one Azurite table behind one URL, the
# Entra emulator, and a mixed load for a bounded time: metadata reads,
# registrations, full sign-ins with nobody at the browser, tools/call
# (auth_info, and whoami through On-Behalf-Of and Graph), refreshes.
#
#   scripts/soak.sh                        # 5 minutes
#   SOAK_DURATION=1m scripts/soak.sh
#
# It prints requests by endpoint and status, the 5xx count (must be 0),
# lost grants (a signed-in user whose tokens stopped working before they
# expired; must be 0), each instance's resident memory before the load,
# after its first minute, at the end and at most, and its goroutines at the
# end; it exits non-zero if any 5xx, transport error, failed sign-in or
# lost grant occurred. The instances' output goes to .artifacts/soak.log.
#
# Settings: SOAK_DURATION (5m), SOAK_INSTANCES (3), SOAK_USERS (6, users
# signed in at a time), SOAK_AZURITE_PORT (10082; an Azurite already
# listening there is used and left running, otherwise one is started and
# stopped here).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOFLAGS=${GOFLAGS:--mod=mod}
duration=${SOAK_DURATION:-5m}
instances=${SOAK_INSTANCES:-3}
users=${SOAK_USERS:-6}
az_port=${SOAK_AZURITE_PORT:-10082}
work=$(mktemp -d)
mkdir -p .artifacts

started_azurite=0
cleanup() {
  if [ "$started_azurite" = 1 ]; then
    AZURITE_TABLE_PORT=$az_port bash scripts/azurite.sh stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build"
go build -o "$work/handler" ./handler
go build -o "$work/soak" ./handler/cmd/soak

echo "== azurite on 127.0.0.1:$az_port"
if ! (exec 3<>"/dev/tcp/127.0.0.1/$az_port") 2>/dev/null; then
  started_azurite=1
fi
conn=$(AZURITE_TABLE_PORT=$az_port bash scripts/azurite.sh | tail -n 1)

echo "== soak: $instances instances, $users users, $duration (machine: $(nproc) cores; go $(go env GOVERSION))"
"$work/soak" -handler "$work/handler" -storage "$conn" -instances "$instances" \
  -users "$users" -duration "$duration" -logs .artifacts/soak.log
