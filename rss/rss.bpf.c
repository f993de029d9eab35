// SPDX-License-Identifier: GPL-2.0
/*
 * rss.bpf.c - receive-side scaling policies in XDP.
 *
 * One XDP scheduler program per policy (rss_rr, rss_split, ...) runs on the
 * receiving interface; it recognises requests (UDP to rss_port with the
 * rss.h payload), stamps their arrival time and redirects them to a CPU
 * through a cpumap. On that CPU the worker (the cpumap program rss_worker)
 * stamps its own start time, spins the calibrated service time of the
 * request's class with bpf_loop(), turns the request into its reply and
 * sends it back out of the interface through a devmap. Policies are swapped
 * by replacing the program behind the XDP bpf_link; the groups live in a
 * double-buffered configuration in .bss that user space flips atomically.
 *
 * The per-packet path is kept short: statistics are per-CPU; the in-flight
 * count of a CPU is split in a counter the schedulers add to and one that
 * CPU's worker alone adds to (no atomic operation and no cache line shared
 * with other CPUs on the worker side); the worker finds the request of the
 * common frames (Ethernet, IPv4 without options or IPv6) from two header
 * fields instead of parsing the packet again (the scheduler validated it),
 * reads the clock a second time only when it spins a service time, and
 * with --no-reply only reads the packet.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>
#include "parse.bpf.h"
#include "rss.h"

char LICENSE[] SEC("license") = "GPL";

/* Fixed for the life of the program. */
const volatile __u16 rss_port = 9000;
const volatile bool no_reply = false;

/* Written by user space while running (the .bss map is mmaped). */
struct rss_conf conf[2];
__u32 conf_idx;
__u32 loop_iters[RSS_NR_CLASSES];	/* bpf_loop iterations per class */
__u32 cpumap_id;
__u32 devmap_id;
__u32 ifindex;
__u64 calib_iters;
__u64 calib_ns;
/*
 * In flight to CPU c = handed[c * RSS_LINE] - taken[c * RSS_LINE]: handed is
 * what the schedulers redirected to c minus what the tracepoints saw dropped
 * on the way (atomic: several receiving CPUs); taken is what c's worker got,
 * written by that worker alone (its cpumap kthread, bottom halves off), so
 * a plain increment. One cache line per counter (RSS_LINE u64 apart).
 */
__s64 handed[RSS_MAX_CPUS * RSS_LINE];
__u64 taken[RSS_MAX_CPUS * RSS_LINE];

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, RSS_MAX_CPUS);	/* set to the possible CPUs at load */
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

/* Round-robin position per receiving CPU: 0 main group, 1 long group. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} rr_pos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_sched_stats);
} sched_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_worker_stats);
} worker_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_tp_stats);
} tp_stats SEC(".maps");

static __always_inline void handed_add(__u64 cpu, __s64 d)
{
	if (cpu >= RSS_MAX_CPUS)
		return;
	asm volatile("%0 &= 1023" : "+r"(cpu));
	__sync_fetch_and_add(&handed[cpu * RSS_LINE], d);
}

static long spin(__u64 i, void *ctx)
{
	return 0;
}

/* Add the change from @old to @new (8 bytes at a 2-byte aligned offset) to a
 * UDP checksum. A zero IPv4 UDP checksum means "none" and stays zero. */
static __always_inline void udp_csum_replace(__u16 *check, __u64 old, __u64 new)
{
	__s64 s;
	__u32 c;
	__u16 r;

	if (*check == 0)
		return;
	s = bpf_csum_diff((__be32 *)&old, 8, (__be32 *)&new, 8, (__u16)~*check);
	if (s < 0)
		return;
	c = s;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	r = ~c;
	*check = r ? r : 0xffff;
}

struct req_loc {
	struct rss_req *req;
	struct udphdr *uh;
	struct bn_pkt pkt;
};

/*
 * The whole UDP checksum of a request of exactly RSS_REQ_LEN bytes at @uh,
 * with the pseudo header from the IP header at @l3: needed because a request
 * from a local veth peer may carry only the partial (pseudo header)
 * checksum of checksum offload, which an incremental update cannot fix. The
 * pseudo header sum does not depend on the order of the two addresses.
 */
