// SPDX-License-Identifier: GPL-2.0
/*
 * tracer.bpf.c - follow packets through the points the user named.
 *
 * Every hook program finds the point its (hook, device, netns) matches,
 * parses the packet (the outer headers, and the inner ones of a VXLAN
 * packet) and hashes the fields NAT, routing and encapsulation leave alone
 * into the packet id. The skb's address keys the packet's state (its id,
 * last point and time); the id checks that the address still holds the same
 * packet, since addresses are reused once an skb is freed. A packet's
 * passage from point A to point B counts into the segment A->B: packets, a
 * log-linear latency histogram and the RFC 3550 jitter, all per CPU, so the
 * counting never loses anything. Events (--events) and drops go through a
 * ring buffer that wakes user space only when a quarter full; a reservation
 * that fails is counted per point and CPU.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "tracer.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define AF_INET		2
#define AF_INET6	10
#define TR_IPPROTO_ICMPV6 58
#define VXLAN_PORT	4789
#define VXLAN_PORT_OLD	8472
#define ARPHRD_ETHER	1
#define IP_OFFSET	0x1fff
#define TR_HDR		192	/* bytes of headers parse() reads at once */

char LICENSE[] SEC("license") = "GPL";

/*
 * Benchmark builds only (selftests/bench/tracer.sh, CFGS=floor-*): the hook
 * programs stop at once (1), after the point match (2) or after parsing the
 * id (3), counting the packet at its point in 2 and 3: what any tracer on
 * these tracepoints pays, measured beside the real one. 0 in every build
 * tracer ships.
 */
#ifndef TR_BENCH_STOP
#define TR_BENCH_STOP 0
#endif

const volatile __u32 npoints = 0;
const volatile struct tr_point points[TR_MAX_POINTS] = {};
const volatile bool events_on = false;
const volatile bool filter_on = false;
const volatile __u64 wake_bytes = 0;	/* ring fill that wakes user space */
const volatile __u8 gen = 1;		/* config generation, stamped on events */
const volatile bool flows_on = false;	/* count per flow and point (--top) */
const volatile bool tuple_on = false;	/* addresses wanted: events, rules, flows */
const volatile __u32 sample_n = 0;	/* follow 1 packet id in sample_n (0, 1: all) */
const volatile __u64 rule_ns[TR_MAX_SEGS] = {};	/* emit when a segment takes longer */
const volatile struct tr_fn_inst fn = {};	/* an fentry instance: its function */
/* tracepoints read headers in place (the kernel allows loads through skb->data) */
const volatile bool direct = false;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);	/* --track */
	__type(key, __u64);
	__type(value, struct tr_pkt);
} pkts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);	/* --buffer */
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TR_MAX_POINTS + 1);	/* the last: no point */
	__type(key, __u32);
	__type(value, struct tr_point_stats);
} pstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TR_MAX_SEGS);
	__type(key, __u32);
	__type(value, struct tr_seg_stats);
} sstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TR_MAX_SEGS);
	__type(key, __u32);
	__type(value, struct tr_hist);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tr_drop_key);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tr_flow_key);
	__type(value, struct tr_flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_expire);
} expq SEC(".maps");

struct tr_fbuf {
	__u8 data[TR_FBUF];	/* the filter's frame, at offset 0 (see filter.c) */
	__u32 mem[TR_FMEM];
	__u32 wirelen;		/* the frame's length (classic BPF's len) */
	__u32 pad;
	__u8 hdr[TR_HDR];	/* the headers parse() reads */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tr_fbuf);
} fbuf SEC(".maps");

/* What parsing found: the id, the innermost packet and the tunnel. */
struct tr_info {
	__u64 id;
	void *l3;		/* innermost L3 header */
	__u32 l3_len;
	__u16 eth_proto;	/* of the innermost packet */
	__u8 family;
	__u8 proto;
	__u16 sport;
	__u16 dport;
	__u32 vni;
	__u8 outer_family;
	__u8 src[16];
	__u8 dst[16];
	__u8 outer_src[16];
	__u8 outer_dst[16];
	struct sk_buff *skb;	/* the packet's (for stamp_read()'s bound) */
};

