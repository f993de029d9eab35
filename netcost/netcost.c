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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

#define DRAIN_NS	100000000ULL	/* sample buffers are read every 100 ms */
#define RB_BYTES	(8 << 20)	/* --sampler ringbuf */

static const char doc[] =
"netcost: CPU time the kernel spends moving packets, per CPU.\n"
"\n"
"USAGE: netcost [-i DUR] [-d DUR] [-j] [-c CPULIST]\n"
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
"    netcost --metrics 9100        # Prometheus exposition on 127.0.0.1:9100\n"
"    netcost --metrics 0.0.0.0:9100   # ... on every address\n"
"\n"
"Options:";

enum {
	OPT_BACKEND = 1000, OPT_BREAKDOWN, OPT_FREQ, OPT_SAMPLER, OPT_FOLDED, OPT_CGROUPS,
	OPT_METRICS, OPT_BPF_STATS, OPT_SLOTS, OPT_MAX_CGROUPS,
};

static const struct argp_option opts[] = {
	{ "cpus", 'c', "CPULIST", 0, "Only these CPUs, e.g. 0-3,6", 0 },
	{ "backend", OPT_BACKEND, "NAME", 0,
	  "Socket operation hooks: auto (default), fentry, kprobe, tracepoint", 0 },
	{ "breakdown", OPT_BREAKDOWN, NULL, 0, "Sample stacks, report categories", 0 },
	{ "freq", OPT_FREQ, "HZ", 0, "Sampling frequency per CPU (default 99: never a multiple of the tick; "
	  "higher for short deep looks)", 0 },
	{ "sampler", OPT_SAMPLER, "KIND", 0,
	  "How samples reach user space: array (default, mmapable) or ringbuf; none takes no "
	  "stack (a benchmark control: the sampling timer alone)", 0 },
	{ "folded", OPT_FOLDED, "FILE", 0, "Write folded stacks at exit (implies --breakdown)",
	  0 },
	{ "cgroups", OPT_CGROUPS, "N", OPTION_ARG_OPTIONAL,
	  "Socket time per cgroup, top N (default 5)", 0 },
	{ "max-cgroups", OPT_MAX_CGROUPS, "N", 0,
	  "(with --cgroups) cgroups tracked at most (default 4096); beyond, socket time "
	  "is counted as errors", 0 },
	{ "metrics", OPT_METRICS, "[ADDR:]PORT", 0,
	  "Serve Prometheus metrics on PORT of 127.0.0.1, or of ADDR (0.0.0.0, [::])", 0 },
	{ "bpf-stats", OPT_BPF_STATS, NULL, 0,
	  "Enable kernel BPF run-time stats, report netcost's BPF cost", 0 },
	{ "slots", OPT_SLOTS, "N", OPTION_HIDDEN, "Samples per CPU per buffer", 0 },
	{},
};

