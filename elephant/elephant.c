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
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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
	enum el_bk backend;
	struct el_thresh th;
	uint64_t interval_ns;
	uint64_t duration_ns;
	uint64_t window_ns;
	uint32_t max_flows;
	bool json;
	bool list_backends;
	const char *state_path;
	char node[EL_NAME_MAX];
	char metrics_host[64];
	int metrics_port;
	struct el_label labels[MAX_LABELS];
	int nlabels;
	char ifaces[MAX_IFACES][IF_NAMESIZE];
	int nifaces;
};
const char *argp_program_version = "elephant " BN_VERSION;
const char *argp_program_bug_address = "<bpfnet@example.org>";
static const char doc[] =
"elephant: detect elephant flows at conntrack and map them to workloads.\n"
"\n"
"USAGE: elephant [OPTIONS] [IFACE...]\n"
"\n"
"A flow (a conntrack entry, ASSURED) is an elephant once it has lived at\n"
"least --min-duration and carried at least --min-bytes (and --min-rate, if\n"
"given). Each elephant is reported once when it crosses, and again when\n"
"conntrack deletes it. Every --interval a summary per workload and for the\n"
"node: active elephants and mice, bytes, and the footprint (heavy if the\n"
"workload sourced or sank an elephant within --window, else light).\n"
"IFACE...: host interfaces the tc backend attaches to (default: all but lo\n"
"and bridges, and new ones as they appear); with kprobe/fentry, only flows\n"
"entering through them are reported.\n"
"\n"
"EXAMPLES:\n"
"    elephant                          # auto backend, text output\n"
"    elephant -j -i 5 --min-bytes 50M  # JSON Lines, 5 s summaries\n"
"    elephant --label zone:1=web --label iface:veth-db=db\n"
"    elephant --state /var/lib/elephant.state --metrics 127.0.0.1:9464\n"
"    elephant --backend tc veth1 veth2 # tc on two interfaces only\n"
"    elephant --backends               # which backends this kernel can run\n";

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
	{ "interval", 'i', "DUR", 0, "Summary every DUR (default 10s)", 0 },
	{ "duration", 'd', "DUR", 0, "Stop after DUR", 0 },
	{ "window", OPT_WINDOW, "DUR", 0, "Heavy if an elephant within DUR (default 5m)", 0 },
	{ "label", 'l', "zone:N=NAME|iface:IF=NAME", 0, "Workload name for a zone or an "
	  "interface (repeatable)", 0 },
	{ "state", 's', "FILE", 0, "Keep learned footprints in FILE across restarts", 0 },
	{ "metrics", 'm', "[ADDR:]PORT", 0, "Serve Prometheus metrics on /metrics", 0 },
	{ "node", 'n', "NAME", 0, "Node name in summaries (default: hostname)", 0 },
	{ "max-flows", OPT_MAX_FLOWS, "N", 0, "Flow table size (default 65536)", 0 },
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose (twice: libbpf debug)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{},
};

/* A usage error: one line, exit 2. */
static void bad(struct argp_state *st, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	argp_failure(st, BN_EXIT_USAGE, 0, "%s", buf);
}

static int parse_dur(const char *arg, const char *what, uint64_t *ns, struct argp_state *st)
{
	if (bn_parse_duration(arg, NSEC, ns))
		bad(st, "invalid %s '%s': want a duration like 5s, 500ms, 2m", what, arg);
	return 0;
}

