#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rss.sh - what rss's policies do to queuing delay, against baselines
# measured in the same run, on a veth pair between two namespaces (client
# and server share this machine's CPUs; workers on CPUs 0 and 1).
#
#  a. raw redirect path: `rss --policy rr` (no service time, no replies)
#     against the bare path it is built on, an XDP program that only round-
#     robins every packet to the same CPUs through a cpumap and drops it
#     there (`rss --baseline`), same UDP flood: delivered rate ratio (median
#     of the ratios of RSS_PAIRS back-to-back pairs of SECS-second runs, the
#     order alternating) and ns per packet of the scheduler and worker
#     programs (kernel.bpf_stats_enabled); then the raw rate of both under
#     a flood sent from XDP in the kernel (selftests/bench/rss_flood), which
#     the client's sockets do not limit;
#  b. ramp with a 90:10 mix (6 us / 60 us) for rr, split and hash: p50/p99
#     queuing delay per step and class as ratios against hash (the NIC RSS
#     baseline), each class's knee beside the queueing model's prediction,
#     and a plot (p99 against achieved rate, like the seed's figures 5.1/5.2);
#  c. dynamic against static rr on the same ramp: knee ratio and the
#     average number of CPUs the group used.
# Never fails: a missing tool or a failed run prints a "# skipped" line.
# Usage: rss.sh [a] [b]   (default both; b includes c). Environment:
# RSS_PAIRS (or REPEATS; 9), SECS (5), RSS_RAMP (START:STEP:END), RSS_STEP
# (s), RSS_CLIENTS, RSS_NICE (the workers' nice value, -10), RSS_SHORT_US,
# RSS_LONG_US (6, 60), RSS_GROW_US, RSS_SHRINK_US (dynamic's thresholds, 500
# and 100), RSS_PLOT (png).

source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cost.sh"

RSS=$TOP_DIR/rss/rss
CLIENT=$TOP_DIR/rss/rss-client
PAIRS=${RSS_PAIRS:-${REPEATS:-9}}
SECS=${SECS:-5}
RAMP=${RSS_RAMP:-5000:5000:80000}
STEP=${RSS_STEP:-2}
CLIENTS=${RSS_CLIENTS:-4}
# The workers' kthreads at this nice value, for every configuration alike:
# on a machine shared with other jobs they otherwise wait behind them.
NICE=${RSS_NICE:--10}
SHORT_US=${RSS_SHORT_US:-6}
LONG_US=${RSS_LONG_US:-60}
# dynamic: above the wake-up latency of an idle kthread (the seed used 20 us)
GROW_US=${RSS_GROW_US:-500}
SHRINK_US=${RSS_SHRINK_US:-100}
PLOT=${RSS_PLOT:-$TOP_DIR/.output/bench/rss_p99.png}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -x "$RSS" ] || [ ! -x "$CLIENT" ] || ! command -v jq >/dev/null ||
   ! command -v bpftool >/dev/null || [ "$(nproc)" -lt 2 ]; then
	echo "# rss bench skipped: needs root, rss built, jq, bpftool, 2 cpus"
	exit 0
fi

make_tmp bench_rss
setup_ns cli srv || exit 0
# one receive queue per CPU on the client side: each worker CPU sends its
# replies into its own ring of the peer
add_veth "$cli" rss-c "$srv" rss-s 2 || exit 0
add_addrs "$cli" rss-c 1 1
add_addrs "$srv" rss-s 1 2
ip netns exec "$cli" ethtool -K rss-c gro on >/dev/null
SRV=$(addr4 1 2)
CLI=$(addr4 1 1)
CLI_MAC=$(ip -n "$cli" -j link show rss-c | jq -r '.[0].address')
SRV_MAC=$(ip -n "$srv" -j link show rss-s | jq -r '.[0].address')
wait_until 5 ip netns exec "$cli" ping -c1 -W1 "$SRV" >/dev/null || exit 0
# The baseline drops every packet, ARP too: a neighbour entry that goes
# stale during a baseline run could not be resolved again and the client
# would stop sending (a run at ~0 requests/s). Permanent entries both ways.
ip -n "$cli" neigh replace "$SRV" dev rss-c nud permanent lladdr "$SRV_MAC"
ip -n "$srv" neigh replace "$CLI" dev rss-s nud permanent lladdr "$CLI_MAC"

