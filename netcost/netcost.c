// SPDX-License-Identifier: GPL-2.0
/*
 * netcost - how much CPU the kernel spends moving packets, per CPU.
 *
 * Time in NET_RX and NET_TX softirqs and in socket send/receive operations,
 * measured by BPF programs at their entry and exit (netcost.bpf.c), printed
 * per CPU every interval; optionally where inside that time it goes
 * (--breakdown, sampled kernel stacks), and which cgroups pay for it.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "netcost.h"
#include "category.h"
#include "netcost.skel.h"

#define DRAIN_NS	100000000ULL	/* sample buffers are read every 100 ms */
#define RB_BYTES	(8 << 20)	/* --sampler ringbuf */
#define NR_SLOTS	2		/* hook slots per direction, see netcost.bpf.c */
#define NR_HOOKS	6
#define MAX_CG		4096
#define KSYMS_STALL_MS	8000	/* /proc/kallsyms read without progress */
#define KSYMS_TRIES	3
#define NPEND		(NC_NR_KINDS + 1)	/* kinds, then all softirqs */
#define SNAP_SPINS	16		/* consistent-read tries before yielding */
#define SNAP_WAIT_NS	20000000ULL	/* and at most this long in one snapshot */

enum backend { BK_AUTO, BK_FENTRY, BK_KPROBE, BK_TP };
static const char *const backend_names[] = {
	[BK_AUTO] = "auto", [BK_FENTRY] = "fentry", [BK_KPROBE] = "kprobe",
	[BK_TP] = "tracepoint",
};
static const char *const kind_names[NC_NR_KINDS] = {
	[NC_RX] = "net_rx", [NC_TX] = "net_tx", [NC_SEND] = "sock_send",
	[NC_RECV] = "sock_recv",
};

static struct env {
	uint64_t interval_ns;
	uint64_t duration_ns;
	bool json;
	bool cpus_given;
	struct bn_cpuset cpus;
	enum backend backend;
	bool breakdown;
	uint64_t freq;
	enum nc_sampler sampler;
	const char *folded;
	int cgroups;		/* top N, 0: off */
	const char *metrics;
	bool bpf_stats;
	uint64_t slots;		/* samples per CPU per buffer */
} env = {
	.interval_ns = 1000000000ULL,
	.backend = BK_AUTO,
	.freq = 1000,
	.sampler = NC_SAMPLER_ARRAY,
	.slots = 2048,
};

const char *argp_program_version = "netcost " BN_VERSION;
const char *argp_program_bug_address = "<bpfnet@localhost>";
static const char doc[] =
"netcost: CPU time the kernel spends moving packets, per CPU.\n"
"\n"
"USAGE: netcost [-i SECONDS] [-d SECONDS] [-j] [-c CPULIST]\n"
"               [--backend auto|fentry|kprobe|tracepoint] [--breakdown]\n"
"               [--freq HZ] [--sampler array|ringbuf|none] [--folded FILE]\n"
"               [--cgroups[=N]] [--metrics [ADDR:]PORT] [--bpf-stats]\n"
"\n"
"Every interval, per CPU and for all CPUs: time in NET_RX and NET_TX\n"
"softirqs and in socket send and receive operations, as % of the CPU and in\n"
"ns. A softirq that interrupts a socket operation counts only as softirq; a\n"
"task switched out in an operation stops accruing. Beside: every softirq\n"
"vector as measured (SOFTIRQ%) and as /proc/stat says (STAT_SOFTIRQ%), and\n"
"netcost's own CPU (SELF%, user space).\n"
"\n"
"EXAMPLES:\n"
"    netcost                       # per-CPU table every second\n"
"    netcost -i 5 -d 60 -c 0-3     # CPUs 0-3, 5 s intervals, one minute\n"
"    netcost -j --breakdown        # JSON Lines, with categories (TCP, GRO...)\n"
"    netcost --breakdown --folded out.folded -d 10   # flame graph input\n"
"    netcost --cgroups=5           # the 5 cgroups with most socket time\n"
"    netcost --metrics 9100        # Prometheus exposition on port 9100\n";

enum {
	OPT_BACKEND = 1000, OPT_BREAKDOWN, OPT_FREQ, OPT_SAMPLER, OPT_FOLDED, OPT_CGROUPS,
	OPT_METRICS, OPT_BPF_STATS, OPT_SLOTS,
};

