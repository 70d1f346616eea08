#!/bin/sh
# SPDX-License-Identifier: MIT
#
# compare-redis.sh - numasim's request path side by side with Redis's, on loopback.
#
# Starts a Redis (its own, on a free loopback port, no persistence) and a 4-node numasim
# cluster, then runs ROUNDS rounds; each round runs, for every configuration, first
# `numasim bench --preset pages` (order-0 alloc_pages and its free_pages: two requests, each
# counted once) and then `redis-benchmark -t set` (one SET, one request) with the same
# connection count and pipeline depth. Both count requests per second, so the ratio
# numasim/redis compares like with like.
#
#   c50     50 connections, no pipelining       target: ratio >= 1.0, numasim p99 < 1 ms
#   c50p16  50 connections, pipeline 16         target: ratio >= 1.0
#   c1      1 connection (round trip)           target: numasim p50 <= 2 x redis p50
#
# Usage: bench/compare-redis.sh [--rounds N] [--time S] [--build DIR] [--config INI]
# Installs redis-server and redis-tools from Debian (apt-get, as root) if they are missing.
# Everything it starts is stopped on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3
SECS=5
BUILD="$ROOT/build-perf"
CONFIG="$ROOT/deploy/numa4-686pae.ini"
CONFIGS="c50:50:1 c50p16:50:16 c1:1:1"

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) ROUNDS=$2; shift 2 ;;
	--time) SECS=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--config) CONFIG=$2; shift 2 ;;
	*) echo "compare-redis: unknown option '$1'" >&2; exit 2 ;;
	esac
done

NUMASIM="$BUILD/client/numasim"
[ -x "$NUMASIM" ] || { echo "compare-redis: '$NUMASIM' not built" >&2; exit 1; }

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "compare-redis: redis missing; run as root" >&2; exit 1; }
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server redis-tools
fi

WORK=$(mktemp -d /tmp/compare-redis.XXXXXX)
REDIS_PID=
CLUSTER_UP=
cleanup() {
	if [ -n "$CLUSTER_UP" ]; then
		NUMASIM_RUN_DIR="$WORK/cluster" "$NUMASIM" cluster down >/dev/null 2>&1 || true
	fi
	if [ -n "$REDIS_PID" ]; then
		kill "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: the kernel picks one for a socket bound to port 0.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

RPORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --daemonize no \
	--dir "$WORK" --logfile "$WORK/redis.log" &
REDIS_PID=$!
i=0
until redis-cli -p "$RPORT" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "compare-redis: redis did not start" >&2; exit 1; }
	sleep 0.1
done

mkdir -p "$WORK/cluster"
export NUMASIM_RUN_DIR="$WORK/cluster"
up=$("$NUMASIM" -s 127.0.0.1:0 cluster up --config "$CONFIG")
CLUSTER_UP=1
ADDR=${up%%: *}
echo "redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$RPORT;" \
	"numasim: $up"
echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), nproc $(nproc)"
echo "rounds $ROUNDS, about $SECS s per run"

# numasim: requests per second and p99 in ms, from the CSV summary.
run_numasim() { # conns pipeline
	"$NUMASIM" -s "$ADDR" bench --preset pages -c "$1" --pipeline "$2" --test-time "$SECS" \
		--quiet --csv |
		awk -F, '$1 == "summary" && $3 == "throughput" { rps = $4 }
			 $1 == "latency_us" && $2 == "all" && $3 == "p99" { p99 = $4 / 1000 }
			 $1 == "latency_us" && $2 == "all" && $3 == "p50" { p50 = $4 / 1000 }
			 END { printf "%.0f %.3f %.3f\n", rps, p99, p50 }'
}

# redis-benchmark has no time budget: a request count from a short probe's rate.
redis_n() { # conns pipeline
	redis-benchmark -h 127.0.0.1 -p "$RPORT" -t set -c "$1" -P "$2" -n 20000 -q --csv |
		awk -F'"' -v s="$SECS" 'NR == 2 { printf "%d\n", $4 * s }'
}

# redis: requests per second, p99 and p50 in ms (7.x prints percentiles in --csv).
run_redis() { # conns pipeline requests
	redis-benchmark -h 127.0.0.1 -p "$RPORT" -t set -c "$1" -P "$2" -n "$3" -q --csv |
		awk -F'"' 'NR == 2 { printf "%.0f %.3f %.3f\n", $4, $14, $10 }'
}

for cfg in $CONFIGS; do
	IFS=: read -r name conns pipe <<EOF
$cfg
EOF
	echo "$name $(redis_n "$conns" "$pipe")" >>"$WORK/redis_n"
done

printf '\n%-7s %-5s %12s %9s %9s %12s %9s %9s %7s\n' config round numasim_rps n_p50_ms \
	n_p99_ms redis_rps r_p50_ms r_p99_ms ratio
r=1
while [ $r -le "$ROUNDS" ]; do
	for cfg in $CONFIGS; do
		IFS=: read -r name conns pipe <<EOF
$cfg
EOF
		n=$(awk -v c="$name" '$1 == c { print $2 }' "$WORK/redis_n")
		set -- $(run_numasim "$conns" "$pipe") $(run_redis "$conns" "$pipe" "$n")
		line=$(awk -v c="$name" -v r="$r" -v nr="$1" -v n99="$2" -v n50="$3" \
			-v rr="$4" -v r99="$5" -v r50="$6" 'BEGIN {
			printf "%-7s %-5s %12d %9.3f %9.3f %12d %9.3f %9.3f %7.3f\n",
				c, r, nr, n50, n99, rr, r50, r99, (rr > 0 ? nr / rr : 0) }')
		echo "$line"
		echo "$line" >>"$WORK/rows"
	done
	r=$((r + 1))
done

# The median of every column over the rounds, per configuration.
echo
echo "median over $ROUNDS rounds (ratio = numasim/redis requests per second):"
for cfg in $CONFIGS; do
	name=${cfg%%:*}
	awk -v c="$name" '$1 == c' "$WORK/rows" | awk -v c="$name" '
		function median(col,   i, j, t, v, k) {
			for (i = 1; i <= NR; i++) v[i] = row[i, col]
			for (i = 1; i <= NR; i++)
				for (j = i + 1; j <= NR; j++)
					if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			k = int((NR + 1) / 2)
			return NR % 2 ? v[k] : (v[k] + v[k + 1]) / 2
		}
		{ for (i = 3; i <= 9; i++) row[NR, i] = $i }
		END {
			printf "%-7s %-5s %12d %9.3f %9.3f %12d %9.3f %9.3f %7.3f\n", c, "med",
				median(3), median(4), median(5), median(6), median(7), median(8),
				median(9)
		}'
done
