#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# elephant.sh - what elephant costs and how fast it reports, against
# baselines measured in the same run. A node namespace routes between a
# container (c1, behind a bridge, conntrack zone 1) and a remote namespace:
# test_elephant.sh's topology (elephant_topo.sh) with one container;
# conntrack is on in every run, so the baseline pays for conntrack and the
# ratio is elephant's own cost.
#
#  1. iperf3 TCP throughput c1 -> remote with elephant attached / without,
#     medians of REPEATS (9) interleaved pairs of SECS seconds with their range,
#     and beside it elephant's exact cost as % of the machine (cost.sh: BPF
#     run time of its own programs, its threads' CPU; goal <= 1 %);
#  2. detection latency: how long after the thresholds were crossed the
#     elephant_add was computed (duration_s - --min-duration) and read by a
#     consumer of stdout (goal <= one interval);
#  3. FLOWS short TCP connections (connect, RST) from c1: flows tracked per
#     second and elephant's CPU time (user + system, /proc/PID/stat) for them.
# BACKEND (default auto) picks elephant's backend. Never fails.

source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../elephant_topo.sh"
source "$(dirname "$0")/cost.sh"

EL=$TOP_DIR/elephant/elephant
REPEATS=${REPEATS:-9}
SECS=${SECS:-5}
FLOWS=${FLOWS:-100000}
BACKEND=${BACKEND:-auto}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -x "$EL" ] || ! command -v iperf3 >/dev/null ||
   ! command -v jq >/dev/null || ! command -v python3 >/dev/null; then
	echo "# elephant bench skipped: needs root, elephant built, iperf3, jq, python3"
	exit 0
fi

make_tmp bench_elephant
R4=$(addr4 2 2)

el_topology 1 || exit 0
ip netns exec "$node" sysctl -qw net.netfilter.nf_conntrack_acct=1 \
	net.netfilter.nf_conntrack_max=262144 >/dev/null 2>&1
ip netns exec "$remote" iperf3 -s -D -p 5201 --pidfile "$TMP/iperf3.pid" >/dev/null
on_cleanup "kill \$(cat $TMP/iperf3.pid)"
wait_listen 5 "$remote" 5201 || exit 0

median()
{
	sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ELPID=
el_start()
{
	ip netns exec "$node" "$EL" --backend "$BACKEND" "$@" 2>"$TMP/el.err" |
		while IFS= read -r line; do
			printf '%s %s\n' "$(date +%s.%N)" "$line"
		done >"$TMP/el.out" &
	ELPIPE=$!
	ELPID=
	wait_until 15 grep -q "^elephant: ready$" "$TMP/el.err" || return 1
	ELPID=$(ip netns pids "$node" | while read -r p; do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = elephant ] && echo "$p"; done | head -1)
	on_cleanup "kill -9 $ELPID"
	[ -n "$ELPID" ]
}

el_stop()
{
	[ -n "$ELPID" ] && kill -INT "$ELPID" 2>/dev/null
	wait_until 10 sh -c "! kill -0 $ELPID 2>/dev/null"
	wait "$ELPIPE" 2>/dev/null
	ELPID=
}

# iperf3 SECS seconds c1 -> remote, prints Gbit/s received.
iperf()
{
	ip netns exec "$c1" iperf3 -c "$R4" -p 5201 -t "$SECS" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e9'
}

# ---- 1. throughput, and the exact cost beside it ----
cost_init
for ((r = 0; r < REPEATS; r++)); do
	b=$(iperf)
	if el_start -i 1 -j --min-bytes 10M --min-duration 1s; then
		s0=$(cost_snap "$ELPID")
		w=$(iperf)
		s1=$(cost_snap "$ELPID")
		el_stop
		cost_vals "$s0" "$s1" >>"$TMP/el.cost"
		awk -v b="$b" -v w="$w" 'BEGIN { if (b > 0 && w > 0) print w / b }' \
			>>"$TMP/el.ratio"
		echo "$w" >>"$TMP/el.tput"
	fi
	echo "$b" >>"$TMP/base.tput"