static const struct argp_option opts[] = {
	{ "interval", 'i', "SECONDS", 0, "Report interval (default 1)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long (default: until ^C)", 0 },
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "cpus", 'c', "CPULIST", 0, "Only these CPUs, e.g. 0-3,6", 0 },
	{ "backend", OPT_BACKEND, "NAME", 0,
	  "Socket operation hooks: auto (default), fentry, kprobe, tracepoint", 0 },
	{ "breakdown", OPT_BREAKDOWN, NULL, 0, "Sample stacks, report categories", 0 },
	{ "freq", OPT_FREQ, "HZ", 0, "Sampling frequency per CPU (default 1000)", 0 },
	{ "sampler", OPT_SAMPLER, "KIND", 0,
	  "How samples reach user space: array (default, mmapable) or ringbuf; none takes no "
	  "stack (a benchmark control: the sampling timer alone)", 0 },
	{ "folded", OPT_FOLDED, "FILE", 0, "Write folded stacks at exit (implies --breakdown)",
	  0 },
	{ "cgroups", OPT_CGROUPS, "N", OPTION_ARG_OPTIONAL,
	  "Socket time per cgroup, top N (default 5)", 0 },
	{ "metrics", OPT_METRICS, "[ADDR:]PORT", 0, "Serve Prometheus metrics", 0 },
	{ "bpf-stats", OPT_BPF_STATS, NULL, 0,
	  "Enable kernel BPF run-time stats, report netcost's BPF cost", 0 },
	{ "slots", OPT_SLOTS, "N", OPTION_HIDDEN, "Samples per CPU per buffer", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose output (twice: libbpf debug)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	uint64_t v;
	int err;

	switch (key) {
	case 'i':
		if (bn_parse_duration(arg, 1000000000ULL, &env.interval_ns) ||
		    env.interval_ns < 10000000ULL || env.interval_ns > 3600000000000ULL)
			argp_error(state, "invalid interval (0.01-3600 s): %s", arg);
		break;
	case 'd':
		if (bn_parse_duration(arg, 1000000000ULL, &env.duration_ns))
			argp_error(state, "invalid duration: %s", arg);
		break;
	case 'j':
		env.json = true;
		break;
	case 'c':
		err = bn_parse_cpulist(arg, bn_nr_cpus(), &env.cpus);
		if (err || !bn_cpuset_count(&env.cpus))
			argp_error(state, "invalid cpu list (0-%d): %s", bn_nr_cpus() - 1, arg);
		env.cpus_given = true;
		break;
	case OPT_BACKEND:
		if (!strcmp(arg, "auto"))
			env.backend = BK_AUTO;
		else if (!strcmp(arg, "fentry"))
			env.backend = BK_FENTRY;
		else if (!strcmp(arg, "kprobe"))
			env.backend = BK_KPROBE;
		else if (!strcmp(arg, "tracepoint") || !strcmp(arg, "tp"))
			env.backend = BK_TP;
		else
			argp_error(state, "unknown backend: %s (auto, fentry, kprobe, tracepoint)",
				   arg);
		break;
	case OPT_BREAKDOWN:
		env.breakdown = true;
		break;
	case OPT_FREQ:
		if (bn_parse_u64(arg, 1, 100000, &env.freq))
			argp_error(state, "invalid frequency (1-100000 Hz): %s", arg);
		break;
	case OPT_SAMPLER:
		if (!strcmp(arg, "array"))
			env.sampler = NC_SAMPLER_ARRAY;
		else if (!strcmp(arg, "ringbuf"))
			env.sampler = NC_SAMPLER_RINGBUF;
		else if (!strcmp(arg, "none"))	/* benchmark control: the timer alone */
			env.sampler = NC_SAMPLER_NONE;
		else
			argp_error(state, "unknown sampler: %s (array, ringbuf, none)", arg);
		break;
	case OPT_FOLDED:
		if (!*arg)
			argp_error(state, "empty --folded file name");
		env.folded = arg;
		env.breakdown = true;
		break;
	case OPT_CGROUPS:
		env.cgroups = 5;
		if (arg) {
			if (bn_parse_u64(arg, 1, 1000, &v))
				argp_error(state, "invalid cgroup count (1-1000): %s", arg);
			env.cgroups = v;
		}
		break;
	case OPT_METRICS:
		env.metrics = arg;
		break;
	case OPT_BPF_STATS:
		env.bpf_stats = true;
		break;
	case OPT_SLOTS:
		if (bn_parse_u64(arg, 16, 1 << 20, &env.slots))
			argp_error(state, "invalid slot count (16-1048576): %s", arg);
		break;
	case 'v':
		bn_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s (--cgroups takes its count as "
			   "--cgroups=N)", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- hook selection ---- */

/* Slot 0: sock_sendmsg/sock_recvmsg; 1-5: syscalls and socket file ops. */
static const char *send_hooks[NR_HOOKS] = {
	"sock_sendmsg", "__x64_sys_sendto", "__x64_sys_sendmsg", "__x64_sys_sendmmsg",
	"sock_write_iter", NULL /* splice_to_socket or sock_sendpage */,
};
static const char *recv_hooks[NR_HOOKS] = {
	"sock_recvmsg", "__x64_sys_recvfrom", "__x64_sys_recvmsg", "__x64_sys_recvmmsg",
	"sock_read_iter", "sock_splice_read",
};

static const char *hook_name(int dir, int i)
{
	if (dir == 0 && i == 5)
		return bn_ksym_exists("splice_to_socket") ? "splice_to_socket" : "sock_sendpage";
	return dir == 0 ? send_hooks[i] : recv_hooks[i];
}

static bool tracefs_events(char *dir, size_t len)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	size_t i;

	for (i = 0; i < 2; i++) {
		snprintf(dir, len, "%s/events/syscalls/sys_enter_sendto", roots[i]);
		if (!access(dir, F_OK))
			return true;
	}
	return false;
}

/* The syscall tracepoints are found through tracefs: mount it if nobody has. */
static int tp_backend_usable(void)
{
	char dir[PATH_MAX];

	if (tracefs_events(dir, sizeof(dir)))
		return 0;
	if (access("/sys/kernel/tracing/events", F_OK) &&
	    !mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL))
		bn_info("mounted tracefs on /sys/kernel/tracing");
	return tracefs_events(dir, sizeof(dir)) ? 0 : -ENOENT;
}

static enum backend choose_backend(void)
{
	int err;

	switch (env.backend) {
	case BK_FENTRY:
		err = bn_probe_hook(BN_HOOK_FENTRY, "sock_sendmsg");
		if (err) {
			bn_err("fentry backend unavailable: cannot attach fentry: %s",
			       strerror(-err));
			return BK_AUTO;
		}
		return BK_FENTRY;
	case BK_KPROBE:
		err = bn_probe_hook(BN_HOOK_KPROBE, "sock_sendmsg");
		if (err) {
			bn_err("kprobe backend unavailable: cannot attach kprobe: %s",
			       strerror(-err));
			return BK_AUTO;
		}
		return BK_KPROBE;
	case BK_TP:
		err = tp_backend_usable();
		if (err) {
			bn_err("tracepoint backend unavailable: no syscall tracepoints in tracefs");
			return BK_AUTO;
		}
		return BK_TP;
	default:
		break;
	}
	if (!bn_probe_hook(BN_HOOK_FENTRY, "sock_sendmsg"))
		return BK_FENTRY;
	if (!bn_probe_hook(BN_HOOK_KPROBE, "sock_sendmsg"))
		return BK_KPROBE;
	if (!tp_backend_usable())
		return BK_TP;
	bn_err("no backend for socket operations: fentry, kprobe and syscall tracepoints "
	       "all unavailable");
	return BK_AUTO;
}

/* ---- run state ---- */

struct cg_ent {
	uint64_t id;
	uint64_t ns[2], ops[2];		/* last read totals */
	uint64_t d[2], dops[2];		/* this interval */
	uint64_t sum[2], sumops[2];	/* whole run */
	char *path;
};

struct snap {
	struct nc_cpu *cpu;	/* nr_cpus entries */
	uint64_t *stat_si;	/* /proc/stat softirq ticks per CPU */
	uint64_t *pend;		/* in-progress time counted early, [cpu][NPEND] */
	uint64_t mono;		/* CLOCK_MONOTONIC ns */
	uint64_t self_ns;	/* netcost's user+system time */
	uint64_t bpf_ns, bpf_cnt;
};

/* A sampled address, symbolized and classified once. */
struct ip_ent {
	uint64_t ip;
	const struct nc_ksym *sym;	/* NULL: in no symbol */
	struct nc_frame frame;
};

#define IP_CACHE	8192		/* entries, a power of two */

struct run {
	struct netcost_bpf *skel;
	enum backend backend;
	int nr_cpus;
	struct bpf_link **links;
	int nlinks, links_cap;
	int *pfds;			/* perf event fds, per CPU */
	struct nc_sample *samples;	/* mmapped sample array */
	size_t samples_len;
	struct ring_buffer *rb;
	struct nc_ksyms ksyms;
	struct ip_ent *ipc;		/* IP_CACHE entries, ip 0: empty */
	struct nc_folded folded;
	uint64_t cat[NC_NR_KINDS][NC_CAT_NR];	/* this interval */
	uint64_t cat_sum[NC_NR_KINDS][NC_CAT_NR];
	uint64_t unsymbolized;		/* frames not in the symbol table */
	uint64_t bpf_ids_hash;		/* the BPF programs whose symbols we have */
	uint64_t folded_drops;		/* stacks --folded could not keep */
	FILE *folded_f;
	struct cg_ent *cg;
	int ncg;
	struct snap first, prev, cur;
	int stats_fd;
	int listen_fd;
	char *metrics_text;		/* the last exposition */
	uint64_t clk_tck;
};

static int add_link(struct run *r, struct bpf_link *l)
{
	struct bpf_link **v;

	if (r->nlinks == r->links_cap) {
		r->links_cap = r->links_cap ? r->links_cap * 2 : 64;
		v = realloc(r->links, r->links_cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->links = v;
	}
	r->links[r->nlinks++] = l;
	return 0;
}

static struct bpf_program *prog(struct run *r, const char *name)
{
	return bpf_object__find_program_by_name(r->skel->obj, name);
}

/* Which programs load: the common ones and those of the chosen backend. */
static int select_programs(struct run *r)
{
	struct bpf_object *obj = r->skel->obj;
	struct bpf_program *p;
	char name[32];
	int dir, i, err;
	bool length_tp;

	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, false);
	bpf_program__set_autoload(prog(r, "nc_si_entry"), true);
	bpf_program__set_autoload(prog(r, "nc_si_exit"), true);
	bpf_program__set_autoload(prog(r, "nc_switch"), true);
	length_tp = !bn_probe_hook(BN_HOOK_TP_BTF, "sock_send_length") &&
		    !bn_probe_hook(BN_HOOK_TP_BTF, "sock_recv_length");
	bpf_program__set_autoload(prog(r, "nc_send_length"), length_tp);
	bpf_program__set_autoload(prog(r, "nc_recv_length"), length_tp);
	if (env.breakdown)
		bpf_program__set_autoload(prog(r, "nc_sample"), true);

	if (r->backend == BK_TP) {
		bpf_object__for_each_program(p, obj)
			if (!strncmp(bpf_program__name(p), "nc_tp_", 6))
				bpf_program__set_autoload(p, true);
		return 0;
	}
	for (dir = 0; dir < 2; dir++) {
		for (i = 0; i < NR_HOOKS; i++) {
			const char *fn = hook_name(dir, i);
			const char *d = dir ? "recv" : "send";

			if (!bn_ksym_exists(fn)) {
				bn_info("no kernel function %s: not hooked", fn);
				continue;
			}
			if (r->backend == BK_FENTRY) {
				snprintf(name, sizeof(name), "nc_fe_%s%d", d, i);
				p = prog(r, name);
				bpf_program__set_autoload(p, true);
				err = bpf_program__set_attach_target(p, 0, fn);
				if (err)
					return err;
				snprintf(name, sizeof(name), "nc_fx_%s%d", d, i);
				p = prog(r, name);
				bpf_program__set_autoload(p, true);
				err = bpf_program__set_attach_target(p, 0, fn);
				if (err)
					return err;
			} else {
				snprintf(name, sizeof(name), "nc_kp_%s%d", d, i);
				bpf_program__set_autoload(prog(r, name), true);
				snprintf(name, sizeof(name), "nc_krp_%s%d", d, i);
				bpf_program__set_autoload(prog(r, name), true);
			}
		}
	}
	return 0;
}

static int attach_programs(struct run *r)
{
	struct bpf_program *p;
	struct bpf_link *l;
	char fn_buf[64];
	const char *name;
	int dir, i, err;

	bpf_object__for_each_program(p, r->skel->obj) {
		if (!bpf_program__autoload(p))
			continue;
		name = bpf_program__name(p);
		if (!strcmp(name, "nc_sample"))
			continue;	/* perf events, see open_perf() */
		l = NULL;
		if (!strncmp(name, "nc_kp_", 6) || !strncmp(name, "nc_krp_", 7)) {
			bool ret = name[4] == 'r';
			const char *d = name + (ret ? 7 : 6);

			dir = !strncmp(d, "recv", 4);
			i = d[4] - '0';
			snprintf(fn_buf, sizeof(fn_buf), "%s", hook_name(dir, i));
			l = bpf_program__attach_kprobe(p, ret, fn_buf);
		} else {
			l = bpf_program__attach(p);
		}
		if (!l) {
			err = -errno;
			bn_err("cannot attach %s: %s", name, strerror(-err));
			return err;
		}
		err = add_link(r, l);
		if (err)
			return err;
	}
	return 0;
}

static int open_perf(struct run *r)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = env.freq,
	};
	struct bpf_link *l;
	int cpu, fd, err;

	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&env.cpus, cpu))
			continue;
		fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			if (err == -ENODEV)
				continue;	/* offline CPU */
			if (err == -EINVAL)
				bn_err("cannot open perf event at %" PRIu64 " Hz: above "
				       "kernel.perf_event_max_sample_rate?", env.freq);
			else if (err == -EACCES || err == -EPERM)
				bn_err("cannot open perf event: missing capability CAP_PERFMON");
			else
				bn_err("perf events unavailable: cpu-clock on cpu %d: %s", cpu,
				       strerror(-err));
			return err;
		}
		r->pfds[cpu] = fd;
		l = bpf_program__attach_perf_event(r->skel->progs.nc_sample, fd);
		if (!l) {
			err = -errno;
			bn_err("cannot attach the sampler to cpu %d: %s", cpu, strerror(-err));
			return err;
		}
		err = add_link(r, l);
		if (err)
			return err;
	}
	return 0;
}