static __always_inline __u64 mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/*
 * The id tracer --stamp wrote after the UDP datagram at @udp (tracer.h), if
 * the packet holds exactly the datagram (@udp_len) and a trailer, which lies
 * within @skb's linear data (at rx points the IP length is what the packet
 * says, not yet checked against its real length); else 0.
 */
static __always_inline __u64 stamp_read(struct sk_buff *skb, void *udp, __u32 l4_len,
					__u32 udp_len)
{
	__u8 t[TR_STAMP_LEN];
	__u32 sum = 0, i;
	__u64 id = 0;

	if (l4_len != udp_len + TR_STAMP_LEN ||
	    udp + l4_len > (void *)BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, tail) ||
	    bpf_probe_read_kernel(t, sizeof(t), udp + udp_len) ||
	    ((t[0] << 8) | t[1]) != TR_STAMP_MAGIC)
		return 0;
	for (i = 0; i < TR_STAMP_LEN; i += 2)
		sum += (t[i] << 8) | t[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	if (sum != (udp_len & 1 ? TR_STAMP_SUM_ODD : TR_STAMP_SUM))
		return 0;
	for (i = 4; i < TR_STAMP_LEN; i++)
		id = (id << 8) | t[i];
	return id;
}

/*
 * Parse the L3 header at @off in the headers read (fb->hdr, a copy of the
 * packet from @p on) with ethertype @proto, and its L4 header, into @in,
 * hashing the fields that identify the packet into in->id; the addresses
 * only if @tuple (events, rules, flows and drops show them). Returns the
 * offset in fb->hdr of the VXLAN payload (the inner Ethernet frame), or 0.
 */
static __always_inline __u32 parse_l3(const __u8 *hdr, __u32 off, void *p, __u16 proto,
				      struct tr_info *in, bool tuple)
{
	__u64 h = 0x6a09e667f3bcc909ULL;
	__u32 l4_off, l4_len, vx = 0;
	const __u8 *l4;
	__u64 stamp;

