/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.bpf.h - bounds-checked packet parsing for XDP and tc programs.
 *
 * bn_parse() walks Ethernet, up to two VLAN tags, IPv4 (options skipped) or
 * IPv6 (no extension headers are followed: the next header must be TCP or
 * UDP for ports to be read), and fills a bn_flow_key plus the offsets a
 * program needs to rewrite the packet. Include after vmlinux.h and
 * <bpf/bpf_endian.h>.
 */
#ifndef BPFNET_PARSE_BPF_H
#define BPFNET_PARSE_BPF_H

#include "flow.h"

#ifndef ETH_P_IP
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#endif
#ifndef AF_INET
#define AF_INET		2
#define AF_INET6	10
#endif
#define BN_IP_MF	0x2000
#define BN_IP_OFFSET	0x1fff

static __always_inline int bn_parse(void *data, void *data_end, struct bn_pkt *pkt)
{
	struct ethhdr *eth = data;
	struct vlan_hdr {
		__be16 tci;
		__be16 proto;
	} *vh;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int i;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if ((void *)(eth + 1) > data_end)
		return BN_PARSE_SHORT;
	proto = bpf_ntohs(eth->h_proto);
#pragma unroll
	for (i = 0; i < 2; i++) {
		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		vh = data + off;
		if ((void *)(vh + 1) > data_end)
			return BN_PARSE_SHORT;
		proto = bpf_ntohs(vh->proto);
		off += sizeof(*vh);
	}
	pkt->eth_proto = proto;
	pkt->l3_off = off;

	if (proto == ETH_P_IP) {
		struct iphdr *iph = data + off;
		__u32 ihl;

		if ((void *)(iph + 1) > data_end)
			return BN_PARSE_SHORT;
		if (iph->version != 4 || iph->ihl < 5)
			return BN_PARSE_BAD;
		ihl = iph->ihl * 4;
		pkt->key.family = AF_INET;
		pkt->key.proto = iph->protocol;
		__builtin_memcpy(pkt->key.saddr, &iph->saddr, 4);
		__builtin_memcpy(pkt->key.daddr, &iph->daddr, 4);
		if (bpf_ntohs(iph->tot_len) < ihl)
			return BN_PARSE_BAD;
		pkt->l4_len = bpf_ntohs(iph->tot_len) - ihl;
		if (bpf_ntohs(iph->frag_off) & (BN_IP_MF | BN_IP_OFFSET))
			pkt->frag = 1;
		if (bpf_ntohs(iph->frag_off) & BN_IP_OFFSET)
			return BN_PARSE_OK;	/* no L4 header in this fragment */
		off += ihl;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6h = data + off;

		if ((void *)(ip6h + 1) > data_end)
			return BN_PARSE_SHORT;
		if (ip6h->version != 6)
			return BN_PARSE_BAD;
		pkt->key.family = AF_INET6;
		pkt->key.proto = ip6h->nexthdr;
		__builtin_memcpy(pkt->key.saddr, &ip6h->saddr, 16);
		__builtin_memcpy(pkt->key.daddr, &ip6h->daddr, 16);
		pkt->l4_len = bpf_ntohs(ip6h->payload_len);
		off += sizeof(*ip6h);
	} else {
		return BN_PARSE_NOT_IP;
	}

	if (pkt->key.proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;

		if ((void *)(th + 1) > data_end)
			return BN_PARSE_SHORT;
		pkt->key.sport = bpf_ntohs(th->source);
		pkt->key.dport = bpf_ntohs(th->dest);
		pkt->tcp_flags = ((__u8 *)th)[13];
		pkt->l4_off = off;
	} else if (pkt->key.proto == IPPROTO_UDP) {
		struct udphdr *uh = data + off;

		if ((void *)(uh + 1) > data_end)
			return BN_PARSE_SHORT;
		pkt->key.sport = bpf_ntohs(uh->source);
		pkt->key.dport = bpf_ntohs(uh->dest);
		pkt->l4_off = off;
	}
	return BN_PARSE_OK;
}

#endif /* BPFNET_PARSE_BPF_H */