median()
{
	sort -g | awk '{ v[NR] = $1 }
		END { if (!NR) print 0; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }

SNAME=
# server_start NAME ARGS...: records in $TMP/NAME.srv.out, stderr in
# $TMP/NAME.srv.err; waits for "rss: ready"
server_start()
{
	SNAME=$1.srv
	shift
	tool_start "$SNAME" ip netns exec "$srv" "$RSS" -I rss-s -j -i 1 --worker-nice "$NICE" "$@"
}

server_stop()
{
	tool_stop "$SNAME"
}

# prog_ns NAME: average ns per run of the program NAME that the running
# server loaded (bpf_stats): one that shares a map with the XDP program on
# rss-s (another rss on the host has programs of the same names)
prog_ns()
{
	local xdp

	xdp=$(ip -n "$srv" -j -d link show rss-s | jq '.[0].xdp.prog.id // 0')
	bpftool prog show -j 2>/dev/null | jq -r --arg n "$1" --argjson x "$xdp" \
		'(map(select(.id == $x)) | first | .map_ids // []) as $m |
		 [.[] | select(.name == $n and .run_cnt > 0 and
			       any(.map_ids[]?; . as $i | $m | index($i)))] | first |
		 if . then .run_time_ns / .run_cnt else 0 end'
}

# One side of a pair: path_start NAME rr|bare starts the server for it;
# served_rate NAME is what its workers took per second over the loaded
# seconds; pair_order I alternates which side runs first.
path_start()
{
	if [ "$2" = rr ]; then
		server_start "$1" --policy rr --cpus 0,1 --no-reply --short-us 0 --long-us 0
	else
		server_start "$1" --baseline --cpus 0,1
	fi
}

served_rate()
{
	jq -s '[.[] | select(.tx_rps > 0) | .tx_rps] | sort |
		if length > 2 then .[1:-1] else . end | add / length' "$TMP/$1.srv.out" 2>/dev/null
}

pair_order()
{
	if [ $(($1 % 2)) = 0 ]; then echo "bare rr"; else echo "rr bare"; fi
}

# pair_ratio WHAT I ORDER RR BARE: print the pair's line and add its ratio to
# the caller's $ratios
pair_ratio()
{
	local r

	r=$(ratio "${4:-0}" "${5:-0}")
	echo "# rss a: $1 $2 ($3): rss $(printf %.0f "${4:-0}"), bare $(printf %.0f "${5:-0}") requests/s, ratio $r"
	[ "$r" != nan ] && ratios+="$r "
}

# rss_kthreads PID: an ERE for the cpumap kthreads of the maps PID holds
# ("cpumap/CPU/map:ID"), so that another rss's workers are not counted
rss_kthreads()
{
	local ids

	ids=$(grep -hs '^map_id:' /proc/"$1"/fdinfo/* | awk '{ print $2 }' | sort -un |
		paste -sd'|')
	echo "^cpumap/[0-9]+/map:(${ids:-none})\$"
}

# ---- a. raw redirect rate ----
# Runs in pairs (rss rr, bare), the order alternating from pair to pair so
# that a drift of the machine's other load hits both sides alike; the ratio
# is the median of the pairs' ratios (each pair measured minutes apart at
# most), the absolute figures the medians of each side.
bench_redirect()
{
	local mode i rate stats_was order ratios= pid kre c0 m
	declare -A rates sched worker

	stats_was=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
	sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null
	for i in $(seq "$PAIRS"); do
		order=$(pair_order "$i")
		declare -A pair=()
		for mode in $order; do
			path_start "a$mode$i" $mode || continue
			pid=${TOOL_PID[$SNAME]}
			kre=$(rss_kthreads "$pid")
			c0=$(cost_snap "$pid" "$kre")
			ip netns exec "$cli" "$CLIENT" --clients 2 --rate 5000000 --arrival fixed \
				-d "$SECS" --drain 0.1 "$SRV" >/dev/null 2>&1
			cost_vals "$c0" "$(cost_snap "$pid" "$kre")" >>"$TMP/cost.$mode"
			if [ $mode = rr ]; then
				sched[$mode]+="$(prog_ns rss_rr) "
				worker[$mode]+="$(prog_ns rss_worker) "
			else
				sched[$mode]+="$(prog_ns rss_bare) "
				worker[$mode]+="$(prog_ns rss_bare_worker) "
			fi
			server_stop
			rate=$(served_rate "a$mode$i")
			rates[$mode]+="${rate:-0} "
			pair[$mode]=${rate:-0}
		done
		pair_ratio pair "$i" "$order" "${pair[rr]}" "${pair[bare]}"
	done
	sysctl -qw kernel.bpf_stats_enabled="$stats_was" 2>/dev/null
	local r_rr r_bare s_rr s_bare w_rr w_bare
	r_rr=$(echo "${rates[rr]}" | tr ' ' '\n' | grep . | median)
	r_bare=$(echo "${rates[bare]}" | tr ' ' '\n' | grep . | median)
	s_rr=$(echo "${sched[rr]}" | tr ' ' '\n' | grep . | median)
	s_bare=$(echo "${sched[bare]}" | tr ' ' '\n' | grep . | median)
	w_rr=$(echo "${worker[rr]}" | tr ' ' '\n' | grep . | median)
	w_bare=$(echo "${worker[bare]}" | tr ' ' '\n' | grep . | median)
	printf 'rss a: delivered rate rss-rr/bare = %s (median of %s paired ratios; medians rss %.0f, bare %.0f requests/s; %s s each; goal >= 0.95)\n' \
		"$(echo "$ratios" | tr ' ' '\n' | grep . | median)" "$PAIRS" "$r_rr" "$r_bare" "$SECS"
	printf 'rss a: scheduler program bare/rss-rr ns per packet = %s (rss_rr %.0f ns, bare %.0f ns)\n' \
		"$(ratio "$s_bare" "$s_rr")" "$s_rr" "$s_bare"
	printf 'rss a: worker program bare/rss ns per packet = %s (rss_worker %.0f ns, bare %.0f ns)\n' \
		"$(ratio "$w_bare" "$w_rr")" "$w_rr" "$w_bare"
	local t_rr t_bare
	t_rr=$(awk -v a="$s_rr" -v b="$w_rr" 'BEGIN { print a + b }')
	t_bare=$(awk -v a="$s_bare" -v b="$w_bare" 'BEGIN { print a + b }')
	printf 'rss a: both programs bare/rss ns per packet = %s (rss %.0f ns, bare %.0f ns)\n' \
		"$(ratio "$t_bare" "$t_rr")" "$t_rr" "$t_bare"
	# the exact cost of each side's own instance while the client ran: its
	# programs, its threads, its cpumap kthreads (the worker program runs in
	# them: their time includes it)
	for m in rr bare; do
		[ -s "$TMP/cost.$m" ] || continue
		printf 'rss a: cost of %s, %% of the machine (median of %s): bpf %.3f%%, user %.3f%%, cpumap kthreads %.3f%%\n' \
			"$([ $m = rr ] && echo rss-rr || echo bare)" "$(wc -l <"$TMP/cost.$m")" \
			"$(awk '{ print $1 }' "$TMP/cost.$m" | median)" \
			"$(awk '{ print $2 }' "$TMP/cost.$m" | median)" \
			"$(awk '{ print $3 }' "$TMP/cost.$m" | median)"
	done
}

# The raw rate of the same two paths under a flood that does not go through
# the client's sockets: rss_flood sends request frames out of the client's
# veth from XDP (BPF_PROG_TEST_RUN live frames), in the kernel, on CPU 0; the
# rate is what the workers handled (the server's tx_rps), so frames the path
# drops are not counted. Same pairs, same alternating order.
FLOOD=$TOP_DIR/selftests/bench/rss_flood
bench_flood()
{
	local mode i rate order ratios=
	declare -A rates

	if [ ! -x "$FLOOD" ] || ! command -v taskset >/dev/null; then
		echo "# rss a: flood skipped: needs selftests/bench/rss_flood (make) and taskset"
		return 0
	fi
	for i in $(seq "$PAIRS"); do
		order=$(pair_order "$i")
		declare -A pair=()
		for mode in $order; do
			path_start "f$mode$i" $mode || continue
			ip netns exec "$cli" taskset -c 0 "$FLOOD" rss-c "$CLI_MAC" "$SRV_MAC" \
				"$CLI" "$SRV" 9000 "$SECS" >"$TMP/f$mode$i.gen" 2>&1
			server_stop
			rate=$(served_rate "f$mode$i")
			rates[$mode]+="${rate:-0} "
			pair[$mode]=${rate:-0}
		done
		pair_ratio "flood pair" "$i" "$order" "${pair[rr]}" "${pair[bare]}"
	done
	printf 'rss a: raw rate under an XDP flood rss-rr/bare = %s (median of %s paired ratios; medians rss %.0f, bare %.0f requests/s; %s s each; generator on cpu 0; goal >= 0.95)\n' \
		"$(echo "$ratios" | tr ' ' '\n' | grep . | median)" "$PAIRS" \
		"$(echo "${rates[rr]}" | tr ' ' '\n' | grep . | median)" \
		"$(echo "${rates[bare]}" | tr ' ' '\n' | grep . | median)" "$SECS"
}

# ---- b. and c. ramps ----
# ramp NAME SERVER-ARGS...: one ramp against a server with SERVER-ARGS
ramp()
{
	local name=$1 cpus=$CPUS_MODEL

	shift
	server_start "r$name" --short-us "$SHORT_US" --long-us "$LONG_US" "$@" ||
		{ echo "# skipped: rss $name did not start"; return 1; }
	ip netns exec "$cli" "$CLIENT" --clients "$CLIENTS" --mix 90:10 --ramp "$RAMP" \
		--step-duration "$STEP" --drain 0.5 --policy "$name" --cpus "$cpus" \
		--long-cpus 1 --short-us "$SHORT_US" --long-us "$LONG_US" --csv "$SRV" \
		>"$TMP/$name.csv" 2>"$TMP/$name.cli.err"
	server_stop
}

knee() # NAME CLASS: the measured knee (requests/s offered) or nan
{
	sed -n "s/.*knee $2: \([0-9]*\) requests.*/\1/p; s/.*knee $2: not reached (up to \([0-9]*\).*/\1/p" \
		"$TMP/$1.cli.err" | head -1 | grep . || echo nan
}

model() # POLICY CLASS: the model's maximum rate of all classes together
{
	local cpus=$CPUS_MODEL long=1

	"$CLIENT" --model --mix 90:10 --cpus "$cpus" --long-cpus "$long" --short-us "$SHORT_US" \
		--long-us "$LONG_US" --csv 2>/dev/null |
		awk -F, -v p="$1" -v c="$2" '$1 == p && $2 == c { print $3 }'
}

# col FILE STEP CLASS FIELD: a field of a --csv record
col()
{
	awk -F, -v s="$2" -v c="$3" -v f="$4" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 == s && $3 == c { print $h[f] }' "$1"
}

CPUS_MODEL=2
bench_ramps()
{
	local p s c steps line

	ramp rr --policy rr --cpus 0,1 || return
	ramp split --policy split --cpus 0 --long-cpus 1 || return
	ramp hash --policy hash --cpus 0,1 || return
	ramp dynamic --policy dynamic --cpus 0,1 --min-cpus 1 --grow-us "$GROW_US" \
		--shrink-us "$SHRINK_US" || return

	steps=$(awk -F, 'NR > 1 { print $1 }' "$TMP/hash.csv" | sort -n | tail -1)
	for s in $(seq 0 "${steps:-0}"); do
		for c in short long; do
			line="rss b: step $s offered $(col "$TMP/hash.csv" "$s" "$c" offered_rps | head -1)/s $c:"
			for p in rr split hash dynamic; do
				local p50 p99 h50 h99
				p50=$(col "$TMP/$p.csv" "$s" "$c" queue_p50_us)
				p99=$(col "$TMP/$p.csv" "$s" "$c" queue_p99_us)
				h50=$(col "$TMP/hash.csv" "$s" "$c" queue_p50_us)
				h99=$(col "$TMP/hash.csv" "$s" "$c" queue_p99_us)
				line+=" $p p50 ${p50:-nan}us ($(ratio "${p50:-0}" "${h50:-0}")x) p99 ${p99:-nan}us ($(ratio "${p99:-0}" "${h99:-0}")x) lost $(col "$TMP/$p.csv" "$s" "$c" lost);"
			done
			echo "$line"
		done
	done
	for c in short long; do
		printf 'rss b: knee %s (requests/s offered, all classes): rr %s, split %s, hash %s; model rr %.0f, split %.0f; split/rr %s\n' \
			"$c" "$(knee rr $c)" "$(knee split $c)" "$(knee hash $c)" \
			"$(model rr $c)" "$(model split $c)" "$(ratio "$(knee split $c)" "$(knee rr $c)")"
	done
	local cdyn crr
	cdyn=$(sed -n 's/.* \([0-9.]*\) cpus on average.*/\1/p' "$TMP/rdynamic.srv.err")
	crr=$(sed -n 's/.* \([0-9.]*\) cpus on average.*/\1/p' "$TMP/rrr.srv.err")
	printf 'rss c: knee short dynamic/rr = %s (dynamic %s, rr %s requests/s), average cpus dynamic %s, rr %s\n' \
		"$(ratio "$(knee dynamic short)" "$(knee rr short)")" "$(knee dynamic short)" \
		"$(knee rr short)" "${cdyn:-nan}" "${crr:-nan}"
	mkdir -p "$(dirname "$PLOT")"
	if "$CLIENT" --plot "$PLOT" --from "$TMP/rr.csv" --from "$TMP/split.csv" \
		--from "$TMP/hash.csv" --from "$TMP/dynamic.csv" 2>/dev/null; then
		echo "rss b: plot $PLOT"
	else
		echo "# rss b: plot skipped (gnuplot missing?)"
	fi
}

echo "# rss: workers on cpus 0,1 (nice $NICE); client and server share this machine's $(nproc) cpus; service $SHORT_US/$LONG_US us"
for part in ${*:-a b}; do
	case $part in
	a) bench_redirect; bench_flood ;;
	b|c) bench_ramps ;;
	esac
done
exit 0
