#!/usr/bin/env bash
# Starts Azurite's Table service for local runs and for the aztable
# conformance tests, and prints the connection string to export as
# AZURE_TABLES_TEST_CONNECTION.
#
#   scripts/azurite.sh          start (idempotent), print the connection string
#   scripts/azurite.sh stop     stop the instance this script started
#
# Data lives in memory only (--inMemoryPersistence): every start is a clean
# slate, and tests create their own tables anyway. AZURITE_TABLE_PORT picks
# the port (default 10002, Azurite's table port;
# learn.microsoft.com/azure/storage/common/storage-use-azurite).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
port=${AZURITE_TABLE_PORT:-10002}
dir="$root/.azurite" # gitignored
pidfile="$dir/azurite-table-$port.pid"
logfile="$dir/azurite-table-$port.log"
# The well-known Azurite account and key (public, not a secret).
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

running_pid() {
	local pid
	[[ -f $pidfile ]] || return 1
	pid=$(<"$pidfile")
	[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop() {
	local pid
	if ! pid=$(running_pid); then
		rm -f "$pidfile"
		echo "azurite-table: not running (port $port)" >&2
		return 0
	fi
	kill "$pid"
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	rm -f "$pidfile"
	echo "azurite-table: stopped pid $pid" >&2
}

start() {
	if running_pid >/dev/null && answers; then
		echo "azurite-table: already running on 127.0.0.1:$port (pid $(<"$pidfile"))" >&2
		echo "$conn"
		return 0
	fi
	if answers; then
		echo "azurite-table: port $port is already taken by another process; assuming it is Azurite" >&2
		echo "$conn"
		return 0
	fi

	bin="$root/node_modules/.bin/azurite-table"
	if [[ ! -x $bin ]]; then
		echo "azurite-table: $bin missing; running npm ci" >&2
		(cd "$root" && npm ci --no-audit --no-fund >&2)
	fi

	mkdir -p "$dir"
	# setsid + nohup: the server outlives this script and its terminal.
	# It runs in $dir so that anything it might write lands there, not in the
	# repo root (--location cannot be combined with --inMemoryPersistence).
	# --skipApiVersionCheck is not needed with aztables v1.4.1; add it if a
	# newer SDK sends an API version this Azurite does not know yet.
	(cd "$dir" && exec setsid nohup "$bin" \
		--tableHost 127.0.0.1 --tablePort "$port" --inMemoryPersistence \
		--disableTelemetry --silent \
		>"$logfile" 2>&1 </dev/null) &
	echo $! >"$pidfile"

	for _ in $(seq 300); do # 30 s
		if answers; then
			echo "azurite-table: listening on 127.0.0.1:$port (pid $(<"$pidfile"), log $logfile)" >&2
			echo "$conn"
			return 0
		fi
		if ! running_pid >/dev/null; then
			echo "azurite-table: exited during start; log follows" >&2
			cat "$logfile" >&2
			rm -f "$pidfile"
			return 1
		fi
		sleep 0.1
	done
	echo "azurite-table: no answer on port $port after 30 s" >&2
	stop
	return 1
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 [start|stop]" >&2
	exit 2
	;;
esac
