// SPDX-License-Identifier: GPL-2.0
/*
 * elephant.bpf.c - elephant flows at conntrack: the talk's three hook points.
 *
 *   add     a conntrack entry that is confirmed and ASSURED enters the table
 *   update  its per-direction counters are read from conntrack accounting and
 *           the thresholds are checked; crossing them emits EL_EV_ADD once
 *   delete  the entry leaves the table; an elephant emits EL_EV_DEL with its
 *           final totals (and EL_EV_ADD first if it crossed since the last
 *           check)
 *
 * Three backends feed the same logic (el_ct_seen / el_ct_gone):
 *   kprobe  kprobes on nf_ct_deliver_cached_events (add), __nf_ct_refresh_acct
 *           (update), nf_ct_delete (delete) and __nf_conntrack_confirm (entry
 *           interface of the first packet)
 *   fentry  the same functions through fentry
 *   tc      a clsact ingress program on the host's interfaces that looks the
 *           packet up in conntrack with bpf_skb_ct_lookup(); deletions come
 *           from conntrack netlink events in user space
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "parse.bpf.h"
#include "elephant.h"

#define IPS_ASSURED	(1U << 2)
#define IPS_CONFIRMED	(1U << 3)
#define IP_CT_IS_REPLY	3
#define TC_ACT_OK	0
#define NSEC_PER_SEC	1000000000ULL
#define BPF_F_CURRENT_NETNS	(-1)

/* Set by user space before load. */
const volatile __u64 min_bytes = 10ULL << 20;
const volatile __u64 min_duration_ns = 5 * NSEC_PER_SEC;
const volatile __u64 min_rate_bps;	/* bits per second, 0: off */
const volatile __u32 ct_opts_sz = 16;	/* 12 on kernels without ct_zone_id */
/*
 * The netns elephant runs in (its inode; 0: any). kprobe and fentry see the
 * conntrack entries of every netns: count only those of this one, like tc.
 */
const volatile __u32 netns_ino;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);	/* --max-flows */
	__type(key, struct el_key);
	__type(value, struct el_flow);
} flows SEC(".maps");

/* ct pointer -> entry interface of its first packet, until it is ASSURED */
struct pending {
	__u32 ifindex;
	__u8 mac[6];
	__u8 has_mac;
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

/* flows that found the table full, so that each is counted once, not per packet */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct el_key);
	__type(value, __u8);
} untracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EL_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* tc: zones to try (user space fills it), and the zone a packet tuple was found in */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EL_MAX_ZONES);
	__type(key, __u32);
	__type(value, __u32);	/* zone id + 1, 0 = empty slot */
} zones SEC(".maps");

/*
 * tc: per packet tuple (either direction), the zone its entry was found in
 * and when to look it up again. A tracked flow is looked up at most every
 * TC_MOUSE_NS (threshold checks), an elephant every TC_ELEPHANT_NS (its
 * counters for the summaries; final totals come with the delete event):
 * the per-packet cost on a busy flow is one hash lookup.
 */
#define TC_MOUSE_NS	1000000ULL
#define TC_ELEPHANT_NS	50000000ULL

struct tc_cache {
	__u32 zone;
	__u32 pad;
	__u64 next_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct bn_flow_key);
	__type(value, struct tc_cache);
} tuple_cache SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* The conntrack entry's original tuple and zone, as a flow key. */
static __always_inline int ct_key(struct nf_conn *ct, struct el_key *key)
{
	struct nf_conntrack_tuple t;

	__builtin_memset(key, 0, sizeof(*key));
	if (bpf_core_read(&t, sizeof(t), &ct->tuplehash[0].tuple))
		return -1;
	key->t.family = t.src.l3num;
	key->t.proto = t.dst.protonum;
	if (key->t.family == AF_INET) {
		__builtin_memcpy(key->t.saddr, &t.src.u3.ip, 4);
		__builtin_memcpy(key->t.daddr, &t.dst.u3.ip, 4);
	} else if (key->t.family == AF_INET6) {
		__builtin_memcpy(key->t.saddr, t.src.u3.ip6, 16);
		__builtin_memcpy(key->t.daddr, t.dst.u3.ip6, 16);
	} else {
		return -1;
	}
	if (key->t.proto != IPPROTO_TCP && key->t.proto != IPPROTO_UDP)
		return -1;
	key->t.sport = bpf_ntohs(t.src.u.all);
	key->t.dport = bpf_ntohs(t.dst.u.all);
	if (bpf_core_field_exists(ct->zone))
		key->zone = BPF_CORE_READ(ct, zone.id);
	return 0;
}