/* Indexed by enum nc_sampler. */
static const char *const sampler_names[] = {
	[NC_SAMPLER_NONE] = "none", [NC_SAMPLER_ARRAY] = "array",
	[NC_SAMPLER_RINGBUF] = "ringbuf",
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct nc_opts *o = state->input;

	switch (key) {
	case 'c':
		if (bn_parse_cpulist(arg, bn_nr_cpus(), &o->cpus) || !bn_cpuset_count(&o->cpus))
			bn_usage("invalid --cpus '%s': want CPUs from 0 to %d, e.g. 0-3,6", arg,
				 bn_nr_cpus() - 1);
		o->cpus_given = true;
		break;
	case OPT_BACKEND:
		o->backend = bn_opt_name("--backend", arg, nc_backend_names, NC_BK_NR);
		break;
	case OPT_BREAKDOWN:
		o->breakdown = true;
		break;
	case OPT_FREQ:
		o->freq = bn_opt_u64("--freq", arg, 1, 100000);
		o->sampling_opt = true;
		break;
	case OPT_SAMPLER:
		o->sampler = bn_opt_name("--sampler", arg, sampler_names, 3);
		o->sampling_opt = true;
		break;
	case OPT_FOLDED:
		if (!*arg)
			bn_usage("invalid --folded '': want a file name");
		o->folded = arg;
		o->breakdown = true;
		break;
	case OPT_CGROUPS:
		o->cgroups = arg ? bn_opt_u64("--cgroups", arg, 1, 1000) : 5;
		break;
	case OPT_MAX_CGROUPS:
		o->max_cgroups = bn_opt_u64("--max-cgroups", arg, 1, 1 << 20);
		break;
	case OPT_METRICS:
		bn_opt_listen("--metrics", arg, &o->listen);
		o->metrics = true;
		break;
	case OPT_BPF_STATS:
		o->bpf_stats = true;
		break;
	case OPT_SLOTS:
		o->slots = bn_opt_u64("--slots", arg, 16, 1 << 20);
		o->sampling_opt = true;
		break;
	case ARGP_KEY_END:
		if (o->max_cgroups && !o->cgroups)
			bn_usage("--max-cgroups sizes --cgroups' table: add --cgroups");
		if (o->sampling_opt && !o->breakdown)
			bn_usage("--freq, --sampler and --slots set --breakdown's sampling: "
				 "add --breakdown");
		break;
	case ARGP_KEY_ARG:
		bn_usage("unexpected argument '%s' (--cgroups takes its count as --cgroups=N)",
			 arg);
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
	struct bn_http *http;
	int drain_fd;			/* timerfd, every DRAIN_NS */
	struct bn_loop loop;
};

/* ---- main loop ---- */

static const char no_metrics[] = "# netcost: no interval finished yet\n";
static const char prom_type[] = "text/plain; version=0.0.4";

static int tick(void *ctx)
{
	struct run *r = ctx;

	if (r->o->breakdown)
		nc_samples_refresh_syms(&r->samples);
	nc_snap_take(&r->cur, r->skel, r->stats_fd >= 0);
	nc_report(&r->rep, &r->prev, &r->cur, false);
	nc_snap_copy(&r->prev, &r->cur);
	if (r->http && r->rep.metrics_text)
		return bn_http_set_body(r->http, "/metrics", prom_type, r->rep.metrics_text,
					r->rep.metrics_len);
	return 0;
}

/* The sample buffers, every DRAIN_NS (the ring wakes us only when it fills up). */
static int drain(void *ctx)
{
	struct run *r = ctx;
	uint64_t n;

	if (read(r->drain_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	nc_samples_drain(&r->samples);
	return 0;
}

static int drain_timer(struct run *r)
{
	struct itimerspec its = {
		.it_interval = { 0, DRAIN_NS }, .it_value = { 0, DRAIN_NS },
	};

	r->drain_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->drain_fd < 0 || timerfd_settime(r->drain_fd, 0, &its, NULL))
		return -errno;
	return bn_loop_add(&r->loop, r->drain_fd, drain, r);
}

/* The loop's sources: the metrics server, the sample buffers. */
static int loop_setup(struct run *r)
{
	int err;

	err = bn_loop_init(&r->loop, r->o->cli.interval_ns, r->o->cli.duration_ns);
	if (!err && r->http)
		err = bn_loop_add_http(&r->loop, r->http);
	if (!err && (r->samples.arr || r->samples.rb))
		err = drain_timer(r);
	if (!err && r->samples.rb)
		err = bn_loop_add_rb(&r->loop, r->samples.rb);
	if (err)
		bn_err("cannot set up the main loop: %s", strerror(-err));
	return err;
}

/* Until the duration or a signal; then the last (partial) interval and the run. */
static int run_loop(struct run *r)
{
	int err;

	err = bn_loop_run(&r->loop, tick, r);
	if (err)
		bn_err("main loop: %s", strerror(-err));
	nc_samples_drain_all(&r->samples);
	nc_snap_take(&r->cur, r->skel, r->stats_fd >= 0);
	if (r->cur.mono - r->prev.mono >= 1000000)
		nc_report(&r->rep, &r->prev, &r->cur, false);
	nc_report(&r->rep, &r->first, &r->cur, true);
	return err;
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
	bn_loop_close(&r->loop);
	if (r->drain_fd >= 0)
		close(r->drain_fd);
	bn_http_close(r->http);
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
	if (o->max_cgroups)
		bpf_map__set_max_entries(skel->maps.cgroups, o->max_cgroups);
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
	r->rep.metrics = r->http != NULL;
}

/* Listen before anything is loaded: a port in use fails first. */
static int metrics_open(struct run *r)
{
	static const struct bn_http_route routes[] = {
		{ "/metrics", BN_HTTP_GET, NULL, NULL },
	};
	int err;

	if (!r->o->metrics)
		return 0;
	err = bn_http_open(&r->http, &r->o->listen, routes, 1, 0) ?:
	      bn_http_set_body(r->http, "/metrics", prom_type, no_metrics, strlen(no_metrics));
	if (err)
		bn_err("cannot listen on %s: %s", r->o->listen.str, strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	struct nc_opts o = {
		.cli = { .has_interval = true, .interval_ns = 1000000000ULL,
			 .interval_min_ns = 10000000ULL },
		.backend = NC_BK_AUTO,
		.freq = 99,
		.sampler = NC_SAMPLER_ARRAY,
		.slots = 2048,
	};
	struct run r = { .o = &o, .stats_fd = -1, .drain_fd = -1 };
	int ret = BN_EXIT_ERR;

	bn_log_init("netcost");
	bn_cli_parse(&o.cli, opts, parse_arg, NULL, doc, &o, argc, argv);
	bn_stdout_setup();
	bn_libbpf_setup();
	if (bn_check_caps() || bn_signals_setup() || metrics_open(&r) || setup(&r, &o))
		goto cleanup;
	report_init(&r);
	if (loop_setup(&r))
		goto cleanup;
	nc_snap_take(&r.first, r.skel, r.stats_fd >= 0);
	nc_snap_copy(&r.prev, &r.first);
	bn_ready();
	if (!run_loop(&r))
		ret = BN_EXIT_OK;
	if (r.samples.unsymbolized)
		bn_info("%" PRIu64 " sampled stack frames matched no kernel symbol read at start "
			"(code loaded since?)", r.samples.unsymbolized);
	if (o.folded && nc_samples_write_folded(&r.samples))
		ret = BN_EXIT_ERR;
cleanup:
	run_free(&r);
	return ret;
}
