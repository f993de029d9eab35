#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_netcost.sh - netcost against real traffic between two namespaces.
#
# cli (198.18.1.1) --veth-- br0 in srv (198.18.1.2), with a conntrack rule in
# srv, so the receive path crosses a bridge and netfilter. iperf3 client and
# server each run in a cgroup the test creates. Checks, on netcost's JSON:
# the socket-send time is in the sender's cgroup and the socket-receive time
# in the receiver's, NET_RX and socket time are well above what an idle run
# shows, no CPU is ever above 100%, NET_RX+NET_TX never exceed all softirq
# time, the breakdown sums to 100% and shows TCP, socket copy, bridge and
# netfilter (UDP for UDP traffic), /proc/stat agrees with the softirq time.
# Then: both samplers, --folded, --metrics, text output, bad input, no
# privileges, SIGINT/SIGTERM/kill -9 leave no program loaded, and the
# fentry/kprobe backends where the kernel can attach them (the VM stage).

source "$(dirname "$0")/lib.sh"

NETCOST=$TOP_DIR/netcost/netcost
require_root
require_cmd iperf3 python3 bpftool socat setpriv iptables
trap cleanup EXIT

if [ ! -x "$NETCOST" ]; then
	log_fail "$NETCOST not built (run make)"
	exit $ksft_fail
fi

TMP=$(mktemp -d /tmp/test_netcost.XXXXXX)
on_cleanup "rm -rf $TMP"

# ---- helpers ----

# Programs netcost loaded (all named nc_*) that are still in the kernel.
nc_progs()
{
	bpftool prog show 2>/dev/null | grep -cE '^[0-9]+: .* name nc_'
}

no_nc_progs()
{
	[ "$(nc_progs)" = 0 ]
}

# cgroup v2: use the mounted hierarchy or mount one for the test.
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$CG2" ]; then
	CG2=$TMP/cgroup2
	mkdir -p "$CG2"
	if ! mount -t cgroup2 none "$CG2"; then
		log_skip "cgroup v2 not available"
		exit $ksft_skip
	fi
	on_cleanup "umount $CG2"
fi
CG_NAME=bn-netcost-$$
CGS=$CG2/$CG_NAME
mkdir -p "$CGS/snd" "$CGS/rcv" || { log_fail "cannot create cgroups"; exit 1; }
on_cleanup "cat $CGS/*/cgroup.procs | xargs -r kill -9; sleep 0.3;" \
	"rmdir $CGS/snd $CGS/rcv $CGS"