/* ---- samples ---- */

#define MAX_JITED_FUNCS	256

static uint64_t ids_hash(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	__u32 id = 0;

	while (!bpf_prog_get_next_id(id, &id))
		h = (h ^ id) * 0x100000001b3ULL;
	return h;
}

/*
 * JITed BPF functions with their exact ranges, from the programs' own info,
 * re-read when the set of loaded programs changes: programs loaded after
 * /proc/kallsyms was read are named too, and no address resolves to a
 * program that is gone.
 */
static void refresh_bpf_syms(struct run *r)
{
	static __u64 addrs[MAX_JITED_FUNCS];
	static __u32 lens[MAX_JITED_FUNCS];
	struct nc_ksym *syms = NULL, *v;
	size_t n = 0, cap = 0;
	struct bpf_prog_info info;
	uint64_t h = ids_hash();
	char name[128];
	__u32 id = 0, len, i, k;
	int fd;

	if (h == r->bpf_ids_hash)
		return;
	while (!bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;	/* gone meanwhile */
		memset(&info, 0, sizeof(info));
		info.nr_jited_ksyms = MAX_JITED_FUNCS;
		info.jited_ksyms = (__u64)(unsigned long)addrs;
		info.nr_jited_func_lens = MAX_JITED_FUNCS;
		info.jited_func_lens = (__u64)(unsigned long)lens;
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			close(fd);
			continue;
		}
		close(fd);
		k = info.nr_jited_ksyms < info.nr_jited_func_lens ? info.nr_jited_ksyms :
		    info.nr_jited_func_lens;
		if (k > MAX_JITED_FUNCS)
			k = MAX_JITED_FUNCS;
		for (i = 0; i < k; i++) {
			if (!addrs[i] || !lens[i])
				continue;	/* addresses hidden */
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				v = realloc(syms, cap * sizeof(*v));
				if (!v)
					goto fail;
				syms = v;
			}
			/* the kernel's own naming: bpf_prog_<tag>_<name> */
			snprintf(name, sizeof(name), "bpf_prog_%02x%02x%02x%02x%02x%02x%02x%02x_%s",
				 info.tag[0], info.tag[1], info.tag[2], info.tag[3], info.tag[4],
				 info.tag[5], info.tag[6], info.tag[7], info.name);
			syms[n].name = strdup(name);
			if (!syms[n].name)
				goto fail;
			syms[n].addr = addrs[i];
			syms[n].size = lens[i];
			syms[n].module = "bpf";
			n++;
		}
	}
	nc_ksyms_set_bpf(&r->ksyms, syms, n);
	/* the cache points into the old table */
	memset(r->ipc, 0, IP_CACHE * sizeof(*r->ipc));
	r->bpf_ids_hash = h;
	bn_dbg("%zu JITed BPF functions", n);
	return;
fail:
	while (n)
		free((char *)syms[--n].name);
	free(syms);
	bn_dbg("cannot record BPF program symbols: out of memory");
}

/*
 * Symbol and category of a sampled address. Stacks repeat the same few
 * thousand addresses: each is looked up in the symbol tables and matched
 * against the category rules once, not in every sample.
 */
static const struct ip_ent *ip_lookup(struct run *r, uint64_t ip)
{
	struct ip_ent *e = &r->ipc[(ip * 0x9e3779b97f4a7c15ULL) >> 51 & (IP_CACHE - 1)];

	if (e->ip == ip && ip)
		return e;
	e->ip = ip;
	e->sym = nc_ksyms_find(&r->ksyms, ip);
	nc_frame_class(e->sym ? e->sym->name : NULL, e->sym ? e->sym->module : NULL,
		       &e->frame);
	return e;
}

