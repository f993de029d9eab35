// SPDX-License-Identifier: GPL-2.0
/*
 * rss_flood.bpf.c - the BPF side of selftests/bench/rss_flood: run with
 * BPF_PROG_TEST_RUN in live-frames mode, it sends each copy of the request
 * frame out of the interface it is bound to (XDP_TX), so the kernel itself is
 * the packet generator (this kernel has no pktgen).
 */
#include <bpf/bpf_helpers.h>

SEC("xdp")
int rss_flood(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
