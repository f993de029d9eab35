// SPDX-License-Identifier: GPL-2.0
/*
 * rss - receive-side scaling policies in XDP: the server side.
 *
 * Attaches a scheduler XDP program (one per policy) to an interface with a
 * bpf_link, installs the per-CPU worker as the cpumap program of every CPU
 * it may use, calibrates the workers' service time, and prints statistics
 * each interval. The dynamic policy's group is steered from here. A running
 * server takes new policies and groups from `rss --swap` over a unix socket
 * under /run/bpfnet (ctl.c), without detaching.
 *
 * This file holds the options, the setup stages, the loop and main; the
 * jobs are in policy.c, ctl.c, calib.c, kthread.c and stats.c (server.h).
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

static struct rss_env env = {
	.port = 9000,
	.spec = { .policy = -1 },
	.grow_ns = 20000,
	.shrink_ns = 5000,
	.cooldown_ns = 500000000ULL,
	.period_ns = 100000000ULL,
	.short_ns = 6000,
	.long_ns = 60000,
	.qsize = 4096,
	.cli = {
		.has_interval = true,
		.interval_ns = 1000000000ULL,
		.interval_min_ns = 10000000ULL,
	},
};

static const char *const mode_names[] = { "auto", "native", "skb" };

static const char args_doc[] = "-I IFACE";
static const char doc[] =
"rss: receive-side scaling policies in XDP, with per-CPU workers.\n"
"\n"
"USAGE: rss -I IFACE [--policy rr|split|dynamic|hash|jsq|p2c] [--cpus LIST]\n"
"           [--long-cpus LIST] [--port PORT] [-i DUR] [-d DUR] [-j]\n"
"       rss -I IFACE --swap --policy POLICY [--cpus LIST] [--long-cpus LIST]\n"
"\n"
"Requests are UDP datagrams to PORT carrying the rss payload (see\n"
"rss/README.md); everything else passes untouched. Each request is redirected\n"
"through a cpumap to a worker CPU chosen by the policy; the worker spins the\n"
"service time of the request's class and sends the reply back.\n"
"\n"
"EXAMPLES:\n"
"    rss -I eth0 --policy rr --cpus 0-3            # round robin over 4 CPUs\n"
"    rss -I eth0 --policy split --cpus 0-2 --long-cpus 3\n"
"    rss -I eth0 --policy dynamic --cpus 0-7 --min-cpus 1 --grow-us 20\n"
"    rss -I eth0 --policy jsq --cpus 0-3 -j -i 0.5 # join the shortest queue\n"
"    rss -I eth0 --swap --policy hash --cpus 0-3  # change a running server\n"
"\v"
"-i takes 10ms at the least (default 1s).\n";

enum {
	OPT_PORT = 1000, OPT_POLICY, OPT_CPUS, OPT_LONG_CPUS, OPT_MIN_CPUS, OPT_GROW,
	OPT_SHRINK, OPT_COOLDOWN, OPT_PERIOD, OPT_SHORT, OPT_LONG, OPT_QSIZE, OPT_MODE,
	OPT_NO_REPLY, OPT_SWAP, OPT_CALIB, OPT_BASELINE, OPT_NICE,
};

static const struct argp_option opts[] = {
	{ "interface", 'I', "IFACE", 0, "Interface to attach to (required)", 0 },
	{ "port", OPT_PORT, "PORT", 0, "UDP port of the requests (default 9000)", 0 },
	{ "policy", OPT_POLICY, "NAME", 0,
	  "rr, split, dynamic, hash, jsq or p2c (default rr)", 0 },
	{ "cpus", OPT_CPUS, "LIST", 0,
	  "Worker CPUs, e.g. 0-3,6 (default: all online); split: the short group", 0 },
	{ "long-cpus", OPT_LONG_CPUS, "LIST", 0, "split: CPUs for long requests", 0 },
	{ "min-cpus", OPT_MIN_CPUS, "N", 0, "dynamic: CPUs to start with (default 1)", 0 },
	{ "grow-us", OPT_GROW, "US", 0,
	  "dynamic: grow when the period's average queuing delay exceeds this (20)", 0 },
	{ "shrink-us", OPT_SHRINK, "US", 0,
	  "dynamic: shrink when it stays below this for a cooldown (5)", 0 },
	{ "cooldown", OPT_COOLDOWN, "DUR", 0,
	  "dynamic: least time between two group changes (0.5s)", 0 },
	{ "period", OPT_PERIOD, "DUR", 0, "dynamic: evaluation period (0.1s)", 0 },
	{ "short-us", OPT_SHORT, "US", 0, "Service time of short requests (6)", 0 },
	{ "long-us", OPT_LONG, "US", 0, "Service time of long requests (60)", 0 },
	{ "queue-size", OPT_QSIZE, "N", 0, "cpumap queue size per CPU (4096)", 0 },
	{ "mode", OPT_MODE, "MODE", 0,
	  "XDP mode: native, skb or auto (native, skb with a warning if it fails)", 0 },
	{ "no-reply", OPT_NO_REPLY, NULL, 0, "Workers drop requests instead of replying", 0 },
	{ "worker-nice", OPT_NICE, "NICE", 0,
	  "Nice value (-20..19) of the cpumap worker kthreads (default: left alone)", 0 },
	{ "baseline", OPT_BASELINE, NULL, 0,
	  "Benchmark baseline: round robin of every packet to --cpus, dropped there", 0 },
	{ "swap", OPT_SWAP, NULL, 0,
	  "Send --policy/--cpus/--long-cpus/--min-cpus to the rss running on IFACE", 0 },
	{ "calibrate", OPT_CALIB, NULL, 0, "Print the calibration and exit", 0 },
	{},
};

/* Microseconds with up to 3 decimals, from 0 to @max_us; in ns. */
static __u64 opt_us(const char *what, const char *arg, __u64 max_us)
{
	uint64_t v;

	if (bn_parse_decimal(arg, &v) || v / 1000000 > max_us * 1000)
		bn_usage("invalid %s '%s': want microseconds from 0 to %llu", what, arg,
			 (unsigned long long)max_us);
	/* v is us * 10^9; keep ns */
	return v / 1000000;
}

