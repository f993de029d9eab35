#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tracer.sh - what tracer costs. iperf3 TCP from cli through a bridge in mid
# to srv (three namespaces, two veth pairs), 8 points along the way:
# tx/txq at cli, rxq/rx at the bridge port, txq/tx out of the bridge, rxq/rx
# at srv. Each repeat runs every configuration once, in order, each against
# the baseline of the same repeat; medians of REPEATS ratios with their range:
#   summary      tracer, counting only (the default: no per-flow counting)
#   summary-top5 tracer --top 5 (per-flow counting: each point's top 5 flows)
#   events       tracer --events (JSON to a file): every packet at every point
#   sample100    tracer --events --sample 1/100
#   tcpdump      tcpdump -w on srv's veth (the peer figure: 0.64 here before)
# and, only when CFGS names them, the floor of any tracer on these
# tracepoints: builds of tracer (made here, in $TMP) whose hook programs
# stop at once (floor-empty), after the point match (floor-match) or after
# parsing the packet id (floor-parse), with the same 8 points.
# CFGS="summary events" runs only those. Beside them: events written and lost
# (tracer's summary), BPF ns per program run (kernel.bpf_stats_enabled, in
# one extra run per configuration: the pairs run without it; tracer's programs
# only) and the tool's CPU during the iperf3 run (% of one CPU; TRACER=PATH
# measures another build).
# Never fails: a missing tool or a failed run prints a "# skipped" line.

source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/cost.sh"

TRACER=${TRACER:-$TOP_DIR/tracer/tracer}
REPEATS=${REPEATS:-9}
SECS=${SECS:-3}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -x "$TRACER" ] || ! command -v iperf3 >/dev/null ||
   ! command -v bpftool >/dev/null || ! command -v python3 >/dev/null; then
	echo "# tracer bench skipped: needs root, tracer built, iperf3, bpftool, python3"
	exit 0
fi
make_tmp bench_tracer
setup_ns cli mid srv || exit 0
ip link add c0 netns "$cli" type veth peer name m0 netns "$mid" &&
	ip link add m1 netns "$mid" type veth peer name s0 netns "$srv" || exit 0
add_bridge "$mid" br0
for i in m0 m1; do add_port "$mid" br0 $i; done
nsip "$cli" link set c0 up
nsip "$srv" link set s0 up
nsip "$cli" addr add 198.18.30.1/24 dev c0
nsip "$srv" addr add 198.18.30.2/24 dev s0
wait_until 5 nsexec "$cli" ping -c1 -W1 198.18.30.2 >/dev/null || exit 0
nsexec "$srv" iperf3 -s -p 5201 -D >/dev/null 2>&1
wait_listen 5 "$srv" 5201 || exit 0

POINTS="-p a=txq@c0%$cli -p b=tx@c0%$cli -p c=rxq@m0%$mid -p d=rx@m0%$mid"
POINTS="$POINTS -p e=txq@m1%$mid -p f=tx@m1%$mid -p g=rxq@s0%$srv -p h=rx@s0%$srv"

# iperf3 for SECS seconds: received Gbit/s.
iperf()
{
	nsexec "$cli" iperf3 -c 198.18.30.2 -p 5201 -t "$SECS" -J 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)' 2>/dev/null || echo 0
}


# run_cfg NAME: one measured iperf3 run under configuration NAME; prints
# "gbps events lost bpf_ns runs cpu_ns" (cpu_ns: the tool's CPU time during
# the iperf3 run only, not its start: loading and verifying are not the cost
# per packet).
run_cfg()
{
	local pid=0 g st=(0 0) cpu=0 ev=0 lost=0

	case $1 in
	base) ;;
	tcpdump)
		ip netns exec "$srv" tcpdump -i s0 -w "$TMP/cap.pcap" -s 128 >/dev/null 2>&1 & pid=$!
		sleep 1 ;;
	*)
		local args=() bin=$TRACER

		case $1 in
		summary-top5) args=(--top 5) ;;
		events) args=(-e) ;;
		sample100) args=(-e --sample 1/100) ;;
		floor-*) bin=$TMP/$1/tracer/tracer ;;
		esac
		# shellcheck disable=SC2086
		"$bin" -j -i 1 $POINTS "${args[@]}" >"$TMP/t.out" 2>"$TMP/t.err" & pid=$!
		wait_until 20 grep -q 'ready' "$TMP/t.err" || { kill $pid; echo "0 0 0 0 0 0"; return; }
		;;
	esac
	[ "$pid" != 0 ] && cpu=$(cost_user $pid)
	g=$(iperf)
	if [ "$pid" != 0 ]; then
		[ "$1" != tcpdump ] && read -r -a st < <(cost_bpf $pid)
		cpu=$(($(cost_user $pid) - cpu))
		kill -INT $pid
		wait $pid 2>/dev/null
		if [ "$1" != tcpdump ]; then
			ev=$(grep -c '"type":"event"' "$TMP/t.out")
			lost=$(grep '"type":"summary"' "$TMP/t.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lost"])' 2>/dev/null || echo -1)
		fi
		rm -f "$TMP/cap.pcap" "$TMP/t.out"
	fi
	echo "$g $ev $lost ${st[0]} ${st[1]} $cpu"
}

