#!/bin/sh
# numasim's main job: a local 4-node cluster (deploy/numa4-686pae.ini) under a short mixed
# workload, then what happened: numastat, buddyinfo and slabinfo of every node; then stop.
# Usage: docs/examples/demo.sh [path/to/numasim]
set -eu
NUMASIM=${1:-build/client/numasim}
NUMASIM_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/numasim-demo.XXXXXX")
export NUMASIM_RUN_DIR
trap '"$NUMASIM" cluster down >/dev/null 2>&1 || true; rm -rf "$NUMASIM_RUN_DIR"' EXIT

say() { printf '\n===== %s\n' "$*"; }
n() { "$NUMASIM" "$@"; }

say "start a 4-node 686-pae cluster (1 GiB per node, one CPU per node) on a free loopback port"
up=$(n -s 127.0.0.1:0 cluster up --config deploy/numa4-686pae.ini)
echo "$up"
NUMASIM_SERVER=${up%%: *}
export NUMASIM_SERVER
n hardware

say "GFP_KERNEL from the CPU of node 2: lowmem lives on node 0, so node 0's Normal zone serves it"
n alloc-pages --order 0 --gfp GFP_KERNEL --cpu 2
say "GFP_HIGHUSER_MOVABLE from node 2: its own HighMem"
n alloc-pages --order 0 --gfp GFP_HIGHUSER_MOVABLE --cpu 2
say "interleave over nodes 1-3, bind to nodes 1,3"
for i in 1 2 3; do n alloc-pages --order 2 --gfp GFP_HIGHUSER --cpu 0 --interleave 1-3; done
n alloc-pages --order 0 --gfp GFP_HIGHUSER --membind 1,3
say "a mixed workload from every CPU: page blocks of orders 0-9, kmalloc 64 B - 20 KB, a slab cache"
for cpu in 0 1 2 3; do
	for order in 0 0 0 1 3 9; do
		n alloc-pages --order "$order" --gfp GFP_HIGHUSER_MOVABLE --cpu "$cpu" >/dev/null
	done
	for size in 64 100 512 2048 20000; do
		n kmalloc "$size" --cpu "$cpu" >/dev/null
	done
done
n kmem-cache create demo_cache 200 --flags SLAB_HWCACHE_ALIGN
for i in 1 2 3 4 5 6 7 8; do n kmem-cache alloc demo_cache --cpu $((i % 4)) >/dev/null; done
say "6.1 applies a bind policy from HighMem up only: GFP_KERNEL bound to nodes 1-3 still gets node 0"
n alloc-pages --order 0 --gfp GFP_KERNEL --membind 1-3
say "a request no zone can serve: GFP_DMA|__GFP_THISNODE from the CPU of node 2 (no DMA there)"
n alloc-pages --order 0 --gfp "GFP_DMA|__GFP_THISNODE" --cpu 2 || true

say "numastat"
n numastat
say "buddyinfo"
n buddyinfo
say "slabinfo of node 0 (busy caches)"
n slabinfo --node 0 | awk 'NR <= 2 || $2 > 0'
say "stop the cluster"
n cluster down
trap 'rm -rf "$NUMASIM_RUN_DIR"' EXIT
