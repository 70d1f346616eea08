#!/bin/sh
# test_bench.sh - `numasim bench` against real local clusters, each started with `numasim
# cluster up` on an ephemeral loopback port (readiness is its ping poll, never a sleep):
#   - a short pages run whose summary must agree with what the servers counted: the
#     coordinator's per-command calls (stats), the nodes' NUMA counters (numastat: one
#     numa_hit or numa_miss per page allocation) and node_stats (nothing left allocated)
#   - every preset once; fragment must end with ENOMEM and a fragmented DMA zone
#   - the exit statuses: 1 for unexpected failures (one line on stderr), ENOMEM allowed by
#     --allow-errors, 2 usage, 3 unreachable; --csv, --rate, --hist-file
#   - record/replay: a trace recorded serially on a fresh cluster, replayed on another fresh
#     one, must leave buddyinfo, zoneinfo and slabinfo identical; a trace recorded with
#     concurrency, replayed on two fresh clusters, must leave them identical to each other
# then brings every cluster down and fails if a daemon crashed, outlived `cluster down` or
# left a sanitizer report.
#
# Usage: test_bench.sh path/to/numasim
set -u

NUMASIM=${1:?usage: test_bench.sh path/to/numasim}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/numasim-bench.XXXXXX")
unset NUMASIM_SERVER NUMASIM_CLIENT NUMASIM_RUN_DIR
. "$(dirname "$0")/lib.sh"
CLUSTERS=""

