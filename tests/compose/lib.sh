# lib.sh - helpers of run_compose_tests.sh (sourced; bash). Uses $WORK, $PROJECT, $FILE,
# $STACK, $NUMASIM_IMAGE and dc() of the caller.
# shellcheck shell=bash disable=SC2154,SC2034,SC2086

PASSED=0
FAILED=0
SKIPPED=0

section() { printf '\n== %s\n' "$*"; }
pass() {
	PASSED=$((PASSED + 1))
	echo "PASS: $*"
}
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $*"
}
skip() {
	SKIPPED=$((SKIPPED + 1))
	echo "SKIP: $*"
}
note() { echo "  note: $*"; }

summary() {
	local s="$PASSED passed, $FAILED failed"
	[ "$SKIPPED" -eq 0 ] || s="$s, $SKIPPED skipped"
	echo
	echo "$s"
}

# run CMD...: stdout into $WORK/out, stderr into $WORK/err; the command's status.
run() { "$@" >"$WORK/out" 2>"$WORK/err"; }

# not CMD...: succeeds when CMD fails.
not() { ! "$@"; }

# client ARGS...: the numasim CLI in the compose file's client container.
client() { dc run --rm -T client "$@"; }

shown() { head -c 600 "$WORK/$1" | tr '\n' '|'; }

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	if run "$@"; then
		pass "$desc"
	else
		fail "$desc (exit $?; stdout: $(shown out) stderr: $(shown err))"
	fi
}

# check_out DESC REGEX CMD...: CMD exits 0 and a line of its stdout matches the ERE.
check_out() {
	local desc=$1 re=$2 st
	shift 2
	run "$@"
	st=$?
	if [ "$st" -eq 0 ] && grep -Eq -- "$re" "$WORK/out"; then
		pass "$desc: $(grep -Em1 -- "$re" "$WORK/out")"
	else
		fail "$desc (exit $st, expected /$re/; stdout: $(shown out) stderr: $(shown err))"
	fi
}

# check_empty DESC CMD...: CMD exits 0 and prints nothing.
check_empty() {
	local desc=$1 st
	shift
	run "$@"
	st=$?
	if [ "$st" -eq 0 ] && ! grep -q . "$WORK/out"; then
		pass "$desc"
	else
		fail "$desc (exit $st; stdout: $(shown out) stderr: $(shown err))"
	fi
}

# check_err DESC REGEX STATUS CMD...: CMD exits STATUS and its stderr matches the ERE.
check_err() {
	local desc=$1 re=$2 want=$3 st
	shift 3
	run "$@"
	st=$?
	if [ "$st" -eq "$want" ] && grep -Eq -- "$re" "$WORK/err"; then
		pass "$desc: $(grep -Em1 -- "$re" "$WORK/err")"
	else
		fail "$desc (exit $st, expected $want and /$re/ on stderr; stdout: $(shown out) stderr: $(shown err))"
	fi
}

# wait_until SECONDS CMD...: polls CMD every 0.25 s until it succeeds; its last status.
wait_until() {
	local end
	end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.25
	done
}

