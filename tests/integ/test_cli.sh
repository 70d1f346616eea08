#!/bin/sh
# test_cli.sh - the numasim CLI against a real local cluster: `cluster up` on an ephemeral
# loopback port (readiness is its ping poll, never a sleep), every command once, the exit
# statuses (0 ok, 1 failed operation, 2 usage, 3 unreachable), then `cluster down`; fails if a
# daemon crashed, left a sanitizer report, or outlived `cluster down`.
#
# Usage: test_cli.sh path/to/numasim [NODES]   (NODES >= 2, default 2)
set -u

NUMASIM=${1:?usage: test_cli.sh path/to/numasim [NODES]}
NODES=${2:-2}
[ "$NODES" -ge 2 ] || { echo "test_cli.sh: NODES must be 2 or more" >&2; exit 2; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/numasim-integ.XXXXXX")
export NUMASIM_RUN_DIR="$DIR"
unset NUMASIM_SERVER NUMASIM_CLIENT
. "$(dirname "$0")/lib.sh"

cleanup() {
	"$NUMASIM" cluster down >/dev/null 2>&1
	rm -rf "$DIR"
}
trap cleanup EXIT

# ---- cluster up on an ephemeral port
run 0 -s 127.0.0.1:0 cluster up --nodes "$NODES" || exit 1
expect "^127\.0\.0\.1:[0-9]+: $NODES nodes up" out
NUMASIM_SERVER=$(sed -n 's/^address //p' "$DIR/cluster")
export NUMASIM_SERVER
PIDS=$(awk 'NF == 3 && $2 ~ /^[0-9]+$/ { print $2 }' "$DIR/cluster")

run 1 cluster up --nodes "$NODES"
expect "is running" err

# ---- ping, hardware, status
run 0 ping && expect "^PONG nodes up $NODES/$NODES, uptime " out
run 0 hardware && expect "node" out
run 0 cluster status && expect "PONG nodes up $NODES/$NODES" out

# ---- pages
run 0 alloc-pages --order 2 --gfp "GFP_KERNEL|__GFP_ZERO" && expect "^pfn 0x[0-9a-f]+ node 0 zone Normal$" out
pfn=$(printf '%s\n' "$out" | awk '{ print $2 }')
run 0 free-pages "$pfn" --order 2
run 1 free-pages "$pfn" --order 2 && expect "^numasim free-pages: [A-Z_]+: " err
run 0 alloc-pages --order 0 --gfp highuser_movable --membind all && expect "^pfn " out
run 0 alloc-pages --order 0 --gfp 0xcc0 --cpu 1 --preferred 1 && expect "^pfn " out
run 0 alloc-pages --order 0 --gfp GFP_HIGHUSER --interleave 0-1 && expect "^pfn " out
run 2 alloc-pages --order 0 --gfp GFP_KERNEL --membind 7-9
run 2 alloc-pages --order 0 --gfp NOT_A_FLAG
run 2 alloc-pages --gfp GFP_KERNEL

# ENOMEM: order-10 DMA blocks run out at once (16 MiB, the first of it reserved)
i=0
while [ $i -lt 8 ]; do
	"$NUMASIM" alloc-pages --order 10 --gfp GFP_DMA >"$DIR/out" 2>"$DIR/stderr" || break
	i=$((i + 1))
done
run 1 alloc-pages --order 10 --gfp GFP_DMA
expect "^numasim alloc-pages: ENOMEM" err
expect "^node 0 DMA: [a-z_ ]+" out

# ---- kmalloc, ksize, kfree, identities
run 0 kmalloc 100 && expect "^0xc[0-9a-f]+ node [0-9]+ kmalloc-128 size 128$" out
addr=$(printf '%s\n' "$out" | awk '{ print $1 }')
run 0 ksize "$addr" && expect "size 128$" out
run 1 --client mallory kfree "$addr" && expect "EPERM" err
run 0 kfree "$addr"
run 1 kfree "$addr"
run 0 --client alice kmalloc 4K --gfp "GFP_KERNEL|__GFP_ZERO" --cpu 1 --node 1 && expect " kmalloc-4k size 4096$" out
addr=$(printf '%s\n' "$out" | awk '{ print $1 }')
run 0 --client bob --admin kfree "$addr"
run 2 kmalloc
run 2 kmalloc 12Q

# ---- named caches
run 0 kmem-cache create integ_obj 200 --flags SLAB_HWCACHE_ALIGN && expect "^integ_obj objsize " out
run 1 kmem-cache create integ_obj 200 && expect "EEXIST" err
run 0 kmem-cache alloc integ_obj && expect "^0x[0-9a-f]+ node " out
obj=$(printf '%s\n' "$out" | awk '{ print $1 }')
run 1 kmem-cache destroy integ_obj && expect "EBUSY" err
run 0 kmem-cache validate integ_obj
run 0 kmem-cache free integ_obj "$obj"
run 0 kmem-cache shrink integ_obj
run 0 kmem-cache destroy integ_obj
run 1 kmem-cache alloc integ_obj && expect "ENOENT" err
run 2 kmem-cache frob x

# ---- views
for v in zoneinfo buddyinfo pagetypeinfo slabinfo slabtop slabs meminfo vmstat numastat stats; do
	run 0 "$v" && [ -n "$out" ] || fail "$v printed nothing"
	if run 0 "$v" --json; then
		printf '%s\n' "$out" | python3 -m json.tool >/dev/null 2>&1 || fail "$v --json is not JSON"
	fi
done
run 0 zoneinfo --node 1 && expect "^Node 1, zone" out
run 0 slabtop --sort c
run 0 vmstat -d 0.2 2
[ "$(printf '%s\n' "$out" | grep -c '^nr_free_pages ')" -eq $((2 * NODES)) ] ||
	fail "vmstat -d 0.2 2 did not print every node twice"
run 2 vmstat 5
run 2 buddyinfo --sort a

# ---- sysctl
run 0 sysctl vm.min_free_kbytes && expect "^vm\.min_free_kbytes = [0-9]+$" out
mfk=$(printf '%s\n' "$out" | awk '{ print $3 }')
run 0 sysctl vm.min_free_kbytes="$mfk" && expect "^vm\.min_free_kbytes = $mfk$" out
run 1 sysctl vm.no_such_thing && expect "ENOENT" err
run 1 sysctl vm.watermark_scale_factor=0

# ---- unreachable servers, usage
run 1 -s 127.0.0.1:1 ping && expect "cannot reach 127\.0\.0\.1:1" err
run 3 -s 127.0.0.1:1 meminfo
run 2 -s not-an-address meminfo
run 2 no-such-command
run 2 -s 127.0.0.1:1 boot

# ---- cluster down: every daemon gone, no crash on the way
run 0 cluster down && expect "down: $((NODES + 1)) processes stopped$" out
for pid in $PIDS; do
	if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
		fail "pid $pid outlived cluster down"
	fi
done
[ ! -e "$DIR/cluster" ] || fail "$DIR/cluster is still there"
no_sanitizer_reports "a daemon" "$DIR"/*.log
run 1 cluster status && expect "no cluster recorded" err
run 2 cluster status --cpu-threads && expect "are for .cluster up." err

# ---- a cluster whose nodes run a thread per simulated CPU
run 0 -s 127.0.0.1:0 cluster up --nodes 2 --cpu-threads && expect " 2 nodes up" out
NUMASIM_SERVER=$(sed -n 's/^address //p' "$DIR/cluster")
# answers from both nodes: both booted, so both logged how they run
run 0 alloc-pages --order 1 --gfp GFP_KERNEL --cpu 1 && expect "^pfn 0x[0-9a-f]+ node 0 " out
pfn=$(printf '%s\n' "$out" | awk '{ print $2 }')
run 0 free-pages "$pfn" --order 1 --cpu 1
run 0 alloc-pages --order 1 --gfp GFP_HIGHUSER --cpu 1 && expect "^pfn 0x[0-9a-f]+ node 1 " out
pfn=$(printf '%s\n' "$out" | awk '{ print $2 }')
run 0 free-pages "$pfn" --order 1 --cpu 1
for n in 0 1; do
	expect "CPU requests on a thread per CPU" "$DIR/node$n.log"
	expect "connected to coordinator unix:$DIR/coordinator.sock" "$DIR/node$n.log"
done
run 0 cluster down
checks=$((checks + 1))
[ ! -e "$DIR/coordinator.sock" ] || fail "cluster down left $DIR/coordinator.sock"
no_sanitizer_reports "a daemon" "$DIR"/*.log

# ---- the coordinator's --local socket: bad paths are refused with a reason
COORD="$(dirname "$NUMASIM")/../server/numasim-coordinator"
daemon() { # want-status pattern args...
	want=$1 pattern=$2
	shift 2
	checks=$((checks + 1))
	"$COORD" --config "$DIR/cluster.ini" --listen 127.0.0.1:0 "$@" >"$DIR/out" 2>"$DIR/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "numasim-coordinator $* exited $got, expected $want"
	grep -Eq -- "$pattern" "$DIR/err" || fail "expected /$pattern/ from numasim-coordinator $*: $(cat "$DIR/err")"
}
daemon 2 "--local '': a socket path must be 1 to 107 bytes" --local ""
daemon 2 "a socket path must be" --local "/tmp/$(printf '%0120d' 0)"
daemon 1 "cannot listen on unix:$DIR/none/c.sock: no such file or directory" --local "$DIR/none/c.sock"

finish test_cli
