// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_load_test - the build pipeline is real end to end: the skeleton of an
 * object the Makefile built loads on this kernel, a tracepoint program counts
 * real syscalls, and common/parse.bpf.h parses packets inside the kernel
 * (BPF_PROG_TEST_RUN) the way the tools' XDP and tc programs will.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf.h>

#include "kselftest_harness.h"
#include <linux/types.h>
#include "common.h"
#include "flow.h"
#include "minimal.skel.h"

FIXTURE(minimal) {
	struct minimal_bpf *skel;
};

FIXTURE_SETUP(minimal)
{
	self->skel = minimal_bpf__open();
	ASSERT_NE(NULL, self->skel);
	self->skel->rodata->target_tgid = getpid();
	ASSERT_EQ(0, minimal_bpf__load(self->skel));
}

FIXTURE_TEARDOWN(minimal)
{
	minimal_bpf__destroy(self->skel);
}

TEST_F(minimal, tracepoint_counts_syscalls)
{
	int i;

	ASSERT_EQ(0, minimal_bpf__attach(self->skel));
	for (i = 0; i < 100; i++)
		getppid();
	EXPECT_EQ(100, self->skel->bss->getppid_calls);
}

/*
 * Build Ethernet [+ VLAN] + IPv4/IPv6 + UDP/TCP into @buf; returns its length.
 * Headers are filled in aligned locals and copied: after the 14-byte Ethernet
 * header the buffer is not aligned for their 32-bit fields.
 */
static int build_pkt(uint8_t *buf, int family, int proto, int vlans, int trunc)
{
	struct ethhdr eth = { 0 };
	uint8_t *p = buf + sizeof(eth);
	uint16_t type = family == AF_INET ? ETH_P_IP : ETH_P_IPV6, v[2];
	int i, l4len = proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr);

	memset(buf, 0, 256);
	eth.h_proto = htons(vlans ? ETH_P_8021Q : type);
	memcpy(buf, &eth, sizeof(eth));
	for (i = 0; i < vlans; i++) {
		v[0] = htons(100 + i);
		v[1] = htons(i + 1 < vlans ? ETH_P_8021Q : type);
		memcpy(p, v, sizeof(v));
		p += 4;
	}
	if (family == AF_INET) {
		struct iphdr ip = { 0 };

		ip.version = 4;
		ip.ihl = 5;
		ip.tot_len = htons(sizeof(ip) + l4len);
		ip.ttl = 64;
		ip.protocol = proto;
		inet_pton(AF_INET, "198.18.1.1", &ip.saddr);
		inet_pton(AF_INET, "198.18.1.2", &ip.daddr);
		memcpy(p, &ip, sizeof(ip));
		p += sizeof(ip);
	} else {
		struct ipv6hdr ip6 = { 0 };

		ip6.version = 6;
		ip6.payload_len = htons(l4len);
		ip6.nexthdr = proto;
		ip6.hop_limit = 64;
		inet_pton(AF_INET6, "2001:db8:1::1", &ip6.saddr);
		inet_pton(AF_INET6, "2001:db8:1::2", &ip6.daddr);
		memcpy(p, &ip6, sizeof(ip6));
		p += sizeof(ip6);
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr th = { 0 };

		th.source = htons(40000);
		th.dest = htons(5201);
		th.doff = 5;
		th.syn = 1;
		memcpy(p, &th, sizeof(th));
	} else {
		struct udphdr uh = { 0 };

		uh.source = htons(40000);
		uh.dest = htons(5201);
		uh.len = htons(l4len);
		memcpy(p, &uh, sizeof(uh));
	}
	p += l4len;
	return p - buf - trunc;
}

static int run_parse(struct minimal_bpf *skel, uint8_t *pkt, int len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .repeat = 1);
	int err;

	/* XDP test runs need at least an Ethernet header; pad tiny frames */
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.parse_xdp), &opts);
	if (err)
		return -1000 + err;
	return skel->bss->parse_ret;
}

FIXTURE_VARIANT(minimal) {
	int family;
	int proto;
	int vlans;
};
FIXTURE_VARIANT_ADD(minimal, ipv4_udp) { .family = AF_INET, .proto = IPPROTO_UDP };
FIXTURE_VARIANT_ADD(minimal, ipv4_tcp_vlan) {
	.family = AF_INET, .proto = IPPROTO_TCP, .vlans = 1 };
