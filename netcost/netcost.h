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
	__u64 untimed_ops;	/* sock_*_length fired outside a timed operation */
	__u64 errors;		/* task storage could not be created or found */
	__u64 cg_drops;		/* cgroup map full */
	__u64 samples;		/* stack samples taken in networking context */
	__u64 lost;		/* stack samples dropped: buffer or ring full */
	__u64 pad[4];		/* one cache line pair per CPU */
};

/*
 * Where each CPU is: the operation running there (see netcost.bpf.c) and
 * the softirq being served. User space reads it to count in-progress time.
 */
struct nc_state {
	__u64 cur;		/* (start_ns << 2) | op, op alone while paused, 0 */
	__u64 cgid;		/* cgroup of the operation in cur */
	__u64 si_start;		/* softirq start, ns */
	__u32 si_vec;		/* softirq vector + 1, 0 outside softirqs */
	__u32 depth;		/* nested hooks of the running task's operation */
	__u64 sock_fops;	/* socket_file_ops, once a socket was seen here */
	/*
	 * Tracepoint backend, kernels with sock_*_length: a read, write,
	 * send or receive system call that may be a socket operation, not yet
	 * known to be one (netcost.bpf.c, "maybe" operations).
	 */
	__u64 tp_start;		/* its start, ns, moved on by softirqs inside */
	__u32 tp_op;		/* (syscall nr << 2) | op, 0: none */
	__s32 tp_fd;		/* its file descriptor */
	__u32 ends_len;		/* the op in cur ends at sock_*_length, not sys_exit */
	__u32 pad2;
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
