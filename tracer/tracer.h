/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracer.h - what tracer.bpf.c and user space share: hooks, points, the
 * per-packet state, the records of the ring buffer and the counters.
 *
 * Include after vmlinux.h in BPF code and after <linux/types.h> in user space.
 */
#ifndef TRACER_H
#define TRACER_H

#define TR_MAX_POINTS	16		/* points of one run */
#define TR_NO_POINT	0xff
#define TR_MAX_SEGS	(TR_MAX_POINTS * TR_MAX_POINTS)

/*
 * Latency histogram, log-linear: values below 2^TR_SUB_BITS ns have a bucket
 * each; above, every power of two is split into 2^TR_SUB_BITS buckets, so a
 * bucket is at most 1/16 of its value wide (reported at its middle: within
 * 3.2 %). Values of 2^TR_MAX_MSB ns (~18 minutes) and more go to the last.
 */
#define TR_SUB_BITS	4
#define TR_SUB		(1 << TR_SUB_BITS)
#define TR_MAX_MSB	40
#define TR_NBUCKETS	(TR_SUB + (TR_MAX_MSB - TR_SUB_BITS + 1) * TR_SUB)

/* The bytes of the innermost packet a --filter sees (an Ethernet frame). */
#define TR_FBUF		256
#define TR_FMEM		16		/* scratch words M[] of classic BPF */
/* r0 = TR_SLOT_MAGIC opens the slot the filter is written into. */
#define TR_SLOT_MAGIC	0x7a43f17	/* 128204567, as written in run_filter() */
#define TR_SLOT_LEN	400

enum tr_hook {
	TR_HOOK_RX,		/* netif_receive_skb */
	TR_HOOK_RXQ,		/* netif_rx, napi_gro_receive_entry */
	TR_HOOK_TXQ,		/* net_dev_queue: before the qdisc */
	TR_HOOK_TX,		/* net_dev_start_xmit: into the driver */
	TR_HOOK_QDISC,		/* qdisc_dequeue: out of a real qdisc */
	TR_HOOK_DROP,		/* kfree_skb, with the reason */
	TR_HOOK_RETRANS,	/* tcp_retransmit_skb */
	TR_HOOK_FENTRY,		/* fentry:FUNC, a function with a struct sk_buff * argument */
	TR_HOOK_KPROBE,		/* kprobe:FUNC, or fentry:FUNC where fentry cannot attach */
	TR_HOOK_MAX,
};

struct tr_point {
	__u32 hook;		/* enum tr_hook */
	__u32 ifindex;		/* 0: any device */
	__u32 netns;		/* netns inode, 0: any */
	__u32 arg;		/* fentry, kprobe: position of the skb argument */
	__u64 ip;		/* fentry, kprobe: the function's address */
};

/* What one fentry program instance traces. */
struct tr_fn_inst {
	__u64 ip;		/* the function's address */
	__u32 arg;		/* position of its skb argument */
	__u32 pad;
};

#define TR_FN_ARGS	5	/* the skb among the first 5 arguments (kprobe: registers) */

/* Per packet, keyed by the skb's address; fp tells a reused address. */
struct tr_pkt {
	__u64 id;		/* fingerprint hash: the packet id */
	__u64 ts;		/* last sight, bpf_ktime_get_ns(); 0: being expired */
	__u8 point;		/* last point */
	__u8 pad[7];
};

/*
 * Expiry: user space hands over up to TR_EXPIRE_BATCH entries it found
 * older than --loss-timeout, with the time it read in each; tr_expire()
 * deletes an entry only if that time is still in it, and sets ts[i] to 0
 * where it did not (the packet was seen again meanwhile, or is gone).
 */
#define TR_EXPIRE_BATCH	256

struct tr_expire {
	__u64 key[TR_EXPIRE_BATCH];
	__u64 ts[TR_EXPIRE_BATCH];
	__u32 n;
	__u32 pad;
};

#define TR_EV_PASS	1
#define TR_EV_DROP	2

struct tr_event {
	__u64 ts;
	__u64 id;
	__u64 hop_ns;		/* since the previous point, 0 at the first */
	__u64 location;		/* drops: where the skb was freed */
	__u32 kind;		/* TR_EV_* */
	__u32 ifindex;
	__u32 netns;
	__u32 len;		/* skb->len */
	__u32 reason;		/* drops: enum skb_drop_reason */
	__u32 vni;
	__u8 point;
	__u8 prev_point;	/* TR_NO_POINT at the first */
	__u8 family;		/* innermost packet: AF_INET, AF_INET6, 0: not IP */
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u8 src[16];
	__u8 dst[16];
	__u8 outer_family;	/* 0: not encapsulated */
	__u8 rule;		/* emitted because a latency rule fired */
	__u8 gen;		/* config generation (low 8 bits) that emitted it */
	__u8 pad[5];
	__u8 outer_src[16];
	__u8 outer_dst[16];
};

/* Per point, per CPU. */
struct tr_point_stats {
	__u64 packets;
	__u64 bytes;
	__u64 rb_lost;		/* ring buffer reservations that failed */
	__u64 ended;		/* state replaced: address reused, no further point seen */
	__u64 track_fail;	/* could not be followed (state map full) */
	__u64 filtered;		/* seen, not followed: --filter said no */
};

/* Per segment (from * TR_MAX_POINTS + to), per CPU. */
struct tr_seg_stats {
	__u64 packets;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 jitter16;		/* RFC 3550 J, times 16, of this CPU's packets */
	__u64 prev_ns;		/* latency of this CPU's previous packet */
};

struct tr_hist {
	__u32 b[TR_NBUCKETS];
};

/* Per-point flows (the innermost packet's 5-tuple), for the top-N by throughput. */
struct tr_flow_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u8 point;
	__u8 pad;
};

struct tr_flow_val {
	__u64 packets;
	__u64 bytes;
};

/* Drop counts: per CPU, by the last point the packet passed and the reason. */
struct tr_drop_key {
	__u32 point;
	__u32 reason;
};

/*
 * --stamp: a trailer after a UDP datagram, inside its IP packet (the IP
 * length grows, the UDP length stays): a magic, a word that makes the
 * trailer's ones' complement sum -12 where it lies in the datagram (its own
 * words: TR_STAMP_SUM after a datagram of even length, TR_STAMP_SUM_ODD, the
 * same byte-swapped, after an odd one) and the packet id, all big-endian.
 */
#define TR_STAMP_LEN	12
#define TR_STAMP_MAGIC	0xb57a
#define TR_STAMP_SUM	0xfff3		/* ~12 */
#define TR_STAMP_SUM_ODD 0xf3ff

/* What the stamping program did, per CPU. */
struct tr_stamp_stats {
	__u64 stamped;
	__u64 gso;		/* GSO packets (UDP_SEGMENT, UFO): not stamped */
	__u64 mtu;		/* would exceed the device's MTU */
	__u64 frag;		/* IP fragments */
	__u64 not_udp;		/* not UDP, or not IP, or IPv6 extension headers */
	__u64 other;		/* data after the datagram already, or the write failed */
	__u64 tunnel;		/* to a VXLAN or Geneve port (inner checksums) */
};

#endif /* TRACER_H */