# in_cg CGROUP cmd...: run cmd inside CGROUP.
in_cg()
{
	local cg=$1

	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# ---- topology ----

setup_ns cli srv || { log_fail "cannot create namespaces"; exit 1; }
# unique names: the pair is created in the root namespace, where other tests run too
VC=ncc$$
VS=ncs$$
add_veth "$cli" $VC "$srv" $VS || { log_fail "cannot create veth $VC/$VS"; exit 1; }
add_addrs "$cli" $VC 1 1
nsip "$srv" link add br0 type bridge
nsip "$srv" link set $VS master br0
nsip "$srv" link set br0 up
add_addrs "$srv" br0 1 2
if ! nsexec "$srv" iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED,NEW \
	-j ACCEPT; then
	log_fail "cannot add a conntrack rule in the server namespace"
	exit 1
fi
SRV=$(addr4 1 2)
wait_until $((5 * SLOW)) nsexec "$cli" ping -c1 -W1 "$SRV" >/dev/null ||
	{ log_fail "no connectivity between the namespaces"; exit 1; }

# The checks on netcost's JSON output, one python function per check.
cat > "$TMP/check.py" <<'EOF'
import json, sys

def load(path):
    recs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError as e:
                    sys.exit("line %d is not JSON: %s" % (n, e))
    return recs

def cpu_rows(recs, average=False):
    return [r for r in recs if r.get("type") == "cpu" and r["average"] == average]

def all_rows(recs, average=False):
    return [r for r in cpu_rows(recs, average) if r["cpu"] == "all"]

def die(msg):
    print(msg)
    sys.exit(1)

def fields(recs):
    need = ["time", "cpu", "net_rx_pct", "net_tx_pct", "sock_send_pct", "sock_recv_pct",
            "total_pct", "net_rx_ns", "net_tx_ns", "sock_send_ns", "sock_recv_ns",
            "total_ns", "softirq_ns", "procstat_softirq_ns", "interval_ns"]
    rows = cpu_rows(recs)
    if not rows or not all_rows(recs, True):
        die("no interval or no average rows")
    for r in rows:
        for k in need:
            if k not in r:
                die("field %s missing in %s" % (k, r))
            if k != "cpu" and not isinstance(r[k], (int, float)):
                die("field %s is not a number: %r" % (k, r[k]))
        s = r["net_rx_ns"] + r["net_tx_ns"] + r["sock_send_ns"] + r["sock_recv_ns"]
        if s != r["total_ns"]:
            die("total_ns %d != sum of parts %d" % (r["total_ns"], s))

def max100(recs):
    for r in cpu_rows(recs) + cpu_rows(recs, True):
        if r["cpu"] == "all":
            continue
        if r["total_pct"] > 100.5:
            die("cpu %s at %.2f%% > 100%%" % (r["cpu"], r["total_pct"]))
        if r["net_rx_ns"] + r["net_tx_ns"] > r["softirq_ns"] * 1.001 + 1000:
            die("cpu %s: NET_RX+NET_TX %d > all softirqs %d" %
                (r["cpu"], r["net_rx_ns"] + r["net_tx_ns"], r["softirq_ns"]))

def peak(recs, key):
    return max(r[key] for r in all_rows(recs))

def busy(recs, idle_path, name, send_min, recv_min, rx_min):
    # Other load on the machine only adds: socket time is judged on the
    # test's own cgroups, NET_RX (no task to charge) on the machine's peak.
    idle = all_rows(load(idle_path), True)[0]
    cgs = {r["cgroup"]: r for r in recs if r.get("type") == "cgroup" and r["average"]}
    snd = cgs.get("/%s/snd" % name, {}).get("sock_send_pct", 0)
    rcv = cgs.get("/%s/rcv" % name, {}).get("sock_recv_pct", 0)
    for what, v, lim in (("sender cgroup sock_send_pct", snd, float(send_min)),
                         ("receiver cgroup sock_recv_pct", rcv, float(recv_min)),
                         ("machine net_rx_pct peak", peak(recs, "net_rx_pct"), float(rx_min))):
        if v < lim:
            die("%s %.3f%% < %.2f%%" % (what, v, lim))
        print("# %s %.2f%%" % (what, v))
    print("# idle run: send %.3f%%, recv %.3f%%, net_rx %.3f%% of the machine" %
          (idle["sock_send_pct"], idle["sock_recv_pct"], idle["net_rx_pct"]))

def cgroup(recs, name, role):
    cgs = {r["cgroup"]: r for r in recs if r.get("type") == "cgroup" and r["average"]}
    snd = cgs.get("/%s/snd" % name)
    rcv = cgs.get("/%s/rcv" % name)
    if role == "idle":
        for c in (snd, rcv):
            if c and c["sock_send_ns"] + c["sock_recv_ns"] > 0:
                die("idle run charged %s" % c)
        return
    if not snd or not rcv:
        a = all_rows(recs, True)[0]
        die("sender or receiver cgroup missing: %s; whole run: send %d ns/%d ops, recv %d "
            "ns/%d ops, untimed %d, errors %d" % (sorted(cgs), a["sock_send_ns"], a["send_ops"],
            a["sock_recv_ns"], a["recv_ops"], a["untimed_ops"], a["errors"]))
    if snd["sock_send_ns"] <= 2 * snd["sock_recv_ns"] or snd["send_ops"] == 0:
        die("sender cgroup: send %d ns not well above recv %d ns" %
            (snd["sock_send_ns"], snd["sock_recv_ns"]))
    if rcv["sock_recv_ns"] <= rcv["sock_send_ns"] or rcv["recv_ops"] == 0:
        die("receiver cgroup: recv %d ns not above send %d ns" %
            (rcv["sock_recv_ns"], rcv["sock_send_ns"]))
    print("# sender cgroup %d ns send, receiver cgroup %d ns recv" %
          (snd["sock_send_ns"], rcv["sock_recv_ns"]))

def breakdown(recs, want):
    cats = {r["category"]: r for r in recs if r.get("type") == "breakdown" and r["average"]}
    if not cats:
        die("no breakdown records")
    total = sum(c["pct"] for c in cats.values())
    if abs(total - 100) > 0.5:
        die("categories sum to %.2f%%" % total)
    for kind in ("net_rx_pct", "sock_send_pct", "sock_recv_pct"):
        s = sum(c[kind] for c in cats.values())
        if s and abs(s - 100) > 0.5:
            die("%s categories sum to %.2f%%" % (kind, s))
    for w in want.split(","):
        cat, kind = w.split(":")
        if cats[cat][kind] <= 0:
            die("category %s has no %s samples: %s" % (cat, kind, cats[cat]))
    lost = all_rows(recs, True)[0]["samples_lost"]
    print("# breakdown: %s; %d samples, %d lost" %
          (", ".join("%s %.1f%%" % (k, v["pct"]) for k, v in sorted(cats.items())
                     if v["pct"] > 0), all_rows(recs, True)[0]["samples"], lost))

def procstat(recs):
    a = all_rows(recs, True)[0]
    bpf, stat = a["softirq_ns"], a["procstat_softirq_ns"]
    print("# softirq: netcost %d ns, /proc/stat %d ns" % (bpf, stat))
    if stat < 50e6:
        return	# too few ticks to compare
    if not 0.5 <= bpf / stat <= 2:
        die("netcost softirq %d ns vs /proc/stat %d ns: off by more than 2x" % (bpf, stat))

recs = load(sys.argv[2])
globals()[sys.argv[1]](recs, *sys.argv[3:])
EOF

# check NAME FILE args...: run a check of check.py, log OK/FAIL.
jcheck()
{
	local what=$1 out

	shift
	if out=$(python3 "$TMP/check.py" "$@" 2>&1); then
		[ -n "$out" ] && echo "$out"
		log_ok "$what"
	else
		log_fail "$what: $out"
	fi
}

attached_or_gone()
{
	grep -q "links attached" "$1" 2>/dev/null || ! kill -0 "$2" 2>/dev/null
}

# start_netcost OUT ERR args...: netcost in the background, attached when it
# says which backend it uses; NC_PID is its pid.
start_netcost()
{
	local out=$1 err=$2

	shift 2
	${NC_NS:+ip netns exec "$NC_NS"} "$NETCOST" "$@" > "$out" 2> "$err" &
	NC_PID=$!
	on_cleanup "kill -9 $NC_PID"
	wait_until $((30 * SLOW)) attached_or_gone "$err" $NC_PID
	grep -q "links attached" "$err" && return 0
	# say where it is stuck, for the failure message
	echo "(pid $NC_PID: $(ps -o stat=,wchan:32= -p $NC_PID 2>/dev/null || echo gone);" \
	     "syscall: $(cut -d' ' -f1 /proc/$NC_PID/syscall 2>/dev/null);" \
	     "kernel stack: $(tr '\n' ' ' < /proc/$NC_PID/stack 2>/dev/null | cut -c1-300);" \
	     "user stack: $(command -v gdb >/dev/null && gdb -p $NC_PID -batch -ex bt 2>/dev/null |
			    grep '^#' | tr '\n' ' ' | cut -c1-600))" >> "$err"
	return 1
}

