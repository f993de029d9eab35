// SPDX-License-Identifier: GPL-2.0
/*
 * rss_hist_test - the log-linear histogram rss and rss-client share (bucket
 * bounds, resolution, percentiles, merging) and the request wire format.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <linux/types.h>
#include "kselftest_harness.h"
#include "../rss/rss_hist.h"

static __u64 next_rand(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

TEST(msb_matches_clz)
{
	__u64 s = 88172645463325252ULL, v;
	int i;

	for (i = 0; i < 100000; i++) {
		v = next_rand(&s) >> (i % 64);
		if (!v)
			continue;
		ASSERT_EQ(63 - __builtin_clzll(v), rss_msb(v));
	}
}

/* Every value lies in its bucket, buckets are ordered and cover everything. */
TEST(bucket_bounds)
{
	__u64 s = 1, v, prev_idx = 0;
	__u32 idx;
	int i;

	for (v = 0; v < 200000; v++) {
		idx = rss_hist_idx(v);
		ASSERT_LT(idx, RSS_HIST_BUCKETS);
		ASSERT_LE(rss_hist_low(idx), v);
		ASSERT_GT(rss_hist_low(idx) + rss_hist_width(idx), v);
		ASSERT_GE(idx, prev_idx);
		ASSERT_LE(idx, prev_idx + 1);	/* no bucket skipped */
		prev_idx = idx;
	}
	for (i = 0; i < 200000; i++) {
		v = next_rand(&s) >> (24 + i % 40);
		idx = rss_hist_idx(v);
		ASSERT_LT(idx, RSS_HIST_BUCKETS);
		if (v < (1ULL << RSS_HIST_MAXBIT)) {
			ASSERT_LE(rss_hist_low(idx), v);
			ASSERT_GT(rss_hist_low(idx) + rss_hist_width(idx), v);
		}
	}
	/* the next bucket starts where the previous one ends */
	for (idx = 0; idx + 1 < RSS_HIST_BUCKETS; idx++)
		ASSERT_EQ(rss_hist_low(idx) + rss_hist_width(idx), rss_hist_low(idx + 1));
	ASSERT_EQ(RSS_HIST_BUCKETS - 1, rss_hist_idx(~0ULL));
	ASSERT_EQ(RSS_HIST_BUCKETS - 1, rss_hist_idx(1ULL << RSS_HIST_MAXBIT));
}

/* <= 1 us wide below 32 us, exact below 64 ns, <= 1/32 of the value above. */
TEST(resolution)
{
	__u64 v;

	for (v = 0; v < 64; v++)
		ASSERT_EQ(1, rss_hist_width(rss_hist_idx(v)));
	for (v = 64; v < 32000; v += 7)
		ASSERT_LE(rss_hist_width(rss_hist_idx(v)), 1000);
	for (v = 64; v < (1ULL << 39); v = v * 3 / 2 + 1)
		ASSERT_LE(rss_hist_width(rss_hist_idx(v)) * 32, v);
}

TEST(percentiles)
{
	struct rss_hist *h = calloc(1, sizeof(*h));
	__u64 v;

	ASSERT_NE(NULL, h);
	ASSERT_TRUE(isnan(rss_hist_percentile(h, 50)));
	/* 1..1000 us, 1000 values */
	for (v = 1; v <= 1000; v++)
		rss_hist_add(h, v * 1000);
	ASSERT_EQ(1000, h->n);
	ASSERT_LT(fabs(rss_hist_percentile(h, 50) - 500000) / 500000, 0.02);
	ASSERT_LT(fabs(rss_hist_percentile(h, 90) - 900000) / 900000, 0.02);
	ASSERT_LT(fabs(rss_hist_percentile(h, 99) - 990000) / 990000, 0.02);
	ASSERT_LT(fabs(rss_hist_percentile(h, 100) - 1000000) / 1000000, 0.02);
	ASSERT_LT(fabs(rss_hist_percentile(h, 0.1) - 1000) / 1000, 0.02);
	/* small values are exact */
	memset(h, 0, sizeof(*h));
	for (v = 0; v < 10; v++)
		rss_hist_add(h, 40);
	rss_hist_add(h, 63);
	ASSERT_EQ(40, rss_hist_percentile(h, 50));
	ASSERT_EQ(40, rss_hist_percentile(h, 90));
	ASSERT_EQ(63, rss_hist_percentile(h, 100));
	free(h);
}

/* Merging histograms gives exactly the histogram of all the values. */
TEST(merge)
{
	struct rss_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct rss_hist *all = calloc(1, sizeof(*all)), *m = calloc(1, sizeof(*m));
	static const double ps[] = { 1, 50, 90, 99, 99.9, 100 };
	__u64 s = 42, v;
	unsigned int i;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, all);
	ASSERT_NE(NULL, m);
	for (i = 0; i < 50000; i++) {
		v = next_rand(&s) % 100000;		/* short: up to 100 us */
		rss_hist_add(a, v);
		rss_hist_add(all, v);
		v = 1000000 + next_rand(&s) % 10000000;	/* long: 1-11 ms */
		if (i % 5 == 0) {
			rss_hist_add(b, v);
			rss_hist_add(all, v);
		}
	}
	rss_hist_merge(m, a);
	rss_hist_merge(m, b);
	ASSERT_EQ(all->n, m->n);
	ASSERT_EQ(a->n + b->n, m->n);
	ASSERT_EQ(0, memcmp(all->b, m->b, sizeof(m->b)));
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		ASSERT_EQ(rss_hist_percentile(all, ps[i]), rss_hist_percentile(m, ps[i]));
	/* the long tail shows at p99 of the merge, not in a */
	ASSERT_GT(rss_hist_percentile(m, 99), 1000000);
	ASSERT_LT(rss_hist_percentile(a, 99), 100000 * 1.02);
	free(a);
	free(b);
	free(all);
	free(m);
}

/* The wire format of rss/README.md. */
TEST(wire_format)
{
	ASSERT_EQ(RSS_REQ_LEN, sizeof(struct rss_req));
	ASSERT_EQ(0, offsetof(struct rss_req, magic));
	ASSERT_EQ(4, offsetof(struct rss_req, version));
	ASSERT_EQ(5, offsetof(struct rss_req, class));
	ASSERT_EQ(6, offsetof(struct rss_req, client));
	ASSERT_EQ(8, offsetof(struct rss_req, id));
	ASSERT_EQ(16, offsetof(struct rss_req, t_send));
	ASSERT_EQ(24, offsetof(struct rss_req, t_server));
	ASSERT_EQ(32, offsetof(struct rss_req, t_worker));
	ASSERT_EQ(40, offsetof(struct rss_req, cpu));
	ASSERT_EQ(44, offsetof(struct rss_req, service_ns));
	ASSERT_EQ(0x52535331, RSS_MAGIC);	/* "RSS1" on the wire, big endian */
	ASSERT_EQ(0, RSS_SHORT);
	ASSERT_EQ(1, RSS_LONG);
}

TEST_HARNESS_MAIN