	in->l3 = p + off;
	in->eth_proto = proto;
	in->family = 0;
	if (proto == ETH_P_IP) {
		struct iphdr *ip;

		if (off > TR_HDR - sizeof(*ip))
			return 0;
		ip = (void *)hdr + off;
		if (ip->version != 4 || ip->ihl < 5)
			return 0;
		in->family = AF_INET;
		in->proto = ip->protocol;
		if (tuple) {
			__builtin_memset(in->src, 0, 16);
			__builtin_memset(in->dst, 0, 16);
			__builtin_memcpy(in->src, &ip->saddr, 4);
			__builtin_memcpy(in->dst, &ip->daddr, 4);
		}
		in->l3_len = bpf_ntohs(ip->tot_len);
		h = mix(h, ((__u64)bpf_ntohs(ip->id) << 32) | ((__u64)ip->protocol << 16) |
			   bpf_ntohs(ip->tot_len));
		if (bpf_ntohs(ip->frag_off) & IP_OFFSET) {
			h = mix(h, bpf_ntohs(ip->frag_off));
			goto out;
		}
		l4_off = ip->ihl * 4;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6;

		if (off > TR_HDR - sizeof(*ip6))
			return 0;
		ip6 = (void *)hdr + off;
		if (ip6->version != 6)
			return 0;
		in->family = AF_INET6;
		in->proto = ip6->nexthdr;
		if (tuple) {
			__builtin_memcpy(in->src, &ip6->saddr, 16);
			__builtin_memcpy(in->dst, &ip6->daddr, 16);
		}
		in->l3_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		h = mix(h, ((__u64)ip6->flow_lbl[0] << 56) | ((__u64)ip6->flow_lbl[1] << 48) |
			   ((__u64)ip6->flow_lbl[2] << 40) | ((__u64)ip6->nexthdr << 16) |
			   bpf_ntohs(ip6->payload_len));
		l4_off = sizeof(*ip6);
	} else {
		return 0;
	}
	l4_len = in->l3_len > l4_off ? in->l3_len - l4_off : 0;
	in->sport = 0;
	in->dport = 0;
	l4_off += off;
	/* One register for the check and the index (see seg_count()). */
	asm volatile("" : "+r"(l4_off));
	if (l4_off > TR_HDR - 16)
		goto out;
	l4 = hdr + l4_off;
	if (in->proto == IPPROTO_TCP) {
		/* seq, ack, offset and flags: what a retransmission repeats */
		in->sport = (l4[0] << 8) | l4[1];
		in->dport = (l4[2] << 8) | l4[3];
		h = mix(h, *(__u64 *)&l4[4]);
		h = mix(h, *(__u16 *)&l4[12]);
	} else if (in->proto == IPPROTO_UDP) {
		/* the UDP length and the first 8 payload bytes */
		in->sport = (l4[0] << 8) | l4[1];
		in->dport = (l4[2] << 8) | l4[3];
		h = mix(h, *(__u16 *)&l4[4]);
		h = mix(h, *(__u64 *)&l4[8]);
		stamp = stamp_read(in->skb, p + l4_off, l4_len, (l4[4] << 8) | l4[5]);
		if (stamp)
			h = stamp;
		if ((in->dport == VXLAN_PORT || in->dport == VXLAN_PORT_OLD) &&
		    (l4[8] & 0x08) && l4_len >= 8 + 8 + 14)
			vx = l4_off + 16;
		in->vni = ((__u32)l4[12] << 16) | ((__u32)l4[13] << 8) | l4[14];
	} else if (in->proto == IPPROTO_ICMP || in->proto == TR_IPPROTO_ICMPV6) {
		/* type, code, identifier and sequence */
		h = mix(h, *(__u64 *)&l4[0] & 0xffffffff0000ffffULL);
	}
out:
	in->id = h ? h : 1;
	return vx;
}

/*
 * Parse from @p (Ethernet if @l2, else L3 with ethertype @proto), into VXLAN.
 * In place if @dir (a tracepoint's skb->data, where the kernel allows loads
 * through it); else one read copies the headers (TR_HDR bytes: room for
 * Ethernet, IP with options, UDP and VXLAN twice) into the per-CPU scratch
 * and parsing reads that. Either way parsing reads the first TR_HDR bytes.
 */
static __always_inline int parse(void *p, bool l2, __u16 proto, struct tr_info *in, bool tuple,
				 bool dir)
{
	const __u8 *hdr = p;
	struct tr_fbuf *fb;
	__u32 zero = 0, off = 0, vx;
	__u16 inner;

	in->outer_family = 0;
	if (!dir) {
		fb = bpf_map_lookup_elem(&fbuf, &zero);
		if (!fb || bpf_probe_read_kernel(fb->hdr, TR_HDR, p))
			return -1;
		hdr = fb->hdr;
	}
	if (l2) {
		proto = (hdr[12] << 8) | hdr[13];
		off = 14;
	}
	vx = parse_l3(hdr, off, p, proto, in, tuple);
	if (!in->family)
		return -1;
	asm volatile("" : "+r"(vx));
	if (!vx || vx > TR_HDR - 14)
		return 0;
	inner = (hdr[vx + 12] << 8) | hdr[vx + 13];
	in->outer_family = in->family;
	__builtin_memcpy(in->outer_src, in->src, 16);
	__builtin_memcpy(in->outer_dst, in->dst, 16);
	parse_l3(hdr, vx + 14, p, inner, in, tuple);
	if (!in->family) {	/* not IP inside: keep the outer packet */
		in->outer_family = 0;
		parse_l3(hdr, off, p, proto, in, tuple);
	}
	return 0;
}

