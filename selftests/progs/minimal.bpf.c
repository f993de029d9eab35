// SPDX-License-Identifier: GPL-2.0
/*
 * minimal.bpf.c - the BPF side of bpf_load_test: proves that an object built
 * by the Makefile (vmlinux.h, clang, skeleton) loads and runs on the running
 * kernel, and runs common/parse.bpf.h on real packets through
 * BPF_PROG_TEST_RUN.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.bpf.h"

const volatile __u32 target_tgid;

__u64 getppid_calls;
int parse_ret;
struct bn_pkt parsed;

SEC("xdp")
int parse_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	parse_ret = bn_parse(data, data_end, &parsed);
	return XDP_PASS;
}

SEC("tp/syscalls/sys_enter_getppid")
int count_getppid(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&getppid_calls, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
