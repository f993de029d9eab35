// SPDX-License-Identifier: GPL-2.0
/*
 * stats_floor.bpf.c - programs that do nothing, for selftests/bench/stats_floor:
 * what kernel.bpf_stats_enabled reports for a run of an empty program at the
 * tracepoints netcost and libbpf-tools softirqs run at most often.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/softirq_entry")
int BPF_PROG(floor_si_entry, unsigned int vec)
{
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(floor_si_exit, unsigned int vec)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
