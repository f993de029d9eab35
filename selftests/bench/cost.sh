# SPDX-License-Identifier: GPL-2.0
#
# cost.sh - the exact cost of a tool, as % of the machine, for every
# benchmark (source it after lib.sh). Throughput ratios on this VM move by
# 10-15 % between identical runs; these figures do not depend on the load's
# luck, only on what the tool's own instance did:
#   bpf      run time of the BPF programs this process holds (kernel.bpf_stats_enabled;
#            programs found through the process's own fds and links, never by name)
#   user     the process's CPU time, all threads (/proc/PID/task/*/schedstat)
#   kthreads kernel threads it causes, by name pattern, kernel threads only
#            (e.g. rss's cpumap/N/map:M)
#   timer    interrupts it arms (a sampling timer): their count times the cost
#            of one, measured once per run by cost_irq_calibrate
#
#   cost_init                     bpf_stats on (restored at cleanup)
#   cost_snap PID [KTHREAD_ERE]   one line: "t_ns bpf_ns bpf_runs user_ns kthread_ns"
#   cost_runs PID PROG_ERE        run count of the process's programs named PROG_ERE
#   cost_irq_calibrate            COST_IRQ_NS: ns one timer interrupt takes from a busy CPU
#   cost_line LABEL SNAP0 SNAP1 [IRQS]
#                                 "LABEL_cost bpf=..% user=..% kthreads=..% timer=..% total=..%"
#   cost_vals SNAP0 SNAP1 [IRQS]  the same figures as bare numbers, for medians:
#                                 "bpf% user% kthreads% timer% total% bpf_ns/run runs/s"

COST_NCPUS=$(nproc)
COST_IRQ_NS=

cost_init()
{
	local old

	old=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
	on_cleanup "sysctl -qw kernel.bpf_stats_enabled=$old"
	sysctl -qw kernel.bpf_stats_enabled=1
}

# Programs PID holds, directly or through links (their fdinfo names prog_id),
# as a JSON array of ids.
cost_prog_ids()
{
	prog_ids "$1" | jq -sc '.'
}

# "run_time_ns run_cnt" summed over the programs PID holds, optionally only
# those whose name matches $2.
cost_bpf()
{
	bpftool -j prog show 2>/dev/null | jq -r --argjson ids "$(cost_prog_ids "$1")" \
		--arg re "${2:-.}" '
		[.[] | select(.id as $id | $ids | index($id)) |
		 select((.name // "") | test($re))] |
		"\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

cost_runs()
{
	cost_bpf "$1" "$2" | awk '{ print $2 }'
}

# CPU time of every thread of PID, in ns.
cost_user()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# CPU time of the kernel threads whose name matches ERE (PF_KTHREAD only: a
# user process can take any name).
cost_kthreads()
{
	local ere=$1 p comm flags s=0

	[ -z "$ere" ] && { echo 0; return; }
	for p in /proc/[0-9]*; do
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		[[ "$comm" =~ $ere ]] || continue
		flags=$(awk '{ print $9 }' "$p/stat" 2>/dev/null) || continue
		(( flags & 0x00200000 )) || continue
		s=$((s + $(awk '{ print $1 }' "$p/schedstat" 2>/dev/null || echo 0)))
	done
	echo "$s"
}

cost_snap()
{
	echo "$(date +%s%N) $(cost_bpf "$1") $(cost_user "$1") $(cost_kthreads "${2:-}")"
}

# gaps SECONDS: "count total_ns" of the 2-100 us gaps a loop pinned to CPU 0
# sees in its own run (each an interrupt; longer ones are other work).
cost_gaps()
{
	taskset -c 0 python3 -c '
import sys, time
clk = time.perf_counter_ns
end = clk() + int(sys.argv[1]) * 10**9
n = lost = 0
t = clk()
while t < end:
    t2 = clk()
    d = t2 - t
    if 2000 < d < 100000:
        n += 1
        lost += d
    t = t2
print(n, lost)' "$1"
}

# What one cpu-clock sampling interrupt costs a busy CPU here: the gaps with
# a 10 kHz cpu-clock perf timer on CPU 0 (perf record, into /dev/null) minus
# without.
cost_irq_calibrate()
{
	local g0 g1 pid

	COST_IRQ_NS=
	command -v perf >/dev/null && command -v python3 >/dev/null || return 1
	g0=$(cost_gaps 3)
	perf record -e cpu-clock -F 10000 -C 0 -o /dev/null -q -- sleep 4 >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	g1=$(cost_gaps 3)
	wait "$pid" 2>/dev/null
	COST_IRQ_NS=$(awk -v a="$g0" -v b="$g1" 'BEGIN {
		split(a, x, " "); split(b, y, " "); n = y[1] - x[1];
		if (n > 1000) printf "%.0f", (y[2] - x[2]) / n }')
	[ -n "$COST_IRQ_NS" ]
}

# cost_line LABEL "SNAP0" "SNAP1" [IRQS]: the % of the machine (all CPUs) each
# part took between the two snapshots; IRQS timer interrupts at COST_IRQ_NS.
cost_line()
{
	awk -v l="$1" -v s0="$2" -v s1="$3" -v irqs="${4:-0}" -v irq_ns="${COST_IRQ_NS:-0}" \
	    -v n="$COST_NCPUS" 'BEGIN {
		split(s0, a, " "); split(s1, b, " ");
		el = (b[1] - a[1]) * n;
		if (el <= 0) { print "# " l ": no time between snapshots"; exit }
		bpf = b[2] - a[2]; runs = b[3] - a[3]; usr = b[4] - a[4]; kt = b[5] - a[5];
		tim = irqs * irq_ns;
		printf "%s_cost bpf=%.3f%% user=%.3f%% kthreads=%.3f%% timer=%.3f%% total=%.3f%% " \
		       "(bpf %.0f ns/run, %.0f runs/s; %d CPUs, %.1fs", l,
		       100 * bpf / el, 100 * usr / el, 100 * kt / el, 100 * tim / el,
		       100 * (bpf + usr + kt + tim) / el, runs ? bpf / runs : 0,
		       runs / ((b[1] - a[1]) / 1e9), n, (b[1] - a[1]) / 1e9;
		if (irqs)
			printf "; %d timer interrupts at %.1f us", irqs, irq_ns / 1000;
		print ")" }'
}

# cost_vals "SNAP0" "SNAP1" [IRQS]: cost_line's figures, numbers only.
cost_vals()
{
	awk -v s0="$1" -v s1="$2" -v irqs="${3:-0}" -v irq_ns="${COST_IRQ_NS:-0}" \
	    -v n="$COST_NCPUS" 'BEGIN {
		split(s0, a, " "); split(s1, b, " ");
		el = (b[1] - a[1]) * n;
		if (el <= 0) exit 1;
		bpf = b[2] - a[2]; runs = b[3] - a[3]; usr = b[4] - a[4]; kt = b[5] - a[5];
		tim = irqs * irq_ns;
		printf "%.4f %.4f %.4f %.4f %.4f %.0f %.0f\n", 100 * bpf / el, 100 * usr / el,
		       100 * kt / el, 100 * tim / el, 100 * (bpf + usr + kt + tim) / el,
		       runs ? bpf / runs : 0, runs / ((b[1] - a[1]) / 1e9) }'
}

# median and spread of the numbers on stdin: "median min max n"
cost_median()
{
	sort -g | awk '{ v[NR] = $1 }
		END {
			if (!NR) { print "nan nan nan 0"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
			print m, v[1], v[NR], NR }'
}
