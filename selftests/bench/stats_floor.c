// SPDX-License-Identifier: GPL-2.0
/*
 * stats_floor - for selftests/bench/netcost.sh: holds two empty programs
 * attached at softirq_entry and softirq_exit until SIGINT or SIGTERM, so that
 * the benchmark can read what kernel.bpf_stats_enabled reports per run of a
 * program that does nothing: the part of every program's run time that is
 * the accounting's own (two clock reads) and the same for every tool.
 *
 * usage: stats_floor; prints "stats_floor: ready" on stderr once attached
 */
#include <signal.h>
#include <stdio.h>
#include "stats_floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct stats_floor_bpf *skel;
	sigset_t set, old;
	int err = 1;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = stats_floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "stats_floor: cannot load its programs\n");
		return 1;
	}
	if (stats_floor_bpf__attach(skel)) {
		fprintf(stderr, "stats_floor: cannot attach at softirq_entry/exit\n");
		goto cleanup;
	}
	fprintf(stderr, "stats_floor: ready\n");
	while (!stop)
		sigsuspend(&old);
	err = 0;
cleanup:
	stats_floor_bpf__destroy(skel);
	return err;
}