# traffic tcp|udp SECONDS: iperf3 from the sender's to the receiver's cgroup.
traffic()
{
	local proto=$1 secs=$2 port=$((5200 + RANDOM % 100)) opt=()

	[ "$proto" = udp ] && opt=(-u -b "${UDP_RATE:-200M}" -l 1200)
	in_cg "$CGS/rcv" ip netns exec "$srv" iperf3 -s -1 -p "$port" > "$TMP/iperf-s.log" 2>&1 &
	wait_listen $((5 * SLOW)) "$srv" "$port" || return 1
	in_cg "$CGS/snd" ip netns exec "$cli" timeout $((secs * 3 + 20)) \
		iperf3 -c "$SRV" -p "$port" -t "$secs" "${opt[@]}" > "$TMP/iperf-c.log" 2>&1
}

# measure OUT tcp|udp args...: netcost around MEASURE_SECS (default 3, x SLOW)
# seconds of traffic.
wakeups()
{
	awk '$1 == "voluntary_ctxt_switches:" { print $2 }' "/proc/$1/status" 2>/dev/null ||
		echo 0
}

measure()
{
	local out=$1 proto=$2 secs=$((${MEASURE_SECS:-3} * SLOW))

	shift 2
	if ! start_netcost "$out" "$out.err" -j -i 1 -d $((secs + 2 * SLOW)) --cgroups=50 "$@"; then
		grep -q "backend unavailable" "$out.err" && return $ksft_skip
		log_fail "netcost $* did not start: $(cat "$out.err")"
		return 1
	fi
	sleep 1
	local w0 t0=$SECONDS

	w0=$(wakeups $NC_PID)
	traffic "$proto" "$secs" || log_fail "iperf3 $proto failed: $(tail -3 "$TMP/iperf-c.log")"
	# how often netcost slept and woke up while the traffic ran
	MEASURE_WAKEUPS=$(($(wakeups $NC_PID) - w0))
	MEASURE_RUN=$((SECONDS - t0 + 1))
	log_info "iperf3 $proto: $(grep -E 'sender|receiver' "$TMP/iperf-c.log" | tail -1)"
	wait "$NC_PID"
	local rc=$?

	[ $rc = 0 ] || { log_fail "netcost $* exited with $rc: $(cat "$out.err")"; return 1; }
}

