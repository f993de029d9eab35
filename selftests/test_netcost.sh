#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_netcost.sh [CASE...] - netcost against real traffic between two
# namespaces; one case alone with ./test_netcost.sh CASE (KEEP=1 keeps what
# it made).
#
# cli (198.18.1.1) --veth-- br0 in srv (198.18.1.2), with a conntrack rule in
# srv, so the receive path crosses a bridge and netfilter. iperf3 client and
# server each run in a cgroup the test creates. Checks, on netcost's JSON
# (selftests/netcost_check.py): records start with type and time and keep
# their field types; the socket-send time is in the sender's cgroup and the
# socket-receive time in the receiver's, NET_RX and socket time are well
# above idle, no CPU is ever above 100%, NET_RX+NET_TX never exceed all
# softirq time, the breakdown sums to 100% and shows TCP, socket copy, bridge
# and netfilter (UDP for UDP traffic), /proc/stat agrees with the softirq
# time. Then: both samplers, --folded, --metrics (a valid exposition, with a
# cgroup name that needs escaping; idle clients do not delay SIGTERM), text
# output, usage errors, no privileges, SIGINT/SIGTERM/kill -9 leave none of
# this instance's programs loaded, and the fentry/kprobe backends where the
# kernel can attach them (the VM stage).

source "$(dirname "$0")/lib.sh"

NETCOST=$TOP_DIR/netcost/netcost
CHECK=$SELFTESTS_DIR/netcost_check.py
CASES=(idle tcp udp lost text metrics metrics_escape metrics_flood usage help folded_unwritable folded_symlink cgfull
       unprivileged signals backends)
require_root
require_cmd iperf3 python3 bpftool socat setpriv iptables nsenter
trap cleanup EXIT

if [ ! -x "$NETCOST" ]; then
	log_fail "$NETCOST not built (run make)"
	exit $ksft_fail
fi

make_tmp test_netcost

# ---- helpers ----

# check NAME FILE args...: run a check of netcost_check.py, log OK/FAIL.
jcheck()
{
	local what=$1 out

	shift
	if out=$(python3 "$CHECK" "$@" 2>&1); then
		[ -n "$out" ] && echo "$out"
		log_ok "$what"
	else
		log_fail "$what: $out"
	fi
}

# nc_ids NAME: the BPF programs this instance holds ("prog N" lines), from its fds.
nc_ids()
{
	local pid=${TOOL_PID[$1]}

	grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{ print "prog", $2 }' |
		sort -u > "$TMP/$1.ids"
	[ -s "$TMP/$1.ids" ]
}

# ids_gone NAME: none of the programs nc_ids saw is loaded any more.
ids_gone()
{
	local kind id

	while read -r kind id; do
		bpftool "$kind" show id "$id" >/dev/null 2>&1 && return 1
	done < "$TMP/$1.ids"
	return 0
}

# tool_wait NAME: wait for a netcost started with -d to end; its status is returned.
tool_wait()
{
	wait "${TOOL_PID[$1]}"
	TOOL_RC[$1]=$?
	TOOL_PID[$1]=
	return "${TOOL_RC[$1]}"
}

# start NAME args...: netcost (in netns $NC_NS if set) until ready; its programs
# noted. nsenter, not ip netns exec: that remounts /sys, where the cgroup v2
# hierarchy netcost names cgroups by is mounted.
start()
{
	local name=$1

	shift
	tool_start "$name" ${NC_NS:+nsenter --net="/run/netns/$NC_NS"} "$NETCOST" "$@" || return 1
	nc_ids "$name" || log_info "$name: no program fds seen"
}

# cgroup v2: use the mounted hierarchy or mount one for the test.
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CG2" ]; then
	CG2=$TMP/cgroup2
	mkdir -p "$CG2"
	if ! mount -t cgroup2 none "$CG2"; then
		log_skip "cgroup v2 not available"
		exit $ksft_skip
	fi
	on_cleanup "umount $CG2"