/* Conntrack accounting counters (nf_conn_acct extension), 0 if absent. */
static __always_inline int ct_acct(struct nf_conn *ct, struct el_flow *f)
{
	int id = bpf_core_enum_value(enum nf_ct_ext_id, NF_CT_EXT_ACCT);
	struct nf_conn_counter c[2];
	struct nf_ct_ext *ext;
	__u8 off = 0;

	ext = BPF_CORE_READ(ct, ext);
	if (!ext || id < 0 || id >= 16)
		return -1;
	bpf_core_read(&off, 1, &ext->offset[id]);
	if (!off)
		return -1;
	if (bpf_core_read(c, sizeof(c), (void *)ext + off))
		return -1;
	f->packets[0] = c[0].packets.counter;
	f->bytes[0] = c[0].bytes.counter;
	f->packets[1] = c[1].packets.counter;
	f->bytes[1] = c[1].bytes.counter;
	return 0;
}

/* Which thresholds hold now; all must for an elephant. */
static __always_inline __u32 el_check(const struct el_flow *f, __u64 now)
{
	return el_thresholds(f, now, min_bytes, min_duration_ns, min_rate_bps);
}

static __always_inline int emit(__u32 type, __u32 reason, const struct el_key *key,
				const struct el_flow *f, __u64 now)
{
	struct el_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return -1;
	e->type = type;
	e->reason = reason;
	e->ts_ns = now;
	__builtin_memcpy(&e->key, key, sizeof(*key));
	__builtin_memcpy(&e->flow, f, sizeof(*f));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Report the flow once if it crossed the thresholds. */
static __always_inline void el_maybe_report(const struct el_key *key, struct el_flow *f,
					    __u64 now)
{
	struct el_event *e;
	__u32 reason;

	if (f->elephant)
		return;
	reason = el_check(f, now);
	if (!reason)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		/* not flagged: the next packet tries again */
		stat_inc(EL_ST_RB_DROP);
		return;
	}
	if (__sync_val_compare_and_swap(&f->elephant, 0, 1) != 0) {
		bpf_ringbuf_discard(e, 0);
		return;
	}
	f->elephant_ns = now;
	e->type = EL_EV_ADD;
	e->reason = reason;
	e->ts_ns = now;
	__builtin_memcpy(&e->key, key, sizeof(*key));
	__builtin_memcpy(&e->flow, f, sizeof(*f));
	bpf_ringbuf_submit(e, 0);
}

/*
 * add + update: @ct was seen with a packet in direction @dir that entered
 * through @ifindex (0: unknown) with source MAC @mac (NULL: unknown).
 * Returns 0 if the flow is not in the table, 1 if it is, 2 for an elephant.
 */
/* Is @ct an entry of elephant's own netns? */
static __always_inline bool ct_ours(struct nf_conn *ct)
{
	return !netns_ino || BPF_CORE_READ(ct, ct_net.net, ns.inum) == netns_ino;
}

static __always_inline int el_ct_seen(struct nf_conn *ct, __u32 dir, __u32 ifindex,
				       const __u8 *mac)
{
	__u64 now = bpf_ktime_get_ns();
	struct el_flow *f, nf;
	struct pending *p;
	struct el_key key;
	__u64 ctp = (__u64)ct;
	__u32 status;

	status = BPF_CORE_READ(ct, status);
	if (!(status & IPS_ASSURED) || !(status & IPS_CONFIRMED) || !ct_ours(ct))
		return 0;
	if (ct_key(ct, &key))
		return 0;
	dir = dir ? EL_DIR_REPLY : EL_DIR_ORIG;

	f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		__builtin_memset(&nf, 0, sizeof(nf));
		nf.first_ns = now;
		p = bpf_map_lookup_elem(&pending, &ctp);
		if (p) {
			nf.ifindex[EL_DIR_ORIG] = p->ifindex;
			__builtin_memcpy(nf.mac, p->mac, 6);
			nf.has_mac = p->has_mac;
			bpf_map_delete_elem(&pending, &ctp);
		}
		if (bpf_map_update_elem(&flows, &key, &nf, BPF_NOEXIST) == 0) {
			stat_inc(EL_ST_ADDED);
		} else if (!bpf_map_lookup_elem(&flows, &key)) {
			__u8 one = 1;

			if (!bpf_map_update_elem(&untracked, &key, &one, BPF_NOEXIST))
				stat_inc(EL_ST_TABLE_FULL);
			return 0;
		}
		f = bpf_map_lookup_elem(&flows, &key);
		if (!f)
			return 0;
	}
	if (ifindex && !f->ifindex[dir]) {
		f->ifindex[dir] = ifindex;
		if (dir == EL_DIR_ORIG && mac) {
			__builtin_memcpy(f->mac, mac, 6);
			f->has_mac = 1;
		}
	}
	f->last_ns = now;
	if (ct_acct(ct, f)) {
		if (!f->no_acct) {
			f->no_acct = 1;
			stat_inc(EL_ST_NO_ACCT);
		}
		return 1;
	}
	el_maybe_report(&key, f, now);
	return f->elephant ? 2 : 1;
}