static void take_sample(struct run *r, const struct nc_sample *s)
{
	const struct nc_ksym *syms[NC_MAX_STACK];
	struct nc_frame frames[NC_MAX_STACK];
	char buf[NC_MAX_STACK * 64 + 32];
	const struct ip_ent *e;
	int i, n = s->nr, cat;
	size_t off;

	if (s->kind >= NC_NR_KINDS)
		return;
	if (n < 0)
		n = 0;
	if (n > NC_MAX_STACK)
		n = NC_MAX_STACK;
	for (i = 0; i < n; i++) {
		e = ip_lookup(r, s->ips[i]);
		syms[i] = e->sym;
		frames[i] = e->frame;
		if (!e->sym)
			r->unsymbolized++;
	}
	cat = nc_stack_cat_frames(frames, n);
	r->cat[s->kind][cat]++;
	if (!env.folded)
		return;
	off = snprintf(buf, sizeof(buf), "%s", kind_names[s->kind]);
	for (i = n - 1; i >= 0 && off < sizeof(buf) - 64; i--)
		off += snprintf(buf + off, sizeof(buf) - off, ";%s",
				syms[i] ? syms[i]->name : "[unknown]");
	if (nc_folded_add(&r->folded, buf, 1))
		r->folded_drops++;
}

static int rb_sample(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct nc_sample))
		take_sample(ctx, data);
	return 0;
}

/*
 * Read the buffer BPF stopped writing one drain period ago (no program can
 * still be in it), empty it, and make it the active one.
 */
static void drain_array(struct run *r)
{
	struct netcost_bpf__bss *bss = r->skel->bss;
	uint32_t idle = !(__atomic_load_n(&bss->active, __ATOMIC_ACQUIRE) & 1);
	const struct nc_sample *base;
	uint32_t h, i;
	int cpu;

	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		h = __atomic_load_n(&bss->head[idle][cpu], __ATOMIC_ACQUIRE);
		if (h > env.slots)
			h = env.slots;
		base = &r->samples[((size_t)idle * r->nr_cpus + cpu) * env.slots];
		for (i = 0; i < h; i++)
			take_sample(r, &base[i]);
		__atomic_store_n(&bss->head[idle][cpu], 0, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&bss->active, idle, __ATOMIC_RELEASE);
}

/* At exit: both halves, after a grace period for programs still writing. */
static void drain_all(struct run *r)
{
	struct timespec ts = { 0, 2000000 };

	if (r->rb) {
		ring_buffer__consume(r->rb);
		return;
	}
	if (!r->samples)
		return;		/* no breakdown, or --sampler none */
	drain_array(r);
	nanosleep(&ts, NULL);
	drain_array(r);
}

/* ---- cgroups ---- */

static uint64_t cg_want;
static char cg_found[PATH_MAX];

static int cg_walk(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_D && (uint64_t)st->st_ino == cg_want) {
		snprintf(cg_found, sizeof(cg_found), "%s", path);
		return 1;
	}
	return 0;
}

/* Where cgroup v2 is mounted (the first mount), "" if nowhere. */
static const char *cg_root(void)
{
	static char root[PATH_MAX];
	static bool done;
	char line[4096], mnt[PATH_MAX], *sep;
	FILE *f;

	if (done)
		return root;
	done = true;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return root;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint options... - fstype source ... */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return root;
}

/* cgroup v2: a cgroup's id is its directory's inode number. */
static char *cg_path(uint64_t id)
{
	const char *root = cg_root();
	const char *rel;
	char buf[64];

	cg_want = id;
	cg_found[0] = '\0';
	if (root[0] && nftw(root, cg_walk, 16, FTW_PHYS | FTW_MOUNT) == 1) {
		rel = cg_found + strlen(root);
		return strdup(*rel ? rel : "/");
	}
	snprintf(buf, sizeof(buf), "id:%" PRIu64, id);
	return strdup(buf);
}

static void read_cgroups(struct run *r)
{
	int fd = bpf_map__fd(r->skel->maps.cgroups), i, k;
	uint64_t key, next, *pkey = NULL;
	struct nc_cg v;
	struct cg_ent *e;

	for (i = 0; i < r->ncg; i++) {
		memset(r->cg[i].d, 0, sizeof(r->cg[i].d));
		memset(r->cg[i].dops, 0, sizeof(r->cg[i].dops));
	}
	while (!bpf_map_get_next_key(fd, pkey, &next)) {
		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		e = NULL;
		for (i = 0; i < r->ncg; i++)
			if (r->cg[i].id == key)
				e = &r->cg[i];
		if (!e) {
			if (r->ncg == MAX_CG)
				continue;
			e = &r->cg[r->ncg++];
			memset(e, 0, sizeof(*e));
			e->id = key;
			e->path = cg_path(key);
		}
		for (k = 0; k < 2; k++) {
			e->d[k] = v.ns[k] - e->ns[k];
			e->sum[k] += e->d[k];
			e->ns[k] = v.ns[k];
			e->dops[k] = v.ops[k] - e->ops[k];
			e->sumops[k] += e->dops[k];
			e->ops[k] = v.ops[k];
		}
	}
}

static int cg_cmp_d(const void *a, const void *b)
{
	const struct cg_ent *x = a, *y = b;
	uint64_t sx = x->d[0] + x->d[1], sy = y->d[0] + y->d[1];

	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

static int cg_cmp_sum(const void *a, const void *b)
{
	const struct cg_ent *x = a, *y = b;
	uint64_t sx = x->sum[0] + x->sum[1], sy = y->sum[0] + y->sum[1];

	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

/* ---- snapshots ---- */

static int read_proc_stat(struct run *r, uint64_t *si)
{
	unsigned long long v[7];
	char line[512];
	FILE *f;
	int cpu;

	f = fopen("/proc/stat", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6]) != 8)
			continue;
		if (cpu >= 0 && cpu < r->nr_cpus)
			si[cpu] = v[6];
	}
	fclose(f);
	return 0;
}

static void read_bpf_stats(struct run *r, uint64_t *ns, uint64_t *cnt)
{
	struct bpf_program *p;
	struct bpf_prog_info info;
	__u32 len;

	*ns = *cnt = 0;
	bpf_object__for_each_program(p, r->skel->obj) {
		if (bpf_program__fd(p) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		*ns += info.run_time_ns;
		*cnt += info.run_cnt;
	}
}

/*
 * Counters only move when an operation or softirq ends; what is running
 * now is counted in this interval (pend) and taken off the next one.
 */
static void take_snap(struct run *r, struct snap *s)
{
	struct netcost_bpf__bss *bss = r->skel->bss;
	uint64_t w, start, si, w2, start2, si2;
	struct rusage ru;
	int cpu, tries;

	s->mono = bn_now_ns();
	memset(s->pend, 0, r->nr_cpus * NPEND * sizeof(*s->pend));
	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		const struct nc_state *st = &bss->state[cpu];

		/* counters and state of one moment: retry if an event ended meanwhile */
		w2 = __atomic_load_n(&st->cur, __ATOMIC_ACQUIRE);
		si2 = __atomic_load_n(&st->si_vec, __ATOMIC_ACQUIRE);
		start2 = __atomic_load_n(&st->si_start, __ATOMIC_ACQUIRE);
		for (tries = 0;; tries++) {
			w = w2;
			si = si2;
			start = start2;
			memcpy(&s->cpu[cpu], &bss->cpus[cpu], sizeof(s->cpu[cpu]));
			w2 = __atomic_load_n(&st->cur, __ATOMIC_ACQUIRE);
			si2 = __atomic_load_n(&st->si_vec, __ATOMIC_ACQUIRE);
			start2 = __atomic_load_n(&st->si_start, __ATOMIC_ACQUIRE);
			/* si_vec without si_start: nc_si_exit is adding */
			if (w == w2 && si == si2 && start == start2 && !(si && !start))
				break;
			/*
			 * A program preempted in the middle of its update (a vCPU
			 * the hypervisor took away) finishes within a few ms: let
			 * it, or the softirq's time would land in NET_RX of the
			 * next interval but in SOFTIRQ% of this one.
			 */
			if (tries >= SNAP_SPINS) {
				if (bn_now_ns() - s->mono > SNAP_WAIT_NS)
					break;
				sched_yield();
			}
		}
		if ((w >> 2) && (w >> 2) < s->mono)
			s->pend[cpu * NPEND + ((w & 3) == NC_OP_SEND ? NC_SEND : NC_RECV)] =
				s->mono - (w >> 2);
		if (!si || !start || start >= s->mono)
			continue;
		s->pend[cpu * NPEND + NC_NR_KINDS] = s->mono - start;
		if (si == 3 || si == 4)		/* NET_TX, NET_RX (vector + 1) */
			s->pend[cpu * NPEND + (si == 4 ? NC_RX : NC_TX)] = s->mono - start;
	}
	read_proc_stat(r, s->stat_si);
	getrusage(RUSAGE_SELF, &ru);
	s->self_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	if (r->stats_fd >= 0)
		read_bpf_stats(r, &s->bpf_ns, &s->bpf_cnt);
}

