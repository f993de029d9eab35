#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_elephant.sh - elephant end to end on every backend the kernel runs.
#
# Topology (elephant_topo.sh, shared with bench/elephant.sh): a "node"
# namespace plays the host; containers c1, c2, c3 behind veths vc1..vc3 on
# its bridge br0, each in its own conntrack zone; a "remote" namespace
# behind the routed uplink up0.
#
# Cases (each on tc, kprobe and fentry; kprobe/fentry SKIP where the kernel
# cannot attach them, e.g. this 6.18 dev kernel; the VM stage runs them):
#   main     iperf3 TCP elephant from c1 while c2 runs 40 short request/
#            response mice and c3 a long-lived but light flow: exactly the
#            elephant is reported, once, with its tuple, iface, zone and
#            workload; no mouse ever; JSON parses; conntrack -D yields
#            elephant_del within 2 s with final totals >= what iperf3 sent;
#            the summaries say c1 heavy and c2, c3 light; /metrics agrees,
#            scraped by curl and by a real prometheus server (loopback)
#   metrics  /metrics scraped while an elephant runs shows it (the gauges
#            are those of the last complete interval, not 0); --metrics PORT
#            listens on 127.0.0.1 only; promtool accepts the exposition
#   udp6     an IPv6 UDP iperf3 elephant from c2 (derived workload name)
#   atdelete a flow that crossed the thresholds while quiet is reported when
#            conntrack -D deletes it (add with ",at_delete", then del)
#   rate     --min-rate keeps a 20 Mbit/s flow out at 1G, lets it in at 10M
#   hotplug  a container created after start (tc attaches to its veth)
#   state    --state keeps c1 heavy across a restart without traffic, and
#            saves the bytes of a workload that only had mice
#   full     --max-flows 16 and 20 flows: table_full counts flows, not packets;
#            in text mode it is warned in the interval, not only at exit
#   noacct   a flow started before nf_conntrack_acct was on: warned every
#            interval it is seen, JSON no_acct and /metrics count it once
#   enobufs  (tc) elephant stopped while 40000 conntrack entries are made:
#            the lost events are counted, warned and in JSON
#   signals  SIGTERM and kill -9: none of this instance's programs, filters
#            or qdiscs left behind; the next start removes what kill -9 left
#   shared   (tc) another tool's filters on the clsact elephant created, ingress
#            and egress, survive its exit and the recovery after kill -9
# Once:
#   usage    bad options and values: exit 2, one line, nothing on stdout,
#            nothing loaded or attached
#   badinput unknown interface, unwritable state, a state path that is a
#            directory or a FIFO (no hang), port in use, not root: exit 1
#   concurrent  6 elephants started at the same instant in one netns: one
#            runs, the others exit 1 naming its pid
#   stale    run files of another netns (old inode name, other cookie) or
#            naming other interfaces are not applied
#   noct     a netns where no rule asks for conntrack: warned per family at
#            start and by --backends; said once when a family becomes active
#
# Usage: test_elephant.sh [CASE...]   (default: every case)
#        BACKENDS="tc kprobe fentry" overrides the backends tried; KEEP=1
#        leaves the namespaces and $TMP for inspection.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/elephant_topo.sh"

EL=${ELEPHANT:-$TOP_DIR/elephant/elephant}	# ELEPHANT=: another build
PORT=5201
C1=$(addr4 1 11)
C2=$(addr4 1 12)
C3=$(addr4 1 13)
R4=$(addr4 2 2)
C2_6=$(addr6 1 12)
R6=$(addr6 2 2)

require_root
require_cmd jq iperf3 socat iptables ip6tables conntrack curl tc flock python3
trap cleanup EXIT

if [ ! -x "$EL" ]; then
	log_fail "elephant not built (make elephant)"
	exit $ksft_fail
fi

make_tmp test_elephant
chmod 755 "$TMP"

# The shared topology with three containers, and the servers in "remote":
# iperf3, a TCP and a UDP echo.
topology()
{
	el_topology 3 || return 1
	ip netns exec "$remote" iperf3 -s -D -p $PORT --pidfile "$TMP/iperf3.pid" >/dev/null
	on_cleanup "kill \$(cat $TMP/iperf3.pid)"
	ip netns exec "$remote" socat TCP6-LISTEN:7000,ipv6only=0,fork,reuseaddr \
		EXEC:cat >/dev/null 2>&1 &
	on_cleanup "kill $!"
	ip netns exec "$remote" socat UDP6-RECVFROM:7001,ipv6only=0,fork,reuseaddr \
		EXEC:cat >/dev/null 2>&1 &
	on_cleanup "kill $!"
	wait_listen $((5 * SLOW)) "$remote" $PORT
}

# backend_usable NAME: whether this kernel runs the backend (bn_probe_hook
# through elephant --backends); prints the reason when it does not.
backend_usable()
{
	local line

	line=$(ip netns exec "$node" "$EL" --backends | awk -v b="$1" '$1 == b')
	case $line in
	*" yes "*) return 0 ;;
	esac
	echo "${line#* no }"
	return 1
}

# prom_start: a real prometheus in the node namespace (loopback only),
# scraping elephant's /metrics every second.
PROMPID=
prom_start()
{
	command -v prometheus >/dev/null || return 1
	mkdir -p "$TMP/prom"
	cat >"$TMP/prom.yml" <<-EOC
	global:
	  scrape_interval: 1s
	scrape_configs:
	  - job_name: elephant
	    static_configs:
	      - targets: ['127.0.0.1:19464']
	EOC
	ip netns exec "$node" prometheus --config.file="$TMP/prom.yml" \
		--storage.tsdb.path="$TMP/prom" --web.listen-address=127.0.0.1:19090 \
		>"$TMP/prom.log" 2>&1 &
	PROMPID=$!
	on_cleanup "kill -9 $PROMPID"
}

# prom_query EXPR: the first sample's value of an instant query
prom_query()
{
	ip netns exec "$node" curl -s --max-time 5 http://127.0.0.1:19090/api/v1/query \
		--data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'
}

# el_start NAME ARGS...: elephant in the node namespace, output to
# $TMP/NAME.out and .err; waits for its ready line and notes the ids of the
# programs it loaded (EL_PROGS), for the "nothing left" checks.
ELNAME=
EL_PROGS=
el_start()
{
	local name=$1

	shift
	# no entry left over from the previous case (same tuples)
	ip netns exec "$node" conntrack -F >/dev/null 2>&1
	ELNAME=$name
	if ! tool_start "$name" ip netns exec "$node" "$EL" "$@"; then
		log_fail "$name: elephant did not start: $(head -c 400 "$TMP/$name.err")"
		return 1
	fi
	EL_PROGS=$(prog_ids "${TOOL_PID[$name]}")
}

