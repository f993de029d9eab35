# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - shared by the shell selftests; source it, then `trap cleanup EXIT`.
#
# Address plan (RFC 2544 benchmarking range and the documentation prefix):
#   link N (1..255) of a test:  198.18.N.0/24   and 2001:db8:N::/64
#   host H on that link:        198.18.N.H       and 2001:db8:N::H
# Every namespace a test creates gets a unique name (setup_ns), and cleanup
# removes every namespace, link and leftover the test registered.

ksft_pass=0
ksft_fail=1
ksft_xfail=2
ksft_skip=4

SELFTESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(dirname "$SELFTESTS_DIR")

# What cleanup removes, in reverse order of creation.
NS_LIST=()
LINK_LIST=()
CLEANUP_CMDS=()
RET=0

log_ok()	{ printf '[ OK ] %s\n' "$*"; }
log_fail()	{ printf '[FAIL] %s\n' "$*"; RET=$ksft_fail; }
log_skip()	{ printf '[SKIP] %s\n' "$*"; }
log_info()	{ printf '# %s\n' "$*"; }

# check_ok "what" cmd...: run a check, log OK/FAIL.
check()
{
	local what=$1

	shift
	if "$@"; then
		log_ok "$what"
	else
		log_fail "$what"
	fi
}

require_root()
{
	if [ "$(id -u)" != 0 ]; then
		log_skip "needs root"
		exit $ksft_skip
	fi
}

require_cmd()
{
	local c

	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			log_fail "missing command $c (run make deps)"
			exit $ksft_fail
		fi
	done
}

# setup_ns VAR...: create one namespace per VAR with a unique name, store the
# name in VAR, bring lo up. Registered for cleanup.
setup_ns()
{
	local var name

	for var in "$@"; do
		name="bn-${var}-$$-${RANDOM}"
		ip netns add "$name" || return 1
		NS_LIST+=("$name")
		ip -n "$name" link set lo up
		# no DAD delay for IPv6 addresses: tests use them at once
		ip netns exec "$name" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 >/dev/null
		eval "$var=\$name"
	done
}

# add_veth NS_A IF_A NS_B IF_B [QUEUES]: a veth pair between two namespaces,
# both up, with QUEUES rx/tx queues a side (default 1). Pass "" as a
# namespace for the current one (links there are registered).
add_veth()
{
	local nsa=$1 ifa=$2 nsb=$3 ifb=$4 q=${5:-1}

	ip link add "$ifa" numtxqueues "$q" numrxqueues "$q" type veth peer name "$ifb" \
		numtxqueues "$q" numrxqueues "$q" || return 1
	if [ -n "$nsa" ]; then
		ip link set "$ifa" netns "$nsa"
	else
		LINK_LIST+=("$ifa")
	fi
	if [ -n "$nsb" ]; then
		ip link set "$ifb" netns "$nsb"
	else
		LINK_LIST+=("$ifb")
	fi
	nsip "$nsa" link set "$ifa" up
	nsip "$nsb" link set "$ifb" up
}

# veth NS_A IF_A NS_B IF_B: a veth pair made inside the two namespaces (not
# in the current one first: names like eth0 cannot clash there), both up.
veth()
{
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	nsip "$1" link set "$2" up && nsip "$3" link set "$4" up
}

