// SPDX-License-Identifier: GPL-2.0
/*
 * tr_delay.bpf.c - a known delay for test_tracer.sh (no netem here): a tc
 * program that spins for TR_DELAY_NS on every IPv4 ICMP packet it sees and
 * lets every other packet pass at once. Only for a few packets a second.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TR_DELAY_NS	2000000ULL
#define TC_ACT_OK	0
#define ETH_P_IP	0x0800

char LICENSE[] SEC("license") = "GPL";

static long spin(__u32 i, void *ctx)
{
	__u64 *start = ctx;

	return bpf_ktime_get_ns() - *start >= TR_DELAY_NS;
}

SEC("tc")
int tr_delay(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	__u64 start;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_ICMP)
		return TC_ACT_OK;
	start = bpf_ktime_get_ns();
	bpf_loop(1 << 23, spin, &start, 0);
	return TC_ACT_OK;
}
