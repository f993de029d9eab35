#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_elephant_sched.sh - elephant-sched, the kube-scheduler extender, end
# to end. Everything runs on the loopback of a namespace the test creates:
# three "elephant" /metrics servers (python3 -m http.server on canned text
# exposition, the exact series elephant serves), a real prometheus scraping
# them, and the extender reading them directly (--target) or through
# prometheus (--prometheus). Requests are made with curl.
#
# Canned data (node: E elephants, H heavy workloads, L active light ones):
#   n1: web (2 elephants, heavy) and api2 (3 mice, light)   E=2 H=1 L=1
#   n2: api (5 mice, light)                                 E=0 H=0 L=1
#   n3: recent (last elephant 10 s ago), old (500 s ago)    E=0 H=0 L=0
#   n4: no elephant at all (never has data)
# With --learn-window 300s: web and recent are heavy, api, api2 and old
# light, anything else unknown.
#
# Cases:
#   targets     --target: filter and prioritize for a heavy, a light, an
#               unknown and an annotated pod, in NodeNames and Nodes forms
#               and with lower-cased / Unicode-folded keys; exact answers;
#               fail open; decision records; /state; /healthz
#   errors      400 (bad JSON with line and column, no Pod, no nodes, wrong
#               types), 404, 405, 411, 413: status, {"Error"} body, stderr;
#               the server still answers afterwards
#   hostile     40 idle connections, a client that never sends its body and
#               a 1 GB Content-Length: a normal request is still answered
#   stale       a node whose elephant stops answering becomes "no data"
#               after --stale; every node stale -> /healthz 503, all pass
#   prometheus  the same answers through a real prometheus; a killed target
#               is "no data" at once (staleness markers); prometheus
#               stopped -> /healthz 503 and every node passes (fail open)
#   elephants   two real elephants (--node, --metrics) in two node namespaces,
#               an iperf3 elephant behind one and mice behind the other: the
#               extender (--target) learns bulk heavy and chat light, keeps a
#               light pod off the heavy node and scores it there 0
#   badinput    usage errors: exit 2 with one line; port in use: exit 1
#
# Usage: test_elephant_sched.sh [CASE...]   (default: every case)

source "$(dirname "$0")/lib.sh"

ES=${ES:-$TOP_DIR/elephant/elephant-sched}	# ES=... tries another build (make SAN=1)
CASES=(targets errors hostile stale prometheus elephants badinput)
LISTEN=127.0.0.1:18888
URL=http://$LISTEN

require_root
require_cmd curl jq python3 socat prometheus iperf3 iptables
trap cleanup EXIT

if [ ! -x "$ES" ]; then
	log_fail "elephant-sched not built (make elephant)"
	exit $ksft_fail
fi
make_tmp test_elephant_sched
setup_ns sch || exit $ksft_fail

X() { ip netns exec "$sch" "$@"; }

# canned NODE: write NODE's /metrics (node label NODE), atomically.
canned()
{
	local now d=$TMP/$1

	now=$(date +%s)
	mkdir -p "$d"
	case $1 in
	n1) cat >"$d/m.tmp" <<-EOF
		# HELP elephant_workload_elephants Active elephant flows of the workload.
		# TYPE elephant_workload_elephants gauge
		elephant_workload_elephants{node="n1",workload="web"} 2
		elephant_workload_elephants{node="n1",workload="api2"} 0
		elephant_workload_mice{node="n1",workload="web"} 1
		elephant_workload_mice{node="n1",workload="api2"} 3
		elephant_workload_bytes_total{node="n1",workload="web"} 123456789
		elephant_workload_heavy{node="n1",workload="web"} 1
		elephant_workload_heavy{node="n1",workload="api2"} 0
		elephant_node_elephants{node="n1"} 2
		elephant_node_mice{node="n1"} 4
		elephant_node_heavy_workloads{node="n1"} 1
		elephant_node_untracked_flows_total{node="n1"} 0
		EOF
		;;
	n2) cat >"$d/m.tmp" <<-EOF
		elephant_workload_elephants{node="n2",workload="api"} 0
		elephant_workload_mice{node="n2",workload="api"} 5
		elephant_workload_heavy{node="n2",workload="api"} 0
		elephant_node_elephants{node="n2"} 0
		elephant_node_heavy_workloads{node="n2"} 0
		EOF
		;;
	n3) cat >"$d/m.tmp" <<-EOF
		elephant_workload_elephants{node="n3",workload="recent"} 0
		elephant_workload_mice{node="n3",workload="recent"} 0
		elephant_workload_heavy{node="n3",workload="recent"} 0
		elephant_workload_last_elephant_seconds{node="n3",workload="recent"} $((now - 10))
		elephant_workload_elephants{node="n3",workload="old"} 0
		elephant_workload_mice{node="n3",workload="old"} 0
		elephant_workload_heavy{node="n3",workload="old"} 0
		elephant_workload_last_elephant_seconds{node="n3",workload="old"} $((now - 500))
		elephant_node_elephants{node="n3"} 0
		elephant_node_heavy_workloads{node="n3"} 0
		EOF
		;;
	esac
	mv "$d/m.tmp" "$d/metrics"
}

