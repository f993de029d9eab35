// SPDX-License-Identifier: GPL-2.0
/*
 * rss_flood - a UDP flood of rss requests for selftests/bench/rss.sh (a): the
 * raw rate a scheduler program sustains. One IPv4 request frame (wire format
 * of rss/rss.h, class short) is sent out of IFACE with BPF_PROG_TEST_RUN in
 * XDP live-frames mode, batches of BATCH copies, until SECONDS have passed;
 * the frames arrive at the veth peer's XDP program like a NIC's would. Pin it
 * with taskset: it runs in the kernel on the CPU it is called from.
 *
 * usage: rss_flood IFACE SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT SECONDS
 * prints: "<frames> frames in <seconds> s: <rate> frames/s"
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include "common.h"
#include "../../rss/rss.h"
#include "rss_flood.skel.h"

#define BATCH	100000

struct frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	struct rss_req req;
} __attribute__((packed));

static __u16 ip_csum(const void *hdr, int len)
{
	const __u16 *w = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static int parse_mac(const char *s, __u8 *mac)
{
	char end;

	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx%c", &mac[0], &mac[1], &mac[2],
		   &mac[3], &mac[4], &mac[5], &end) != 6) {
		bn_err("invalid MAC address '%s'", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_ip4(const char *s, __u32 *ip)
{
	if (inet_pton(AF_INET, s, ip) != 1) {
		bn_err("invalid IPv4 address '%s'", s);
		return -EINVAL;
	}
	return 0;
}

static int build_frame(char **argv, struct frame *f)
{
	__u32 saddr, daddr;
	uint64_t port;

	memset(f, 0, sizeof(*f));
	if (parse_mac(argv[2], f->eth.h_source) || parse_mac(argv[3], f->eth.h_dest) ||
	    parse_ip4(argv[4], &saddr) || parse_ip4(argv[5], &daddr))
		return -EINVAL;
	if (bn_parse_u64(argv[6], 1, 65535, &port)) {
		bn_err("invalid port '%s'", argv[6]);
		return -EINVAL;
	}
	f->eth.h_proto = htons(ETH_P_IP);
	f->ip.version = 4;
	f->ip.ihl = 5;
	f->ip.tot_len = htons(sizeof(*f) - sizeof(f->eth));
	f->ip.ttl = 64;
	f->ip.protocol = IPPROTO_UDP;
	f->ip.saddr = saddr;
	f->ip.daddr = daddr;
	f->ip.check = ip_csum(&f->ip, sizeof(f->ip));
	f->udp.source = htons(40000);
	f->udp.dest = htons(port);
	f->udp.len = htons(sizeof(f->udp) + sizeof(f->req));
	f->req.magic = htonl(RSS_MAGIC);
	f->req.version = RSS_VERSION;
	f->req.class = RSS_SHORT;
	return 0;
}

int main(int argc, char **argv)
{
	struct rss_flood_bpf *skel = NULL;
	struct xdp_md ctx = {};
	struct frame f;
	uint64_t secs_ns, start, sent = 0;
	double secs;
	int ifindex, err = BN_EXIT_USAGE;

	bn_log_init("rss_flood");
	bn_libbpf_setup();
	if (argc != 8) {
		fprintf(stderr, "usage: %s IFACE SRC_MAC DST_MAC SRC_IP DST_IP DST_PORT SECONDS\n",
			argv[0]);
		return BN_EXIT_USAGE;
	}
	ifindex = bn_ifindex(argv[1]);
	if (ifindex <= 0) {
		bn_err("no interface '%s'", argv[1]);
		return BN_EXIT_USAGE;
	}
	if (build_frame(argv, &f))
		return BN_EXIT_USAGE;
	if (bn_parse_duration(argv[7], 1000000000ULL, &secs_ns)) {
		bn_err("invalid duration '%s'", argv[7]);
		return BN_EXIT_USAGE;
	}

	err = BN_EXIT_ERR;
	skel = rss_flood_bpf__open_and_load();
	if (!skel) {
		bn_err("cannot load the flood program: %s", strerror(errno));
		goto cleanup;
	}
	ctx.data_end = sizeof(f);
	ctx.ingress_ifindex = ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = &f,
		.data_size_in = sizeof(f),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = BATCH,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
	);

	start = bn_now_ns();
	while (bn_now_ns() - start < secs_ns) {
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.rss_flood), &opts)) {
			bn_err("cannot send from %s (XDP live frames): %s", argv[1],
			       strerror(errno));
			goto cleanup;
		}
		sent += BATCH;
	}
	secs = (bn_now_ns() - start) / 1e9;
	printf("%llu frames in %.3f s: %.0f frames/s\n", (unsigned long long)sent, secs,
	       sent / secs);
	err = BN_EXIT_OK;
cleanup:
	rss_flood_bpf__destroy(skel);
	return err;
}