static int parse_metrics(struct env *env, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	const char *port = colon ? colon + 1 : arg;
	uint64_t p;
	size_t hl;

	if (bn_parse_u64(port, 1, 65535, &p))
		return -EINVAL;
	env->metrics_port = p;
	strcpy(env->metrics_host, "0.0.0.0");
	if (colon) {
		hl = colon - arg;
		if (!hl || hl >= sizeof(env->metrics_host))
			return -EINVAL;
		memcpy(env->metrics_host, arg, hl);
		env->metrics_host[hl] = '\0';
	}
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	struct env *env = st->input;
	uint64_t v;
	int i;

	switch (key) {
	case 'b':
		for (i = 0; i < EL_BK_MAX; i++)
			if (!strcmp(arg, el_bk_names[i]))
				break;
		if (i == EL_BK_MAX)
			bad(st, "invalid backend '%s': want auto, fentry, kprobe or tc", arg);
		env->backend = i;
		break;
	case OPT_BACKENDS:
		env->list_backends = true;
		break;
	case OPT_MIN_BYTES:
		if (bn_parse_size(arg, &v) || !v)
			bad(st, "invalid --min-bytes '%s': want a size like 10M", arg);
		env->th.min_bytes = v;
		break;
	case OPT_MIN_DURATION:
		parse_dur(arg, "--min-duration", &v, st);
		env->th.min_duration_ns = v;
		break;
	case OPT_MIN_RATE:
		if (bn_parse_size(arg, &v) || !v)
			bad(st, "invalid --min-rate '%s': want bits per second like 100M",
				   arg);
		env->th.min_rate_bps = v;
		break;
	case 'i':
		parse_dur(arg, "interval", &env->interval_ns, st);
		if (env->interval_ns < NSEC / 10)
			bad(st, "invalid interval '%s': at least 100ms", arg);
		break;
	case 'd':
		parse_dur(arg, "duration", &env->duration_ns, st);
		break;
	case OPT_WINDOW:
		parse_dur(arg, "--window", &env->window_ns, st);
		break;
	case 'l':
		if (env->nlabels == MAX_LABELS)
			bad(st, "too many labels (at most %d)", MAX_LABELS);
		if (el_label_parse(arg, &env->labels[env->nlabels]))
			bad(st, "invalid label '%s': want zone:N=NAME or iface:IF=NAME "
				   "(NAME: letters, digits, ._:@/-)", arg);
		env->nlabels++;
		break;
	case 's':
		env->state_path = arg;
		break;
	case 'm':
		if (parse_metrics(env, arg))
			bad(st, "invalid --metrics '%s': want [ADDR:]PORT", arg);
		break;
	case 'n':
		if (!el_name_valid(arg))
			bad(st, "invalid node name '%s'", arg);
		snprintf(env->node, sizeof(env->node), "%s", arg);
		break;
	case OPT_MAX_FLOWS:
		if (bn_parse_u64(arg, 16, 1 << 24, &v))
			bad(st, "invalid --max-flows '%s': want 16..16777216", arg);
		env->max_flows = v;
		break;
	case 'h':
		argp_state_help(st, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'j':
		env->json = true;
		break;
	case 'v':
		bn_verbose++;
		break;
	case ARGP_KEY_ARG:
		if (env->nifaces == MAX_IFACES)
			bad(st, "too many interfaces (at most %d)", MAX_IFACES);
		if (strlen(arg) >= IF_NAMESIZE)
			bad(st, "invalid interface name '%s'", arg);
		strcpy(env->ifaces[env->nifaces++], arg);
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
	int epfd, ctfd, lnkfd, mfd;
};

/* ---- Prometheus ---- */

static int metrics_open(const struct env *env)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1, err;
	bool v6 = strchr(env->metrics_host, ':');
	const char *host = env->metrics_host;
	char h6[64];

	if (v6 && host[0] == '[') {
		snprintf(h6, sizeof(h6), "%.62s", host + 1);
		h6[strcspn(h6, "]")] = '\0';
		host = h6;
	}
	if (v6 ? inet_pton(AF_INET6, host, &sa6.sin6_addr) != 1 :
		 inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		bn_err("invalid --metrics address '%s'", env->metrics_host);
		return -EINVAL;
	}
	sa.sin_port = htons(env->metrics_port);
	sa6.sin6_port = htons(env->metrics_port);
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) :
		  bind(fd, (struct sockaddr *)&sa, sizeof(sa))) || listen(fd, 16)) {
		err = -errno;
		bn_err("cannot serve metrics on %s:%d: %s", env->metrics_host,
		       env->metrics_port, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static void metrics_serve(struct run *r)
{
	struct timeval tv = { .tv_sec = 1 };
	char req[2048], *body = NULL;
	size_t blen = 0;
	FILE *b;
	ssize_t n;
	int c;

	c = accept4(r->mfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	n = recv(c, req, sizeof(req) - 1, 0);
	if (n <= 0)
		goto out;
	req[n] = '\0';
	if (strncmp(req, "GET /metrics", 12) || (req[12] != ' ' && req[12] != '?')) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\n"
					 "Connection: close\r\n\r\nnot found\n";

		send(c, nf, sizeof(nf) - 1, MSG_NOSIGNAL);
		goto out;
	}
	b = open_memstream(&body, &blen);
	if (!b)
		goto out;
	out_metrics(&r->out, &r->fp, &r->fl.c, b);
	fclose(b);
	dprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	send(c, body, blen, MSG_NOSIGNAL);
	free(body);
out:
	close(c);
}

/* ---- setup ---- */

/* Watch @fd (a negative errno: opening it failed) in the main loop. */
static int ep_add(struct run *r, int fd, const char *what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	int err = fd;

	if (fd >= 0 && epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev))
		err = -errno;
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
	r->out.json = env->json;
	r->out.node = env->node;
	r->out.backend = el_bk_names[r->bk.kind];
	r->out.th = env->th;
	r->out.window_ns = env->window_ns;
	r->out.stats_fd = bpf_map__fd(r->bk.skel->maps.stats);
	fl->flows_fd = bpf_map__fd(r->bk.skel->maps.flows);
	fl->tc = r->bk.kind == EL_BK_TC;
	fl->th = env->th;
	fl->interval_ns = env->interval_ns;
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
	return 0;
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
	err = ep_add(r, r->ctfd, "conntrack events");
	if (err)
		return err;
	for (i = 0; i < env->nlabels; i++)
		if (env->labels[i].kind == EL_LABEL_ZONE)
			tc_zone_learn(&r->tc, env->labels[i].zone);
	r->lnkfd = rtnl_open_link_monitor();
	err = ep_add(r, r->lnkfd, "interface changes");
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

static int setup(struct run *r)
{
	int err;

	err = setup_netns(r);
	if (!err)
		err = setup_backend(r);
	if (err)
		return err;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0) {
		err = -errno;
		bn_err("cannot create an epoll instance: %s", strerror(-err));
		return err;
	}
	err = ep_add(r, ring_buffer__epoll_fd(r->rb), "the ring buffer");
	if (!err && r->bk.kind == EL_BK_TC)
		err = setup_tc(r);
	if (err)
		return err;
	if (r->env->metrics_port >= 0) {
		r->mfd = metrics_open(r->env);
		if (r->mfd < 0)
			return r->mfd;
		err = ep_add(r, r->mfd, "the metrics socket");
	}
	return err;
}

static void teardown(struct run *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
	tc_detach_all(&r->tc);
	bk_close(&r->bk);
	tc_run_close(&r->tc);
	if (r->ctfd >= 0)
		close(r->ctfd);
	if (r->lnkfd >= 0)
		close(r->lnkfd);
	if (r->mfd >= 0)
		close(r->mfd);
	if (r->epfd >= 0)
		close(r->epfd);
	fl_free(&r->fl);
	at_free(&r->at);
}

/* ---- the loop ---- */

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

/* Every interval, and once more at the end. */
static void tick(struct run *r, bool last)
{
	fl_consume(&r->fl);
	if (last && r->ctfd >= 0)
		fl_ct_events(&r->fl, r->ctfd);
	fl_walk(&r->fl);
	out_summary(&r->out, &r->fp, &r->fl.c);
	if (!last)
		fp_reset_interval(&r->fp);
	save_state(r);
}

static void handle_fd(struct run *r, int fd)
{
	int err;

	if (fd == r->ctfd) {
		fl_ct_events(&r->fl, r->ctfd);
	} else if (fd == r->lnkfd) {
		err = nl_drain(r->lnkfd) ? tc_sync(&r->tc, false) : 0;
		if (err)
			bn_warn("cannot list interfaces: %s; new ones are not watched yet",
				strerror(-err));
	} else if (fd == r->mfd) {
		metrics_serve(r);
	} else {
		fl_consume(&r->fl);
	}
}

static int loop(struct run *r)
{
	uint64_t interval = r->env->interval_ns, duration = r->env->duration_ns;
	uint64_t start = bn_now_ns(), next = start + interval, now;
	struct epoll_event evs[8];
	int n, i, timeout;

	while (!bn_stop) {
		now = bn_now_ns();
		if (duration && now - start >= duration)
			break;
		if (now >= next) {
			tick(r, false);
			next += interval;
			if (next <= now)
				next = now + interval;
			continue;
		}
		timeout = (next - now) / 1000000 + 1;
		if (duration && start + duration - now < next - now)
			timeout = (start + duration - now) / 1000000 + 1;
		n = epoll_wait(r->epfd, evs, 8, timeout);
		if (n < 0 && errno != EINTR) {
			int err = -errno;

			bn_err("cannot wait for events: %s", strerror(-err));
			return err;
		}
		for (i = 0; i < n; i++)
			handle_fd(r, evs[i].data.fd);
	}
	/* final: what happened since the last summary */
	tick(r, true);
	return 0;
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
		if (err == -EINVAL)
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
	static const struct argp argp = { opts, parse_arg, "[IFACE...]", doc, NULL, NULL, NULL };
	static struct env env = {
		.backend = EL_BK_AUTO,
		.th.min_bytes = 10ULL << 20,
		.th.min_duration_ns = 5 * NSEC,
		.interval_ns = 10 * NSEC,
		.window_ns = 300 * NSEC,
		.max_flows = 65536,
		.metrics_port = -1,
	};
	static struct run r = { .env = &env, .epfd = -1, .ctfd = -1, .lnkfd = -1, .mfd = -1 };
	int err;

	bn_log_init(argv[0]);
	err = argp_parse(&argp, argc, argv, 0, NULL, &env);
	if (err)
		return BN_EXIT_USAGE;
	bn_stdout_setup();
	bn_libbpf_setup();
	/* the node name goes unescaped into metric labels: only valid names */
	if (!env.node[0] && (gethostname(env.node, sizeof(env.node) - 1) ||
			     !el_name_valid(env.node)))
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
		err = loop(&r);
	if (r.bk.skel)
		out_drops(&r.out, &r.fl.c);
	teardown(&r);
	fp_free(&r.fp);
	return err ? BN_EXIT_ERR : BN_EXIT_OK;
}
