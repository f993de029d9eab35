#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_netns.sh - the test topology of lib.sh works and leaves nothing behind:
# two namespaces joined by a veth pair pass ICMP and TCP both ways over IPv4
# and IPv6; cleanup (normal exit and a failing subshell) removes every
# namespace and link it created.

source "$(dirname "$0")/lib.sh"
require_root
require_cmd ip ping socat

trap cleanup EXIT

setup_ns A B || { log_fail "setup_ns"; exit $ksft_fail; }
add_veth "$A" va "$B" vb || { log_fail "add_veth"; exit $ksft_fail; }
add_addrs "$A" va 1 1
add_addrs "$B" vb 1 2

for pair in "$A:$B:2" "$B:$A:1"; do
	IFS=: read -r src dst host <<< "$pair"
	for v in 4 6; do
		if [ $v = 4 ]; then dst_ip=$(addr4 1 "$host"); else dst_ip=$(addr6 1 "$host"); fi
		out=$(ip netns exec "$src" ping -$v -c 3 -i 0.2 -W 2 "$dst_ip" 2>&1)
		check "ping IPv$v ${src%%-[0-9]*} -> $dst_ip: 3 of 3 replies" \
			grep -q '3 received' <<< "$out"

		# 256 KiB over TCP, byte count checked on the receiving side
		port=$((20000 + RANDOM % 10000))
		if [ $v = 4 ]; then
			listen="TCP4-LISTEN:$port,reuseaddr"; conn="TCP4:$dst_ip:$port"
		else
			listen="TCP6-LISTEN:$port,reuseaddr"; conn="TCP6:[$dst_ip]:$port"
		fi
		rx=$(mktemp)
		timeout 20 ip netns exec "$dst" socat -u "$listen" "OPEN:$rx,creat,trunc" &
		srv=$!
		wait_listen $((5 * SLOW)) "$dst" "$port"
		head -c 262144 /dev/zero | timeout 20 ip netns exec "$src" socat -u - "$conn"
		wait $srv
		check "TCP IPv$v -> $dst_ip: 262144 bytes arrived" \
			test "$(stat -c %s "$rx")" -eq 262144
		rm -f "$rx"
	done
done

# Cleanup proof 1: what this test made goes away.
made_ns=("${NS_LIST[@]}")
cleanup
left=$(ip netns list | grep -cE "^(${made_ns[0]}|${made_ns[1]})( |$)")
check "cleanup removed both namespaces" test "$left" -eq 0

# Cleanup proof 2: a failing test in a subshell, with a host-side veth and a
# bridge in the current namespace, leaves nothing after its EXIT trap.
name_file=$(mktemp)
(
	trap cleanup EXIT
	setup_ns C
	add_veth "" "bnt$$" "$C" vc
	add_bridge "" "bnb$$"
	add_port "" "bnb$$" "bnt$$"
	echo "$C" > "$name_file"
	exit 1
)
c_ns=$(cat "$name_file")
rm -f "$name_file"
check "failing subshell created its namespace" test -n "$c_ns"
check "failing subshell left no namespace" \
	bash -c "! ip netns list | grep -q '^$c_ns\\b'"
check "failing subshell left no link" \
	bash -c "! ip link show bnt$$ >/dev/null 2>&1 && ! ip link show bnb$$ >/dev/null 2>&1"

exit $RET