static int snap_alloc(struct run *r, struct snap *s)
{
	s->cpu = calloc(r->nr_cpus, sizeof(*s->cpu));
	s->stat_si = calloc(r->nr_cpus, sizeof(*s->stat_si));
	s->pend = calloc(r->nr_cpus * NPEND, sizeof(*s->pend));
	return s->cpu && s->stat_si && s->pend ? 0 : -ENOMEM;
}

static void snap_free(struct snap *s)
{
	free(s->cpu);
	free(s->stat_si);
	free(s->pend);
}

static void snap_copy(struct run *r, struct snap *dst, const struct snap *src)
{
	memcpy(dst->cpu, src->cpu, r->nr_cpus * sizeof(*dst->cpu));
	memcpy(dst->stat_si, src->stat_si, r->nr_cpus * sizeof(*dst->stat_si));
	memcpy(dst->pend, src->pend, r->nr_cpus * NPEND * sizeof(*dst->pend));
	dst->mono = src->mono;
	dst->self_ns = src->self_ns;
	dst->bpf_ns = src->bpf_ns;
	dst->bpf_cnt = src->bpf_cnt;
}

/* ---- report ---- */

struct row {
	uint64_t ns[NC_NR_KINDS];
	uint64_t total_ns, si_ns, stat_si_ns, ops[2], untimed, errors, samples, lost;
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void cpu_row(struct run *r, const struct snap *a, const struct snap *b, int cpu,
		    struct row *row)
{
	const struct nc_cpu *x = &a->cpu[cpu], *y = &b->cpu[cpu];
	int k;

