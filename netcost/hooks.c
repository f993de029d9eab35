// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c - which of netcost's programs load and where they attach.
 *
 * The softirq programs always load. Socket operations are timed by one
 * backend: fentry/fexit or kprobe/kretprobe on a table of kernel functions
 * (the program pairs of one slot each), or the syscall tracepoints; none
 * needs a sched_switch program (netcost.bpf.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>

#include "internal.h"

#define NR_HOOKS	12	/* slots: 6 send, then 6 receive */

const char *const nc_backend_names[NC_BK_NR] = {
	[NC_BK_AUTO] = "auto", [NC_BK_FENTRY] = "fentry", [NC_BK_KPROBE] = "kprobe",
	[NC_BK_TP] = "tracepoint",
};

/* One slot: the kernel function and the programs that time it. */
struct hook {
	const char *fn;			/* NULL: chosen at run time, hook_fn() */
	struct bpf_program *fentry, *fexit;
	struct bpf_program *kprobe, *kretprobe;
};

/*
 * Slot 0 of each direction is sock_sendmsg/sock_recvmsg; 1-5 are syscalls
 * and socket file operations (see netcost.bpf.c).
 */
static void hook_table(struct netcost_bpf *skel, struct hook *t)
{
	typeof(skel->progs) *p = &skel->progs;
	const struct hook tab[NR_HOOKS] = {
		{ "sock_sendmsg", p->nc_fe_send0, p->nc_fx_send0, p->nc_kp_send0,
		  p->nc_krp_send0 },
		{ "__x64_sys_sendto", p->nc_fe_send1, p->nc_fx_send1, p->nc_kp_send1,
		  p->nc_krp_send1 },
		{ "__x64_sys_sendmsg", p->nc_fe_send2, p->nc_fx_send2, p->nc_kp_send2,
		  p->nc_krp_send2 },
		{ "__x64_sys_sendmmsg", p->nc_fe_send3, p->nc_fx_send3, p->nc_kp_send3,
		  p->nc_krp_send3 },
		{ "sock_write_iter", p->nc_fe_send4, p->nc_fx_send4, p->nc_kp_send4,
		  p->nc_krp_send4 },
		{ NULL /* splice_to_socket or sock_sendpage */, p->nc_fe_send5, p->nc_fx_send5,
		  p->nc_kp_send5, p->nc_krp_send5 },
		{ "sock_recvmsg", p->nc_fe_recv0, p->nc_fx_recv0, p->nc_kp_recv0,
		  p->nc_krp_recv0 },
		{ "__x64_sys_recvfrom", p->nc_fe_recv1, p->nc_fx_recv1, p->nc_kp_recv1,
		  p->nc_krp_recv1 },
		{ "__x64_sys_recvmsg", p->nc_fe_recv2, p->nc_fx_recv2, p->nc_kp_recv2,
		  p->nc_krp_recv2 },
		{ "__x64_sys_recvmmsg", p->nc_fe_recv3, p->nc_fx_recv3, p->nc_kp_recv3,
		  p->nc_krp_recv3 },
		{ "sock_read_iter", p->nc_fe_recv4, p->nc_fx_recv4, p->nc_kp_recv4,
		  p->nc_krp_recv4 },
		{ "sock_splice_read", p->nc_fe_recv5, p->nc_fx_recv5, p->nc_kp_recv5,
		  p->nc_krp_recv5 },
	};

	memcpy(t, tab, sizeof(tab));
}

static const char *hook_fn(const struct hook *h)
{
	if (h->fn)
		return h->fn;
	return bn_ksym_exists("splice_to_socket") ? "splice_to_socket" : "sock_sendpage";
}

/* tracefs has @event ("syscalls/sys_enter_sendto"), in either place. */
static bool tracefs_has(const char *event)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char dir[PATH_MAX];
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(dir, sizeof(dir), "%s/events/%s", roots[i], event);
		if (!access(dir, F_OK))
			return true;
	}
	return false;
}