static void opt_cpulist(const char *what, const char *arg, char *buf, size_t len)
{
	/* "" would read as "not given": all online CPUs */
	if (!*arg)
		bn_usage("invalid %s '': want a cpu list such as 0-3,6", what);
	if (strlen(arg) >= len)
		bn_usage("invalid %s '%.32s...': too long", what, arg);
	strcpy(buf, arg);
}

/* Options that may come together or not, once all are read. */
static void check_opts(void)
{
	if (!env.iface && !env.calib_only)
		bn_usage("-I IFACE is required");
	if (env.baseline && env.spec.policy > RSS_POL_RR)
		bn_usage("--baseline is round robin only");
	if (env.swap && env.spec.policy < 0 && !env.spec.cpus[0] &&
	    !env.spec.long_cpus[0] && !env.spec.min_cpus)
		bn_usage("--swap needs --policy, --cpus, --long-cpus or --min-cpus");
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'I':
		env.iface = arg;
		break;
	case OPT_PORT:
		env.port = bn_opt_u64("--port", arg, 1, 65535);
		break;
	case OPT_POLICY:
		env.spec.policy = bn_opt_name("--policy", arg, policy_names, RSS_NR_POLICIES);
		break;
	case OPT_CPUS:
		opt_cpulist("--cpus", arg, env.spec.cpus, sizeof(env.spec.cpus));
		break;
	case OPT_LONG_CPUS:
		opt_cpulist("--long-cpus", arg, env.spec.long_cpus, sizeof(env.spec.long_cpus));
		break;
	case OPT_MIN_CPUS:
		env.spec.min_cpus = bn_opt_u64("--min-cpus", arg, 1, RSS_MAX_GROUP);
		break;
	case OPT_GROW:
		env.grow_ns = opt_us("--grow-us", arg, 100000000);
		break;
	case OPT_SHRINK:
		env.shrink_ns = opt_us("--shrink-us", arg, 100000000);
		break;
	case OPT_SHORT:
		env.short_ns = opt_us("--short-us", arg, 5000);
		break;
	case OPT_LONG:
		env.long_ns = opt_us("--long-us", arg, 5000);
		break;
	case OPT_COOLDOWN:
		env.cooldown_ns = bn_opt_duration("--cooldown", arg, 1, BN_MAX_INTERVAL_NS);
		break;
	case OPT_PERIOD:
		env.period_ns = bn_opt_duration("--period", arg, 1000000, BN_MAX_INTERVAL_NS);
		break;
	case OPT_QSIZE:
		env.qsize = bn_opt_u64("--queue-size", arg, 1, 16384);
		break;
	case OPT_MODE:
		env.mode = bn_opt_name("--mode", arg, mode_names,
				       sizeof(mode_names) / sizeof(mode_names[0]));
		break;
	case OPT_NO_REPLY:
		env.no_reply = true;
		break;
	case OPT_SWAP:
		env.swap = true;
		break;
	case OPT_NICE: {
		int64_t n;

		if (bn_parse_s64(arg, -20, 19, &n))
			bn_usage("invalid --worker-nice '%s': want a number from -20 to 19", arg);
		env.worker_nice = n;
		env.set_nice = true;
		break;
	}
	case OPT_BASELINE:
		env.baseline = true;
		env.no_reply = true;
		break;
	case OPT_CALIB:
		env.calib_only = true;
		break;
	case ARGP_KEY_END:
		check_opts();
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- main ---- */

static int attach_xdp(struct rss_server *srv, int prog_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int fd;

	lo.flags = env.mode == 2 ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, env.ifindex, BPF_XDP, &lo);
	if (fd < 0 && env.mode == 0 && (errno == EOPNOTSUPP || errno == EINVAL)) {
		bn_warn("native XDP not supported on %s (%s): falling back to skb mode, "
			"which is much slower", env.iface, strerror(errno));
		lo.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, env.ifindex, BPF_XDP, &lo);
	} else if (fd >= 0 && env.mode == 2) {
		bn_warn("skb mode XDP on %s: much slower than native", env.iface);
	}
	if (fd < 0) {
		int err = -errno;

		bn_err("cannot attach XDP to %s: %s", env.iface,
		       err == -EBUSY || err == -EEXIST ?
		       "another XDP program is attached to it" : strerror(-err));
		return err;
	}
	srv->link_fd = fd;
	srv->skb_mode = lo.flags == XDP_FLAGS_SKB_MODE;
	return 0;
}