# The three canned elephants on 127.0.0.1:1946N.
declare -A SRV_PID
srv_start()
{
	srv_stop "$1"	# a case that failed half-way may have left it
	canned "$1"
	ip netns exec "$sch" python3 -m http.server "1946${1#n}" --bind 127.0.0.1 -d "$TMP/$1" \
		>"$TMP/srv-$1.log" 2>&1 &
	SRV_PID[$1]=$!
	disown "$!"	# killed on purpose: no "Killed" line from bash
	on_cleanup "kill -9 ${SRV_PID[$1]}"
	wait_listen $((10 * SLOW)) "$sch" "1946${1#n}"
}

srv_stop()
{
	[ -n "${SRV_PID[$1]:-}" ] || return 0
	kill -9 "${SRV_PID[$1]}" 2>/dev/null
	wait_until $((5 * SLOW)) sh -c "! kill -0 ${SRV_PID[$1]} 2>/dev/null"
	SRV_PID[$1]=
}

# req METHOD PATH [BODY]: "CODE BODY" of the answer.
req()
{
	local out code

	out=$TMP/req.out
	if [ $# -ge 3 ]; then
		code=$(X curl -s -o "$out" -w '%{http_code}' --max-time 10 -X "$1" \
			-H 'Content-Type: application/json' --data-binary "$3" "$URL$2")
	else
		code=$(X curl -s -o "$out" -w '%{http_code}' --max-time 10 -X "$1" "$URL$2")
	fi
	echo "$code $(cat "$out")"
}

# has_record JQ_FILTER FILE: does some record of FILE pass the filter?
has_record()
{
	[ -n "$(jq -c "$1" "$2" 2>/dev/null | head -1)" ]
}

# expect WHAT GOT WANT
expect()
{
	if [ "$2" = "$3" ]; then
		log_ok "$1"
	else
		log_fail "$1: got '$2', want '$3'"
	fi
}

# pod NAME LABELS ANNOTATIONS: a Pod object.
pod()
{
	echo "{\"metadata\":{\"name\":\"$1\",\"namespace\":\"t\",\"uid\":\"u-$1\",\"labels\":$2,\"annotations\":$3},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}"
}

P_HEAVY=$(pod heavy '{"app":"web"}' '{}')
P_LIGHT=$(pod light '{"app.kubernetes.io/name":"api","app":"web"}' '{}')
P_UNKNOWN=$(pod unknown '{"app":"nosuch"}' '{}')
P_DECL=$(pod decl '{"app":"api"}' '{"bpfnet.io/footprint":"heavy"}')
P_RECENT=$(pod recent '{"app":"recent"}' '{}')
P_OLD=$(pod old '{"app":"old"}' '{}')
NAMES='["n1","n2","n3","n4"]'

node_obj() { echo "{\"metadata\":{\"name\":\"$1\",\"labels\":{\"kubernetes.io/hostname\":\"$1\"}},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"198.18.0.$2\"}]}}"; }
NODES="{\"metadata\":{},\"items\":[$(node_obj n1 1),$(node_obj n2 2),$(node_obj n3 3),$(node_obj n4 4)]}"

# prio POD: "n1=S n2=S n3=S n4=S" of /prioritize with NodeNames.
prio()
{
	req POST /prioritize "{\"Pod\":$1,\"NodeNames\":$NAMES}" |
		cut -d' ' -f2- | jq -r 'map("\(.Host)=\(.Score)") | join(" ")'
}

# filt POD [NAMES]: "passed | failed" of /filter with NodeNames.
filt()
{
	req POST /filter "{\"Pod\":$1,\"NodeNames\":${2:-$NAMES}}" | cut -d' ' -f2- |
		jq -r '"\(.NodeNames | join(",")) | \(.FailedAndUnresolvableNodes | keys | join(","))"'
}

# es_start ARGS...: the extender in the namespace, until /healthz says it has data.
es_start()
{
	local pid

	ip netns exec "$sch" "$ES" -l "$LISTEN" --refresh 1 --learn-window 300s -v "$@" \
		>"$TMP/es.out" 2>"$TMP/es.err" &
	pid=$!
	TOOL_PID[es]=$pid
	TOOL_NAMES+=(es)
	if ! wait_until $((60 * SLOW)) tool_ready_or_gone es || ! tool_ready es; then
		log_fail "extender not ready: state $(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" \
			"wchan $(cat "/proc/$pid/wchan" 2>/dev/null);" \
			"stderr: $(head -c 300 "$TMP/es.err" | tr '\n' '|')"
		tool_stop es KILL
		return 1
	fi
	if ! wait_until $((30 * SLOW)) sh -c "ip netns exec $sch curl -sf $URL/healthz >/dev/null"; then
		log_fail "no fresh data: $(req GET /state)"
		return 1
	fi
}

TARGETS=(--target n1=127.0.0.1:19461 --target n2=127.0.0.1:19462 --target n3=127.0.0.1:19463
	 --target n4=127.0.0.1:19464)

# The answers every data source must give for the canned data.
check_answers()
{
	local src=$1 got

	# heavy pod: C = E + L = 3, 1, 0; n4 no data
	expect "$src: prioritize heavy pod (web)" "$(prio "$P_HEAVY")" "n1=0 n2=6 n3=10 n4=0"
	# light pod: C = H + E = 3, 0, 0 (app.kubernetes.io/name wins over app)
	expect "$src: prioritize light pod (api)" "$(prio "$P_LIGHT")" "n1=0 n2=10 n3=10 n4=0"
	expect "$src: prioritize unknown pod" "$(prio "$P_UNKNOWN")" "n1=0 n2=10 n3=10 n4=0"
	expect "$src: prioritize annotated heavy pod" "$(prio "$P_DECL")" "n1=0 n2=6 n3=10 n4=0"
	# --isolate --max-elephants 2
	expect "$src: filter light pod: n1 has a heavy workload" "$(filt "$P_LIGHT")" \
		"n2,n3,n4 | n1"
	expect "$src: filter heavy pod: n1 at --max-elephants" "$(filt "$P_HEAVY")" \
		"n2,n3,n4 | n1"
	expect "$src: filter unknown pod: only --max-elephants" "$(filt "$P_UNKNOWN")" \
		"n2,n3,n4 | n1"
	expect "$src: last_elephant 10 s ago: heavy" "$(prio "$P_RECENT")" "n1=0 n2=6 n3=10 n4=0"
	expect "$src: last_elephant 500 s ago: light" "$(prio "$P_OLD")" "n1=0 n2=10 n3=10 n4=0"
	got=$(req POST /filter "{\"Pod\":$P_LIGHT,\"NodeNames\":$NAMES}" | cut -d' ' -f2- |
	      jq -r '.FailedAndUnresolvableNodes.n1')
	expect "$src: reason names the heavy workload" "$got" \
		"--isolate: light pod, node has 1 heavy workload (web)"
	got=$(req POST /filter "{\"Pod\":$P_HEAVY,\"NodeNames\":$NAMES}" | cut -d' ' -f2- |
	      jq -r '.FailedAndUnresolvableNodes.n1')
	expect "$src: reason names the threshold" "$got" "--max-elephants 2: node has 2 elephant flows"
}

case_targets()
{
	local got want

	srv_start n1 && srv_start n2 && srv_start n3 || { log_fail "canned servers"; return; }
	es_start "${TARGETS[@]}" --isolate --max-elephants 2 -j || return
	check_answers targets
	# Nodes form: the answer is Nodes.items (the objects sent), NodeNames null
	got=$(req POST /filter "{\"Pod\":$P_LIGHT,\"Nodes\":$NODES}")
	want="200 {\"Nodes\":{\"metadata\":{},\"items\":[$(node_obj n2 2),$(node_obj n3 3),$(node_obj n4 4)]},\"NodeNames\":null,\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":{\"n1\":\"--isolate: light pod, node has 1 heavy workload (web)\"},\"Error\":\"\"}"
	expect "filter, Nodes form: exact answer" "$got" "$want"
	got=$(req POST /prioritize "{\"Pod\":$P_HEAVY,\"Nodes\":$NODES}")
	expect "prioritize, Nodes form: exact answer" "$got" \
		'200 [{"Host":"n1","Score":0},{"Host":"n2","Score":6},{"Host":"n3","Score":10},{"Host":"n4","Score":0}]'
	got=$(req POST /filter "{\"Pod\":$P_LIGHT,\"NodeNames\":[\"n1\",\"n3\"],\"Nodes\":null}")
	expect "filter, NodeNames form (Nodes null): exact answer" "$got" \
		'200 {"Nodes":null,"NodeNames":["n3"],"FailedNodes":{},"FailedAndUnresolvableNodes":{"n1":"--isolate: light pod, node has 1 heavy workload (web)"},"Error":""}'
	# Go's encoding/json: keys case-insensitive, U+017F folds to s, last key wins
	got=$(req POST /prioritize "{\"pod\":$P_LIGHT,\"POD\":$P_HEAVY,\"nodenameſ\":[\"n1\",\"n2\"]}")
	expect "lower-cased and folded keys, last Pod wins" "$got" \
		'200 [{"Host":"n1","Score":0},{"Host":"n2","Score":6}]'
	got=$(req POST /filter "{\"Pod\":{\"Metadata\":{\"Labels\":{\"app\":\"api\"}}},\"nodeNames\":[\"n1\"]}" |
	      cut -d' ' -f2- | jq -c .NodeNames)
	expect "every node rejected: fail open, all pass" "$got" '["n1"]'
	if has_record 'select(.type == "filter" and .fail_open == true and .failed[0].node == "n1")' \
		"$TMP/es.out" >/dev/null; then
		log_ok "the fail-open decision says so"
	else
		log_fail "no fail-open decision record"
	fi
	if has_record 'select(.type == "prioritize" and .pod == "t/heavy" and .class == "heavy" and
		  .workload == "web" and (.class_source | test("elephant on n1")) and
		  .scores[1].cost == 1 and .no_data == ["n4"])' "$TMP/es.out"; then
		log_ok "decision record: pod, class and its source, costs, nodes without data"
	else
		log_fail "decision record: $(grep prioritize "$TMP/es.out" | head -1 | cut -c1-400)"
	fi
	got=$(req GET /state | cut -d' ' -f2- |
	      jq -c '[.nodes[] | [.node, .fresh, .elephants, .heavy_workloads, .light_workloads]]')
	expect "/state: E, H, L per node" "$got" \
		'[["n1",true,2,1,1],["n2",true,0,0,1],["n3",true,0,0,0]]'
	got=$(req GET /state | cut -d' ' -f2- |
	      jq -c '[[.workloads[] | [.workload, .class]], [.sources[] | select(.ok | not) | .source]]')
	expect "/state: workload classes; n4 failing" "$got" \
		'[[["api","light"],["api2","light"],["old","light"],["recent","heavy"],["web","heavy"]],["n4"]]'
	expect "/healthz with data" "$(req GET /healthz)" "200 ok: 3 nodes with fresh data"
	tool_stop es
	expect "SIGINT: exit 0" "${TOOL_RC[es]}" 0
	srv_stop n1; srv_stop n2; srv_stop n3
}

case_errors()
{
	local got body

	srv_start n1 || return
	es_start --target n1=127.0.0.1:19461 --max-body 64K || return
	body=$(printf '{"Pod": {},\n  "NodeNames": ["n1",, "n2"]}')
	got=$(req POST /filter "$body")
	expect "bad JSON: 400 with line and column" "$got" \
		"400 {\"Error\":\"invalid JSON at line 2, column 22: unexpected token near ','\"}"
	expect "no Pod: 400" "$(req POST /filter '{"NodeNames":["n1"]}')" \
		'400 {"Error":"no Pod in ExtenderArgs"}'
	expect "Pod null: 400" "$(req POST /prioritize '{"Pod":null,"NodeNames":["n1"]}')" \
		'400 {"Error":"no Pod in ExtenderArgs"}'
	expect "no nodes: 400" "$(req POST /filter '{"Pod":{},"Nodes":null}')" \
		'400 {"Error":"no nodes in ExtenderArgs: want NodeNames or Nodes"}'
	expect "NodeNames not strings: 400" "$(req POST /filter '{"Pod":{},"NodeNames":["a",7]}')" \
		'400 {"Error":"NodeNames[1]: want a string, got a number"}'
	expect "label not a string: 400" \
		"$(req POST /filter '{"Pod":{"metadata":{"labels":{"app":1}}},"NodeNames":[]}')" \
		'400 {"Error":"Pod.metadata.labels[\"app\"]: want a string, got a number"}'
	expect "top level not an object: 400" "$(req POST /filter '[1]')" \
		'400 {"Error":"ExtenderArgs: want an object, got an array"}'
	expect "empty body: 400" "$(req POST /filter '')" \
		'400 {"Error":"empty body: want an ExtenderArgs JSON object"}'
	expect "unknown path: 404" "$(req POST /bind '{}')" '404 {"Error":"not found"}'
	expect "GET /filter: 405" "$(req GET /filter)" '405 {"Error":"method not allowed"}'
	expect "POST /healthz: 405" "$(req POST /healthz '{}')" '405 {"Error":"method not allowed"}'
	got=$(printf 'POST /filter HTTP/1.1\r\nHost: x\r\n\r\n' | X socat -t 5 - TCP:$LISTEN |
	      head -1 | tr -d '\r')
	expect "POST without Content-Length: 411" "$got" "HTTP/1.1 411 Length Required"
	head -c 70000 /dev/zero | tr '\0' ' ' >"$TMP/big"
	got=$(X curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
	      --data-binary @"$TMP/big" "$URL/filter")
	expect "body over --max-body: 413" "$got" 413
	for c in '400 Bad Request' '404 Not Found' '405 Method Not Allowed' \
		 '411 Length Required' '413 Content Too Large'; do
		if grep -q "${c%% *}" "$TMP/es.err"; then
			log_ok "stderr has the $c"
		else
			log_fail "stderr lacks the $c: $(tail -c 600 "$TMP/es.err")"
		fi
	done
	grep -q 'POST /filter: 400: invalid JSON at line 2, column 22' "$TMP/es.err" &&
		log_ok "stderr names the bad JSON's place" || log_fail "stderr: no bad JSON line"
	expect "still answering after all that" "$(prio "$P_HEAVY")" "n1=0 n2=0 n3=0 n4=0"
	tool_stop es
	expect "exit 0" "${TOOL_RC[es]}" 0
	srv_stop n1
}

case_hostile()
{
	local i pids=() got t0 t1

	srv_start n1 || return
	es_start --target n1=127.0.0.1:19461 --max-body 1M || return
	for i in $(seq 40); do		# idle: connect, send nothing
		ip netns exec "$sch" socat -u TCP:$LISTEN,connect-timeout=2 \
			EXEC:'sleep 30' >/dev/null 2>&1 &
		pids+=($!)
		disown $!
	done
	# a body announced and never sent
	(printf 'POST /filter HTTP/1.1\r\nContent-Length: 50000\r\n\r\n{"Pod":'; sleep 30) |
		ip netns exec "$sch" socat -u - TCP:$LISTEN >/dev/null 2>&1 &
	pids+=($!)
	disown $!
	for i in "${pids[@]}"; do on_cleanup "kill -9 $i"; done
	sleep 1
	got=$(printf 'POST /filter HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n' |
	      X socat -t 5 - TCP:$LISTEN | head -1 | tr -d '\r')
	expect "1 GB Content-Length: 413 at once" "$got" "HTTP/1.1 413 Content Too Large"
	t0=$(date +%s%N)
	got=$(prio "$P_HEAVY" | cut -d' ' -f1)
	t1=$(date +%s%N)
	expect "a normal request among 41 hostile clients" "$got" "n1=0"
	log_info "answered in $(( (t1 - t0) / 1000000 )) ms"
	for i in "${pids[@]}"; do kill -9 "$i" 2>/dev/null; done
	kill -0 "${TOOL_PID[es]}" 2>/dev/null && log_ok "extender still running" ||
		log_fail "extender died"
	tool_stop es
	srv_stop n1
}

case_stale()
{
	local got

	srv_start n1 && srv_start n2 || return
	es_start --target n1=127.0.0.1:19461 --target n2=127.0.0.1:19462 --stale 3s \
		--isolate || return
	expect "both nodes have data" "$(prio "$P_LIGHT")" "n1=0 n2=10 n3=0 n4=0"
	srv_stop n2
	sleep 1
	# the last good data is used until it is older than --stale
	if wait_until $((10 * SLOW)) sh -c "ip netns exec $sch curl -s $URL/state |
		jq -e '.nodes[] | select(.node == \"n2\" and .fresh == false)' >/dev/null"; then
		log_ok "n2 stale after --stale 3s"
	else
		log_fail "n2 never stale: $(req GET /state)"
	fi
	expect "a stale node scores 0" "$(prio "$P_LIGHT")" "n1=0 n2=0 n3=0 n4=0"
	grep -q 'refresh: n2 (http://127.0.0.1:19462/metrics): ' "$TMP/es.err" &&
		log_ok "refresh error on stderr" || log_fail "no refresh error on stderr"
	srv_stop n1
	if wait_until $((10 * SLOW)) sh -c "[ \"\$(ip netns exec $sch curl -s -o /dev/null \
		-w '%{http_code}' $URL/healthz)\" = 503 ]"; then
		log_ok "/healthz 503 when no node has fresh data"
	else
		log_fail "/healthz: $(req GET /healthz)"
	fi
	expect "no data: every node passes the filter" "$(filt "$P_LIGHT")" "n1,n2,n3,n4 | "
	tool_stop es
}

# prom_start NAME NS PORT TARGET...: a Prometheus in NS on 127.0.0.1:PORT
# scraping the TARGETs every second (config, data and log under $TMP/NAME).
PROM_PID=
prom_start()
{
	local name=$1 ns=$2 port=$3 t targets=

	shift 3
	for t in "$@"; do
		targets+="${targets:+, }'$t'"
	done
	cat >"$TMP/$name.yml" <<-EOC
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: elephant
	    static_configs:
	      - targets: [$targets]
	EOC
	mkdir -p "$TMP/$name"
	ip netns exec "$ns" prometheus --config.file="$TMP/$name.yml" \
		--storage.tsdb.path="$TMP/$name" --web.listen-address="127.0.0.1:$port" \
		>"$TMP/$name.log" 2>&1 &
	PROM_PID=$!
	on_cleanup "kill -9 $PROM_PID"
	wait_listen $((30 * SLOW)) "$ns" "$port"
}

case_prometheus()
{
	local got

	srv_start n1 && srv_start n2 && srv_start n3 || return
	prom_start prom "$sch" 19090 127.0.0.1:19461 127.0.0.1:19462 127.0.0.1:19463 ||
		{ log_fail "prometheus did not start: $(tail -3 "$TMP/prom.log")"; return; }
	es_start --prometheus http://127.0.0.1:19090/ --isolate --max-elephants 2 --stale 10s -j ||
		return
	wait_until $((20 * SLOW)) sh -c "ip netns exec $sch curl -s $URL/state |
		jq -e '.nodes_fresh == 3' >/dev/null" || log_fail "prometheus: not 3 fresh nodes"
	check_answers prometheus
	got=$(req GET /state | cut -d' ' -f2- | jq -c '[.nodes[] | .data_age_s < 10]')
	expect "prometheus: data age from timestamp()" "$got" "[true,true,true]"
	srv_stop n2
	# prometheus marks n2's series stale on the next failed scrape
	if wait_until $((30 * SLOW)) sh -c "ip netns exec $sch curl -s $URL/state |
		jq -e '.nodes_fresh == 2' >/dev/null"; then
		log_ok "prometheus: n2's elephant killed -> no data"
	else
		log_fail "prometheus: n2 still has data: $(req GET /state | cut -c1-300)"
	fi
	expect "prometheus: n2 scores 0" "$(prio "$P_LIGHT")" "n1=0 n2=0 n3=10 n4=0"
	kill -9 "$PROM_PID"
	wait "$PROM_PID" 2>/dev/null
	if wait_until $((40 * SLOW)) sh -c "[ \"\$(ip netns exec $sch curl -s -o /dev/null \
		-w '%{http_code}' $URL/healthz)\" = 503 ]"; then
		log_ok "prometheus stopped: /healthz 503 after --stale"
	else
		log_fail "prometheus stopped: /healthz $(req GET /healthz)"
	fi
	expect "prometheus stopped: every node passes" "$(filt "$P_LIGHT")" "n1,n2,n3,n4 | "
	if has_record 'select(.type == "source" and .ok == false and
		  (.error | test("Connection refused|connect")))' "$TMP/es.out"; then
		log_ok "prometheus stopped: source record says why"
	else
		log_fail "no failed source record: $(grep source "$TMP/es.out" | tail -1)"
	fi
	tool_stop es
	srv_stop n1; srv_stop n3
}

