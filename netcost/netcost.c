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
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

#define DRAIN_NS	100000000ULL	/* sample buffers are read every 100 ms */
#define RB_BYTES	(8 << 20)	/* --sampler ringbuf */

static struct nc_opts opts_env = {
	.interval_ns = 1000000000ULL,
	.backend = NC_BK_AUTO,
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
	struct nc_opts *o = state->input;
	uint64_t v;
	int err;

	switch (key) {
	case 'i':
		if (bn_parse_duration(arg, 1000000000ULL, &o->interval_ns) ||
		    o->interval_ns < 10000000ULL || o->interval_ns > 3600000000000ULL)
			argp_error(state, "invalid interval (0.01-3600 s): %s", arg);
		break;
	case 'd':
		if (bn_parse_duration(arg, 1000000000ULL, &o->duration_ns))
			argp_error(state, "invalid duration: %s", arg);
		break;
	case 'j':
		o->json = true;
		break;
	case 'c':
		err = bn_parse_cpulist(arg, bn_nr_cpus(), &o->cpus);
		if (err || !bn_cpuset_count(&o->cpus))
			argp_error(state, "invalid cpu list (0-%d): %s", bn_nr_cpus() - 1, arg);
		o->cpus_given = true;
		break;
	case OPT_BACKEND:
		if (!strcmp(arg, "auto"))
			o->backend = NC_BK_AUTO;
		else if (!strcmp(arg, "fentry"))
			o->backend = NC_BK_FENTRY;
		else if (!strcmp(arg, "kprobe"))
			o->backend = NC_BK_KPROBE;
		else if (!strcmp(arg, "tracepoint") || !strcmp(arg, "tp"))
			o->backend = NC_BK_TP;
		else
			argp_error(state, "unknown backend: %s (auto, fentry, kprobe, tracepoint)",
				   arg);
		break;
	case OPT_BREAKDOWN:
		o->breakdown = true;
		break;
	case OPT_FREQ:
		if (bn_parse_u64(arg, 1, 100000, &o->freq))
			argp_error(state, "invalid frequency (1-100000 Hz): %s", arg);
		break;
	case OPT_SAMPLER:
		if (!strcmp(arg, "array"))
			o->sampler = NC_SAMPLER_ARRAY;
		else if (!strcmp(arg, "ringbuf"))
			o->sampler = NC_SAMPLER_RINGBUF;
		else if (!strcmp(arg, "none"))	/* benchmark control: the timer alone */
			o->sampler = NC_SAMPLER_NONE;
		else
			argp_error(state, "unknown sampler: %s (array, ringbuf, none)", arg);
		break;
	case OPT_FOLDED:
		if (!*arg)
			argp_error(state, "empty --folded file name");
		o->folded = arg;
		o->breakdown = true;
		break;
	case OPT_CGROUPS:
		o->cgroups = 5;
		if (arg) {
			if (bn_parse_u64(arg, 1, 1000, &v))
				argp_error(state, "invalid cgroup count (1-1000): %s", arg);
			o->cgroups = v;
		}
		break;
	case OPT_METRICS:
		o->metrics = arg;
		break;
	case OPT_BPF_STATS:
		o->bpf_stats = true;
		break;
	case OPT_SLOTS:
		if (bn_parse_u64(arg, 16, 1 << 20, &o->slots))
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

/* ---- run state ---- */

struct run {
	const struct nc_opts *o;
	struct netcost_bpf *skel;
	int nr_cpus;
	struct nc_hooks hooks;
	struct nc_samples samples;
	struct nc_cgroups cg;
	struct nc_report rep;
	struct nc_snap first, prev, cur;
	int stats_fd;
	int listen_fd;
};

/* ---- main loop ---- */

static void interval(struct run *r)
{
	if (r->o->breakdown)
		nc_samples_refresh_syms(&r->samples);
	nc_snap_take(&r->cur, r->skel, r->stats_fd >= 0);
	nc_report(&r->rep, &r->prev, &r->cur, false);
	nc_snap_copy(&r->prev, &r->cur);
}

static void loop(struct run *r)
{
	const struct nc_opts *o = r->o;
	uint64_t now = bn_now_ns(), until;
	uint64_t next_report = now + o->interval_ns, next_drain = now + DRAIN_NS;
	uint64_t end = o->duration_ns ? now + o->duration_ns : UINT64_MAX;
	struct ring_buffer *rb = r->samples.rb;
	struct pollfd pfd[2];
	int npfd, timeout;

	while (!bn_stop) {
		now = bn_now_ns();
		if (now >= end)
			break;
		until = next_report < end ? next_report : end;
		if (o->breakdown && next_drain < until)
			until = next_drain;
		timeout = until > now ? (int)((until - now + 999999) / 1000000) : 0;
		npfd = 0;
		if (r->listen_fd >= 0) {
			pfd[npfd].fd = r->listen_fd;
			pfd[npfd++].events = POLLIN;
		}
		if (rb) {
			pfd[npfd].fd = ring_buffer__epoll_fd(rb);
			pfd[npfd++].events = POLLIN;
		}
		poll(pfd, npfd, timeout);
		if (bn_stop)
			break;
		if (r->listen_fd >= 0)
			nc_metrics_serve(r->listen_fd, r->rep.metrics_text);
		now = bn_now_ns();
		if (o->breakdown && now >= next_drain) {
			nc_samples_drain(&r->samples);
			next_drain += DRAIN_NS;
			if (next_drain < now)
				next_drain = now + DRAIN_NS;
		} else if (rb && pfd[npfd - 1].revents) {
			/* the ring wakes us only when it fills up, see nc_sample() */
			ring_buffer__consume(rb);
		}
		if (now >= next_report && now < end) {
			interval(r);
			next_report += o->interval_ns;
			if (next_report < now)
				next_report = now + o->interval_ns;
		}
	}
	/* the last (partial) interval, then the whole run */
	nc_samples_drain_all(&r->samples);
	nc_snap_take(&r->cur, r->skel, r->stats_fd >= 0);
	if (r->cur.mono - r->prev.mono >= 1000000)
		nc_report(&r->rep, &r->prev, &r->cur, false);
	nc_report(&r->rep, &r->first, &r->cur, true);
}

static void run_free(struct run *r)
{
	nc_hooks_free(&r->hooks);
	nc_samples_free(&r->samples);
	netcost_bpf__destroy(r->skel);
	nc_cgroups_free(&r->cg);
	nc_snap_free(&r->first);
	nc_snap_free(&r->prev);
	nc_snap_free(&r->cur);
	if (r->stats_fd >= 0)
		close(r->stats_fd);
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	nc_report_free(&r->rep);
}

/* The BPF object, its read-only settings and map sizes, opened not loaded. */
static int open_skel(struct run *r)
{
	const struct nc_opts *o = r->o;
	struct netcost_bpf *skel;
	int err;

	skel = netcost_bpf__open();
	if (!skel) {
		err = -errno;
		bn_err("cannot open BPF object: %s", strerror(-err));
		return err;
	}
	r->skel = skel;
	skel->rodata->cgroups_on = o->cgroups > 0;
	skel->rodata->nr_cpus = r->nr_cpus;
	if (o->breakdown) {
		skel->rodata->sampler = o->sampler;
		skel->rodata->slots_per_cpu = o->slots;
		if (o->sampler == NC_SAMPLER_ARRAY)
			bpf_map__set_max_entries(skel->maps.samples, 2 * r->nr_cpus * o->slots);
		else if (o->sampler == NC_SAMPLER_RINGBUF)
			bpf_map__set_max_entries(skel->maps.rb, RB_BYTES);
		/* woken early when a quarter full: no sample lost at 100 kHz */
		skel->rodata->rb_wake_bytes = RB_BYTES / 4;
	}
	return 0;
}

/* Choose the hooks and load the programs. */
static int load(struct run *r)
{
	const struct nc_opts *o = r->o;
	int err;

	err = bn_probe_hook(BN_HOOK_TP_BTF, "softirq_entry");
	if (err) {
		bn_err("cannot attach tp_btf/softirq_entry: %s (needs kernel BTF, 5.5+)",
		       strerror(-err));
		return err;
	}
	r->hooks.nr_cpus = r->nr_cpus;
	r->hooks.backend = nc_hooks_choose(o->backend);
	if (r->hooks.backend == NC_BK_AUTO)
		return -ENOTSUP;
	if (o->breakdown) {
		err = nc_samples_init(&r->samples, o, r->nr_cpus);
		if (err)
			return err;
	}
	err = open_skel(r);
	if (err)
		return err;
	err = nc_hooks_select(&r->hooks, r->skel, o->breakdown);
	if (err) {
		bn_err("cannot set up the %s programs: %s", nc_backend_names[r->hooks.backend],
		       strerror(-err));
		return err;
	}
	err = netcost_bpf__load(r->skel);
	if (err)
		bn_err("cannot load BPF programs: %s", strerror(-err));
	return err;
}

static int setup(struct run *r, struct nc_opts *o)
{
	int err, cpu;

	r->nr_cpus = bn_nr_cpus();
	if (r->nr_cpus <= 0 || r->nr_cpus > NC_MAX_CPUS) {
		bn_err("cannot use %d CPUs: netcost supports up to %d", r->nr_cpus, NC_MAX_CPUS);
		return -EINVAL;
	}
	if (!o->cpus_given)
		for (cpu = 0; cpu < r->nr_cpus; cpu++)
			bn_cpuset_add(&o->cpus, cpu);
	err = load(r);
	if (err)
		return err;
	if (o->bpf_stats) {
		r->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (r->stats_fd < 0) {
			err = r->stats_fd;
			bn_err("cannot enable BPF run-time stats: %s", strerror(-err));
			return err;
		}
	}
	err = nc_snap_alloc(&r->first, r->nr_cpus) ?: nc_snap_alloc(&r->prev, r->nr_cpus) ?:
	      nc_snap_alloc(&r->cur, r->nr_cpus) ?:
	      nc_cgroups_init(&r->cg, bpf_map__fd(r->skel->maps.cgroups));
	if (err)
		return err;
	if (o->breakdown) {
		err = nc_samples_open(&r->samples, r->skel, o->sampler);
		if (err)
			return err;
	}
	err = nc_hooks_attach(&r->hooks, r->skel);
	if (!err && o->breakdown)
		err = nc_hooks_open_perf(&r->hooks, r->skel, &o->cpus, o->freq);
	if (err)
		return err;
	if (o->breakdown)
		nc_samples_refresh_syms(&r->samples);
	/* tests and scripts wait for this line: everything is attached */
	fprintf(stderr, "%s: backend %s, %d links attached\n", bn_prog(),
		nc_backend_names[r->hooks.backend], r->hooks.nlinks);
	return 0;
}

static void report_init(struct run *r)
{
	r->rep.opts = r->o;
	r->rep.nr_cpus = r->nr_cpus;
	r->rep.clk_tck = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	r->rep.cg = r->o->cgroups ? &r->cg : NULL;
	r->rep.samples = r->o->breakdown ? &r->samples : NULL;
	r->rep.first = &r->first;
	r->rep.metrics = r->listen_fd >= 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct nc_opts *o = &opts_env;
	struct run r = { .o = o, .stats_fd = -1, .listen_fd = -1 };
	int err, ret = BN_EXIT_ERR;

	bn_log_init("netcost");
	argp_err_exit_status = BN_EXIT_USAGE;
	err = argp_parse(&argp, argc, argv, 0, NULL, o);
	if (err)
		return BN_EXIT_USAGE;
	if (o->metrics) {
		r.listen_fd = nc_metrics_listen(o->metrics);
		if (r.listen_fd == -EINVAL) {
			bn_err("invalid --metrics address: %s ([ADDR:]PORT)", o->metrics);
			return BN_EXIT_USAGE;
		}
		if (r.listen_fd < 0) {
			bn_err("cannot listen on %s: %s", o->metrics, strerror(-r.listen_fd));
			return BN_EXIT_ERR;
		}
	}
	bn_stdout_setup();
	bn_libbpf_setup();
	if (bn_check_caps())
		goto cleanup;
	if (bn_signals_setup())
		goto cleanup;
	if (setup(&r, o))
		goto cleanup;

	report_init(&r);
	nc_snap_take(&r.first, r.skel, r.stats_fd >= 0);
	nc_snap_copy(&r.prev, &r.first);
	loop(&r);
	ret = BN_EXIT_OK;
	if (r.samples.unsymbolized)
		bn_info("%" PRIu64 " sampled stack frames matched no kernel symbol read at start "
			"(code loaded since?)", r.samples.unsymbolized);
	if (o->folded && nc_samples_write_folded(&r.samples))
		ret = BN_EXIT_ERR;
cleanup:
	run_free(&r);
	return ret;
}
