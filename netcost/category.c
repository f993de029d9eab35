// SPDX-License-Identifier: GPL-2.0
/*
 * category.c - stack sample categories, folded stacks.
 *
 * A sample belongs to the first frame, from the leaf up, that names a
 * category: the leaf in memcpy under skb_copy_datagram_iter is socket copy,
 * a spin lock taken in tcp_v4_rcv is TCP, and time in net_rx_action itself
 * is the NAPI loop. Helpers (allocators, locks, checksums, skb handling)
 * name no category and pass the sample on to their caller.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "category.h"

static const char *const cat_names[NC_CAT_NR] = {
	[NC_CAT_DRIVER] = "driver",
	[NC_CAT_GRO] = "gro",
	[NC_CAT_XDP] = "xdp",
	[NC_CAT_TC] = "tc",
	[NC_CAT_NETFILTER] = "netfilter",
	[NC_CAT_BRIDGE] = "bridge",
	[NC_CAT_IP_FORWARD] = "ip_forward",
	[NC_CAT_IP_LOCAL] = "ip_local",
	[NC_CAT_TCP] = "tcp",
	[NC_CAT_UDP] = "udp",
	[NC_CAT_SOCK_COPY] = "socket_copy",
	[NC_CAT_XMIT] = "qdisc_xmit",
	[NC_CAT_OTHER] = "other",
};

const char *nc_cat_name(int cat)
{
	if (cat < 0 || cat >= NC_CAT_NR)
		return "?";
	return cat_names[cat];
}

/*
 * Name rules, tried in order; the first that matches decides. A pattern
 * starting with '*' matches anywhere in the name, others match a prefix.
 */
struct rule {
	const char *pat;
	int cat;
};