done
base=$(median <"$TMP/base.tput")
with=$(median <"$TMP/el.tput" 2>/dev/null)
backend=$(sed -n 's/.*using the \([a-z]*\) backend.*/\1/p' "$TMP/el.err" | head -1)
if [ -s "$TMP/el.ratio" ]; then
	read -r rm rlo rhi rn < <(cost_median <"$TMP/el.ratio")
	read -r cm clo chi _ < <(awk '{ print $5 }' "$TMP/el.cost" | cost_median)
	read -r bm _ _ _ < <(awk '{ print $1 }' "$TMP/el.cost" | cost_median)
	read -r um _ _ _ < <(awk '{ print $2 }' "$TMP/el.cost" | cost_median)
	read -r nm _ _ _ < <(awk '{ print $6 }' "$TMP/el.cost" | cost_median)
	fmt='elephant: cost (%s) %.3f%% of the machine (range %.3f-%.3f; bpf %.3f%%, '
	fmt+='%.0f ns/run; user %.3f%%; goal <= 1%%) beside iperf3 TCP throughput '
	fmt+='with/without %.3f (range %.3f-%.3f, %d pairs; %.2f / %.2f Gbit/s)\n'
	# shellcheck disable=SC2059
	printf "$fmt" "$backend" "$cm" "$clo" "$chi" "$bm" "$nm" "$um" "$rm" "$rlo" "$rhi" "$rn" \
	       "$with" "$base"
else
	echo "# elephant: throughput: elephant did not start: $(head -1 "$TMP/el.err")"
fi

# ---- 2. detection latency ----
: >"$TMP/lat.kern"
: >"$TMP/lat.read"
for ((r = 0; r < REPEATS; r++)); do
	el_start -i 1 -j --min-bytes 1M --min-duration 1s || continue
	ip netns exec "$c1" iperf3 -c "$R4" -p 5201 -t 2 -b 100M >/dev/null 2>&1
	wait_until 5 grep -q elephant_add "$TMP/el.out"
	grep elephant_add "$TMP/el.out" | head -1 | while read -r ts json; do
		evs=$(jq -r '.time' <<<"$json")
		jq -r '.duration_s - .min_duration_s' <<<"$json" >>"$TMP/lat.kern"
		awk -v a="$ts" -v b="$evs" 'BEGIN { printf "%.6f\n", a - b }' >>"$TMP/lat.read"
	done
	el_stop
done
awk -v k="$(median <"$TMP/lat.kern")" -v d="$(median <"$TMP/lat.read")" 'BEGIN {
	printf "elephant: detection latency after crossing (interval 1 s): in kernel %.1f ms, " \
	       "to a stdout reader %.1f ms (ratio to the interval %.4f)\n", k * 1000, d * 1000,
	       (k + d) / 1 }'

# ---- 3. flows per second and CPU at FLOWS short flows ----
cat >"$TMP/srv.py" <<'EOF'
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in range(7100, 7108):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept()
            c.close()
        except BlockingIOError:
            pass
EOF
cat >"$TMP/cli.py" <<'EOF'
import socket, struct, sys, time
dst, n = sys.argv[1], int(sys.argv[2])
linger = struct.pack("ii", 1, 0)
t0 = time.monotonic()
ok = 0
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    try:
        s.connect((dst, 7100 + i % 8))
        ok += 1
    except OSError:
        pass
    s.close()
print(ok, time.monotonic() - t0)
EOF
ip netns exec "$remote" python3 "$TMP/srv.py" >"$TMP/srv.out" 2>&1 &
on_cleanup "kill $!"
wait_for_file 5 "$TMP/srv.out" ready
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
if el_start -i 1 -j --max-flows 262144; then
	t0=$(cpu_ticks "$ELPID")
	read -r ok secs < <(ip netns exec "$c1" python3 "$TMP/cli.py" "$R4" "$FLOWS")
	sleep 2
	t1=$(cpu_ticks "$ELPID")
	last=$(grep '"type":"node"' "$TMP/el.out" | tail -1 | sed 's/^[^ ]* //')
	added=$(jq '.flows_added' <<<"$last")
	full=$(jq '.table_full' <<<"$last")
	el_stop
	awk -v ok="$ok" -v s="$secs" -v a="$added" -v f="$full" -v c=$((t1 - t0)) \
		-v hz="$(getconf CLK_TCK)" 'BEGIN {
		printf "elephant: %d short flows in %.1f s: %.0f flows/s offered, %d tracked " \
		       "(ratio %.3f, %d table full), elephant CPU %.2f s (%.1f%% of one CPU, " \
		       "%.1f us per flow)\n", ok, s, ok / s, a, a / (ok ? ok : 1), f, c / hz,
		       100 * c / hz / (s + 2), 1e6 * c / hz / (ok ? ok : 1) }'
else
	echo "# elephant: flows/s: elephant did not start: $(head -1 "$TMP/el.err")"
fi
exit 0
