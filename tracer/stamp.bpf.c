// SPDX-License-Identifier: GPL-2.0
/*
 * stamp.bpf.c - tracer --stamp: a tc program at the first point's device
 * that writes a packet id into every UDP datagram, as a trailer after the
 * datagram inside the IP packet (tracer.h). The IP length grows, the UDP
 * length and checksum stay, so the receiver's UDP stack trims the trailer
 * and the application gets exactly what was sent. What cannot be stamped is
 * counted by why.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tracer.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_HLEN	14
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define NEXTHDR_FRAGMENT 44
#define TC_ACT_UNSPEC	(-1)	/* on to the next filter: stamping decides nothing */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_stamp_stats);
} stamp_stats SEC(".maps");

/* The trailer for @id: its 16-bit words add up to 0xffff (ones' complement). */
static __always_inline void trailer(__u8 *t, __u64 id)
{
	__u32 sum = TR_STAMP_MAGIC, i;

	for (i = 0; i < 8; i++)
		t[4 + i] = id >> (56 - 8 * i);
	for (i = 4; i < TR_STAMP_LEN; i += 2)
		sum += (t[i] << 8) | t[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	t[0] = TR_STAMP_MAGIC >> 8;
	t[1] = TR_STAMP_MAGIC & 0xff;
	t[2] = sum >> 8;
	t[3] = sum & 0xff;
}

SEC("tc")
int tr_stamp(struct __sk_buff *skb)
{
	__u32 zero = 0, mtu = 0, l4, ip_len, new_len;
	struct tr_stamp_stats *st;
	bool v6 = false;
	__u8 t[TR_STAMP_LEN];
	struct udphdr uh;
	__u64 id;

	st = bpf_map_lookup_elem(&stamp_stats, &zero);
	if (!st)
		return TC_ACT_UNSPEC;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.version != 4 ||
		    ip.ihl < 5)
			goto not_udp;
		if (bpf_ntohs(ip.frag_off) & (IP_MF | IP_OFFSET)) {
			st->frag++;
			return TC_ACT_UNSPEC;
		}
		if (ip.protocol != IPPROTO_UDP)
			goto not_udp;
		ip_len = bpf_ntohs(ip.tot_len);
		l4 = ip.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) || ip6.version != 6)
			goto not_udp;
		if (ip6.nexthdr == NEXTHDR_FRAGMENT) {
			st->frag++;
			return TC_ACT_UNSPEC;
		}
		if (ip6.nexthdr != IPPROTO_UDP)
			goto not_udp;
		ip_len = bpf_ntohs(ip6.payload_len) + sizeof(ip6);
		l4 = sizeof(ip6);
		v6 = true;
	} else {
		goto not_udp;
	}
	if (skb->gso_segs > 1 || skb->gso_size) {
		st->gso++;
		return TC_ACT_UNSPEC;
	}
	/* exactly one datagram: nothing after it (no trailer yet), nothing missing */
	if (bpf_skb_load_bytes(skb, ETH_HLEN + l4, &uh, sizeof(uh)) ||
	    l4 + bpf_ntohs(uh.len) != ip_len || ETH_HLEN + ip_len > skb->len) {
		st->other++;
		return TC_ACT_UNSPEC;
	}
	new_len = ip_len + TR_STAMP_LEN;
	if (new_len > 0xffff + (v6 ? sizeof(struct ipv6hdr) : 0) ||
	    bpf_check_mtu(skb, 0, &mtu, ETH_HLEN + ip_len + TR_STAMP_LEN - skb->len, 0)) {
		st->mtu++;
		return TC_ACT_UNSPEC;
	}
	/* random: two datagrams alike in every byte still get two ids */
	id = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
	trailer(t, id ? id : 1);
	if (bpf_skb_change_tail(skb, ETH_HLEN + new_len, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + ip_len, t, TR_STAMP_LEN, 0))
		goto fail;
	if (v6) {
		__be16 pl = bpf_htons(new_len - sizeof(struct ipv6hdr));

		if (bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, payload_len),
					&pl, sizeof(pl), BPF_F_RECOMPUTE_CSUM))
			goto fail;
	} else {
		__be16 old = bpf_htons(ip_len), tot = bpf_htons(new_len);

		if (bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, tot,
					sizeof(tot)) ||
		    bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, tot_len), &tot,
					sizeof(tot), 0))
			goto fail;
	}
	st->stamped++;
	return TC_ACT_UNSPEC;
not_udp:
	st->not_udp++;
	return TC_ACT_UNSPEC;
fail:
	/* the trailer may be in, its IP length not: the datagram still arrives whole */
	st->other++;
	return TC_ACT_UNSPEC;
}
