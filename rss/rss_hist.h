/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rss_hist.h - user-space side of the log-linear histogram of rss.h: adding
 * (one writer, readers may merge concurrently), merging and percentiles.
 * Used by rss, rss-client and selftests/rss_hist_test.c.
 */
#ifndef BPFNET_RSS_HIST_H
#define BPFNET_RSS_HIST_H

#include <math.h>
#include <string.h>
#include <linux/types.h>
#include "rss.h"

struct rss_hist {
	__u64 n;
	__u64 b[RSS_HIST_BUCKETS];
};

/* One writer per histogram; relaxed atomics let another thread merge it. */
static inline void rss_hist_add(struct rss_hist *h, __u64 v)
{
	__u32 i = rss_hist_idx(v);

	__atomic_store_n(&h->b[i], __atomic_load_n(&h->b[i], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&h->n, __atomic_load_n(&h->n, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static inline void rss_hist_merge(struct rss_hist *dst, const struct rss_hist *src)
{
	__u64 n = 0, v;
	int i;

	for (i = 0; i < RSS_HIST_BUCKETS; i++) {
		v = __atomic_load_n(&src->b[i], __ATOMIC_RELAXED);
		dst->b[i] += v;
		n += v;
	}
	dst->n += n;
}

/*
 * The @p-th percentile (0 < p <= 100) in ns of the buckets @b: the middle of
 * the bucket that holds the ceil(p/100 * n)-th smallest value; NAN when they
 * are all empty. The error is at most half a bucket: 1.6% of the value (exact
 * below 64 ns).
 */
static inline double rss_hist_buckets_percentile(const __u64 *b, double p)
{
	__u64 n = 0, want, acc = 0;
	int i;

	for (i = 0; i < RSS_HIST_BUCKETS; i++)
		n += b[i];
	if (!n)
		return NAN;
	want = (__u64)ceil(p / 100.0 * n - 1e-9);
	if (want < 1)
		want = 1;
	if (want > n)
		want = n;
	for (i = 0; i < RSS_HIST_BUCKETS; i++) {
		acc += b[i];
		if (acc >= want)
			return rss_hist_low(i) + (rss_hist_width(i) - 1) / 2.0;
	}
	return NAN;
}

static inline double rss_hist_percentile(const struct rss_hist *h, double p)
{
	return rss_hist_buckets_percentile(h->b, p);
}

#endif /* BPFNET_RSS_HIST_H */
