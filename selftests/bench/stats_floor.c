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
#include "common.h"
#include "stats_floor.skel.h"

int main(int argc, char **argv)
{
	struct stats_floor_bpf *skel;
	struct bn_loop loop;
	int err = 1;

	(void)argc;
	bn_log_init(argv[0]);
	if (bn_signals_setup() || bn_loop_init(&loop, 0, 0)) {
		bn_err("cannot set up signals or the loop");
		return 1;
	}
	skel = stats_floor_bpf__open_and_load();
	if (!skel) {
		bn_err("cannot load its programs");
		goto cleanup;
	}
	if (stats_floor_bpf__attach(skel)) {
		bn_err("cannot attach at softirq_entry/exit");
		goto cleanup;
	}
	bn_ready();
	err = bn_loop_run(&loop, NULL, NULL) ? 1 : 0;
cleanup:
	stats_floor_bpf__destroy(skel);
	bn_loop_close(&loop);
	return err;
}
