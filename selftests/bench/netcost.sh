#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# netcost.sh - what netcost costs and how exact it is, against libbpf-tools
# `softirqs -N` measured the same way in the same run. iperf3 TCP over a veth
# pair between two namespaces, at full speed.
#
#  1. exact cost (cost.sh), per run of SECS seconds: BPF run time of the
#     instance's own programs, its threads' CPU, and its sampling timer's
#     interrupts (nc_sample's run count) x the cost of one (measured once by
#     cost_irq_calibrate), as % of the machine; for netcost's default mode,
#     --breakdown at its default rate and softirqs -N; median and range of
#     REPEATS runs each. Then what --breakdown adds (its sampler's BPF and
#     user space above the default mode's, and its timer, separately), and
#     netcost's default mode per program (ns per run, runs/s);
#  2. beside it, throughput with the tool / without: each run against the
#     mean of the baseline runs just before and after it (configurations
#     interleaved, so that drift hits them all alike), median and range;
#  3. accuracy: NET_RX time by netcost vs softirqs over the same window, and
#     the breakdown at its default 99 Hz vs 1 kHz on the same load (two
#     instances at once, ACC_SECS seconds, ACC_RUNS times): the largest gap
#     between a category's two shares, against the 95% error netcost reports
#     for the 99 Hz share;
#  4. bpf_stats' own share: what it reports per run of a program that does
#     nothing (selftests/bench/stats_floor: empty programs at softirq_entry
#     and softirq_exit, FLOOR_RUNS runs under the same load), and netcost
#     against softirqs with that much taken off each run of either: the two
#     clock reads of the accounting weigh more on the tool with more runs.
# This machine is shared and its throughput moves by 10-15 % between
# identical runs: the exact costs are what to trust, the ratios are context.
# Never fails: a missing tool or a failed run prints a "# skipped" line.

source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cost.sh"

NETCOST=${NETCOST:-$TOP_DIR/netcost/netcost}
REPEATS=${REPEATS:-9}
SECS=${SECS:-5}
ACC_SECS=${ACC_SECS:-10}
ACC_RUNS=${ACC_RUNS:-3}
FLOOR=${FLOOR:-$TOP_DIR/selftests/bench/stats_floor}
FLOOR_RUNS=${FLOOR_RUNS:-3}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -x "$NETCOST" ] || ! command -v iperf3 >/dev/null ||
   ! command -v bpftool >/dev/null || ! command -v jq >/dev/null; then
	echo "# netcost bench skipped: needs root, netcost built, iperf3, bpftool, jq"
	exit 0
fi
SOFTIRQS=$(command -v softirqs)
[ -z "$SOFTIRQS" ] && echo "# softirqs: skipped (libbpf-tools not installed: make deps)"

TMP=$(mktemp -d /tmp/bench_netcost.XXXXXX)
on_cleanup "rm -rf $TMP"
setup_ns cli srv || exit 0
add_veth "$cli" ncbc$$ "$srv" ncbs$$ || exit 0
add_addrs "$cli" ncbc$$ 1 1
add_addrs "$srv" ncbs$$ 1 2
SRV=$(addr4 1 2)
wait_until 5 ip netns exec "$cli" ping -c1 -W1 "$SRV" >/dev/null || exit 0
cost_init

# iperf SECS: iperf3 for SECS seconds, prints Gbit/s received.
iperf()
{
	local port=$((5300 + RANDOM % 200)) spid

	ip netns exec "$srv" iperf3 -s -1 -p $port >/dev/null 2>&1 &
	spid=$!
	wait_listen 5 "$srv" $port || return 1
	ip netns exec "$cli" iperf3 -c "$SRV" -p $port -t "$1" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e9'
	wait $spid
}

