#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# netcost.sh - what netcost costs and how exact it is, against baselines
# measured in the same run. iperf3 TCP over a veth pair between two
# namespaces; medians of REPEATS runs of SECS seconds, configurations
# interleaved so that drift hits them all alike.
#
#  1. throughput with netcost / without (each run against the mean of the
#     baseline runs just before and after it, median of those ratios, with
#     their range): default mode, --breakdown at 1 kHz
#     with the mmapable array, and with the ring buffer (the seed's
#     comparison), and, as a control, --breakdown --sampler none: the same
#     cpu-clock events at 1 kHz whose program stops at its context check,
#     i.e. what the sampling timer's interrupts cost by themselves;
#     netcost's own user-space CPU beside each;
#  2. accuracy: NET_RX time by netcost vs libbpf-tools' softirqs (an
#     independent tp_btf softirq timer) over the same window;
#  3. cost: ns per BPF program run and % of the machine, from
#     kernel.bpf_stats_enabled run-time counters, and user-space CPU from
#     /proc/PID/schedstat, for netcost and for softirqs; then for the
#     sampler alone (nc_sample: stack walk and store, per sample).
# Never fails: a missing tool or a failed run prints a "# skipped" line.

source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cost.sh"

NETCOST=${NETCOST:-$TOP_DIR/netcost/netcost}
REPEATS=${REPEATS:-3}
SECS=${SECS:-5}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -x "$NETCOST" ] || ! command -v iperf3 >/dev/null ||
   ! command -v bpftool >/dev/null || ! command -v jq >/dev/null; then
	echo "# netcost bench skipped: needs root, netcost built, iperf3, bpftool, jq"
	exit 0
fi

TMP=$(mktemp -d /tmp/bench_netcost.XXXXXX)
on_cleanup "rm -rf $TMP"
setup_ns cli srv || exit 0
add_veth "$cli" ncbc$$ "$srv" ncbs$$ || exit 0
add_addrs "$cli" ncbc$$ 1 1
add_addrs "$srv" ncbs$$ 1 2
SRV=$(addr4 1 2)
wait_until 5 ip netns exec "$cli" ping -c1 -W1 "$SRV" >/dev/null || exit 0

median()
{
	sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR == 0)
				print 0
			else if (NR % 2)
				print v[(NR + 1) / 2]
			else
				print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# iperf3 SECS seconds, prints Gbit/s received.
iperf()
{
	local port=$((5300 + RANDOM % 200)) spid

	ip netns exec "$srv" iperf3 -s -1 -p $port >/dev/null 2>&1 &
	spid=$!
	wait_listen 5 "$srv" $port || return 1
	ip netns exec "$cli" iperf3 -c "$SRV" -p $port -t "$SECS" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e9'
	wait $spid
}

# run_with MODE: one iperf3 run with netcost in MODE ("none" for baseline);
# appends Gbit/s to $TMP/MODE.tput and netcost's self_pct to $TMP/MODE.self.
run_with()
{
	local mode=$1 args=() pid g

	case $mode in
	none) ;;
	default) args=() ;;
	timer) args=(--breakdown --freq 1000 --sampler none) ;;
	array) args=(--breakdown --freq 1000 --sampler array) ;;
	ringbuf) args=(--breakdown --freq 1000 --sampler ringbuf) ;;
	esac
	if [ "$mode" != none ]; then
		"$NETCOST" -j -i 100 "${args[@]}" > "$TMP/nc.json" 2> "$TMP/nc.err" &
		pid=$!
		wait_for_file 20 "$TMP/nc.err" "^netcost: ready$" || { kill -9 $pid; return 1; }
	fi
	g=$(iperf)
	if [ "$mode" != none ]; then
		kill -INT $pid
		wait $pid
		jq -r 'select(.type == "total" and .average) | .self_pct' \
			"$TMP/nc.json" >> "$TMP/$mode.self"
	fi
	[ -n "$g" ] && echo "$g" >> "$TMP/$mode.tput"
}