/*
 * The --filter: user space writes the translated classic BPF program over
 * the slot below before load (r1: the frame, r2: its length; r0: non-zero
 * to follow the packet). Unchanged, the slot accepts every packet.
 */
static __always_inline int run_filter(struct tr_fbuf *fb, __u32 len)
{
	__u64 ret;

	asm volatile("r1 = %[buf]\n\t"
		     "r2 = %[len]\n\t"
		     "r0 = 128204567\n\t"		/* TR_SLOT_MAGIC */
		     ".rept 399\n\t"			/* TR_SLOT_LEN - 1 */
		     "r0 = 1\n\t"
		     ".endr\n\t"
		     "%[ret] = r0"
		     : [ret] "=r"(ret)
		     : [buf] "r"(fb), [len] "r"(len)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "memory");
	return ret != 0;
}

/* Copy the innermost packet behind a made-up Ethernet header; filter it. */
static __always_inline bool filter(struct tr_info *in)
{
	struct tr_fbuf *fb;
	__u32 zero = 0, n;

	if (!filter_on)
		return true;
	fb = bpf_map_lookup_elem(&fbuf, &zero);
	if (!fb)
		return false;
	__builtin_memset(fb->data, 0, 12);
	fb->data[12] = in->eth_proto >> 8;
	fb->data[13] = in->eth_proto & 0xff;
	n = in->l3_len;
	fb->wirelen = n + 14;
	if (n > TR_FBUF - 14)
		n = TR_FBUF - 14;
	if (bpf_probe_read_kernel(fb->data + 14, n, in->l3))
		return false;
	return run_filter(fb, n + 14);
}

static __always_inline bool is_fn(__u32 hook)
{
	return hook == TR_HOOK_FENTRY || hook == TR_HOOK_KPROBE;
}

static __always_inline __u64 bucket(__u64 lat)
{
	__u32 msb = 0;
	__u64 v = lat;

	if (v < TR_SUB)
		return v;
	if (v >> 32) { v >>= 32; msb += 32; }
	if (v >> 16) { v >>= 16; msb += 16; }
	if (v >> 8) { v >>= 8; msb += 8; }
	if (v >> 4) { v >>= 4; msb += 4; }
	if (v >> 2) { v >>= 2; msb += 2; }
	if (v >> 1)
		msb += 1;
	if (msb > TR_MAX_MSB)
		return TR_NBUCKETS - 1;
	return TR_SUB + (msb - TR_SUB_BITS) * TR_SUB +
	       ((lat >> (msb - TR_SUB_BITS)) & (TR_SUB - 1));
}

static __always_inline void seg_count(__u32 from, __u32 to, __u64 lat)
{
	__u32 seg = from * TR_MAX_POINTS + to;
	struct tr_seg_stats *s;
	__u64 b;
	struct tr_hist *hh;
	__u64 d;

	s = bpf_map_lookup_elem(&sstats, &seg);
	hh = bpf_map_lookup_elem(&hist, &seg);
	if (!s || !hh)
		return;
	if (s->packets) {
		d = lat > s->prev_ns ? lat - s->prev_ns : s->prev_ns - lat;
		s->jitter16 += d - (s->jitter16 >> 4);
	}
	s->prev_ns = lat;
	s->packets++;
	s->sum_ns += lat;
	if (lat > s->max_ns)
		s->max_ns = lat;
	b = bucket(lat);
	/*
	 * One register for the check and the index: the 6.1 verifier does not
	 * carry the bound over to a zero-extended copy of it.
	 */
	asm volatile("" : "+r"(b));
	if (b >= TR_NBUCKETS)
		return;
	hh->b[b]++;
}

/* Where and when an event happened, and for drops why. */
struct tr_where {
	__u64 now;
	__u64 hop;
	__u64 location;
	__u32 kind;
	__u32 pt;
	__u32 prev;
	__u32 ifindex;
	__u32 netns;
	__u32 reason;
	__u32 len;
	bool rule;
};