# ---- idle ----

start_netcost "$TMP/idle.json" "$TMP/idle.err" -j -i 1 -d $((1 + SLOW)) --cgroups=50 ||
	{ log_fail "netcost did not start: $(cat "$TMP/idle.err")"; exit 1; }
wait "$NC_PID"
jcheck "idle: JSON fields" fields "$TMP/idle.json"
jcheck "idle: nothing charged to the test's cgroups" cgroup "$TMP/idle.json" "$CG_NAME" idle
log_info "$(grep -o 'backend .*' "$TMP/idle.err")"
AUTO=$(sed -n 's/^netcost: backend \([a-z]*\),.*/\1/p' "$TMP/idle.err")

# ---- TCP through the bridge and conntrack, with the array sampler ----

if measure "$TMP/tcp.json" tcp --breakdown --freq 1999 --folded "$TMP/tcp.folded"; then
	jcheck "tcp: JSON fields" fields "$TMP/tcp.json"
	jcheck "tcp: no CPU above 100%, NET_RX+NET_TX within softirq time" max100 "$TMP/tcp.json"
	jcheck "tcp: send, receive and NET_RX time well above idle" busy "$TMP/tcp.json" \
		"$TMP/idle.json" "$CG_NAME" 0.5 0.25 0.5
	jcheck "tcp: socket time charged to the sender's and receiver's cgroups" \
		cgroup "$TMP/tcp.json" "$CG_NAME" busy
	jcheck "tcp: breakdown sums to 100%, shows tcp, socket copy, bridge, netfilter" \
		breakdown "$TMP/tcp.json" \
		"tcp:pct,socket_copy:pct,bridge:net_rx_pct,netfilter:net_rx_pct"
	if [ "${BPFNET_VM:-0}" = 1 ]; then
		# /proc/stat tick sampling is unreliable under TCG: only print it
		python3 "$TMP/check.py" procstat "$TMP/tcp.json" | grep '^#'
	else
		jcheck "tcp: softirq time agrees with /proc/stat" procstat "$TMP/tcp.json"
	fi
	if grep -qE '^sock_(send|recv);.*tcp_(send|recv)msg.* [0-9]+$' "$TMP/tcp.folded"; then
		log_ok "tcp: --folded wrote stacks through tcp_sendmsg/tcp_recvmsg"
	else
		log_fail "tcp: --folded file lacks TCP socket stacks: $(head -3 "$TMP/tcp.folded")"
	fi
fi

# ---- UDP, with the ring buffer sampler ----

