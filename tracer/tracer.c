// SPDX-License-Identifier: GPL-2.0
/*
 * tracer - follow packets through named points (devices, namespaces,
 * bridges, VXLAN) on tracepoints, without kprobes and without a kernel
 * patch; report per point and per segment (latency percentiles, jitter,
 * drops by reason, loss) every interval, and every packet with --events.
 *
 * This file: options, setup (resolve, patch the filter in, load, attach),
 * the loop and main. config.c parses points and config files, filter.c
 * translates pcap filters, events.c prints what the ring buffer brings,
 * report.c the per-interval records.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "state.h"
#include "tracer.skel.h"

#define DRAIN_NS	(100 * 1000000ULL)	/* ring buffer drained this often */

enum {
	OPT_LOSS_TIMEOUT = 0x100,
	OPT_BUFFER,
	OPT_TRACK,
	OPT_RULE,
	OPT_SAMPLE,
	OPT_METRICS,
	OPT_PERFETTO,
	OPT_TOP,
	OPT_HOST,
	OPT_STAMP,
};

static const struct argp_option opts[] = {
	{ "point", 'p', "NAME=HOOK[@DEV][%NETNS]", 0,
	  "A point: HOOK is rx, rxq, txq, tx, qdisc, drop, tcp-retrans, fentry:FUNC or "
	  "kprobe:FUNC (a kernel function with a struct sk_buff * argument); DEV an "
	  "interface in NETNS (an ip netns name, a netns inode or a /proc/PID/ns/net "
	  "path); omitted: any. Repeatable", 0 },
	{ "config", 'c', "FILE", 0, "Read points and options from FILE (one directive a "
	  "line: a long option without its dashes and its value; # comments)", 0 },
	{ "filter", 'f', "EXPR", 0, "Follow only packets that match the pcap-filter "
	  "EXPR (as tcpdump; on the innermost packet, inside VXLAN)", 0 },
	{ "events", 'e', NULL, 0, "An event record per packet per point", 0 },
	{ "loss-timeout", OPT_LOSS_TIMEOUT, "DUR", 0, "A packet not seen again for DUR "
	  "after a point it usually leaves is lost (default 1s)", 0 },
	{ "buffer", OPT_BUFFER, "SIZE", 0, "Ring buffer size (default 4M)", 0 },
	{ "track", OPT_TRACK, "N", 0, "Packets followed at once (default 65536)", 0 },
	{ "rule", OPT_RULE, "'FROM->TO latency>DUR emit'", 0, "An event record for every "
	  "packet that takes longer than DUR from point FROM to point TO. Repeatable", 0 },
	{ "metrics", OPT_METRICS, "[ADDR:]PORT", 0, "Serve the counters and latency "
	  "histograms for Prometheus on /metrics (PORT alone: 127.0.0.1)", 0 },
	{ "perfetto", OPT_PERFETTO, "FILE", 0, "Write a trace that ui.perfetto.dev opens "
	  "(Chrome JSON): a track per point, a slice per packet per segment (with "
	  "--events or rules), drops, rates", 0 },
	{ "top", OPT_TOP, "N", 0, "Each point's N busiest flows every interval, counted per "
	  "flow and point in the kernel (default 0: none, no per-flow counting)", 0 },
	{ "host", OPT_HOST, "NAME", 0, "This host's name in every JSON record, for "
	  "tracer-merge (default: the hostname; a Kubernetes node name)", 0 },
	{ "stamp", OPT_STAMP, NULL, 0, "Write a packet id into every UDP datagram at the "
	  "first point (a tx, txq or qdisc point with @DEV), as a trailer the receiving "
	  "application never sees, so datagrams alike keep distinct ids on every host", 0 },
	{ "sample", OPT_SAMPLE, "1/N", 0, "Follow one packet in N, chosen by its id (every "
	  "host picks the same packets)", 0 },
	{},
};

