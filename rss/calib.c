// SPDX-License-Identifier: GPL-2.0
/*
 * calib.c - rss's service time: how long one bpf_loop() iteration of the
 * worker's spin takes on this machine (the rss_calib program run through
 * BPF_PROG_TEST_RUN), and the iterations of each request class from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int calibrate(struct rss_bpf *skel, double *ns_per_iter)
{
	char pkt[64] = {};
	__u64 runs[11];
	int i, err;
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = pkt,
		.data_size_in = sizeof(pkt),
		.repeat = 1,
	);

	skel->bss->calib_iters = 200000;
	for (i = 0; i < 11; i++) {
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.rss_calib), &topts);
		if (err)
			return -errno;
		runs[i] = skel->bss->calib_ns;
	}
	/* the fastest run: the least disturbed by interrupts and preemption */
	qsort(runs, 11, sizeof(runs[0]), cmp_u64);
	*ns_per_iter = (double)runs[0] / 200000.0;
	if (*ns_per_iter <= 0)
		*ns_per_iter = 0.001;
	return 0;
}

/* bpf_loop iterations for @ns of service time; capped at what bpf_loop runs. */
static __u32 loop_iters(__u64 ns, double ns_per_iter)
{
	double n = ns / ns_per_iter + 0.5;

	if (n > RSS_MAX_LOOPS) {
		bn_warn("service time %.1f us capped at %.1f us: bpf_loop runs at most %u "
			"iterations", ns / 1e3, RSS_MAX_LOOPS * ns_per_iter / 1e3, RSS_MAX_LOOPS);
		return RSS_MAX_LOOPS;
	}
	return (__u32)n;
}

/* Calibrate the service loop, set the iterations of both classes, print them. */
int setup_service_time(const struct rss_env *env, struct rss_bpf *skel)
{
	double ns_per_iter = 0;
	int err;

	err = calibrate(skel, &ns_per_iter);
	if (err) {
		bn_err("cannot calibrate the service loop: %s", strerror(-err));
		return err;
	}
	skel->bss->loop_iters[RSS_SHORT] = loop_iters(env->short_ns, ns_per_iter);
	skel->bss->loop_iters[RSS_LONG] = loop_iters(env->long_ns, ns_per_iter);
	fprintf(stderr, "%s: calibration: %.3f ns per bpf_loop iteration; short %.1f us = %u "
		"iterations, long %.1f us = %u iterations\n", bn_prog(), ns_per_iter,
		env->short_ns / 1e3, skel->bss->loop_iters[RSS_SHORT], env->long_ns / 1e3,
		skel->bss->loop_iters[RSS_LONG]);
	return 0;
}