FIXTURE_VARIANT_ADD(minimal, ipv6_udp_qinq) {
	.family = AF_INET6, .proto = IPPROTO_UDP, .vlans = 2 };
FIXTURE_VARIANT_ADD(minimal, ipv6_tcp) { .family = AF_INET6, .proto = IPPROTO_TCP };

TEST_F(minimal, parse_packet)
{
	struct bn_pkt *pk = &self->skel->bss->parsed;
	uint8_t pkt[256];
	char a[BN_ADDRSTRLEN];
	int len;

	len = build_pkt(pkt, variant->family, variant->proto, variant->vlans, 0);
	ASSERT_EQ(BN_PARSE_OK, run_parse(self->skel, pkt, len));
	EXPECT_EQ(variant->family, pk->key.family);
	EXPECT_EQ(variant->proto, pk->key.proto);
	EXPECT_EQ(40000, pk->key.sport);
	EXPECT_EQ(5201, pk->key.dport);
	EXPECT_EQ(14 + 4 * variant->vlans, pk->l3_off);
	EXPECT_EQ(pk->l3_off + (variant->family == AF_INET ? 20 : 40), pk->l4_off);
	bn_addr_str(pk->key.family, pk->key.daddr, a, sizeof(a));
	EXPECT_STREQ(variant->family == AF_INET ? "198.18.1.2" : "2001:db8:1::2", a);
	if (variant->proto == IPPROTO_TCP)
		EXPECT_EQ(0x02, pk->tcp_flags);	/* SYN */

	/* one byte short of the L4 header: reported short, never read past the end */
	len = build_pkt(pkt, variant->family, variant->proto, variant->vlans,
			variant->proto == IPPROTO_TCP ? 20 - 12 : 1);
	EXPECT_EQ(BN_PARSE_SHORT, run_parse(self->skel, pkt, len));
	/* cut inside the IP header */
	len = 14 + 4 * variant->vlans + 10;
	EXPECT_EQ(BN_PARSE_SHORT, run_parse(self->skel, pkt, len));
}

TEST_F(minimal, parse_rejects_bad_headers)
{
	uint8_t pkt[256];
	int len;

	if (variant->family != AF_INET)
		return;
	len = build_pkt(pkt, AF_INET, IPPROTO_UDP, variant->vlans, 0);
	pkt[14 + 4 * variant->vlans] = 0x44;		/* IHL 4 < 5 */
	EXPECT_EQ(BN_PARSE_BAD, run_parse(self->skel, pkt, len));
	pkt[12] = 0x08;
	pkt[13] = 0x06;					/* ARP */
	EXPECT_EQ(BN_PARSE_NOT_IP, run_parse(self->skel, pkt, len));
}

/* The feature probes answer for every hook and agree with what loads here. */
TEST(feature_probes)
{
	int err, h;

	for (h = 0; h < BN_HOOK_MAX; h++) {
		err = bn_probe_hook(h, NULL);
		TH_LOG("%-7s %s", bn_hook_name(h), err ? strerror(-err) : "works");
		EXPECT_GE(0, err);
	}
	/* tc and XDP programs load on every kernel bpfnet supports */
	EXPECT_EQ(0, bn_probe_hook(BN_HOOK_TC, NULL));
	EXPECT_EQ(0, bn_probe_hook(BN_HOOK_XDP, NULL));
	EXPECT_EQ(0, bn_probe_hook(BN_HOOK_TP_BTF, "sched_switch"));
	/* a target that does not exist is refused, not crashed on */
	EXPECT_NE(0, bn_probe_hook(BN_HOOK_FENTRY, "bpfnet_no_such_function"));
	EXPECT_NE(0, bn_probe_hook(BN_HOOK_KPROBE, "bpfnet_no_such_function"));
	EXPECT_EQ(true, bn_ksym_exists("vfs_read"));
	EXPECT_EQ(false, bn_ksym_exists("bpfnet_no_such_function"));
}

/* The 6.1 harness runs a test body even after SKIP() in its setup: decide here. */
int main(int argc, char **argv)
{
	if (geteuid()) {
		ksft_print_header();
		ksft_exit_skip("needs root (CAP_BPF) to load programs\n");
	}
	return test_harness_run(argc, argv);
}
