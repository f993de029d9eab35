// SPDX-License-Identifier: GPL-2.0
/*
 * elephant - detect elephant flows at conntrack and map them to workloads.
 *
 * Loads elephant.bpf.c with one of three backends (fentry, kprobe, tc),
 * prints an event when a conntrack flow crosses the elephant thresholds and
 * when an elephant's entry is deleted, and every interval a footprint
 * summary per workload and for the node (heavy: sourced or sank an elephant
 * within --window). See elephant/README.md.
 *
 * This file: options, setup stages, the loop and main. attrib.c attributes
 * flows, backend.c loads the programs, tc.c attaches the tc backend and
 * keeps the run file, flows.c mirrors the flow table, output.c prints.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "attrib.h"
#include "backend.h"
#include "elephant.h"
#include "elephant.skel.h"
#include "flows.h"
#include "footprint.h"
#include "nl.h"
#include "output.h"
#include "tc.h"

#define MAX_LABELS	64
#define MAX_IFACES	64
#define NSEC		1000000000ULL

struct env {
	struct bn_cli cli;		/* -j -i -d */
	enum el_bk backend;
	struct el_thresh th;
	uint64_t window_ns;
	uint32_t max_flows;
	bool list_backends;
	const char *state_path;
	char node[EL_NODE_MAX];
	bool metrics;
	struct bn_listen listen;	/* --metrics */
	struct el_label labels[MAX_LABELS];
	int nlabels;
	char ifaces[MAX_IFACES][IF_NAMESIZE];
	int nifaces;
};

static const char doc[] =
"elephant: detect elephant flows at conntrack and map them to workloads.\n"
"\n"
"A flow (a conntrack entry, ASSURED) is an elephant once it has lived at\n"
"least --min-duration and carried at least --min-bytes (and --min-rate, if\n"
"given). Each elephant is reported once when it crosses, and again when\n"
"conntrack deletes it. Every --interval (default 10s) a summary per\n"
"workload and for the node: active elephants and mice, bytes, and the\n"
"footprint (heavy if the workload sourced or sank an elephant within\n"
"--window, else light).\n"
"IFACE...: host interfaces the tc backend attaches to (default: all but lo\n"
"and bridges, and new ones as they appear); with kprobe/fentry, only flows\n"
"entering through them are reported.\n"
"\n"
"EXAMPLES:\n"
"    elephant                          # auto backend, text output\n"
"    elephant -j -i 5 --min-bytes 50M  # JSON Lines, 5 s summaries\n"
"    elephant --label zone:1=web --label iface:veth-db=db\n"
"    elephant --state /var/lib/elephant.state --metrics 9464\n"
"    elephant --metrics 0.0.0.0:9464   # metrics on every address\n"
"    elephant --backend tc veth1 veth2 # tc on two interfaces only\n"
"    elephant --backends               # which backends this kernel can run\n"
"\v"
"Sizes take K/M/G/T (powers of 1024), durations ns/us/ms/s/m/h (bare\n"
"number: seconds). Exit status: 0 done, 1 runtime error, 2 usage error.\n";

enum {
	OPT_MIN_BYTES = 0x100,
	OPT_MIN_DURATION,
	OPT_MIN_RATE,
	OPT_WINDOW,
	OPT_MAX_FLOWS,
	OPT_BACKENDS,
};

static const struct argp_option opts[] = {
	{ "backend", 'b', "NAME", 0, "auto (default), fentry, kprobe or tc", 0 },
	{ "backends", OPT_BACKENDS, NULL, 0, "List the backends and whether they work here", 0 },
	{ "min-bytes", OPT_MIN_BYTES, "SIZE", 0, "Elephant: at least SIZE bytes, both "
	  "directions (default 10M)", 0 },
	{ "min-duration", OPT_MIN_DURATION, "DUR", 0, "Elephant: lived at least DUR "
	  "(default 5s)", 0 },
	{ "min-rate", OPT_MIN_RATE, "BITS", 0, "Elephant: average rate at least BITS per "
	  "second, e.g. 100M (default off)", 0 },
	{ "window", OPT_WINDOW, "DUR", 0, "Heavy if an elephant within DUR (default 5m)", 0 },
	{ "label", 'l', "zone:N=NAME|iface:IF=NAME", 0, "Workload name for a zone or an "
	  "interface (repeatable)", 0 },
	{ "state", 's', "FILE", 0, "Keep learned footprints in FILE across restarts", 0 },
	{ "metrics", 'm', "[ADDR:]PORT", 0, "Serve Prometheus metrics on /metrics (PORT "
	  "alone: 127.0.0.1)", 0 },
	{ "node", 'n', "NAME", 0, "Node name in summaries (default: hostname)", 0 },
	{ "max-flows", OPT_MAX_FLOWS, "N", 0, "Flow table size (default 65536)", 0 },
	{},
};