# el_stop [SIGNAL]: stop elephant and wait; returns its exit status.
el_stop()
{
	tool_stop "$ELNAME" "${1:-INT}"
}

# el_wait: wait until elephant stops by itself (-d); returns its exit status.
el_wait()
{
	wait_until $((20 * SLOW)) sh -c "! kill -0 ${TOOL_PID[$ELNAME]:-0} 2>/dev/null"
	tool_stop "$ELNAME"
}


# mice NS COUNT: COUNT short TCP request/response flows and COUNT/4 UDP ones.
mice()
{
	local ns=$1 n=$2 i

	for ((i = 0; i < n; i++)); do
		echo "request $i" | ip netns exec "$ns" socat -T 2 - TCP:"$R4":7000 >/dev/null
	done
	for ((i = 0; i < n / 4; i++)); do
		echo "request $i" | ip netns exec "$ns" socat -T 1 - UDP:"$R4":7001 >/dev/null
	done
}

# light NS SECONDS: one long-lived TCP flow, 100 bytes every 0.2 s.
light()
{
	local ns=$1 s=$2

	for ((i = 0; i < s * 5; i++)); do
		printf '%099d\n' "$i"
		sleep 0.2
	done | ip netns exec "$ns" socat -T 5 - TCP:"$R4":7000 >/dev/null
}

# Nothing of this test's instance left: no clsact qdisc on the node's
# interfaces, none of the programs it loaded (EL_PROGS) still loaded.
# Programs are freed a moment after the last reference goes: wait up to 3 s.
nothing_attached()
{
	wait_until $((3 * SLOW)) attached_none >/dev/null || attached_none
}

# check_nothing WHAT: log OK/FAIL for nothing_attached
check_nothing()
{
	local why

	why=$(nothing_attached)
	check "$1${why:+ ($why)}" [ -z "$why" ]
}

attached_none()
{
	local d id

	for d in vc1 vc2 vc3 up0; do
		if tc -n "$node" qdisc show dev $d | grep -q clsact; then
			echo "clsact qdisc left on $d"
			return 1
		fi
	done
	for id in $EL_PROGS; do
		if bpftool prog show id "$id" >/dev/null 2>&1; then
			echo "program id $id of this elephant still loaded"
			return 1
		fi
	done
	return 0
}

# an event's identity, for comparisons
FIELDS='[.proto,.src,.sport,.dst,.dport,.iface,.zone,.workload] | join(" ")'

# jq_ok ARGS...: jq -e, quiet (for check)
jq_ok() { jq -e "$@" >/dev/null; }

# JSON events of a run
events() { grep '"type":"elephant_' "$TMP/$1.out"; }

case_main()
{
	local bk=$BK
	local name="main-$bk" out n sent ev since del_ms f

	el_start "$name" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 2s \
		--label zone:1=web --node testnode --metrics 127.0.0.1:19464 || return
	prom_start
	light "$c3" 6 &
	local lpid=$!
	mice "$c2" 40 &
	local mpid=$!
	ip netns exec "$c1" iperf3 -c "$R4" -p $PORT -t 5 -b 100M -J --cport 40001 \
		>"$TMP/$name.iperf" 2>&1
	wait $mpid $lpid
	sent=$(jq '.end.sum_sent.bytes' "$TMP/$name.iperf")
	if ! [ "$sent" -gt 0 ] 2>/dev/null; then
		log_fail "$name: iperf3 failed: $(head -c 300 "$TMP/$name.iperf")"
		el_stop KILL
		return
	fi
	# the elephant was reported once it crossed, with the right attribution
	wait_for_file $((5 * SLOW)) "$TMP/$name.out" '"type":"elephant_add"'
	out=$(events "$name" | jq -c 'select(.type == "elephant_add")')
	n=$(echo -n "$out" | grep -c .)
	f=$(echo "$out" | jq -r "$FIELDS")
	check "$name: exactly one elephant_add ($n)" [ "$n" = 1 ]
	check "$name: elephant is the iperf3 flow c1 -> remote: $f" \
		[ "$f" = "tcp $C1 40001 $R4 $PORT vc1 1 web" ]
	check "$name: crossed with bytes >= 1M and duration >= 2s" \
		jq_ok -s 'length == 1 and (.[0] | .bytes >= 1048576 and .duration_s >= 2 and
			.reason == "bytes>=1048576,duration>=2s")' <<<"$out"
	check "$name: netns of the elephant is c1's" \
		[ "$(echo "$out" | jq -r .netns_name)" = "$c1" ]
	# no mouse: nothing from c2 or c3, and no event but the elephant's
	check "$name: no mouse reported" [ -z "$(events "$name" | grep -E "\"$C2\"|\"$C3\"")" ]
	# deletion: conntrack -D of the finished flow gives elephant_del at once
	since=$(date +%s%N)
	ip netns exec "$node" conntrack -D -p tcp --orig-src "$C1" --sport 40001 -w 1 \
		>/dev/null 2>&1
	if wait_for_file $((2 * SLOW)) "$TMP/$name.out" '"type":"elephant_del"'; then
		del_ms=$(( ($(date +%s%N) - since) / 1000000 ))
		log_ok "$name: elephant_del ${del_ms} ms after conntrack -D"
	else
		log_fail "$name: no elephant_del within 2 s of conntrack -D"
	fi
	out=$(events "$name" | jq -c 'select(.type == "elephant_del")')
	check "$name: elephant_del once, same flow, final bytes_orig >= iperf3's $sent" \
		jq_ok -s --argjson s "$sent" 'length == 1 and .[0].sport == 40001 and
			.[0].bytes_orig >= $s and .[0].bytes_orig < $s * 1.2 and
			.[0].workload == "web"' <<<"$out"
	# summaries: web heavy with the elephant, c2 and c3 light
	sleep 1.5
	local c2n=$c2 c3n=$c3
	check "$name: summary: web heavy" jq_ok -s 'map(select(.type == "workload" and
		.workload == "web")) | last | .footprint == "heavy" and .elephants_total == 1' \
		"$TMP/$name.out"
	check "$name: summary: c2 and c3 light, c2 had mice" jq_ok -s --arg c2 "$c2n" \
		--arg c3 "$c3n" '(map(select(.type == "workload" and .workload == $c2)) |
		(last.footprint == "light") and (map(.mice) | max) >= 1) and
		(map(select(.type == "workload" and .workload == $c3)) |
		 last.footprint == "light")' \
		"$TMP/$name.out"
	check "$name: node summary heavy" jq_ok -s 'map(select(.type == "node")) | last |
		.node == "testnode" and .footprint == "heavy"' "$TMP/$name.out"
	ip netns exec "$node" curl -s --max-time 5 http://127.0.0.1:19464/metrics \
		>"$TMP/$name.metrics" 2>&1
	check "$name: /metrics: web 1 elephant total, heavy" grep -qxE \
		'elephant_workload_elephants_total\{node="testnode",workload="web"\} 1' \
		"$TMP/$name.metrics"
	check "$name: /metrics: c2 light" grep -qx \
		"elephant_workload_heavy{node=\"testnode\",workload=\"$c2\"} 0" "$TMP/$name.metrics"
	if [ -n "$PROMPID" ]; then
		wait_until $((30 * SLOW)) sh -c "[ \"\$(ip netns exec $node curl -s --max-time 5 \
			http://127.0.0.1:19090/api/v1/query --data-urlencode \
			'query=elephant_workload_elephants_total{workload=\"web\"}' |
			jq -r '.data.result[0].value[1] // empty')\" = 1 ]"
		check "$name: prometheus scraped web: 1 elephant" \
			[ "$(prom_query 'elephant_workload_elephants_total{workload="web"}')" = 1 ]
		check "$name: prometheus: web heavy, node 1 heavy workload" [ "$(prom_query \
			'elephant_workload_heavy{workload="web"} + on(node)
			 elephant_node_heavy_workloads')" = 2 ]
		kill "$PROMPID" 2>/dev/null
		wait "$PROMPID" 2>/dev/null
		PROMPID=
	else
		log_info "$name: no prometheus (make deps installs it): real scrape not run"
	fi
	el_stop INT
	check "$name: exit 0 on SIGINT" [ $? = 0 ]
	check_nothing "$name: nothing attached after SIGINT"
}

