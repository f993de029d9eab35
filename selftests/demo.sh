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
demo_elephant() { :; }
# <!-- /demo:elephant -->

# <!-- demo:rss -->
# rss: round robin over CPUs 0 and 1 on the server veth; rss-client ramps
# 2k..10k requests/s (90% 6 us, 10% 60 us) and prints a record per step and
# class, then what the queueing model predicts for the same setup.
demo_rss()
{
	local rss=$TOP_DIR/rss/rss cl=$TOP_DIR/rss/rss-client pid

	demo_topology
	# the replies are redirected into the veth: its peer needs NAPI (GRO)
	ip netns exec "$cli" ethtool -K veth-cli gro on >/dev/null
	ip netns exec "$cli" ping -c 1 -W 2 "$(addr4 1 2)" >/dev/null
	log_info "rss -I veth-srv --policy rr --cpus 0,1 -i 2 (server statistics)"
	ip netns exec "$srv" "$rss" -I veth-srv --policy rr --cpus 0,1 -i 2 &
	pid=$!
	sleep 1
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
