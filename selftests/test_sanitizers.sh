#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_sanitizers.sh - the C selftests and a short real run of every tool
# (elephant, netcost, rss and rss-client on real traffic in namespaces),
# built with AddressSanitizer and UBSan (`make SAN=1`, which `make check`
# builds before the tests). Any sanitizer report fails the test. Host stage
# only (TEST_HOST_ONLY): the VM stage runs the normal build.

source "$(dirname "$0")/lib.sh"

SAN_BIN=$TOP_DIR/.output/san/bin
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=66
export LSAN_OPTIONS=suppressions=$SELFTESTS_DIR/lsan.supp

require_root
trap cleanup EXIT
make_tmp test_sanitizers

if [ ! -d "$SAN_BIN/selftests" ]; then
	log_fail "no sanitizer build in $SAN_BIN: run make SAN=1"
	exit $ksft_fail
fi

# san_ok NAME LOG: no sanitizer report in LOG.
san_ok()
{
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$2"; then
		log_fail "$1: sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:' "$2")"
		sed 's/^/# /' "$2" | head -40
		return 1
	fi
	return 0
}

case_ctests()
{
	local t rc

	for t in $(make -s -C "$SELFTESTS_DIR" print-gen-progs); do
		"$SAN_BIN/selftests/$t" >"$TMP/$t.log" 2>&1
		rc=$?
		san_ok "$t" "$TMP/$t.log" || continue
		# 4: the whole test skipped (no root, no kernel feature)
		if [ "$rc" = 0 ]; then
			log_ok "$t under ASan/UBSan ($(grep -m1 -E '^# PASSED' "$TMP/$t.log"))"
		elif [ "$rc" = 4 ]; then
			log_ok "$t under ASan/UBSan: skipped ($(grep -m1 -i 'skip' "$TMP/$t.log"))"
		else
			log_fail "$t under ASan/UBSan: exit $rc"
			grep -E '^#.*(FAIL|Expected)' "$TMP/$t.log" | head -10
		fi
	done
}

# san_run NAME cmd...: run a tool (already bounded by -d) and check its exit
# status and that the sanitizers said nothing.
san_run()
{
	local name=$1 rc

	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
	san_ok "$name" "$TMP/$name.err" || return 1
	if [ "$rc" = 0 ] && [ -s "$TMP/$name.out" ]; then
		log_ok "$name under ASan/UBSan: exit 0, $(wc -l <"$TMP/$name.out") records"
	else
		log_fail "$name under ASan/UBSan: exit $rc: $(head -c 300 "$TMP/$name.err")"
	fi
}

# One short real run of every tool on real traffic, with what it parses most
# (netlink, conntrack events, ring buffers, /proc/kallsyms, HTTP scrapes).
case_tools()
{
	local b=$SAN_BIN port=$((20000 + $$ % 20000)) S4

	source "$SELFTESTS_DIR/elephant_topo.sh"
	el_topology 1 || { log_fail "topology"; return; }
	S4=$(addr4 2 2)
	ip netns exec "$remote" iperf3 -s -D -1 -p $port >/dev/null 2>&1
	on_cleanup "ip netns pids $remote | xargs -r kill"
	( sleep 1; ip netns exec "$c1" iperf3 -c "$S4" -p $port -t 2 -b 50M >/dev/null 2>&1
	  ip netns exec "$node" curl -s "http://127.0.0.1:$port/metrics" >/dev/null ) &
	san_run elephant ip netns exec "$node" "$b/elephant/elephant" --backend tc -j -i 1 -d 4 \
		--min-bytes 1M --min-duration 1s --metrics $port
	wait
	# netcost sees the whole machine from any netns: serve its metrics in
	# the test's own, where no other program can hold the port
	( sleep 1; ip netns exec "$node" ping -c 20 -i 0.05 -q 127.0.0.1 >/dev/null
	  ip netns exec "$node" curl -s "http://127.0.0.1:$port/metrics" >/dev/null ) &
	san_run netcost ip netns exec "$node" "$b/netcost/netcost" -j -i 1 -d 3 --breakdown \
		--freq 199 --metrics $port
	wait
	setup_ns rc rs
	add_veth "$rc" san-c "$rs" san-s 2 || { log_fail "veth"; return; }
	add_addrs "$rc" san-c 3 1
	add_addrs "$rs" san-s 3 2
	ip netns exec "$rc" ethtool -K san-c gro on >/dev/null
	ip netns exec "$rc" ping -c 1 -W 2 "$(addr4 3 2)" >/dev/null
	rm -f "$TMP/rss.err"
	( wait_for_file $((10 * SLOW)) "$TMP/rss.err" "rss: ready"
	  ip netns exec "$rc" "$b/rss/rss-client" --port $port -j -d 2 --rate 500 \
		"$(addr4 3 2)" >"$TMP/client.out" 2>"$TMP/client.err"; echo $? >"$TMP/client.rc" ) &
	san_run rss ip netns exec "$rs" "$b/rss/rss" -I san-s --port $port -j -i 1 -d 5
	wait
	san_ok rss-client "$TMP/client.err" &&
		if [ "$(cat "$TMP/client.rc")" = 0 ] && [ -s "$TMP/client.out" ]; then
			log_ok "rss-client under ASan/UBSan: exit 0, $(wc -l <"$TMP/client.out") records"
		else
			log_fail "rss-client under ASan/UBSan: exit $(cat "$TMP/client.rc"):" \
				"$(head -c 300 "$TMP/client.err")"
		fi
}

CASES=(ctests tools)
run_cases "$@"
exit $RET