static __always_inline void udp_csum_full(void *l3, struct udphdr *uh, __u8 family,
					  void *data_end)
{
	__u32 pseudo[10] = {};
	__s64 s;
	__u32 c;
	__u16 r;
	int plen;

	if ((void *)uh + sizeof(*uh) + RSS_REQ_LEN > data_end)
		return;
	if (family == AF_INET) {
		struct iphdr *iph = l3;

		if ((void *)(iph + 1) > data_end)
			return;
		pseudo[0] = iph->saddr;
		pseudo[1] = iph->daddr;
		pseudo[2] = bpf_htonl(IPPROTO_UDP << 16 | (sizeof(*uh) + RSS_REQ_LEN));
		plen = 12;
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return;
		__builtin_memcpy(&pseudo[0], &ip6h->saddr, 16);
		__builtin_memcpy(&pseudo[4], &ip6h->daddr, 16);
		pseudo[8] = bpf_htonl(sizeof(*uh) + RSS_REQ_LEN);
		pseudo[9] = bpf_htonl(IPPROTO_UDP);
		plen = 40;
	}
	uh->check = 0;
	s = bpf_csum_diff(NULL, 0, pseudo, plen == 12 ? 12 : 40, 0);
	if (s < 0)
		return;
	s = bpf_csum_diff(NULL, 0, (__be32 *)uh, sizeof(*uh) + RSS_REQ_LEN, (__u32)s);
	if (s < 0)
		return;
	c = s;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	r = ~c;
	uh->check = r ? r : 0xffff;
}

enum {
	LOC_OK = 0,
	LOC_OTHER,	/* not for us */
	LOC_SHORT,
	LOC_MAGIC,
	LOC_CLASS,
	LOC_HDR,
};

/* Find the request in a packet; LOC_OK and loc filled if it is one. */
static __always_inline int locate(struct xdp_md *ctx, struct req_loc *loc)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct rss_req *req;
	struct udphdr *uh;
	int ret;

	ret = bn_parse(data, data_end, &loc->pkt);
	if (loc->pkt.key.proto != IPPROTO_UDP || loc->pkt.key.dport != rss_port)
		return LOC_OTHER;	/* also: UDP header cut short, port unknown */
	if (ret != BN_PARSE_OK || loc->pkt.frag || !loc->pkt.l4_off)
		return LOC_HDR;
	uh = data + (loc->pkt.l4_off & 0x3ff);
	if ((void *)(uh + 1) > data_end)
		return LOC_HDR;
	/* a UDP length beyond the IP payload, or an IP payload beyond the
	 * frame: the reply would be as malformed */
	if (bpf_ntohs(uh->len) > loc->pkt.l4_len ||
	    (__u64)loc->pkt.l4_off + loc->pkt.l4_len > bpf_xdp_get_buff_len(ctx))
		return LOC_HDR;
	if (bpf_ntohs(uh->len) < sizeof(*uh) + RSS_REQ_LEN)
		return LOC_SHORT;
	req = (void *)(uh + 1);
	if ((void *)(req + 1) > data_end)
		return LOC_SHORT;
	if (req->magic != bpf_htonl(RSS_MAGIC) || req->version != RSS_VERSION)
		return LOC_MAGIC;
	if (req->class >= RSS_NR_CLASSES)
		return LOC_CLASS;
	loc->req = req;
	loc->uh = uh;
	return LOC_OK;
}