# since T: seconds since T (date +%s.%N), one decimal.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$1" 2>/dev/null; }
cname() { docker inspect -f '{{.Name}}' "$1" | sed 's|^/||'; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# started_after_healthy SINCE: every node container's start event of the project came after
# the coordinator's first "healthy" event (the engine's own event log, since SINCE).
started_after_healthy() {
	docker events --since "$1" --until "$(date +%s)" \
		--filter "label=com.docker.compose.project=$PROJECT" \
		--format '{{.TimeNano}} {{.Status}} {{index .Actor.Attributes "com.docker.compose.service"}}' |
		awk '
			$2 == "health_status:" && $3 == "healthy" && $4 == "coordinator" && !h { h = $1 }
			$2 == "start" && $3 ~ /^node/ { n++; if (!first || $1 < first) first = $1 }
			END {
				printf "coordinator healthy at %s, first of %d node starts at %s\n", h, n, first
				exit !(h && n >= 4 && first > h)
			}'
}

# compose_to_stack [--no-ports]: `docker-compose config` of the file (variables resolved,
# relative paths made absolute) without what `docker stack deploy` rejects: depends_on with
# conditions and profiles (build is ignored there). --no-ports also drops published ports.
compose_to_stack() {
	dc config | python3 -c '
import sys, yaml
d = yaml.safe_load(sys.stdin)
for s in d["services"].values():
    for k in ["depends_on", "profiles"] + (["ports"] if "--no-ports" in sys.argv else []):
        s.pop(k, None)
yaml.safe_dump(d, sys.stdout, default_flow_style=False)' "$@"
}

# ipvs_reason: empty when the kernel has IPVS (swarm's service VIPs and routing mesh), else why
# not.
ipvs_reason() {
	[ -d /proc/sys/net/ipv4/vs ] && return 0
	if [ -n "$(find "/lib/modules/$(uname -r)" -name 'ip_vs.ko*' 2>/dev/null | head -1)" ]; then
		return 0
	fi
	echo "kernel $(uname -r) has no IPVS (no /proc/sys/net/ipv4/vs, no ip_vs module under /lib/modules)"
}

stack_ps() { docker ps -q --filter "label=com.docker.stack.namespace=$STACK"; }
stack_ping() {
	docker run --rm --network "${STACK}_numasim" "$NUMASIM_IMAGE" numasim -s "$SWARM_COORD:7070" ping
}
stack_nodes_up_4() { stack_ping 2>/dev/null | grep -q "^PONG nodes up 4/4"; }
stack_all_healthy() {
	local c n=0
	for c in $(stack_ps); do
		[ "$(health "$c")" = healthy ] || return 1
		n=$((n + 1))
	done
	[ "$n" -eq 5 ]
}
stack_gone() {
	[ -z "$(stack_ps)" ] && [ -z "$(docker ps -aq --filter "label=com.docker.stack.namespace=$STACK")" ] &&
		! docker network inspect "${STACK}_numasim" >/dev/null 2>&1
}

# swarm_part: part 7 of run_compose_tests.sh.
swarm_part() {
	local state out reason t
	if [ "${NUMASIM_SKIP_SWARM:-0}" = 1 ]; then
		skip "swarm: NUMASIM_SKIP_SWARM=1"
		return
	fi
	state=$(docker info -f '{{.Swarm.LocalNodeState}}' 2>&1)
	# A swarm a killed run of this test left: on 127.0.0.1, one node, no service but this
	# test's stack. Anything else is someone else's swarm, left alone.
	if [ "$state" = active ] && [ "$(docker info -f '{{.Swarm.NodeAddr}}')" = 127.0.0.1 ] &&
		[ "$(docker node ls -q 2>/dev/null | wc -l)" -eq 1 ] &&
		! docker service ls --format '{{.Name}}' 2>/dev/null | grep -vq "^${STACK}_"; then
		note "leaving the single-node swarm on 127.0.0.1 an earlier, killed run left"
		docker stack rm "$STACK" >/dev/null 2>&1 && wait_until 60 stack_gone
		docker swarm leave --force >/dev/null 2>&1
		docker network rm docker_gwbridge >/dev/null 2>&1
		state=$(docker info -f '{{.Swarm.LocalNodeState}}' 2>&1)
	fi
	if [ "$state" != inactive ]; then
		skip "swarm: this engine's swarm state is '$state', not inactive: the test neither joins nor leaves a swarm it did not make"
		return
	fi
	docker network inspect docker_gwbridge >/dev/null 2>&1 || gwbridge_before=0
	t=$(date +%s.%N)
	if ! out=$(timeout 90 docker swarm init --advertise-addr 127.0.0.1 2>&1); then
		skip "swarm: the engine cannot run a swarm here: docker swarm init --advertise-addr 127.0.0.1 said: $(echo "$out" | tr '\n' ' ')"
		docker swarm leave --force >/dev/null 2>&1
		[ "$gwbridge_before" -eq 1 ] || docker network rm docker_gwbridge >/dev/null 2>&1
		return
	fi
	swarm_ours=1
	pass "docker swarm init --advertise-addr 127.0.0.1 ($(since "$t") s)"

	SWARM_COORD=coordinator
	reason=$(ipvs_reason)
	if [ -n "$reason" ]; then
		SWARM_COORD=tasks.coordinator
		note "$reason: service VIPs do not route on this engine, so the stack runs with"
		note "NUMASIM_COORD=tasks.coordinator (the coordinator task's own address, by swarm DNS)"
	fi
	note "published ports are left out of the stack: swarm ignores the 127.0.0.1 of"
	note "'127.0.0.1:PORT:7070' and would publish on every interface; checks go through the network"
	NUMASIM_COORD=$SWARM_COORD compose_to_stack --no-ports >"$WORK/stack.yml"
	check "docker stack config accepts the converted file" docker stack config -c "$WORK/stack.yml"
	t=$(date +%s.%N)
	check "docker stack deploy -c - $STACK (the file through compose_to_stack)" \
		sh -c "docker stack deploy -c - '$STACK' <'$WORK/stack.yml'"
	if wait_until 90 stack_nodes_up_4; then
		pass "stack up: PONG nodes up 4/4 from a container on ${STACK}_numasim after $(since "$t") s"
	else
		fail "stack not up after 90 s: $(stack_ping 2>&1 | tr '\n' ' ')"
		docker service ls --filter "label=com.docker.stack.namespace=$STACK" | sed 's/^/    /'
		docker service ps --no-trunc "${STACK}_coordinator" "${STACK}_node0" 2>&1 | head -8 | sed 's/^/    /'
	fi
	if wait_until 60 stack_all_healthy; then
		pass "the 5 tasks' containers are healthy (the same healthchecks) after $(since "$t") s"
	else
		fail "not all 5 stack containers healthy: $(for c in $(stack_ps); do printf '%s=%s ' "$(cname "$c")" "$(health "$c")"; done)"
	fi
	check_out "the client service has no task in the stack (deploy.replicas 0)" "^${STACK}_client 0/0" \
		docker service ls --filter "name=${STACK}_client" --format '{{.Name}} {{.Replicas}}'
	scli() { docker run --rm --network "${STACK}_numasim" -e "NUMASIM_SERVER=$SWARM_COORD:7070" "$NUMASIM_IMAGE" numasim "$@"; }
	check_out "stack: GFP_HIGHUSER from node 2 served by node 2" "^pfn 0x[0-9a-f]+ node 2 zone HighMem$" \
		scli alloc-pages --order 0 --gfp GFP_HIGHUSER --cpu 2
	check_out "stack: GFP_KERNEL for CPU 3 served by node 0" "^pfn 0x[0-9a-f]+ node 0 zone Normal$" \
		scli alloc-pages --order 0 --gfp GFP_KERNEL --cpu 3
	if scli bench --help >/dev/null 2>&1; then
		t=$(date +%s.%N)
		if run scli bench $BENCH_ARGS; then
			pass "stack: numasim bench $BENCH_ARGS ($(since "$t") s): $(grep -m1 throughput "$WORK/out")"
		else
			fail "stack: numasim bench $BENCH_ARGS failed: $(shown err)"
		fi
	else
		skip "stack: numasim bench (\`numasim bench --help\` does not exit 0)"
	fi
	t=$(date +%s.%N)
	check "docker stack rm $STACK" docker stack rm "$STACK"
	if wait_until 60 stack_gone; then
		pass "the stack's containers and network are gone $(since "$t") s after stack rm"
	else
		fail "stack remains 60 s after stack rm: $(stack_ps | wc -l) containers"
	fi
	check "docker swarm leave --force" docker swarm leave --force
	swarm_ours=0
	[ "$gwbridge_before" -eq 1 ] || docker network rm docker_gwbridge >/dev/null 2>&1
	check_out "the engine is out of the swarm" "^inactive$" docker info -f '{{.Swarm.LocalNodeState}}'
	if [ "$gwbridge_before" -eq 0 ]; then
		check "docker_gwbridge (made by swarm init) removed" not docker network inspect docker_gwbridge
	fi
}

# k8s_emulate: the pods of deploy/k8s as plain containers on a private network, with what the
# manifests say (commands, the pod names StatefulSet ordinals give, the Services' DNS names as
# network aliases, read-only root, non-root, no capabilities, the ConfigMap mounted read-only)
# and their readiness probes run with docker exec. $K8S holds what k8s_manifests.py wrote.
K8S_NET=
k8s_cleanup() {
	[ -n "${K8S_NET:-}" ] || return 0
	docker ps -aq --filter "label=numasim.test=$K8S_NET" | xargs -r docker rm -f >/dev/null 2>&1
	docker network rm "$K8S_NET" >/dev/null 2>&1
	K8S_NET=
}
k8s_ready() {
	local c
	docker exec "$K8S_NET-coordinator" "${K8S_CREADY[@]}" || return 1
	for c in $(seq 0 $((K8S_REPLICAS - 1))); do
		docker exec "$K8S_NET-node-$c" "${K8S_NREADY[@]}" || return 1
	done
}
k8s_emulate() {
	local coord_svc sts svc port config_dir i t common ccmd ncmd
	if [ ! -s "$K8S/node.cmd" ]; then
		skip "k8s pods emulated: the static checks wrote nothing to run"
		return
	fi
	read -r coord_svc sts svc port <"$K8S/names"
	config_dir=$(cat "$K8S/config_dir")
	K8S_REPLICAS=$(cat "$K8S/replicas")
	mapfile -d '' ccmd <"$K8S/coordinator.cmd"
	mapfile -d '' ncmd <"$K8S/node.cmd"
	mapfile -d '' K8S_CREADY <"$K8S/coordinator.ready"
	mapfile -d '' K8S_NREADY <"$K8S/node.ready"
	mkdir -p "$K8S/configmap"
	cp "$K8S/machine.ini" "$K8S/configmap/machine.ini"
	chmod 755 "$K8S/configmap"
	chmod 644 "$K8S/configmap/machine.ini"
	K8S_NET="${PROJECT}-k8s"
	docker network create --label "numasim.test=$K8S_NET" "$K8S_NET" >/dev/null
	common=(--network "$K8S_NET" --label "numasim.test=$K8S_NET" --read-only --cap-drop ALL
		--security-opt no-new-privileges --user 10001:10001)
	t=$(date +%s.%N)
	docker run -d --name "$K8S_NET-coordinator" --hostname "$coord_svc-7f9c6d5b8-q2x7p" \
		--network-alias "$coord_svc" -v "$K8S/configmap:$config_dir:ro" "${common[@]}" \
		"$NUMASIM_IMAGE" "${ccmd[@]}" >/dev/null
	for i in $(seq 0 $((K8S_REPLICAS - 1))); do
		docker run -d --name "$K8S_NET-node-$i" --hostname "$sts-$i" \
			--network-alias "$sts-$i.$svc" "${common[@]}" "$NUMASIM_IMAGE" "${ncmd[@]}" >/dev/null
	done
	if wait_until 40 k8s_ready; then
		pass "k8s pods emulated: coordinator and $K8S_REPLICAS StatefulSet pods ready (their readiness probes) after $(since "$t") s"
	else
		fail "k8s pods emulated: not ready after 40 s"
		for i in $(docker ps -aq --filter "label=numasim.test=$K8S_NET"); do
			echo "    $(cname "$i"): $(docker logs "$i" 2>&1 | tail -2 | tr '\n' ' ')"
		done
	fi
	local ids=""
	for i in $(seq 0 $((K8S_REPLICAS - 1))); do
		docker logs "$K8S_NET-node-$i" 2>&1 | grep -q "registering as node $i\$" && ids="$ids $i"
	done
	check "k8s pods emulated: pod $sts-N registered as node N (the ordinal), N =$ids" \
		test "$ids" = " $(seq -s ' ' 0 $((K8S_REPLICAS - 1)))"
	check_out "k8s pods emulated: the coordinator sees every node" "^PONG nodes up $K8S_REPLICAS/$K8S_REPLICAS" \
		docker exec "$K8S_NET-coordinator" numasim -s "127.0.0.1:$port" ping
	check_out "k8s pods emulated: $sts-2's read-only port by its headless-Service name" "^PONG nodes up 1/" \
		docker exec "$K8S_NET-coordinator" numasim -s "$sts-2.$svc:7071" ping
	check_out "k8s pods emulated: GFP_HIGHUSER from node 2 served by pod $sts-2" "^pfn 0x[0-9a-f]+ node 2 zone HighMem$" \
		docker exec "$K8S_NET-coordinator" numasim -s "$coord_svc:$port" alloc-pages --order 0 --gfp GFP_HIGHUSER --cpu 2
	k8s_cleanup
	check_empty "k8s pods emulated: containers removed" docker ps -aq --filter "label=numasim.test=${PROJECT}-k8s"
}