	memset(row, 0, sizeof(*row));
	for (k = 0; k < NC_NR_KINDS; k++) {
		row->ns[k] = sub0(y->ns[k] + b->pend[cpu * NPEND + k],
				  x->ns[k] + a->pend[cpu * NPEND + k]);
		row->total_ns += row->ns[k];
	}
	row->si_ns = sub0(y->softirq_ns + b->pend[cpu * NPEND + NC_NR_KINDS],
			  x->softirq_ns + a->pend[cpu * NPEND + NC_NR_KINDS]);
	row->stat_si_ns = sub0(b->stat_si[cpu], a->stat_si[cpu]) * (1000000000ULL / r->clk_tck);
	row->ops[0] = y->ops[0] - x->ops[0];
	row->ops[1] = y->ops[1] - x->ops[1];
	row->untimed = y->untimed_ops - x->untimed_ops;
	row->errors = (y->errors - x->errors) + (y->cg_drops - x->cg_drops);
	row->samples = y->samples - x->samples;
	row->lost = y->lost - x->lost;
}

static void row_add(struct row *sum, const struct row *row)
{
	int k;

	for (k = 0; k < NC_NR_KINDS; k++)
		sum->ns[k] += row->ns[k];
	sum->total_ns += row->total_ns;
	sum->si_ns += row->si_ns;
	sum->stat_si_ns += row->stat_si_ns;
	sum->ops[0] += row->ops[0];
	sum->ops[1] += row->ops[1];
	sum->untimed += row->untimed;
	sum->errors += row->errors;
	sum->samples += row->samples;
	sum->lost += row->lost;
}

static double pct(uint64_t part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0;
}

static void time_str(char *buf, size_t len, bool average)
{
	time_t t = time(NULL);
	struct tm tm;

	if (average) {
		snprintf(buf, len, "Average");
		return;
	}
	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

static void print_cpu_header(void)
{
	printf("%-8s %4s %8s %8s %8s %8s %8s %12s %12s %12s %12s %9s %13s %6s\n", "TIME", "CPU",
	       "NET_RX%", "NET_TX%", "SEND%", "RECV%", "TOTAL%", "NET_RX_NS", "NET_TX_NS",
	       "SEND_NS", "RECV_NS", "SOFTIRQ%", "STAT_SOFTIRQ%", "SELF%");
}

/* @ncpu CPUs over @el ns: % of one CPU for a CPU row, machine share for "all". */
static void print_row(const char *tm, double now_s, bool average, int cpu, const struct row *row,
		      uint64_t el, int ncpu, const struct snap *a, const struct snap *b)
{
	double whole = (double)el * ncpu;
	bool all = cpu < 0;
	double self = all ? pct(sub0(b->self_ns, a->self_ns), el) : 0;
	double bpf = all && b->bpf_cnt ? pct(sub0(b->bpf_ns, a->bpf_ns), whole) : NAN;
	struct bn_json j;
	char cbuf[16];
	int k;

	if (!env.json) {
		snprintf(cbuf, sizeof(cbuf), all ? "all" : "%d", cpu);
		printf("%-8s %4s %8.2f %8.2f %8.2f %8.2f %8.2f %12" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %12" PRIu64 " %9.2f %13.2f ", tm, cbuf,
		       pct(row->ns[NC_RX], whole), pct(row->ns[NC_TX], whole),
		       pct(row->ns[NC_SEND], whole), pct(row->ns[NC_RECV], whole),
		       pct(row->total_ns, whole), row->ns[NC_RX], row->ns[NC_TX],
		       row->ns[NC_SEND], row->ns[NC_RECV], pct(row->si_ns, whole),
		       pct(row->stat_si_ns, whole));
		if (all)
			printf("%6.2f\n", self);
		else
			printf("%6s\n", "-");
		return;
	}
	bn_json_begin(&j, stdout);
	bn_json_str(&j, "type", "cpu");
	bn_json_double(&j, "time", now_s, 3);
	bn_json_bool(&j, "average", average);
	if (all)
		bn_json_str(&j, "cpu", "all");
	else
		bn_json_u64(&j, "cpu", cpu);
	bn_json_u64(&j, "interval_ns", el);
	for (k = 0; k < NC_NR_KINDS; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_pct", kind_names[k]);
		bn_json_double(&j, key, pct(row->ns[k], whole), 3);
	}
	bn_json_double(&j, "total_pct", pct(row->total_ns, whole), 3);
	for (k = 0; k < NC_NR_KINDS; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_ns", kind_names[k]);
		bn_json_u64(&j, key, row->ns[k]);
	}
	bn_json_u64(&j, "total_ns", row->total_ns);
	bn_json_double(&j, "cpus", el ? (double)row->total_ns / el : 0, 4);
	bn_json_double(&j, "softirq_pct", pct(row->si_ns, whole), 3);
	bn_json_u64(&j, "softirq_ns", row->si_ns);
	bn_json_double(&j, "procstat_softirq_pct", pct(row->stat_si_ns, whole), 3);
	bn_json_u64(&j, "procstat_softirq_ns", row->stat_si_ns);
	bn_json_u64(&j, "send_ops", row->ops[0]);
	bn_json_u64(&j, "recv_ops", row->ops[1]);
	bn_json_u64(&j, "untimed_ops", row->untimed);
	if (all) {
		bn_json_double(&j, "self_pct", self, 3);
		bn_json_double(&j, "bpf_pct", bpf, 4);
		bn_json_double(&j, "bpf_ns_per_run", b->bpf_cnt > a->bpf_cnt ?
			       (double)sub0(b->bpf_ns, a->bpf_ns) / (b->bpf_cnt - a->bpf_cnt) : NAN,
			       1);
		bn_json_u64(&j, "samples", row->samples);
		bn_json_u64(&j, "samples_lost", row->lost);
		bn_json_u64(&j, "errors", row->errors);
	}
	bn_json_end(&j);
}

static void print_breakdown(const char *tm, double now_s, bool average,
			    uint64_t cat[NC_NR_KINDS][NC_CAT_NR], uint64_t lost)
{
	uint64_t per_kind[NC_NR_KINDS] = {}, total = 0, n;
	struct bn_json j;
	int k, c;

	for (k = 0; k < NC_NR_KINDS; k++)
		for (c = 0; c < NC_CAT_NR; c++)
			per_kind[k] += cat[k][c];
	for (k = 0; k < NC_NR_KINDS; k++)
		total += per_kind[k];
	if (!env.json)
		printf("%-8s %-12s %8s %8s %8s %8s %8s %9s\n", "TIME", "CATEGORY", "NET_RX%",
		       "NET_TX%", "SEND%", "RECV%", "ALL%", "SAMPLES");
	for (c = 0; c < NC_CAT_NR; c++) {
		n = 0;
		for (k = 0; k < NC_NR_KINDS; k++)
			n += cat[k][c];
		if (!env.json) {
			printf("%-8s %-12s %8.2f %8.2f %8.2f %8.2f %8.2f %9" PRIu64 "\n", tm,
			       nc_cat_name(c), pct(cat[NC_RX][c], per_kind[NC_RX]),
			       pct(cat[NC_TX][c], per_kind[NC_TX]),
			       pct(cat[NC_SEND][c], per_kind[NC_SEND]),
			       pct(cat[NC_RECV][c], per_kind[NC_RECV]), pct(n, total), n);
			continue;
		}
		bn_json_begin(&j, stdout);
		bn_json_str(&j, "type", "breakdown");
		bn_json_double(&j, "time", now_s, 3);
		bn_json_bool(&j, "average", average);
		bn_json_str(&j, "category", nc_cat_name(c));
		bn_json_double(&j, "pct", pct(n, total), 3);
		for (k = 0; k < NC_NR_KINDS; k++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_pct", kind_names[k]);
			bn_json_double(&j, key, pct(cat[k][c], per_kind[k]), 3);
		}
		bn_json_u64(&j, "samples", n);
		bn_json_end(&j);
	}
	if (!env.json)
		printf("%-8s %-12s %8s %8s %8s %8s %8s %9" PRIu64 "\n", tm, "(lost)", "-", "-",
		       "-", "-", "-", lost);
}

static void print_cgroups(struct run *r, const char *tm, double now_s, bool average,
			  uint64_t el, int ncpu)
{
	struct bn_json j;
	int i, k;

	qsort(r->cg, r->ncg, sizeof(*r->cg), average ? cg_cmp_sum : cg_cmp_d);
	if (!env.json)
		printf("%-8s %8s %8s %12s %12s %s\n", "TIME", "SEND%", "RECV%", "SEND_NS",
		       "RECV_NS", "CGROUP");
	for (i = 0; i < r->ncg && i < env.cgroups; i++) {
		const uint64_t *d = average ? r->cg[i].sum : r->cg[i].d;
		const uint64_t *ops = average ? r->cg[i].sumops : r->cg[i].dops;

		if (!d[0] && !d[1] && !ops[0] && !ops[1])
			break;
		if (!env.json) {
			printf("%-8s %8.2f %8.2f %12" PRIu64 " %12" PRIu64 " %s\n", tm,
			       pct(d[0], (double)el * ncpu), pct(d[1], (double)el * ncpu), d[0],
			       d[1], r->cg[i].path);
			continue;
		}
		bn_json_begin(&j, stdout);
		bn_json_str(&j, "type", "cgroup");
		bn_json_double(&j, "time", now_s, 3);
		bn_json_bool(&j, "average", average);
		bn_json_str(&j, "cgroup", r->cg[i].path);
		bn_json_u64(&j, "cgroup_id", r->cg[i].id);
		for (k = 0; k < 2; k++) {
			bn_json_double(&j, k ? "sock_recv_pct" : "sock_send_pct",
				       pct(d[k], (double)el * ncpu), 3);
			bn_json_u64(&j, k ? "sock_recv_ns" : "sock_send_ns", d[k]);
			bn_json_u64(&j, k ? "recv_ops" : "send_ops", ops[k]);
		}
		bn_json_end(&j);
	}
}

/* Prometheus text exposition of the totals since start and the last interval. */
static void build_metrics(struct run *r, const struct row *rows, const struct row *all,
			  uint64_t el)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int cpu, k, c;

	if (!f)
		return;
	fprintf(f, "# HELP netcost_cpu_seconds_total CPU time in networking since netcost "
		"started.\n# TYPE netcost_cpu_seconds_total counter\n");
	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&env.cpus, cpu))
			continue;
		for (k = 0; k < NC_NR_KINDS; k++)
			fprintf(f, "netcost_cpu_seconds_total{cpu=\"%d\",kind=\"%s\"} %.9f\n", cpu,
				kind_names[k],
				sub0(r->cur.cpu[cpu].ns[k], r->first.cpu[cpu].ns[k]) / 1e9);
	}
	fprintf(f, "# HELP netcost_cpu_ratio Share of a CPU in networking over the last "
		"interval.\n# TYPE netcost_cpu_ratio gauge\n");
	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&env.cpus, cpu))
			continue;
		for (k = 0; k < NC_NR_KINDS; k++)
			fprintf(f, "netcost_cpu_ratio{cpu=\"%d\",kind=\"%s\"} %.6f\n", cpu,
				kind_names[k], el ? (double)rows[cpu].ns[k] / el : 0);
		fprintf(f, "netcost_cpu_ratio{cpu=\"%d\",kind=\"total\"} %.6f\n", cpu,
			el ? (double)rows[cpu].total_ns / el : 0);
	}
	fprintf(f, "# HELP netcost_softirq_ratio Share of a CPU in all softirqs, measured and "
		"from /proc/stat.\n# TYPE netcost_softirq_ratio gauge\n");
	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&env.cpus, cpu))
			continue;
		fprintf(f, "netcost_softirq_ratio{cpu=\"%d\",source=\"bpf\"} %.6f\n", cpu,
			el ? (double)rows[cpu].si_ns / el : 0);
		fprintf(f, "netcost_softirq_ratio{cpu=\"%d\",source=\"procstat\"} %.6f\n", cpu,
			el ? (double)rows[cpu].stat_si_ns / el : 0);
	}
	fprintf(f, "# HELP netcost_self_cpu_seconds_total netcost's own user-space CPU time.\n"
		"# TYPE netcost_self_cpu_seconds_total counter\n"
		"netcost_self_cpu_seconds_total %.6f\n",
		sub0(r->cur.self_ns, r->first.self_ns) / 1e9);
	fprintf(f, "# HELP netcost_samples_lost_total Stack samples dropped.\n"
		"# TYPE netcost_samples_lost_total counter\nnetcost_samples_lost_total %" PRIu64
		"\n", all->lost);
	if (env.breakdown) {
		fprintf(f, "# HELP netcost_breakdown_samples_total Stack samples by context and "
			"category.\n# TYPE netcost_breakdown_samples_total counter\n");
		for (k = 0; k < NC_NR_KINDS; k++)
			for (c = 0; c < NC_CAT_NR; c++)
				fprintf(f, "netcost_breakdown_samples_total{kind=\"%s\","
					"category=\"%s\"} %" PRIu64 "\n", kind_names[k],
					nc_cat_name(c), r->cat_sum[k][c]);
	}
	if (env.cgroups) {
		fprintf(f, "# HELP netcost_cgroup_cpu_seconds_total Socket operation time by "
			"cgroup.\n# TYPE netcost_cgroup_cpu_seconds_total counter\n");
		for (c = 0; c < r->ncg; c++)
			for (k = 0; k < 2; k++) {
				fprintf(f, "netcost_cgroup_cpu_seconds_total{cgroup=");
				bn_json_escape(f, r->cg[c].path);
				fprintf(f, ",kind=\"%s\"} %.9f\n", k ? "sock_recv" : "sock_send",
					r->cg[c].sum[k] / 1e9);
			}
	}
	fclose(f);
	free(r->metrics_text);
	r->metrics_text = buf;
}