# Two nodes, each a namespace running the real elephant (tc or whatever
# backend this kernel runs) with a container behind a veth; node a's
# container sends an iperf3 elephant to node a (workload "bulk"), node b's
# makes short request/response flows to node b (workload "chat"). The
# extender scrapes both elephants across a link between the nodes.
case_elephants()
{
	local EL=$TOP_DIR/elephant/elephant na nb nc ca cb x got i ELC

	if [ ! -x "$EL" ] || ! command -v iperf3 >/dev/null || ! command -v iptables >/dev/null; then
		log_fail "elephants: needs elephant built, iperf3 and iptables"
		return
	fi
	setup_ns na nb nc ca cb || { log_fail "elephants: namespaces"; return; }
	veth "$na" ab "$nb" ba || return
	add_addrs "$na" ab 3 1
	add_addrs "$nb" ba 3 2
	# a third, idle node, reachable from node a
	veth "$na" ac "$nc" ca || return
	add_addrs "$na" ac 4 1
	add_addrs "$nc" ca 4 3
	ip netns exec "$nc" iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
	ip netns exec "$nc" "$EL" --node nodec --metrics "$(addr4 4 3):19464" -i 1 \
		>"$TMP/el-c.out" 2>"$TMP/el-c.err" &
	ELC=$!
	on_cleanup "kill -INT $ELC"
	for x in a b; do
		local node cont link=1

		[ $x = b ] && link=2
		eval "node=\$n$x cont=\$c$x"
		veth "$node" "vc$x" "$cont" eth0 || return
		add_addrs "$node" "vc$x" $link 1
		add_addrs "$cont" eth0 $link 11
		ip -n "$cont" route add default via "$(addr4 $link 1)"
		# conntrack on in the node (elephant reads its entries)
		ip netns exec "$node" iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
	done
	ip netns exec "$na" iperf3 -s -D -p 5201 -B "$(addr4 1 1)" --pidfile "$TMP/iperf3-a.pid" \
		>/dev/null
	on_cleanup "kill \$(cat $TMP/iperf3-a.pid)"
	ip netns exec "$nb" socat TCP-LISTEN:7000,bind="$(addr4 2 1)",fork,reuseaddr EXEC:cat \
		>/dev/null 2>&1 &
	on_cleanup "kill -9 $!"
	for x in a b; do
		local node label link=1

		[ $x = b ] && link=2
		eval "node=\$n$x"
		label=bulk
		[ $x = b ] && label=chat
		ip netns exec "$node" "$EL" --node "node$x" --metrics "$(addr4 3 $link):19464" -i 1 \
			--min-bytes 5M --min-duration 1s --label "iface:vc$x=$label" \
			>"$TMP/el-$x.out" 2>"$TMP/el-$x.err" &
		on_cleanup "kill -INT $!"
		if ! wait_for_file $((20 * SLOW)) "$TMP/el-$x.err" "using the .* backend"; then
			log_fail "elephants: elephant on node$x: $(head -c 300 "$TMP/el-$x.err")"
			return
		fi
	done
	wait_listen $((10 * SLOW)) "$na" 5201
	ip netns exec "$ca" iperf3 -c "$(addr4 1 1)" -p 5201 -t 4 -b 100M >/dev/null 2>&1 &
	x=$!
	for i in $(seq 10); do
		echo "hello $i" | ip netns exec "$cb" socat -T 2 - TCP:"$(addr4 2 1)":7000 >/dev/null
	done
	wait $x
	ip netns exec "$na" "$ES" -l 127.0.0.1:18890 --refresh 1 --isolate -j \
		--target nodea="$(addr4 3 1)":19464 --target nodeb="$(addr4 3 2)":19464 \
		>"$TMP/es-el.out" 2>"$TMP/es-el.err" &
	on_cleanup "kill -9 $!"
	if ! wait_until $((20 * SLOW)) sh -c "ip netns exec $na curl -s http://127.0.0.1:18890/state |
		jq -e '[.workloads[] | select(.workload == \"bulk\" and .class == \"heavy\")] |
		length == 1' >/dev/null"; then
		log_fail "elephants: bulk never heavy: $(ip netns exec "$na" curl -s \
			http://127.0.0.1:18890/state | head -c 600)"
		return
	fi
	log_ok "elephants: the iperf3 workload is learned heavy from node a's elephant"
	got=$(ip netns exec "$na" curl -s http://127.0.0.1:18890/state |
	      jq -r '.workloads[] | select(.workload == "chat") | .class')
	expect "elephants: the request/response workload is light" "$got" light
	got=$(ip netns exec "$na" curl -s -X POST http://127.0.0.1:18890/filter --data-binary \
	      "{\"Pod\":$(pod c '{"app":"chat"}' '{}'),\"NodeNames\":[\"nodea\",\"nodeb\"]}" |
	      jq -c '[.NodeNames, (.FailedAndUnresolvableNodes | keys)]')
	expect "elephants: --isolate keeps a light pod off node a" "$got" '[["nodeb"],["nodea"]]'
	got=$(ip netns exec "$na" curl -s -X POST http://127.0.0.1:18890/prioritize --data-binary \
	      "{\"Pod\":$(pod b '{"app":"bulk"}' '{}'),\"NodeNames\":[\"nodea\",\"nodeb\"]}" |
	      jq -r 'map("\(.Host)=\(.Score)") | join(" ")')
	log_info "elephants: heavy pod scores $got"
	got=$(ip netns exec "$na" curl -s -X POST http://127.0.0.1:18890/prioritize --data-binary \
	      "{\"Pod\":$(pod c '{"app":"chat"}' '{}'),\"NodeNames\":[\"nodea\",\"nodeb\"]}" |
	      jq -r 'map("\(.Host)=\(.Score)") | join(" ")')
	expect "elephants: a light pod prefers node b (H + E: nodea >= 1, nodeb 0)" "$got" \
		"nodea=0 nodeb=10"

	# the same through a real Prometheus scraping both elephants
	if ! prom_start prom-el "$na" 19091 "$(addr4 3 1):19464" "$(addr4 3 2):19464" \
		"$(addr4 4 3):19464"; then
		log_fail "elephants: prometheus did not start: $(tail -3 "$TMP/prom-el.log")"
		return
	fi
	ip netns exec "$na" "$ES" -l 127.0.0.1:18891 --refresh 1 --isolate -j \
		--prometheus http://127.0.0.1:19091/ >"$TMP/es-pr.out" 2>"$TMP/es-pr.err" &
	on_cleanup "kill -9 $!"
	if ! wait_until $((40 * SLOW)) sh -c "ip netns exec $na curl -s http://127.0.0.1:18891/state |
		jq -e '([.workloads[] | select(.workload == \"bulk\" and .class == \"heavy\")] |
		length == 1) and .nodes_fresh == 3' >/dev/null"; then
		log_fail "elephants: through prometheus, bulk never heavy: $(ip netns exec "$na" \
			curl -s http://127.0.0.1:18891/state | head -c 600)"
		return
	fi
	log_ok "elephants: through prometheus, the three nodes fresh and bulk learned heavy"
	got=$(ip netns exec "$na" curl -s -X POST http://127.0.0.1:18891/filter --data-binary \
	      "{\"Pod\":$(pod c '{"app":"chat"}' '{}'),\"NodeNames\":[\"nodea\",\"nodeb\"]}" |
	      jq -c '[.NodeNames, (.FailedAndUnresolvableNodes | keys)]')
	expect "elephants: through prometheus, --isolate keeps a light pod off node a" "$got" \
		'[["nodeb"],["nodea"]]'
	# node c's elephant killed: node c has no data (scores 0, never filtered)
	disown "$ELC" 2>/dev/null
	kill -9 "$ELC"
	if wait_until $((30 * SLOW)) sh -c "ip netns exec $na curl -s http://127.0.0.1:18891/state |
		jq -e '.nodes_fresh == 2' >/dev/null"; then
		log_ok "elephants: through prometheus, node c's elephant killed -> no data"
	else
		log_fail "elephants: node c still has data: $(ip netns exec "$na" curl -s \
			http://127.0.0.1:18891/state | head -c 400)"
	fi
	got=$(ip netns exec "$na" curl -s -X POST http://127.0.0.1:18891/prioritize --data-binary \
	      "{\"Pod\":$(pod c '{"app":"chat"}' '{}'),\"NodeNames\":[\"nodea\",\"nodeb\",\"nodec\"]}" |
	      jq -r 'map("\(.Host)=\(.Score)") | join(" ")')
	expect "elephants: through prometheus, a light pod: node b best, node c no data" "$got" \
		"nodea=0 nodeb=10 nodec=0"
}