case_udp6()
{
	local bk=$BK
	local name="udp6-$bk" out f

	el_start "$name" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 1s || return
	mice "$c1" 10 &
	local mpid=$!
	ip netns exec "$c2" iperf3 -6 -u -c "$R6" -p $PORT -t 6 -b 20M -l 1200 --cport 40002 \
		-J >"$TMP/$name.iperf" 2>&1
	wait $mpid
	wait_for_file $((5 * SLOW)) "$TMP/$name.out" '"type":"elephant_add"'
	out=$(events "$name" | jq -c 'select(.type == "elephant_add")')
	f=$(echo "$out" | jq -r "$FIELDS")
	check "$name: exactly the UDP elephant c2 -> remote: $f" \
		[ "$f" = "udp $C2_6 40002 $R6 $PORT vc2 2 $c2" ]
	el_stop TERM
	check "$name: exit 0 on SIGTERM" [ $? = 0 ]
	check_nothing "$name: nothing attached after SIGTERM"
}

case_state()
{
	local bk=$BK
	local name="state-$bk" rc

	rm -f "$TMP/state"
	el_start "$name-1" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 1s \
		--state "$TMP/state" || return
	ip netns exec "$c3" iperf3 -c "$R4" -p $PORT -t 3 -b 50M --cport 40003 >/dev/null 2>&1
	wait_for_file $((5 * SLOW)) "$TMP/$name-1.out" '"type":"elephant_add"'
	el_stop INT
	check "$name: state file has c3" grep -q "^workload $c3 last_elephant=[1-9]" "$TMP/state"
	# restart without traffic: c3 is still heavy, c1 (never seen) absent
	el_start "$name-2" --backend "$bk" -j -i 0.5 -d 1.5 --state "$TMP/state" || return
	el_wait
	check "$name: c3 heavy after restart, from the state file" jq_ok -s --arg c "$c3" \
		'map(select(.type == "workload" and .workload == $c)) | last |
		.footprint == "heavy" and .elephants == 0 and .elephants_total == 1' \
		"$TMP/$name-2.out"
	# a workload with mice only: its bytes are saved too (issue 10.5)
	el_start "$name-3" --backend "$bk" -j -i 0.5 --state "$TMP/state.mice" || return
	mice "$c2" 4
	sleep 1
	el_stop INT
	check "$name: mice-only workload c2 saved with its bytes: $(grep " $c2 " \
		"$TMP/state.mice")" grep -qE "^workload $c2 .* bytes=[1-9]" "$TMP/state.mice"
	echo "garbage line" >"$TMP/state.bad"
	ip netns exec "$node" "$EL" --backend "$bk" --state "$TMP/state.bad" -d 1 \
		>/dev/null 2>"$TMP/$name.bad.err"
	rc=$?
	check "$name: malformed state file: exit 1 ($(cat "$TMP/$name.bad.err"))" [ $rc = 1 ]
}

case_signals()
{
	local bk=$BK
	local name="signals-$bk" rc

	el_start "$name" --backend "$bk" -i 1 || return
	if [ "$bk" = tc ]; then
		check "$name: clsact on vc1 while running" \
			sh -c "tc -n $node filter show dev vc1 ingress | grep -q el_tc_ingress"
	fi
	el_stop KILL
	if [ "$bk" = tc ]; then
		check "$name: kill -9 leaves the tc filter (next start removes it)" \
			sh -c "tc -n $node filter show dev vc1 ingress | grep -q el_tc_ingress"
	fi
	ip netns exec "$node" "$EL" --backend "$bk" -v -i 1 -d 1 >/dev/null \
		2>"$TMP/$name.2.err"
	rc=$?
	check "$name: restart after kill -9 works" [ $rc = 0 ]
	check_nothing "$name: nothing attached after the restart"
	if [ "$bk" = tc ]; then
		check "$name: restart said it removed the stale attachments" \
			grep -q "removed .* stale tc attachment" "$TMP/$name.2.err"
	fi
	check "$name: sysctls restored" [ "$(ip netns exec "$node" sysctl -n \
		net.netfilter.nf_conntrack_acct)" = 0 ]
}

# foreign_add DEV: another tool's tc filters on DEV's clsact, ingress and
# egress (classic BPF, pref 7 handle 7). foreign_ok DEV: both still there.
foreign_add()
{
	tc -n "$node" filter add dev "$1" ingress prio 7 handle 7 bpf bytecode '1,6 0 0 0' &&
	tc -n "$node" filter add dev "$1" egress prio 7 handle 7 bpf bytecode '1,6 0 0 0'
}

foreign_ok()
{
	tc -n "$node" filter show dev "$1" ingress | grep -q "pref 7 bpf.*handle 0x7" &&
	tc -n "$node" filter show dev "$1" egress | grep -q "pref 7 bpf.*handle 0x7"
}