# start_tool MODE NAME [ARGS...]: start it, output in $TMP/NAME.{out,err},
# its pid in TPID; 1 if it did not get ready.
start_tool()
{
	local mode=$1 name=$2

	shift 2
	case $mode in
	softirqs)
		# its stdout is a file, buffered: ready once it holds its programs
		"$SOFTIRQS" -N "$@" 99999 1 > "$TMP/$name.out" 2> "$TMP/$name.err" &
		TPID=$!
		wait_until 20 holds_progs $TPID && sleep 0.2 && return 0 ;;
	floor)
		tool_start "$name" "$FLOOR" || return 1
		TPID=${TOOL_PID[$name]}
		return 0 ;;
	*)
		tool_start "$name" "$NETCOST" -j "$@" || return 1
		TPID=${TOOL_PID[$name]}
		return 0 ;;
	esac
	kill -9 $TPID 2>/dev/null
	wait $TPID 2>/dev/null
	return 1
}

holds_progs()
{
	[ "$(cost_prog_ids "$1")" != "[]" ]
}

stop_tool()
{
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# prog_snap PID: [{name, ns, runs}] of the programs PID holds.
prog_snap()
{
	bpftool -j prog show 2>/dev/null | jq -c --argjson ids "$(cost_prog_ids "$1")" '
		[.[] | select(.id as $id | $ids | index($id)) |
		 {n: .name, t: (.run_time_ns // 0), c: (.run_cnt // 0)}]'
}

# run_with MODE: one iperf3 run with the tool in MODE ("none": baseline);
# appends Gbit/s to $TMP/MODE.tput and, for a tool, cost_vals to
# $TMP/MODE.cost; --breakdown also its sampler alone to $TMP/MODE.sampler:
# "bpf% ns/run irqs/s".
run_with()
{
	local mode=$1 args=() s0 s1 b0 b1 g c0 c1

	case $mode in
	default) args=(-i 1) ;;
	breakdown) args=(-i 1 --breakdown) ;;
	esac
	if [ "$mode" != none ]; then
		start_tool "$mode" run "${args[@]}" || return 1
		sleep 0.5
		s0=$(cost_snap $TPID)
		b0=$(cost_bpf $TPID '^nc_sample$')
		[ "$mode" = default ] && prog_snap $TPID > "$TMP/progs0"
	fi
	c0=$(ctxt)
	g=$(iperf "$SECS")
	c1=$(ctxt)
	if [ "$mode" != none ] && [ -z "$g" ]; then
		# iperf3 failed: a run without the load says nothing of its cost
		stop_tool $TPID
		return 1
	fi
	if [ "$mode" != none ]; then
		s1=$(cost_snap $TPID)
		b1=$(cost_bpf $TPID '^nc_sample$')
		[ "$mode" = default ] && prog_snap $TPID > "$TMP/progs1"
		stop_tool $TPID
		set -- $b0 $b1
		cost_vals "$s0" "$s1" $(($4 - $2)) >> "$TMP/$mode.cost"
		[ "$mode" = breakdown ] &&
			awk -v s0="$s0" -v s1="$s1" -v ns=$(($3 - $1)) -v runs=$(($4 - $2)) \
			    -v n="$COST_NCPUS" 'BEGIN { split(s0, a, " "); split(s1, b, " ");
				el = (b[1] - a[1]) / 1e9;
				printf "%.4f %.0f %.0f\n", 100 * ns / (el * 1e9 * n),
				       runs ? ns / runs : 0, runs / el }' >> "$TMP/$mode.sampler"
	fi
	[ -n "$g" ] && echo "$g" >> "$TMP/$mode.tput"
	[ -n "$g" ] && echo $(((${c1%% *} - ${c0%% *}) * 1000000000 / (${c1##* } - ${c0##* }))) \
		>> "$TMP/$mode.ctxt"
	[ -n "$g" ]
}

# ctxt: "context switches since boot, now in ns" (/proc/stat's ctxt line)
ctxt()
{
	echo "$(awk '$1 == "ctxt" { print $2 }' /proc/stat) $(date +%s%N)"
}

# col FILE N: "median min max count" of column N of FILE; med: the median
col()
{
	awk -v c="$2" '{ print $c }' "$1" | cost_median
}

med()
{
	col "$1" "$2" | awk '{ print $1 }'
}

modes="default breakdown"
[ -n "$SOFTIRQS" ] && modes="$modes softirqs"
if cost_irq_calibrate; then
	echo "# sampling timer: one cpu-clock interrupt costs $COST_IRQ_NS ns of a busy CPU" \
	     "(cost_irq_calibrate)"
else
	echo "# sampling timer: not calibrated (needs perf, python3, taskset): timer=0"
fi
echo "# netcost bench: iperf3 TCP over veth, $REPEATS x ${SECS}s per configuration," \
     "$(nproc) CPUs, $("$NETCOST" -d 0.1 2>&1 >/dev/null | grep -o 'backend [a-z]*')"

# Every run with a tool sits between two baseline runs, and its ratio is
# taken against their mean: the load other users put on the machine drifts
# over minutes, and a median of ratios of neighbours follows it where a
# ratio of medians does not.
nb=0
last_tput()
{
	[ -s "$TMP/$1.tput" ] && [ "$(wc -l < "$TMP/$1.tput")" -eq "$2" ] && tail -1 "$TMP/$1.tput"
	return 0
}
run_with none && nb=$((nb + 1))
lines()
{
	cat "$TMP/$1.cost" 2>/dev/null | wc -l
}
for ((i = 0; i < REPEATS; i++)); do
	nd=$(lines default)
	ns=$(lines softirqs)
	for m in $modes; do
		before=$(last_tput none $nb)
		n0=$(cat "$TMP/$m.tput" 2>/dev/null | wc -l)
		run_with $m
		w=$(last_tput $m $((n0 + 1)))
		run_with none && nb=$((nb + 1))
		after=$(last_tput none $nb)
		[ -n "$before" ] && [ -n "$after" ] && [ -n "$w" ] &&
			awk -v w="$w" -v a="$before" -v b="$after" \
				'BEGIN { if (a + b > 0) print 2 * w / (a + b) }' >> "$TMP/$m.ratio"
	done
	# default and softirqs of one repeat ran minutes apart at most, under
	# about the same load: their ratio, per repeat
	[ "$(lines default)" = $((nd + 1)) ] && [ "$(lines softirqs)" = $((ns + 1)) ] &&
		awk -v a="$(tail -1 "$TMP/default.cost" | awk '{ print $5 }')" \
		    -v b="$(tail -1 "$TMP/softirqs.cost" | awk '{ print $5 }')" \
			'BEGIN { if (b > 0) print a / b }' >> "$TMP/pair.ratio"
done

base=$(cost_median < "$TMP/none.tput" | awk '{ print $1 }')
for m in $modes; do
	[ -s "$TMP/$m.cost" ] || { echo "# $m: skipped (no run completed)"; continue; }
	read -r tot lo hi n < <(col "$TMP/$m.cost" 5)
	echo "$tot" > "$TMP/$m.total"
	printf "netcost_exact_cost mode=%s bpf=%.3f%% user=%.3f%% timer=%.3f%% total=%.3f%%" \
	       "$m" "$(med "$TMP/$m.cost" 1)" "$(med "$TMP/$m.cost" 2)" \
	       "$(med "$TMP/$m.cost" 4)" "$tot"
	printf " (%.3f-%.3f%%, median of %d; bpf %.0f ns/run, %.0f runs/s;" "$lo" "$hi" "$n" \
	       "$(med "$TMP/$m.cost" 6)" "$(med "$TMP/$m.cost" 7)"
	printf " %.0f context switches/s)\n" "$(med "$TMP/$m.ctxt" 1)"
	if [ -s "$TMP/$m.ratio" ]; then
		read -r r lo hi n < <(cost_median < "$TMP/$m.ratio")
		read -r t _ _ _ < <(cost_median < "$TMP/$m.tput")
		printf "netcost_throughput_ratio mode=%s ratio=%.3f (%.3f-%.3f, %d pairs)" \
		       "$m" "$r" "$lo" "$hi" "$n"
		printf " with=%.2fGbit/s without=%.2fGbit/s\n" "$t" "$base"
	fi
done

if [ -s "$TMP/default.total" ] && [ -s "$TMP/softirqs.total" ]; then
	awk -v a="$(cat "$TMP/default.total")" -v b="$(cat "$TMP/softirqs.total")" 'BEGIN {
		if (b > 0) printf "netcost_vs_softirqs default/softirqs=%.2fx (%.3f%% / %.3f%%, " \
				  "goal <= 1.5x)\n", a / b, a, b }'
	[ -s "$TMP/pair.ratio" ] && read -r r lo hi n < <(cost_median < "$TMP/pair.ratio") &&
		printf "netcost_vs_softirqs_pairs ratio=%.2fx (%.2f-%.2fx, %d repeats, each" \
		       "$r" "$lo" "$hi" "$n" &&
		printf " default against softirqs of the same repeat)\n"
fi

# What --breakdown adds to the default mode: its sampler's BPF (nc_sample),
# its user space above the default mode's (drains, symbols, categories), and
# its timer, which the design needs and which is reported on its own.
if [ -s "$TMP/breakdown.sampler" ] && [ -s "$TMP/default.cost" ]; then
	awk -v sb="$(med "$TMP/breakdown.sampler" 1)" -v sns="$(med "$TMP/breakdown.sampler" 2)" \
	    -v irq="$(med "$TMP/breakdown.sampler" 3)" -v ub="$(med "$TMP/breakdown.cost" 2)" \
	    -v ud="$(med "$TMP/default.cost" 2)" -v tb="$(med "$TMP/breakdown.cost" 4)" \
	    -v irq_ns="${COST_IRQ_NS:-0}" 'BEGIN {
		u = ub - ud; if (u < 0) u = 0;
		printf "netcost_breakdown_adds bpf=%.3f%% user=%.3f%% sum=%.3f%% (goal <= 0.5%%) " \
		       "timer=%.3f%% (nc_sample %.0f ns/run, %.0f interrupts/s at %.1f us)\n",
		       sb, u, sb + u, tb, sns, irq, irq_ns / 1000 }'
fi

# netcost's default mode per program, in its last run.
if [ -s "$TMP/progs0" ] && [ -s "$TMP/progs1" ]; then
	jq -rn --argjson a "$(cat "$TMP/progs0")" --argjson b "$(cat "$TMP/progs1")" \
	       --argjson s "$SECS" '
		$b[] as $x | ($a[] | select(.n == $x.n)) as $y | ($x.c - $y.c) as $c |
		select($c > 0) |
		"netcost_prog \($x.n) ns_per_run=\(($x.t - $y.t) / $c | floor) " +
		"runs_per_s=\($c / $s | floor)"'
fi

# ---- bpf_stats' own share: an empty program's run time per run ----
# FLOOR_NS: the median ns/run of stats_floor's programs over FLOOR_RUNS runs
# of the load; each mode's total is then taken again with FLOOR_NS off each
# of its runs (cost_vals' runs/s, column 7), run by run, and the median.
FLOOR_NS=
if [ -x "$FLOOR" ]; then
	for ((i = 0; i < FLOOR_RUNS; i++)); do
		start_tool floor floor || break
		sleep 0.5
		f0=$(cost_bpf $TPID)
		iperf "$SECS" > /dev/null
		f1=$(cost_bpf $TPID)
		stop_tool $TPID
		set -- $f0 $f1
		[ $(($4 - $2)) -gt 0 ] && echo $((($3 - $1) / ($4 - $2))) >> "$TMP/floor.ns"
	done
	[ -s "$TMP/floor.ns" ] && read -r FLOOR_NS flo fhi fn < <(cost_median < "$TMP/floor.ns")
fi
if [ -n "$FLOOR_NS" ]; then
	printf "netcost_stats_floor ns_per_run=%.0f (%.0f-%.0f, median of %d; empty programs at" \
	       "$FLOOR_NS" "$flo" "$fhi" "$fn"
	printf " softirq_entry/exit: what bpf_stats reports of a run that does nothing)\n"
	for m in $modes; do
		[ -s "$TMP/$m.cost" ] || continue
		awk -v f="$FLOOR_NS" -v n="$COST_NCPUS" \
			'{ print $5 - f * $7 / (1e7 * n) }' "$TMP/$m.cost" | cost_median > "$TMP/$m.less"
	done
	if [ -s "$TMP/default.less" ] && [ -s "$TMP/softirqs.less" ]; then
		read -r a _ _ _ < "$TMP/default.less"
		read -r b _ _ _ < "$TMP/softirqs.less"
		awk -v a="$a" -v b="$b" -v f="$FLOOR_NS" 'BEGIN {
			if (b > 0) printf "netcost_vs_softirqs_less_floor default/softirqs=%.2fx " \
				"(%.3f%% / %.3f%%: each total less %.0f ns per program run)\n",
				a / b, a, b, f }'
	fi
else
	echo "# stats floor: skipped (selftests/bench/stats_floor not built or did not attach)"
fi

# ---- accuracy: NET_RX against softirqs, over the same window ----
if [ -n "$SOFTIRQS" ] && start_tool default acc -i 100; then
	ncpid=$TPID
	if start_tool softirqs si; then
		iperf "$SECS" > /dev/null
		stop_tool $TPID
		stop_tool $ncpid
		nc_rx=$(jq -r 'select(.type == "total" and .average) | .net_rx_ns' "$TMP/acc.out")
		si_rx=$(awk '$1 == "net_rx" { print $2 }' "$TMP/si.out")
		awk -v a="$nc_rx" -v b="$si_rx" 'BEGIN {
			if (b > 0) printf "netcost_accuracy_net_rx ratio=%.3f netcost=%.1fms " \
				"softirqs=%.1fms (same window)\n", a / b, a / 1e6, b / 1e6;
			else print "# accuracy: softirqs reported no net_rx time" }'
	else
		stop_tool $ncpid
	fi
fi

# ---- accuracy: the breakdown at 99 Hz against 1 kHz, same load ----
# Both instances sample the same ACC_SECS of iperf3; for each category the
# gap between its two whole-run shares (points of all samples) is set
# against the 95% error of the 99 Hz share that netcost reports with it.
for ((i = 1; i <= ACC_RUNS; i++)); do
	start_tool breakdown b99 -i 100 --breakdown || continue
	p99=$TPID
	start_tool breakdown b1k -i 100 --breakdown --freq 1000 || { stop_tool $p99; continue; }
	p1k=$TPID
	iperf "$ACC_SECS" > /dev/null
	stop_tool $p1k
	stop_tool $p99
	jq -s -r --slurpfile k "$TMP/b1k.out" --arg run "$i" --arg secs "$ACC_SECS" '
		[.[] | select(.type == "breakdown" and .average)] as $a |
		[$k[] | select(.type == "breakdown" and .average)] as $b |
		[$a[] as $x | ($b[] | select(.category == $x.category)) as $y |
		 {c: $x.category, d: (($x.pct - $y.pct) | fabs), e: $x.pct_err,
		  ee: ((($x.pct_err * $x.pct_err) + ($y.pct_err * $y.pct_err)) | sqrt)}] as $d |
		($d | max_by(.d)) as $m |
		"netcost_breakdown_99hz_vs_1khz run=\($run) secs=\($secs) " +
		"samples=\($a[0].samples_total)/\($b[0].samples_total) " +
		"max_gap=\($m.d * 100 | round / 100)pts (\($m.c), 99 Hz error " +
		"+-\($m.e * 100 | round / 100)) within_error=" +
		"\([$d[] | select(.d <= .ee)] | length)/\($d | length) " +
		"mean_gap=\(([$d[].d] | add) / ($d | length) * 100 | round / 100)pts"' \
		"$TMP/b99.out"
done
exit 0
