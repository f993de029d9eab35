// SPDX-License-Identifier: GPL-2.0
/*
 * netcost.bpf.c - on-CPU time of NET_RX/NET_TX softirqs and socket operations.
 *
 * Each CPU has one "current operation" word, pcpu[cpu].st.cur: the socket
 * operation of the task running there, (start_ns << 2) | op while it runs,
 * just op while a softirq has paused it, 0 when the task is in none.
 *
 *  - an operation's outermost entry hook sets it, its exit hook takes it
 *    (atomic xchg, since a softirq may run in the middle of the exit
 *    program); pcpu[cpu].st.depth counts nested hooks of one operation;
 *  - softirq_entry charges the running part to the operation and pauses it,
 *    softirq_exit charges the softirq and resumes the operation, so time in
 *    a softirq counts only as softirq, wherever it runs (ksoftirqd too);
 *  - sched_switch charges the outgoing task's operation and, if it is in
 *    one, parks it (op, depth, cgroup) in the task's BPF task storage; it
 *    restores the incoming task's parked operation. Task storage is only
 *    touched for tasks switched out in the middle of an operation;
 *  - tracepoint backend on kernels with sock:sock_send_length and
 *    sock:sock_recv_length (len_ends): no per-CPU operation and no
 *    sched_switch program. Each call is noted in the slot of the task's
 *    thread id (calls[]): time, syscall, fd, and the task's last switch-in
 *    and scheduler run time. read, write, readv, writev, sendto,
 *    recvfrom, sendmsg and recvmsg are "maybe" operations, noted without
 *    asking whether the fd is a socket; sock_*_length, which fires only
 *    for sockets at the end of sock_sendmsg/sock_recvmsg, ends and charges
 *    them. sendmmsg, recvmmsg, splice and sendfile end at sys_exit. At the
 *    end, a task that was never switched out ran the whole call: now -
 *    start, minus the softirqs run in its context (softirq_exit adds them
 *    to the slot). One that was (blocked, preempted) is charged its run
 *    from the scheduler's own account (call_end()), minus those softirqs,
 *    if it is still in the noted syscall. A note a call on another file
 *    left lives until the task's next noted call or io_uring_enter (whose
 *    socket operations must not end it).
 *
 * Softirqs do not nest and are not preempted, and sched_switch runs with
 * interrupts off, so only the exit's read-and-clear needs to be atomic: an
 * operation is taken from cur before it is charged, so a softirq never adds
 * to the counter a program below it is adding to. A CPU's time and operation
 * counters are therefore plain adds (user space reads 64-bit words);
 * counters shared by CPUs, or bumped from several contexts, stay atomic.
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "netcost.h"

#define NC_S_IFMT	00170000
#define NC_S_IFSOCK	0140000
#define NC_FMODE_PATH	0x4000
#define NC_NET_TX	2	/* NET_TX_SOFTIRQ */
#define NC_NET_RX	3	/* NET_RX_SOFTIRQ */

char LICENSE[] SEC("license") = "GPL";

const volatile bool cgroups_on = false;
const volatile __u32 sampler = NC_SAMPLER_NONE;
const volatile __u32 slots_per_cpu = 1;	/* of the mmapable sample array */
const volatile __u32 nr_cpus = 1;
const volatile __u64 rb_wake_bytes = 0;	/* ring fill that wakes user space */
const volatile bool len_ends = false;	/* maybe operations end at sock_*_length */

/* Task storage: a task's operation survives it being switched out. */
struct nc_task {
	__u32 op;		/* enum nc_op */
	__u32 depth;		/* nested hooks of the same operation */
	__u64 cgid;
};

/* A CPU's counters and state side by side: the lines every program touches. */
struct nc_pcpu pcpu[NC_MAX_CPUS];

/* Tasks switched out in an operation, their state in task storage. */
__u64 parked SEC(".data.parked");

/* Double-buffered sampler: user space flips active and reads the other half. */
__u32 active;
__u32 head[2][NC_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct nc_task);
} tasks SEC(".maps");

