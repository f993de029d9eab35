// SPDX-License-Identifier: GPL-2.0
/*
 * netcost.bpf.c - on-CPU time of NET_RX/NET_TX softirqs and socket operations.
 *
 * Softirqs: softirq_entry notes the time and vector in the CPU's state,
 * softirq_exit charges the softirq to its vector, wherever it runs
 * (ksoftirqd too).
 *
 * Socket operations: no per-CPU state and no sched_switch program. Each
 * operation is noted in the slot of its task's thread id (calls[]): time,
 * direction, and the task's last switch-in and scheduler run time. The
 * fentry and kprobe backends note it at the outermost entry hook of the
 * operation and end it at the matching exit hook (the slot's depth counts
 * nested hooks: a syscall and the sock_sendmsg inside it). The tracepoint
 * backend notes it at sys_enter; on kernels with sock:sock_send_length and
 * sock:sock_recv_length (len_ends) read, write, readv, writev, sendto,
 * recvfrom, sendmsg and recvmsg are "maybe" operations, noted without
 * asking whether the fd is a socket, and sock_*_length, which fires only
 * for sockets at the end of sock_sendmsg/sock_recvmsg, ends and charges
 * them; sendmmsg, recvmmsg, splice and sendfile, and every call without
 * len_ends, are checked for a socket at entry and end at sys_exit. At the
 * end, a task that was never switched out ran the whole operation: now -
 * start, minus the softirqs run in its context (softirq_exit adds them to
 * the slot). One that was (blocked, preempted) is charged its run from the
 * scheduler's own account (call_end()), minus those softirqs. A maybe note
 * must also still be in its syscall; one a call on another file left lives
 * until the task's next noted call or io_uring_enter (whose socket
 * operations must not end it).
 *
 * Softirqs do not nest and are not preempted, and a slot is written only by
 * its task and by softirqs that interrupt it, on its CPU: a CPU's time and
 * operation counters are plain adds (user space reads 64-bit words);
 * counters shared by CPUs stay atomic.
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

/* A CPU's counters and state side by side: the lines every program touches. */
struct nc_pcpu pcpu[NC_MAX_CPUS];

/* Double-buffered sampler: user space flips active and reads the other half. */
__u32 active;
__u32 head[2][NC_MAX_CPUS];

/* The socket operation each task is in, by thread id. */
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

/* The slot of @task's thread id, whoever holds it. */
static __always_inline struct nc_call *slot_of(struct task_struct *task)
{
	__u32 key = task->pid & (NC_CALL_SLOTS - 1);

	return bpf_map_lookup_elem(&calls, &key);
}

/* The slot of the current @task, if it holds an operation of this task. */
static __always_inline struct nc_call *call_get(struct task_struct *task)
{
	struct nc_call *c = slot_of(task);

	return c && c->op && c->tid == task->pid ? c : NULL;
}

/*
 * Note operation @op (struct nc_call's op word; 0 only drops an earlier note)
 * of the current @task in its slot @c.
 */
static __always_inline void call_note(struct task_struct *task, struct nc_call *c, __u32 op,
				      long fd)
{
	c->op = 0;	/* softirq_exit adds nothing until the note is whole */
	if (!op)
		return;
	c->tid = task->pid;
	c->fd = fd;
	c->depth = 1;
	c->si_ns = 0;
	c->run = task->se.prev_sum_exec_runtime;
	c->arrival = task->sched_info.last_arrival;
	c->start = bpf_ktime_get_ns();
	c->op = op;
}

/*
 * Tracepoint backend: the current task enters system call @nr, operation @op
 * (0: none, which only drops an earlier note), to end at sys_exit if
 * @at_exit, else at sock_*_length.
 */
static __always_inline int call_enter(long nr, __u32 op, long fd, bool at_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct nc_call *c = slot_of(task);

	if (c)
		call_note(task, c, op ? (nr << 3) | (at_exit ? NC_CALL_EXIT : 0) | op : 0, fd);
	return 0;
}

/*
 * The current task's operation @c ends. Not switched out since its entry (its
 * last switch-in is the one before entry; the context switch counts
 * nvcsw + nivcsw would say the same, from two loads): it ran all along,
 * charge the time since, less its softirqs.
 * Switched out (blocked, preempted), and, for a maybe operation, still in the
 * noted syscall (a note a call on another file left is not the call a kernel
 * socket operation is in): the scheduler's own account. At each switch-in it
 * sets se.prev_sum_exec_runtime to the task's run so far and
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

/*
 * fentry and kprobe backends: a hook of operation @op is entered. The
 * outermost one notes the operation; @top: a hook no socket operation can be
 * nested in (a syscall, a socket file operation), so a depth left over from
 * a missed exit (a dropped kretprobe) is dropped with its note.
 */
static __always_inline int op_enter(__u32 op, bool top)
{
	struct task_struct *task;
	struct nc_call *c;

	if (pcpu[this_cpu()].st.si_vec)
		return 0;	/* a kernel socket used from a softirq: softirq time */
	task = bpf_get_current_task_btf();
	c = slot_of(task);
	if (!c)
		return 0;
	if (!top && c->op && c->tid == task->pid && c->depth) {
		c->depth++;	/* inside the task's operation */
		return 0;
	}
	call_note(task, c, NC_CALL_EXIT | op, -1);
	return 0;
}