/* delete: the entry leaves conntrack. */
static __always_inline void el_ct_gone(struct nf_conn *ct)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 ctp = (__u64)ct;
	struct el_flow *f, fin;
	struct el_key key;
	__u32 reason;

	bpf_map_delete_elem(&pending, &ctp);
	if (!ct_ours(ct) || ct_key(ct, &key))
		return;
	bpf_map_delete_elem(&untracked, &key);
	f = bpf_map_lookup_elem(&flows, &key);
	if (!f)
		return;
	__builtin_memcpy(&fin, f, sizeof(fin));
	/* only one deleter reports: nf_ct_delete can race with itself */
	if (bpf_map_delete_elem(&flows, &key))
		return;
	stat_inc(EL_ST_DELETED);
	ct_acct(ct, &fin);
	if (!fin.elephant) {
		reason = el_check(&fin, now);
		if (reason) {
			fin.elephant = 1;
			fin.elephant_ns = now;
			if (emit(EL_EV_ADD, reason | EL_R_ON_DELETE, &key, &fin, now))
				stat_inc(EL_ST_DEL_RB_DROP);
		}
	}
	if (emit(fin.elephant ? EL_EV_DEL : EL_EV_GONE, 0, &key, &fin, now))
		stat_inc(EL_ST_DEL_RB_DROP);
}

/* First packet of a new entry: remember where it came in. */
static __always_inline void el_confirm(struct sk_buff *skb)
{
	struct pending p = {};
	__u64 ctp, nfct;
	__u16 mac_off;
	void *head;

	nfct = BPF_CORE_READ(skb, _nfct);
	ctp = nfct & ~7ULL;	/* NFCT_PTRMASK */
	if (!ctp || !ct_ours((struct nf_conn *)ctp))
		return;
	p.ifindex = BPF_CORE_READ(skb, skb_iif);
	mac_off = BPF_CORE_READ(skb, mac_header);
	head = BPF_CORE_READ(skb, head);
	if (p.ifindex && mac_off != (__u16)~0U &&
	    !bpf_probe_read_kernel(p.mac, 6, head + mac_off + 6))
		p.has_mac = 1;
	if (bpf_map_update_elem(&pending, &ctp, &p, BPF_ANY))
		stat_inc(EL_ST_PENDING_FULL);
}

/* ---- kprobe backend ---- */

SEC("kprobe/__nf_conntrack_confirm")
int BPF_KPROBE(kp_confirm, struct sk_buff *skb)
{
	el_confirm(skb);
	return 0;
}

SEC("kprobe/nf_ct_deliver_cached_events")
int BPF_KPROBE(kp_events, struct nf_conn *ct)
{
	el_ct_seen(ct, EL_DIR_ORIG, 0, NULL);
	return 0;
}

SEC("kprobe/__nf_ct_refresh_acct")
int BPF_KPROBE(kp_refresh, struct nf_conn *ct, int ctinfo)
{
	el_ct_seen(ct, ctinfo >= IP_CT_IS_REPLY, 0, NULL);
	return 0;
}

SEC("kprobe/nf_ct_delete")
int BPF_KPROBE(kp_delete, struct nf_conn *ct)
{
	el_ct_gone(ct);
	return 0;
}

/* ---- fentry backend ---- */

SEC("fentry/__nf_conntrack_confirm")
int BPF_PROG(fe_confirm, struct sk_buff *skb)
{
	el_confirm(skb);
	return 0;
}

SEC("fentry/nf_ct_deliver_cached_events")
int BPF_PROG(fe_events, struct nf_conn *ct)
{
	el_ct_seen(ct, EL_DIR_ORIG, 0, NULL);
	return 0;
}

