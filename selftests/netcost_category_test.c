// SPDX-License-Identifier: GPL-2.0
/*
 * netcost_category_test - netcost's stack categories and folded-stack output
 * (netcost/category.c), and the kallsyms reader and lookup (common/kallsyms.c),
 * on known symbol names and a kallsyms file written by the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/* ASSERT_*() TH_LOG() expands to a for loop: not misleading here */
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"
#include "common.h"
#include "../netcost/category.c"

static int cat_of(const char *name)
{
	return nc_frame_cat(name, NULL);
}

TEST(frame_names)
{
	static const struct { const char *name; int cat; } cases[] = {
		{ "tcp_v4_rcv", NC_CAT_TCP },
		{ "tcp_sendmsg_locked", NC_CAT_TCP },
		{ "__tcp_transmit_skb", NC_CAT_TCP },
		{ "tcp4_gro_receive", NC_CAT_GRO },
		{ "inet_gro_receive", NC_CAT_GRO },
		{ "napi_gro_receive", NC_CAT_GRO },
		{ "dev_gro_receive", NC_CAT_GRO },
		{ "tcp4_gso_segment", NC_CAT_XMIT },
		{ "__skb_gso_segment", NC_CAT_XMIT },
		{ "br_handle_frame", NC_CAT_BRIDGE },
		{ "br_nf_pre_routing", NC_CAT_NETFILTER },
		{ "nf_hook_slow", NC_CAT_NETFILTER },
		{ "nf_conntrack_in", NC_CAT_NETFILTER },
		{ "ipv4_conntrack_in", NC_CAT_NETFILTER },
		{ "nft_do_chain", NC_CAT_NETFILTER },
		{ "ipt_do_table", NC_CAT_NETFILTER },
		{ "ip_forward", NC_CAT_IP_FORWARD },
		{ "ip6_forward_finish", NC_CAT_IP_FORWARD },
		{ "ip_local_deliver_finish", NC_CAT_IP_LOCAL },
		{ "ip_rcv_core", NC_CAT_IP_LOCAL },
		{ "ip_route_input_noref", NC_CAT_IP_LOCAL },
		{ "udp_rcv", NC_CAT_UDP },
		{ "__udp4_lib_rcv", NC_CAT_UDP },
		{ "udpv6_recvmsg", NC_CAT_UDP },
		{ "skb_copy_datagram_iter", NC_CAT_SOCK_COPY },
		{ "_copy_from_iter", NC_CAT_SOCK_COPY },
		{ "dev_queue_xmit", NC_CAT_XMIT },
		{ "__dev_queue_xmit", NC_CAT_XMIT },
		{ "ip_finish_output2", NC_CAT_XMIT },
		{ "neigh_resolve_output", NC_CAT_XMIT },
		{ "pfifo_fast_dequeue", NC_CAT_XMIT },
		{ "net_tx_action", NC_CAT_XMIT },
		{ "tcf_classify", NC_CAT_TC },
		{ "sch_handle_ingress", NC_CAT_TC },
		{ "xdp_do_redirect", NC_CAT_XDP },
		{ "bq_flush_to_queue", NC_CAT_XDP },
		{ "net_rx_action", NC_CAT_DRIVER },
		{ "__napi_poll", NC_CAT_DRIVER },
		{ "veth_poll", NC_CAT_DRIVER },
		{ "virtnet_poll", NC_CAT_DRIVER },
		{ "__netif_receive_skb_core", NC_CAT_DRIVER },
		{ "bpf_trace_run2", NC_CAT_OTHER },
		/* helpers say nothing: their caller decides */
		{ "kmem_cache_alloc", -1 },
		{ "_raw_spin_lock", -1 },
		{ "memcpy", -1 },
		{ "skb_release_data", -1 },
		{ "__do_softirq", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_EQ(cases[i].cat, cat_of(cases[i].name))
			TH_LOG("%s: got %s, want %s", cases[i].name,
			       nc_cat_name(cat_of(cases[i].name)), nc_cat_name(cases[i].cat));
}

TEST(module_frames)
{
	EXPECT_EQ(NC_CAT_DRIVER, nc_frame_cat("mystery_rx_poll", "somenic"));
	EXPECT_EQ(NC_CAT_NETFILTER, nc_frame_cat("helper_fn", "nf_conntrack"));
	EXPECT_EQ(NC_CAT_NETFILTER, nc_frame_cat("do_match", "xt_conntrack"));
	EXPECT_EQ(NC_CAT_BRIDGE, nc_frame_cat("fdb_lookup", "bridge"));
	EXPECT_EQ(NC_CAT_XMIT, nc_frame_cat("enqueue", "sch_fq"));
	EXPECT_EQ(NC_CAT_TC, nc_frame_cat("classify", "cls_flower"));
	EXPECT_EQ(-1, nc_frame_cat("bpf_prog_123_foo", "bpf"));
}

TEST(stacks_leaf_first)
{
	const char *copy[] = { "rep_movs_alternative", "_copy_to_iter", "__skb_datagram_iter",
			       "skb_copy_datagram_iter", "tcp_recvmsg_locked", "tcp_recvmsg",
			       "inet_recvmsg", "sock_recvmsg", "__sys_recvfrom" };
	const char *lock[] = { "_raw_spin_lock", "tcp_v4_rcv", "ip_protocol_deliver_rcu",
			       "ip_local_deliver_finish", "__netif_receive_skb_one_core",
			       "process_backlog", "__napi_poll", "net_rx_action" };
	const char *napi[] = { "kmem_cache_free", "skb_release_data", "net_rx_action",
			       "__do_softirq" };
	const char *xdp[] = { "bpf_prog_0123_xdp_pass", "veth_xdp_rcv_one", "veth_xdp_rcv",
			      "veth_poll", "__napi_poll" };
	const char *xdp_m[] = { "bpf", NULL, NULL, NULL, NULL };
	const char *tc[] = { "bpf_prog_4567_cls", "tcf_classify", "__dev_queue_xmit" };
	const char *tc_m[] = { "bpf", NULL, NULL };
	const char *trace[] = { "bpf_prog_89ab_nc_si_entry", "bpf_trace_run2",
				"__bpf_trace_softirq", "__do_softirq" };
	const char *trace_m[] = { "bpf", NULL, NULL, NULL };
	const char *none[] = { "memcpy", NULL, "do_syscall_64" };

	EXPECT_EQ(NC_CAT_SOCK_COPY, nc_stack_cat(copy, NULL, 9));
	EXPECT_EQ(NC_CAT_TCP, nc_stack_cat(lock, NULL, 8));
	EXPECT_EQ(NC_CAT_DRIVER, nc_stack_cat(napi, NULL, 4));
	EXPECT_EQ(NC_CAT_XDP, nc_stack_cat(xdp, xdp_m, 5));
	EXPECT_EQ(NC_CAT_TC, nc_stack_cat(tc, tc_m, 3));
	EXPECT_EQ(NC_CAT_OTHER, nc_stack_cat(trace, trace_m, 4));
	EXPECT_EQ(NC_CAT_OTHER, nc_stack_cat(none, NULL, 3));
	EXPECT_EQ(NC_CAT_OTHER, nc_stack_cat(none, NULL, 0));
}

TEST(kallsyms)
{
	char path[] = "/tmp/netcost_kallsyms.XXXXXX";
	const struct bn_ksym *s;
	struct bn_ksyms ks;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	f = fdopen(fd, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "ffffffff81000200 T udp_rcv\n"
		   "ffffffff81000000 T _stext\n"
		   "ffffffff81000180 D some_data\n"
		   "ffffffff81000100 t tcp_v4_rcv\n"
		   "ffffffffc0001000 t veth_poll\t[veth]\n"
		   "ffffffffc0002000 t bpf_prog_0123_xdp_pass\t[bpf]");	/* no newline */
	fclose(f);
	ASSERT_EQ(0, bn_ksyms_load(&ks, path, 5000));
	EXPECT_EQ(5, ks.n);	/* the data symbol is not kept */
	s = bn_ksyms_find(&ks, 0xffffffff81000180ULL);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("tcp_v4_rcv", s->name);
	EXPECT_EQ(NULL, s->module);
	s = bn_ksyms_find(&ks, 0xffffffff81000200ULL);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("udp_rcv", s->name);
	s = bn_ksyms_find(&ks, 0xffffffffc0001010ULL);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("veth_poll", s->name);
	EXPECT_STREQ("veth", s->module);
	s = bn_ksyms_find(&ks, 0xffffffffc0002004ULL);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("bpf", s->module);
	EXPECT_EQ(NULL, bn_ksyms_find(&ks, 0x1000));
	EXPECT_EQ(NULL, bn_ksyms_find(&ks, 0xffffffffc1000000ULL));	/* too far */

	/* JITed functions with exact ranges come first, and end where they end */
	struct bn_ksym *b = calloc(2, sizeof(*b));

	ASSERT_NE(NULL, b);
	b[0] = (struct bn_ksym){ 0xffffffffc0003000ULL, strdup("bpf_prog_1_late"), "bpf", 0x80 };
	b[1] = (struct bn_ksym){ 0xffffffffc0001008ULL, strdup("bpf_prog_2_in"), "bpf", 0x4 };
	bn_ksyms_set_bpf(&ks, b, 2);
	s = bn_ksyms_find(&ks, 0xffffffffc000307fULL);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("bpf_prog_1_late", s->name);
	s = bn_ksyms_find(&ks, 0xffffffffc000100aULL);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("bpf_prog_2_in", s->name);
	s = bn_ksyms_find(&ks, 0xffffffffc000100cULL);	/* past its end: kallsyms */
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("veth_poll", s->name);
	bn_ksyms_set_bpf(&ks, NULL, 0);
	s = bn_ksyms_find(&ks, 0xffffffffc000307fULL);	/* unloaded: old neighbour */
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("bpf", s->module);
	bn_ksyms_free(&ks);

	/* kptr_restrict: every address reads 0 */
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "0000000000000000 T _stext\n0000000000000000 t tcp_v4_rcv\n");
	fclose(f);
	EXPECT_EQ(-EPERM, bn_ksyms_load(&ks, path, 5000));
	unlink(path);
	EXPECT_EQ(-ENOENT, bn_ksyms_load(&ks, path, 5000));
}

/* A reader that makes no progress is given up, not waited for. */
TEST(kallsyms_stall)
{
	char dir[] = "/tmp/netcost_fifo.XXXXXX", path[64];
	struct bn_ksyms ks;
	int wfd;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	ASSERT_EQ(0, mkfifo(path, 0600));
	/* a writer that never writes: the reader blocks in read() */
	wfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(wfd, 0);
	EXPECT_EQ(-ETIMEDOUT, bn_ksyms_load(&ks, path, 300));
	EXPECT_EQ(0, ks.n);
	ASSERT_EQ(0, close(wfd));
	unlink(path);
	rmdir(dir);
}

TEST(folded)
{
	struct nc_folded fo = {};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	ASSERT_EQ(0, nc_folded_add(&fo, "net_rx;net_rx_action;veth_poll", 1));
	ASSERT_EQ(0, nc_folded_add(&fo, "sock_send;tcp_sendmsg", 2));
	ASSERT_EQ(0, nc_folded_add(&fo, "net_rx;net_rx_action;veth_poll", 3));
	/* enough distinct stacks to grow the table a few times */
	for (i = 0; i < 5000; i++) {
		char s[64];

		snprintf(s, sizeof(s), "sock_recv;f%d", i);
		ASSERT_EQ(0, nc_folded_add(&fo, s, 1));
	}
	EXPECT_EQ(5002, fo.n);
	f = open_memstream(&buf, &len);
	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, nc_folded_write(&fo, f));
	fclose(f);
	EXPECT_EQ(0, strncmp(buf, "net_rx;net_rx_action;veth_poll 4\nsock_recv;f0 1\n", 48));
	EXPECT_NE(NULL, strstr(buf, "\nsock_send;tcp_sendmsg 2\n"));
	EXPECT_NE(NULL, strstr(buf, "\nsock_recv;f4999 1\n"));
	free(buf);
	nc_folded_free(&fo);
}

TEST_HARNESS_MAIN