# scope_pair VAR_SRV VAR_CLI: a server and a client namespace joined by a
# veth, the same addresses every time (198.18.9.1 -> .2), conntrack active in
# the server one, an iperf3 server there.
scope_pair()
{
	local s c

	setup_ns "$1" "$2" || return 1
	eval "s=\$$1 c=\$$2"
	ip -n "$s" link add eth0 type veth peer name eth0 netns "$c" || return 1
	ip -n "$s" link set eth0 up
	ip -n "$c" link set eth0 up
	add_addrs "$s" eth0 9 2
	add_addrs "$c" eth0 9 1
	ip netns exec "$s" iptables -A INPUT -m conntrack --ctstate NEW -j ACCEPT
	ip netns exec "$s" iperf3 -s -D -p $PORT >/dev/null 2>&1
	wait_listen $((5 * SLOW)) "$s" $PORT
}

# kprobe and fentry see every netns's conntrack entries: an elephant counts
# only those of its own netns (issue 12), like tc. Two namespaces carry flows
# with the very same tuple; the elephant of one must see only its own.
case_scope()
{
	local name="scope-$BK" n bytes

	scope_pair sa ca || { log_fail "$name: topology"; return; }
	scope_pair sb cb || { log_fail "$name: topology"; return; }
	if ! tool_start "$name" ip netns exec "$sa" "$EL" --backend "$BK" -j -i 1 \
	     --min-bytes 5M --min-duration 1s; then
		log_fail "$name: elephant did not start: $(head -c 300 "$TMP/$name.err")"
		return
	fi
	# an elephant in the other netns, the same tuple as the one below
	ip netns exec "$cb" iperf3 -c "$(addr4 9 2)" -p $PORT --cport 40100 -n 40M \
		>/dev/null 2>&1
	sleep $((2 * SLOW))
	n=$(grep -c '"type":"elephant_add"' "$TMP/$name.out")
	check "$name: the other netns's elephant not seen ($n)" [ "$n" = 0 ]
	ip netns exec "$ca" iperf3 -c "$(addr4 9 2)" -p $PORT --cport 40100 -n 12M -b 50M \
		>/dev/null 2>&1
	wait_for_file $((5 * SLOW)) "$TMP/$name.out" '"type":"elephant_add"'
	tool_stop "$name"
	n=$(grep -c '"type":"elephant_add"' "$TMP/$name.out")
	bytes=$(jq -s 'map(select(.type == "elephant_add")) | map(.bytes) | max // 0' \
		"$TMP/$name.out")
	check "$name: its own elephant seen once ($n)" [ "$n" = 1 ]
	# crossed 5 MB of its 12 MB: never with the other netns's 40 MB merged in
	check "$name: its bytes only at the crossing ($bytes)" \
		test "${bytes:-0}" -ge 5000000 -a "${bytes:-0}" -lt 14000000
}

# el_filter DEV: elephant's filter is on DEV
el_filter() { tc -n "$node" filter show dev "$1" ingress | grep -q el_tc_ingress; }

# Filters another tool added to the clsact qdisc elephant created survive
# its exit and its stale-run recovery after kill -9 (issue 10.1).
case_shared()
{
	local bk=$BK
	local name="shared-$bk"

	if [ "$bk" != tc ]; then
		log_skip "$name: tc backend only"
		return
	fi
	tc -n "$node" qdisc del dev vc1 clsact 2>/dev/null
	on_cleanup "tc -n $node qdisc del dev vc1 clsact"
	el_start "$name" --backend tc -i 1 || return
	check "$name: elephant created clsact on vc1" el_filter vc1
	foreign_add vc1
	el_stop INT
	check "$name: SIGINT: the other tool's filters survive, ingress and egress" foreign_ok vc1
	check "$name: SIGINT: elephant's filter is gone" sh -c \
		"! tc -n $node filter show dev vc1 ingress | grep -q el_tc_ingress"
	# again, from kill -9 and the stale-run recovery of the next start
	tc -n "$node" qdisc del dev vc1 clsact
	el_start "$name-2" --backend tc -i 1 || return
	foreign_add vc1
	el_stop KILL
	ip netns exec "$node" "$EL" --backend tc -v -i 1 -d 0.5 >/dev/null 2>"$TMP/$name.3.err"
	check "$name: restart after kill -9 recovered" \
		grep -q "removed .* stale tc attachment" "$TMP/$name.3.err"
	check "$name: kill -9 + recovery: the other tool's filters survive" foreign_ok vc1
	check "$name: kill -9 + recovery: elephant's filter is gone" sh -c \
		"! tc -n $node filter show dev vc1 ingress | grep -q el_tc_ingress"
	tc -n "$node" qdisc del dev vc1 clsact
}

# A flow that crosses --min-bytes early, goes quiet before --min-duration,
# and is deleted after it: reported at delete time, then deleted, once each.
case_atdelete()
{
	local bk=$BK
	local name="atdelete-$bk" out

	el_start "$name" --backend "$bk" -j -i 1 --min-bytes 512K --min-duration 4s || return
	ip netns exec "$c1" iperf3 -c "$R4" -p $PORT -t 1 -b 100M --cport 40005 >/dev/null 2>&1
	# past --min-duration since the flow's last packet, whatever the CPU speed
	sleep 5
	check "$name: nothing reported while quiet" \
		[ -z "$(events "$name" | grep '"sport":40005')" ]
	ip netns exec "$node" conntrack -D -p tcp --orig-src "$C1" --sport 40005 -w 1 \
		>/dev/null 2>&1
	wait_for_file $((2 * SLOW)) "$TMP/$name.out" '"type":"elephant_del"'
	out=$(events "$name" | jq -r 'select(.sport == 40005) | "\(.type) \(.reason)"')
	check "$name: add at delete, then del: $(echo $out)" [ "$out" = \
		"$(printf '%s\n%s' 'elephant_add bytes>=524288,duration>=4s,at_delete' \
			'elephant_del deleted')" ]
	el_stop INT
}

# --min-rate: a 20 Mbit/s flow is no elephant at --min-rate 1G, one at 1M.
case_rate()
{
	local bk=$BK
	local name="rate-$bk" n

	el_start "$name" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 1s \
		--min-rate 1G || return
	ip netns exec "$c1" iperf3 -c "$R4" -p $PORT -t 3 -b 20M --cport 40006 >/dev/null 2>&1
	sleep 1
	el_stop INT
	n=$(events "$name" | grep -c elephant_add)
	check "$name: 20 Mbit/s flow below --min-rate 1G: not reported ($n)" [ "$n" = 0 ]
	el_start "$name-2" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 1s \
		--min-rate 1M || return
	ip netns exec "$c1" iperf3 -c "$R4" -p $PORT -t 3 -b 20M --cport 40007 >/dev/null 2>&1
	wait_for_file $((5 * SLOW)) "$TMP/$name-2.out" '"type":"elephant_add"'
	check "$name: above --min-rate 1M: reported with the rate test" jq_ok -s \
		'map(select(.type == "elephant_add")) | length == 1 and
		(.[0].reason | endswith(",rate>=1048576")) and .[0].rate_bps >= 1048576' \
		"$TMP/$name-2.out"
	el_stop INT
}

