#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# netcost.sh - what netcost costs and how exact it is, against baselines
# measured in the same run. iperf3 TCP over a veth pair between two
# namespaces; medians of REPEATS runs of SECS seconds, configurations
# interleaved so that drift hits them all alike.
#
#  1. throughput with netcost / without: default mode, --breakdown at 1 kHz
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
		wait_for_file 20 "$TMP/nc.err" "links attached" || { kill -9 $pid; return 1; }
	fi
	g=$(iperf)
	if [ "$mode" != none ]; then
		kill -INT $pid
		wait $pid
		jq -r 'select(.type == "cpu" and .cpu == "all" and .average) | .self_pct' \
			"$TMP/nc.json" >> "$TMP/$mode.self"
	fi
	[ -n "$g" ] && echo "$g" >> "$TMP/$mode.tput"
}

echo "# netcost bench: iperf3 TCP over veth, $REPEATS x ${SECS}s per configuration"
echo "# backend: $("$NETCOST" -d 0.1 2>&1 >/dev/null | grep -o 'backend .*')"
modes="none default timer array ringbuf"
for ((i = 0; i < REPEATS; i++)); do
	for m in $modes; do
		run_with $m
	done
done
base=$(median < "$TMP/none.tput")
for m in default timer array ringbuf; do
	[ -s "$TMP/$m.tput" ] || { echo "# $m: skipped (no run completed)"; continue; }
	t=$(median < "$TMP/$m.tput")
	s=$(median < "$TMP/$m.self")
	awk -v m=$m -v t="$t" -v b="$base" -v s="$s" 'BEGIN {
		printf "netcost_throughput_ratio mode=%s ratio=%.3f with=%.2fGbit/s " \
		       "without=%.2fGbit/s netcost_user_cpu=%.2f%%\n", m, b ? t / b : 0, t, b, s }'
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
wait_for_file 20 "$TMP/acc.err" "links attached" || true
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

nc_rx=$(jq -r 'select(.type == "cpu" and .cpu == "all" and .average) | .net_rx_ns' "$TMP/acc.json")
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
if wait_for_file 20 "$TMP/bd.err" "links attached"; then
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
exit 0
