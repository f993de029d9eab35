#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tracer_merge.sh [PACKETS] - how much memory tracer-merge needs: 16 hosts'
# `tracer -j --events --host` files, generated here (PACKETS packets, default
# 200000, each from host h00 to one of the 15 others or back, two event lines
# each, the others' clocks skewed by 1 ms per host), merged with -o and
# --perfetto. Prints the peak RSS against the input's size and per event line
# (0.25x here; 2.6x before the per-packet table went, 766 bytes per line).
#
# tracer_merge.sh --gen DIR PACKETS writes the 16 files h00.jsonl ... h15.jsonl
# into DIR only (test_tracer.sh's merge case uses it). The peak is tracer-merge's
# own (-v: its VmHWM), not a parent's that forked it.

gen()
{
	python3 - "$1" "$2" <<'PY'
import os, sys
d, npk, nh = sys.argv[1], int(sys.argv[2]), 16
fs = [open(os.path.join(d, "h%02d.jsonl" % h), "w") for h in range(nh)]
t0 = 1764600000000000000

def ev(h, ts, pkt, point, hook):
    fs[h].write('{"type":"event","time":%.6f,"host":"h%02d","ts_ns":%d,"pkt":"%016x",'
                '"point":"%s","hook":"%s","dev":"eth0","netns":4026532000,"len":84,'
                '"proto":"udp","src":"198.18.0.1","dst":"198.18.0.2","sport":1000,'
                '"dport":2000,"hop_ns":0,"prev_point":"","rule":false}\n'
                % (ts // 1000 / 1e6, h, ts, pkt, point, hook))

for h in range(nh):
    fs[h].write('{"type":"config","time":1764600000.0,"host":"h%02d","gen":1}\n' % h)
for i in range(npk):
    h = 1 + i % (nh - 1)
    t = t0 + i * 10000
    pkt = (i + 1) * 0x9e3779b97f4a7c15 & (2**64 - 1)
    if i // (nh - 1) % 2 == 0:
        ev(0, t, pkt, "out", "tx")
        ev(h, t + 20000 + h * 1000000, pkt, "in", "rx")
    else:
        ev(h, t + h * 1000000, pkt, "out", "tx")
        ev(0, t + 20000, pkt, "in", "rx")
PY
}

if [ "$1" = --gen ]; then
	gen "$2" "$3"
	exit
fi

here=$(cd "$(dirname "$0")" && pwd) || exit 1
merge=$here/../../tracer/tracer-merge
pkts=${1:-200000}
[[ "$pkts" =~ ^[1-9][0-9]*$ ]] || { echo "tracer_merge: PACKETS must be a number" >&2; exit 2; }
[ -x "$merge" ] || { echo "tracer_merge: build first: make" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
gen "$tmp" "$pkts" || exit 1
in=$(cat "$tmp"/h*.jsonl | wc -c)
lines=$((pkts * 2))
t0=$(date +%s.%N)
"$merge" -v -o "$tmp/all.jsonl" --perfetto "$tmp/t.json" "$tmp"/h*.jsonl >/dev/null \
	2>"$tmp/err" || { echo "tracer_merge: tracer-merge failed: $(cat "$tmp/err")" >&2; exit 1; }
secs=$(echo "$(date +%s.%N) - $t0" | bc)
kib=$(sed -n 's/.*peak memory \([0-9]*\) KiB.*/\1/p' "$tmp/err")
awk -v k="$kib" -v i="$in" -v l="$lines" -v s="$secs" 'BEGIN {
	printf "tracer_merge_rss ratio=%.3f peak_rss_kib=%d input_kib=%d bytes_per_line=%.0f " \
	       "event_lines=%d seconds=%.2f\n", k * 1024 / i, k, i / 1024, k * 1024 / l, l, s }'
