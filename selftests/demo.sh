#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - what `sudo make demo` runs: every built tool against real traffic
# in throwaway namespaces, a few seconds each, output to the terminal.
# Each tool has one function below; a tool that is not built is skipped.

source "$(dirname "$0")/lib.sh"
require_root
trap cleanup EXIT

banner() { printf '\n==== %s ====\n' "$*" >&2; }

# Two namespaces joined by a veth pair: cli (198.18.1.1) and srv (198.18.1.2).
demo_topology()
{
	setup_ns cli srv
	add_veth "$cli" veth-cli "$srv" veth-srv
	add_addrs "$cli" veth-cli 1 1
	add_addrs "$srv" veth-srv 1 2
}

# <!-- demo:elephant -->
# elephant: a node namespace with a bridge, container c1 (zone 1, labelled
# "web") sending an iperf3 elephant to a remote namespace through the node,
# container c2 sending 30 short request/response mice at the same time.
# elephant reports the one elephant (interface vc1, zone 1, workload web),
# never a mouse, and every 2 s the footprint: web heavy, c2 light.
demo_elephant()
{
	local node c1 c2 remote i pid

	setup_ns node c1 c2 remote
	add_bridge "$node" br0
	add_addrs "$node" br0 1 1
	for i in 1 2; do
		local ns

		eval "ns=\$c$i"
		ip -n "$node" link add "vc$i" type veth peer name eth0 netns "$ns"
		ip -n "$ns" link set eth0 up
		add_port "$node" br0 "vc$i"
		add_addrs "$ns" eth0 1 $((10 + i))
		ip -n "$ns" route add default via "$(addr4 1 1)"
	done
	ip -n "$node" link add up0 type veth peer name eth0 netns "$remote"
	ip -n "$node" link set up0 up
	ip -n "$remote" link set eth0 up
	add_addrs "$node" up0 2 1
	add_addrs "$remote" eth0 2 2
	ip -n "$remote" route add 198.18.1.0/24 via "$(addr4 2 1)"
	ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$node" iptables -t raw -A PREROUTING -s "$(addr4 1 11)" -j CT --zone 1
	ip netns exec "$node" iptables -t raw -A PREROUTING -d "$(addr4 1 11)" -j CT --zone 1
	ip netns exec "$node" iptables -t raw -A PREROUTING -s "$(addr4 1 12)" -j CT --zone 2
	ip netns exec "$node" iptables -t raw -A PREROUTING -d "$(addr4 1 12)" -j CT --zone 2
	ip netns exec "$remote" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	ip netns exec "$remote" socat TCP-LISTEN:7000,fork,reuseaddr EXEC:cat >/dev/null 2>&1 &
	sleep 0.5
	ip netns exec "$c1" ping -c1 -W2 "$(addr4 2 2)" >/dev/null
	ip netns exec "$c2" ping -c1 -W2 "$(addr4 2 2)" >/dev/null

	log_info "elephant -i 2 -d 9 --min-bytes 5M --min-duration 2s --label zone:1=web"
	ip netns exec "$node" "$TOP_DIR/elephant/elephant" -i 2 -d 9 --min-bytes 5M \
		--min-duration 2s --label zone:1=web --node demo-node &
	pid=$!
	sleep 1
	for i in $(seq 30); do
		echo "request $i" | ip netns exec "$c2" socat -T 2 - TCP:"$(addr4 2 2)":7000 \
			>/dev/null 2>&1
	done &
	ip netns exec "$c1" iperf3 -c "$(addr4 2 2)" -p 5201 -t 5 -b 100M >/dev/null 2>&1
	wait $pid
}
# <!-- /demo:elephant -->

# <!-- demo:rss -->
# rss: round robin over CPUs 0 and 1 on the server veth; rss-client ramps
# 2k..10k requests/s (90% 6 us, 10% 60 us) and prints a record per step and
# class, then what the queueing model predicts for the same setup.
demo_rss()
{
	local rss=$TOP_DIR/rss/rss cl=$TOP_DIR/rss/rss-client pid err

	demo_topology
	# the replies are redirected into the veth: its peer needs NAPI (GRO)
	ip netns exec "$cli" ethtool -K veth-cli gro on >/dev/null
	ip netns exec "$cli" ping -c 1 -W 2 "$(addr4 1 2)" >/dev/null
	log_info "rss -I veth-srv --policy rr --cpus 0,1 -i 2 (server statistics)"
	# stderr to the terminal and to a file: the client starts on "rss: ready"
	err=$(mktemp /tmp/demo-rss.XXXXXX) || return 0
	on_cleanup "rm -f $err"
	ip netns exec "$srv" "$rss" -I veth-srv --policy rr --cpus 0,1 -i 2 2> >(tee "$err" >&2) &
	pid=$!
	wait_until 20 eval "grep -q '^rss: ready\$' $err || ! kill -0 $pid 2>/dev/null"
	if ! grep -q '^rss: ready$' "$err"; then
		log_info "rss did not start"
		kill -INT "$pid" 2>/dev/null
		wait "$pid"
		return 0
	fi
	log_info "rss-client --clients 2 --ramp 2000:2000:10000 --step-duration 1 --policy rr --cpus 2"
	ip netns exec "$cli" "$cl" --clients 2 --ramp 2000:2000:10000 --step-duration 1 \
		--policy rr --cpus 2 "$(addr4 1 2)"
	kill -INT "$pid"
	wait "$pid"
	log_info "rss-client --model --cpus 2 --long-cpus 1 --mix 90:10"
	"$cl" --model --cpus 2 --long-cpus 1 --mix 90:10
}
# <!-- /demo:rss -->

# <!-- demo:netcost -->
# netcost: 4 s of iperf3 TCP from cli to srv; the per-CPU table and the
# breakdown of where the time goes, every second.
demo_netcost()
{
	local nc=$TOP_DIR/netcost/netcost

	demo_topology
	ip netns exec "$srv" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	wait_listen 5 "$srv" 5201 || return 0
	log_info "netcost -i 1 -d 3 --breakdown, during iperf3 -t 4 over veth"
	"$nc" -i 1 -d 3 --breakdown &
	local pid=$!
	ip netns exec "$cli" iperf3 -c "$(addr4 1 2)" -p 5201 -t 4 >/dev/null 2>&1
	wait "$pid"
}
# <!-- /demo:netcost -->

for tool in elephant rss netcost; do
	if [ ! -x "$TOP_DIR/$tool/$tool" ]; then
		log_info "$tool: not built yet, skipped"
		continue
	fi
	banner "$tool"
	"demo_$tool"
	cleanup
done
exit 0