cleanup() {
	for c in $CLUSTERS; do
		"$NUMASIM" cluster down --dir "$DIR/$c" >/dev/null 2>&1
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

# up NAME: a fresh 2-node cluster in $DIR/NAME; NUMASIM_SERVER points at it.
up() {
	CLUSTERS="$CLUSTERS $1"
	if ! "$NUMASIM" -s 127.0.0.1:0 cluster up --nodes 2 --dir "$DIR/$1" >"$DIR/up" 2>&1; then
		fail "cluster up $1: $(cat "$DIR/up")"
		exit 1
	fi
	NUMASIM_SERVER=$(sed -n 's/^address //p' "$DIR/$1/cluster")
	export NUMASIM_SERVER
}

# down NAME: stop it; every daemon must be gone, no log may hold a sanitizer report.
down() {
	pids=$(awk 'NF == 3 && $2 ~ /^[0-9]+$/ { print $2 }' "$DIR/$1/cluster")
	run 0 cluster down --dir "$DIR/$1" && expect "down: 3 processes stopped$" "$DIR/out"
	for pid in $pids; do
		if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
			fail "pid $pid of $1 outlived cluster down"
		fi
	done
	no_sanitizer_reports "a daemon of $1" "$DIR/$1"/*.log
}

# alive: the cluster still answers with both nodes up (no daemon crashed under the load).
alive() {
	run 0 ping && expect "nodes up 2/2" "$DIR/out"
}

# views FILE_PREFIX: buddyinfo, zoneinfo and slabinfo text of the current cluster.
views() {
	for v in buddyinfo zoneinfo slabinfo; do
		"$NUMASIM" "$v" >"$1.$v" 2>"$DIR/err" || fail "$v: $(cat "$DIR/err")"
	done
}

# same_views A B WHAT: the three views of A and B are identical.
same_views() {
	for v in buddyinfo zoneinfo slabinfo; do
		checks=$((checks + 1))
		cmp -s "$1.$v" "$2.$v" || fail "$3: $v differs: $(diff "$1.$v" "$2.$v" | head -20)"
	done
}

# ---- counts: the summary against the servers' own counters
up counts
"$NUMASIM" numastat --json >"$DIR/numa0" && "$NUMASIM" stats --json >"$DIR/stats0" ||
	fail "views before the run"
run 0 bench --preset pages -n 2000 -t 2 -c 4 --pipeline 4 --seed 1 --json --quiet \
	--hist-file "$DIR/hist" && cp "$DIR/out" "$DIR/pages.json"
"$NUMASIM" numastat --json >"$DIR/numa1" && "$NUMASIM" stats --json >"$DIR/stats1" ||
	fail "views after the run"
checks=$((checks + 1))
python3 - "$DIR" <<'EOF' || fail "the pages run's summary disagrees with the servers"
import json, sys
d = sys.argv[1]
load = lambda f: json.load(open(f"{d}/{f}"))
s, n0, n1, c0, c1 = (load(f) for f in ("pages.json", "numa0", "numa1", "stats0", "stats1"))
ops = {o["op"]: o for o in s["ops"]}
alloc, free = ops["alloc_pages"], ops["free_pages"]
calls = lambda c, name: next(x["calls"] for x in c["commands"] if x["name"] == name)
numa = lambda n: sum(x["numa_hit"] + x["numa_miss"] for x in n["nodes"])
bad = []
def check(what, got, want):
    if got != want:
        bad.append(f"{what}: {got} != {want}")
check("requests", s["requests"], 2000)
check("alloc + free requests", alloc["requests"] + free["requests"], 2000)
check("errors", s["errors"]["total"], 0)
check("every allocation freed", free["ok"] + s["cleanup"], alloc["ok"])
check("numa_hit + numa_miss delta (numastat)", numa(n1) - numa(n0), alloc["ok"])
check("numa delta (the summary's own)", numa({"nodes": s["numastat"]["after"]}) -
      numa({"nodes": s["numastat"]["before"]}), alloc["ok"])
check("coordinator alloc_pages calls", calls(c1, "alloc_pages") - calls(c0, "alloc_pages"),
      alloc["requests"])
check("coordinator free_pages calls", calls(c1, "free_pages") - calls(c0, "free_pages"),
      free["requests"] + s["cleanup"])
for b, a in zip(s["node_stats"]["before"], s["node_stats"]["after"]):
    check(f"node {b['node']} allocated after", a["allocated"], b["allocated"])
hist = sum(int(l.split()[1]) for l in open(f"{d}/hist"))
check("histogram file count", hist, s["requests"])
lat = s["latency_us"]
if not lat["min"] <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]:
    bad.append(f"percentiles out of order: {lat}")
if len(s["fragmentation"]) != 4:
    bad.append(f"expected 4 zones, got {len(s['fragmentation'])}")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
alive

# ---- every preset, text summary
for p in kmalloc slab mixed; do
	run 0 bench --preset "$p" -n 1500 -c 8 --pipeline 2 --seed 2 --quiet &&
		expect "^requests +1500 " "$DIR/out" && expect "^errors +0$" "$DIR/out"
done
run 0 bench --preset fragment -n 9000 -c 4 --seed 3 --json --quiet && cp "$DIR/out" "$DIR/frag.json"
checks=$((checks + 1))
python3 - "$DIR/frag.json" <<'EOF' || fail "the fragment preset did not fragment the DMA zone"
import json, sys
s = json.load(open(sys.argv[1]))
e = s["errors"]
assert e["by_status"].get("ENOMEM", 0) > 0 and e["unexpected"] == 0, e
dma = next(z for z in s["fragmentation"] if z["zone"] == "DMA")
assert dma["end"]["free"][0] > 1000, dma["end"]          # lone pages left by the split
assert all(x > 0.5 for x in dma["end"]["extfrag"][3:]), dma["end"]  # high orders: fragmentation
assert dma["end"]["unusable"][3] > 0.9, dma["end"]
EOF
alive

# ---- exit statuses, output formats
run 1 bench -n 20 -c 2 --gfp "GFP_DMA|__GFP_HIGHMEM" --quiet && expect "failed unexpectedly" "$DIR/err"
expect "EINVAL" "$DIR/err"
run 1 bench -n 40 -c 1 --orders 10 --gfp "GFP_KERNEL|__GFP_DMA" --hold 64M --quiet &&
	expect "ENOMEM" "$DIR/err"
run 0 bench -n 40 -c 1 --orders 10 --gfp "GFP_KERNEL|__GFP_DMA" --hold 64M --quiet --allow-errors &&
	expect "ENOMEM +[0-9]+ \(expected\)" "$DIR/out"
run 0 bench -n 500 -c 2 --csv --quiet && expect "^section,subject,metric,value$" "$DIR/out" &&
	expect "^summary,,requests,500$" "$DIR/out"
run 0 bench --rate 400 --test-time 1 -c 4 --quiet --json && cp "$DIR/out" "$DIR/rate.json"
checks=$((checks + 1))
python3 -c 'import json, sys; n = json.load(open(sys.argv[1]))["requests"]; sys.exit(not 300 <= n <= 420)' \
	"$DIR/rate.json" || fail "--rate 400 for 1 s: $(head -c 200 "$DIR/rate.json")"
run 2 bench -n 0
run 2 bench --preset nope
run 2 bench -n 10 --test-time 1
run 2 bench --orders 0:x
run 3 -s 127.0.0.1:1 bench -n 10
alive
down counts

# ---- record on a fresh cluster (serially), replay on another: the same final state
up rec
run 0 bench --preset mixed -n 2000 -c 1 --seed 4 --record "$DIR/serial.trace" --quiet
views "$DIR/rec"
down rec
up replay
run 0 bench --replay "$DIR/serial.trace" --quiet && expect "^errors +0$" "$DIR/out"
views "$DIR/replay"
down replay
same_views "$DIR/rec" "$DIR/replay" "serial recording vs its replay"

# ---- a trace recorded with concurrency replays the same way every time
up rec2
run 0 bench --preset mixed -n 3000 -t 2 -c 4 --pipeline 4 --seed 5 --record "$DIR/conc.trace" \
	--quiet
down rec2
for c in r1 r2; do
	up "$c"
	run 0 bench --replay "$DIR/conc.trace" --quiet
	views "$DIR/$c"
	down "$c"
done
same_views "$DIR/r1" "$DIR/r2" "two replays of a concurrent recording"
printf '1 0 frob x = OK\n' >"$DIR/bad.trace"
up bad
run 1 bench --replay "$DIR/bad.trace" && expect "bad.trace:1: unknown operation" "$DIR/err"
run 1 bench --replay "$DIR/nonexistent.trace" && expect "cannot read" "$DIR/err"
down bad
CLUSTERS=""

finish test_bench