# prog_ids PID: the ids of the BPF programs PID holds, through its program and
# link fds (their fdinfo names prog_id), one per line, sorted: what "nothing of
# this instance left loaded" checks look for.
prog_ids()
{
	grep -hs '^prog_id:' /proc/"$1"/fdinfo/* | awk '{ print $2 }' | sort -un
}

# add_bridge NS BR: a bridge in NS, up. add_port NS BR IF: enslave IF.
add_bridge()
{
	nsip "$1" link add "$2" type bridge || return 1
	[ -z "$1" ] && LINK_LIST+=("$2")
	nsip "$1" link set "$2" up
}

add_port()
{
	nsip "$1" link set "$3" master "$2" && nsip "$1" link set "$3" up
}

# nsip NS args...: `ip` in NS ("" = current namespace).
nsip()
{
	local ns=$1

	shift
	if [ -n "$ns" ]; then
		ip -n "$ns" "$@"
	else
		ip "$@"
	fi
}

# nsexec NS cmd...: run cmd in NS ("" = current namespace).
nsexec()
{
	local ns=$1

	shift
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

# Address plan helpers: addr4 LINK HOST, addr6 LINK HOST.
addr4() { echo "198.18.$1.$2"; }
addr6() { printf '2001:db8:%x::%x\n' "$1" "$2"; }

# add_addrs NS IF LINK HOST: the IPv4 /24 and IPv6 /64 addresses of HOST on LINK.
add_addrs()
{
	nsip "$1" addr add "$(addr4 "$3" "$4")/24" dev "$2" &&
	nsip "$1" -6 addr add "$(addr6 "$3" "$4")/64" dev "$2" nodad
}

# on_cleanup cmd...: run cmd (as one string, eval'd) during cleanup, before
# the namespaces go (e.g. kill a tool, remove a qdisc on a host link).
on_cleanup()
{
	CLEANUP_CMDS+=("$*")
}

cleanup()
{
	local i

	if [ "${KEEP:-0}" = 1 ]; then
		log_info "KEEP=1: left for inspection: ${NS_LIST[*]} ${LINK_LIST[*]} ${TMP:-}"
		for ((i = ${#TOOL_NAMES[@]} - 1; i >= 0; i--)); do
			tool_stop "${TOOL_NAMES[i]}" >/dev/null 2>&1
		done
		return
	fi
	for ((i = ${#TOOL_NAMES[@]} - 1; i >= 0; i--)); do
		tool_stop "${TOOL_NAMES[i]}" >/dev/null 2>&1
	done

	for ((i = ${#CLEANUP_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP_CMDS[i]}" >/dev/null 2>&1
	done
	for ((i = ${#LINK_LIST[@]} - 1; i >= 0; i--)); do
		ip link del "${LINK_LIST[i]}" >/dev/null 2>&1
	done
	# what is killed below must not be reported as a dead job of ours
	disown -a 2>/dev/null
	for ((i = ${#NS_LIST[@]} - 1; i >= 0; i--)); do
		# kill what still runs inside, then the namespace
		ip netns pids "${NS_LIST[i]}" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "${NS_LIST[i]}" >/dev/null 2>&1
	done
	CLEANUP_CMDS=()
	LINK_LIST=()
	NS_LIST=()
	[ -n "${TMP:-}" ] && [ -d "$TMP" ] && rm -rf "$TMP"
}

# make_tmp NAME: a private temporary directory in $TMP, removed by cleanup
# (kept with KEEP=1, like the namespaces).
make_tmp()
{
	TMP=$(mktemp -d "/tmp/$1.XXXXXX") || exit $ksft_fail
}

# tool_start NAME cmd...: run cmd in the background, stdout into $TMP/NAME.out
# and stderr into $TMP/NAME.err, and wait until it prints "<tool>: ready" on
# stderr. Returns 1 (stderr shown) if it exits or is not ready in time. The
# pid is in TOOL_PID[NAME]; cleanup stops it.
declare -A TOOL_PID TOOL_RC
TOOL_NAMES=()
tool_start()
{
	local name=$1 pid

	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	TOOL_PID[$name]=$pid
	TOOL_NAMES+=("$name")
	if ! wait_until $((20 * SLOW)) tool_ready_or_gone "$name" || ! tool_ready "$name"; then
		log_info "$name not ready: $(tr '\n' ' ' <"$TMP/$name.err" | cut -c1-400)"
		tool_stop "$name" KILL >/dev/null 2>&1
		return 1
	fi
}

# tool_ready NAME: has it printed its ready line?
tool_ready()
{
	grep -qE '^[a-z_-]+: ready$' "$TMP/$1.err" 2>/dev/null
}

tool_ready_or_gone()
{
	tool_ready "$1" || ! kill -0 "${TOOL_PID[$1]}" 2>/dev/null
}

# tool_stop NAME [SIGNAL]: send SIGNAL (default INT), wait up to 20 s; the exit
# status is in TOOL_RC[NAME] and returned. Stopping twice is harmless.
tool_stop()
{
	local name=$1 sig=${2:-INT} pid=${TOOL_PID[$1]:-} i

	[ -z "$pid" ] && return "${TOOL_RC[$name]:-0}"
	# a job killed by KILL is reported by bash ("Killed") unless disowned
	[ "$sig" = KILL ] && disown "$pid" 2>/dev/null
	kill -s "$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 200 * SLOW; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		disown "$pid" 2>/dev/null
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	TOOL_RC[$name]=$?
	[ "$sig" = KILL ] && TOOL_RC[$name]=137
	TOOL_PID[$name]=
	return "${TOOL_RC[$name]}"
}

# expect_usage_error WHAT cmd...: cmd must exit 2 with exactly one line on
# stderr and nothing on stdout (what the tool attached is the caller's check).
expect_usage_error()
{
	local what=$1 out err rc

	shift
	out=$(mktemp) err=$(mktemp)
	"$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$err")" = 1 ] && [ ! -s "$out" ]; then
		log_ok "$what: usage error ($(cat "$err"))"
	else
		log_fail "$what: exit $rc, want 2; stderr $(wc -l <"$err") lines" \
			"(want 1): $(head -c 300 "$err" | tr '\n' '|'); stdout $(wc -c <"$out") bytes"
	fi
	rm -f "$out" "$err"
}

# run_cases [NAME...]: run case_NAME for each NAME given (so one case can run
# alone: ./test_x.sh NAME), else for every name in the test's CASES array.
run_cases()
{
	local c t list=("$@")

	[ ${#list[@]} -eq 0 ] && list=("${CASES[@]}")
	for c in "${list[@]}"; do
		if ! declare -F "case_$c" >/dev/null; then
			log_fail "no case '$c' (cases: ${CASES[*]})"
			continue
		fi
		log_info "case $c"
		t=$SECONDS
		"case_$c"
		log_info "case $c took $((SECONDS - t))s"
	done
}

# wait_until TIMEOUT_S cmd...: poll cmd every 0.1 s until it succeeds.
wait_until()
{
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))

	shift
	until "$@"; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# wait_for_file TIMEOUT_S FILE PATTERN: until FILE contains PATTERN (grep -E).
wait_for_file()
{
	wait_until "$1" grep -qE -- "$3" "$2" 2>/dev/null
}

# listening NS PORT [tcp|udp]: is something listening on PORT in NS?
listening()
{
	local flag=-Hltn

	[ "${3:-tcp}" = udp ] && flag=-Hlun
	[ -n "$(nsexec "$1" ss $flag "sport = :$2" 2>/dev/null)" ]
}

# wait_listen TIMEOUT_S NS PORT [tcp|udp]
wait_listen()
{
	wait_until "$1" listening "$2" "$3" "${4:-tcp}"
}

# Multiplier for timeouts and durations: the VM stage runs under TCG.
if [ "${BPFNET_VM:-0}" = 1 ]; then
	SLOW=4
else
	SLOW=1
fi