static __always_inline void emit(struct tr_point_stats *ps, struct tr_info *in,
				 struct tr_where *w)
{
	struct tr_event *e;
	__u64 flags;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&ps->rb_lost, 1);
		return;
	}
	e->ts = w->now;
	e->id = in->id;
	e->hop_ns = w->hop;
	e->location = w->location;
	e->reason = w->reason;
	e->kind = w->kind;
	e->ifindex = w->ifindex;
	e->netns = w->netns;
	e->len = w->len;
	e->vni = in->outer_family ? in->vni : 0;
	e->point = w->pt;
	e->prev_point = w->prev;
	e->family = in->family;
	e->proto = in->proto;
	e->sport = in->sport;
	e->dport = in->dport;
	__builtin_memcpy(e->src, in->src, 16);
	__builtin_memcpy(e->dst, in->dst, 16);
	e->outer_family = in->outer_family;
	e->rule = w->rule;
	e->gen = gen;
	__builtin_memcpy(e->outer_src, in->outer_src, 16);
	__builtin_memcpy(e->outer_dst, in->outer_dst, 16);
	flags = bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wake_bytes ?
		BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void flow_count(struct tr_info *in, __u32 pt, __u32 len)
{
	struct tr_flow_key k = {};
	struct tr_flow_val *v, nv = { 1, len };

	__builtin_memcpy(k.src, in->src, 16);
	__builtin_memcpy(k.dst, in->dst, 16);
	k.sport = in->sport;
	k.dport = in->dport;
	k.family = in->family;
	k.proto = in->proto;
	k.point = pt;
	v = bpf_map_lookup_elem(&flows, &k);
	if (v) {
		v->packets++;
		v->bytes += len;
	} else {
		bpf_map_update_elem(&flows, &k, &nv, BPF_NOEXIST);
	}
}

static __always_inline void *skb_l3(struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, network_header);
}

/*
 * Where a function's skb starts: its network header where that is set near
 * data (data is at L2 on output, at L3 or L4 on input), else data.
 */
static __always_inline void *fn_start(struct sk_buff *skb, bool *l2, __u16 *proto)
{
	unsigned char *head = BPF_CORE_READ(skb, head), *data = BPF_CORE_READ(skb, data);
	__u16 nh = BPF_CORE_READ(skb, network_header), mh = BPF_CORE_READ(skb, mac_header);
	__u8 v = 0;

	*l2 = false;
	if (nh && nh != (__u16)~0U && head + nh + 128 >= data && head + nh <= data + 128)
		data = head + nh;
	else if (mh != (__u16)~0U && head + mh == data &&
		 BPF_CORE_READ(skb, dev, type) == ARPHRD_ETHER)
		*l2 = true;
	if (!*l2 && *proto != ETH_P_IP && *proto != ETH_P_IPV6 &&
	    !bpf_probe_read_kernel(&v, 1, data))
		*proto = v >> 4 == 4 ? ETH_P_IP : v >> 4 == 6 ? ETH_P_IPV6 : *proto;
	return data;
}

/* The skb's fields handle() needs. */
struct tr_skb {
	struct net_device *dev;
	void *data;
	__u32 len;
	__u32 ifindex;
	__u32 netns;
	__u16 proto;
	__u16 type;		/* the device's ARPHRD_* (tracepoints only) */
};

/*
 * Load them directly where @skb is a typed pointer (@btf: the tracepoints'
 * argument; a NULL device reads as 0), else (fentry, kprobe) with
 * bpf_probe_read_kernel(), one helper call per field. The netns only when
 * asked for (skb_netns()): most packets a hook sees are on other devices.
 */