/* len_ends: the call each task is in, by thread id; 1 entry otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NC_CALL_SLOTS);
	__type(key, __u32);
	__type(value, struct nc_call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct nc_cg);
} cgroups SEC(".maps");

/* 2 buffers x nr_cpus x slots_per_cpu; sized by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nc_sample);
} samples SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

static __always_inline __u32 this_cpu(void)
{
	return bpf_get_smp_processor_id() & (NC_MAX_CPUS - 1);
}

static __always_inline struct nc_cg *cg_get(__u64 cgid, __u32 cpu)
{
	struct nc_cg zero = {}, *cg;

	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (cg)
		return cg;
	bpf_map_update_elem(&cgroups, &cgid, &zero, BPF_NOEXIST);
	cg = bpf_map_lookup_elem(&cgroups, &cgid);
	if (!cg)
		__sync_fetch_and_add(&pcpu[cpu].c.cg_drops, 1);
	return cg;
}

static __always_inline void cg_charge(__u64 cgid, __u32 kind, __u64 delta, __u32 cpu)
{
	struct nc_cg *cg = cg_get(cgid, cpu);

	if (cg)
		__sync_fetch_and_add(&cg->ns[kind == NC_SEND ? 0 : 1], delta);
}

/* An operation finished on @cpu. */
static __always_inline void count_op(__u32 cpu, __u32 op, __u64 cgid)
{
	struct nc_cg *cg;
	__u32 i = op == NC_OP_SEND ? 0 : 1;

	pcpu[cpu].c.ops[i]++;
	if (!cgroups_on)
		return;
	cg = cg_get(cgid, cpu);
	if (cg)
		__sync_fetch_and_add(&cg->ops[i], 1);
}

/* Charge @delta ns of operation @op to @cpu. */
static __always_inline void charge(__u32 cpu, __u32 op, __u64 delta, __u64 cgid)
{
	__u32 kind = op == NC_OP_SEND ? NC_SEND : NC_RECV;

	pcpu[cpu].c.ns[kind] += delta;
	if (cgroups_on)
		cg_charge(cgid, kind, delta, cpu);
}

/* Charge a running operation word @w up to @now. */
static __always_inline void charge_op(__u32 cpu, __u64 w, __u64 now, __u64 cgid)
{
	__u64 start = w >> 2;

	if (start && now > start)
		charge(cpu, w & 3, now - start, cgid);
}

/*
 * An operation starts on the current task. @top: a hook no socket operation
 * can be nested in (a syscall, a socket file operation), so a depth left
 * over from a missed exit (a dropped kretprobe) is reset.
 */
static __always_inline int op_enter(__u32 op, bool top)
{
	struct nc_state *st = &pcpu[this_cpu()].st;

	if (st->si_vec)
		return 0;	/* a kernel socket used from a softirq: softirq time */
	if (top)
		st->depth = 0;
	if (st->depth++)
		return 0;
	st->cgid = cgroups_on ? bpf_get_current_cgroup_id() : 0;
	/* one store: a softirq sees either no operation or this one */
	st->cur = (bpf_ktime_get_ns() << 2) | op;
	return 0;
}

/* An operation's hook returns; the outermost one ends the operation. */
static __always_inline int op_exit(void)
{
	__u32 cpu = this_cpu();
	struct nc_state *st = &pcpu[cpu].st;
	__u64 w;

	if (st->si_vec || !st->depth || --st->depth)
		return 0;
	w = __sync_lock_test_and_set(&st->cur, 0);
	if (!w)
		return 0;
	charge_op(cpu, w, bpf_ktime_get_ns(), st->cgid);
	count_op(cpu, w & 3, st->cgid);
	return 0;
}

/*
 * A socket is a file whose f_op is socket_file_ops (the kernel's own test,
 * sock_from_file()). Its address is learned from the first file seen with a
 * socket inode (S_IFSOCK and not an O_PATH file), once per CPU; after that a
 * read or write on any file costs one pointer compare, not a walk to the inode.
 */