SEC("fentry/__nf_ct_refresh_acct")
int BPF_PROG(fe_refresh, struct nf_conn *ct, int ctinfo)
{
	el_ct_seen(ct, ctinfo >= IP_CT_IS_REPLY, 0, NULL);
	return 0;
}

SEC("fentry/nf_ct_delete")
int BPF_PROG(fe_delete, struct nf_conn *ct)
{
	el_ct_gone(ct);
	return 0;
}

/* ---- tc backend ---- */

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb, struct bpf_sock_tuple *tuple,
					 __u32 tuple_sz, struct bpf_ct_opts *opts,
					 __u32 opts_sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

/*
 * struct bpf_ct_opts as of 6.6, without CO-RE relocations: older kernels
 * (6.1) have reserved[2] where ct_zone_id is and take opts__sz 12; then the
 * zone stays 0 and only the first 12 bytes are read.
 */
struct el_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

static __always_inline struct nf_conn *tc_lookup(struct __sk_buff *skb,
						 struct bpf_sock_tuple *tup, __u32 tsz,
						 __u8 proto, __u32 zone, __u8 *dir)
{
	struct el_ct_opts opts = {};
	struct nf_conn *ct;

	opts.netns_id = BPF_F_CURRENT_NETNS;
	opts.l4proto = proto;
	opts.ct_zone_id = ct_opts_sz >= 16 ? zone : 0;
	ct = bpf_skb_ct_lookup(skb, tup, tsz, (struct bpf_ct_opts *)&opts, ct_opts_sz);
	if (ct)
		*dir = opts.dir;
	return ct;
}

SEC("tc")
int el_tc_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct bpf_sock_tuple tup = {};
	struct tc_cache *c, nc = {};
	struct nf_conn *ct = NULL;
	struct bn_pkt pkt;
	__u32 tsz, i, *zp, zone;
	__u8 dir = 0, mac[6];
	__u64 now;
	int r;

	if (bn_parse(data, data_end, &pkt) != BN_PARSE_OK || !pkt.l4_off || pkt.frag)
		return TC_ACT_OK;
	if (pkt.key.proto != IPPROTO_TCP && pkt.key.proto != IPPROTO_UDP)
		return TC_ACT_OK;
	if (pkt.key.family == AF_INET) {
		__builtin_memcpy(&tup.ipv4.saddr, pkt.key.saddr, 4);
		__builtin_memcpy(&tup.ipv4.daddr, pkt.key.daddr, 4);
		tup.ipv4.sport = bpf_htons(pkt.key.sport);
		tup.ipv4.dport = bpf_htons(pkt.key.dport);
		tsz = sizeof(tup.ipv4);
	} else {
		__builtin_memcpy(tup.ipv6.saddr, pkt.key.saddr, 16);
		__builtin_memcpy(tup.ipv6.daddr, pkt.key.daddr, 16);
		tup.ipv6.sport = bpf_htons(pkt.key.sport);
		tup.ipv6.dport = bpf_htons(pkt.key.dport);
		tsz = sizeof(tup.ipv6);
	}
	if ((void *)data + 12 > data_end)
		return TC_ACT_OK;
	__builtin_memcpy(mac, data + 6, 6);

	now = bpf_ktime_get_ns();
	c = bpf_map_lookup_elem(&tuple_cache, &pkt.key);
	if (c && now < c->next_ns)
		return TC_ACT_OK;
	zone = c ? c->zone : 0;
	ct = tc_lookup(skb, &tup, tsz, pkt.key.proto, zone, &dir);
	if (!ct && zone) {
		zone = 0;
		ct = tc_lookup(skb, &tup, tsz, pkt.key.proto, 0, &dir);
	}
	if (!ct && ct_opts_sz >= 16) {
		/* not in the default (or hinted) zone: try the zones in use */
		for (i = 0; i < EL_MAX_ZONES; i++) {
			__u32 idx = i;

			zp = bpf_map_lookup_elem(&zones, &idx);
			if (!zp || !*zp)
				break;
			zone = *zp - 1;
			ct = tc_lookup(skb, &tup, tsz, pkt.key.proto, zone, &dir);
			if (ct)
				break;
		}
	}
	if (!ct)
		return TC_ACT_OK;
	r = el_ct_seen(ct, dir, skb->ifindex, mac);
	bpf_ct_release(ct);
	if (r || zone) {
		nc.zone = zone;
		nc.next_ns = r == 2 ? now + TC_ELEPHANT_NS : r ? now + TC_MOUSE_NS : 0;
		bpf_map_update_elem(&tuple_cache, &pkt.key, &nc, BPF_ANY);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