# A container that appears after elephant started is picked up (tc backend).
case_hotplug()
{
	local bk=$BK
	local name="hotplug-$bk" c4 f

	el_start "$name" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 1s || return
	setup_ns c4
	ip -n "$node" link add vc4 type veth peer name eth0 netns "$c4"
	ip -n "$c4" link set eth0 up
	add_port "$node" br0 vc4
	add_addrs "$c4" eth0 1 14
	ip -n "$c4" route add default via "$(addr4 1 1)"
	if [ "$bk" = tc ]; then
		wait_until $((5 * SLOW)) sh -c \
			"tc -n $node filter show dev vc4 ingress | grep -q el_tc_ingress"
		check "$name: tc attached to the new vc4" sh -c \
			"tc -n $node filter show dev vc4 ingress | grep -q el_tc_ingress"
	fi
	ip netns exec "$c4" ping -c 1 -W 2 "$R4" >/dev/null
	ip netns exec "$c4" iperf3 -c "$R4" -p $PORT -t 3 -b 50M --cport 40004 >/dev/null 2>&1
	wait_for_file $((5 * SLOW)) "$TMP/$name.out" '"type":"elephant_add"'
	f=$(events "$name" | jq -r 'select(.type == "elephant_add") |
		[.src,.sport,.iface,.zone,.workload] | join(" ")')
	check "$name: elephant of the new container: $f" \
		[ "$f" = "$(addr4 1 14) 40004 vc4 0 $c4" ]
	el_stop INT
	ip -n "$node" link del vc4
}

case_full()
{
	local bk=$BK
	local name="full-$bk" n=20 i full

	el_start "$name" --backend "$bk" -j -i 0.5 --max-flows 16 || return
	# n short TCP flows; their TIME_WAIT entries keep the first 16 in the table
	for ((i = 0; i < n; i++)); do
		echo "request $i" | ip netns exec "$c2" socat -T 2 - TCP:"$R4":7000 >/dev/null
	done
	sleep 1
	el_stop
	full=$(jq -s 'map(select(.type == "node")) | last | .table_full' "$TMP/$name.out")
	check "$name: table full counted once per flow: 1 <= $full <= $n" \
		[ "$full" -ge 1 -a "$full" -le $n ]
	check "$name: warned on stderr" grep -q "flows not tracked: flow table full" \
		"$TMP/$name.err"
	# text mode: the warning comes in the interval, not only at exit (10.15)
	el_start "$name-text" --backend "$bk" -i 0.5 --max-flows 16 || return
	for ((i = 0; i < n; i++)); do
		echo "request $i" | ip netns exec "$c2" socat -T 2 - TCP:"$R4":7000 >/dev/null
	done
	wait_for_file $((5 * SLOW)) "$TMP/$name-text.err" \
		"flows not tracked in the last interval: flow table full"
	check "$name: text mode: table full warned while running: $(grep -m1 'in the last' \
		"$TMP/$name-text.err")" sh -c "grep -q 'flows not tracked in the last interval' \
		'$TMP/$name-text.err' && kill -0 ${TOOL_PID[$name-text]}"
	el_stop
}

# Conntrack events lost (ENOBUFS on elephant's ctnetlink socket, 10.15): with
# elephant stopped, 40000 new conntrack entries (UDP from the node to an
# unused address) overrun its socket; once it runs again it counts the loss,
# warns and says so in JSON; then it goes on working.
case_enobufs()
{
	local bk=$BK
	local name="enobufs-$bk" v

	if [ "$bk" != tc ]; then
		log_skip "$name: tc backend only (kprobe/fentry read no conntrack events)"
		return
	fi
	el_start "$name" --backend tc -j -i 0.5 || return
	kill -STOP "${TOOL_PID[$name]}"
	ip netns exec "$node" timeout 60 python3 -c 'import socket
for p in range(20000, 60000):
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	try:
		s.bind(("198.18.2.1", p))
		s.sendto(b"x", ("198.18.2.99", 9))
	except OSError:
		pass
	s.close()'
	kill -CONT "${TOOL_PID[$name]}"
	wait_for_file $((10 * SLOW)) "$TMP/$name.err" "conntrack events lost"
	check "$name: warned: $(grep -m1 'events lost' "$TMP/$name.err")" \
		grep -q "conntrack events lost [0-9]* time(s) in the last interval" "$TMP/$name.err"
	wait_until $((3 * SLOW)) jq_ok -s \
		'map(select(.type == "node")) | last | .ct_events_lost >= 1' "$TMP/$name.out"
	v=$(jq -s 'map(select(.type == "node")) | last | .ct_events_lost' "$TMP/$name.out")
	check "$name: JSON node ct_events_lost: $v" [ "${v:-0}" -ge 1 ]
	ip netns exec "$node" conntrack -F >/dev/null 2>&1
	el_stop INT
	check "$name: exit 0" [ $? = 0 ]
}

# Flows whose conntrack entry has no accounting (started before elephant
# turned nf_conntrack_acct on) are counted once each and reported every
# interval (10.15): stderr, JSON node "no_acct", /metrics.
case_noacct()
{
	local bk=$BK
	local name="noacct-$bk" lpid v

	ip netns exec "$node" conntrack -F >/dev/null 2>&1
	ip netns exec "$node" sysctl -qw net.netfilter.nf_conntrack_acct=0
	light "$c3" $((6 * SLOW)) &
	lpid=$!
	sleep 1
	# not el_start: its conntrack -F would take the flow's entry away
	ELNAME=$name
	if ! tool_start "$name" ip netns exec "$node" "$EL" --backend "$bk" -j -i 0.5 \
		--metrics 19467 --label zone:3=light; then
		log_fail "$name: elephant did not start: $(head -c 400 "$TMP/$name.err")"
		return
	fi
	wait_for_file $((5 * SLOW)) "$TMP/$name.err" "flows without conntrack accounting"
	check "$name: warned while running: $(grep -m1 'without conntrack' "$TMP/$name.err")" \
		sh -c "grep -q 'flows without conntrack accounting in the last interval' \
		'$TMP/$name.err' && kill -0 ${TOOL_PID[$name]}"
	wait_until $((3 * SLOW)) jq_ok -s 'map(select(.type == "node")) | last | .no_acct >= 1' \
		"$TMP/$name.out"
	v=$(jq -s 'map(select(.type == "node")) | last | .no_acct' "$TMP/$name.out")
	check "$name: JSON node no_acct counts the flow once: $v" [ "$v" = 1 ]
	v=$(ip netns exec "$node" curl -s --max-time 5 http://127.0.0.1:19467/metrics |
		awk '$1 ~ /^elephant_node_no_acct_flows_total/ { print $2 }')
	check "$name: /metrics elephant_node_no_acct_flows_total: $v" [ "$v" = 1 ]
	wait $lpid
	el_stop INT
}

# /metrics while an elephant runs: the gauges of the last complete interval
# (they read 0 when the handler saw the counts reset after each summary).
case_metrics()
{
	local bk=$BK
	local name="metrics-$bk" port=19466 ipid m v

	el_start "$name" --backend "$bk" -j -i 1 --min-bytes 1M --min-duration 1s \
		--label zone:1=web --node testnode --metrics $port || return
	check "$name: --metrics PORT listens on 127.0.0.1 only" [ "$(ip netns exec "$node" \
		ss -Hltn "sport = :$port" | awk '{ print $4 }')" = "127.0.0.1:$port" ]
	ip netns exec "$c1" iperf3 -c "$R4" -p $PORT -t $((8 * SLOW)) -b 50M --cport 40008 \
		>/dev/null 2>&1 &
	ipid=$!
	wait_for_file $((5 * SLOW)) "$TMP/$name.out" '"type":"elephant_add"'
	# a summary with the elephant active: the next one after the add
	wait_until $((3 * SLOW)) jq_ok -s 'map(select(.type == "node" and .elephants >= 1)) |
		length >= 1' "$TMP/$name.out"
	m=$TMP/$name.metrics
	ip netns exec "$node" curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$m"
	check "$name: the scrape came while iperf3 still ran" kill -0 $ipid
	v=$(awk '$1 == "elephant_workload_elephants{node=\"testnode\",workload=\"web\"}" {
		print $2 }' "$m")
	check "$name: elephant_workload_elephants of web while it runs: ${v:-none}, want 1" \
		[ "$v" = 1 ]
	v=$(awk '$1 == "elephant_node_elephants{node=\"testnode\"}" { print $2 }' "$m")
	check "$name: elephant_node_elephants while it runs: ${v:-none}, want >= 1" \
		[ "${v:-0}" -ge 1 ]
	# iperf3's control connection is a mouse of web
	v=$(awk '$1 == "elephant_workload_mice{node=\"testnode\",workload=\"web\"}" {
		print $2 }' "$m")
	check "$name: elephant_workload_mice of web: ${v:-none}, want >= 1" [ "${v:-0}" -ge 1 ]
	v=$(awk '$1 == "elephant_node_mice{node=\"testnode\"}" { print $2 }' "$m")
	check "$name: elephant_node_mice: ${v:-none}, want >= 1" [ "${v:-0}" -ge 1 ]
	# the Unix time of web's last elephant (issue 12): within the last minute
	v=$(awk '$1 == "elephant_workload_last_elephant_seconds{node=\"testnode\",workload=\"web\"}" {
		print $2 }' "$m")
	check "$name: elephant_workload_last_elephant_seconds of web: ${v:-none}, want now" \
		test "${v:-0}" -gt $(( $(date +%s) - 60 )) -a "${v:-0}" -le "$(date +%s)"
	check "$name: promtool accepts the exposition" sh -c "promtool check metrics <'$m' \
		>/dev/null 2>&1 || ! command -v promtool >/dev/null"
	check "$name: other paths 404" [ "$(ip netns exec "$node" curl -s -o /dev/null \
		-w '%{http_code}' "http://127.0.0.1:$port/")" = 404 ]
	wait $ipid
	el_stop INT
	check "$name: exit 0 on SIGINT" [ $? = 0 ]
}

# netns_cookie NS: the netns cookie of NS (SO_NETNS_COOKIE), what elephant's
# lock and run file are named after
netns_cookie()
{
	ip netns exec "$1" python3 -c 'import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 71, 8), "little"))'
}

# Several elephants started at the same instant in one netns: exactly one
# runs, the others exit 1 naming it (issue 10.2). They wait on a shared
# flock the test holds (all seen waiting in /proc/locks), released at once.
case_concurrent()
{
	local n=6 i ino pids=() ready=() winner rc err

	exec 8>"$TMP/barrier"
	flock -x 8
	ino=$(stat -c %i "$TMP/barrier")
	for ((i = 0; i < n; i++)); do
		ip netns exec "$node" sh -c 'flock -s "$0" true; exec "$@"' "$TMP/barrier" \
			"$EL" --backend tc -i 1 -d $((20 * SLOW)) >/dev/null 2>"$TMP/conc.$i.err" &
		pids+=($!)
	done
	on_cleanup "kill ${pids[*]}"
	wait_until $((10 * SLOW)) sh -c \
		"[ \$(grep -c -- '-> FLOCK .*:$ino ' /proc/locks) -ge $n ]"
	flock -u 8
	exec 8>&-
	# each one either runs (ready) or has exited
	conc_done()
	{
		local j

		for ((j = 0; j < n; j++)); do
			grep -q '^elephant: ready$' "$TMP/conc.$j.err" ||
				! kill -0 "${pids[j]}" 2>/dev/null || return 1
		done
	}
	wait_until $((20 * SLOW)) conc_done
	for ((i = 0; i < n; i++)); do
		grep -q '^elephant: ready$' "$TMP/conc.$i.err" && ready+=("$i")
	done
	check "concurrent: $n started at once, exactly one runs (${#ready[@]})" \
		[ ${#ready[@]} = 1 ]
	winner=${pids[${ready[0]:-0}]}
	for ((i = 0; i < n; i++)); do
		[ "$i" = "${ready[0]:-}" ] && continue
		wait "${pids[i]}" 2>/dev/null
		rc=$?
		err=$(cat "$TMP/conc.$i.err")
		check "concurrent: #$i exit 1, one line naming pid $winner: $rc '$err'" \
			[ "$rc" = 1 -a "$err" = \
			  "elephant: another elephant runs in this network namespace (pid $winner)" ]
	done
	for i in "${ready[@]}"; do
		kill -INT "${pids[i]}"
		wait "${pids[i]}"
		check "concurrent: #$i ran and exits 0 on SIGINT" [ $? = 0 ]
	done
	EL_PROGS=
	check_nothing "concurrent: nothing attached"
	concurrent_slow
}

# The same with the first one held inside its start for 5 s (strace delays
# its first rename: the run file it writes): a second one started meanwhile must
# still see it. This is the window a check-then-write leaves open.
concurrent_slow()
{
	local spid epid cookie ino rc err

	if ! command -v strace >/dev/null; then
		log_info "concurrent: no strace here: the held-start check is not run"
		return
	fi
	cookie=$(netns_cookie "$node")
	ino=$(ip netns exec "$node" stat -L -c %i /proc/self/ns/net)
	ip netns exec "$node" strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:delay_enter=5000000:when=1 \
		"$EL" --backend tc -i 1 -d $((30 * SLOW)) >/dev/null 2>"$TMP/conc.slow.err" &
	spid=$!
	on_cleanup "kill $spid; pkill -P $spid"
	# until it writes its first run file (either name), or at most 20 s (x SLOW)
	wait_until $((20 * SLOW)) sh -c "ls /run/bpfnet/elephant-$ino.run.tmp* \
		/run/bpfnet/elephant-netns$cookie.run.tmp* 2>/dev/null | grep -q ."
	epid=$(pgrep -P "$spid")
	ip netns exec "$node" "$EL" --backend tc -i 1 -d 1 >/dev/null 2>"$TMP/conc.2.err"
	rc=$?
	err=$(cat "$TMP/conc.2.err")
	check "concurrent: a second one while the first is held: exit 1 naming $epid: $rc '$err'" \
		[ "$rc" = 1 -a "$err" = \
		  "elephant: another elephant runs in this network namespace (pid $epid)" ]
	kill -INT "$epid" 2>/dev/null
	wait "$spid"
}

# A stale run file whose netns or interfaces are not this one's is never
# applied (issue 10.3): records crafted in a new netns "x" with another
# tool's clsact and filter on va (at elephant's handle and priority) and
# nf_conntrack_events set to 1 by someone: a record under the old inode
# name, one naming another netns, one whose interface index or name does
# not match. elephant runs on vb only; va and the sysctl stay as they were.
case_stale()
{
	local x ino cookie ifva run ev

	setup_ns x
	ip -n "$x" link add va type veth peer name vb
	ip -n "$x" link set va up
	ip -n "$x" link set vb up
	tc -n "$x" qdisc add dev va clsact
	tc -n "$x" filter add dev va ingress prio 3614 handle 0xe1e bpf bytecode '1,6 0 0 0'
	ip netns exec "$x" sysctl -qw net.netfilter.nf_conntrack_events=1
	ino=$(ip netns exec "$x" stat -L -c %i /proc/self/ns/net)
	cookie=$(netns_cookie "$x")
	ifva=$(ip -n "$x" -o link show va | cut -d: -f1)
	mkdir -p /run/bpfnet
	# the old name (netns inode, reused by the kernel) of a netns since deleted
	run=/run/bpfnet/elephant-$ino.run
	on_cleanup "rm -f $run"
	printf 'pid 999999\nsysctl net/netfilter/nf_conntrack_events 0\ntc %s va 1\n' \
		"$ifva" >"$run"
	# this netns's name, but another netns's record
	run=/run/bpfnet/elephant-netns$cookie.run
	on_cleanup "rm -f $run /run/bpfnet/elephant-netns$cookie.lock"
	printf 'netns %s %s\npid 999999\nsysctl net/netfilter/nf_conntrack_events 0\ntc %s va 1\n' \
		"$((cookie + 1))" "$ino" "$ifva" >"$run"
	ip netns exec "$x" "$EL" --backend tc -v -i 1 -d 0.5 vb >/dev/null 2>"$TMP/stale.1.err"
	check "stale: run with stale records exits 0" [ $? = 0 ]
	check "stale: another netns's record ignored" grep -q "ignored .*not a record of this" \
		"$TMP/stale.1.err"
	ev=$(ip netns exec "$x" sysctl -n net.netfilter.nf_conntrack_events)
	check "stale: nf_conntrack_events untouched: $ev" [ "$ev" = 1 ]
	check "stale: the other tool's clsact and filter on va stay" sh -c \
		"tc -n $x filter show dev va ingress | grep -q 'pref 3614 bpf.*handle 0xe1e'"
	# this netns's record, but interfaces that are not the ones it names
	printf 'netns %s %s\npid 999999\ntc %s vzz 1\ntc 99999 va 1\ntc %s va 1\n' \
		"$cookie" "$ino" "$ifva" "$ifva" >"$run"
	ip netns exec "$x" "$EL" --backend tc -v -i 1 -d 0.5 vb >/dev/null 2>"$TMP/stale.2.err"
	check "stale: wrong index, wrong name, not elephant's program: va stays" sh -c \
		"tc -n $x filter show dev va ingress | grep -q 'pref 3614 bpf.*handle 0xe1e'"
	check "stale: no run file left" [ ! -e "$run" ]
}

# A netns where no rule asks for conntrack (issue 10.14): elephant and
# --backends warn per family; once a rule needs conntrack for IPv4, then for
# IPv6, elephant says so, once each.
case_noct()
{
	local x name=noct a4 a6

	setup_ns x
	ip -n "$x" link add va type veth peer name vb
	ip -n "$x" link set va up
	ip -n "$x" link set vb up
	ip netns exec "$x" "$EL" --backends >/dev/null 2>"$TMP/noct.backends.err"
	check "noct: --backends warns for IPv4 and IPv6: $(tr '\n' '|' <"$TMP/noct.backends.err")" \
		[ "$(grep -c 'conntrack is not active for IPv[46] in this network namespace' \
			"$TMP/noct.backends.err")" = 2 ]
	ip netns exec "$node" "$EL" --backends >/dev/null 2>"$TMP/noct.node.err"
	check "noct: --backends where rules use conntrack: no warning" \
		[ ! -s "$TMP/noct.node.err" ]
	if ! tool_start "$name" ip netns exec "$x" "$EL" --backend tc -i 0.5 vb; then
		log_fail "$name: elephant did not start"
		return
	fi
	check "noct: warned at start for IPv4 and IPv6, before ready" sh -c \
		"sed '/: ready\$/q' '$TMP/$name.err' | grep -c 'not active for IPv[46]' | grep -qx 2"
	ip netns exec "$x" iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
	wait_for_file $((5 * SLOW)) "$TMP/$name.err" 'conntrack is now active for IPv4'
	a4=$(grep -c 'conntrack is now active for IPv4' "$TMP/$name.err")
	a6=$(grep -c 'conntrack is now active for IPv6' "$TMP/$name.err")
	check "noct: an IPv4 rule: now active for IPv4 ($a4), not IPv6 ($a6)" \
		[ "$a4" = 1 -a "$a6" = 0 ]
	ip netns exec "$x" ip6tables -A INPUT -m conntrack --ctstate INVALID -j DROP
	wait_for_file $((5 * SLOW)) "$TMP/$name.err" 'conntrack is now active for IPv6'
	sleep 1
	a4=$(grep -c 'conntrack is now active for IPv4' "$TMP/$name.err")
	a6=$(grep -c 'conntrack is now active for IPv6' "$TMP/$name.err")
	check "noct: then an IPv6 rule: said once each ($a4, $a6)" [ "$a4" = 1 -a "$a6" = 1 ]
	tool_stop "$name" INT
	check "noct: exit 0" [ $? = 0 ]
	check "noct: the probes left no conntrack entry" [ -z "$(ip netns exec "$x" \
		conntrack -L 2>/dev/null)" ]
}

# Nothing of a run that ended in a usage error: no program loaded (no bpf()
# call at all, under strace), no qdisc, sysctls untouched, no run file.
case_usage()
{
	local args acct cookie tracer=()

	cookie=$(netns_cookie "$node")
	acct=$(ip netns exec "$node" sysctl -n net.netfilter.nf_conntrack_acct)
	if command -v strace >/dev/null; then
		tracer=(strace -qq -f -e trace=bpf -o "$TMP/usage.strace")
	else
		log_info "usage: no strace here: the no-bpf()-call check is not run"
	fi
	while read -r args; do
		: >"$TMP/usage.strace"
		# shellcheck disable=SC2086
		expect_usage_error "elephant $args" ip netns exec "$node" "${tracer[@]}" \
			"$EL" $args
		check "elephant $args: no bpf() call" [ ! -s "$TMP/usage.strace" ]
	done <<-EOF
	--bogus
	-i 18446744073s
	-d 18446744073s
	-i 0
	-i 50ms
	--min-bytes 10X
	--min-bytes 0
	--min-duration -1s
	--min-rate 0
	--window 2x
	--label zone:99999=x
	--label pod:1=x
	--label zone:1=bad!name
	--node bad!name
	--node bad_name
	--node $(printf 'n%.0s' {1..254})
	--backend foo
	--max-flows 3
	--metrics 99999
	--metrics abc:9100
	--metrics 1.2.3.4.5:80
	--metrics
	EOF
	# a Kubernetes node name of 253 characters is fine (the run stops at once)
	ip netns exec "$node" "$EL" --node "$(printf 'n%.0s' {1..253})" --backends \
		>/dev/null 2>"$TMP/node253.err"
	check "a 253-character node name is accepted" [ $? = 0 ]
	check_nothing "usage errors: nothing attached"
	check "usage errors: sysctls untouched" [ "$(ip netns exec "$node" sysctl -n \
		net.netfilter.nf_conntrack_acct)" = "$acct" ]
	check "usage errors: no run file, no lock" [ ! -e "/run/bpfnet/elephant-netns$cookie.run" \
		-a ! -e "/run/bpfnet/elephant-netns$cookie.lock" ]
}

case_badinput()
{
	local args rc

	mkdir -p "$TMP/state.dir"
	mkfifo "$TMP/state.fifo"
	while read -r args; do
		# shellcheck disable=SC2086
		timeout 20 ip netns exec "$node" "$EL" $args -d 1 >/dev/null 2>"$TMP/bad.err"
		rc=$?
		check "bad input '$args': exit 1 ($(head -1 "$TMP/bad.err"))" [ "$rc" = 1 ]
		check "bad input '$args': one error line" [ "$(wc -l <"$TMP/bad.err")" = 1 ]
	done <<-EOF
	--backend tc nosuchif0
	--state /nonexistent-dir/elephant.state
	--state $TMP/state.dir
	--state $TMP/state.fifo
	EOF
	# port in use
	ip netns exec "$node" socat TCP-LISTEN:19465,bind=127.0.0.1,reuseaddr - >/dev/null &
	local spid=$!
	wait_listen $((5 * SLOW)) "$node" 19465
	ip netns exec "$node" "$EL" --backend tc --metrics 19465 -d 1 >/dev/null \
		2>"$TMP/bad.err"
	rc=$?
	check "metrics port in use: exit 1 ($(grep -v 'using the' "$TMP/bad.err" | tail -1))" \
		[ $rc = 1 ]
	kill $spid 2>/dev/null
	EL_PROGS=
	check_nothing "bad input: nothing attached"
	# not root: no CAP_BPF/CAP_NET_ADMIN
	if command -v setpriv >/dev/null; then
		ip netns exec "$node" setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$EL" -d 1 >/dev/null 2>"$TMP/bad.err"
		rc=$?
		check "not root: exit 1 ($(cat "$TMP/bad.err"))" [ $rc = 1 ]
	fi
	# conntrack not loaded cannot be simulated here (built in or in use)
}

# zone0_skip CASE: kernels before bpf_ct_opts.ct_zone_id (6.1) look up zone 0
# only: the tc backend cannot see the containers' zoned flows there.
zone0_skip()
{
	[ -n "$ZONE0" ] || return 1
	case $1 in
	hotplug|signals|scope) return 1 ;;
	esac
	log_skip "$1-$BK: this kernel's bpf_skb_ct_lookup has no zone (no bpf_ct_opts.ct_zone_id)"
}

if ! topology; then
	log_fail "cannot build the topology"
	exit $ksft_fail
fi

BK_CASES=(main metrics udp6 atdelete rate hotplug state full noacct enobufs signals shared
	  scope)
ONCE_CASES=(usage badinput concurrent stale noct)
want_bk=()
want_once=()
for c in "${@:-${BK_CASES[@]} ${ONCE_CASES[@]}}"; do
	for w in $c; do
		if [[ " ${ONCE_CASES[*]} " == *" $w "* ]]; then
			want_once+=("$w")
		else
			want_bk+=("$w")
		fi
	done
done
ran=
for BK in ${BACKENDS:-tc kprobe fentry}; do
	[ ${#want_bk[@]} -eq 0 ] && break
	if ! why=$(backend_usable "$BK"); then
		log_skip "backend $BK: the kernel cannot run it: $why"
		# still: its programs must pass this kernel's verifier (kprobes load
		# where they cannot attach; fentry does not load without fentry)
		if [ "$BK" = kprobe ]; then
			ip netns exec "$node" "$EL" --backend kprobe -d 1 >/dev/null \
				2>"$TMP/verifier.err"
			check "kprobe programs load here, only the attach fails" \
				grep -q "backend kprobe: cannot attach" "$TMP/verifier.err"
		fi
		continue
	fi
	ran=1
	ZONE0=
	if [ "$BK" = tc ] && ip netns exec "$node" "$EL" --backends | grep -q "zone 0 only"; then
		ZONE0=1
	fi
	CASES=()
	for c in "${want_bk[@]}"; do
		zone0_skip "$c" || CASES+=("$c")
	done
	[ ${#CASES[@]} -gt 0 ] && run_cases
done
if [ ${#want_once[@]} -gt 0 ]; then
	ran=1
	run_cases "${want_once[@]}"
fi
if [ "$RET" = 0 ] && [ -z "$ran" ]; then
	exit $ksft_skip
fi
exit $RET