echo "# netcost bench: iperf3 TCP over veth, $REPEATS x ${SECS}s per configuration"
echo "# backend: $("$NETCOST" -d 0.1 2>&1 >/dev/null | grep -o 'backend .*')"
# last_tput MODE: the last throughput recorded for MODE, "" if that run failed
last_tput()
{
	[ -s "$TMP/$1.tput" ] && [ "$(wc -l < "$TMP/$1.tput")" -eq "$2" ] && tail -1 "$TMP/$1.tput"
	return 0
}

# Every run with netcost sits between two baseline runs, and its ratio is
# taken against their mean: the load other users put on the machine drifts
# over minutes, and a median of ratios of neighbours follows it where a
# ratio of medians does not.
modes="default timer array ringbuf"
nb=0
run_with none && nb=$((nb + 1))
for ((i = 0; i < REPEATS; i++)); do
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
done
base=$(median < "$TMP/none.tput")
for m in $modes; do
	[ -s "$TMP/$m.ratio" ] || { echo "# $m: skipped (no run completed)"; continue; }
	r=$(median < "$TMP/$m.ratio")
	t=$(median < "$TMP/$m.tput")
	s=$(median < "$TMP/$m.self")
	awk -v m=$m -v r="$r" -v t="$t" -v b="$base" -v s="$s" \
	    -v lo="$(sort -g "$TMP/$m.ratio" | head -1)" -v hi="$(sort -g "$TMP/$m.ratio" | tail -1)" \
	    'BEGIN {
		printf "netcost_throughput_ratio mode=%s ratio=%.3f (%.3f-%.3f) with=%.2fGbit/s " \
		       "without=%.2fGbit/s netcost_user_cpu=%.2f%%\n", m, r, lo, hi, t, b, s }'
done

# ---- accuracy and cost, with kernel BPF run-time stats on ----

old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
on_cleanup "sysctl -qw kernel.bpf_stats_enabled=$old_stats"
sysctl -qw kernel.bpf_stats_enabled=1

# prog_stats REGEX: "run_time_ns run_cnt" summed over the programs whose name
# matches (netcost's are all nc_*, softirqs' softirq_entry*/softirq_exit*).
prog_stats()
{
	bpftool -j prog show 2>/dev/null | jq -r --arg re "$1" '
		[.[] | select(.name != null and (.name | test($re)))] |
		"\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

schedstat_ns()
{
	awk '{ print $1 }' "/proc/$1/schedstat" 2>/dev/null || echo 0
}

if ! command -v softirqs >/dev/null; then
	echo "# accuracy vs softirqs: skipped (libbpf-tools not installed: make deps)"
	softirqs_ok=0
else
	softirqs_ok=1
fi

dur=$((SECS + 4))
"$NETCOST" -j -i 100 -d $dur > "$TMP/acc.json" 2> "$TMP/acc.err" &
ncpid=$!
if [ $softirqs_ok = 1 ]; then
	softirqs -N $dur 1 > "$TMP/softirqs.out" 2>&1 &
	sipid=$!
fi
wait_for_file 20 "$TMP/acc.err" "^netcost: ready$" || true
sleep 1
nc0=$(prog_stats '^nc_')
ncs0=$(schedstat_ns $ncpid)
if [ $softirqs_ok = 1 ]; then
	si0=$(prog_stats '^softirq_(entry|exit)')
	sis0=$(schedstat_ns $sipid)
fi
t0=$(date +%s%N)
iperf > "$TMP/acc.tput"
t1=$(date +%s%N)
nc1=$(prog_stats '^nc_')
ncs1=$(schedstat_ns $ncpid)
if [ $softirqs_ok = 1 ]; then
	si1=$(prog_stats '^softirq_(entry|exit)')
	sis1=$(schedstat_ns $sipid)
fi
wait $ncpid
[ $softirqs_ok = 1 ] && wait $sipid
ncpus=$(nproc)

nc_rx=$(jq -r 'select(.type == "total" and .average) | .net_rx_ns' "$TMP/acc.json")
if [ $softirqs_ok = 1 ]; then
	si_rx=$(awk '$1 == "net_rx" { print $2 }' "$TMP/softirqs.out")
	awk -v a="$nc_rx" -v b="$si_rx" 'BEGIN {
		if (b > 0) printf "netcost_accuracy_net_rx ratio=%.3f netcost=%.1fms " \
			"softirqs=%.1fms (same %ss window)\n", a / b, a / 1e6, b / 1e6, '"$dur"';
		else print "# accuracy: softirqs reported no net_rx time" }'