/* One interval (or, with @average, the whole run) from snapshot @a to @b. */
static void report(struct run *r, const struct snap *a, const struct snap *b, bool average)
{
	uint64_t el = sub0(b->mono, a->mono);
	struct row *rows, all = {};
	char tm[16];
	double now_s = bn_realtime_ns() / 1e9;
	int cpu, n = 0, k, c;

	rows = calloc(r->nr_cpus, sizeof(*rows));
	if (!rows)
		return;
	time_str(tm, sizeof(tm), average);
	if (!env.json)
		print_cpu_header();
	for (cpu = 0; cpu < r->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&env.cpus, cpu))
			continue;
		cpu_row(r, a, b, cpu, &rows[cpu]);
		row_add(&all, &rows[cpu]);
		n++;
		print_row(tm, now_s, average, cpu, &rows[cpu], el, 1, a, b);
	}
	print_row(tm, now_s, average, -1, &all, el, n, a, b);
	if (env.breakdown) {
		if (!env.json)
			printf("\n");
		if (average) {
			print_breakdown(tm, now_s, true, r->cat_sum, all.lost);
		} else {
			print_breakdown(tm, now_s, false, r->cat, all.lost);
			for (k = 0; k < NC_NR_KINDS; k++)
				for (c = 0; c < NC_CAT_NR; c++) {
					r->cat_sum[k][c] += r->cat[k][c];
					r->cat[k][c] = 0;
				}
		}
	}
	if (env.cgroups) {
		if (!average)
			read_cgroups(r);
		if (!env.json)
			printf("\n");
		print_cgroups(r, tm, now_s, average, el, n);
	}
	if (!env.json)
		printf("\n");
	fflush(stdout);
	if (r->listen_fd >= 0 && !average)
		build_metrics(r, rows, &all, el);
	free(rows);
}

/* ---- metrics server ---- */

static int metrics_listen(const char *spec)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	char host[128] = "";
	const char *colon = strrchr(spec, ':');
	struct sockaddr *sa = (struct sockaddr *)&a6;
	socklen_t salen = sizeof(a6);
	uint64_t port;
	int fd, one = 1, family = AF_INET6;

	if (colon) {
		size_t hl = colon - spec;

		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		spec = colon + 1;
	}
	if (bn_parse_u64(spec, 1, 65535, &port))
		return -EINVAL;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (host[0] && inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		family = AF_INET;
		a4.sin_port = htons(port);
		sa = (struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (host[0] && inet_pton(AF_INET6, host, &a6.sin6_addr) != 1) {
		return -EINVAL;
	}
	a6.sin6_port = htons(port);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, salen) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void metrics_serve(struct run *r)
{
	static const char empty[] = "# netcost: no interval finished yet\n";
	const char *body = r->metrics_text ? r->metrics_text : empty;
	struct timeval snd_to = { .tv_sec = 1 };
	char req[2048], hdr[256];
	struct pollfd pfd;
	int fd, n;

	for (;;) {
		fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* a client that does not read cannot stall the measurement */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd_to, sizeof(snd_to));
		/* read the request (any path is the metrics page), bounded wait */
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) > 0) {
			n = read(fd, req, sizeof(req));
			(void)n;
		}
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			     "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			     strlen(body));
		if (write(fd, hdr, n) == n && write(fd, body, strlen(body)) < 0)
			bn_dbg("metrics client went away");
		close(fd);
	}
}

/* ---- main loop ---- */

static void loop(struct run *r)
{
	uint64_t now = bn_now_ns(), until;
	uint64_t next_report = now + env.interval_ns, next_drain = now + DRAIN_NS;
	uint64_t end = env.duration_ns ? now + env.duration_ns : UINT64_MAX;
	struct pollfd pfd[2];
	int npfd, timeout;

	while (!bn_stop) {
		now = bn_now_ns();
		if (now >= end)
			break;
		until = next_report < end ? next_report : end;
		if (env.breakdown && next_drain < until)
			until = next_drain;
		timeout = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		npfd = 0;
		if (r->listen_fd >= 0) {
			pfd[npfd].fd = r->listen_fd;
			pfd[npfd++].events = POLLIN;
		}
		if (r->rb) {
			pfd[npfd].fd = ring_buffer__epoll_fd(r->rb);
			pfd[npfd++].events = POLLIN;
		}
		poll(pfd, npfd, timeout);
		if (bn_stop)
			break;
		if (r->listen_fd >= 0)
			metrics_serve(r);
		now = bn_now_ns();
		/* the ring wakes us only when it fills up, see nc_sample() */
		if (r->rb && (pfd[npfd - 1].revents || now >= next_drain))
			ring_buffer__consume(r->rb);
		if (env.breakdown && now >= next_drain) {
			if (r->samples)
				drain_array(r);
			next_drain += DRAIN_NS;
			if (next_drain < now)
				next_drain = now + DRAIN_NS;
		}
		if (now >= next_report && now < end) {
			if (env.breakdown)
				refresh_bpf_syms(r);
			take_snap(r, &r->cur);
			report(r, &r->prev, &r->cur, false);
			snap_copy(r, &r->prev, &r->cur);
			next_report += env.interval_ns;
			if (next_report < now)
				next_report = now + env.interval_ns;
		}
	}
	/* the last (partial) interval, then the whole run */
	drain_all(r);
	take_snap(r, &r->cur);
	if (r->cur.mono - r->prev.mono >= 1000000)
		report(r, &r->prev, &r->cur, false);
	report(r, &r->first, &r->cur, true);
}

static void run_free(struct run *r)
{
	int i;

	for (i = r->nlinks - 1; i >= 0; i--)
		bpf_link__destroy(r->links[i]);
	free(r->links);
	if (r->pfds) {
		for (i = 0; i < r->nr_cpus; i++)
			if (r->pfds[i] >= 0)
				close(r->pfds[i]);
		free(r->pfds);
	}
	ring_buffer__free(r->rb);
	if (r->samples)
		munmap(r->samples, r->samples_len);
	netcost_bpf__destroy(r->skel);
	nc_ksyms_free(&r->ksyms);
	free(r->ipc);
	nc_folded_free(&r->folded);
	if (r->folded_f)
		fclose(r->folded_f);
	for (i = 0; i < r->ncg; i++)
		free(r->cg[i].path);
	free(r->cg);
	snap_free(&r->first);
	snap_free(&r->prev);
	snap_free(&r->cur);
	if (r->stats_fd >= 0)
		close(r->stats_fd);
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	free(r->metrics_text);
}