static const struct rule rules[] = {
	/* tracing (netcost's own programs and other tools) */
	{ "bpf_trace_run", NC_CAT_OTHER },
	{ "__bpf_trace_", NC_CAT_OTHER },
	{ "trace_call_bpf", NC_CAT_OTHER },
	{ "perf_trace_", NC_CAT_OTHER },
	{ "bpf_trampoline_", NC_CAT_OTHER },
	{ "__bpf_prog_enter", NC_CAT_OTHER },
	{ "__bpf_prog_exit", NC_CAT_OTHER },
	{ "bpf_overflow_handler", NC_CAT_OTHER },
	{ "__traceiter_", NC_CAT_OTHER },
	{ "trace_event_raw_event_", NC_CAT_OTHER },
	/* GRO (before TCP/UDP: tcp4_gro_receive is GRO) */
	{ "napi_gro_", NC_CAT_GRO },
	{ "__napi_gro", NC_CAT_GRO },
	{ "dev_gro_receive", NC_CAT_GRO },
	{ "gro_", NC_CAT_GRO },
	{ "skb_gro_", NC_CAT_GRO },
	{ "napi_skb_finish", NC_CAT_GRO },
	{ "napi_frags_", NC_CAT_GRO },
	{ "*_gro_receive", NC_CAT_GRO },
	{ "*_gro_complete", NC_CAT_GRO },
	{ "*gro_cells", NC_CAT_GRO },
	/* segmentation is part of transmit (before TCP/UDP: tcp4_gso_segment) */
	{ "*gso_segment", NC_CAT_XMIT },
	{ "*_ufo_fragment", NC_CAT_XMIT },
	/* XDP */
	{ "xdp_", NC_CAT_XDP },
	{ "__xdp_", NC_CAT_XDP },
	{ "bpf_xdp_", NC_CAT_XDP },
	{ "bpf_dispatcher_xdp", NC_CAT_XDP },
	{ "do_xdp_generic", NC_CAT_XDP },
	{ "netif_receive_generic_xdp", NC_CAT_XDP },
	{ "bpf_prog_run_generic_xdp", NC_CAT_XDP },
	{ "dev_map_", NC_CAT_XDP },
	{ "__dev_map_", NC_CAT_XDP },
	{ "cpu_map_", NC_CAT_XDP },
	{ "__cpu_map_", NC_CAT_XDP },
	{ "cpumap_", NC_CAT_XDP },
	{ "bq_xmit_all", NC_CAT_XDP },
	{ "bq_flush", NC_CAT_XDP },
	{ "*_xdp_xmit", NC_CAT_XDP },
	/* netfilter (before bridge: br_nf_* is bridge netfilter) */
	{ "nf_", NC_CAT_NETFILTER },
	{ "__nf_", NC_CAT_NETFILTER },
	{ "nft_", NC_CAT_NETFILTER },
	{ "__nft_", NC_CAT_NETFILTER },
	{ "nfnl_", NC_CAT_NETFILTER },
	{ "ipt_", NC_CAT_NETFILTER },
	{ "ip6t_", NC_CAT_NETFILTER },
	{ "ebt_", NC_CAT_NETFILTER },
	{ "xt_", NC_CAT_NETFILTER },
	{ "iptable_", NC_CAT_NETFILTER },
	{ "ip6table_", NC_CAT_NETFILTER },
	{ "ebtable", NC_CAT_NETFILTER },
	{ "br_nf_", NC_CAT_NETFILTER },
	{ "ipv4_conntrack", NC_CAT_NETFILTER },
	{ "ipv6_conntrack", NC_CAT_NETFILTER },
	{ "ipv4_confirm", NC_CAT_NETFILTER },
	{ "ipv6_confirm", NC_CAT_NETFILTER },
	{ "resolve_normal_ct", NC_CAT_NETFILTER },
	{ "init_conntrack", NC_CAT_NETFILTER },
	{ "hash_conntrack", NC_CAT_NETFILTER },
	{ "*conntrack", NC_CAT_NETFILTER },
	{ "*netfilter", NC_CAT_NETFILTER },
	/* bridge */
	{ "br_", NC_CAT_BRIDGE },
	{ "__br_", NC_CAT_BRIDGE },
	{ "nbp_", NC_CAT_BRIDGE },
	/* tc classifiers and actions */
	{ "tcf_", NC_CAT_TC },
	{ "__tcf_", NC_CAT_TC },
	{ "tc_", NC_CAT_TC },
	{ "tcx_", NC_CAT_TC },
	{ "sch_handle_ingress", NC_CAT_TC },
	{ "sch_handle_egress", NC_CAT_TC },
	{ "cls_bpf_", NC_CAT_TC },
	{ "mini_qdisc_", NC_CAT_TC },
	/* IP */
	{ "ip_forward", NC_CAT_IP_FORWARD },
	{ "ip6_forward", NC_CAT_IP_FORWARD },
	{ "__ip_forward", NC_CAT_IP_FORWARD },
	{ "ip_local_deliver", NC_CAT_IP_LOCAL },
	{ "ip_protocol_deliver", NC_CAT_IP_LOCAL },
	{ "ip6_protocol_deliver", NC_CAT_IP_LOCAL },
	{ "ip6_input", NC_CAT_IP_LOCAL },
	{ "ip6_mc_input", NC_CAT_IP_LOCAL },
	{ "ip_rcv", NC_CAT_IP_LOCAL },
	{ "ip6_rcv", NC_CAT_IP_LOCAL },
	{ "ipv6_rcv", NC_CAT_IP_LOCAL },
	{ "ip_list_rcv", NC_CAT_IP_LOCAL },
	{ "ipv6_list_rcv", NC_CAT_IP_LOCAL },
	{ "ip_sublist_rcv", NC_CAT_IP_LOCAL },
	{ "ip6_sublist_rcv", NC_CAT_IP_LOCAL },
	{ "ip_route_input", NC_CAT_IP_LOCAL },
	{ "ip_route_use_hint", NC_CAT_IP_LOCAL },
	{ "ip6_route_input", NC_CAT_IP_LOCAL },
	{ "ip_defrag", NC_CAT_IP_LOCAL },
	{ "ip_check_defrag", NC_CAT_IP_LOCAL },
	{ "raw_local_deliver", NC_CAT_IP_LOCAL },
	{ "raw_v4_input", NC_CAT_IP_LOCAL },
	{ "raw_v6_input", NC_CAT_IP_LOCAL },
	{ "icmp_", NC_CAT_IP_LOCAL },
	{ "icmpv6_", NC_CAT_IP_LOCAL },
	{ "fib_", NC_CAT_IP_LOCAL },
	{ "fib4_", NC_CAT_IP_LOCAL },
	{ "fib6_", NC_CAT_IP_LOCAL },
	{ "l3mdev_", NC_CAT_IP_LOCAL },
	/* copies between socket buffers and user memory */
	{ "skb_copy_datagram", NC_CAT_SOCK_COPY },
	{ "__skb_datagram_iter", NC_CAT_SOCK_COPY },
	{ "skb_copy_and_csum_datagram", NC_CAT_SOCK_COPY },
	{ "simple_copy_to_iter", NC_CAT_SOCK_COPY },
	{ "skb_do_copy_data", NC_CAT_SOCK_COPY },
	{ "skb_copy_to_page", NC_CAT_SOCK_COPY },
	{ "skb_add_data", NC_CAT_SOCK_COPY },
	{ "_copy_to_iter", NC_CAT_SOCK_COPY },
	{ "_copy_from_iter", NC_CAT_SOCK_COPY },
	{ "copy_page_to_iter", NC_CAT_SOCK_COPY },
	{ "copy_page_from_iter", NC_CAT_SOCK_COPY },
	{ "csum_and_copy_", NC_CAT_SOCK_COPY },
	{ "__csum_and_copy", NC_CAT_SOCK_COPY },
	{ "csum_partial_copy", NC_CAT_SOCK_COPY },
	{ "zerocopy_sg_from_iter", NC_CAT_SOCK_COPY },
	{ "__zerocopy_sg_from_iter", NC_CAT_SOCK_COPY },
	{ "ip_generic_getfrag", NC_CAT_SOCK_COPY },
	/* transport */
	{ "udp", NC_CAT_UDP },
	{ "__udp", NC_CAT_UDP },
	{ "skb_consume_udp", NC_CAT_UDP },
	{ "__skb_recv_udp", NC_CAT_UDP },
	{ "skb_recv_udp", NC_CAT_UDP },
	{ "tcp", NC_CAT_TCP },
	{ "__tcp", NC_CAT_TCP },
	{ "inet_csk", NC_CAT_TCP },
	{ "inet6_csk", NC_CAT_TCP },
	{ "__inet_lookup", NC_CAT_TCP },
	{ "__inet6_lookup", NC_CAT_TCP },
	{ "inet_twsk", NC_CAT_TCP },
	{ "bictcp", NC_CAT_TCP },
	{ "cubictcp", NC_CAT_TCP },
	{ "bbr_", NC_CAT_TCP },
	{ "sk_stream_", NC_CAT_TCP },
	{ "mptcp", NC_CAT_TCP },
	/* transmit: IP output, neighbour, qdisc, device */
	{ "ip_output", NC_CAT_XMIT },
	{ "ip_finish_output", NC_CAT_XMIT },
	{ "__ip_finish_output", NC_CAT_XMIT },
	{ "ip_local_out", NC_CAT_XMIT },
	{ "__ip_local_out", NC_CAT_XMIT },
	{ "ip_queue_xmit", NC_CAT_XMIT },
	{ "__ip_queue_xmit", NC_CAT_XMIT },
	{ "ip_send_skb", NC_CAT_XMIT },
	{ "ip_push_pending", NC_CAT_XMIT },
	{ "ip_make_skb", NC_CAT_XMIT },
	{ "ip_append_data", NC_CAT_XMIT },
	{ "__ip_append_data", NC_CAT_XMIT },
	{ "ip_build_and_send", NC_CAT_XMIT },
	{ "ip_fragment", NC_CAT_XMIT },
	{ "ip_do_fragment", NC_CAT_XMIT },
	{ "ip6_xmit", NC_CAT_XMIT },
	{ "ip6_output", NC_CAT_XMIT },
	{ "ip6_finish_output", NC_CAT_XMIT },
	{ "__ip6_finish_output", NC_CAT_XMIT },
	{ "ip6_local_out", NC_CAT_XMIT },
	{ "__ip6_local_out", NC_CAT_XMIT },
	{ "ip6_send_skb", NC_CAT_XMIT },
	{ "ip6_append_data", NC_CAT_XMIT },
	{ "__ip6_append_data", NC_CAT_XMIT },
	{ "ip6_make_skb", NC_CAT_XMIT },
	{ "dst_output", NC_CAT_XMIT },
	{ "neigh_", NC_CAT_XMIT },
	{ "__neigh_", NC_CAT_XMIT },
	{ "dev_queue_xmit", NC_CAT_XMIT },
	{ "__dev_queue_xmit", NC_CAT_XMIT },
	{ "dev_hard_start_xmit", NC_CAT_XMIT },
	{ "dev_direct_xmit", NC_CAT_XMIT },
	{ "__dev_direct_xmit", NC_CAT_XMIT },
	{ "sch_direct_xmit", NC_CAT_XMIT },
	{ "__qdisc_run", NC_CAT_XMIT },
	{ "qdisc_", NC_CAT_XMIT },
	{ "__qdisc_", NC_CAT_XMIT },
	{ "pfifo_", NC_CAT_XMIT },
	{ "fq_codel_", NC_CAT_XMIT },
	{ "fq_", NC_CAT_XMIT },
	{ "netdev_core_pick_tx", NC_CAT_XMIT },
	{ "netdev_pick_tx", NC_CAT_XMIT },
	{ "validate_xmit", NC_CAT_XMIT },
	{ "net_tx_action", NC_CAT_XMIT },
	{ "skb_tx_hash", NC_CAT_XMIT },
	{ "netif_skb_features", NC_CAT_XMIT },
	{ "eth_header", NC_CAT_XMIT },
	/* drivers, NAPI, the receive core */
	{ "net_rx_action", NC_CAT_DRIVER },
	{ "napi_", NC_CAT_DRIVER },
	{ "__napi_", NC_CAT_DRIVER },
	{ "process_backlog", NC_CAT_DRIVER },
	{ "netif_receive_skb", NC_CAT_DRIVER },
	{ "__netif_receive_skb", NC_CAT_DRIVER },
	{ "netif_rx", NC_CAT_DRIVER },
	{ "__netif_rx", NC_CAT_DRIVER },
	{ "enqueue_to_backlog", NC_CAT_DRIVER },
	{ "eth_type_trans", NC_CAT_DRIVER },
	{ "loopback_", NC_CAT_DRIVER },
	{ "veth_", NC_CAT_DRIVER },
	{ "virtnet_", NC_CAT_DRIVER },
	{ "virtqueue_", NC_CAT_DRIVER },
	{ "vring_", NC_CAT_DRIVER },
	{ "e1000", NC_CAT_DRIVER },
	{ "igb_", NC_CAT_DRIVER },
	{ "ixgbe", NC_CAT_DRIVER },
	{ "i40e_", NC_CAT_DRIVER },
	{ "ice_", NC_CAT_DRIVER },
	{ "mlx4", NC_CAT_DRIVER },
	{ "mlx5", NC_CAT_DRIVER },
	{ "bnxt_", NC_CAT_DRIVER },
	{ "ena_", NC_CAT_DRIVER },
	{ "vxlan_", NC_CAT_DRIVER },
	{ "geneve_", NC_CAT_DRIVER },
	{ "tun_", NC_CAT_DRIVER },
	{ "macvlan_", NC_CAT_DRIVER },
	{ "ipvlan_", NC_CAT_DRIVER },
};