fi

# cost LABEL "ns0 cnt0" "ns1 cnt1" sched0 sched1
cost()
{
	awk -v l="$1" -v s0="$2" -v s1="$3" -v u0="$4" -v u1="$5" -v el=$((t1 - t0)) \
	    -v n="$ncpus" 'BEGIN {
		split(s0, a, " "); split(s1, b, " ");
		runs = b[2] - a[2]; ns = b[1] - a[1];
		printf "%s_cost bpf_ns_per_run=%.0f bpf_runs_per_s=%.0f bpf_machine=%.3f%% " \
		       "user_cpu=%.3f%% (%d CPUs, %.1fs of iperf3)\n", l,
		       runs ? ns / runs : 0, runs / (el / 1e9), 100 * ns / (el * n),
		       100 * (u1 - u0) / el, n, el / 1e9 }'
}
cost netcost "$nc0" "$nc1" "$ncs0" "$ncs1"
[ $softirqs_ok = 1 ] && cost softirqs "$si0" "$si1" "$sis0" "$sis1"

# The sampler: --breakdown at 1 kHz with the array, nc_sample alone, and
# netcost's user-space CPU (drain, symbols, categories) in that run.
"$NETCOST" -j -i 100 -d $dur --breakdown --freq 1000 > "$TMP/bd.json" 2> "$TMP/bd.err" &
ncpid=$!
if wait_for_file 20 "$TMP/bd.err" "^netcost: ready$"; then
	sleep 1
	nc0=$(prog_stats '^nc_sample$')
	ncs0=$(schedstat_ns $ncpid)
	t0=$(date +%s%N)
	iperf > /dev/null
	t1=$(date +%s%N)
	nc1=$(prog_stats '^nc_sample$')
	ncs1=$(schedstat_ns $ncpid)
	cost netcost_sampler "$nc0" "$nc1" "$ncs0" "$ncs1"
else
	echo "# sampler cost: skipped (netcost --breakdown did not start)"
fi
wait $ncpid
echo "# netcost default mode: the figures above are with bpf_stats on, which itself" \
     "adds two clock reads per program run"

# ---- the sampling timer: what one cpu-clock interrupt costs this machine ----
# A loop pinned to CPU 0 reads the clock and notes every gap between 2 and
# 100 us (an interrupt; longer ones are other work scheduled there): without
# netcost, then with only its sampling timer (--sampler none) on CPU 0 at
# 10 kHz, so that its interrupts stand out from the machine's own.


freq=$(sysctl -n kernel.perf_event_max_sample_rate 2>/dev/null || echo 10000)
[ "$freq" -gt 10000 ] && freq=10000
if command -v taskset >/dev/null && command -v python3 >/dev/null; then
	g0=$(cost_gaps 3)
	"$NETCOST" -i 100 --breakdown --sampler none --freq "$freq" -c 0 > /dev/null \
		2> "$TMP/timer.err" &
	ncpid=$!
	if wait_for_file 20 "$TMP/timer.err" "^netcost: ready$"; then
		g1=$(cost_gaps 3)
		awk -v a="$g0" -v b="$g1" -v f="$freq" 'BEGIN {
			split(a, x, " "); split(b, y, " "); n = y[1] - x[1]; ns = y[2] - x[2];
			if (n > 0)
				printf "sampling_timer_cost us_per_interrupt=%.1f extra_interrupts_per_s=%.0f " \
				       "(cpu-clock at %d Hz on cpu 0) at_1kHz=%.2f%% of a CPU\n",
				       ns / n / 1000, n / 3, f, 100 * 1000 * (ns / n) / 1e9
			else
				print "# sampling timer cost: no extra gaps seen" }'
	else
		echo "# sampling timer cost: skipped (netcost did not start)"
	fi
	kill -INT $ncpid 2>/dev/null
	wait $ncpid
fi
exit 0