static __always_inline void skb_get(struct sk_buff *skb, bool btf, struct tr_skb *f)
{
	struct net_device *dev;

	if (btf) {
		dev = skb->dev;
		f->data = skb->data;
		f->len = skb->len;
		f->proto = bpf_ntohs(skb->protocol);
		f->ifindex = dev->ifindex;
		f->netns = 0;
		f->type = dev->type;
		f->dev = dev;
		return;
	}
	dev = BPF_CORE_READ(skb, dev);
	f->dev = dev;
	f->data = BPF_CORE_READ(skb, data);
	f->len = BPF_CORE_READ(skb, len);
	f->proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	f->ifindex = BPF_CORE_READ(dev, ifindex);
	f->netns = 0;
	f->type = 0;
}

/* The netns inode of @f's device, read once (0: no device). */
static __always_inline __u32 skb_netns(struct tr_skb *f, bool btf)
{
	struct net_device *dev = f->dev;

	if (!f->netns && dev)
		f->netns = btf ? dev->nd_net.net->ns.inum : BPF_CORE_READ(dev, nd_net.net, ns.inum);
	return f->netns;
}

/*
 * The first point of @hook on @f's device (its ifindex; its netns, read
 * only if a point names one); for fentry and kprobe points, of the function
 * at @ip (a kprobe's ip may be past an ENDBR).
 */
static __always_inline int match_skb(__u32 hook, struct tr_skb *f, bool btf, __u64 ip)
{
	int i;

	for (i = 0; i < TR_MAX_POINTS; i++) {
		if (i >= npoints)
			break;
		if (is_fn(hook)) {
			if (!is_fn(points[i].hook) || ip - points[i].ip >= 16)
				continue;
		} else if (points[i].hook != hook) {
			continue;
		}
		if (points[i].ifindex && points[i].ifindex != f->ifindex)
			continue;
		if (points[i].netns && points[i].netns != skb_netns(f, btf))
			continue;
		return i;
	}
	return -1;
}

/* The first point of @hook on @ifindex in @netns (drop and retransmit points). */
static __always_inline int match(__u32 hook, __u32 ifindex, __u32 netns, __u64 ip)
{
	struct tr_skb f = { .ifindex = ifindex, .netns = netns };

	return match_skb(hook, &f, false, ip);
}