#define NR_TP_LINKS 5

static int setup_tracepoints(struct rss_bpf *skel, struct bpf_link **links)
{
	struct bpf_program *tps[NR_TP_LINKS] = {
		skel->progs.tp_cpumap_enqueue, skel->progs.tp_cpumap_kthread,
		skel->progs.tp_redirect_err, skel->progs.tp_devmap_xmit,
		skel->progs.tp_exception,
	};
	unsigned int i;

	for (i = 0; i < NR_TP_LINKS; i++) {
		if (!bpf_program__autoload(tps[i]))
			continue;
		links[i] = bpf_program__attach(tps[i]);
		if (!links[i]) {
			int err = -errno;

			bn_err("cannot attach %s: %s", bpf_program__name(tps[i]), strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The default group (every online CPU) and the start configuration. */
static int prepare_conf(struct rss_server *srv, struct rss_conf *base, int *min_cpus)
{
	char msg[CTL_MAX];
	int err;

	err = default_conf(srv, &env.spec, base, min_cpus, msg, sizeof(msg));
	if (err == -EIO) {
		bn_err("%s", msg);
		return BN_EXIT_ERR;
	}
	if (err)
		bn_usage("%s", msg);
	return BN_EXIT_OK;
}

/* Open and load the BPF object; *tp_ok: the xdp tracepoints are usable. */
static struct rss_bpf *load_bpf(int nr_cpus, bool *tp_ok)
{
	struct rss_bpf *skel;
	int err;

	skel = rss_bpf__open();
	if (!skel) {
		bn_err("cannot open the BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->rss_port = env.port;
	skel->rodata->no_reply = env.no_reply;
	bpf_map__set_max_entries(skel->maps.cpu_map, nr_cpus);
	*tp_ok = !bn_probe_hook(BN_HOOK_TP_BTF, "xdp_cpumap_enqueue");
	if (!*tp_ok) {
		bn_warn("tp_btf tracepoints unavailable: cpumap queue drops and reply "
			"transmit drops are not counted");
		bpf_program__set_autoload(skel->progs.tp_cpumap_enqueue, false);
		bpf_program__set_autoload(skel->progs.tp_cpumap_kthread, false);
		bpf_program__set_autoload(skel->progs.tp_redirect_err, false);
		bpf_program__set_autoload(skel->progs.tp_devmap_xmit, false);
		bpf_program__set_autoload(skel->progs.tp_exception, false);
	}
	err = rss_bpf__load(skel);
	if (err) {
		bn_err("cannot load the BPF programs: %s", strerror(-err));
		rss_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}
static int map_id(int fd, __u32 *id)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

/* Map ids for the tracepoints, the devmap entry for the replies. */
static int setup_maps(struct rss_bpf *skel)
{
	__u32 zero = 0;
	int err;

	err = map_id(bpf_map__fd(skel->maps.cpu_map), &skel->bss->cpumap_id);
	if (err) {
		bn_err("cannot read the cpumap id: %s", strerror(-err));
		return err;
	}
	err = map_id(bpf_map__fd(skel->maps.tx_port), &skel->bss->devmap_id);
	if (err) {
		bn_err("cannot read the devmap id: %s", strerror(-err));
		return err;
	}
	skel->bss->ifindex = env.ifindex;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.tx_port), &zero, &env.ifindex, 0)) {
		err = -errno;
		bn_err("cannot add %s to the devmap: %s", env.iface, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * Install the start configuration, attach the tracepoints and the scheduler;
 * after an error the caller detaches what is attached (srv->link_fd, @tp_links).
 */
static int start_server(struct rss_server *srv, const struct rss_conf *base, int min_cpus,
			bool tp_ok, struct bpf_link **tp_links)
{
	struct rss_bpf *skel = srv->skel;
	char msg[CTL_MAX];
	int err;

	srv->cur.policy = base->policy;
	srv->min_cpus = min_cpus;
	srv->run_start_ns = srv->active_since_ns = bn_now_ns();
	err = apply_conf(srv, base, msg, sizeof(msg));
	if (err) {
		bn_err("%s", msg);
		return err;
	}
	if (tp_ok) {
		err = setup_tracepoints(skel, tp_links);
		if (err)
			return err;
	}
	return attach_xdp(srv, bpf_program__fd(env.baseline ? skel->progs.rss_bare :
					       policy_prog(skel, base->policy)));
}

/* What runs, on stderr, once everything is attached. */
static void print_started(const struct rss_server *srv)
{
	char group[300];

	group_str(&srv->cur, group, sizeof(group));
	fprintf(stderr, "%s: %s: policy %s, group %s, port %u%s\n", bn_prog(),
		env.iface, env.baseline ? "baseline (every packet, round robin, dropped)" :
		policy_names[srv->cur.policy], group, env.port,
		env.no_reply ? ", no replies" : "");
}

/* What the loop's callbacks work on. */
struct run {
	struct rss_server *srv;
	struct rss_stats *rs;
	struct bn_loop loop;
	struct ctl *ctl;
	int dyn_fd;		/* timerfd: the dynamic policy's period */
	int nl_fd;		/* rtnetlink link events: is the interface still there? */
	bool dyn_armed;
	struct snap *prev, *cur;	/* the interval's ends */
	struct snap *dprev, *dcur;	/* the dynamic period's ends */
};

/* The dynamic period ticks only while the dynamic policy runs. */
static int arm_dynamic(struct run *r)
{
	bool want = r->srv->cur.policy == RSS_POL_DYNAMIC;
	struct itimerspec its = {};

	if (want == r->dyn_armed)
		return 0;
	if (want) {
		its.it_value.tv_sec = env.period_ns / 1000000000ULL;
		its.it_value.tv_nsec = env.period_ns % 1000000000ULL;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(r->dyn_fd, 0, &its, NULL))
		return -errno;
	r->dyn_armed = want;
	return 0;
}

static int on_ctl(void *ctx)
{
	struct run *r = ctx;

	ctl_process(r->ctl, r->srv);
	return arm_dynamic(r);
}

static int on_dynamic(void *ctx)
{
	struct run *r = ctx;
	__u64 expirations;

	if (read(r->dyn_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return -errno;
	if (r->srv->cur.policy != RSS_POL_DYNAMIC || read_snap(r->rs, r->srv->skel, r->dcur))
		return 0;
	dynamic_step(r->srv, r->dprev, r->dcur);
	*r->dprev = *r->dcur;
	return 0;
}

/* -ENODEV once the interface is gone (deleted or moved to another netns). */
static int iface_check(void)
{
	char name[IF_NAMESIZE];

	return bn_ifname(env.ifindex, name) ? -ENODEV : 0;
}

/* Link events: the loop ends when our interface is deleted. */
static int on_link(void *ctx)
{
	struct run *r = ctx;
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	struct ifinfomsg *ifi;
	int n;

	for (;;) {
		n = recv(r->nl_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)	/* ENOBUFS: events lost, look for ourselves */
			return errno == EAGAIN || errno == EINTR ? 0 : iface_check();
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned int)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != RTM_DELLINK ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
				continue;
			ifi = NLMSG_DATA(nh);
			if (ifi->ifi_index == env.ifindex)
				return -ENODEV;
		}
	}
}

static int link_watch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Each interval: one record. */
static int on_tick(void *ctx)
{
	struct run *r = ctx;
	struct rss_server *srv = r->srv;

	if (iface_check())
		return -ENODEV;
	on_ctl(r);		/* times out idle control connections */
	if (r->rs->kt.n < bn_cpuset_count(&srv->installed))
		kthreads_scan(&r->rs->kt, srv->skel->bss->cpumap_id);
	if (!read_snap(r->rs, srv->skel, r->cur)) {
		print_stats(r->rs, srv, r->prev, r->cur);
		*r->prev = *r->cur;
	}
	return 0;
}

static int run_init(struct run *r, struct ctl *ctl)
{
	int err;

	r->ctl = ctl;
	r->dyn_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->dyn_fd < 0)
		return -errno;
	err = bn_loop_init(&r->loop, env.cli.interval_ns, env.cli.duration_ns);
	if (!err)
		err = bn_loop_add(&r->loop, ctl->epfd, on_ctl, r);
	if (!err)
		err = bn_loop_add(&r->loop, r->dyn_fd, on_dynamic, r);
	if (!err)
		err = arm_dynamic(r);
	if (err)
		return err;
	r->nl_fd = link_watch_open();
	if (r->nl_fd < 0)
		return r->nl_fd;
	return bn_loop_add(&r->loop, r->nl_fd, on_link, r);
}

/*
 * Serve the control socket, steer the dynamic group each period and print a
 * record each interval until a signal or the end of --duration (which gets a
 * last record). @snaps: 4 snapshots; the last one read is left in snaps[1].
 */
static int stats_loop(struct rss_server *srv, struct rss_stats *rs, struct ctl *ctl,
		      struct snap *snaps)
{
	struct run r = {
		.srv = srv, .rs = rs, .dyn_fd = -1, .nl_fd = -1,
		.prev = &snaps[0], .cur = &snaps[1], .dprev = &snaps[2], .dcur = &snaps[3],
	};
	int err;

	err = run_init(&r, ctl);
	if (err) {
		bn_err("cannot set up the main loop: %s", strerror(-err));
		goto out;
	}
	print_header(rs);
	err = read_snap(rs, srv->skel, r.prev);
	if (err) {
		bn_err("cannot read the statistics: %s", strerror(-err));
		goto out;
	}
	*r.dprev = *r.prev;
	/* deleted before the watch began? */
	err = iface_check();
	if (!err) {
		bn_ready();
		err = bn_loop_run(&r.loop, on_tick, &r);
	}
	if (err == -ENODEV)
		bn_err("stopped: %s is gone (deleted or moved to another network namespace)",
		       env.iface);
	else if (err)
		bn_err("main loop: %s", strerror(-err));
	else if (!bn_stop)
		on_tick(&r);
out:
	bn_loop_close(&r.loop);
	if (r.dyn_fd >= 0)
		close(r.dyn_fd);
	if (r.nl_fd >= 0)
		close(r.nl_fd);
	return err;
}

/* Detach the scheduler first (closing its link), then everything else. */
static void teardown(struct rss_server *srv, struct bpf_link **tp_links, struct ctl *ctl)
{
	int i;

	if (srv->link_fd >= 0)
		close(srv->link_fd);
	srv->link_fd = -1;
	for (i = 0; i < NR_TP_LINKS; i++)
		bpf_link__destroy(tp_links[i]);
	ctl_close(ctl);
	rss_bpf__destroy(srv->skel);
	srv->skel = NULL;
}

int main(int argc, char **argv)
{
	struct bpf_link *tp_links[NR_TP_LINKS] = {};
	struct rss_server srv = { .env = &env, .link_fd = -1 };
	struct rss_stats rs = {};
	struct snap *snaps = NULL;
	struct rss_conf base = {};
	struct ctl ctl = { .lfd = -1, .epfd = -1 };
	int ret = BN_EXIT_ERR, min_cpus;
	bool tp_ok;

	bn_log_init("rss");
	bn_cli_parse(&env.cli, opts, parse_arg, args_doc, doc, &env, argc, argv);
	bn_stdout_setup();
	if (env.iface) {
		env.ifindex = bn_ifindex(env.iface);
		if (env.ifindex < 0) {
			bn_err("cannot attach to %s: no such interface", env.iface);
			return BN_EXIT_ERR;
		}
	}
	if (env.swap)
		return ctl_swap(&env);
	ret = prepare_conf(&srv, &base, &min_cpus);
	if (ret != BN_EXIT_OK)
		return ret;
	ret = BN_EXIT_ERR;
	if (bn_check_caps())
		return BN_EXIT_ERR;
	bn_libbpf_setup();
	if (bn_signals_setup()) {
		bn_err("cannot install signal handlers: %s", strerror(errno));
		return BN_EXIT_ERR;
	}

	if (!env.calib_only) {
		char msg[CTL_MAX];

		if (ctl_open(&ctl, &env, msg, sizeof(msg))) {
			bn_err("cannot attach to %s: %s", env.iface, msg);
			goto cleanup;
		}
	}
	snaps = calloc(4, sizeof(*snaps));
	if (stats_init(&rs, &srv) || !snaps) {
		bn_err("cannot allocate memory");
		goto cleanup;
	}
	srv.skel = load_bpf(srv.nr_cpus, &tp_ok);
	if (!srv.skel)
		goto cleanup;
	srv.cpumap_fd = bpf_map__fd(srv.skel->maps.cpu_map);
	if (setup_service_time(&env, srv.skel))
		goto cleanup;
	if (env.calib_only) {
		ret = BN_EXIT_OK;
		goto cleanup;
	}
	if (setup_maps(srv.skel) || start_server(&srv, &base, min_cpus, tp_ok, tp_links))
		goto cleanup;
	/* native XDP sends the replies with ndo_xdp_xmit: can the veth peer take them? */
	if (!srv.skb_mode && !env.no_reply)
		veth_check(env.iface, env.ifindex);
	stats_columns(&rs, &srv);
	print_started(&srv);
	if (stats_loop(&srv, &rs, &ctl, snaps))
		goto cleanup;
	print_totals(&rs, &srv, &snaps[1]);
	ret = BN_EXIT_OK;
cleanup:
	teardown(&srv, tp_links, &ctl);
	stats_free(&rs);
	free(snaps);
	return ret;
}