static __always_inline bool fd_is_socket(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct nc_state *st = &pcpu[this_cpu()].st;
	struct file *file = NULL;
	__u64 fops = 0, known = st->sock_fops;
	__u32 fmode;

	if (fd < 0 || fd >= fdt->max_fds)
		return false;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]) || !file)
		return false;
	if (bpf_probe_read_kernel(&fops, sizeof(fops), &file->f_op) || !fops)
		return false;
	if (known)
		return fops == known;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & NC_S_IFMT) != NC_S_IFSOCK)
		return false;
	fmode = BPF_CORE_READ(file, f_mode);
	if (fmode & NC_FMODE_PATH)
		return false;
	st->sock_fops = fops;
	return true;
}

/* The current @task is still in the system call noted as @op in its slot. */
static __always_inline bool in_syscall(struct task_struct *task, __u32 op)
{
	struct pt_regs *regs = (void *)bpf_task_pt_regs(task);

	return regs->orig_ax == op >> 3;
}

/* The slot of the current @task, if it holds a call of this task. */
static __always_inline struct nc_call *call_get(struct task_struct *task)
{
	__u32 tid = task->pid, key = tid & (NC_CALL_SLOTS - 1);
	struct nc_call *c = bpf_map_lookup_elem(&calls, &key);

	return c && c->op && c->tid == tid ? c : NULL;
}

/*
 * len_ends: the current task enters system call @nr, operation @op (0: none,
 * which only drops an earlier note), to end at sys_exit if @at_exit.
 */
static __always_inline int call_enter(long nr, __u32 op, long fd, bool at_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tid = task->pid, key = tid & (NC_CALL_SLOTS - 1);
	struct nc_call *c = bpf_map_lookup_elem(&calls, &key);

	if (!c)
		return 0;
	c->op = 0;	/* softirq_exit adds nothing until the note is whole */
	if (!op)
		return 0;
	c->tid = tid;
	c->fd = fd;
	c->si_ns = 0;
	c->run = task->se.prev_sum_exec_runtime;
	c->arrival = task->sched_info.last_arrival;
	c->start = bpf_ktime_get_ns();
	c->op = (nr << 3) | (at_exit ? NC_CALL_EXIT : 0) | op;
	return 0;
}

/*
 * len_ends: the current task's call @c ends. Not switched out since its
 * entry (its last switch-in is the one before entry; the context switch
 * counts nvcsw + nivcsw would say the same, from two loads): it ran all
 * along, charge the time since, less its softirqs.
 * Switched out (blocked, preempted), and still in the noted syscall (a note a
 * call on another file left is not the call a kernel socket operation is
 * in): the scheduler's own account. At each switch-in it sets
 * se.prev_sum_exec_runtime to the task's run so far and
 * sched_info.last_arrival to the time (rq clock), so the task's run up to
 * time T in its current stint is prev_sum + (T - last_arrival); the call ran
 * the difference of that at its end and at its entry:
 *   (run1 - run0) - (arrival1 - arrival0) + (now - start)
 * where the offset between the rq clock and bpf_ktime_get_ns() cancels (a
 * rate difference does not: ppm of the time asleep). Less its softirqs.
 */
static __always_inline void call_end(struct task_struct *task, struct nc_call *c, __u32 op)
{
	__u32 cpu = this_cpu(), note = c->op;
	__u64 now = bpf_ktime_get_ns(), si = c->si_ns, t, off, cgid;

	c->op = 0;
	t = now > c->start ? now - c->start : 0;
	if (task->sched_info.last_arrival != c->arrival) {
		if (!(note & NC_CALL_EXIT) && !in_syscall(task, note)) {
			__sync_fetch_and_add(&pcpu[cpu].c.untimed_ops, 1);
			return;
		}
		/* off-CPU time: the time between stints less the run in them */
		off = task->sched_info.last_arrival - c->arrival;
		off = off > task->se.prev_sum_exec_runtime - c->run ?
		      off - (task->se.prev_sum_exec_runtime - c->run) : 0;
		t = t > off ? t - off : 0;
	}
	cgid = cgroups_on ? bpf_get_current_cgroup_id() : 0;
	if (t > si)
		charge(cpu, op, t - si, cgid);
	count_op(cpu, op, cgid);
}

/* ---- softirqs and context switches ---- */