fi
CG_NAME=bn-netcost-$$
CGS=$CG2/$CG_NAME
mkdir -p "$CGS/snd" "$CGS/rcv" || { log_fail "cannot create cgroups"; exit 1; }
on_cleanup "cat $CGS/*/cgroup.procs | xargs -r kill -9; sleep 0.3;" \
	"rmdir $CGS/snd $CGS/rcv $CGS"

# in_cg CGROUP cmd...: run cmd inside CGROUP.
in_cg()
{
	local cg=$1

	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# ---- topology ----

setup_ns cli srv || { log_fail "cannot create namespaces"; exit 1; }
# unique names: the pair is created in the root namespace, where other tests run too
VC=ncc$$
VS=ncs$$
add_veth "$cli" $VC "$srv" $VS || { log_fail "cannot create veth $VC/$VS"; exit 1; }
add_addrs "$cli" $VC 1 1
nsip "$srv" link add br0 type bridge
nsip "$srv" link set $VS master br0
nsip "$srv" link set br0 up
add_addrs "$srv" br0 1 2
if ! nsexec "$srv" iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED,NEW \
	-j ACCEPT; then
	log_fail "cannot add a conntrack rule in the server namespace"
	exit 1
fi
SRV=$(addr4 1 2)
wait_until $((5 * SLOW)) nsexec "$cli" ping -c1 -W1 "$SRV" >/dev/null ||
	{ log_fail "no connectivity between the namespaces"; exit 1; }

# in_cg CGROUP cmd...: run cmd inside CGROUP.
in_cg()
{
	local cg=$1

	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# traffic tcp|udp SECONDS: iperf3 from the sender's to the receiver's cgroup.
traffic()
{
	local proto=$1 secs=$2 port=$((5200 + RANDOM % 100)) opt=()

	[ "$proto" = udp ] && opt=(-u -b "${UDP_RATE:-200M}" -l 1200)
	in_cg "$CGS/rcv" ip netns exec "$srv" iperf3 -s -1 -p "$port" > "$TMP/iperf-s.log" 2>&1 &
	wait_listen $((5 * SLOW)) "$srv" "$port" || return 1
	in_cg "$CGS/snd" ip netns exec "$cli" timeout $((secs * 3 + 20)) \
		iperf3 -c "$SRV" -p "$port" -t "$secs" "${opt[@]}" > "$TMP/iperf-c.log" 2>&1
}

wakeups()
{
	awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$1/status" 2>/dev/null ||
		echo 0
}

# measure NAME tcp|udp args...: netcost -j around MEASURE_SECS (default 3,
# x SLOW) seconds of traffic; its records in $TMP/NAME.out.
measure()
{
	local name=$1 proto=$2 secs=$((${MEASURE_SECS:-3} * SLOW)) w0 t0 pid

	shift 2
	if ! start "$name" -j -i 1 -d $((secs + 2 * SLOW)) --cgroups=50 "$@"; then
		grep -q "backend unavailable" "$TMP/$name.err" && return $ksft_skip
		log_fail "netcost $* did not start: $(cat "$TMP/$name.err")"
		return 1
	fi
	pid=${TOOL_PID[$name]}
	sleep 1
	t0=$SECONDS
	w0=$(wakeups "$pid")
	traffic "$proto" "$secs" || log_fail "iperf3 $proto failed: $(tail -3 "$TMP/iperf-c.log")"
	# how often netcost slept and woke up while the traffic ran
	MEASURE_WAKEUPS=$(($(wakeups "$pid") - w0))
	MEASURE_RUN=$((SECONDS - t0 + 1))
	log_info "iperf3 $proto: $(grep -E 'sender|receiver' "$TMP/iperf-c.log" | tail -1)"
	tool_wait "$name" ||
		{ log_fail "netcost $* exited with ${TOOL_RC[$name]}: $(cat "$TMP/$name.err")"; return 1; }
}

# ---- cases ----

case_idle()
{
	start idle -j -i 1 -d $((1 + SLOW)) --cgroups=50 ||
		{ log_fail "netcost did not start: $(cat "$TMP/idle.err")"; return; }
	tool_wait idle || log_fail "idle: exit ${TOOL_RC[idle]}: $(cat "$TMP/idle.err")"
	jcheck "idle: JSON records, one type per field" fields "$TMP/idle.out"
	jcheck "idle: nothing charged to the test's cgroups" cgroup "$TMP/idle.out" "$CG_NAME" idle
	log_info "$(grep -o 'backend .*' "$TMP/idle.err")"
}

# The sampling rate of the breakdown checks: 4999 Hz per CPU, or the kernel's
# limit if lower. At that rate 3-4 s of traffic give thousands of samples in
# networking context; fewer than 300 would mean the host starved the traffic,
# and the check fails saying so rather than on a category with no sample.
sample_rate()
{
	local rate

	rate=$(sysctl -n kernel.perf_event_max_sample_rate 2>/dev/null || echo 4999)
	[ "$rate" -gt 4999 ] && rate=4999
	echo "$rate"
}

case_tcp()
{
	local rate

	rate=$(sample_rate)
	measure tcp tcp --breakdown --freq "$rate" --folded "$TMP/tcp.folded" || return
	jcheck "tcp: JSON records, one type per field" fields "$TMP/tcp.out"
	jcheck "tcp: no CPU above 100%, NET_RX+NET_TX within softirq time" max100 "$TMP/tcp.out"
	jcheck "tcp: send, receive and NET_RX time well above idle" busy "$TMP/tcp.out" \
		"$CG_NAME" 0.5 0.25 0.5
	jcheck "tcp: socket time charged to the sender's and receiver's cgroups" \
		cgroup "$TMP/tcp.out" "$CG_NAME" busy
	jcheck "tcp: breakdown (at $rate Hz): 100%, tcp, socket copy, bridge, netfilter" \
		breakdown "$TMP/tcp.out" \
		"tcp:pct,socket_copy:pct,bridge:net_rx_pct,netfilter:net_rx_pct" 300
	if [ "${BPFNET_VM:-0}" = 1 ]; then
		# /proc/stat tick sampling is unreliable under TCG: only print it
		python3 "$CHECK" procstat "$TMP/tcp.out" | grep '^#'
	else
		jcheck "tcp: softirq time agrees with /proc/stat" procstat "$TMP/tcp.out"
	fi
	if grep -qE '^sock_(send|recv);.*tcp_(send|recv)msg.* [0-9]+$' "$TMP/tcp.folded"; then
		log_ok "tcp: --folded wrote stacks through tcp_sendmsg/tcp_recvmsg"
	else
		log_fail "tcp: --folded file lacks TCP socket stacks: $(head -3 "$TMP/tcp.folded")"
	fi
}

case_udp()
{
	local rate samples

	rate=$(sample_rate)
	[ "${BPFNET_VM:-0}" = 1 ] && UDP_RATE=30M
	MEASURE_SECS=4 measure udp udp --breakdown --sampler ringbuf --freq "$rate" || return
	jcheck "udp: JSON records, one type per field" fields "$TMP/udp.out"
	jcheck "udp: no CPU above 100%" max100 "$TMP/udp.out"
	jcheck "udp: send, receive and NET_RX time well above idle" busy "$TMP/udp.out" \
		"$CG_NAME" 0.1 0.05 0.1
	jcheck "udp: socket time charged to the sender's and receiver's cgroups" \
		cgroup "$TMP/udp.out" "$CG_NAME" busy
	jcheck "udp: ring buffer breakdown (at $rate Hz) shows udp" breakdown "$TMP/udp.out" \
		"udp:pct" 300
	# the ring is read every 100 ms and reports come every second: no wakeup
	# per sample (an IPI and two context switches each)
	samples=$(python3 -c 'import json, sys
print([r for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "total" and
       r["average"]][0]["samples"])' "$TMP/udp.out")
	if [ "$MEASURE_WAKEUPS" -le $((11 * MEASURE_RUN + 10)) ]; then
		log_ok "udp: ring buffer read in batches: $MEASURE_WAKEUPS wakeups in" \
		       "${MEASURE_RUN}s ($samples samples in the run)"
	else
		log_fail "udp: ring buffer woke netcost $MEASURE_WAKEUPS times in ${MEASURE_RUN}s" \
			 "(at most $((11 * MEASURE_RUN + 10)): 10 reads and 1 report a second;" \
			 "$samples samples in the run)"
	fi
}

# A sample buffer too small for the rate: lost samples are counted, shown.
case_lost()
{
	local rate

	rate=$(sysctl -n kernel.perf_event_max_sample_rate 2>/dev/null || echo 2000)
	[ "$rate" -gt 2000 ] && rate=2000
	start lost -i 1 -d $((3 * SLOW)) --breakdown --freq "$rate" --slots 16 ||
		{ log_fail "netcost --slots 16 did not start: $(cat "$TMP/lost.err")"; return; }
	traffic tcp $((2 * SLOW)) || log_fail "iperf3 tcp failed: $(tail -3 "$TMP/iperf-c.log")"
	tool_wait lost
	if grep -qE '^Average +\(lost\) .* [1-9][0-9]*$' "$TMP/lost.out"; then
		log_ok "lost samples counted and shown: $(grep -E '^Average +\(lost\)' \
			"$TMP/lost.out" | awk '{ print $NF }') with 16 slots at $rate Hz"
	else
		log_fail "no lost samples shown: $(grep -E '\(lost\)' "$TMP/lost.out" | tail -1)"
	fi
}

case_text()
{
	"$NETCOST" -i 0.5 -d 1 -c 0 --breakdown > "$TMP/text.out" 2> "$TMP/text.err"
	if head -1 "$TMP/text.out" | grep -q '^TIME *CPU *NET_RX% *NET_TX% *SEND% *RECV% *TOTAL%' &&
	   grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} +0 ' "$TMP/text.out" &&
	   grep -qE '^Average +all ' "$TMP/text.out" &&
	   ! grep -qE '^[0-9:.]+ +1 ' "$TMP/text.out" &&
	   grep -qE '^TIME +CATEGORY .* ALL% +\+-ALL% +SAMPLES$' "$TMP/text.out" &&
	   grep -qE '^Average +\(samples\)( +[0-9]+){5} +- +-$' "$TMP/text.out" &&
	   grep -qE '^Average +gro( +[0-9]+\.[0-9]{2}){6} +[0-9]+$' "$TMP/text.out"; then
		log_ok "text: header, HH:MM:SS.mmm CPU 0 rows only (-c 0), all row, Average;" \
		       "breakdown with its error and sample counts"
	else
		log_fail "text output: $(head -3 "$TMP/text.out") $(cat "$TMP/text.err")"
	fi
}

# scrape PORT FILE: GET /metrics from netcost in $srv.
scrape()
{
	printf 'GET /metrics HTTP/1.0\r\n\r\n' |
		ip netns exec "$srv" socat -t 2 - "TCP:127.0.0.1:$1" > "$2" 2>/dev/null
	grep -q '^netcost_cpu_ratio{cpu="0",kind="net_rx"} [0-9.]*$' "$2"
}

case_metrics()
{
	local port=$((9400 + RANDOM % 500))

	NC_NS=$srv start metrics -i 0.5 -d $((10 * SLOW)) --metrics "$port" ||
		{ log_fail "netcost --metrics did not start"; return; }
	if wait_until $((8 * SLOW)) scrape "$port" "$TMP/metrics" &&
	   grep -q '^netcost_cpu_seconds_total{cpu="0",kind="sock_send"} ' "$TMP/metrics" &&
	   grep -q '^# TYPE netcost_cpu_seconds_total counter' "$TMP/metrics"; then
		log_ok "metrics: Prometheus exposition on 127.0.0.1:$port"
	else
		log_fail "metrics: $(head -5 "$TMP/metrics" 2>/dev/null)"
	fi
	jcheck "metrics: every sample line is valid text format" prom "$TMP/metrics"
	if ip netns exec "$srv" ss -Hltn "sport = :$port" | grep -q '127.0.0.1:'; then
		log_ok "metrics: PORT alone listens on 127.0.0.1 only"
	else
		log_fail "metrics: listening on $(ip netns exec "$srv" ss -Hltn "sport = :$port")"
	fi
	tool_stop metrics
	NC_NS=$srv start metrics_any -i 0.5 -d $((10 * SLOW)) --metrics "0.0.0.0:$port" ||
		{ log_fail "netcost --metrics 0.0.0.0:$port did not start"; return; }
	if ip netns exec "$srv" ss -Hltn "sport = :$port" | grep -q '0.0.0.0:'; then
		log_ok "metrics: 0.0.0.0:PORT listens on every address"
	else
		log_fail "metrics: 0.0.0.0:$port listens on $(ip netns exec "$srv" ss -Hltn \
			"sport = :$port")"
	fi
	tool_stop metrics_any
}

scrape_escaped()
{
	scrape "$ESC_PORT" "$TMP/escape.prom" &&
		grep -q "^netcost_cgroup_cpu_seconds_total{cgroup=\"/$CG_NAME/e" "$TMP/escape.prom"
}

# A cgroup name with a control character, a quote and a backslash: the
# scrape still parses, the label escaped by the text format's rules.
case_metrics_escape()
{
	local port=$((9400 + RANDOM % 500)) name cg

	name=$(printf 'e\001q"b\\s')
	cg=$CGS/$name
	mkdir "$cg" || { log_fail "cannot create cgroup $name"; return; }
	on_cleanup "rmdir '$CGS'/e*"
	NC_NS=$srv start escape -i 0.3 -d $((20 * SLOW)) --cgroups --metrics "$port" ||
		{ log_fail "netcost --metrics did not start"; return; }
	in_cg "$cg" ip netns exec "$cli" ping -q -c 5 -i 0.2 -W 1 "$SRV" >/dev/null
	ESC_PORT=$port
	if wait_until $((8 * SLOW)) scrape_escaped; then
		jcheck "metrics: cgroup name with a control character, quote, backslash escaped" \
			prom "$TMP/escape.prom" "/$CG_NAME/$name"
	else
		log_fail "metrics: no sample for the cgroup: $(grep cgroup "$TMP/escape.prom" |
			head -3)"
	fi
	tool_stop escape
}

# 50 clients that connect and send nothing: SIGTERM still ends netcost within
# a few seconds (the server never waits for a client). A bound, not a speed.
case_metrics_flood()
{
	local port=$((9400 + RANDOM % 500)) pid cpid i

	NC_NS=$srv start flood -i 0.5 --metrics "$port" ||
		{ log_fail "netcost --metrics did not start"; return; }
	pid=${TOOL_PID[flood]}
	ip netns exec "$srv" python3 "$CHECK" idle_clients "$port" 50 60 > "$TMP/clients" 2>&1 &
	cpid=$!
	on_cleanup "kill -9 $cpid"
	wait_for_file $((5 * SLOW)) "$TMP/clients" '^open 50' ||
		{ log_fail "idle clients: $(cat "$TMP/clients")"; kill -9 $cpid; return; }
	kill -TERM "$pid"
	for ((i = 0; i < 50 * SLOW; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log_fail "metrics: 50 idle clients held netcost past SIGTERM for $((5 * SLOW)) s"
	else
		log_ok "metrics: 50 idle clients, SIGTERM ended netcost within $((5 * SLOW)) s"
	fi
	tool_stop flood KILL
	kill -9 $cpid 2>/dev/null
	wait $cpid 2>/dev/null
}

# Usage errors: exit 2, one line, nothing on stdout; checked before anything
# is loaded (where strace is installed: not one bpf() call made).
case_usage()
{
	local args trace=()

	command -v strace >/dev/null && trace=(strace -f -qq -e trace=bpf -o "$TMP/usage.strace")
	for args in "--bogus" "-c 999" "-c x" "--freq 0" "--freq 200000" "--backend bogus" \
		    "-i 0" "-i 18446744073s" "-d 18446744073s" "-d -1" "--metrics 70000" \
		    "--metrics 1.2.3:80" "--metrics ::1:80" "--metrics host:80" "--sampler mmap" \
		    "--cgroups=0" "stray-arg" "--freq 99" "--sampler ringbuf" "--slots 64" "--max-cgroups 8" \
		    "--cgroups --max-cgroups 0"; do
		# shellcheck disable=SC2086
		expect_usage_error "netcost $args" "${trace[@]}" "$NETCOST" $args
		if [ ${#trace[@]} -gt 0 ] && grep -q 'bpf(' "$TMP/usage.strace"; then
			log_fail "netcost $args: made bpf() calls before the usage error"
		fi
	done
}

case_help()
{
	if "$NETCOST" -h | grep -q '^EXAMPLES:' && "$NETCOST" -V | grep -q '^netcost ' &&
	   ! "$NETCOST" -h | grep -qi 'report bugs' &&
	   "$NETCOST" -h | grep -q -- '--freq=HZ.*(default 99'; then
		log_ok "-h prints usage with examples (--freq default 99), -V the version"
	else
		log_fail "-h or -V output"
	fi
}

case_folded_unwritable()
{
	local rc

	"$NETCOST" -d 1 --folded /nonexistent/dir/x.folded > /dev/null 2> "$TMP/bad.err"
	rc=$?
	if [ $rc = 1 ] && grep -q '^netcost: cannot write /nonexistent/dir/x.folded' \
		"$TMP/bad.err"; then
		log_ok "unwritable --folded file: exit 1, error named"
	else
		log_fail "unwritable --folded: exit $rc: $(cat "$TMP/bad.err")"
	fi
}

# --folded through a link another user planted: the link is replaced by the
# new file, its target (a file of root's) is left as it was (issue 10.9).
case_folded_symlink()
{
	local target=$TMP/precious link=$TMP/out.folded rc

	echo "root's data" > "$target"
	ln -s "$target" "$link"
	"$NETCOST" -d 1 --folded "$link" > /dev/null 2> "$TMP/link.err"
	rc=$?
	if [ $rc = 0 ] && [ "$(cat "$target")" = "root's data" ] && [ ! -L "$link" ] &&
	   [ -f "$link" ]; then
		log_ok "--folded over a symlink: link replaced, its target untouched"
	else
		log_fail "--folded over a symlink: exit $rc, target now '$(head -c 40 "$target")'," \
			"link $( [ -L "$link" ] && echo kept || echo replaced): $(cat "$TMP/link.err")"
	fi
	mkfifo "$TMP/fifo"
	timeout 10 "$NETCOST" -d 1 --folded "$TMP/fifo" > /dev/null 2> "$TMP/fifo.err"
	rc=$?
	if [ $rc = 1 ] && grep -q 'not a regular file' "$TMP/fifo.err"; then
		log_ok "--folded on a FIFO: exit 1, not a regular file"
	else
		log_fail "--folded on a FIFO: exit $rc: $(cat "$TMP/fifo.err")"
	fi
}

# More cgroups with socket time than --max-cgroups holds: the operations that
# could not be charged are counted as errors, and text mode says so in the
# interval, not only in JSON (issue 10.15).
case_cgfull()
{
	local i n

	for i in 0 1 2 3 4 5; do
		mkdir -p "$CGS/full$i"
	done
	start cgfull -i 1 -d $((3 * SLOW)) --cgroups=5 --max-cgroups 2 ||
		{ log_fail "cgfull: netcost did not start"; return; }
	for i in 0 1 2 3 4 5; do
		in_cg "$CGS/full$i" ip netns exec "$cli" sh -c \
			'for j in 1 2 3 4 5; do echo x; done | socat -u - UDP:127.0.0.1:9' 2>/dev/null
	done
	tool_stop cgfull
	for i in 0 1 2 3 4 5; do
		rmdir "$CGS/full$i" 2>/dev/null
	done
	n=$(grep -c 'socket operations not attributed in this interval' "$TMP/cgfull.err")
	check "cgfull: more cgroups than --max-cgroups: text mode warns in the interval ($n)" \
		[ "$n" -ge 1 ]
}

case_unprivileged()
{
	local rc

	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
		"$NETCOST" -d 1 > "$TMP/bad.out" 2> "$TMP/bad.err"
	rc=$?
	if [ $rc = 1 ] && grep -q 'missing capability CAP_' "$TMP/bad.err"; then
		log_ok "unprivileged: exit 1, names the capability"
	else
		log_fail "unprivileged: exit $rc: $(cat "$TMP/bad.err")"
	fi
}

# SIGINT/SIGTERM end cleanly with the summary; after them and kill -9 none of
# this instance's programs (by id) is loaded.
case_signals()
{
	local sig bd rc

	for sig in INT TERM KILL; do
		# perf event links too, on the clean and on the kill -9 path
		bd=()
		[ $sig != TERM ] && bd=(--breakdown)
		start sig$sig -i 0.2 "${bd[@]}" ||
			{ log_fail "SIG$sig: netcost did not start"; continue; }
		wait_for_file $((10 * SLOW)) "$TMP/sig$sig.out" ' all ' ||
			log_fail "SIG$sig: no output"
		tool_stop sig$sig $sig
		rc=${TOOL_RC[sig$sig]}
		if [ $sig != KILL ] && { [ "$rc" != 0 ] ||
		   ! grep -q '^Average *all' "$TMP/sig$sig.out"; }; then
			log_fail "SIG$sig: exit $rc, summary missing; stderr: $(cat "$TMP/sig$sig.err")"
		elif ! wait_until $((10 * SLOW)) ids_gone sig$sig; then
			log_fail "SIG$sig: programs of this instance still loaded:" \
				 "$(tr '\n' ' ' < "$TMP/sig$sig.ids")"
		else
			log_ok "SIG$sig: stopped, its $(wc -l < "$TMP/sig$sig.ids") programs unloaded"
		fi
	done
}

# The other backends (fentry and kprobe attach in the VM stage only).
case_backends()
{
	local b auto

	auto=$("$NETCOST" -d 0.1 2>&1 >/dev/null | sed -n 's/^netcost: backend \([a-z]*\),.*/\1/p')
	for b in tracepoint fentry kprobe; do
		[ "$b" = "$auto" ] && continue
		MEASURE_SECS=2 measure "$b" tcp --backend $b
		case $? in
		0)
			jcheck "$b: JSON records, one type per field" fields "$TMP/$b.out"
			jcheck "$b: no CPU above 100%" max100 "$TMP/$b.out"
			jcheck "$b: send, receive and NET_RX time well above idle" busy \
				"$TMP/$b.out" "$CG_NAME" 0.5 0.25 0.5
			jcheck "$b: socket time charged to the right cgroups" \
				cgroup "$TMP/$b.out" "$CG_NAME" busy
			if wait_until $((10 * SLOW)) ids_gone "$b"; then
				log_ok "$b: its programs unloaded at exit"
			else
				log_fail "$b: programs still loaded: $(tr '\n' ' ' < "$TMP/$b.ids")"
			fi
			;;
		"$ksft_skip")
			log_skip "$b backend: $(head -1 "$TMP/$b.err")"
			;;
		esac
	done
}

run_cases "$@"
exit $RET