case_badinput()
{
	local rc

	expect_usage_error "no source" "$ES"
	expect_usage_error "both sources" "$ES" --prometheus http://x:9090 --target a=b:1
	expect_usage_error "bad --target" "$ES" --target nonode
	expect_usage_error "bad --target port" "$ES" --target n=h:99999
	expect_usage_error "bad --prometheus" "$ES" --prometheus ftp://x
	expect_usage_error "bad --listen" "$ES" --target n=h:1 -l 1.2.3:x
	expect_usage_error "bad --stale" "$ES" --target n=h:1 --stale 0
	expect_usage_error "bad --max-elephants" "$ES" --target n=h:1 --max-elephants 0
	expect_usage_error "bad --max-body" "$ES" --target n=h:1 --max-body 2G
	expect_usage_error "extra argument" "$ES" --target n=h:1 extra
	X socat TCP-LISTEN:18888,bind=127.0.0.1,reuseaddr,fork /dev/null &
	on_cleanup "kill -9 $!"
	wait_listen $((5 * SLOW)) "$sch" 18888
	X "$ES" --target n=127.0.0.1:1 -l "$LISTEN" -d 2 >"$TMP/inuse.out" 2>"$TMP/inuse.err"
	rc=$?
	expect "port in use: exit 1" "$rc" 1
	expect "port in use: one line" "$(cat "$TMP/inuse.err")" \
		"elephant-sched: cannot listen on $LISTEN: Address already in use"
}

run_cases "$@"
exit $RET