/* Options that name things: labels, the node, interfaces. */
static void parse_name(struct env *env, int key, const char *arg)
{
	switch (key) {
	case 'l':
		if (env->nlabels == MAX_LABELS)
			bn_usage("too many labels (at most %d)", MAX_LABELS);
		if (el_label_parse(arg, &env->labels[env->nlabels]))
			bn_usage("invalid label '%s': want zone:N=NAME or iface:IF=NAME "
				 "(NAME: 1..63 of letters, digits, ._:@/-)", arg);
		env->nlabels++;
		break;
	case 'n':
		/* the node name goes into metric labels and records: only valid names */
		if (!el_node_valid(arg))
			bn_usage("invalid node name '%s': want 1..253 of letters, digits, . "
				 "and - (a Kubernetes node name)", arg);
		snprintf(env->node, sizeof(env->node), "%s", arg);
		break;
	default:	/* ARGP_KEY_ARG */
		if (env->nifaces == MAX_IFACES)
			bn_usage("too many interfaces (at most %d)", MAX_IFACES);
		if (!*arg || strlen(arg) >= IF_NAMESIZE)
			bn_usage("invalid interface name '%s'", arg);
		strcpy(env->ifaces[env->nifaces++], arg);
		break;
	}
}

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	struct env *env = st->input;

	switch (key) {
	case 'b':
		env->backend = bn_opt_name("backend", arg, el_bk_names, EL_BK_MAX);
		break;
	case OPT_BACKENDS:
		env->list_backends = true;
		break;
	case OPT_MIN_BYTES:
		env->th.min_bytes = bn_opt_size("--min-bytes", arg);
		break;
	case OPT_MIN_DURATION:
		env->th.min_duration_ns = bn_opt_duration("--min-duration", arg, 1,
							  BN_MAX_DURATION_NS);
		break;
	case OPT_MIN_RATE:
		env->th.min_rate_bps = bn_opt_size("--min-rate", arg);
		break;
	case OPT_WINDOW:
		env->window_ns = bn_opt_duration("--window", arg, 1, BN_MAX_DURATION_NS);
		break;
	case 's':
		env->state_path = arg;
		break;
	case 'm':
		bn_opt_listen("--metrics", arg, &env->listen);
		env->metrics = true;
		break;
	case OPT_MAX_FLOWS:
		env->max_flows = bn_opt_u64("--max-flows", arg, 16, 1 << 24);
		break;
	case 'l':
	case 'n':
	case ARGP_KEY_ARG:
		parse_name(env, key, arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- run state ---- */

struct run {
	struct env *env;
	struct el_backend bk;
	struct el_tc tc;
	struct el_attrib at;
	struct el_fp fp;
	struct el_out out;
	struct el_flows fl;
	struct ring_buffer *rb;
	struct bn_loop loop;
	struct bn_http *http;
	int ctfd, lnkfd;
	bool ct_inactive[2];		/* conntrack not active: [0] IPv4, [1] IPv6 */
};

static const struct bn_http_route routes[] = {
	{ "/metrics", BN_HTTP_GET, NULL, NULL },
};

/* The exposition of the interval just summarised: what /metrics serves. */
static void metrics_render(struct run *r)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (!r->http)
		return;
	f = open_memstream(&body, &len);
	if (!f) {
		bn_warn("cannot render the metrics: %s", strerror(errno));
		return;
	}
	out_metrics(&r->out, &r->fp, &r->fl.c, f);
	err = fclose(f) ? -errno : 0;
	if (!err)
		err = bn_http_set_body(r->http, "/metrics", "text/plain; version=0.0.4", body,
				       len);
	if (err)
		bn_warn("cannot render the metrics: %s", strerror(-err));
	free(body);
}

/* ---- loop callbacks ---- */

static int on_rb(void *ctx)
{
	struct run *r = ctx;
	int err = fl_consume(&r->fl);

	return err == -EINTR ? 0 : err;
}

static int on_ct(void *ctx)
{
	struct run *r = ctx;

	fl_ct_events(&r->fl, r->ctfd);
	return 0;
}

static int on_link(void *ctx)
{
	struct run *r = ctx;
	int err = nl_drain(r->lnkfd) ? tc_sync(&r->tc, false) : 0;

	if (err)
		bn_warn("cannot list interfaces: %s; new ones are not watched yet",
			strerror(-err));
	return 0;
}

static void save_state(struct run *r)
{
	const char *path = r->env->state_path;
	int err;

	if (!path || !r->fp.dirty)
		return;
	err = fp_state_save(&r->fp, path);
	if (err)
		bn_warn("cannot write state file %s: %s", path, strerror(-err));
}

/*
 * Every interval: what the programs reported, the walk, the summary and
 * the exposition of this interval, then the next interval starts.
 */
static int tick(void *ctx)
{
	struct run *r = ctx;

	fl_consume(&r->fl);
	fl_walk(&r->fl);
	out_summary(&r->out, &r->fp, &r->fl.c);
	out_losses(&r->out, &r->fl.c);
	metrics_render(r);
	bk_ct_check(r->ct_inactive, false);
	fp_reset_interval(&r->fp);
	save_state(r);
	return 0;
}

/* ---- setup ---- */

/* Watch @fd (a negative errno: opening it failed) in the loop. */
static int loop_add(struct run *r, int fd, bn_loop_fn fn, const char *what)
{
	int err = fd < 0 ? fd : bn_loop_add(&r->loop, fd, fn, r);

	if (err < 0) {
		bn_err("cannot listen to %s: %s", what, strerror(-err));
		return err;
	}
	return 0;
}

/* The netns: its workloads, conntrack, the run file and the sysctls. */
static int setup_netns(struct run *r)
{
	struct env *env = r->env;
	char val[16];
	int err, i;

	r->at.labels = env->labels;
	r->at.nlabels = env->nlabels;
	r->at.node = env->node;
	err = at_init(&r->at);
	if (err) {
		bn_err("cannot read /proc/self/ns/net: %s", strerror(-err));
		return err;
	}
	if (bn_sysctl_read("net/netfilter/nf_conntrack_acct", val, sizeof(val))) {
		bn_err("conntrack is not loaded in this network namespace "
		       "(no net.netfilter.nf_conntrack_acct): modprobe nf_conntrack");
		return -ENOENT;
	}
	r->tc.ifaces = (const char (*)[IF_NAMESIZE])env->ifaces;
	r->tc.nifaces = env->nifaces;
	err = tc_run_open(&r->tc, r->at.self_ino);
	if (err)
		return err;
	err = tc_sysctls_set(&r->tc);
	if (err) {
		bn_err("cannot enable conntrack accounting and events: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < env->nifaces; i++)
		if (bn_ifindex(env->ifaces[i]) < 0) {
			bn_err("cannot attach to %s: no such interface", env->ifaces[i]);
			return -ENODEV;
		}
	return 0;
}

/* The programs, and what reads their output. */
static int setup_backend(struct run *r)
{
	struct env *env = r->env;
	struct el_flows *fl = &r->fl;
	int err;

	err = bk_start(&r->bk, env->backend, &env->th, env->max_flows);
	if (err)
		return err;
	fprintf(stderr, "%s: using the %s backend\n", bn_prog(), el_bk_names[r->bk.kind]);
	r->out.json = env->cli.json;
	r->out.node = env->node;
	r->out.backend = el_bk_names[r->bk.kind];
	r->out.th = env->th;
	r->out.window_ns = env->window_ns;
	r->out.stats_fd = bpf_map__fd(r->bk.skel->maps.stats);
	fl->flows_fd = bpf_map__fd(r->bk.skel->maps.flows);
	fl->tc = r->bk.kind == EL_BK_TC;
	fl->th = env->th;
	fl->interval_ns = env->cli.interval_ns;
	fl->ifaces = (const char (*)[IF_NAMESIZE])env->ifaces;
	fl->nifaces = env->nifaces;
	fl->mono_to_real = bn_realtime_ns() - bn_now_ns();
	fl->at = &r->at;
	fl->fp = &r->fp;
	fl->out = &r->out;
	fl->tcs = fl->tc ? &r->tc : NULL;
	r->rb = ring_buffer__new(bpf_map__fd(r->bk.skel->maps.events), fl_rb_event, fl, NULL);
	if (!r->rb) {
		err = -errno;
		bn_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	fl->rb = r->rb;
	return loop_add(r, ring_buffer__epoll_fd(r->rb), on_rb, "the ring buffer");
}

/* tc backend: conntrack events, interface changes, the attachments. */
static int setup_tc(struct run *r)
{
	struct env *env = r->env;
	int err, i;

	r->tc.prog_fd = bpf_program__fd(r->bk.skel->progs.el_tc_ingress);
	r->tc.zones_fd = bpf_map__fd(r->bk.skel->maps.zones);
	r->tc.ct_opts_sz = r->bk.ct_opts_sz;
	r->ctfd = ctnl_open_events(true);
	err = loop_add(r, r->ctfd, on_ct, "conntrack events");
	if (err)
		return err;
	for (i = 0; i < env->nlabels; i++)
		if (env->labels[i].kind == EL_LABEL_ZONE)
			tc_zone_learn(&r->tc, env->labels[i].zone);
	r->lnkfd = rtnl_open_link_monitor();
	err = loop_add(r, r->lnkfd, on_link, "interface changes");
	if (err)
		return err;
	err = tc_sync(&r->tc, true);
	if (err)
		return err;
	if (!r->tc.natt) {
		bn_err("no interface to attach to");
		return -ENODEV;
	}
	return 0;
}

static int setup_metrics(struct run *r)
{
	const struct bn_listen *l = &r->env->listen;
	int err;

	err = bn_http_open(&r->http, l, routes, sizeof(routes) / sizeof(routes[0]), 0);
	if (err) {
		r->http = NULL;
		bn_err("cannot serve metrics on %s: %s", l->str, strerror(-err));
		return err;
	}
	err = bn_loop_add_http(&r->loop, r->http);
	if (err) {
		bn_err("cannot listen to the metrics server: %s", strerror(-err));
		return err;
	}
	/* until the first interval ends: the learned state, nothing active */
	metrics_render(r);
	return 0;
}

static int setup(struct run *r)
{
	struct env *env = r->env;
	int err;

	err = bn_loop_init(&r->loop, env->cli.interval_ns, env->cli.duration_ns);
	if (err) {
		bn_err("cannot create an epoll instance: %s", strerror(-err));
		return err;
	}
	err = setup_netns(r);
	if (!err)
		err = setup_backend(r);
	if (!err && r->bk.kind == EL_BK_TC)
		err = setup_tc(r);
	if (!err && env->metrics)
		err = setup_metrics(r);
	if (!err)
		bk_ct_check(r->ct_inactive, true);
	return err;
}

static void teardown(struct run *r)
{
	bn_http_close(r->http);
	r->http = NULL;
	ring_buffer__free(r->rb);
	r->rb = NULL;
	tc_detach_all(&r->tc);
	bk_close(&r->bk);
	tc_run_close(&r->tc);
	if (r->ctfd >= 0)
		close(r->ctfd);
	if (r->lnkfd >= 0)
		close(r->lnkfd);
	bn_loop_close(&r->loop);
	fl_free(&r->fl);
	at_free(&r->at);
}

/* Until --duration or a signal; then what happened since the last summary. */
static int run(struct run *r)
{
	int err;

	bn_ready();
	err = bn_loop_run(&r->loop, tick, r);
	if (err)
		bn_err("the main loop failed: %s", strerror(-err));
	fl_consume(&r->fl);
	if (r->ctfd >= 0)
		fl_ct_events(&r->fl, r->ctfd);
	fl_walk(&r->fl);
	out_summary(&r->out, &r->fp, &r->fl.c);
	save_state(r);
	return err;
}

/* --state: load it, and check that it can be written. */
static int state_open(struct run *r)
{
	const char *path = r->env->state_path;
	int err, line;

	if (!path)
		return 0;
	err = fp_state_load(&r->fp, path, &line);
	if (err) {
		if (err == -EINVAL && !line)
			bn_err("cannot read state file %s: not a regular file", path);
		else if (err == -EINVAL)
			bn_err("cannot read state file %s: line %d is malformed", path, line);
		else
			bn_err("cannot read state file %s: %s", path, strerror(-err));
		return err;
	}
	/* a path it cannot write is bad input now, not a warning every interval */
	err = fp_state_save(&r->fp, path);
	if (err)
		bn_err("cannot write state file %s: %s", path, strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static struct env env = {
		.cli.has_interval = true,
		.cli.interval_ns = 10 * NSEC,
		.cli.interval_min_ns = NSEC / 10,
		.backend = EL_BK_AUTO,
		.th.min_bytes = 10ULL << 20,
		.th.min_duration_ns = 5 * NSEC,
		.window_ns = 300 * NSEC,
		.max_flows = 65536,
	};
	static struct run r = { .env = &env, .ctfd = -1, .lnkfd = -1, .loop.epfd = -1 };
	int err;

	bn_log_init(argv[0]);
	bn_cli_parse(&env.cli, opts, parse_arg, "[IFACE...]", doc, &env, argc, argv);
	bn_stdout_setup();
	bn_libbpf_setup();
	if (!env.node[0] && (gethostname(env.node, sizeof(env.node) - 1) ||
			     !el_node_valid(env.node)))
		strcpy(env.node, "node");
	if (bn_check_caps())
		return BN_EXIT_ERR;
	if (env.list_backends)
		return bk_list();
	if (state_open(&r))
		return BN_EXIT_ERR;
	err = bn_signals_setup();
	if (err)
		bn_err("cannot install signal handlers: %s", strerror(-err));
	else
		err = setup(&r);
	if (!err)
		err = run(&r);
	if (r.bk.skel)
		out_drops(&r.out, &r.fl.c);
	teardown(&r);
	fp_free(&r.fp);
	return err ? BN_EXIT_ERR : BN_EXIT_OK;
}