/* Modules whose frames no name rule claimed. Unknown modules are drivers. */
static const struct rule module_rules[] = {
	{ "nf_", NC_CAT_NETFILTER },
	{ "nft_", NC_CAT_NETFILTER },
	{ "nfnetlink", NC_CAT_NETFILTER },
	{ "xt_", NC_CAT_NETFILTER },
	{ "x_tables", NC_CAT_NETFILTER },
	{ "ip_tables", NC_CAT_NETFILTER },
	{ "ip6_tables", NC_CAT_NETFILTER },
	{ "iptable_", NC_CAT_NETFILTER },
	{ "ip6table_", NC_CAT_NETFILTER },
	{ "ebt", NC_CAT_NETFILTER },
	{ "br_netfilter", NC_CAT_NETFILTER },
	{ "bridge", NC_CAT_BRIDGE },
	{ "sch_", NC_CAT_XMIT },
	{ "cls_", NC_CAT_TC },
	{ "act_", NC_CAT_TC },
	{ "tcp_", NC_CAT_TCP },
	{ "udp_tunnel", -1 },
	{ "ip6_udp_tunnel", -1 },
	{ "__builtin__", NC_CAT_OTHER },
};

static bool rule_match(const char *pat, const char *name)
{
	if (pat[0] == '*')
		return strstr(name, pat + 1) != NULL;
	return strncmp(name, pat, strlen(pat)) == 0;
}