/* The syscall tracepoints are found through tracefs: mount it if nobody has. */
static int tp_backend_usable(void)
{
	if (tracefs_has("syscalls/sys_enter_sendto"))
		return 0;
	if (access("/sys/kernel/tracing/events", F_OK) &&
	    !mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		bn_info("mounted tracefs on /sys/kernel/tracing");
	return tracefs_has("syscalls/sys_enter_sendto") ? 0 : -ENOENT;
}

static int backend_usable(enum nc_backend b)
{
	switch (b) {
	case NC_BK_FENTRY:
		return bn_probe_hook(BN_HOOK_FENTRY, "sock_sendmsg");
	case NC_BK_KPROBE:
		return bn_probe_hook(BN_HOOK_KPROBE, "sock_sendmsg");
	case NC_BK_TP:
		return tp_backend_usable();
	default:
		return -EINVAL;
	}
}

enum nc_backend nc_hooks_choose(enum nc_backend want)
{
	enum nc_backend b;
	int err;

	if (want != NC_BK_AUTO) {
		err = backend_usable(want);
		if (!err)
			return want;
		if (want == NC_BK_TP)
			bn_err("tracepoint backend unavailable: no syscall tracepoints in tracefs");
		else
			bn_err("%s backend unavailable: cannot attach %s: %s",
			       nc_backend_names[want], nc_backend_names[want], strerror(-err));
		return NC_BK_AUTO;
	}
	for (b = NC_BK_FENTRY; b < NC_BK_NR; b++)
		if (!backend_usable(b))
			return b;
	bn_err("no backend for socket operations: fentry, kprobe and syscall tracepoints "
	       "all unavailable");
	return NC_BK_AUTO;
}

/* The fentry/fexit or kprobe/kretprobe pairs of the slots the kernel has. */
static int select_slots(struct nc_hooks *h, struct netcost_bpf *skel)
{
	struct hook tab[NR_HOOKS];
	const char *fn;
	int i, err;

	hook_table(skel, tab);
	for (i = 0; i < NR_HOOKS; i++) {
		fn = hook_fn(&tab[i]);
		if (!bn_ksym_exists(fn)) {
			bn_info("no kernel function %s: not hooked", fn);
			continue;
		}
		if (h->backend == NC_BK_KPROBE) {
			bpf_program__set_autoload(tab[i].kprobe, true);
			bpf_program__set_autoload(tab[i].kretprobe, true);
			continue;
		}
		bpf_program__set_autoload(tab[i].fentry, true);
		bpf_program__set_autoload(tab[i].fexit, true);
		err = bpf_program__set_attach_target(tab[i].fentry, 0, fn) ?:
		      bpf_program__set_attach_target(tab[i].fexit, 0, fn);
		if (err)
			return err;
	}
	return 0;
}

/* A sys_exit program that sock_*_length replaces when the kernel has it. */
static bool len_ended(struct netcost_bpf *skel, const struct bpf_program *p)
{
	typeof(skel->progs) *q = &skel->progs;
	const struct bpf_program *ended[] = {
		q->nc_tp_exit_read, q->nc_tp_exit_write, q->nc_tp_exit_readv,
		q->nc_tp_exit_writev, q->nc_tp_exit_sendto, q->nc_tp_exit_recvfrom,
		q->nc_tp_exit_sendmsg, q->nc_tp_exit_recvmsg,
	};
	size_t i;

	for (i = 0; i < sizeof(ended) / sizeof(ended[0]); i++)
		if (ended[i] == p)
			return true;
	return false;
}

int nc_hooks_select(struct nc_hooks *h, struct netcost_bpf *skel, bool breakdown)
{
	struct bpf_program *p;
	bool length_tp;

	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	bpf_program__set_autoload(skel->progs.nc_si_entry, true);
	bpf_program__set_autoload(skel->progs.nc_si_exit, true);
	length_tp = !bn_probe_hook(BN_HOOK_TP_BTF, "sock_send_length") &&
		    !bn_probe_hook(BN_HOOK_TP_BTF, "sock_recv_length");
	bpf_program__set_autoload(skel->progs.nc_send_length, length_tp);
	bpf_program__set_autoload(skel->progs.nc_recv_length, length_tp);
	bpf_program__set_autoload(skel->progs.nc_sample, breakdown);

	if (h->backend != NC_BK_TP)
		return select_slots(h, skel);
	/*
	 * The syscall tracepoints: every tp/ program, but where sock_*_length
	 * ends them (netcost.bpf.c), no sys_exit program for the calls it ends.
	 */
	skel->rodata->len_ends = length_tp;
	bpf_object__for_each_program(p, skel->obj)
		if (bpf_program__type(p) == BPF_PROG_TYPE_TRACEPOINT)
			bpf_program__set_autoload(p, !length_tp || !len_ended(skel, p));
	bpf_program__set_autoload(skel->progs.nc_tp_enter_io_uring, length_tp &&
				  tracefs_has("syscalls/sys_enter_io_uring_enter"));
	return 0;
}

static int add_link(struct nc_hooks *h, struct bpf_link *l)
{
	struct bpf_link **v;

	if (h->nlinks == h->links_cap) {
		h->links_cap = h->links_cap ? h->links_cap * 2 : 64;
		v = realloc(h->links, h->links_cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->links = v;
	}
	h->links[h->nlinks++] = l;
	return 0;
}

/* The kernel function of kprobe or kretprobe @p, from the table; NULL if neither. */
static const char *kprobe_fn(struct netcost_bpf *skel, const struct bpf_program *p, bool *ret)
{
	struct hook tab[NR_HOOKS];
	int i;

	hook_table(skel, tab);
	for (i = 0; i < NR_HOOKS; i++) {
		*ret = tab[i].kretprobe == p;
		if (tab[i].kprobe == p || *ret)
			return hook_fn(&tab[i]);
	}
	return NULL;
}

int nc_hooks_attach(struct nc_hooks *h, struct netcost_bpf *skel)
{
	struct bpf_program *p;
	struct bpf_link *l;
	const char *fn;
	bool ret;
	int err;

	bpf_object__for_each_program(p, skel->obj) {
		if (!bpf_program__autoload(p) || p == skel->progs.nc_sample)
			continue;	/* the sampler: perf events, nc_hooks_open_perf() */
		fn = kprobe_fn(skel, p, &ret);
		if (fn)
			l = bpf_program__attach_kprobe(p, ret, fn);
		else
			l = bpf_program__attach(p);
		if (!l) {
			err = -errno;
			bn_err("cannot attach %s: %s", bpf_program__name(p), strerror(-err));
			return err;
		}
		err = add_link(h, l);
		if (err)
			return err;
	}
	return 0;
}

static int perf_open_err(int err, int cpu, uint64_t freq)
{
	if (err == -EINVAL)
		bn_err("cannot open perf event at %" PRIu64 " Hz: above "
		       "kernel.perf_event_max_sample_rate?", freq);
	else if (err == -EACCES || err == -EPERM)
		bn_err("cannot open perf event: missing capability CAP_PERFMON");
	else
		bn_err("perf events unavailable: cpu-clock on cpu %d: %s", cpu, strerror(-err));
	return err;
}

int nc_hooks_open_perf(struct nc_hooks *h, struct netcost_bpf *skel,
		       const struct bn_cpuset *cpus, uint64_t freq)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = freq,
	};
	struct bpf_link *l;
	int cpu, fd, err;

	h->pfds = malloc(h->nr_cpus * sizeof(*h->pfds));
	if (!h->pfds)
		return -ENOMEM;
	for (cpu = 0; cpu < h->nr_cpus; cpu++)
		h->pfds[cpu] = -1;
	for (cpu = 0; cpu < h->nr_cpus; cpu++) {
		if (!bn_cpuset_has(cpus, cpu))
			continue;
		fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == ENODEV)
			continue;	/* offline CPU */
		if (fd < 0)
			return perf_open_err(-errno, cpu, freq);
		h->pfds[cpu] = fd;
		l = bpf_program__attach_perf_event(skel->progs.nc_sample, fd);
		if (!l) {
			err = -errno;
			bn_err("cannot attach the sampler to cpu %d: %s", cpu, strerror(-err));
			return err;
		}
		err = add_link(h, l);
		if (err)
			return err;
	}
	return 0;
}

void nc_hooks_free(struct nc_hooks *h)
{
	int i;

	for (i = h->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(h->links[i]);
	free(h->links);
	if (h->pfds) {
		for (i = 0; i < h->nr_cpus; i++)
			if (h->pfds[i] >= 0)
				close(h->pfds[i]);
		free(h->pfds);
	}
	memset(h, 0, sizeof(*h));
}
