#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_tracer.sh - tracer on two "hosts" joined by an underlay veth and a
# VXLAN, each with a bridge to a container namespace:
#
#   c1 (198.18.10.1) eth0 --veth-- v1 [br0 vx0]  hA  uA (198.18.1.1)
#                                                     |  underlay veth, VXLAN 42
#   c2 (198.18.10.2) eth0 --veth-- v2 [br0 vx0]  hB  uB (198.18.1.2)
#
# Points on the c1 -> c2 path: p1 tx@eth0%c1, p2 rx@v1%hA, p3 tx@uA%hA
# (encapsulated), p4 rx@uB%hB (before decap), p5 tx@v2%hB, p6 rx@eth0%c2.
# A tc program spins 2 ms for ICMP at v1's ingress (between p2 and p3);
# iptables in c2 drops every 10th UDP datagram to 5201 (after p6).
# Cases: latency (the delayed segment within 2.0-2.3 ms, the others far
# below; one id from p1 to p6 through encap and decap; no lost events),
# drops (at p6 -> drop, NETFILTER_DROP, the count iptables and iperf3 saw),
# tcp (iperf3 TCP: every packet over every segment once, bytes), filter, rules (latency>DUR emit fires on the delayed segment only), sample
# (two instances, one per host, sample 1/4 and follow the same ids), stamp
# (--stamp: datagrams alike keep distinct ids on both hosts, the application
# gets exactly what was sent, conntrack at a receiver with software checksums
# marks none INVALID, skips counted; tcx: a second instance runs first; tc: a
# second instance is refused while the first runs, only tracer's filter
# goes), config
# (config file errors), reload (SIGHUP: a point added and the filter changed
# without losing a packet, a bad config refused), metrics (Prometheus counters
# and latency histograms), nat (one id through DNAT and masquerade on a router
# namespace), merge (two instances with --host, one with a hidden clock skew
# of +250 ms, pings both ways: tracer-merge recovers the skew within its
# uncertainty and joins every packet across the hosts; bad input), usage,
# kill9 (nothing left), fpoints (fentry:FUNC and kprobe:FUNC points count
# what the tracepoints count, with the same ids; on a kernel with neither,
# the one-line refusal).

source "$(dirname "$0")/lib.sh"

TRACER=$TOP_DIR/tracer/tracer
MERGE=$TOP_DIR/tracer/tracer-merge
DELAY_OBJ=${BPFNET_OUTPUT:-$TOP_DIR/.output}/selftests/progs/tr_delay.bpf.o
CASES=(usage config latency drops tcp nat filter rules sample stamp merge output reload metrics kill9
       fpoints inplace)

require_root
require_cmd python3 iperf3 iptables tc bpftool curl
trap cleanup EXIT
make_tmp test_tracer

if [ ! -x "$TRACER" ] || [ ! -x "$MERGE" ] || [ ! -f "$DELAY_OBJ" ]; then
	log_fail "$TRACER, $MERGE or $DELAY_OBJ not built (run make)"
	exit $ksft_fail
fi

# veth NS_A IF_A NS_B IF_B: a pair made in the namespaces (names like eth0
# would clash in the current one), both up.
TOPO=
topo()
{
	[ -n "$TOPO" ] && return 0
	setup_ns hA hB c1 c2 || return 1
	veth "$hA" uA "$hB" uB || return 1
	nsip "$hA" addr add 198.18.1.1/24 dev uA
	nsip "$hB" addr add 198.18.1.2/24 dev uB
	nsip "$hA" link add vx0 type vxlan id 42 local 198.18.1.1 remote 198.18.1.2 \
		dstport 4789 dev uA
	nsip "$hB" link add vx0 type vxlan id 42 local 198.18.1.2 remote 198.18.1.1 \
		dstport 4789 dev uB
	add_bridge "$hA" br0
	add_bridge "$hB" br0
	add_port "$hA" br0 vx0
	add_port "$hB" br0 vx0
	veth "$c1" eth0 "$hA" v1 || return 1
	veth "$c2" eth0 "$hB" v2 || return 1
	add_port "$hA" br0 v1
	add_port "$hB" br0 v2
	nsip "$c1" link set eth0 mtu 1400
	nsip "$c2" link set eth0 mtu 1400
	nsip "$c1" addr add 198.18.10.1/24 dev eth0
	nsip "$c2" addr add 198.18.10.2/24 dev eth0
	# the known delay: 2 ms for every ICMP packet entering hA's bridge from c1
	tc -n "$hA" qdisc add dev v1 clsact &&
		tc -n "$hA" filter add dev v1 ingress bpf da obj "$DELAY_OBJ" sec tc ||
		{ log_fail "cannot attach the delay program"; return 1; }
	if ! nsexec "$c1" ping -c 3 -i 0.2 -W 2 198.18.10.2 >/dev/null; then
		log_fail "topology: c1 cannot reach c2 over the VXLAN"
		return 1
	fi
	TOPO=1
}

points()
{
	echo "-p p1=tx@eth0%$c1 -p p2=rx@v1%$hA -p p3=tx@uA%$hA -p p4=rx@uB%$hB" \
	     "-p p5=tx@v2%$hB -p p6=rx@eth0%$c2"
}

case_usage()
{
	expect_usage_error "no points" "$TRACER"
	expect_usage_error "bad hook" "$TRACER" -p a=nope
	expect_usage_error "bad point" "$TRACER" -p 'a b=rx'
	expect_usage_error "missing device" "$TRACER" -p a=rx@bn-no-such-dev
	expect_usage_error "missing netns" "$TRACER" -p a=rx%bn-no-such-ns-$$
	expect_usage_error "missing netns inode" "$TRACER" -p a=rx%12345
	expect_usage_error "point twice" "$TRACER" -p a=rx -p a=tx
	expect_usage_error "bad filter" "$TRACER" -p a=rx -f 'icmp['
	expect_usage_error "untranslatable filter" "$TRACER" -p a=rx -f 'ip[300] = 1'
	expect_usage_error "bad buffer" "$TRACER" -p a=rx --buffer 3000
	expect_usage_error "bad loss-timeout" "$TRACER" -p a=rx --loss-timeout 0
	expect_usage_error "interval too long" "$TRACER" -p a=rx -i 18446744073s
	expect_usage_error "duration too long" "$TRACER" -p a=rx -d 18446744073s
	expect_usage_error "stray argument" "$TRACER" -p a=rx extra
	expect_usage_error "retrans with a device" "$TRACER" -p a=tcp-retrans@lo
	expect_usage_error "bad rule" "$TRACER" -p a=rx -p b=tx --rule 'a->b latency<1ms emit'
	expect_usage_error "rule of no segment" "$TRACER" -p a=rx --rule 'a->z latency>1ms emit'
	expect_usage_error "bad sample" "$TRACER" -p a=rx --sample 2/3
	expect_usage_error "bad metrics address" "$TRACER" -p a=rx --metrics 1.2.3.4.5:99
	expect_usage_error "bad host name" "$TRACER" -p a=rx --host 'a_b'
	expect_usage_error "host name too long" "$TRACER" -p a=rx --host "$(printf 'a%.0s' {1..254})"
	BPFNET_TRACER_SKEW_NS=1x expect_usage_error "bad test skew" "$TRACER" -p a=rx
	expect_usage_error "stamp without a device" "$TRACER" -p a=tx -p b=rx@lo --stamp
	expect_usage_error "stamp at an rx point" "$TRACER" -p a=rx@lo --stamp
	expect_usage_error "stamp at a drop point" "$TRACER" -p a=drop@lo --stamp
}

case_config()
{
	printf 'point a=rx\n# comment\nbogus 1\n' >"$TMP/bad1.conf"
	expect_usage_error "unknown directive" "$TRACER" -c "$TMP/bad1.conf"
	printf 'point a=rx  # fine\nfilter icmp[\n' >"$TMP/bad2.conf"
	expect_usage_error "bad filter in config" "$TRACER" -c "$TMP/bad2.conf"
	expect_usage_error "missing config" "$TRACER" -c "$TMP/none.conf"
	expect_usage_error "config is a directory" "$TRACER" -c "$TMP"
	if grep -q "bad1.conf:3: unknown directive 'bogus'" < <("$TRACER" -c "$TMP/bad1.conf" 2>&1); then
		log_ok "config error names file and line"
	else
		log_fail "config error does not name file:line"
	fi
}

# pycheck CASE ARGS... <<'EOF' ... EOF: a python3 check script with check(what,
# cond) that prints "[ OK ] CASE: what" or "[FAIL] ...", and recs, the JSON
# records of the file ARGS[0]; a failed check fails the test.
PY_PRELUDE='import json, os, sys
ok = True
case = sys.argv[1]
recs = [json.loads(l) for l in open(sys.argv[2])]
def check(what, cond):
    global ok
    print("[ OK ] " if cond else "[FAIL] ", case + ": " + what, sep="")
    ok = ok and bool(cond)
'
pycheck()
{
	python3 -c "$PY_PRELUDE$(cat)
sys.exit(0 if ok else 1)" "$@" || RET=$ksft_fail
}

# tracer_run NAME ARGS...: start, wait for ready; the caller makes traffic.
tracer_run()
{
	local name=$1

	shift
	if ! tool_start "$name" "$TRACER" -j -i 0.5 "$@"; then
		log_fail "$name: tracer did not start"
		return 1
	fi
}