static bool is_bpf_prog(const char *name, const char *module)
{
	return strncmp(name, "bpf_prog_", 9) == 0 && (!module || !strcmp(module, "bpf"));
}

int nc_frame_cat(const char *name, const char *module)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rule_match(rules[i].pat, name))
			return rules[i].cat;
	if (!module || !strcmp(module, "bpf"))
		return -1;
	for (i = 0; i < sizeof(module_rules) / sizeof(module_rules[0]); i++)
		if (rule_match(module_rules[i].pat, module))
			return module_rules[i].cat;
	return NC_CAT_DRIVER;
}

void nc_frame_class(const char *name, const char *module, struct nc_frame *f)
{
	f->cat = nc_frame_cat(name, module);
	f->bpf = name && is_bpf_prog(name, module);
}

int nc_stack_cat_frames(const struct nc_frame *frames, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		if (frames[i].bpf) {
			/* a JITed program: what ran it says what it is */
			for (j = i + 1; j < n; j++) {
				if (frames[j].cat < 0)
					continue;
				if (frames[j].cat == NC_CAT_DRIVER || frames[j].cat == NC_CAT_GRO)
					return NC_CAT_XDP;
				return frames[j].cat;
			}
			return NC_CAT_OTHER;
		}
		if (frames[i].cat >= 0)
			return frames[i].cat;
	}
	return NC_CAT_OTHER;
}