SEC("tp_btf/softirq_entry")
int BPF_PROG(nc_si_entry, unsigned int vec)
{
	__u32 cpu = this_cpu();
	struct nc_state *st = &pcpu[cpu].st;
	__u64 now = bpf_ktime_get_ns(), w = st->cur;

	if (w >> 2) {
		/* paused before charged: user space never counts the part twice */
		st->cur = w & 3;
		charge_op(cpu, w, now, st->cgid);
	}
	st->si_start = now;
	st->si_vec = vec + 1;
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(nc_si_exit, unsigned int vec)
{
	__u32 cpu = this_cpu();
	struct nc_state *st = &pcpu[cpu].st;
	__u64 now = bpf_ktime_get_ns(), w, delta, start = st->si_start;
	struct nc_call *c;

	if (st->si_vec == vec + 1 && start && now > start) {
		/*
		 * si_vec set with si_start 0: the counters are changing, user
		 * space reads them again (take_snap() in netcost.c)
		 */
		st->si_start = 0;
		delta = now - start;
		pcpu[cpu].c.softirq_ns += delta;
		if (vec == NC_NET_RX)
			pcpu[cpu].c.ns[NC_RX] += delta;
		else if (vec == NC_NET_TX)
			pcpu[cpu].c.ns[NC_TX] += delta;
		if (len_ends) {
			/* ran in the context of the task here: not its call's time */
			c = call_get(bpf_get_current_task_btf());
			if (c)
				c->si_ns += delta;
		}
	}
	st->si_vec = 0;
	st->si_start = 0;
	w = st->cur;
	if (w && !(w >> 2))
		st->cur = (now << 2) | (w & 3);	/* resumed */
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(nc_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 cpu = this_cpu();
	struct nc_state *st = &pcpu[cpu].st;
	struct nc_task *t;
	__u64 now = 0, w;

	w = st->cur;
	if (w || st->depth) {
		st->cur = 0;	/* before the charge, as in nc_si_entry */
		if (w >> 2) {
			now = bpf_ktime_get_ns();
			charge_op(cpu, w, now, st->cgid);
		}
	}
	if (st->depth) {
		/* switched out in an operation: park it until prev runs again */
		t = bpf_task_storage_get(&tasks, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (t) {
			t->op = w & 3;
			t->depth = st->depth;
			t->cgid = st->cgid;
			__sync_fetch_and_add(&parked, 1);
		} else {
			__sync_fetch_and_add(&pcpu[cpu].c.errors, 1);
		}
		st->depth = 0;
	}
	/*
	 * No task anywhere is parked: next has nothing to restore. A parked
	 * task always runs again (to finish its syscall, even when killed)
	 * and is restored then; prev's count is taken before it can run on
	 * another CPU, which waits for this switch to finish.
	 */
	if (!parked)
		return 0;
	t = bpf_task_storage_get(&tasks, next, 0, 0);
	if (t && t->depth) {
		st->depth = t->depth;
		st->cgid = t->cgid;
		if (t->op)
			st->cur = ((now ?: bpf_ktime_get_ns()) << 2) | t->op;
		t->depth = 0;
		__sync_fetch_and_sub(&parked, 1);
	}
	return 0;
}

/*
 * sock_sendmsg/sock_recvmsg ended (6.12 and 6.18 have these tracepoints, 6.1
 * not), @op its direction: with len_ends, the end of the current task's
 * maybe operation; else an operation no hook timed (io_uring) unless one is
 * running (a socket call nested in a timed one).
 */
static __always_inline int sock_length(__u32 op)
{
	__u32 cpu = this_cpu();
	struct nc_state *st = &pcpu[cpu].st;
	struct task_struct *task;
	struct nc_call *c;

	if (len_ends && !st->si_vec) {	/* not a kernel socket used from a softirq */
		task = bpf_get_current_task_btf();
		/*
		 * No check that a task never switched out is still in the
		 * noted call (reading its pt_regs here costs 100-400 ns a run,
		 * measured): the note is dropped at its next noted call and
		 * at io_uring_enter.
		 */
		c = call_get(task);
		if (c && (c->op & NC_CALL_EXIT))
			return 0;	/* inside sendmmsg, splice...: their exit ends them */
		if (c && (c->op & 3) == op) {
			call_end(task, c, op);
			return 0;
		}
		if (c)
			c->op = 0;	/* a kernel socket call inside a read or write */
	}
	if (!st->cur)
		__sync_fetch_and_add(&pcpu[cpu].c.untimed_ops, 1);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(nc_send_length)
{
	return sock_length(NC_OP_SEND);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(nc_recv_length)
{
	return sock_length(NC_OP_RECV);
}

/* ---- tracepoint backend: syscalls on socket file descriptors ---- */

/* io_uring's socket operations end no noted call (loaded with len_ends). */
SEC("tp/syscalls/sys_enter_io_uring_enter")
int nc_tp_enter_io_uring(struct trace_event_raw_sys_enter *ctx)
{
	return call_enter(ctx->id, 0, -1, false);
}

/*
 * A call that ends at its sys_exit, @op on a socket (0: not on one):
 * sendmmsg, recvmmsg, splice, sendfile.
 */
static __always_inline int exit_enter(struct trace_event_raw_sys_enter *ctx, __u32 op)
{
	if (len_ends)
		return call_enter(ctx->id, op, -1, true);
	return op ? op_enter(op, true) : 0;
}

static __always_inline int tp_exit(void)
{
	struct task_struct *task;
	struct nc_call *c;

	if (!len_ends)
		return op_exit();
	task = bpf_get_current_task_btf();
	c = call_get(task);
	if (c && (c->op & NC_CALL_EXIT))
		call_end(task, c, c->op & 3);
	return 0;
}

/* A system call that takes a socket: sendto, recvfrom, sendmsg, recvmsg. */
static __always_inline int sock_enter(struct trace_event_raw_sys_enter *ctx, __u32 op)
{
	return len_ends ? call_enter(ctx->id, op, ctx->args[0], false) : op_enter(op, true);
}

/* read, write, readv, writev: any file. */
static __always_inline int file_enter(struct trace_event_raw_sys_enter *ctx, __u32 op)
{
	if (len_ends)
		return call_enter(ctx->id, op, ctx->args[0], false);
	if (fd_is_socket(ctx->args[0]))
		op_enter(op, true);
	return 0;
}

SEC("tp/syscalls/sys_enter_sendto")
int nc_tp_enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
	return sock_enter(ctx, NC_OP_SEND);
}

SEC("tp/syscalls/sys_enter_sendmsg")
int nc_tp_enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
	return sock_enter(ctx, NC_OP_SEND);
}

SEC("tp/syscalls/sys_enter_sendmmsg")
int nc_tp_enter_sendmmsg(struct trace_event_raw_sys_enter *ctx)
{
	return exit_enter(ctx, NC_OP_SEND);
}

SEC("tp/syscalls/sys_enter_recvfrom")
int nc_tp_enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
	return sock_enter(ctx, NC_OP_RECV);
}

SEC("tp/syscalls/sys_enter_recvmsg")
int nc_tp_enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
	return sock_enter(ctx, NC_OP_RECV);
}

SEC("tp/syscalls/sys_enter_recvmmsg")
int nc_tp_enter_recvmmsg(struct trace_event_raw_sys_enter *ctx)
{
	return exit_enter(ctx, NC_OP_RECV);
}

SEC("tp/syscalls/sys_enter_write")
int nc_tp_enter_write(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(ctx, NC_OP_SEND);
}

SEC("tp/syscalls/sys_enter_writev")
int nc_tp_enter_writev(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(ctx, NC_OP_SEND);
}

SEC("tp/syscalls/sys_enter_read")
int nc_tp_enter_read(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(ctx, NC_OP_RECV);
}

SEC("tp/syscalls/sys_enter_readv")
int nc_tp_enter_readv(struct trace_event_raw_sys_enter *ctx)
{
	return file_enter(ctx, NC_OP_RECV);
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags) */
SEC("tp/syscalls/sys_enter_splice")
int nc_tp_enter_splice(struct trace_event_raw_sys_enter *ctx)
{
	if (fd_is_socket(ctx->args[0]))
		return exit_enter(ctx, NC_OP_RECV);
	return exit_enter(ctx, fd_is_socket(ctx->args[2]) ? NC_OP_SEND : 0);
}

/* sendfile(out_fd, in_fd, offset, count) */
SEC("tp/syscalls/sys_enter_sendfile64")
int nc_tp_enter_sendfile(struct trace_event_raw_sys_enter *ctx)
{
	if (fd_is_socket(ctx->args[0]))
		return exit_enter(ctx, NC_OP_SEND);
	return exit_enter(ctx, fd_is_socket(ctx->args[1]) ? NC_OP_RECV : 0);
}

SEC("tp/syscalls/sys_exit_sendto")
int nc_tp_exit_sendto(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_sendmsg")
int nc_tp_exit_sendmsg(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_sendmmsg")
int nc_tp_exit_sendmmsg(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_recvfrom")
int nc_tp_exit_recvfrom(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_recvmsg")
int nc_tp_exit_recvmsg(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_recvmmsg")
int nc_tp_exit_recvmmsg(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_write")
int nc_tp_exit_write(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_writev")
int nc_tp_exit_writev(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_read")
int nc_tp_exit_read(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_readv")
int nc_tp_exit_readv(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_splice")
int nc_tp_exit_splice(void *ctx) { return tp_exit(); }
SEC("tp/syscalls/sys_exit_sendfile64")
int nc_tp_exit_sendfile(void *ctx) { return tp_exit(); }

/*
 * ---- fentry/fexit and kprobe/kretprobe backends ----
 * Slot 0 of each direction is sock_sendmsg/sock_recvmsg (reached by io_uring,
 * io-wq workers, kernel callers, and nested in the syscalls on kernels that
 * do not inline it); slots 1-5 are syscall entries and socket file
 * operations, which never nest. User space picks the targets (netcost.c).
 */
SEC("fentry")
int BPF_PROG(nc_fe_send0) { return op_enter(NC_OP_SEND, false); }
SEC("fentry")
int BPF_PROG(nc_fe_send1) { return op_enter(NC_OP_SEND, true); }
SEC("fentry")
int BPF_PROG(nc_fe_send2) { return op_enter(NC_OP_SEND, true); }
SEC("fentry")
int BPF_PROG(nc_fe_send3) { return op_enter(NC_OP_SEND, true); }
SEC("fentry")
int BPF_PROG(nc_fe_send4) { return op_enter(NC_OP_SEND, true); }
SEC("fentry")
int BPF_PROG(nc_fe_send5) { return op_enter(NC_OP_SEND, true); }
SEC("fentry")
int BPF_PROG(nc_fe_recv0) { return op_enter(NC_OP_RECV, false); }
SEC("fentry")
int BPF_PROG(nc_fe_recv1) { return op_enter(NC_OP_RECV, true); }
SEC("fentry")
int BPF_PROG(nc_fe_recv2) { return op_enter(NC_OP_RECV, true); }
SEC("fentry")
int BPF_PROG(nc_fe_recv3) { return op_enter(NC_OP_RECV, true); }
SEC("fentry")
int BPF_PROG(nc_fe_recv4) { return op_enter(NC_OP_RECV, true); }
SEC("fentry")
int BPF_PROG(nc_fe_recv5) { return op_enter(NC_OP_RECV, true); }

SEC("fexit")
int BPF_PROG(nc_fx_send0) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_send1) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_send2) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_send3) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_send4) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_send5) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_recv0) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_recv1) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_recv2) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_recv3) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_recv4) { return op_exit(); }
SEC("fexit")
int BPF_PROG(nc_fx_recv5) { return op_exit(); }

SEC("kprobe")
int nc_kp_send0(struct pt_regs *ctx) { return op_enter(NC_OP_SEND, false); }
SEC("kprobe")
int nc_kp_send1(struct pt_regs *ctx) { return op_enter(NC_OP_SEND, true); }
SEC("kprobe")
int nc_kp_send2(struct pt_regs *ctx) { return op_enter(NC_OP_SEND, true); }
SEC("kprobe")
int nc_kp_send3(struct pt_regs *ctx) { return op_enter(NC_OP_SEND, true); }
SEC("kprobe")
int nc_kp_send4(struct pt_regs *ctx) { return op_enter(NC_OP_SEND, true); }
SEC("kprobe")
int nc_kp_send5(struct pt_regs *ctx) { return op_enter(NC_OP_SEND, true); }
SEC("kprobe")
int nc_kp_recv0(struct pt_regs *ctx) { return op_enter(NC_OP_RECV, false); }
SEC("kprobe")
int nc_kp_recv1(struct pt_regs *ctx) { return op_enter(NC_OP_RECV, true); }
SEC("kprobe")
int nc_kp_recv2(struct pt_regs *ctx) { return op_enter(NC_OP_RECV, true); }
SEC("kprobe")
int nc_kp_recv3(struct pt_regs *ctx) { return op_enter(NC_OP_RECV, true); }
SEC("kprobe")
int nc_kp_recv4(struct pt_regs *ctx) { return op_enter(NC_OP_RECV, true); }
SEC("kprobe")
int nc_kp_recv5(struct pt_regs *ctx) { return op_enter(NC_OP_RECV, true); }

SEC("kretprobe")
int nc_krp_send0(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_send1(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_send2(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_send3(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_send4(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_send5(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_recv0(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_recv1(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_recv2(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_recv3(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_recv4(struct pt_regs *ctx) { return op_exit(); }
SEC("kretprobe")
int nc_krp_recv5(struct pt_regs *ctx) { return op_exit(); }

/* ---- breakdown: cpu-clock samples while in networking context ---- */

/* len_ends: the current task is in a noted call on a socket, of kind @kind. */
static __always_inline bool call_on_socket(__u32 *kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct nc_call *c = call_get(task);

	if (!c || !in_syscall(task, c->op))
		return false;
	if (!(c->op & NC_CALL_EXIT) && !fd_is_socket(c->fd))
		return false;
	*kind = (c->op & 3) == NC_OP_SEND ? NC_SEND : NC_RECV;
	return true;
}

SEC("perf_event")
int nc_sample(struct bpf_perf_event_data *ctx)
{
	__u32 cpu = this_cpu(), kind, b = 0, h, key;
	struct nc_state *st = &pcpu[cpu].st;
	__u64 w = st->cur, cgid = st->cgid;
	struct nc_sample *s;
	long n;

	if (st->si_vec == NC_NET_RX + 1)
		kind = NC_RX;
	else if (st->si_vec == NC_NET_TX + 1)
		kind = NC_TX;
	else if (st->si_vec)
		return 0;	/* another softirq */
	else if (w >> 2)
		kind = (w & 3) == NC_OP_SEND ? NC_SEND : NC_RECV;
	else if (len_ends && call_on_socket(&kind))
		cgid = cgroups_on ? bpf_get_current_cgroup_id() : 0;
	else
		return 0;
	if (sampler == NC_SAMPLER_NONE)
		return 0;	/* --sampler none: what the timer alone costs */

	if (sampler == NC_SAMPLER_RINGBUF) {
		s = bpf_ringbuf_reserve(&rb, sizeof(*s), 0);
		if (!s) {
			__sync_fetch_and_add(&pcpu[cpu].c.lost, 1);
			return 0;
		}
	} else {
		b = active & 1;
		h = head[b][cpu];
		if (h >= slots_per_cpu) {
			__sync_fetch_and_add(&pcpu[cpu].c.lost, 1);
			return 0;
		}
		key = (b * nr_cpus + cpu) * slots_per_cpu + h;
		s = bpf_map_lookup_elem(&samples, &key);
		if (!s) {
			__sync_fetch_and_add(&pcpu[cpu].c.lost, 1);
			return 0;
		}
	}
	s->kind = kind;
	s->cpu = cpu;
	s->cgid = cgid;
	n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), 0);
	s->nr = n > 0 ? (__u64)n / 8 : 0;
	__sync_fetch_and_add(&pcpu[cpu].c.samples, 1);
	if (sampler == NC_SAMPLER_RINGBUF) {
		/*
		 * No wakeup per sample (an irq_work self-IPI and a context switch
		 * each): user space reads the ring every drain period, and is
		 * woken early only when it fills up.
		 */
		bpf_ringbuf_submit(s, bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= rb_wake_bytes ?
				   BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
	} else {
		/* published after the sample is written */
		__sync_fetch_and_add(&head[b][cpu], 1);
	}
	return 0;
}