case_latency()
{
	topo || return
	{
		echo "# latency case: ICMP only, every packet"
		for p in $(points); do [ "$p" != -p ] && echo "point $p"; done
		echo "filter icmp and host 198.18.10.2   # inner packet"
		echo "events"
	} >"$TMP/lat.conf"
	tracer_run lat -c "$TMP/lat.conf" --perfetto "$TMP/trace.json" || return
	nsexec "$c1" ping -c 20 -i 0.1 -W 2 198.18.10.2 >/dev/null
	sleep 1.2
	tool_stop lat
	check "latency: tracer exit 0" [ "${TOOL_RC[lat]}" = 0 ]
	pycheck latency "$TMP/lat.out" <<'EOF'
segs = {}
for r in recs:
    if r["type"] == "segment" and r["packets_out"] > 0:
        segs.setdefault((r["from"], r["to"]), []).append(r)
chain = [("p%d" % i, "p%d" % (i + 1)) for i in range(1, 6)]
for s in chain:
    n = sum(r["packets_out"] for r in segs.get(s, []))
    check("segment %s->%s saw the 20 requests (%d)" % (s[0], s[1], n), n == 20)
d = segs.get(("p2", "p3"), [])
p50 = [r["p50_us"] for r in d]
# never below the 2 ms spin; above it by the histogram's error and what the
# machine adds. Under emulation (the VM stages: single-threaded TCG, a busy
# host) a vCPU stalls for a few ms now and then, and an interval holds only
# 2-5 packets: there the median of the intervals' p50s is checked (one
# interval of 3 ms in p1->p2 seen). On the host the median is held tighter and
# every interval's too, to the emulation's bound: the first and last intervals
# hold a packet or two, and one interrupt on one packet moves a p50 a bucket.
vm = os.environ.get("BPFNET_VM") == "1"
hi = 3200 if vm else 2300
def med(v):
    return sorted(v)[len(v) // 2]
check("delayed segment p2->p3 p50 within 1950..%d us (median), ..3200 (each): %s" %
      (hi, p50), p50 and 1950 <= med(p50) <= hi and
      all(1950 <= v <= (3200 if not vm else 10 ** 9) for v in p50))
for s in chain:
    if s == ("p2", "p3"):
        continue
    v = [r["p50_us"] for r in segs.get(s, [])]
    # far below the 2 ms: a quarter of it, half under emulation (the VM stage)
    lim = 1000 if vm else 500
    check("segment %s->%s far below (p50 < %d us, median; < 1000 each on the host): %s" %
          (s[0], s[1], lim, v), v and med(v) < lim and (vm or all(x < 1000 for x in v)))
ev = [r for r in recs if r["type"] == "event"]
byid = {}
for e in ev:
    byid.setdefault(e["pkt"], []).append(e)
req = [i for i, es in byid.items() if es[0]["point"] == "p1" and es[0]["proto"] == "icmp"]
full = [i for i in req if [e["point"] for e in byid[i]] == ["p1", "p2", "p3", "p4", "p5", "p6"]]
check("20 echo requests followed p1..p6 with one id each (%d of %d)" % (len(full), len(req)),
      len(req) == 20 and len(full) == 20)
outer = [e for i in full for e in byid[i] if e["point"] in ("p3", "p4")]
check("encapsulated at p3/p4: outer 198.18.1.1 > 198.18.1.2 vni 42, inner 198.18.10.x",
      outer and all(e.get("outer") == {"src": "198.18.1.1", "dst": "198.18.1.2", "vni": 42}
                    and e["src"] == "198.18.10.1" and e["dst"] == "198.18.10.2"
                    for e in outer))
hop = [e["hop_ns"] for i in full for e in byid[i] if e["point"] == "p3"]
# never below the 2 ms spin; above it only by what the machine adds (a slow
# one, the VM under TCG, stalls a hop now and then): the median about 2 ms
check("event hop_ns p2->p3 at least 1.9 ms, median about 2 ms",
      hop and min(hop) >= 1.9e6 and 1.9e6 <= sorted(hop)[len(hop) // 2] <= hi * 1e3)
lost = [r for r in recs if r["type"] == "lost"]
check("lost record every interval, all zero", lost and all(r["events"] == 0 for r in lost))
summ = [r for r in recs if r["type"] == "summary"]
check("summary: no event lost", len(summ) == 1 and summ[0]["lost"] == 0)
tr = json.load(open(sys.argv[2].replace("lat.out", "trace.json")))["traceEvents"]
procs = sorted(e["args"]["name"].split()[1] for e in tr if e["name"] == "process_name")
check("perfetto: a process per netns (%s)" % procs, len(procs) == 4 and
      all(p.startswith("bn-") for p in procs))
threads = sorted(e["args"]["name"] for e in tr if e["name"] == "thread_name")
check("perfetto: a track per point", threads == ["p%d" % i for i in range(1, 7)])
x = [e for e in tr if e["ph"] == "X"]
d23 = [e["dur"] for e in x if e["name"] == "p2->p3"]
check("perfetto: 120 slices, 20 p2->p3 of about 2 ms", len(x) == 120 and len(d23) == 20 and
      min(d23) > 1900 and sorted(d23)[len(d23) // 2] < hi)
fl = [e["ph"] for e in tr if e.get("cat") == "pkt"]
check("perfetto: flows join each packet's slices", fl.count("s") == 20 and fl.count("t") == 100)
check("perfetto: rate counters", any(e["ph"] == "C" for e in tr))
paths = [r for r in recs if r["type"] == "path"]
# p2->p3 holds the 2 ms; the others are far below it but take longer on a
# slow machine (the VM stage: 75-86 % seen under TCG): the largest share
# and the greater part, with end to end at least the delay
good = [[(g["from"], g["to"]) for g in r["segments"]] == chain and
        r["segments"][1]["share_pct"] > 50 and
        r["segments"][1]["share_pct"] == max(g["share_pct"] for g in r["segments"]) and
        r["e2e_us"] > 1950 for r in paths]
# every interval's but one on the host (a packet or two in the first and last:
# one stalled softirq there); most under emulation (a stall elsewhere)
check("path: p1..p6, p2->p3 the largest share, over half of end to end (%s)" %
      [round(r["segments"][1]["share_pct"]) for r in paths if len(r["segments"]) > 1],
      good and (good.count(True) * 2 > len(good) if vm else
                good.count(False) <= 1 and good.count(True) >= 2))
cfg = [r for r in recs if r["type"] == "config"]
check("config record gen 1 with the 6 points", len(cfg) == 1 and cfg[0]["gen"] == 1 and
      [p["point"] for p in cfg[0]["points"]] == ["p1", "p2", "p3", "p4", "p5", "p6"])
clk = [r for r in recs if r["type"] == "clock"]
check("clock record every interval", len(clk) == len(lost) and
      all(abs(r["realtime_ns"] / 1e9 - r["time"]) < 1 for r in clk))
check("records: type first, numeric time", all(list(r)[0] == "type" and
      isinstance(r["time"], float) for r in recs))
EOF
}

# TCP: iperf3 TCP (8 MB) from c1 to c2 through the bridges and the VXLAN,
# every packet to the server's port followed over the six points in summary
# mode: each segment carries what p1 saw (no packet lost or split), p1's bytes
# are iperf3's plus headers, no event lost.
case_tcp()
{
	topo || return
	nsexec "$c2" iperf3 -s -1 -p 5202 >/dev/null 2>&1 &
	wait_listen $((5 * SLOW)) "$c2" 5202 || { log_fail "tcp: no iperf3 server"; return; }
	# shellcheck disable=SC2046
	tracer_run tcp $(points) -f 'tcp and dst port 5202' || return
	nsexec "$c1" iperf3 -c 198.18.10.2 -p 5202 -n 8M -J >"$TMP/tcp.json"
	sleep 1.2
	tool_stop tcp
	pycheck tcp "$TMP/tcp.out" "$TMP/tcp.json" <<'EOF'
ip = json.load(open(sys.argv[3]))
# what the client wrote; what left it can be less (the end of the test resets
# the connection with data still queued), and the server got at least that
sent = ip["end"]["sum_sent"]["bytes"]
rcvd = ip["end"]["sum_received"]["bytes"]
pts = {}
for r in recs:
    if r["type"] == "point":
        c = pts.setdefault(r["point"], [0, 0])
        c[0] += r["packets"]
        c[1] += r["bytes"]
segs = {}
for r in recs:
    if r["type"] == "segment":
        k = r["from"] + "->" + r["to"]
        c = segs.setdefault(k, [0, 0, 0, True])
        c[0] += r["packets_in"]
        c[1] += r["packets_out"]
        c[2] += r["lost"]
        c[3] = c[3] and r["complete"]
print("# points %s; segments %s; iperf3 sent %d bytes, %d retransmits" %
      (pts, segs, sent, ip["end"]["sum_sent"].get("retransmits", -1)))
n1 = pts.get("p1", [0, 0])[0]
check("p1 saw iperf3's packets (%d)" % n1, n1 > 100)
chain = ["p1->p2", "p2->p3", "p3->p4", "p4->p5", "p5->p6"]
check("every segment p1 .. p6 carried each of them once, none lost",
      all(segs.get(k, [0, 0, 1, False])[1] == n1 and segs[k][2] == 0 and segs[k][3]
          for k in chain))
by = pts.get("p1", [0, 0])[1]
check("bytes at p1 are iperf3's plus headers (%d, iperf3 received %d, sent %d)" %
      (by, rcvd, sent), 0 < rcvd <= by <= sent * 1.08 + 20000)
summ = [r for r in recs if r["type"] == "summary"]
check("summary: no event lost", len(summ) == 1 and summ[0]["lost"] == 0)
EOF
}

case_drops()
{
	local dropped

	topo || return
	nsexec "$c2" iptables -A INPUT -p udp --dport 5201 -m statistic --mode nth \
		--every 10 --packet 5 -j DROP || { log_fail "drops: iptables"; return; }
	on_cleanup "ip netns exec $c2 iptables -F INPUT"
	nsexec "$c2" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	wait_listen $((5 * SLOW)) "$c2" 5201 || { log_fail "drops: no iperf3 server"; return; }
	# shellcheck disable=SC2046
	tracer_run drops $(points) --top 5 -f 'udp and dst port 5201' || return
	nsexec "$c1" iperf3 -c 198.18.10.2 -p 5201 -u -b 2M -l 1000 -t 3 -J >"$TMP/iperf.json"
	sleep 1.5
	tool_stop drops
	dropped=$(nsexec "$c2" iptables -L INPUT -v -x -n | awk '$3 == "DROP" { print $1 }')
	pycheck drops "$TMP/drops.out" "$dropped" "$TMP/iperf.json" <<'EOF'
want = int(sys.argv[3])
ip = json.load(open(sys.argv[4]))
segs = [r for r in recs if r["type"] == "segment"]
at = {}
for r in segs:
    for reason, n in r["drops"].items():
        at[(r["from"], r["to"], reason)] = at.get((r["from"], r["to"], reason), 0) + n
check("iptables dropped some (%d)" % want, want > 10)
# iperf3's server closing its socket with datagrams queued (QUEUE_PURGE) or
# arriving after (NOT_SPECIFIED in udp) makes a few real drops at the end too:
# as many as queued while the server was late (250 a second)
other = sum(n for k, n in at.items() if k[2] != "NETFILTER_DROP")
check("netfilter drops at p6->drop only, as many as iptables made: %s, iptables %d" %
      (at, want), at.get(("p6", "drop", "NETFILTER_DROP")) == want and
      all(k[:2] == ("p6", "drop") for k in at) and other <= 25)
for r in recs:
    if r["type"] == "drop" and r["reason"] != "NETFILTER_DROP":
        print("# other drop: %s at %s" % (r["reason"], r["location"]))
# iperf3 counts a gap in the sequence numbers it read: a drop among the last
# datagrams, those its server never read (purged), is no gap to it: one in
# ten of that tail at most, and one more
lost_iperf = ip["end"]["sum"].get("lost_packets", -1)
check("iperf3's lost datagrams (%d) are the drops" % lost_iperf,
      want - (other // 9 + 1) <= lost_iperf <= want)
dr = [r for r in recs if r["type"] == "drop" and r["reason"] == "NETFILTER_DROP"]
check("a drop record per drop, with a location", len(dr) == want and
      all(r["reason"] == "NETFILTER_DROP" and r["point"] == "drop" and
          r["prev_point"] == "p6" and "+0x" in r["location"] for r in dr))
lost = sum(r["lost"] for r in segs)
check("no unexplained loss (%d)" % lost, lost == 0)
out = sum(r["packets_out"] for r in segs if (r["from"], r["to"]) == ("p5", "p6"))
sent = ip["end"]["sum"]["packets"]
# iperf3 sends one datagram to open the test that it does not count
check("p5->p6 saw every datagram iperf3 sent (%d of %d + 1)" % (out, sent), out == sent + 1)
fl = [r for r in recs if r["type"] == "flow" and r["point"] == "p1"]
check("flow: p1's top flow is iperf3's, all its datagrams (%d)" % sum(r["packets"] for r in fl),
      fl and all(r["rank"] == 1 and r["proto"] == 17 and r["dport"] == 5201 and
                 r["dst"] == "198.18.10.2" for r in fl) and
      sum(r["packets"] for r in fl) == sent + 1)
# throughput at p1 (frames: 1000 bytes of payload + UDP, IPv4, Ethernet headers)
by = sum(r["bytes"] for r in recs if r["type"] == "point" and r["point"] == "p1")
ib = ip["end"]["sum"]["bytes"] * 1042 / 1000
check("bytes at p1 within 1 %% of iperf3's (%d, iperf3 %d)" % (by, ib), abs(by - ib) < 0.01 * ib)
EOF
	nsexec "$c2" iptables -F INPUT
}

# ping_traced NAME COUNT ARGS...: tracer NAME on the six points with ARGS while
# c1 pings c2 COUNT times (and c2 pings c1 as often: replies and requests the
# other way, which a filter or rule must leave out).
ping_traced()
{
	local name=$1 count=$2

	shift 2
	topo || return
	# shellcheck disable=SC2046
	tracer_run "$name" $(points) "$@" || return
	nsexec "$c1" ping -c "$count" -i 0.1 -W 2 198.18.10.2 >/dev/null
	nsexec "$c2" ping -c "$count" -i 0.1 -W 2 198.18.10.1 >/dev/null
	sleep 0.8
	tool_stop "$name"
}

case_filter()
{
	ping_traced filt 5 -e -f 'icmp[icmptype] = icmp-echo' || return
	python3 - "$TMP/filt.out" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in recs if r["type"] == "event"]
first = [r for r in ev if r["point"] == "p1"]
ok = len(first) == 5 and all(r["proto"] == "icmp" for r in ev) and \
     len({r["pkt"] for r in ev}) == 5
print("[ OK ]" if ok else "[FAIL]", "filter: only c1's 5 echo requests followed",
      "(%d at p1, %d events, %d ids)" % (len(first), len(ev), len({r["pkt"] for r in ev})))
sys.exit(0 if ok else 1)
EOF
	[ $? = 0 ] || RET=$ksft_fail
}

case_rules()
{
	ping_traced rules 10 -f icmp --rule 'p2->p3 latency>1ms emit' \
		--rule 'p4->p5 latency>1ms emit' || return
	python3 - "$TMP/rules.out" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ev = [r for r in ev if r["type"] == "event"]
# c1's 10 requests and its 10 replies to c2 go p1..p6, all delayed at v1:
# p2->p3 fires for each; an event of either rule is a hop over 1 ms (p4->p5
# is tens of us, but a slow machine may stall one: then its rule fires too)
e23 = [r for r in ev if (r["prev_point"], r["point"]) == ("p2", "p3")]
ok = len(e23) == 20 and all(r["rule"] and r["hop_ns"] > 1e6 and
                            (r["prev_point"], r["point"]) in (("p2", "p3"), ("p4", "p5"))
                            for r in ev)
print("[ OK ]" if ok else "[FAIL]", "rules: 20 events p2->p3 over 1 ms; any other only p4->p5 "
      "over 1 ms (%d: %s)" % (len(ev), sorted({(r["prev_point"], r["point"]) for r in ev})))
sys.exit(0 if ok else 1)
EOF
	[ $? = 0 ] || RET=$ksft_fail
}

case_sample()
{
	topo || return
	nsexec "$c2" iperf3 -s -1 -p 5202 >/dev/null 2>&1 &
	wait_listen $((5 * SLOW)) "$c2" 5202 || { log_fail "sample: no iperf3 server"; return; }
	# one instance per "host", each with its own points, as on two machines
	tracer_run sA -p a1=rx@v1%"$hA" -p a2=tx@uA%"$hA" -e --sample 1/4 \
		-f 'udp and dst port 5202' || return
	tracer_run sB -p b1=rx@uB%"$hB" -p b2=tx@v2%"$hB" -e --sample 1/4 \
		-f 'udp and dst port 5202' || return
	nsexec "$c1" iperf3 -c 198.18.10.2 -p 5202 -u -b 2M -l 500 -t 2 -J >"$TMP/iperf2.json"
	sleep 0.8
	tool_stop sA
	tool_stop sB
	python3 - "$TMP/sA.out" "$TMP/sB.out" "$TMP/iperf2.json" <<'EOF'
import json, sys
def ids(f, pt):
    return {r["pkt"] for r in map(json.loads, open(f)) if r["type"] == "event" and r["point"] == pt}
a, b = ids(sys.argv[1], "a1"), ids(sys.argv[2], "b1")
sent = json.load(open(sys.argv[3]))["end"]["sum"]["packets"] + 1
ok = a == b and 0.15 * sent < len(a) < 0.35 * sent
print("[ OK ]" if ok else "[FAIL]", "sample: both hosts followed the same %d of %d datagrams"
      " (%d only on A, %d only on B)" % (len(a & b), sent, len(a - b), len(b - a)))
sys.exit(0 if ok else 1)
EOF
	[ $? = 0 ] || RET=$ksft_fail
}

# UDP receiver in c2 (ARGS: out file, count, seconds after OUT.go): what the application
# got, one hex line per datagram, and the length and last 12 bytes of each
# packet a raw socket saw (IPv4: from the IP header, IPv6: from UDP's).
STAMP_RX='import os, select, socket, sys, time
out, n = sys.argv[1], int(sys.argv[2])
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u4.bind(("198.18.10.2", 5300))
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u6.bind(("2001:db8:10::2", 5300))
r4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
r6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
open(out + ".ready", "w").close()
# the time allowed runs from the first send (OUT.go), not from the start:
# the tracers start in between (slow under emulation); 300 s at most
got, raw, end, cap = [], [], None, time.time() + 300
port = (5300).to_bytes(2, "big")
while (len(got) < n or len(raw) < n) and time.time() < (end or cap):
    if end is None and os.path.exists(out + ".go"):
        end = time.time() + float(sys.argv[3])
    for s in select.select([u4, u6, r4, r6], [], [], 0.2)[0]:
        d = s.recv(65536)
        if s in (u4, u6):
            got.append("app %d %s" % (4 if s is u4 else 6, d.hex()))
        elif s is r4 and d[22:24] == port:	# from the IP header
            raw.append("raw 4 %d %s" % (len(d), d[-12:].hex()))
        elif s is r6 and d[2:4] == port:	# from the UDP header
            raw.append("raw 6 %d %s" % (len(d), d[-12:].hex()))
open(out, "w").write("".join(l + "\n" for l in got + raw))
'

# STAMP_TX N N6 EXTRA (in c1): N and N6 UDP datagrams to c2's port 5300,
# alternately 88 and 89 bytes, so alike in every byte in two groups (IP ID 0:
# unconnected, DF); with EXTRA, three more to port 5301 that tracer cannot
# stamp: one the trailer would take over the MTU (1400), one in two fragments,
# one GSO packet of 3 segments (UDP_SEGMENT).
STAMP_TX='import socket, sys, time
n, n6 = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)		# IP_MTU_DISCOVER: IP_PMTUDISC_DO
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(n + n6):
    d = b"same bytes every time " * 4 + b"!" * (i % 2)
    if i < n:
        s.sendto(d, ("198.18.10.2", 5300))
    else:
        s6.sendto(d, ("2001:db8:10::2", 5300))
    time.sleep(0.005)
if sys.argv[3] == "1":
    s.sendto(b"m" * (1400 - 28 - 6), ("198.18.10.2", 5301))
    f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    f.sendto(b"f" * 2000, ("198.18.10.2", 5301))
    s.setsockopt(17, 103, 500)			# UDP_SEGMENT
    s.sendto(b"g" * 1500, ("198.18.10.2", 5301))
'

# stamp: 40 + 10 UDP datagrams alike (STAMP_TX); --stamp at p1 gives each its
# own id at every point, also for a second instance without --stamp on hB;
# the application gets the bytes sent; what cannot be stamped is counted.
# Checksums: the first half leaves c1 with its UDP checksum left to the
# device (CHECKSUM_PARTIAL: the stamp moves its seed), the second half
# checksummed by c1's stack (tx offload off on c1's eth0); v2 in hB has tx
# offload off, so every datagram reaches c2 checksummed in software
# (CHECKSUM_NONE: a veth keeps ip_summed), and conntrack in c2 verifies it
# over the IP payload length: a rule dropping INVALID ones must drop none.
case_stamp()
{
	local n=40 n6=10 id other rx t cnt

	topo || return
	nsip "$c1" addr add 2001:db8:10::1/64 dev eth0 nodad
	nsip "$c2" addr add 2001:db8:10::2/64 dev eth0 nodad
	on_cleanup "ip netns exec $hB ethtool -K v2 tx on >/dev/null 2>&1"
	on_cleanup "ip netns exec $c1 ethtool -K eth0 tx on >/dev/null 2>&1"
	nsexec "$hB" ethtool -K v2 tx off >/dev/null || { log_fail "stamp: ethtool"; return; }
	for t in iptables ip6tables; do
		nsexec "$c2" $t -I INPUT -p udp --dport 5300 -m conntrack --ctstate INVALID \
			-j DROP || { log_fail "stamp: $t"; return; }
		on_cleanup "ip netns exec $c2 $t -D INPUT -p udp --dport 5300 -m conntrack" \
			"--ctstate INVALID -j DROP"
	done
	rm -f "$TMP/stamp.rx" "$TMP/stamp.rx.ready" "$TMP/stamp.rx.go"
	nsexec "$c2" python3 -c "$STAMP_RX" "$TMP/stamp.rx" $((n + n6)) $((6 * SLOW)) &
	rx=$!
	wait_until $((5 * SLOW)) test -e "$TMP/stamp.rx.ready" ||
		{ log_fail "stamp: no receiver"; return; }
	tracer_run stA $(points) -e -f 'udp and dst port 5300' --stamp || return
	tracer_run stB -p b1=rx@uB%"$hB" -p b2=tx@v2%"$hB" -e -f 'udp and dst port 5300' ||
		return
	stamp_at stA
	id=$STAMP_ID
	touch "$TMP/stamp.rx.go"
	nsexec "$c1" python3 -c "$STAMP_TX" $((n / 2)) $((n6 / 2)) 1
	nsexec "$c1" ethtool -K eth0 tx off >/dev/null
	nsexec "$c1" python3 -c "$STAMP_TX" $((n / 2)) $((n6 / 2)) 0
	wait $rx
	sleep 0.6
	tool_stop stA
	tool_stop stB
	nsexec "$c1" ethtool -K eth0 tx on >/dev/null
	nsexec "$hB" ethtool -K v2 tx on >/dev/null
	cnt=$(for t in iptables ip6tables; do
		nsexec "$c2" $t -L INPUT -v -x -n | awk '$3 == "DROP" { print $1 }'
	done | paste -sd' ')
	check "stamp: conntrack in c2 marked no stamped datagram INVALID (drops: $cnt)" \
		[ "$cnt" = "0 0" ]
	check "stamp: both tracers exit 0 (${TOOL_RC[stA]}, ${TOOL_RC[stB]})" \
		[ "${TOOL_RC[stA]}" = 0 ] && [ "${TOOL_RC[stB]}" = 0 ]
	N=$n N6=$n6 pycheck stamp "$TMP/stA.out" "$TMP/stB.out" "$TMP/stamp.rx" <<'PY'
n, n6 = int(os.environ["N"]), int(os.environ["N6"])
recB = [json.loads(l) for l in open(sys.argv[3])]
def paths(rs):
    p = {}
    for r in rs:
        if r["type"] == "event" and r["dport"] == 5300:
            p.setdefault(r["pkt"], []).append((r["point"], r["dst"]))
    return p
a, b = paths(recs), paths(recB)
want = ["p1", "p2", "p3", "p4", "p5", "p6"]
for fam, dst, k in ((4, "198.18.10.2", n), (6, "2001:db8:10::2", n6)):
    af = {i: [e[0] for e in v] for i, v in a.items() if v[0][1] == dst}
    check("IPv%d: %d distinct ids for %d datagrams alike, each p1..p6 once in order (%d do)" %
          (fam, len(af), k, sum(v == want for v in af.values())),
          len(af) == k and all(v == want for v in af.values()))
check("the instance without --stamp on hB saw the same %d ids (%d in common), b1 b2 each" %
      (len(b), len(set(a) & set(b))),
      set(a) == set(b) and all([e[0] for e in v] == ["b1", "b2"] for v in b.values()))
summ = [r for r in recs if r["type"] == "summary"]
st = summ[0].get("stamp", {}) if summ else {}
check("summary: %d stamped; not: 1 gso, 1 over the mtu, 2 fragments: %s" % (n + n6, st),
      st.get("stamped") == n + n6 and st.get("gso") == 1 and st.get("mtu") == 1 and
      st.get("fragment") == 2 and st.get("other") == 0)
lost = sum(r["events"] for r in recs + recB if r["type"] == "lost")
check("no event lost (%d)" % lost, lost == 0)
rx = [l.split() for l in open(sys.argv[4]) if l.strip()]
sent = (b"same bytes every time " * 4).hex()
def csum(h, odd):
    s = sum(int(h[i:i + 4], 16) for i in range(0, len(h), 4))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ((s & 0xff) << 8 | s >> 8) if odd else s
for fam, k, ln in ((4, n, 20 + 8 + len(sent) // 2 + 12), (6, n6, 8 + len(sent) // 2 + 12)):
    app = [x[2] for x in rx if x[0] == "app" and x[1] == str(fam)]
    raw = [x[2:] for x in rx if x[0] == "raw" and x[1] == str(fam)]
    check("IPv%d: the application got the %d datagrams, exactly the bytes sent (%d, %d alike)" %
          (fam, k, len(app), sum(x in (sent, sent + "21") for x in app)),
          len(app) == k and set(app) == {sent, sent + "21"})
    check("IPv%d: a raw socket saw each %d or %d bytes long, ending in the trailer (magic "
          "b57a, sum -12 where it lies in the datagram)" % (fam, ln, ln + 1),
          len(raw) == k and all(int(x[0]) in (ln, ln + 1) and x[1].startswith("b57a") and
                                csum(x[1], int(x[0]) != ln) == 0xfff3 for x in raw))
PY
	check "stamp: tracer's program unloaded" eval '! bpftool prog show id "$id" >/dev/null 2>&1'
	nsip "$c1" addr del 2001:db8:10::1/64 dev eth0
	nsip "$c2" addr del 2001:db8:10::2/64 dev eth0
	# tcx: a second instance's program runs first (BPF_F_BEFORE), so the
	# first finds every datagram stamped already; kill -9: nothing stays
	if [ "$STAMP_VIA" = tcx ]; then
		tracer_run stF -p p1=tx@eth0%"$c1" --stamp || return
		tracer_run stE -p p1=tx@eth0%"$c1" --stamp || return
		stamp_at stE
		nsexec "$c1" python3 -c "$STAMP_TX" 6 0 0
		tool_stop stF
		pycheck stamp "$TMP/stF.out" <<'PY'
st = ([r for r in recs if r["type"] == "summary"] or [{}])[0].get("stamp", {})
check("tcx: the instance attached last runs first: the first found all 6 stamped (%s)" % st,
      st.get("stamped") == 0 and st.get("other") == 6)
PY
		tool_stop stE KILL
		check "stamp: kill -9: the tcx link went with tracer, its program unloaded" \
			wait_until $((5 * SLOW)) eval '! bpftool prog show id "$STAMP_ID" >/dev/null 2>&1'
	fi
	stamp_tc
}

# stamp_tc: --stamp by a clsact filter (no tcx, or forced by
# BPFNET_TRACER_NO_TCX): a second tracer is refused while the first runs;
# another tool's filter beside tracer's stays when tracer ends, with the
# clsact qdisc tracer made; kill -9 leaves tracer's filter, the next start
# replaces it and removes it on exit, with the qdisc, which has nothing
# else on it.
stamp_tc()
{
	local other

	on_cleanup "tc -n $c1 qdisc del dev eth0 clsact 2>/dev/null"
	# another tool's program at tracer's pref and handle: refused, left alone
	tc -n "$c1" qdisc add dev eth0 clsact
	tc -n "$c1" filter add dev eth0 egress pref 1 handle 0x7a5 bpf da obj "$DELAY_OBJ" sec tc
	stamp_refused "another tool's filter at pref 1 handle 0x7a5" "has another program"
	check "stamp: that filter stays" \
		eval 'tc -n "$c1" filter show dev eth0 egress | grep -q "tr_delay"'
	tc -n "$c1" qdisc del dev eth0 clsact
	BPFNET_TRACER_NO_TCX=1 tracer_run stC -p p1=tx@eth0%"$c1" --stamp || return
	stamp_at stC
	stamp_refused "a second tracer while the first runs" "stamps at eth0 already"
	check "stamp: the first one's filter stays" \
		eval 'tc -n "$c1" filter show dev eth0 egress | grep -q "tr_stamp.* id $STAMP_ID "'
	tc -n "$c1" filter add dev eth0 egress prio 7 handle 7 bpf da obj "$DELAY_OBJ" sec tc
	tool_stop stC
	other=$(tc -n "$c1" filter show dev eth0 egress; tc -n "$c1" qdisc show dev eth0)
	check "stamp: tracer's filter gone, the other tool's stays, on the clsact qdisc" \
		eval '! grep -q tr_stamp <<<"$other" && grep -q tr_delay <<<"$other" &&
		      grep -q clsact <<<"$other"'
	tc -n "$c1" qdisc del dev eth0 clsact
	BPFNET_TRACER_NO_TCX=1 tracer_run stK -p p1=tx@eth0%"$c1" --stamp || return
	stamp_at stK
	tool_stop stK KILL
	check "stamp: kill -9 left the clsact filter" \
		eval 'tc -n "$c1" filter show dev eth0 egress | grep -q "tr_stamp.* id $STAMP_ID "'
	BPFNET_TRACER_NO_TCX=1 tracer_run stD -p p1=tx@eth0%"$c1" --stamp -d 0.3 || return
	tool_stop stD
	other=$(tc -n "$c1" filter show dev eth0 egress; tc -n "$c1" qdisc show dev eth0)
	check "stamp: then nothing of tracer's on c1's eth0 (no filter, no clsact)" \
		eval '! grep -q "tr_stamp\|clsact" <<<"$other"'
}

# stamp_refused WHAT MSG: tracer --stamp at c1's eth0 by a clsact filter
# exits 1 with one line saying MSG.
stamp_refused()
{
	local rc err want=$2

	BPFNET_TRACER_NO_TCX=1 timeout $((10 * SLOW)) "$TRACER" -p p1=tx@eth0%"$c1" --stamp \
		-d 2 >/dev/null 2>"$TMP/stG.err"
	rc=$?
	err=$(head -c 200 "$TMP/stG.err")
	check "stamp: $1 is refused: exit 1, one line ($rc: $err)" \
		eval '[ "$rc" = 1 ] && [ "$(wc -l <"$TMP/stG.err")" = 1 ] && grep -q "$want" <<<"$err"'
}

# stamp_at NAME: STAMP_VIA and STAMP_ID from instance NAME's config record.
stamp_at()
{
	local rec

	wait_until $((5 * SLOW)) grep -q '"type":"config"' "$TMP/$1.out"
	rec=$(grep -m1 '"type":"config"' "$TMP/$1.out")
	STAMP_VIA=$(sed -n 's/.*"stamp":{.*"via":"\([a-z]*\)".*/\1/p' <<<"$rec")
	STAMP_ID=$(sed -n 's/.*"stamp":{.*"prog_id":\([0-9]*\).*/\1/p' <<<"$rec")
	check "stamp: $1 stamps at eth0 by ${STAMP_VIA:-?} (program ${STAMP_ID:-?})" \
		[ -n "$STAMP_VIA" ] && [ "${STAMP_ID:-0}" != 0 ]
}

# merge: hA's instance sees requests leave and replies arrive on the underlay,
# hB's (its clock 250 ms ahead, BPFNET_TRACER_SKEW_NS) the reverse.
case_merge()
{
	local skew=250000000 rc ok

	topo || return
	tracer_run mA --host hostA -e -f icmp -p ax=tx@uA%"$hA" -p ay=rx@uA%"$hA" || return
	BPFNET_TRACER_SKEW_NS=$skew \
		tracer_run mB --host hostB -e -f icmp -p bx=rx@uB%"$hB" -p by=tx@uB%"$hB" || return
	nsexec "$c1" ping -c 20 -i 0.05 -W 2 198.18.10.2 >/dev/null &
	nsexec "$c2" ping -c 20 -i 0.05 -W 2 198.18.10.1 >/dev/null
	wait $!
	sleep 0.6
	tool_stop mA
	tool_stop mB
	"$MERGE" -o "$TMP/merged.jsonl" --perfetto "$TMP/merged.json" "$TMP/mA.out" \
		"$TMP/mB.out" >"$TMP/merge.txt" 2>"$TMP/merge.err"
	rc=$?
	ok=1
	[ "$rc" = 0 ] && [ ! -s "$TMP/merge.err" ] && ok=0
	check "merge: exit 0 ($rc), nothing on stderr ($(head -c 200 "$TMP/merge.err"))" [ $ok = 0 ]
	check "merge: text table names both hosts" grep -q '^hostB .* midpoint' "$TMP/merge.txt"
	SKEW=$skew pycheck merge "$TMP/merged.jsonl" "$TMP/merged.json" <<'PY'
skew = int(os.environ["SKEW"])
off = {r["host"]: r for r in recs if r["type"] == "offset"}
b = off.get("hostB", {})
err = b.get("offset_ns", 0) - skew
lim = 20000000 if os.environ.get("BPFNET_VM") == "1" else 5000000
check("offsets: hostA the reference, hostB a midpoint of both directions (%s)" %
      {h: r["estimate"] for h, r in off.items()},
      off.get("hostA", {}).get("estimate") == "reference" and b.get("estimate") == "midpoint")
check("hostB offset %d ns within its uncertainty %d ns of the skew %d (error %d)" %
      (b.get("offset_ns", 0), b.get("uncertainty_ns", -1), skew, err),
      abs(err) <= b.get("uncertainty_ns", -1))
check("uncertainty %d ns under %d ms" % (b.get("uncertainty_ns", -1), lim // 1000000),
      0 <= b.get("uncertainty_ns", lim) < lim)
check("40 packets each way (%d to hostB, %d from it)" % (b.get("packets_ab", 0),
      b.get("packets_ba", 0)), b.get("packets_ab") == 40 and b.get("packets_ba") == 40)
ev = [r for r in recs if r["type"] == "event"]
ts = [r["ts_ns"] for r in ev]
check("%d events on one time line, in order" % len(ev), len(ev) == 160 and ts == sorted(ts))
byid = {}
for e in ev:
    byid.setdefault(e["pkt"], []).append(e)
ab = [i for i, es in byid.items() if es[0]["host"] == "hostA" and es[0]["point"] == "ax"]
one = [i for i in ab if [(e["host"], e["point"]) for e in byid[i]] ==
       [("hostA", "ax"), ("hostB", "bx")] and byid[i][1]["prev_host"] == "hostA" and
       byid[i][1]["prev_point"] == "ax" and abs(byid[i][1]["hop_ns"]) < lim]
check("every packet hostA -> hostB (%d) crossed once with one id, hop set (%d)" %
      (len(ab), len(one)), len(ab) == 40 and len(one) == 40)
segs = {(r["from_host"], r["from"], r["to_host"], r["to"]): r
        for r in recs if r["type"] == "segment"}
s1 = segs.get(("hostA", "ax", "hostB", "bx"), {})
s2 = segs.get(("hostB", "by", "hostA", "ay"), {})
check("cross-host segments ax -> bx and by -> ay, 40 packets each, none lost (%s)" %
      sorted(segs), s1.get("packets_out") == 40 and s2.get("packets_out") == 40 and
      s1.get("lost") == 0 and len(segs) == 2)
check("segment latency p50 %s us, p99 %s us: under the limit" % (s1.get("p50_us"),
      s1.get("p99_us")), -lim / 1e3 < s1.get("p50_us", -1e9) <= s1.get("p99_us", 1e9) < lim / 1e3)
check("records: type, time, host first", all(list(r)[:3] == ["type", "time", "host"]
      for r in recs if r["type"] != "segment"))
tr = json.load(open(sys.argv[3]))["traceEvents"]
procs = sorted(e["args"]["name"] for e in tr if e.get("name") == "process_name")
x = [e for e in tr if e["ph"] == "X" and e["name"] == "hostA:ax->hostB:bx"]
check("perfetto: a process per host %s, 40 cross-host slices (%d)" % (procs, len(x)),
      procs == ["host hostA", "host hostB"] and len(x) == 40)
PY
	# bad input
	{ head -n 3 "$TMP/mA.out"; echo 'garbage'; echo '{"type":"event","host":"hostA"}';
	  printf '%070000d\n' 0; tail -n +4 "$TMP/mA.out"; } >"$TMP/bad.jsonl"
	"$MERGE" -j "$TMP/bad.jsonl" "$TMP/mB.out" >"$TMP/bad.out" 2>"$TMP/bad.err"
	rc=$?
	ok=1
	[ "$rc" = 0 ] && grep -q "bad.jsonl:4: not JSON" "$TMP/bad.err" &&
		grep -q "bad.jsonl:5: no packet id" "$TMP/bad.err" &&
		grep -q "bad.jsonl:6: line too long" "$TMP/bad.err" &&
		grep -q '"type":"offset".*"host":"hostA".*"bad_lines":3' "$TMP/bad.out" &&
		grep -q '"type":"offset".*"host":"hostB".*"offset_ns":2[45]' "$TMP/bad.out" && ok=0
	check "merge: garbage lines named by file:line, merge still done (exit $rc)" [ $ok = 0 ]
	expect_usage_error "merge: one file" "$MERGE" "$TMP/mA.out"
	expect_usage_error "merge: missing file" "$MERGE" "$TMP/mA.out" "$TMP/none.jsonl"
	expect_usage_error "merge: a directory" "$MERGE" "$TMP/mA.out" "$TMP"
	expect_usage_error "merge: one host twice" "$MERGE" "$TMP/mA.out" "$TMP/mA.out"
	grep -v '"type":"event"' "$TMP/mB.out" >"$TMP/noev.jsonl"
	"$MERGE" "$TMP/mA.out" "$TMP/noev.jsonl" >/dev/null 2>"$TMP/noev.err"
	rc=$?
	ok=1
	[ "$rc" = 1 ] && [ "$(wc -l <"$TMP/noev.err")" = 1 ] &&
		grep -q "no common packets" "$TMP/noev.err" && ok=0
	check "merge: no common packets: exit 1 ($rc), one line" [ $ok = 0 ]
	echo keep >"$TMP/victim"
	ln -s "$TMP/victim" "$TMP/link.jsonl"
	"$MERGE" -o "$TMP/link.jsonl" "$TMP/mA.out" "$TMP/mB.out" >/dev/null 2>&1
	rc=$?
	ok=1
	[ "$rc" = 0 ] && [ "$(cat "$TMP/victim")" = keep ] && [ ! -L "$TMP/link.jsonl" ] &&
		grep -q '"type":"segment"' "$TMP/link.jsonl" && ok=0
	check "merge: -o over a symlink replaces the link, never writes through it (exit $rc)" \
		[ $ok = 0 ]
	# a point name with a terminal escape sequence and a bell: escaped in the text
	sed 's/"point":"bx"/"point":"\\u001b]0;pwned\\u0007\\u001b[31mbx"/' "$TMP/mB.out" \
		>"$TMP/esc.jsonl"
	"$MERGE" "$TMP/mA.out" "$TMP/esc.jsonl" >"$TMP/esc.txt" 2>&1
	rc=$?
	ok=1
	[ "$rc" = 0 ] && grep -qF 'hostB:\x1b]0;pwned\x07\x1b[31mbx' "$TMP/esc.txt" &&
		! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$TMP/esc.txt" && ok=0
	check "merge: a point name's escape sequence printed as \\x1b...\\x07 (exit $rc)" [ $ok = 0 ]
	merge_rss
}

# 16 generated hosts, 30000 packets h00 <-> the others (bench/tracer_merge.sh):
# memory grows with the event lines, not with hosts x packets (was 2.2x the input).
merge_rss()
{
	local in kib rc ok

	mkdir "$TMP/m16" && "$SELFTESTS_DIR/bench/tracer_merge.sh" --gen "$TMP/m16" 30000 ||
		{ log_fail "merge: cannot generate 16 hosts' input"; return; }
	in=$(cat "$TMP"/m16/h*.jsonl | wc -c)
	"$MERGE" -v -o "$TMP/m16.jsonl" "$TMP"/m16/h*.jsonl >/dev/null 2>"$TMP/m16.err"
	rc=$?
	kib=$(sed -n 's/.*peak memory \([0-9]*\) KiB.*/\1/p' "$TMP/m16.err")
	ok=1
	[ "$rc" = 0 ] && [ $((${kib:-0} * 1024)) -lt $((in / 2)) ] &&
		[ "$(grep -c '"type":"offset".*"estimate":"midpoint"' "$TMP/m16.jsonl")" = 15 ] &&
		ok=0
	check "merge: 16 hosts, 60000 event lines ($((in / 1024)) KiB): peak RSS ${kib:-?} KiB \
under half the input, 15 offsets (exit ${rc:-?})" [ $ok = 0 ]
	rm -rf "$TMP/m16" "$TMP/m16.jsonl" "$TMP/m16.err"
}

# output: where the events go. A drain's batch written out past a bound (here
# every record: BPFNET_TRACER_BATCH_MAX=1) loses nothing; stdout a
# non-blocking pipe nobody reads: what does not fit is counted as lost
# (`lost` records' `unwritten`, the summary's `lost`), every event written or
# counted; stdout
# /dev/full: one error line, tracer stops by itself and exits 1.
case_output()
{
	local pid rc ok

	topo || return
	BPFNET_TRACER_BATCH_MAX=1 tracer_run ob -e -f icmp -p a=tx@eth0%"$c1" \
		-p b=rx@v1%"$hA" || return
	nsexec "$c1" ping -c 10 -i 0.05 -W 2 198.18.10.2 >/dev/null
	sleep 0.6
	tool_stop ob
	pycheck output "$TMP/ob.out" <<'PY'
ev = [r for r in recs if r["type"] == "event"]
lost = [r for r in recs if r["type"] == "lost"]
check("a batch per record: the 20 events of 10 requests, whole lines (%d)" % len(ev),
      len(ev) == 20)
check("nothing lost, nothing unwritten (%d lost records)" % len(lost), lost and
      all(r["events"] == 0 and r["unwritten"] == 0 and r["unwritten_records"] == 0
          for r in lost))
check("summary: no interval record unwritten", [r["unwritten_records"] for r in recs
      if r["type"] == "summary"] == [0])
PY
	# a non-blocking pipe, read only after 400 requests passed: 400 events at a
	python3 - "$TRACER" "$c1" <<'PY' || RET=$ksft_fail
import array, fcntl, json, os, select, signal, subprocess, sys, termios, time
tracer, ns = sys.argv[1], sys.argv[2]
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
p = subprocess.Popen([tracer, "-j", "-e", "-i", "0.5", "-f", "icmp[icmptype] = icmp-echo",
                      "-p", "a=tx@eth0%" + ns], stdout=w, stderr=subprocess.PIPE)
err = b""
end = time.monotonic() + 20
while b"tracer: ready" not in err and time.monotonic() < end and p.poll() is None:
    if select.select([p.stderr], [], [], 0.5)[0]:
        err += os.read(p.stderr.fileno(), 4096)
out = b""
def drain():
    global out
    while select.select([r], [], [], 0)[0]:
        b = os.read(r, 65536)
        if not b:
            break
        out += b
subprocess.run(["ip", "netns", "exec", ns, "ping", "-q", "-c", "400", "-i", "0.002",
                "-s", "600", "-W", "2", "198.18.10.2"], stdout=subprocess.DEVNULL)
# once the pipe is full (what it holds stops growing for 0.5 s: 400 events
# are over twice what it takes), keep it so for over two 0.5 s intervals:
# their records fail too. "Full" for a batch of events is not full for a
# line: a write that fits in the room left in the pipe's last page still
# goes in (a 6.1 guest's interval records did, 50953 bytes queued), so the
# test tops that page up with empty lines until a 1-byte write fails.
def queued():
    n = array.array("i", [0])
    fcntl.ioctl(r, termios.FIONREAD, n)
    return n[0]
end, last, since = time.monotonic() + 30, -1, time.monotonic()
while time.monotonic() < end and time.monotonic() - since < 0.5:
    if queued() != last:
        last, since = queued(), time.monotonic()
    time.sleep(0.05)
topped = 0
try:
    while topped < 65536:
        topped += os.write(w, b"\n")
except BlockingIOError:
    pass
os.close(w)
full = queued()
time.sleep(1.2)
drain()
time.sleep(1.2)
drain()
p.send_signal(signal.SIGINT)
end = time.monotonic() + 20
while p.poll() is None and time.monotonic() < end:
    drain()
    time.sleep(0.05)
drain()
if p.poll() is None:
    p.kill()
err += p.stderr.read()
recs = []
for l in out.split(b"\n"):
    try:
        recs.append(json.loads(l))
    except ValueError:
        pass
ev = sum(1 for x in recs if x.get("type") == "event")
unw = sum(x.get("unwritten", 0) for x in recs if x.get("type") == "lost")
summ = [x for x in recs if x.get("type") == "summary"]
s = summ[0] if summ else {}
# the `lost` records of the intervals the pipe was full in were not written either
ok = (p.returncode == 0 and s.get("events") == 400 and 0 < ev < 400 and
      ev + s.get("lost", -1) == 400 and unw <= s.get("lost", -1) and
      b"cannot write" not in err)
print("[ OK ] " if ok else "[FAIL] ", "output: a full non-blocking pipe: %d of 400 events "
      "written, the rest counted as lost (summary: events %s, lost %s; %d unwritten in the "
      "lost records that got through), exit %s" % (ev, s.get("events"), s.get("lost"), unw,
      p.returncode), sep="")
# the pipe stayed full for 1.2 s (over two 0.5 s intervals): at least one
# interval's records (point, lost, clock: 3) did not get through either,
# counted; the lost records of full intervals were not written, so those
# that got through carry part of the summary's count
urec = s.get("unwritten_records", 0)
seen = sum(x.get("unwritten_records", 0) for x in recs if x.get("type") == "lost")
ok2 = urec >= 3 and seen <= urec
print("[ OK ] " if ok2 else "[FAIL] ", "output: interval records that did not get through "
      "counted: %s in the summary (%d in the lost records that did; %d bytes queued in the "
      "pipe for 1.2 s, %d of them the test's)" % (urec, seen, full, topped), sep="")
sys.exit(0 if ok and ok2 else 1)
PY
	# /dev/full
	"$TRACER" -j -e -f icmp -p a=tx@eth0%"$c1" >/dev/full 2>"$TMP/full.err" &
	pid=$!
	TOOL_PID[full]=$pid
	TOOL_NAMES+=(full)
	wait_until $((20 * SLOW)) grep -q "tracer: ready" "$TMP/full.err"
	nsexec "$c1" ping -c 3 -i 0.1 -W 2 198.18.10.2 >/dev/null
	wait_until $((10 * SLOW)) eval "! kill -0 $pid 2>/dev/null"
	tool_stop full
	rc=${TOOL_RC[full]}
	ok=1
	[ "$rc" = 1 ] && [ "$(grep -vc 'tracer: ready' "$TMP/full.err")" = 1 ] &&
		grep -q "^tracer: cannot write to stdout: No space left on device$" "$TMP/full.err" &&
		ok=0
	check "output: stdout /dev/full: one line, stopped by itself, exit 1 ($rc: \
$(grep -v 'tracer: ready' "$TMP/full.err" | head -c 200))" [ $ok = 0 ]
	# a pipe closed after the first byte (of the config record, written at
	# start): the first write after it is an event batch's, which stops tracer
	rm -f "$TMP/epipe.pid" "$TMP/epipe.rc"
	{ sh -c 'echo $$ > "$0"; exec "$@"' "$TMP/epipe.pid" "$TRACER" -j -e -i 30 -f icmp \
		-p a=tx@eth0%"$c1" 2>"$TMP/epipe.err"; echo $? >"$TMP/epipe.rc"; } |
		head -c 1 >/dev/null &
	wait_until $((20 * SLOW)) grep -q "tracer: ready" "$TMP/epipe.err"
	nsexec "$c1" ping -c 3 -i 0.1 -W 2 198.18.10.2 >/dev/null
	wait_until $((10 * SLOW)) test -s "$TMP/epipe.rc" ||
		kill -9 "$(cat "$TMP/epipe.pid")" 2>/dev/null
	rc=$(cat "$TMP/epipe.rc" 2>/dev/null)
	ok=1
	[ "$rc" = 1 ] && [ "$(grep -vc 'tracer: ready' "$TMP/epipe.err")" = 1 ] &&
		grep -q "^tracer: cannot write to stdout: Broken pipe$" "$TMP/epipe.err" && ok=0
	check "output: stdout a pipe closed while events come: one line, stopped by itself, \
exit 1 ($rc: $(grep -v 'tracer: ready' "$TMP/epipe.err" | head -c 200))" [ $ok = 0 ]
}

case_reload()
{
	local conf=$TMP/reload.conf ids1 ids2

	topo || return
	printf 'point p1=tx@eth0%%%s\npoint p2=rx@v1%%%s\nfilter icmp\n' "$c1" "$hA" >"$conf"
	tracer_run reload -c "$conf" || return
	ids1=$(prog_ids "${TOOL_PID[reload]}")
	nsexec "$c1" ping -c 5 -i 0.1 -W 2 198.18.10.2 >/dev/null
	# a point more and another filter: c1's replies to c2 are no longer followed
	printf 'point p1=tx@eth0%%%s\npoint p2=rx@v1%%%s\npoint p3=tx@uA%%%s\n' \
		"$c1" "$hA" "$hA" >"$conf.new"
	echo "filter icmp[icmptype] = icmp-echo" >>"$conf.new"
	mv "$conf.new" "$conf"
	kill -HUP "${TOOL_PID[reload]}"
	wait_for_file $((20 * SLOW)) "$TMP/reload.out" '"gen":2' || log_fail "reload: no config gen 2"
	ids2=$(prog_ids "${TOOL_PID[reload]}")
	check "reload: the old generation's programs are gone ($(echo $ids1))" \
		wait_until $((5 * SLOW)) progs_gone "$ids1"
	nsexec "$c1" ping -c 5 -i 0.1 -W 2 198.18.10.2 >/dev/null
	nsexec "$c2" ping -c 5 -i 0.1 -W 2 198.18.10.1 >/dev/null
	echo "bogus line" >>"$conf"
	kill -HUP "${TOOL_PID[reload]}"
	wait_for_file $((20 * SLOW)) "$TMP/reload.err" 'reload refused' || log_fail "reload: bad config taken"
	nsexec "$c1" ping -c 5 -i 0.1 -W 2 198.18.10.2 >/dev/null
	sleep 0.8
	tool_stop reload
	check "reload: as many programs after as before ($(echo $ids2))" \
		[ "$(echo $ids1 | wc -w)" = "$(echo $ids2 | wc -w)" ]
	check "reload: one error line for the bad config" \
		[ "$(grep -c 'reload refused, still running generation 2' "$TMP/reload.err")" = 1 ]
	pycheck reload "$TMP/reload.out" <<'EOF'
gens = [r["gen"] for r in recs if r["type"] == "config"]
check("config records gen 1 then 2 (%s)" % gens, gens == [1, 2])
p1 = sum(r["packets"] for r in recs if r["type"] == "point" and r["point"] == "p1")
check("p1 counted c1's 15 echo requests across the switch, nothing lost (%d)" % p1, p1 == 15)
i2 = next(i for i, r in enumerate(recs) if r["type"] == "config" and r["gen"] == 2)
p23 = [r for r in recs[:i2] if r["type"] == "segment" and r["to"] == "p3"]
n23 = sum(r["packets_out"] for r in recs[i2:] if r["type"] == "segment" and
          (r["from"], r["to"]) == ("p2", "p3"))
check("p2->p3 only after the reload, with the 10 requests (%d)" % n23, not p23 and n23 == 10)
check("no event lost", all(r["events"] == 0 for r in recs if r["type"] == "lost"))
EOF
}

# metrics_have_10 NETNS FILE: a scrape into FILE counts p1's 10 packets and
# p2->p3's 10 latencies
metrics_have_10()
{
	nsexec "$1" curl -sf http://127.0.0.1:9464/metrics >"$2" &&
		grep -Eq '^tracer_point_packets_total\{point="p1"\} 10(\.0*)?$' "$2" &&
		grep -Eq '^tracer_segment_latency_seconds_count\{from="p2",to="p3"\} 10(\.0*)?$' "$2"
}

case_metrics()
{
	topo || return
	# in hA's netns, so its port is private to this test
	# shellcheck disable=SC2046
	tool_start met ip netns exec "$hA" "$TRACER" -j $(points) -f 'icmp[icmptype] = icmp-echo' \
		--metrics 9464 || { log_fail "metrics: tracer did not start"; return; }
	nsexec "$c1" ping -c 10 -i 0.1 -W 2 198.18.10.2 >/dev/null
	# /metrics is rebuilt at each 1 s tick: scrape until one after the last
	# ping shows all 10 (or time runs out: the checks below say what it has)
	wait_until $((5 * SLOW)) metrics_have_10 "$hA" "$TMP/metrics.txt"
	[ -s "$TMP/metrics.txt" ] || log_fail "metrics: no answer on /metrics"
	tool_stop met
	check "metrics: SIGINT ended it, exit 0" [ "${TOOL_RC[met]}" = 0 ]
	python3 - "$TMP/metrics.txt" <<'EOF' || RET=$ksft_fail
import os, re, sys
m = {}
for l in open(sys.argv[1]):
    if not l.startswith("#"):
        k, v = l.rsplit(" ", 1)
        m[k] = float(v)
seg = 'from="p2",to="p3"'
want = {'tracer_point_packets_total{point="p1"}': 10,
        'tracer_segment_latency_seconds_count{%s}' % seg: 10,
        'tracer_segment_latency_seconds_bucket{%s,le="0.001048576"}' % seg: 0,
        'tracer_segment_latency_seconds_bucket{%s,le="0.004194304"}' % seg: 10,
        'tracer_segment_latency_seconds_bucket{from="p1",to="p2",le="0.001048576"}': 10}
# under emulation (the VM stages) a vCPU of a busy host stalls now and then,
# for milliseconds (4 of 10 over 4.2 ms, mean 3.7 ms, in one run): there the
# upper bounds hold for the median (5 of 10) and the mean is 1.9-5 ms; the
# lower bound (the delay spins 2 ms) and the counts hold everywhere
vm = os.environ.get("BPFNET_VM") == "1"
slack = {'tracer_segment_latency_seconds_bucket{%s,le="0.004194304"}' % seg,
         'tracer_segment_latency_seconds_bucket{from="p1",to="p2",le="0.001048576"}'}
bad = {k: m.get(k) for k, v in want.items()
       if not (m.get(k) == v or (vm and k in slack and m.get(k, 0) >= v // 2))}
s = m.get('tracer_segment_latency_seconds_sum{%s}' % seg, 0)
ok = not bad and 0.019 < s < (0.050 if vm else 0.025)
print("[ OK ]" if ok else "[FAIL]", "metrics: p1 counted 10, p2->p3's 10 between 1 and 4 ms"
      " (sum %.4f s), p1->p2's under 1 ms%s" % (s, "" if ok else ": wrong %s" % bad))
sys.exit(0 if ok else 1)
EOF
}

# X (198.18.20.1) -- R (DNAT 198.18.22.99 -> 198.18.21.2, masquerade) -- Y (198.18.21.2)
case_nat()
{
	local nX nR nY

	setup_ns nX nR nY || return
	veth "$nX" xa "$nR" ra && veth "$nR" rb "$nY" yb || { log_fail "nat: veths"; return; }
	nsip "$nX" addr add 198.18.20.1/24 dev xa
	nsip "$nR" addr add 198.18.20.254/24 dev ra
	nsip "$nR" addr add 198.18.21.254/24 dev rb
	nsip "$nY" addr add 198.18.21.2/24 dev yb
	nsip "$nX" route add default via 198.18.20.254
	nsexec "$nR" sysctl -qw net.ipv4.ip_forward=1
	nsexec "$nR" iptables -t nat -A PREROUTING -d 198.18.22.99 -j DNAT \
		--to-destination 198.18.21.2 &&
		nsexec "$nR" iptables -t nat -A POSTROUTING -o rb -j MASQUERADE ||
		{ log_fail "nat: iptables"; return; }
	tracer_run nat -p n1=tx@xa%"$nX" -p n2=rx@ra%"$nR" -p n3=tx@rb%"$nR" \
		-p n4=rx@yb%"$nY" -e -f 'icmp[icmptype] = icmp-echo' || return
	nsexec "$nX" ping -c 10 -i 0.1 -W 2 198.18.22.99 >/dev/null ||
		log_fail "nat: ping through the NAT"
	sleep 0.8
	tool_stop nat
	pycheck nat "$TMP/nat.out" <<'EOF'
byid = {}
for r in recs:
    if r["type"] == "event":
        byid.setdefault(r["pkt"], []).append(r)
full = [es for es in byid.values() if [e["point"] for e in es] == ["n1", "n2", "n3", "n4"]
        and (es[0]["src"], es[0]["dst"]) == ("198.18.20.1", "198.18.22.99")
        and (es[3]["src"], es[3]["dst"]) == ("198.18.21.254", "198.18.21.2")]
check("10 echo requests kept one id through DNAT and masquerade (%d of %d ids)" %
      (len(full), len(byid)), len(full) == 10 and len(byid) == 10)
EOF
}

progs_gone()
{
	local id

	for id in $1; do
		bpftool prog show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}

case_kill9()
{
	local ids

	tracer_run k9 -p a=rx -p b=tx -p c=drop -e || return
	ids=$(prog_ids "${TOOL_PID[k9]}")
	check "kill9: tracer holds programs ($(echo $ids))" [ -n "$ids" ]
	tool_stop k9 KILL
	check "kill9: its programs are gone" wait_until $((10 * SLOW)) progs_gone "$ids"
	tracer_run k9b -p a=rx -d 1 || return
	ids=$(prog_ids "${TOOL_PID[k9b]}")
	wait "${TOOL_PID[k9b]}"
	check "duration: exit 0" [ $? = 0 ]
	check "duration: its programs are gone ($(echo $ids))" wait_until $((10 * SLOW)) progs_gone "$ids"
	TOOL_PID[k9b]=
}

# inplace: headers read in place where the kernel allows it (6.17+), else
# copied; told the kernel allows it where it does not (test-only
# BPFNET_TRACER_FORCE_DIRECT), tracer is refused the in-place parser, says
# so with -v, loads the copying one and follows every packet.
case_inplace()
{
	local refused=0 want=0 ok=1

	topo || return
	"$TRACER" -v -p a=rx -d 0.1 >/dev/null 2>"$TMP/ip0.err"
	grep -q "packet headers: copied" "$TMP/ip0.err" && want=1
	BPFNET_TRACER_FORCE_DIRECT=1 tracer_run ip -v -f icmp -p a=tx@eth0%"$c1" \
		-p b=rx@v1%"$hA" || return
	nsexec "$c1" ping -c 5 -i 0.1 -W 2 198.18.10.2 >/dev/null
	sleep 0.6
	tool_stop ip
	grep -q "headers read in place refused" "$TMP/ip.err" && refused=1
	grep -qE "packet headers: (copied|read in place)$" "$TMP/ip0.err" &&
		[ "$refused" = "$want" ] && ok=0
	check "inplace: in-place parser refused ($refused) exactly where tracer copies by itself \
($want: $(grep -m1 'packet headers' "$TMP/ip0.err")): $(grep -m1 'in place' "$TMP/ip.err")" \
		[ $ok = 0 ]
	pycheck inplace "$TMP/ip.out" <<'PY'
seg = [r for r in recs if r["type"] == "segment" and r["from"] == "a" and r["to"] == "b"]
summ = [r for r in recs if r["type"] == "summary"]
pts = {p["point"]: p["packets"] for p in summ[0]["points"]} if summ else {}
check("a and b saw the 5 echo requests (%s)" % pts, pts.get("a") == 5 and pts.get("b") == 5)
check("a -> b: 5 packets, none lost (%d)" % sum(r["packets_out"] for r in seg),
      sum(r["packets_out"] for r in seg) == 5 and sum(r["lost"] for r in seg) == 0)
PY
}

# fn_progs: the ids of loaded fentry/kprobe programs of tracer (tr_fe*, tr_kp*).
fn_progs()
{
	bpftool prog show 2>/dev/null | awk '/ name tr_(fe|kp)[0-9] /{ sub(":", "", $1); print $1 }' |
		sort -n
}

# fn_progs_within IDS: no fentry/kprobe program of tracer but those in IDS (a
# refused instance elsewhere on the host loads its kprobe programs for a moment).
fn_progs_within()
{
	[ -z "$(comm -13 <(echo "$1" | sort) <(fn_progs | sort))" ]
}

# fA (198.18.30.1) fa --veth-- fb fB (198.18.30.2): fA's echo requests pass a
# tracepoint on each side, then ip_rcv (fentry) and icmp_rcv (kprobe) in fB;
# vxlan_xmit (fentry, in the vxlan module's BTF) and ip6_xmit (7 arguments:
# a kprobe on 6.1) are attached, not counted.
# A reload (SIGHUP) makes icmp_rcv an fentry point and drops vxlan_xmit.
case_fpoints()
{
	local nA nB before ids1 ids2 args conf=$TMP/fp.conf

	expect_usage_error "fpoints: no such function" "$TRACER" -p a=fentry:bn_no_such_fn
	expect_usage_error "fpoints: no skb argument" "$TRACER" -p a=kprobe:schedule
	expect_usage_error "fpoints: bad function name" "$TRACER" -p 'a=fentry:a;b'
	setup_ns nA nB || return
	veth "$nA" fa "$nB" fb || { log_fail "fpoints: veth"; return; }
	nsip "$nA" addr add 198.18.30.1/24 dev fa
	nsip "$nB" addr add 198.18.30.2/24 dev fb
	# loads the vxlan module, whose function f5 names
	nsip "$nA" link add vx0 type vxlan id 7 remote 198.18.30.2 dstport 4789 dev fa ||
		{ log_fail "fpoints: vxlan"; return; }
	printf 'point f3=fentry:ip_rcv@fb%%%s\npoint f4=kprobe:icmp_rcv@fb%%%s\n' \
		"$nB" "$nB" >"$conf"
	printf 'point f5=fentry:vxlan_xmit%%%s\nfilter icmp[icmptype] = icmp-echo\n' \
		"$nA" >>"$conf"
	# 7 arguments: more than 6.1's fentry takes, so a kprobe there
	printf 'point f6=fentry:ip6_xmit%%%s\n' "$nA" >>"$conf"
	args=(-p f1=tx@fa%"$nA" -p f2=rx@fb%"$nB" -c "$conf" -e)
	before=$(fn_progs)
	if ! tool_start fp "$TRACER" -j -i 0.5 -v "${args[@]}"; then
		if grep -q 'lacks kprobes and fentry' "$TMP/fp.err"; then
			expect_usage_error "fpoints: refused" "$TRACER" -j "${args[@]}"
			expect_usage_error "fpoints: kprobe refused" "$TRACER" -p a=kprobe:ip_rcv
			check "fpoints: nothing left loaded" wait_until $((5 * SLOW)) fn_progs_within "$before"
			log_skip "fpoints: attach: the kernel lacks kprobes and fentry"
		else
			log_fail "fpoints: tracer did not start"
		fi
		return
	fi
	ids1=$(prog_ids "${TOOL_PID[fp]}")
	nsexec "$nA" ping -c 10 -i 0.1 -W 2 198.18.30.2 >/dev/null ||
		log_fail "fpoints: ping fA -> fB"
	printf 'point f3=fentry:ip_rcv@fb%%%s\npoint f4=fentry:icmp_rcv@fb%%%s\n' \
		"$nB" "$nB" >"$conf.new"
	echo "filter icmp[icmptype] = icmp-echo" >>"$conf.new"
	mv "$conf.new" "$conf"
	kill -HUP "${TOOL_PID[fp]}"
	wait_for_file $((10 * SLOW)) "$TMP/fp.out" '"gen":2' || log_fail "fpoints: no config gen 2"
	ids2=$(prog_ids "${TOOL_PID[fp]}")
	check "fpoints: reload: the old generation's programs are gone ($(echo $ids1))" \
		wait_until $((5 * SLOW)) progs_gone "$ids1"
	nsexec "$nA" ping -c 5 -i 0.1 -W 2 198.18.30.2 >/dev/null ||
		log_fail "fpoints: ping fA -> fB after the reload"
	sleep 0.8
	tool_stop fp
	check "fpoints: exit 0" [ "${TOOL_RC[fp]}" = 0 ]
	check "fpoints: its programs are gone ($(echo $ids2))" wait_until $((10 * SLOW)) progs_gone "$ids2"
	pycheck fpoints "$TMP/fp.out" <<'EOF'
cfgs = [r for r in recs if r["type"] == "config"]
via = [{p["point"]: (p["hook"], p["via"]) for p in c["points"]} for c in cfgs]
check("config gen 1: f3 fentry:ip_rcv by fentry, f4 kprobe:icmp_rcv by kprobe, "
      "f5 fentry:vxlan_xmit (a module's function) by fentry (%s)" % via[0],
      via[0]["f3"] == ("fentry:ip_rcv", "fentry") and via[0]["f1"] == ("tx", "tp_btf") and
      via[0]["f4"] == ("kprobe:icmp_rcv", "kprobe") and
      via[0]["f5"] == ("fentry:vxlan_xmit", "fentry"))
fb = via[0]["f6"][1]
err = open(os.path.join(os.path.dirname(sys.argv[2]), "fp.err")).read()
check("config gen 1: f6 fentry:ip6_xmit by %s (a kprobe says why with -v)" % fb,
      fb == "fentry" or (fb == "kprobe" and
                         "point f6: ip6_xmit attached by a kprobe: fentry failed" in err))
check("config gen 2 after SIGHUP: f4 fentry:icmp_rcv by fentry, no f5, f6 (%s)" % via[1:],
      len(via) == 2 and via[1]["f4"] == ("fentry:icmp_rcv", "fentry") and
      "f5" not in via[1] and "f6" not in via[1])
pk = {}
for r in recs:
    if r["type"] == "point":
        pk[r["point"]] = pk.get(r["point"], 0) + r["packets"]
check("f1..f4 each counted the 15 echo requests across the reload (%s)" % pk,
      all(pk.get(p) == 15 for p in ("f1", "f2", "f3", "f4")))
byid = {}
for r in recs:
    if r["type"] == "event":
        byid.setdefault(r["pkt"], []).append(r)
hooks = [["tx", "rx", "fentry:ip_rcv", h] for h in ("kprobe:icmp_rcv", "fentry:icmp_rcv")]
full = [es for es in byid.values() if [e["point"] for e in es] == ["f1", "f2", "f3", "f4"]
        and [e["prev_point"] for e in es] == ["", "f1", "f2", "f3"]
        and [e["hook"] for e in es] in hooks]
check("each request kept one id f1 -> f2 -> f3 (fentry) -> f4 (kprobe, then fentry) "
      "(%d of %d ids)" % (len(full), len(byid)), len(full) == 15 and len(byid) == 15)
seg = {}
for r in recs:
    if r["type"] == "segment":
        k = (r["from"], r["to"])
        seg[k] = seg.get(k, 0) + r["packets_out"]
check("segments f1->f2, f2->f3, f3->f4 15 packets each (%s)" % seg,
      all(seg.get(k) == 15 for k in (("f1", "f2"), ("f2", "f3"), ("f3", "f4"))))
paths = [[(s["from"], s["to"]) for s in r["segments"]] for r in recs if r["type"] == "path"]
check("a path record f1 -> f2 -> f3 -> f4",
      [("f1", "f2"), ("f2", "f3"), ("f3", "f4")] in paths)
lost = sum(r["events"] for r in recs if r["type"] == "lost")
check("no lost events (%d)" % lost, lost == 0)
EOF
}

run_cases "$@"
exit $RET