static __always_inline int handle(struct sk_buff *skb, __u32 hook, __u64 ip)
{
	struct tr_point_stats *ps;
	struct tr_info in = { .skb = skb };
	struct tr_pkt *st, nst;
	struct tr_skb f;
	__u64 key = (__u64)skb, now, hop = 0, ts = 0;
	__u32 pt, prev = TR_NO_POINT;
	bool l2, rule = false;
	void *data;
	int i;

	if (TR_BENCH_STOP == 1)
		return 0;
	skb_get(skb, !is_fn(hook), &f);
	i = match_skb(hook, &f, !is_fn(hook), ip);
	if (i < 0)
		return 0;
	pt = i;
	ps = bpf_map_lookup_elem(&pstats, &pt);
	if (!ps)
		return 0;
	if (TR_BENCH_STOP == 2) {
		ps->packets++;
		return 0;
	}
	if (is_fn(hook)) {
		data = fn_start(skb, &l2, &f.proto);
	} else {
		data = f.data;
		l2 = (hook == TR_HOOK_TX || hook == TR_HOOK_TXQ || hook == TR_HOOK_QDISC) &&
		     f.type == ARPHRD_ETHER;
	}
	if (parse(data, l2, f.proto, &in, tuple_on, direct && !is_fn(hook)))
		return 0;
	if (TR_BENCH_STOP == 3) {
		ps->packets++;
		return 0;
	}
	now = bpf_ktime_get_ns();
	st = bpf_map_lookup_elem(&pkts, &key);
	/*
	 * Claim the entry by swapping the time in: 0 means user space expired
	 * it meanwhile (it counted that), and it is being deleted.
	 */
	if (st && !(ts = __sync_lock_test_and_set(&st->ts, now)))
		st = NULL;
	if (st && st->id == in.id) {
		prev = st->point;
		hop = now - ts;
		if (prev != pt && prev < TR_MAX_POINTS) {
			__u32 seg = prev * TR_MAX_POINTS + pt;

			seg_count(prev, pt, hop);
			rule = seg < TR_MAX_SEGS && rule_ns[seg] && hop > rule_ns[seg];
		}
		st->point = pt;
	} else {
		if (st) {	/* the address holds another packet now */
			__u32 old = st->point < TR_MAX_POINTS ? st->point : TR_MAX_POINTS;
			struct tr_point_stats *ops = bpf_map_lookup_elem(&pstats, &old);

			if (ops)
				__sync_fetch_and_add(&ops->ended, 1);
		}
		/* sampled by the id, so every host follows the same packets */
		if ((sample_n > 1 && in.id % sample_n) || !filter(&in)) {
			ps->filtered++;
			if (st)
				bpf_map_delete_elem(&pkts, &key);
			return 0;
		}
		if (st) {	/* in place: no second hash walk (ts set above) */
			st->id = in.id;
			st->point = pt;
		} else {
			nst.id = in.id;
			nst.ts = now;
			nst.point = pt;
			if (bpf_map_update_elem(&pkts, &key, &nst, BPF_ANY)) {
				ps->track_fail++;
				return 0;
			}
		}
	}
	ps->packets++;
	ps->bytes += f.len;
	if (flows_on)
		flow_count(&in, pt, f.len);
	if (events_on || rule) {
		struct tr_where w = { .now = now, .hop = hop, .kind = TR_EV_PASS, .pt = pt,
				      .prev = prev, .ifindex = f.ifindex,
				      .netns = skb_netns(&f, !is_fn(hook)),
				      .len = f.len, .rule = rule };

		emit(ps, &in, &w);
	}
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(tr_rx, struct sk_buff *skb)
{
	return handle(skb, TR_HOOK_RX, 0);
}

SEC("tp_btf/netif_rx")
int BPF_PROG(tr_rxq, struct sk_buff *skb)
{
	return handle(skb, TR_HOOK_RXQ, 0);
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(tr_gro, struct sk_buff *skb)
{
	return handle(skb, TR_HOOK_RXQ, 0);
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(tr_txq, struct sk_buff *skb)
{
	return handle(skb, TR_HOOK_TXQ, 0);
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(tr_tx, struct sk_buff *skb)
{
	return handle(skb, TR_HOOK_TX, 0);
}

SEC("tp_btf/qdisc_dequeue")
int BPF_PROG(tr_qdisc, struct Qdisc *q, const struct netdev_queue *txq, int n,
	     struct sk_buff *skb)
{
	if (!skb)
		return 0;
	return handle(skb, TR_HOOK_QDISC, 0);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(tr_drop, struct sk_buff *skb, void *location, int reason)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	__u32 ifindex = BPF_CORE_READ(dev, ifindex), netns, pt;
	struct sock *sk = BPF_CORE_READ(skb, sk);
	struct tr_drop_key dk = {};
	struct tr_point_stats *ps;
	struct tr_info in = { .skb = skb };
	struct tr_where w = {};
	__u64 key = (__u64)skb, now, ts, *cnt, one = 1;
	struct tr_pkt *st;
	int i;

	st = bpf_map_lookup_elem(&pkts, &key);
	if (!st || !st->ts)	/* not followed, or being expired */
		return 0;
	/*
	 * Only the packet followed, parsed at its network header: an skb at the
	 * address of one followed and freed without a drop (its state is kept
	 * until expiry) may be another packet, or not parse at all (not IP, no
	 * network header yet): neither is a drop of the one followed.
	 */
	if (parse(skb_l3(skb), false, bpf_ntohs(BPF_CORE_READ(skb, protocol)), &in, true,
		  false) ||
	    in.id != st->id)
		return 0;
	in.id = st->id;
	netns = dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) :
		      BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	i = match(TR_HOOK_DROP, ifindex, netns, 0);
	pt = i < 0 ? TR_MAX_POINTS : i;
	ps = bpf_map_lookup_elem(&pstats, &pt);
	if (!ps)
		return 0;
	ps->packets++;
	ps->bytes += BPF_CORE_READ(skb, len);
	dk.point = st->point;
	dk.reason = reason;
	cnt = bpf_map_lookup_elem(&drops, &dk);
	if (cnt)
		(*cnt)++;
	else
		bpf_map_update_elem(&drops, &dk, &one, BPF_NOEXIST);
	now = bpf_ktime_get_ns();
	/* claimed (0) against the expiry: it ends here, not there */
	ts = __sync_lock_test_and_set(&st->ts, 0);
	if (!ts)
		return 0;
	w.now = now;
	w.hop = now - ts;
	w.location = (__u64)location;
	w.kind = TR_EV_DROP;
	w.pt = i < 0 ? TR_NO_POINT : i;
	w.prev = st->point;
	w.ifindex = ifindex;
	w.netns = netns;
	w.reason = reason;
	w.len = BPF_CORE_READ(skb, len);
	emit(ps, &in, &w);
	bpf_map_delete_elem(&pkts, &key);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tr_retrans, const struct sock *sk, const struct sk_buff *skb)
{
	__u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	struct tr_point_stats *ps;
	__u32 pt;
	int i;

	i = match(TR_HOOK_RETRANS, 0, netns, 0);
	if (i < 0)
		return 0;
	pt = i;
	ps = bpf_map_lookup_elem(&pstats, &pt);
	if (!ps)
		return 0;
	ps->packets++;
	ps->bytes += BPF_CORE_READ(skb, len);
	return 0;
}

/*
 * Expire the entries user space wrote into expq (struct tr_expire): each
 * one whose time is still the one user space read, claimed by swapping in
 * 0 so that a program seeing the packet meanwhile starts it anew instead
 * (handle()); run by BPF_PROG_TEST_RUN.
 */
SEC("syscall")
int tr_expire(void *ctx)
{
	struct tr_expire *x;
	__u32 zero = 0, i;
	struct tr_pkt *st;
	__u64 key;

	x = bpf_map_lookup_elem(&expq, &zero);
	if (!x)
		return 0;
	for (i = 0; i < TR_EXPIRE_BATCH; i++) {
		if (i >= x->n)
			break;
		key = x->key[i];
		st = bpf_map_lookup_elem(&pkts, &key);
		if (!st || !x->ts[i] ||
		    __sync_val_compare_and_swap(&st->ts, x->ts[i], 0) != x->ts[i]) {
			x->ts[i] = 0;
			continue;
		}
		bpf_map_delete_elem(&pkts, &key);
	}
	return 0;
}

/*
 * fentry:FUNC and kprobe:FUNC points. The fentry program is loaded once per
 * function, in an object of its own (fn set, the maps shared); the kprobe
 * program serves every kprobe point, told apart by bpf_get_func_ip().
 */
SEC("fentry")
int tr_fe(void *ctx)
{
	__u64 skb;

	if (bpf_get_func_arg(ctx, fn.arg, &skb))
		return 0;
	return handle((struct sk_buff *)skb, TR_HOOK_FENTRY, fn.ip);
}

SEC("kprobe")
int tr_kp(struct pt_regs *ctx)
{
	__u64 regs[TR_FN_ARGS] = { PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
				   PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx) };
	__u64 ip = bpf_get_func_ip(ctx);
	__u32 arg = TR_FN_ARGS;
	int i;

	/* the skb's position in this function (each point of it says) */
	for (i = 0; i < TR_MAX_POINTS; i++) {
		if (i >= npoints)
			break;
		if (is_fn(points[i].hook) && ip - points[i].ip < 16) {
			arg = points[i].arg;
			break;
		}
	}
	if (arg >= TR_FN_ARGS)
		return 0;
	return handle((struct sk_buff *)regs[arg], TR_HOOK_KPROBE, ip);
}