int nc_stack_cat(const char *const *names, const char *const *modules, int n)
{
	struct nc_frame frames[NC_STACK_FRAMES];
	int i;

	if (n > NC_STACK_FRAMES)
		n = NC_STACK_FRAMES;
	for (i = 0; i < n; i++)
		nc_frame_class(names[i], modules ? modules[i] : NULL, &frames[i]);
	return nc_stack_cat_frames(frames, n);
}

/* ---- folded stacks ---- */

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int folded_grow(struct nc_folded *f)
{
	size_t cap = f->cap ? f->cap * 2 : 1024, i, j;
	struct nc_folded_ent *tab;

	tab = calloc(cap, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (i = 0; i < f->cap; i++) {
		if (!f->tab[i].key)
			continue;
		j = fnv1a(f->tab[i].key) & (cap - 1);
		while (tab[j].key)
			j = (j + 1) & (cap - 1);
		tab[j] = f->tab[i];
	}
	free(f->tab);
	f->tab = tab;
	f->cap = cap;
	return 0;
}

int nc_folded_add(struct nc_folded *f, const char *stack, uint64_t count)
{
	size_t j;

	if ((f->n + 1) * 10 >= f->cap * 7 && folded_grow(f))
		return -ENOMEM;
	j = fnv1a(stack) & (f->cap - 1);
	while (f->tab[j].key) {
		if (!strcmp(f->tab[j].key, stack)) {
			f->tab[j].count += count;
			return 0;
		}
		j = (j + 1) & (f->cap - 1);
	}
	f->tab[j].key = strdup(stack);
	if (!f->tab[j].key)
		return -ENOMEM;
	f->tab[j].count = count;
	f->n++;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct nc_folded_ent *x = a, *y = b;

	return strcmp(x->key, y->key);
}

int nc_folded_write(const struct nc_folded *f, FILE *out)
{
	struct nc_folded_ent *v;
	size_t i, n = 0;

	v = calloc(f->n ? f->n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < f->cap; i++)
		if (f->tab[i].key)
			v[n++] = f->tab[i];
	qsort(v, n, sizeof(*v), ent_cmp);
	for (i = 0; i < n; i++)
		fprintf(out, "%s %llu\n", v[i].key, (unsigned long long)v[i].count);
	free(v);
	if (fflush(out) || ferror(out))
		return -EIO;
	return 0;
}

void nc_folded_free(struct nc_folded *f)
{
	size_t i;

	for (i = 0; i < f->cap; i++)
		free(f->tab[i].key);
	free(f->tab);
	memset(f, 0, sizeof(*f));
}