static const char doc[] =
	"Follow packets through named points across veths, bridges, namespaces, NAT "
	"and VXLAN; report packets, latency, jitter, drops and loss per segment.\n"
	"\n"
	"EXAMPLES:\n"
	"  tracer -p a=tx@veth0%ns1 -p b=rx@veth1%ns2   # latency from a to b\n"
	"  tracer -c points.conf -f 'icmp' -j           # JSON Lines, ICMP only\n"
	"  tracer -p a=txq@eth0 -p b=tx@eth0 -e         # every packet, qdisc time\n"
	"\v"
	"Records: point, segment, drop, lost and summary (and event with -e).";

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	struct tr_state *s = st->input;
	char err[320];
	const char *name;

	switch (key) {
	case 'p': name = "point"; break;
	case 'f': name = "filter"; break;
	case 'e': name = "events"; arg = ""; break;
	case OPT_LOSS_TIMEOUT: name = "loss-timeout"; break;
	case OPT_BUFFER: name = "buffer"; break;
	case OPT_TRACK: name = "track"; break;
	case OPT_RULE: name = "rule"; break;
	case OPT_SAMPLE: name = "sample"; break;
	case OPT_TOP: name = "top"; break;
	case 'c':
		s->o.config = arg;
		return 0;
	case OPT_PERFETTO:
		s->perfetto = arg;
		return 0;
	case OPT_STAMP:
		s->stamp_on = true;
		return 0;
	case OPT_HOST:
		if (!bn_node_name_valid(arg))
			bn_usage("invalid host name '%.64s': want 1..253 of letters, digits, . "
				 "and - (a Kubernetes node name)", arg);
		strcpy(s->host, arg);
		return 0;
	case OPT_METRICS:
		bn_opt_listen("--metrics", arg, &s->listen);
		s->metrics = true;
		return 0;
	case ARGP_KEY_ARG:
		bn_usage("unexpected argument '%.64s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	if (tr_opt_set(&s->o, name, arg, err, sizeof(err)))
		bn_usage("%s", err);
	return 0;
}

/*
 * @o from the command line's options and the config file: points resolved,
 * rules placed, the filter translated. 0, or -errno with @err set.
 */
static int build_opts(const struct tr_state *s, struct tr_opts *o, char *err, size_t len)
{
	*o = s->cli_o;
	if (o->config && tr_config_load(o, o->config, err, len))
		return -EINVAL;
	if (!o->npoints) {
		snprintf(err, len, "no points: give --point NAME=HOOK[@DEV][%%NETNS] or a "
			 "config file");
		return -EINVAL;
	}
	if (tr_points_resolve(o, err, len) || tr_rules_resolve(o, o->rule_ns, err, len))
		return -ENOENT;
	if (o->filter[0] &&
	    tr_filter_compile(o->filter, o->fcode, TR_SLOT_LEN - 1, &o->nfcode, err, len))
		return -EINVAL;
	return 0;
}

/* Everything the command line and the config file say, checked; else exit 2. */
static void parse_all(struct tr_state *s, int argc, char **argv)
{
	const char *skew, *batch;
	uint64_t v = 1 << 20;
	char err[512];

	s->o.loss_timeout_ns = 1000000000ULL;
	s->o.buffer = 4 << 20;
	s->o.track = 65536;
	s->o.top = 0;
	s->cli.has_interval = true;
	s->cli.interval_ns = 1000000000ULL;
	s->cli.interval_min_ns = 100000000ULL;
	bn_cli_parse(&s->cli, opts, parse_arg, NULL, doc, s, argc, argv);
	if (!s->host[0] && (gethostname(s->host, sizeof(s->host) - 1) ||
			    !bn_node_name_valid(s->host)))
		strcpy(s->host, "host");
	/* tests only: a fixed error of this instance's clock, for tracer-merge to find */
	skew = getenv("BPFNET_TRACER_SKEW_NS");
	if (skew && bn_parse_s64(skew, -BN_MAX_DURATION_NS, BN_MAX_DURATION_NS, &s->skew_ns))
		bn_usage("invalid BPFNET_TRACER_SKEW_NS '%.32s'", skew);
	/* tests only: a smaller bound of a drain's batch (bytes) than 1 MiB */
	batch = getenv("BPFNET_TRACER_BATCH_MAX");
	if (batch && bn_parse_u64(batch, 1, 1 << 20, &v))
		bn_usage("invalid BPFNET_TRACER_BATCH_MAX '%.32s'", batch);
	s->batch_max = v;
	s->cli_o = s->o;
	if (build_opts(s, &s->o, err, sizeof(err)) ||
	    (s->stamp_on && tr_stamp_check(&s->o, err, sizeof(err))))
		bn_usage("%s", err);
}

/* The filter, translated once and written into every program that has the slot. */
static int setup_filter(const struct tr_opts *o, struct tracer_bpf *skel)
{
	struct bpf_program *prog;
	int ret, patched = 0;

	if (!o->filter[0])
		return 0;
	bpf_object__for_each_program(prog, skel->obj) {
		ret = tr_filter_patch(prog, o->fcode, o->nfcode);
		patched += ret > 0;
		if (ret < 0) {
			bn_err("cannot place the filter into %s: %s", bpf_program__name(prog),
			       strerror(-ret));
			return ret;
		}
	}
	if (!patched) {
		bn_err("cannot place the filter: no program has the filter slot");
		return -ENOENT;
	}
	skel->rodata->filter_on = true;
	return 0;
}

/* Whether the tracepoint programs may parse headers in place (probed once). */
static int tr_direct = -1;

static bool tr_direct_reads(void)
{
	/* test-only: as if the probe had passed, to test the fallback below */
	if (tr_direct < 0 && getenv("BPFNET_TRACER_FORCE_DIRECT"))
		tr_direct = 1;
	if (tr_direct < 0)
		tr_direct = !bn_probe_hook(BN_HOOK_TP_MEM, NULL);
	return tr_direct;
}

/*
 * Open, configure, load and attach @o's programs (only the hooks its points
 * use) as generation @gen; @rb_fd >= 0: share that ring buffer map.
 */
static int setup_load(struct tr_opts *o, int gen, int rb_fd, struct tracer_bpf **out,
		      struct tr_fn **fn)
{
	struct tracer_bpf *skel;
	bool used[TR_HOOK_MAX] = {};
	const void *elf;
	size_t elf_sz;
	int i, ret;

	*out = skel = tracer_bpf__open();
	if (!skel) {
		bn_err("cannot open the BPF object: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < o->npoints; i++) {
		used[o->points[i].p.hook] = true;
		skel->rodata->points[i] = o->points[i].p;
	}
	skel->rodata->npoints = o->npoints;
	skel->rodata->events_on = o->events;
	skel->rodata->wake_bytes = o->buffer / 4;
	skel->rodata->sample_n = o->sample_n;
	skel->rodata->flows_on = o->top > 0;
	skel->rodata->tuple_on = o->events || o->top > 0 || o->nrules > 0;
	skel->rodata->gen = gen;
	skel->rodata->direct = tr_direct_reads();
	memcpy((void *)skel->rodata->rule_ns, o->rule_ns, sizeof(o->rule_ns));
	bpf_program__set_autoload(skel->progs.tr_rx, used[TR_HOOK_RX]);
	bpf_program__set_autoload(skel->progs.tr_rxq, used[TR_HOOK_RXQ]);
	bpf_program__set_autoload(skel->progs.tr_gro, used[TR_HOOK_RXQ]);
	bpf_program__set_autoload(skel->progs.tr_txq, used[TR_HOOK_TXQ]);
	bpf_program__set_autoload(skel->progs.tr_tx, used[TR_HOOK_TX]);
	bpf_program__set_autoload(skel->progs.tr_qdisc, used[TR_HOOK_QDISC]);
	bpf_program__set_autoload(skel->progs.tr_retrans, used[TR_HOOK_RETRANS]);
	tr_fn_prepare(o, skel->obj);
	bpf_map__set_max_entries(skel->maps.rb, o->buffer);
	bpf_map__set_max_entries(skel->maps.pkts, o->track);
	if (rb_fd >= 0 && (ret = bpf_map__reuse_fd(skel->maps.rb, rb_fd))) {
		bn_err("cannot share the ring buffer: %s", strerror(-ret));
		return ret;
	}
	ret = setup_filter(o, skel);
	if (ret)
		return ret;
	ret = tracer_bpf__load(skel);
	if (ret && skel->rodata->direct) {
		/* the probe's one load passed, the parser's did not: copy instead */
		bn_info("headers read in place refused (%s): copying them", strerror(-ret));
		tr_direct = 0;
		tracer_bpf__destroy(skel);
		*out = NULL;
		return setup_load(o, gen, rb_fd, out, fn);
	}
	if (ret) {
		bn_err("cannot load the BPF programs: %s", strerror(-ret));
		return ret;
	}
	bn_info("packet headers: %s", skel->rodata->direct ? "read in place" : "copied");
	if (used[TR_HOOK_FENTRY] || used[TR_HOOK_KPROBE]) {
		elf = tracer_bpf__elf_bytes(&elf_sz);
		ret = tr_fn_attach(o, skel->obj, elf, elf_sz,
				   offsetof(struct tracer_bpf__rodata, fn), fn);
		if (ret)
			return ret;
	}
	ret = tracer_bpf__attach(skel);
	if (ret) {
		bn_err("cannot attach to the tracepoints: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * SIGHUP: build the new config and attach its programs next to the old
 * ones, report the old one's last interval, detach it, drain the ring buffer
 * they share (each event names its generation), then switch. A config that
 * does not build, load or attach is refused and the old one keeps running.
 */
static int reload(void *ctx)
{
	struct tr_state *s = ctx;
	struct signalfd_siginfo si;
	struct tracer_bpf *skel = NULL;
	struct tr_fn *fn = NULL;
	struct tr_opts *o;
	char err[512];

	if (read(s->hup_fd, &si, sizeof(si)) != sizeof(si))
		return 0;
	o = malloc(sizeof(*o));
	if (!o)
		return -ENOMEM;
	if (build_opts(s, o, err, sizeof(err))) {
		bn_err("reload refused, still running generation %d: %s", s->gen, err);
		goto out;
	}
	o->buffer = s->o.buffer;	/* the ring buffer is shared: it keeps its size */
	s->next_o = o;
	if (setup_load(o, (s->gen + 1) & 0xff, bpf_map__fd(s->skel->maps.rb), &skel, &fn)) {
		bn_err("reload refused, still running generation %d", s->gen);
		tr_fn_destroy(fn);
		tracer_bpf__destroy(skel);
		s->next_o = NULL;
		goto out;
	}
	tr_events_consume(s);
	tr_report_tick(s, false);
	tr_fn_destroy(s->fn);
	tracer_bpf__destroy(s->skel);
	s->skel = skel;
	s->fn = fn;
	tr_events_consume(s);	/* the old generation's last events */
	s->o = *o;
	s->next_o = NULL;
	s->gen++;
	tr_report_reset(s);
	tr_report_config(s, s->gen);
out:
	free(o);
	return 0;
}

static int drain(void *ctx)
{
	struct tr_state *s = ctx;
	uint64_t exp;
	int fd = s->drain_fd, n;

	if (read(fd, &exp, sizeof(exp)) < 0 && errno != EAGAIN)
		return -errno;
	tr_clock_sync(s);
	n = tr_events_consume(s);
	return n < 0 && n != -EINTR ? n : 0;
}

/* The ring buffer woke us: a quarter full. */
static int rb_wake(void *ctx)
{
	int n = tr_events_consume(ctx);

	return n < 0 && n != -EINTR ? n : 0;
}

static void metrics_update(struct tr_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!s->http)
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	tr_report_prom(s, f);
	if (!fclose(f))
		bn_http_set_body(s->http, "/metrics", "text/plain; version=0.0.4", buf, len);
	free(buf);
}

static int tick(void *ctx)
{
	struct tr_state *s = ctx;
	int n;

	tr_clock_sync(s);
	n = tr_events_consume(s);
	if (n < 0 && n != -EINTR)
		return n;
	tr_report_tick(s, false);
	metrics_update(s);
	return 0;
}

static const struct bn_http_route routes[] = {
	{ "/metrics", BN_HTTP_GET, NULL, NULL },
};

static int setup_loop(struct tr_state *s, struct bn_loop *l)
{
	struct itimerspec its = {
		.it_interval = { 0, DRAIN_NS },
		.it_value = { 0, DRAIN_NS },
	};
	sigset_t hup;
	int ret;

	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.rb), tr_event, s, NULL);
	if (!s->rb)
		goto fail;
	s->drain_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->drain_fd < 0 || timerfd_settime(s->drain_fd, 0, &its, NULL))
		goto fail;
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &hup, NULL))
		goto fail;
	s->hup_fd = signalfd(-1, &hup, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->hup_fd < 0)
		goto fail;
	ret = bn_loop_init(l, s->cli.interval_ns, s->cli.duration_ns);
	if (!ret)
		ret = bn_loop_add(l, ring_buffer__epoll_fd(s->rb), rb_wake, s);
	if (!ret)
		ret = bn_loop_add(l, s->hup_fd, reload, s);
	if (!ret)
		ret = bn_loop_add(l, s->drain_fd, drain, s);
	if (ret) {
		bn_err("cannot set up the loop: %s", strerror(-ret));
		return ret;
	}
	if (s->metrics) {
		ret = bn_http_open(&s->http, &s->listen, routes, 1, 0);
		if (ret) {
			bn_err("cannot listen on %s: %s", s->listen.str, strerror(-ret));
			return ret;
		}
		ret = bn_loop_add_http(l, s->http);
		if (ret)
			bn_err("cannot serve --metrics: %s", strerror(-ret));
	}
	return ret;
