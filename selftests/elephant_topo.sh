# SPDX-License-Identifier: GPL-2.0
#
# elephant_topo.sh - the topology elephant's test and benchmark share; source
# it after lib.sh.
#
# A "node" namespace plays the host. Container namespaces c1..cN sit behind
# veths vc1..vcN on the node's bridge br0 (198.18.1.0/24, 2001:db8:1::/64,
# container i at host 10+i); a "remote" namespace sits behind the node's
# routed uplink up0 (198.18.2.0/24, 2001:db8:2::/64, remote at host 2). Each
# container gets its own conntrack zone (iptables -t raw -j CT --zone i).

# el_topology N: build it with N containers; sets $node, $c1..$cN, $remote.
el_topology()
{
	local n=$1 i ns a4 a6

	setup_ns node remote || return 1
	for ((i = 1; i <= n; i++)); do
		setup_ns "c$i" || return 1
	done
	add_bridge "$node" br0
	add_addrs "$node" br0 1 1
	for ((i = 1; i <= n; i++)); do
		eval "ns=\$c$i"
		# created inside the namespaces: no name clash with the real host
		ip -n "$node" link add "vc$i" type veth peer name eth0 netns "$ns" || return 1
		ip -n "$ns" link set eth0 up
		add_port "$node" br0 "vc$i"
		add_addrs "$ns" eth0 1 $((10 + i))
		ip -n "$ns" route add default via "$(addr4 1 1)"
		ip -n "$ns" -6 route add default via "$(addr6 1 1)"
	done
	ip -n "$node" link add up0 type veth peer name eth0 netns "$remote" || return 1
	ip -n "$node" link set up0 up
	ip -n "$remote" link set eth0 up
	add_addrs "$node" up0 2 1
	add_addrs "$remote" eth0 2 2
	ip -n "$remote" route add 198.18.1.0/24 via "$(addr4 2 1)"
	ip -n "$remote" -6 route add 2001:db8:1::/64 via "$(addr6 2 1)"
	ip netns exec "$node" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 >/dev/null
	# a conntrack zone per container, both directions
	for ((i = 1; i <= n; i++)); do
		a4=$(addr4 1 $((10 + i)))
		a6=$(addr6 1 $((10 + i)))
		ip netns exec "$node" iptables -t raw -A PREROUTING -s "$a4" -j CT --zone $i
		ip netns exec "$node" iptables -t raw -A PREROUTING -d "$a4" -j CT --zone $i
		ip netns exec "$node" ip6tables -t raw -A PREROUTING -s "$a6" -j CT --zone $i
		ip netns exec "$node" ip6tables -t raw -A PREROUTING -d "$a6" -j CT --zone $i
	done
	for ((i = 1; i <= n; i++)); do
		eval "ns=\$c$i"
		wait_until $((5 * SLOW)) ip netns exec "$ns" ping -c 1 -W 1 "$(addr4 2 2)" \
			>/dev/null || return 1
		ip netns exec "$ns" ping -6 -c 1 -W 2 "$(addr6 2 2)" >/dev/null || return 1
	done
}