[ "${BPFNET_VM:-0}" = 1 ] && UDP_RATE=30M
if measure "$TMP/udp.json" udp --breakdown --sampler ringbuf; then
	jcheck "udp: JSON fields" fields "$TMP/udp.json"
	jcheck "udp: no CPU above 100%" max100 "$TMP/udp.json"
	jcheck "udp: send, receive and NET_RX time well above idle" busy "$TMP/udp.json" \
		"$TMP/idle.json" "$CG_NAME" 0.1 0.05 0.1
	jcheck "udp: socket time charged to the sender's and receiver's cgroups" \
		cgroup "$TMP/udp.json" "$CG_NAME" busy
	jcheck "udp: ring buffer breakdown shows udp" breakdown "$TMP/udp.json" "udp:pct"
	# the ring is read every 100 ms and reports come every second: no wakeup
	# per sample (an IPI and two context switches each)
	samples=$(python3 -c 'import json, sys
print([r for r in map(json.loads, open(sys.argv[1])) if r.get("type") == "cpu" and
       r["cpu"] == "all" and r["average"]][0]["samples"])' "$TMP/udp.json")
	if [ "$MEASURE_WAKEUPS" -le $((11 * MEASURE_RUN + 10)) ]; then
		log_ok "udp: ring buffer read in batches: $MEASURE_WAKEUPS wakeups in" \
		       "${MEASURE_RUN}s ($samples samples in the run)"
	else
		log_fail "udp: ring buffer woke netcost $MEASURE_WAKEUPS times in ${MEASURE_RUN}s" \
			 "(at most $((11 * MEASURE_RUN + 10)): 10 reads and 1 report a second;" \
			 "$samples samples in the run)"
	fi
fi

# ---- lost samples: a sample buffer too small for the rate is counted, shown ----

rate=$(sysctl -n kernel.perf_event_max_sample_rate 2>/dev/null || echo 2000)
[ "$rate" -gt 2000 ] && rate=2000
if start_netcost "$TMP/lost.out" "$TMP/lost.err" -i 1 -d $((3 * SLOW)) --breakdown \
	--freq "$rate" --slots 16; then
	traffic tcp $((2 * SLOW)) || log_fail "iperf3 tcp failed: $(tail -3 "$TMP/iperf-c.log")"
	wait "$NC_PID"
	if grep -qE '^Average +\(lost\) .* [1-9][0-9]*$' "$TMP/lost.out"; then
		log_ok "lost samples counted and shown: $(grep -E '^Average +\(lost\)' \
			"$TMP/lost.out" | awk '{ print $NF }') with 16 slots at $rate Hz"
	else
		log_fail "no lost samples shown: $(grep -E '\(lost\)' "$TMP/lost.out" | tail -1)"
	fi
else
	log_fail "netcost --slots 16 did not start: $(cat "$TMP/lost.err")"
fi

# ---- text output ----

"$NETCOST" -i 0.5 -d 1 -c 0 > "$TMP/text.out" 2> "$TMP/text.err"
if head -1 "$TMP/text.out" | grep -q '^TIME *CPU *NET_RX% *NET_TX% *SEND% *RECV% *TOTAL%' &&
   grep -qE '^[0-9:]+ +0 ' "$TMP/text.out" && grep -qE '^Average +all ' "$TMP/text.out" &&
   ! grep -qE '^[0-9:]+ +1 ' "$TMP/text.out"; then
	log_ok "text: header, CPU 0 rows only (-c 0), all row, Average"
else
	log_fail "text output: $(head -3 "$TMP/text.out") $(cat "$TMP/text.err")"
fi

# ---- metrics ----

MPORT=$((9400 + RANDOM % 500))
NC_NS=$srv start_netcost "$TMP/m.out" "$TMP/m.err" -i 0.5 -d $((10 * SLOW)) \
	--metrics "127.0.0.1:$MPORT" || log_fail "netcost --metrics did not start"
scrape()
{
	printf 'GET /metrics HTTP/1.0\r\n\r\n' |
		ip netns exec "$srv" socat -t 2 - "TCP:127.0.0.1:$MPORT" \
		> "$TMP/metrics" 2>/dev/null
	grep -q '^netcost_cpu_ratio{cpu="0",kind="net_rx"} [0-9.]*$' "$TMP/metrics"
}
if wait_until $((8 * SLOW)) scrape && grep -q '^HTTP/1.0 200' "$TMP/metrics" &&
   grep -q '^netcost_cpu_seconds_total{cpu="0",kind="sock_send"} ' "$TMP/metrics" &&
   grep -q '^# TYPE netcost_cpu_seconds_total counter' "$TMP/metrics"; then
	log_ok "metrics: Prometheus exposition on port $MPORT"
else
	log_fail "metrics: $(head -5 "$TMP/metrics" 2>/dev/null)"
fi
kill -INT "$NC_PID"
wait "$NC_PID"

# ---- bad input: usage errors, nothing left loaded ----

bad=0
for args in "-c 999" "-c x" "--freq 0" "--freq 200000" "--backend bogus" "-i 0" \
	    "-d -1" "--metrics 70000" "--metrics 1.2.3:80" "--sampler mmap" "--cgroups=0" \
	    "stray-arg"; do
	# shellcheck disable=SC2086
	"$NETCOST" $args > "$TMP/bad.out" 2> "$TMP/bad.err"
	rc=$?
	if [ $rc != 2 ] || [ -s "$TMP/bad.out" ] || ! grep -q '^netcost: ' "$TMP/bad.err"; then
		log_fail "bad input '$args': exit $rc, stderr: $(head -1 "$TMP/bad.err")"
		bad=1
	fi
done
[ $bad = 0 ] && log_ok "bad input: exit 2 with one error line, nothing on stdout"

if "$NETCOST" -h | grep -q '^EXAMPLES:' && "$NETCOST" -V | grep -q '^netcost '; then
	log_ok "-h prints usage with examples, -V the version"
else
	log_fail "-h or -V output"
fi

"$NETCOST" -d 1 --folded /nonexistent/dir/x.folded > /dev/null 2> "$TMP/bad.err"
rc=$?
if [ $rc = 1 ] && grep -q '^netcost: cannot write /nonexistent/dir/x.folded' "$TMP/bad.err"; then
	log_ok "unwritable --folded file: exit 1, error named"
else
	log_fail "unwritable --folded: exit $rc: $(cat "$TMP/bad.err")"
fi

setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all \
	"$NETCOST" -d 1 > "$TMP/bad.out" 2> "$TMP/bad.err"
rc=$?
if [ $rc = 1 ] && grep -q 'missing capability CAP_' "$TMP/bad.err"; then
	log_ok "unprivileged: exit 1, names the capability"
else
	log_fail "unprivileged: exit $rc: $(cat "$TMP/bad.err")"
fi

# ---- signals: SIGINT/SIGTERM end cleanly with the summary, kill -9 leaves nothing ----

for sig in INT TERM KILL; do
	# perf event links too, on the clean and on the kill -9 path (netcost
	# bounds its /proc/kallsyms read, which has been seen to stall here)
	bd=()
	[ $sig != TERM ] && bd=(--breakdown)
	start_netcost "$TMP/sig.out" "$TMP/sig.err" -i 0.2 "${bd[@]}" ||
		{ log_fail "SIG$sig: netcost did not start: $(cat "$TMP/sig.err")"; continue; }
	wait_for_file $((10 * SLOW)) "$TMP/sig.out" ' all ' || log_fail "SIG$sig: no output"
	kill -"$sig" "$NC_PID"
	{ wait "$NC_PID"; } 2>/dev/null
	rc=$?
	if [ $sig != KILL ] && { [ $rc != 0 ] || ! grep -q '^Average *all' "$TMP/sig.out"; }; then
		log_fail "SIG$sig: exit $rc, summary missing; stderr: $(cat "$TMP/sig.err")"
	elif ! wait_until $((10 * SLOW)) no_nc_progs; then
		log_fail "SIG$sig: $(nc_progs) netcost programs still loaded"
	else
		log_ok "SIG$sig: stopped, no program left loaded"
	fi
done

# ---- the other backends (fentry and kprobe attach in the VM stage only) ----

for b in tracepoint fentry kprobe; do
	[ "$b" = "$AUTO" ] && continue
	MEASURE_SECS=2 measure "$TMP/$b.json" tcp --backend $b
	case $? in
	0)
		jcheck "$b: JSON fields" fields "$TMP/$b.json"
		jcheck "$b: no CPU above 100%" max100 "$TMP/$b.json"
		jcheck "$b: send, receive and NET_RX time well above idle" busy "$TMP/$b.json" \
			"$TMP/idle.json" "$CG_NAME" 0.5 0.25 0.5
		jcheck "$b: socket time charged to the right cgroups" \
			cgroup "$TMP/$b.json" "$CG_NAME" busy
		;;
	"$ksft_skip")
		log_skip "$b backend: $(head -1 "$TMP/$b.json.err")"
		;;
	esac
done

wait_until $((10 * SLOW)) no_nc_progs || log_fail "netcost programs left loaded at the end"
exit $RET
