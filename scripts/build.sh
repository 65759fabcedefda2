#!/usr/bin/env bash
# Stages a deployable Functions app folder: host.json, one folder per
# function (functions/<name>/function.json -> OUTDIR/<name>/function.json,
# because the host only looks for function folders beside host.json),
# .funcignore, local.settings.json when the repository has one, and the
# custom handler built for the Flex Consumption workers (linux/amd64,
# static). Usage: scripts/build.sh [OUTDIR]   (default: <repo>/build/app)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/build/app}"
# The binary name must equal customHandler.description.defaultExecutablePath
# in host.json; handler/functions_test.go checks that they agree.
exe=handler

# Start from an empty folder so a function deleted from functions/ is not
# published again from an old build. Only clear folders this script made.
if [[ -e "$out/host.json" ]]; then
  rm -rf -- "$out"
elif [[ -d "$out" && -n "$(ls -A -- "$out")" ]]; then
  echo "build.sh: $out is not empty and holds no host.json; refusing to overwrite it" >&2
  exit 1
fi
mkdir -p -- "$out"
out="$(cd -- "$out" && pwd)"

cp -- "$repo/host.json" "$repo/.funcignore" "$out/"
if [[ -f "$repo/local.settings.json" ]]; then
  cp -- "$repo/local.settings.json" "$out/"
fi

shopt -s nullglob
fns=("$repo"/functions/*/)
if (( ${#fns[@]} == 0 )); then
  echo "build.sh: no function folders under $repo/functions" >&2
  exit 1
fi
for dir in "${fns[@]}"; do
  name="$(basename -- "$dir")"
  if [[ ! -f "$dir/function.json" ]]; then
    echo "build.sh: $dir has no function.json" >&2
    exit 1
  fi
  mkdir -p -- "$out/$name"
  cp -- "$dir/function.json" "$out/$name/function.json"
done

(
  cd -- "$repo"
  GOOS=linux GOARCH=amd64 CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w" -o "$out/$exe" ./handler
)
# func publish sets +x only on defaultExecutablePath and a zip built elsewhere
# may carry none, so set it here too (docs/architecture.md §10.6).
chmod +x -- "$out/$exe"

cat <<MSG
Staged Functions app: $out
  run locally:  cd "$out" && func start
  publish:      cd "$out" && func azure functionapp publish <app>
MSG