read -r -a want <<<"${CFGS:-summary summary-top5 events sample100 tcpdump}"
# the floor builds: this tree's tracer with TR_BENCH_STOP (tracer.bpf.c), in
# $TMP only, without the make variables of a calling make (SAN=1 and such)
CFGS=()
for c in "${want[@]}"; do
	case $c in
	floor-empty) n=1 ;;
	floor-match) n=2 ;;
	floor-parse) n=3 ;;
	*) CFGS+=("$c"); continue ;;
	esac
	if env -u MAKEFLAGS -u MAKELEVEL make -s -C "$TOP_DIR" OUTPUT="$TMP/$c/.o" \
	   BIN_DIR="$TMP/$c/" BPF_EXTRA_CFLAGS=-DTR_BENCH_STOP=$n "$TMP/$c/tracer/tracer" \
	   >"$TMP/$c.log" 2>&1; then
		CFGS+=("$c")
	else
		echo "# skipped $c: its build failed: $(tail -1 "$TMP/$c.log")"
	fi
done
cost_init	# the old bpf_stats value restored at cleanup
# The throughput pairs run without bpf_stats: its accounting (two clock reads
# per program run, 8 points per packet) is not tracer's cost. BPF ns per run
# comes from one more run of each configuration with bpf_stats on.
sysctl -qw kernel.bpf_stats_enabled=0
for ((r = 0; r < REPEATS; r++)); do
	base=$(run_cfg base)
	echo "base $base" >>"$TMP/runs"
	for c in "${CFGS[@]}"; do
		echo "$c $(run_cfg "$c") ${base%% *}" >>"$TMP/runs"
	done
done
sysctl -qw kernel.bpf_stats_enabled=1
for c in "${CFGS[@]}"; do
	echo "cost-$c $(run_cfg "$c") 0" >>"$TMP/runs"
done
python3 - "$TMP/runs" "$SECS" <<'EOF'
import sys, statistics as st
runs = [l.split() for l in open(sys.argv[1])]
secs = float(sys.argv[2])
base = [float(r[1]) for r in runs if r[0] == "base"]
print("tracer bench: iperf3 TCP cli -> bridge -> srv, 8 points, %d repeats of %g s; "
      "baseline median %.2f Gbit/s (%.2f-%.2f)" % (len(base), secs, st.median(base),
                                                min(base), max(base)))
for c in ["summary", "summary-top5", "events", "sample100", "tcpdump", "floor-empty",
          "floor-match", "floor-parse"]:
    rs = [r for r in runs if r[0] == c]
    if not rs:
        continue
    ratio = [float(r[1]) / float(r[7]) for r in rs if float(r[7]) > 0]
    ev = [int(r[2]) for r in rs]
    lost = [int(r[3]) for r in rs]
    cs = [r for r in runs if r[0] == "cost-" + c]
    ns = sum(int(r[4]) for r in cs) / max(1, sum(int(r[5]) for r in cs))
    cpu = st.median(int(r[6]) for r in rs) / 1e9 / secs * 100
    print("%-13s %.3f of baseline (%.3f-%.3f), %.2f Gbit/s; events %d/s, lost %d; "
          "BPF %.0f ns/run; tool CPU %.1f %%" % (c, st.median(ratio), min(ratio), max(ratio),
          st.median(float(r[1]) for r in rs), st.median(ev) / secs, sum(lost), ns, cpu))
EOF
exit 0