/* The file was opened at start, so that a bad path fails before the run. */
static int write_folded(struct run *r)
{
	FILE *f = r->folded_f;
	int err;

	r->folded_f = NULL;
	if (r->folded_drops)
		bn_warn("%" PRIu64 " stack samples not in %s: out of memory", r->folded_drops,
			env.folded);
	err = nc_folded_write(&r->folded, f);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		bn_err("cannot write %s: %s", env.folded, strerror(-err));
	return err;
}

/*
 * A read of /proc/kallsyms can stall in the kernel while other BPF programs
 * load and unload: bounded by KSYMS_STALL_MS without progress, tried again
 * from the start with a fresh reader.
 */
static int load_ksyms(struct run *r)
{
	int err, i;

	for (i = 0; i < KSYMS_TRIES; i++) {
		err = nc_ksyms_load(&r->ksyms, "/proc/kallsyms", KSYMS_STALL_MS);
		if (err != -ETIMEDOUT || bn_stop)
			break;
		bn_warn("reading /proc/kallsyms made no progress for %d s, %s",
			KSYMS_STALL_MS / 1000, i + 1 < KSYMS_TRIES ? "trying again" : "giving up");
	}
	if (err == -EPERM)
		bn_err("cannot read kernel symbols from /proc/kallsyms: addresses hidden "
		       "(kptr_restrict; missing capability CAP_SYSLOG)");
	else if (err == -ETIMEDOUT)
		bn_err("cannot read kernel symbols from /proc/kallsyms: no progress for %d s, "
		       "%d times", KSYMS_STALL_MS / 1000, KSYMS_TRIES);
	else if (err)
		bn_err("cannot read kernel symbols from /proc/kallsyms: %s", strerror(-err));
	return err;
}

static int setup(struct run *r)
{
	struct netcost_bpf *skel;
	size_t n;
	int err, cpu;

	r->nr_cpus = bn_nr_cpus();
	if (r->nr_cpus <= 0 || r->nr_cpus > NC_MAX_CPUS) {
		bn_err("cannot use %d CPUs: netcost supports up to %d", r->nr_cpus, NC_MAX_CPUS);
		return -EINVAL;
	}
	if (!env.cpus_given)
		for (cpu = 0; cpu < r->nr_cpus; cpu++)
			bn_cpuset_add(&env.cpus, cpu);
	r->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;

	err = bn_probe_hook(BN_HOOK_TP_BTF, "softirq_entry");
	if (err) {
		bn_err("cannot attach tp_btf/softirq_entry: %s (needs kernel BTF, 5.5+)",
		       strerror(-err));
		return err;
	}
	r->backend = choose_backend();
	if (r->backend == BK_AUTO)
		return -ENOTSUP;

	if (env.folded) {
		r->folded_f = fopen(env.folded, "we");
		if (!r->folded_f) {
			err = -errno;
			bn_err("cannot write %s: %s", env.folded, strerror(-err));
			return err;
		}
	}
	if (env.breakdown) {
		r->ipc = calloc(IP_CACHE, sizeof(*r->ipc));
		if (!r->ipc)
			return -ENOMEM;
		err = load_ksyms(r);
		if (err)
			return err;
	}

	skel = netcost_bpf__open();
	if (!skel) {
		err = -errno;
		bn_err("cannot open BPF object: %s", strerror(-err));
		return err;
	}
	r->skel = skel;
	skel->rodata->cgroups_on = env.cgroups > 0;
	skel->rodata->nr_cpus = r->nr_cpus;
	if (env.breakdown) {
		skel->rodata->sampler = env.sampler;
		skel->rodata->slots_per_cpu = env.slots;
		if (env.sampler == NC_SAMPLER_ARRAY)
			bpf_map__set_max_entries(skel->maps.samples,
						 2 * r->nr_cpus * env.slots);
		else if (env.sampler == NC_SAMPLER_RINGBUF)
			bpf_map__set_max_entries(skel->maps.rb, RB_BYTES);
		/* woken early when a quarter full: no sample lost at 100 kHz */
		skel->rodata->rb_wake_bytes = RB_BYTES / 4;
	}
	err = select_programs(r);
	if (err) {
		bn_err("cannot set up the %s programs: %s", backend_names[r->backend],
		       strerror(-err));
		return err;
	}
	err = netcost_bpf__load(skel);
	if (err) {
		bn_err("cannot load BPF programs: %s", strerror(-err));
		return err;
	}
	if (env.bpf_stats) {
		r->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (r->stats_fd < 0) {
			err = r->stats_fd;
			bn_err("cannot enable BPF run-time stats: %s", strerror(-err));
			return err;
		}
	}
	err = snap_alloc(r, &r->first) ?: snap_alloc(r, &r->prev) ?: snap_alloc(r, &r->cur);
	if (err)
		return err;
	r->cg = calloc(MAX_CG, sizeof(*r->cg));
	if (!r->cg)
		return -ENOMEM;

	if (env.breakdown && env.sampler == NC_SAMPLER_ARRAY) {
		n = 2 * (size_t)r->nr_cpus * env.slots * sizeof(struct nc_sample);
		r->samples = mmap(NULL, n, PROT_READ, MAP_SHARED,
				  bpf_map__fd(skel->maps.samples), 0);
		if (r->samples == MAP_FAILED) {
			r->samples = NULL;
			err = -errno;
			bn_err("cannot mmap the sample array: %s", strerror(-err));
			return err;
		}
		r->samples_len = n;
	} else if (env.breakdown && env.sampler == NC_SAMPLER_RINGBUF) {
		r->rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), rb_sample, r, NULL);
		if (!r->rb) {
			err = -errno;
			bn_err("cannot create the ring buffer reader: %s", strerror(-err));
			return err;
		}
	}
	err = attach_programs(r);
	if (err)
		return err;
	if (env.breakdown) {
		r->pfds = malloc(r->nr_cpus * sizeof(*r->pfds));
		if (!r->pfds)
			return -ENOMEM;
		for (cpu = 0; cpu < r->nr_cpus; cpu++)
			r->pfds[cpu] = -1;
		err = open_perf(r);
		if (err)
			return err;
	}
	if (env.breakdown)
		refresh_bpf_syms(r);
	/* tests and scripts wait for this line: everything is attached */
	fprintf(stderr, "%s: backend %s, %d links attached\n", bn_prog(), backend_names[r->backend],
		r->nlinks);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct run r = { .stats_fd = -1, .listen_fd = -1 };
	int err, ret = BN_EXIT_ERR;

	bn_log_init("netcost");
	argp_err_exit_status = BN_EXIT_USAGE;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return BN_EXIT_USAGE;
	if (env.metrics) {
		r.listen_fd = metrics_listen(env.metrics);
		if (r.listen_fd == -EINVAL) {
			bn_err("invalid --metrics address: %s ([ADDR:]PORT)", env.metrics);
			return BN_EXIT_USAGE;
		}
		if (r.listen_fd < 0) {
			bn_err("cannot listen on %s: %s", env.metrics, strerror(-r.listen_fd));
			return BN_EXIT_ERR;
		}
	}
	bn_stdout_setup();
	bn_libbpf_setup();
	if (bn_check_caps())
		goto cleanup;
	if (bn_signals_setup())
		goto cleanup;
	if (setup(&r))
		goto cleanup;

	take_snap(&r, &r.first);
	snap_copy(&r, &r.prev, &r.first);
	loop(&r);
	ret = BN_EXIT_OK;
	if (r.unsymbolized)
		bn_info("%" PRIu64 " sampled stack frames matched no kernel symbol read at start "
			"(code loaded since?)", r.unsymbolized);
	if (env.folded && write_folded(&r))
		ret = BN_EXIT_ERR;
cleanup:
	run_free(&r);
	return ret;
}