static __always_inline __u32 flow_hash(const struct bn_flow_key *k)
{
	__u32 h = 0x5bd1e995 ^ k->proto;
	const __u32 *w;
	int i;

	w = (const __u32 *)k->saddr;
#pragma unroll
	for (i = 0; i < 8; i++) {	/* saddr and daddr */
		h ^= w[i];
		h *= 0x9e3779b1;
		h ^= h >> 15;
	}
	h ^= ((__u32)k->sport << 16) | k->dport;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Bound a group index for the verifier; the mask survives the optimiser. */
static __always_inline __u32 gidx(__u32 i)
{
	asm volatile("%0 &= 63" : "+r"(i));
	return i;
}

static __always_inline __s64 load_of(__u32 cpu)
{
	__u64 i = cpu;

	if (i >= RSS_MAX_CPUS)
		return 1LL << 62;
	asm volatile("%0 &= 1023" : "+r"(i));
	i *= RSS_LINE;
	return *(volatile __s64 *)&handed[i] - (__s64)*(volatile __u64 *)&taken[i];
}

/* Round robin over the first @n of @cpus with position @slot; -1 if empty. */
static __always_inline int pick_rr(const __u32 *cpus, __u32 n, __u32 slot)
{
	__u32 *pos, i;

	if (n == 0 || n > RSS_MAX_GROUP)
		return -1;
	pos = bpf_map_lookup_elem(&rr_pos, &slot);
	if (!pos)
		return -1;
	i = *pos;
	if (i >= n)
		i = 0;
	*pos = i + 1;
	return cpus[gidx(i)];
}

static __always_inline int pick(const struct rss_conf *c, struct req_loc *loc, __u32 class,
				const int policy)
{
	__u32 n = c->n_cpus, i, a, b, best;
	__s64 best_load, l;

	if (n == 0 || n > RSS_MAX_GROUP)
		return -1;
	switch (policy) {
	case RSS_POL_RR:
		return pick_rr(c->cpus, n, 0);
	case RSS_POL_DYNAMIC:
		a = c->n_active;
		if (a == 0)
			a = 1;
		if (a > n)
			a = n;
		return pick_rr(c->cpus, a, 0);
	case RSS_POL_SPLIT:
		if (class == RSS_LONG)
			return pick_rr(c->long_cpus, c->n_long, 1);
		return pick_rr(c->cpus, n, 0);
	case RSS_POL_HASH:
		return c->cpus[gidx(flow_hash(&loc->pkt.key) % n)];
	case RSS_POL_JSQ:
		/* start where round robin would, so that ties spread out */
		a = 0;
		{
			__u32 zero = 0, *pos = bpf_map_lookup_elem(&rr_pos, &zero);

			if (pos) {
				a = *pos < n ? *pos : 0;
				*pos = a + 1;
			}
		}
		best = c->cpus[gidx(a)];
		best_load = load_of(best);
		for (i = 1; i < RSS_MAX_GROUP; i++) {
			__u32 j, cpu;

			if (i >= n)
				break;
			j = a + i;
			if (j >= n)
				j -= n;
			cpu = c->cpus[gidx(j)];
			l = load_of(cpu);
			if (l < best_load) {
				best_load = l;
				best = cpu;
			}
		}
		return best;
	case RSS_POL_P2C:
		a = c->cpus[gidx(bpf_get_prandom_u32() % n)];
		b = c->cpus[gidx(bpf_get_prandom_u32() % n)];
		return load_of(b) < load_of(a) ? b : a;
	}
	return -1;
}

static __always_inline int sched(struct xdp_md *ctx, const int policy)
{
	struct rss_sched_stats *st;
	struct rss_conf *c;
	struct req_loc loc;
	__u32 zero = 0, idx, class;
	__u64 now;
	int cpu, ret;

	st = bpf_map_lookup_elem(&sched_stats, &zero);
	if (!st)
		return XDP_PASS;
	switch (locate(ctx, &loc)) {
	case LOC_OK:
		break;
	case LOC_OTHER:
		st->passed++;
		return XDP_PASS;
	case LOC_SHORT:
		st->short_pkt++;
		return XDP_DROP;
	case LOC_MAGIC:
		st->bad_magic++;
		return XDP_DROP;
	case LOC_CLASS:
		st->bad_class++;
		return XDP_DROP;
	default:
		st->bad_hdr++;
		return XDP_DROP;
	}
	class = loc.req->class;
	/* bound in the register the index uses: older verifiers lose the
	 * range locate() checked once the value is spilled */
	asm volatile("%0 &= 1" : "+r"(class));
	st->rx++;
	st->rx_class[class]++;

	now = bpf_cpu_to_be64(bpf_ktime_get_ns());
	/* the worker recomputes the whole checksum of a plain request */
	if (loc.uh->len != bpf_htons(sizeof(struct udphdr) + RSS_REQ_LEN))
		udp_csum_replace(&loc.uh->check, loc.req->t_server, now);
	loc.req->t_server = now;

	idx = *(volatile __u32 *)&conf_idx & 1;
	c = &conf[idx];
	cpu = pick(c, &loc, class, policy);
	if (cpu < 0 || cpu >= RSS_MAX_CPUS) {
		st->no_cpu++;
		return XDP_DROP;
	}
	ret = bpf_redirect_map(&cpu_map, cpu, 0);
	if (ret != XDP_REDIRECT) {
		st->redirect_fail++;
		return XDP_DROP;
	}
	handed_add(cpu, 1);
	st->redirected++;
	return XDP_REDIRECT;
}

SEC("xdp")
int rss_rr(struct xdp_md *ctx)
{
	return sched(ctx, RSS_POL_RR);
}

SEC("xdp")
int rss_split(struct xdp_md *ctx)
{
	return sched(ctx, RSS_POL_SPLIT);
}

SEC("xdp")
int rss_dynamic(struct xdp_md *ctx)
{
	return sched(ctx, RSS_POL_DYNAMIC);
}

SEC("xdp")
int rss_hash(struct xdp_md *ctx)
{
	return sched(ctx, RSS_POL_HASH);
}

SEC("xdp")
int rss_jsq(struct xdp_md *ctx)
{
	return sched(ctx, RSS_POL_JSQ);
}

SEC("xdp")
int rss_p2c(struct xdp_md *ctx)
{
	return sched(ctx, RSS_POL_P2C);
}

static __always_inline void swap_bytes(__u8 *a, __u8 *b, int n)
{
	__u8 t;
	int i;

#pragma unroll
	for (i = 0; i < 16; i++) {
		if (i >= n)
			break;
		t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

static __always_inline void ipv4_csum(struct iphdr *iph, void *data_end)
{
	__u16 *w = (__u16 *)iph;
	__u32 sum = 0, words = iph->ihl * 2;
	int i;

	iph->check = 0;
	for (i = 0; i < 30; i++) {
		if (i >= words || (void *)(w + i + 1) > data_end)
			break;
		sum += w[i];
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	iph->check = ~sum;
}

/* Where the worker found the request. */
struct wloc {
	struct rss_req *req;
	struct udphdr *uh;
	__u16 l3_off;
	__u16 l4_off;
	__u8 family;
};

/*
 * Find the request in a packet the scheduler validated and handed over; 0
 * if found. The common frames need only the EtherType and the first byte of
 * the IP header: Ethernet + IPv4 without options (the scheduler checked the
 * protocol, fragments and lengths) or Ethernet + IPv6 (no extension headers:
 * the scheduler found UDP right after it). Others (VLAN tags, IPv4 options)
 * are parsed in full.
 */
static __always_inline int worker_locate(struct xdp_md *ctx, struct wloc *w)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct req_loc loc;
	struct rss_req *req;
	__u8 *l3 = (__u8 *)(eth + 1);
	__u16 l4_off;

	if ((void *)(l3 + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP) && *l3 == 0x45) {
		w->family = AF_INET;
		l4_off = sizeof(*eth) + sizeof(struct iphdr);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6) && (*l3 >> 4) == 6) {
		w->family = AF_INET6;
		l4_off = sizeof(*eth) + sizeof(struct ipv6hdr);
	} else {
		goto parse;
	}
	req = data + l4_off + sizeof(struct udphdr);
	if ((void *)(req + 1) > data_end)
		return -1;
	w->req = req;
	w->uh = data + l4_off;
	w->l3_off = sizeof(*eth);
	w->l4_off = l4_off;
	return 0;
parse:
	if (locate(ctx, &loc) != LOC_OK)
		return -1;
	w->req = loc.req;
	w->uh = loc.uh;
	w->l3_off = loc.pkt.l3_off;
	w->l4_off = loc.pkt.l4_off;
	w->family = loc.pkt.key.family;
	return 0;
}

/*
 * Turn the request at @l3_off/@l4_off into its reply: swap MACs, addresses
 * and ports; the whole UDP checksum if @plain.
 */
static __always_inline int make_reply(struct xdp_md *ctx, __u16 l3_off, __u16 l4_off,
				      __u8 family, bool plain)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *uh;
	void *l3;
	__u8 mac[6];
	__u16 port;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(mac, eth->h_source, 6);
	__builtin_memcpy(eth->h_source, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, mac, 6);

	l3 = data + (l3_off & 0xff);
	if (family == AF_INET) {
		struct iphdr *iph = l3;
		__be32 a;

		if ((void *)(iph + 1) > data_end)
			return -1;
		a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
		ipv4_csum(iph, data_end);
	} else {
		struct ipv6hdr *ip6h = l3;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		swap_bytes((__u8 *)&ip6h->saddr, (__u8 *)&ip6h->daddr, 16);
	}
	uh = data + (l4_off & 0x3ff);
	if ((void *)(uh + 1) > data_end)
		return -1;
	port = uh->source;
	uh->source = uh->dest;
	uh->dest = port;
	if (plain)
		udp_csum_full(l3, uh, family, data_end);
	return 0;
}

SEC("xdp/cpumap")
int rss_worker(struct xdp_md *ctx)
{
	struct rss_worker_stats *st;
	struct wloc w;
	__u64 now, t_server, qd, done, old, new, hi, i;
	__u32 zero = 0, cpu, class, n;
	bool plain;

	st = bpf_map_lookup_elem(&worker_stats, &zero);
	if (!st)
		return XDP_DROP;
	now = bpf_ktime_get_ns();
	cpu = bpf_get_smp_processor_id();
	/* the scheduler counted every packet it handed over: served or not */
	i = cpu;
	if (i < RSS_MAX_CPUS) {
		asm volatile("%0 &= 1023" : "+r"(i));
		taken[i * RSS_LINE]++;
	}
	if (worker_locate(ctx, &w)) {
		/* the scheduler only hands over requests: cannot happen */
		st->bad++;
		return XDP_DROP;
	}
	class = w.req->class & 1;
	t_server = bpf_be64_to_cpu(w.req->t_server);
	qd = now > t_server ? now - t_server : 0;

	n = loop_iters[class];
	if (n > RSS_MAX_LOOPS)
		n = RSS_MAX_LOOPS;
	done = now;
	if (n) {
		bpf_loop(n, spin, NULL, 0);
		done = bpf_ktime_get_ns();
	}

	st->done[class]++;
	st->qdelay_sum_ns += qd;
	st->service_sum_ns += done - now;
	hi = rss_hist_idx(qd);
	/* clamp in the register the access uses, for the verifier */
	asm volatile("if %0 < %1 goto +1; %0 = %2" : "+r"(hi)
		     : "i"(RSS_HIST_BUCKETS), "i"(RSS_HIST_BUCKETS - 1));
	st->qhist[hi]++;

	/* without replies nobody reads the worker's fields: the packet is only
	 * read here, so its cache lines need not come back dirty to the
	 * receiving CPU that reuses the buffer */
	if (no_reply)
		return XDP_DROP;

	/* a plain request gets its whole checksum redone below: no
	 * incremental update needed */
	plain = w.uh->len == bpf_htons(sizeof(struct udphdr) + RSS_REQ_LEN);
	old = w.req->t_worker;
	new = bpf_cpu_to_be64(now);
	if (!plain)
		udp_csum_replace(&w.uh->check, old, new);
	w.req->t_worker = new;
	old = ((__u64)w.req->service_ns << 32) | w.req->cpu;
	w.req->cpu = bpf_htonl(cpu);
	w.req->service_ns = bpf_htonl((__u32)(done - now));
	new = ((__u64)w.req->service_ns << 32) | w.req->cpu;
	if (!plain)
		udp_csum_replace(&w.uh->check, old, new);
	if (make_reply(ctx, w.l3_off, w.l4_off, w.family, plain) < 0) {
		st->bad++;
		return XDP_DROP;
	}
	if (bpf_redirect_map(&tx_port, 0, 0) != XDP_REDIRECT) {
		st->bad++;
		return XDP_DROP;
	}
	st->replied++;
	return XDP_REDIRECT;
}

/*
 * The bare path rss is built on, for benchmarks (rss --baseline): round robin
 * of every packet to the group's CPUs through the cpumap, dropped there. The
 * two counters are the ones rss itself keeps, so both sides cost the same.
 */
SEC("xdp")
int rss_bare(struct xdp_md *ctx)
{
	struct rss_sched_stats *st;
	__u32 zero = 0, idx;
	int cpu;

	st = bpf_map_lookup_elem(&sched_stats, &zero);
	if (!st)
		return XDP_PASS;
	st->rx++;
	idx = *(volatile __u32 *)&conf_idx & 1;
	cpu = pick_rr(conf[idx].cpus, conf[idx].n_cpus, 0);
	if (cpu < 0 || cpu >= RSS_MAX_CPUS || bpf_redirect_map(&cpu_map, cpu, 0) != XDP_REDIRECT)
		return XDP_DROP;
	st->redirected++;
	return XDP_REDIRECT;
}

SEC("xdp/cpumap")
int rss_bare_worker(struct xdp_md *ctx)
{
	struct rss_worker_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&worker_stats, &zero);
	if (st)
		st->done[0]++;
	return XDP_DROP;
}

