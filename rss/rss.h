/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rss.h - what the rss server, its BPF programs and rss-client share: the
 * request wire format, the scheduler configuration, the statistics layouts
 * and the log-linear histogram.
 *
 * Include after vmlinux.h in BPF code and after <linux/types.h> in user space.
 */
#ifndef BPFNET_RSS_H
#define BPFNET_RSS_H

/*
 * Wire format: the UDP payload of a request and of its reply, 48 bytes, all
 * multi-byte fields in network byte order (big endian). The client fills
 * magic..t_send and sends the rest as zeroes; the server fills t_server (XDP
 * scheduler) and t_worker, cpu (cpumap worker) and sends the same bytes back.
 * Longer payloads are accepted (the tail is echoed untouched).
 */
#define RSS_MAGIC	0x52535331	/* "RSS1" */
#define RSS_VERSION	1

enum rss_class {
	RSS_SHORT = 0,
	RSS_LONG = 1,
	RSS_NR_CLASSES,
};

struct rss_req {
	__u32 magic;		/*  0: RSS_MAGIC */
	__u8 version;		/*  4: RSS_VERSION */
	__u8 class;		/*  5: enum rss_class */
	__u16 client;		/*  6: client (socket) index, for the client's use */
	__u64 id;		/*  8: request id: step << 32 | sequence number */
	__u64 t_send;		/* 16: client send time, ns, client clock */
	__u64 t_server;		/* 24: XDP arrival time, ns, bpf_ktime_get_ns() */
	__u64 t_worker;		/* 32: worker (cpumap program) start, ns, same clock */
	__u32 cpu;		/* 40: CPU of the worker that served it */
	__u32 service_ns;	/* 44: service time the worker spun, ns (calibrated) */
} __attribute__((packed));

#define RSS_REQ_LEN	48

/* ---- scheduler configuration ---- */

enum rss_policy {
	RSS_POL_RR = 0,		/* round robin over the group */
	RSS_POL_SPLIT,		/* short over cpus, long over long_cpus, each round robin */
	RSS_POL_DYNAMIC,	/* round robin over the first n_active of the group */
	RSS_POL_HASH,		/* flow hash of the 4-tuple: what NIC RSS does */
	RSS_POL_JSQ,		/* join the shortest queue (in-flight count) */
	RSS_POL_P2C,		/* power of two random choices on in-flight counts */
	RSS_NR_POLICIES,
};

#define RSS_MAX_GROUP	64	/* CPUs in one group */
#define RSS_MAX_CPUS	1024	/* cpumap / per-target array size */
#define RSS_MAX_LOOPS	(1U << 23)	/* most iterations bpf_loop() runs */
#define RSS_LINE	8		/* u64s per cache line: per-CPU counters this far apart */

struct rss_conf {
	__u32 policy;
	__u32 n_cpus;		/* CPUs in cpus[] */
	__u32 n_active;		/* dynamic: first n_active of cpus[] are used */
	__u32 n_long;		/* split: CPUs in long_cpus[] */
	__u32 cpus[RSS_MAX_GROUP];
	__u32 long_cpus[RSS_MAX_GROUP];
};

/* ---- log-linear histogram (HDR style), values in ns ---- */

/*
 * 2^RSS_HIST_SUB sub-buckets per power of two: values below 64 ns are exact,
 * a bucket is at most 1/32 (3.1%) of its value wide, so below 32 us a
 * bucket is narrower than 1 us. Values >= 2^RSS_HIST_MAXBIT ns (~18 min)
 * land in the last bucket.
 */
#define RSS_HIST_SUB	5
#define RSS_HIST_MAXBIT	40
#define RSS_HIST_BUCKETS ((RSS_HIST_MAXBIT - RSS_HIST_SUB + 1) << RSS_HIST_SUB)

static __always_inline int rss_msb(__u64 v)
{
	int r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	if (v >> 1)
		r += 1;
	return r;
}

static __always_inline __u32 rss_hist_idx(__u64 v)
{
	int msb, shift;

	if (v < (1ULL << (RSS_HIST_SUB + 1)))
		return v;
	if (v >= (1ULL << RSS_HIST_MAXBIT))
		return RSS_HIST_BUCKETS - 1;
	msb = rss_msb(v);
	shift = msb - RSS_HIST_SUB;
	return ((shift + 1) << RSS_HIST_SUB) + ((v >> shift) - (1ULL << RSS_HIST_SUB));
}

/* Lowest value that falls in bucket @idx. */
static __always_inline __u64 rss_hist_low(__u32 idx)
{
	__u32 shift;

	if (idx < (2U << RSS_HIST_SUB))
		return idx;
	shift = (idx >> RSS_HIST_SUB) - 1;
	return ((__u64)((idx & ((1U << RSS_HIST_SUB) - 1)) + (1U << RSS_HIST_SUB))) << shift;
}

/* Width of bucket @idx (1 for the exact ones). */
static __always_inline __u64 rss_hist_width(__u32 idx)
{
	if (idx < (2U << RSS_HIST_SUB))
		return 1;
	return 1ULL << ((idx >> RSS_HIST_SUB) - 1);
}

/* ---- statistics the BPF side keeps ---- */

/* Scheduler (XDP program), per receiving CPU. */
struct rss_sched_stats {
	__u64 rx;		/* requests seen (valid, to --port) */
	__u64 redirected;	/* handed to a cpumap entry */
	__u64 redirect_fail;	/* bpf_redirect_map() refused (no such entry) */
	__u64 no_cpu;		/* empty group: dropped */
	__u64 passed;		/* not for us: passed untouched */
	__u64 short_pkt;	/* UDP to --port, payload shorter than a request */
	__u64 bad_magic;	/* UDP to --port, wrong magic or version */
	__u64 bad_class;	/* UDP to --port, unknown class */
	__u64 bad_hdr;		/* UDP to --port, truncated/malformed headers or fragment */
	__u64 rx_class[RSS_NR_CLASSES];
};

/* Worker (cpumap program), per worker CPU. */
struct rss_worker_stats {
	__u64 done[RSS_NR_CLASSES];	/* requests served per class */
	__u64 replied;			/* replies handed to the devmap */
	__u64 bad;			/* could not re-parse or reply: dropped */
	__u64 qdelay_sum_ns;
	__u64 service_sum_ns;		/* measured spin time */
	__u64 qhist[RSS_HIST_BUCKETS];	/* queuing delay histogram */
};

/* Counters from the xdp tracepoints, per CPU the event happened on. */
struct rss_tp_stats {
	__u64 enq_drops;	/* xdp_cpumap_enqueue: cpumap queue full */
	__u64 enq_processed;
	__u64 kthread_drops;	/* xdp_cpumap_kthread drops */
	__u64 redirect_err;	/* xdp_redirect_err into the cpumap */
	__u64 xmit_sent;	/* xdp_devmap_xmit on the reply path */
	__u64 xmit_drops;
	__u64 exception;	/* xdp_exception (XDP_ABORTED etc.) from our programs */
	__u64 reply_err;	/* xdp_redirect_err into the reply devmap: not sent */
};

#endif /* BPFNET_RSS_H */
