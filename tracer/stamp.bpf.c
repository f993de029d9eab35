// SPDX-License-Identifier: GPL-2.0
/*
 * stamp.bpf.c - tracer --stamp: a tc program at the first point's device
 * that writes a packet id into every UDP datagram, as a trailer after the
 * datagram inside the IP packet (tracer.h). The IP length grows, the UDP
 * length stays, so the receiver's UDP stack trims the trailer and the
 * application gets exactly what was sent; the trailer's sum cancels the
 * longer length in a checksum over the IP payload (conntrack's). What
 * cannot be stamped is counted by why.
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
#define VXLAN_PORT	4789
#define VXLAN_PORT_OLD	8472
#define GENEVE_PORT	6081
#define TC_ACT_UNSPEC	(-1)	/* on to the next filter: stamping decides nothing */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_stamp_stats);
} stamp_stats SEC(".maps");

/*
 * The trailer for @id after a UDP datagram of @udp_len bytes: its 16-bit
 * words add up to -12 (ones' complement) where they lie in the datagram, so
 * that a checksum over the IP payload length (the pseudo-header's length 12
 * more, as conntrack computes it) still verifies. At an odd offset the
 * trailer's bytes fall in the other half of each word: its own words then
 * add up to -12 byte-swapped.
 */
static __always_inline void trailer(__u8 *t, __u64 id, __u32 udp_len)
{
	__u32 want = udp_len & 1 ? TR_STAMP_SUM_ODD : TR_STAMP_SUM, sum = TR_STAMP_MAGIC, i;

	for (i = 0; i < 8; i++)
		t[4 + i] = id >> (56 - 8 * i);
	for (i = 4; i < TR_STAMP_LEN; i += 2)
		sum += (t[i] << 8) | t[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (~sum & 0xffff) + want;		/* want - sum */
	sum = (sum & 0xffff) + (sum >> 16);
	t[0] = TR_STAMP_MAGIC >> 8;
	t[1] = TR_STAMP_MAGIC & 0xff;
	t[2] = sum >> 8;
	t[3] = sum & 0xff;
}

/*
 * A CHECKSUM_PARTIAL datagram's checksum field holds the pseudo-header's sum
 * with the UDP length; the device (or skb_checksum_help()) adds the packet
 * from the UDP header to its end, the trailer's -12 included: move that seed
 * by +12, as if the pseudo-header had the length with the trailer. A
 * checksum already complete (covering the UDP length only) must stay as it
 * is. The kernel's l4 checksum helper tells the two apart (only it sees
 * ip_summed, on every kernel): with BPF_F_PSEUDO_HDR it moves a seed and a
 * complete checksum alike; without, it moves only a complete one. So the
 * first call moves both by +12, the second moves a complete one back.
 * BPF_F_MARK_MANGLED_0: an IPv4 checksum 0 (none) stays 0. No skb->csum to
 * keep: bpf_skb_change_tail() turned a CHECKSUM_COMPLETE packet into
 * CHECKSUM_NONE (__skb_grow_rcsum()).
 */
static __always_inline int csum_seed(struct __sk_buff *skb, __u32 off, __u32 udp_len)
{
	__be32 from = bpf_htonl(udp_len), to = bpf_htonl(udp_len + TR_STAMP_LEN);

	if (bpf_l4_csum_replace(skb, off, from, to,
				BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | sizeof(to)))
		return -1;
	return bpf_l4_csum_replace(skb, off, to, from, BPF_F_MARK_MANGLED_0 | sizeof(to));
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
	/*
	 * A UDP tunnel's packet may carry its inner packet's checksum for the
	 * device to finish (to the end of the packet, the trailer included).
	 */
	if (uh.dest == bpf_htons(VXLAN_PORT) || uh.dest == bpf_htons(VXLAN_PORT_OLD) ||
	    uh.dest == bpf_htons(GENEVE_PORT)) {
		st->tunnel++;
		return TC_ACT_UNSPEC;
	}
	/* random: two datagrams alike in every byte still get two ids */
	id = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
	trailer(t, id ? id : 1, ip_len - l4);
	if (bpf_skb_change_tail(skb, ETH_HLEN + new_len, 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN + ip_len, t, TR_STAMP_LEN, 0) ||
	    csum_seed(skb, ETH_HLEN + l4 + offsetof(struct udphdr, check), ip_len - l4))
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