/* Calibration: time calib_iters rounds of the worker's spin loop. */
SEC("xdp")
int rss_calib(struct xdp_md *ctx)
{
	__u64 t0, n = calib_iters;

	if (n > RSS_MAX_LOOPS)
		n = RSS_MAX_LOOPS;
	t0 = bpf_ktime_get_ns();
	bpf_loop(n, spin, NULL, 0);
	calib_ns = bpf_ktime_get_ns() - t0;
	return XDP_DROP;
}

/* ---- drop accounting from the xdp tracepoints ---- */

static __always_inline struct rss_tp_stats *tp_st(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&tp_stats, &zero);
}

SEC("tp_btf/xdp_cpumap_enqueue")
int BPF_PROG(tp_cpumap_enqueue, int map_id, unsigned int processed, unsigned int drops,
	     int to_cpu)
{
	struct rss_tp_stats *st;

	if (map_id != cpumap_id || !(st = tp_st()))
		return 0;
	st->enq_processed += processed;
	st->enq_drops += drops;
	/* dropped before the worker saw them: no longer in flight */
	if (drops && to_cpu >= 0)
		handed_add(to_cpu, -(__s64)drops);
	return 0;
}

SEC("tp_btf/xdp_cpumap_kthread")
int BPF_PROG(tp_cpumap_kthread, int map_id, unsigned int processed, unsigned int drops,
	     int sched, struct xdp_cpumap_stats *xs)
{
	struct rss_tp_stats *st;

	if (map_id != cpumap_id || !(st = tp_st()))
		return 0;
	st->kthread_drops += drops;
	return 0;
}

SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(tp_redirect_err, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err, enum bpf_map_type map_type, __u32 map_id, __u32 index)
{
	struct rss_tp_stats *st;

	if ((map_id != cpumap_id && map_id != devmap_id) || !(st = tp_st()))
		return 0;
	if (map_id == devmap_id) {
		/* a reply the interface refused, e.g. a veth whose peer
		 * has neither GRO nor an XDP program */
		st->reply_err++;
		return 0;
	}
	st->redirect_err++;
	handed_add(index, -1);
	return 0;
}

SEC("tp_btf/xdp_devmap_xmit")
int BPF_PROG(tp_devmap_xmit, const struct net_device *from_dev, const struct net_device *to_dev,
	     int sent, int drops, int err)
{
	struct rss_tp_stats *st;

	if (to_dev->ifindex != ifindex || !(st = tp_st()))
		return 0;
	st->xmit_sent += sent;
	st->xmit_drops += drops;
	return 0;
}

SEC("tp_btf/xdp_exception")
int BPF_PROG(tp_exception, const struct net_device *dev, const struct bpf_prog *xdp, __u32 act)
{
	struct rss_tp_stats *st;

	if (dev->ifindex != ifindex || !(st = tp_st()))
		return 0;
	st->exception++;
	return 0;
}
