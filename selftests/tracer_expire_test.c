// SPDX-License-Identifier: GPL-2.0
/*
 * tracer_expire_test - tracer's expiry of packet state (tr_expire() in
 * tracer.bpf.c, run by report.c): user space reads the entries older than
 * --loss-timeout, then asks the kernel to delete each one only if its time
 * is still the one read. An entry refreshed in between (the packet seen
 * again at a point) must stay and not be counted as lost; one that the BPF
 * side is ending (time 0) or that is gone is not counted either.
 */
#include <errno.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kselftest_harness.h"
#include "../tracer/tracer.h"
#include "tracer.skel.h"

FIXTURE(expire) {
	struct tracer_bpf *skel;
	int pkts, expq;
};

FIXTURE_SETUP(expire)
{
	struct bpf_program *prog;

	self->skel = tracer_bpf__open();
	ASSERT_NE(NULL, self->skel);
	bpf_object__for_each_program(prog, self->skel->obj)
		bpf_program__set_autoload(prog, prog == self->skel->progs.tr_expire);
	bpf_map__set_max_entries(self->skel->maps.rb, 4096);
	ASSERT_EQ(0, tracer_bpf__load(self->skel));
	self->pkts = bpf_map__fd(self->skel->maps.pkts);
	self->expq = bpf_map__fd(self->skel->maps.expq);
}

FIXTURE_TEARDOWN(expire)
{
	tracer_bpf__destroy(self->skel);
}

static void put(int fd, __u64 key, __u64 id, __u64 ts)
{
	struct tr_pkt v = { .id = id, .ts = ts, .point = 1 };

	bpf_map_update_elem(fd, &key, &v, BPF_ANY);
}

/* Run tr_expire() over @n (key, time read) pairs; *out: the times back. */
static int run(struct __test_metadata *_metadata, int expq, int prog, const __u64 *keys,
	       const __u64 *ts, __u32 n, __u64 *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	static struct tr_expire x;
	__u32 zero = 0, i;

	memset(&x, 0, sizeof(x));
	for (i = 0; i < n; i++) {
		x.key[i] = keys[i];
		x.ts[i] = ts[i];
	}
	x.n = n;
	ASSERT_EQ(0, bpf_map_update_elem(expq, &zero, &x, 0));
	ASSERT_EQ(0, bpf_prog_test_run_opts(prog, &opts));
	ASSERT_EQ(0, bpf_map_lookup_elem(expq, &zero, &x));
	for (i = 0; i < n; i++)
		out[i] = x.ts[i];
	return 0;
}

static bool present(int fd, __u64 key, __u64 *ts)
{
	struct tr_pkt v;

	if (bpf_map_lookup_elem(fd, &key, &v))
		return false;
	*ts = v.ts;
	return true;
}

TEST_F(expire, only_entries_still_as_read)
{
	int prog = bpf_program__fd(self->skel->progs.tr_expire);
	/* stale as read; refreshed since (2000 read, 2500 now); being ended; gone */
	__u64 keys[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
	__u64 read[4] = { 1000, 2000, 3000, 4000 };
	__u64 out[4], ts;

	put(self->pkts, 0x1000, 11, 1000);
	put(self->pkts, 0x2000, 22, 2500);
	put(self->pkts, 0x3000, 33, 0);
	run(_metadata, self->expq, prog, keys, read, 4, out);
	EXPECT_EQ(1000, out[0]);	/* deleted: counted lost */
	EXPECT_FALSE(present(self->pkts, 0x1000, &ts));
	EXPECT_EQ(0, out[1]);		/* seen again: kept, not lost */
	ASSERT_TRUE(present(self->pkts, 0x2000, &ts));
	EXPECT_EQ(2500, ts);
	EXPECT_EQ(0, out[2]);		/* the BPF side ends it */
	EXPECT_TRUE(present(self->pkts, 0x3000, &ts));
	EXPECT_EQ(0, out[3]);		/* gone already */
}

TEST_F(expire, full_batch)
{
	int prog = bpf_program__fd(self->skel->progs.tr_expire);
	static __u64 keys[TR_EXPIRE_BATCH], read[TR_EXPIRE_BATCH], out[TR_EXPIRE_BATCH];
	__u64 ts;
	int i, deleted = 0;

	for (i = 0; i < TR_EXPIRE_BATCH; i++) {
		keys[i] = 0x10000 + i * 256;
		read[i] = 100 + i;
		/* every third one refreshed after the read */
		put(self->pkts, keys[i], i, i % 3 ? read[i] : read[i] + 7);
	}
	run(_metadata, self->expq, prog, keys, read, TR_EXPIRE_BATCH, out);
	for (i = 0; i < TR_EXPIRE_BATCH; i++) {
		EXPECT_EQ(i % 3 ? read[i] : 0, out[i]);
		EXPECT_EQ(!(i % 3), present(self->pkts, keys[i], &ts));
		deleted += out[i] != 0;
	}
	EXPECT_EQ(TR_EXPIRE_BATCH - (TR_EXPIRE_BATCH + 2) / 3, deleted);
}

TEST_HARNESS_MAIN