fail:
	ret = -errno;
	bn_err("cannot set up the loop: %s", strerror(errno));
	return ret;
}

int main(int argc, char **argv)
{
	struct tr_state *s;
	struct bn_loop l = { .epfd = -1 };
	int ret = 0, err, i;

	bn_log_init("tracer");
	s = calloc(1, sizeof(*s));
	if (!s)
		return BN_EXIT_ERR;
	s->drain_fd = -1;
	s->hup_fd = -1;
	s->gen = 1;
	parse_all(s, argc, argv);
	bn_stdout_setup();
	bn_libbpf_setup();
	if (bn_check_caps())
		return BN_EXIT_ERR;
	if (bn_signals_setup())
		return BN_EXIT_ERR;
	s->nr_cpus = bn_nr_cpus();
	err = tr_reasons_load(s);
	if (err)
		bn_warn("no drop reason names (kernel BTF: %s): numbers used", strerror(-err));
	err = tr_report_init(s);
	if (!err)
		err = setup_load(&s->o, s->gen, -1, &s->skel, &s->fn);
	if (!err && s->stamp_on) {
		s->stamp_pt = s->o.points[0];
		err = tr_stamp_start(&s->stamp, &s->stamp_pt);
	}
	if (!err)
		err = setup_loop(s, &l);
	if (err) {
		/* a point the kernel cannot trace is a usage error */
		ret = err == -EOPNOTSUPP ? BN_EXIT_USAGE : BN_EXIT_ERR;
		goto cleanup;
	}
	if (s->perfetto && (err = pf_open(&s->pf, s->perfetto))) {
		bn_err("cannot write %s: %s", s->perfetto, strerror(-err));
		ret = BN_EXIT_ERR;
		goto cleanup;
	}
	s->start_ns = s->last_ns = bn_now_ns();
	tr_clock_sync(s);
	bn_ready();
	tr_report_config(s, s->gen);
	err = bn_loop_run(&l, tick, s);
	if (err)
		bn_err("stopped: %s", strerror(-err));
	tr_clock_sync(s);
	tr_events_consume(s);
	tr_report_tick(s, true);
	ret = err || s->out_err ? BN_EXIT_ERR : BN_EXIT_OK;
	err = pf_close(s->pf);
	s->pf = NULL;
	if (err) {
		bn_err("cannot write %s: %s", s->perfetto, strerror(-err));
		ret = BN_EXIT_ERR;
	}
cleanup:
	bn_loop_close(&l);
	if (s->drain_fd >= 0)
		close(s->drain_fd);
	if (s->hup_fd >= 0)
		close(s->hup_fd);
	ring_buffer__free(s->rb);
	if (s->http)
		bn_http_close(s->http);
	pf_abort(s->pf);
	tr_stamp_stop(s->stamp);
	tr_fn_destroy(s->fn);
	tracer_bpf__destroy(s->skel);
	tr_report_free(s);
	bn_ksyms_free(&s->syms);
	for (i = 0; i < s->nreasons; i++)
		free((char *)s->reasons[i]);
	free(s->reasons);
	free(s);
	return ret;
}