/* A hook returns; the outermost one (@top: a syscall or file operation) ends it. */
static __always_inline int op_exit(bool top)
{
	__u32 cpu = this_cpu();
	struct task_struct *task;
	struct nc_call *c;

	if (pcpu[cpu].st.si_vec)
		return 0;
	task = bpf_get_current_task_btf();
	c = slot_of(task);
	if (!c)
		return 0;
	if (c->tid != task->pid || !c->op) {
		/* a thread of an equal slot noted over it: seen, not timed */
		if (top && c->op)
			__sync_fetch_and_add(&pcpu[cpu].c.untimed_ops, 1);
		return 0;
	}
	if (c->depth && !--c->depth)
		call_end(task, c, c->op & 3);
	return 0;
}

/* ---- softirqs ---- */

SEC("tp_btf/softirq_entry")
int BPF_PROG(nc_si_entry, unsigned int vec)
{
	struct nc_state *st = &pcpu[this_cpu()].st;

	st->si_start = bpf_ktime_get_ns();
	st->si_vec = vec + 1;
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(nc_si_exit, unsigned int vec)
{
	__u32 cpu = this_cpu();
	struct nc_state *st = &pcpu[cpu].st;
	__u64 now = bpf_ktime_get_ns(), delta, start = st->si_start;
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
		/* ran in the context of the task here: not its operation's time */
		c = call_get(bpf_get_current_task_btf());
		if (c)
			c->si_ns += delta;
	}
	st->si_vec = 0;
	st->si_start = 0;
	return 0;
}

/*
 * sock_sendmsg/sock_recvmsg ended (6.12 and 6.18 have these tracepoints, 6.1
 * not), @op its direction: inside an operation that ends at its exit hook,
 * nothing; with len_ends, the end of the current task's maybe operation;
 * else an operation no hook timed (io_uring on the tracepoint backend, a
 * kernel socket used from a softirq).
 */
static __always_inline int sock_length(__u32 op)
{
	__u32 cpu = this_cpu();
	struct task_struct *task;
	struct nc_call *c;

	if (!pcpu[cpu].st.si_vec) {
		task = bpf_get_current_task_btf();
		/*
		 * No check that a task never switched out is still in the
		 * noted call (reading its pt_regs here costs 100-400 ns a run,
		 * measured): the note is dropped at its next noted call and
		 * at io_uring_enter.
		 */
		c = call_get(task);
		if (c && (c->op & NC_CALL_EXIT))
			return 0;	/* its exit hook ends it (sendmmsg, fentry...) */
		if (c && (c->op & 3) == op) {
			call_end(task, c, op);
			return 0;
		}
		if (c)
			c->op = 0;	/* a kernel socket call inside a read or write */
	}
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
 * sendmmsg, recvmmsg, splice, sendfile, and every call without len_ends.
 */
static __always_inline int exit_enter(struct trace_event_raw_sys_enter *ctx, __u32 op)
{
	return call_enter(ctx->id, op, ctx->args[0], true);
}

static __always_inline int tp_exit(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct nc_call *c = call_get(task);

	if (c && (c->op & NC_CALL_EXIT))
		call_end(task, c, c->op & 3);
	return 0;
}

/* A system call that takes a socket: sendto, recvfrom, sendmsg, recvmsg. */
static __always_inline int sock_enter(struct trace_event_raw_sys_enter *ctx, __u32 op)
{
	return call_enter(ctx->id, op, ctx->args[0], !len_ends);
}

/* read, write, readv, writev: any file, a socket checked at entry without len_ends. */
static __always_inline int file_enter(struct trace_event_raw_sys_enter *ctx, __u32 op)
{
	if (len_ends)
		return call_enter(ctx->id, op, ctx->args[0], false);
	return exit_enter(ctx, fd_is_socket(ctx->args[0]) ? op : 0);
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
int BPF_PROG(nc_fx_send0) { return op_exit(false); }
SEC("fexit")
int BPF_PROG(nc_fx_send1) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_send2) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_send3) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_send4) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_send5) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_recv0) { return op_exit(false); }
SEC("fexit")
int BPF_PROG(nc_fx_recv1) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_recv2) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_recv3) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_recv4) { return op_exit(true); }
SEC("fexit")
int BPF_PROG(nc_fx_recv5) { return op_exit(true); }

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
int nc_krp_send0(struct pt_regs *ctx) { return op_exit(false); }
SEC("kretprobe")
int nc_krp_send1(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_send2(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_send3(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_send4(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_send5(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_recv0(struct pt_regs *ctx) { return op_exit(false); }
SEC("kretprobe")
int nc_krp_recv1(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_recv2(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_recv3(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_recv4(struct pt_regs *ctx) { return op_exit(true); }
SEC("kretprobe")
int nc_krp_recv5(struct pt_regs *ctx) { return op_exit(true); }

/* ---- breakdown: cpu-clock samples while in networking context ---- */

/*
 * The current task is in a socket operation, of kind @kind: one its hooks
 * bracket, or a maybe operation still in its syscall, on a socket.
 */
static __always_inline bool call_on_socket(__u32 *kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct nc_call *c = call_get(task);

	if (!c)
		return false;
	if (!(c->op & NC_CALL_EXIT) && (!in_syscall(task, c->op) || !fd_is_socket(c->fd)))
		return false;
	*kind = (c->op & 3) == NC_OP_SEND ? NC_SEND : NC_RECV;
	return true;
}

SEC("perf_event")
int nc_sample(struct bpf_perf_event_data *ctx)
{
	__u32 cpu = this_cpu(), kind, b = 0, h, key;
	struct nc_state *st = &pcpu[cpu].st;
	struct nc_sample *s;
	__u64 cgid = 0;
	long n;

	if (st->si_vec == NC_NET_RX + 1)
		kind = NC_RX;
	else if (st->si_vec == NC_NET_TX + 1)
		kind = NC_TX;
	else if (st->si_vec)
		return 0;	/* another softirq */
	else if (call_on_socket(&kind))
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
