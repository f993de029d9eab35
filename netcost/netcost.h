/* SPDX-License-Identifier: GPL-2.0 */
/*
 * netcost.h - what netcost.bpf.c and netcost.c share.
 *
 * Every CPU owns one struct nc_pcpu in the .bss map; only BPF programs running
 * on that CPU write it, user space reads the mmapped copy every interval.
 */
#ifndef NETCOST_H
#define NETCOST_H

#define NC_MAX_CPUS	1024	/* power of two: the BPF side masks with it */
#define NC_MAX_STACK	64	/* kernel frames kept per sample */

/* What a CPU's time is charged to. */
enum nc_kind {
	NC_RX,		/* NET_RX softirq */
	NC_TX,		/* NET_TX softirq */
	NC_SEND,	/* socket send operation (application -> network) */
	NC_RECV,	/* socket receive operation (network -> application) */
	NC_NR_KINDS,
};

/* Socket operation in progress, in the low two bits of nc_state.cur. */
enum nc_op {
	NC_OP_NONE = 0,
	NC_OP_SEND = 1,
	NC_OP_RECV = 2,
};

/* Which sampler the perf_event program writes to. */
enum nc_sampler {
	NC_SAMPLER_NONE = 0,
	NC_SAMPLER_ARRAY = 1,	/* BPF_F_MMAPABLE array, double buffered */
	NC_SAMPLER_RINGBUF = 2,
};

/* Counters of one CPU; monotonic, user space takes differences. */
struct nc_cpu {
	__u64 ns[NC_NR_KINDS];	/* time charged, by enum nc_kind */
	__u64 softirq_ns;	/* time in every softirq vector (cross-check) */
	__u64 ops[2];		/* socket operations finished: send, recv */
	__u64 untimed_ops;	/* socket operations seen but not timed */
	__u64 pad0;
	__u64 cg_drops;		/* cgroup map full */
	__u64 samples;		/* stack samples taken in networking context */
	__u64 lost;		/* stack samples dropped: buffer or ring full */
	__u64 pad[4];		/* one cache line pair per CPU */
};

/*
 * The softirq a CPU is serving; user space reads it to count the time of
 * one in progress.
 */
struct nc_state {
	__u64 si_start;		/* softirq start, ns */
	__u32 si_vec;		/* softirq vector + 1, 0 outside softirqs */
	__u32 pad;
	__u64 sock_fops;	/* socket_file_ops, once a socket was seen here */
	__u64 pad2[5];		/* one cache line */
};

/*
 * The socket operation a task is in (a system call, or a socket function
 * the fentry and kprobe backends hook), in the slot of its thread id
 * (netcost.bpf.c, "calls"). Whether the task was switched out during it,
 * and for how long, is read from its own scheduler accounting at the end.
 */
#define NC_CALL_SLOTS	32768	/* power of two; the default pid_max */
#define NC_CALL_EXIT	4	/* in op: ends at its exit hook, not sock_*_length */

struct nc_call {
	__u32 tid;		/* owner; the slot is shared by tids equal mod NC_CALL_SLOTS */
	__u32 op;		/* (syscall nr << 3) | NC_CALL_EXIT? | enum nc_op, 0: none */
	__s32 fd;		/* its file descriptor (tracepoint backend) */
	__u32 depth;		/* nested hooks of the operation (fentry, kprobe) */
	__u64 start;		/* entry, ns */
	__u64 run;		/* se.prev_sum_exec_runtime at entry: run before this stint */
	__u64 arrival;		/* sched_info.last_arrival at entry: this stint's start */
	__u64 si_ns;		/* softirqs run in the task's context since entry */
	__u64 pad2[2];		/* one cache line */
};

/* Both, side by side: one page, and the lines every program touches. */
struct nc_pcpu {
	struct nc_cpu c;
	struct nc_state st;
};

/* One stack sample, in the mmapable array or the ring buffer. */
struct nc_sample {
	__u32 kind;		/* enum nc_kind */
	__u32 cpu;
	__s32 nr;		/* frames in ips[], leaf first */
	__u32 pad;
	__u64 cgid;
	__u64 ips[NC_MAX_STACK];
};

/* Per-cgroup socket time, key: cgroup id. */
struct nc_cg {
	__u64 ns[2];		/* send, recv */
	__u64 ops[2];		/* operations finished: send, recv */
};

#endif /* NETCOST_H */
