// SPDX-License-Identifier: GPL-2.0
/*
 * rss - receive-side scaling policies in XDP: the server side.
 *
 * Attaches a scheduler XDP program (one per policy) to an interface with a
 * bpf_link, installs the per-CPU worker as the cpumap program of every CPU
 * it may use, calibrates the workers' service time, and prints statistics
 * each interval. The dynamic policy's group is steered from here. A running
 * server takes new policies and groups from `rss --swap` over an abstract
 * unix socket of its network namespace, without detaching.
 */
#include <argp.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/if_link.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "rss.h"
#include "rss_hist.h"
#include "rss.skel.h"

#define CTL_MAX 1024

static const char *policy_names[RSS_NR_POLICIES] = {
	[RSS_POL_RR] = "rr",
	[RSS_POL_SPLIT] = "split",
	[RSS_POL_DYNAMIC] = "dynamic",
	[RSS_POL_HASH] = "hash",
	[RSS_POL_JSQ] = "jsq",
	[RSS_POL_P2C] = "p2c",
};

/* What a policy needs: given on the command line or by --swap. */
struct policy_spec {
	int policy;		/* -1: not given */
	char cpus[256];		/* "" = not given */
	char long_cpus[256];
	int min_cpus;		/* 0 = not given */
};

static struct env {
	const char *iface;
	int ifindex;
	__u16 port;
	struct policy_spec spec;
	__u64 grow_ns;
	__u64 shrink_ns;
	__u64 cooldown_ns;
	__u64 period_ns;
	__u64 short_ns;
	__u64 long_ns;
	__u32 qsize;
	int mode;		/* 0 auto, 1 native, 2 skb */
	bool no_reply;
	bool baseline;
	bool swap;
	bool calib_only;
	bool set_nice;
	int worker_nice;
	bool json;
	uint64_t duration_ns;
	uint64_t interval_ns;
} env = {
	.port = 9000,
	.spec = { .policy = -1 },
	.grow_ns = 20000,
	.shrink_ns = 5000,
	.cooldown_ns = 500000000ULL,
	.period_ns = 100000000ULL,
	.short_ns = 6000,
	.long_ns = 60000,
	.qsize = 4096,
	.interval_ns = 1000000000ULL,
};

const char *argp_program_version = "rss " BN_VERSION;
const char *argp_program_bug_address = "<bpfnet@localhost>";
static const char doc[] =
"rss: receive-side scaling policies in XDP, with per-CPU workers.\n"
"\n"
"USAGE: rss -I IFACE [--policy rr|split|dynamic|hash|jsq|p2c] [--cpus LIST]\n"
"           [--long-cpus LIST] [--port PORT] [-i SECONDS] [-d SECONDS] [-j]\n"
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
"    rss -I eth0 --swap --policy hash --cpus 0-3  # change a running server\n";

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
	{ "cooldown", OPT_COOLDOWN, "SECONDS", 0,
	  "dynamic: least time between two group changes (0.5)", 0 },
	{ "period", OPT_PERIOD, "SECONDS", 0, "dynamic: evaluation period (0.1)", 0 },
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
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after this long", 0 },
	{ "interval", 'i', "SECONDS", 0, "Statistics interval (default 1)", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose (twice: libbpf debug)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{},
};

static int parse_policy(const char *s)
{
	int i;

	for (i = 0; i < RSS_NR_POLICIES; i++)
		if (!strcmp(s, policy_names[i]))
			return i;
	return -1;
}

static int parse_us(const char *s, __u64 *ns, bool zero_ok)
{
	uint64_t v;

	if (bn_parse_decimal(s, &v))
		return -EINVAL;
	/* v is us * 10^9; keep ns */
	v /= 1000000;
	if (!zero_ok && !v)
		return -ERANGE;
	if (v > 100000000ULL)	/* 100 s */
		return -ERANGE;
	*ns = v;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	uint64_t v;

	switch (key) {
	case 'I':
		env.iface = arg;
		break;
	case OPT_PORT:
		if (bn_parse_u64(arg, 1, 65535, &v))
			argp_error(state, "invalid port: %s", arg);
		env.port = v;
		break;
	case OPT_POLICY:
		env.spec.policy = parse_policy(arg);
		if (env.spec.policy < 0)
			argp_error(state, "unknown policy: %s (rr, split, dynamic, hash, jsq, p2c)",
				   arg);
		break;
	case OPT_CPUS:
	case OPT_LONG_CPUS:
		if (strlen(arg) >= sizeof(env.spec.cpus))
			argp_error(state, "cpu list too long: %s", arg);
		strcpy(key == OPT_CPUS ? env.spec.cpus : env.spec.long_cpus, arg);
		break;
	case OPT_MIN_CPUS:
		if (bn_parse_u64(arg, 1, RSS_MAX_GROUP, &v))
			argp_error(state, "invalid --min-cpus: %s", arg);
		env.spec.min_cpus = v;
		break;
	case OPT_GROW:
	case OPT_SHRINK:
		if (parse_us(arg, key == OPT_GROW ? &env.grow_ns : &env.shrink_ns, true))
			argp_error(state, "invalid time in us: %s", arg);
		break;
	case OPT_SHORT:
	case OPT_LONG:
		if (parse_us(arg, key == OPT_SHORT ? &env.short_ns : &env.long_ns, true) ||
		    (key == OPT_SHORT ? env.short_ns : env.long_ns) > 5000000)
			argp_error(state, "invalid service time (0-5000 us): %s", arg);
		break;
	case OPT_COOLDOWN:
	case OPT_PERIOD:
		if (bn_parse_duration(arg, 1000000000ULL, &v))
			argp_error(state, "invalid duration: %s", arg);
		if (key == OPT_COOLDOWN)
			env.cooldown_ns = v;
		else
			env.period_ns = v;
		break;
	case OPT_QSIZE:
		if (bn_parse_u64(arg, 1, 16384, &v))
			argp_error(state, "invalid queue size (1-16384): %s", arg);
		env.qsize = v;
		break;
	case OPT_MODE:
		if (!strcmp(arg, "auto"))
			env.mode = 0;
		else if (!strcmp(arg, "native"))
			env.mode = 1;
		else if (!strcmp(arg, "skb"))
			env.mode = 2;
		else
			argp_error(state, "invalid mode: %s (native, skb, auto)", arg);
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
			argp_error(state, "invalid nice value (-20..19): %s", arg);
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
	case 'j':
		env.json = true;
		break;
	case 'd':
		if (bn_parse_duration(arg, 1000000000ULL, &env.duration_ns))
			argp_error(state, "invalid duration: %s", arg);
		break;
	case 'i':
		if (bn_parse_duration(arg, 1000000000ULL, &env.interval_ns) ||
		    env.interval_ns < 10000000ULL)
			argp_error(state, "invalid interval (>= 0.01 s): %s", arg);
		break;
	case 'v':
		bn_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s", arg);
		break;
	case ARGP_KEY_END:
		if (!env.iface && !env.calib_only)
			argp_error(state, "-I IFACE is required");
		if (env.baseline && env.spec.policy > RSS_POL_RR)
			argp_error(state, "--baseline is round robin only");
		if (env.swap && env.spec.policy < 0 && !env.spec.cpus[0] &&
		    !env.spec.long_cpus[0] && !env.spec.min_cpus)
			argp_error(state,
				   "--swap needs --policy, --cpus, --long-cpus or --min-cpus");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- CPUs ---- */

static int nr_cpus;
static struct bn_cpuset online;

static int read_online(void)
{
	char buf[512];
	FILE *f;
	int err;

	f = fopen("/sys/devices/system/cpu/online", "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	err = bn_parse_cpulist(buf, nr_cpus, &online);
	return err;
}

/* Parse @s into @cpus; an error message into @msg on failure. */
static int parse_group(const char *what, const char *s, __u32 *cpus, __u32 *n, char *msg,
		       size_t len)
{
	struct bn_cpuset set;
	int err, c;

	err = bn_parse_cpulist(s, BN_MAX_CPUS, &set);
	if (err) {
		snprintf(msg, len, "invalid %s list '%s'", what, s);
		return err;
	}
	*n = 0;
	for (c = 0; c < BN_MAX_CPUS; c++) {
		if (!bn_cpuset_has(&set, c))
			continue;
		if (c >= nr_cpus || !bn_cpuset_has(&online, c)) {
			snprintf(msg, len, "invalid %s list '%s': cpu %d does not exist%s", what,
				 s, c, c < nr_cpus ? " (offline)" : "");
			return -ERANGE;
		}
		if (*n >= RSS_MAX_GROUP) {
			snprintf(msg, len, "invalid %s list '%s': more than %d cpus", what, s,
				 RSS_MAX_GROUP);
			return -E2BIG;
		}
		cpus[(*n)++] = c;
	}
	return 0;
}

/* The running state a spec applies to. */
struct state {
	struct rss_bpf *skel;
	int link_fd;
	int cpumap_fd;
	struct rss_conf cur;	/* what the programs run with */
	int min_cpus;
	struct bn_cpuset installed;	/* CPUs with a cpumap entry */
	__u64 last_change_ns;
	__u64 below_since_ns;
	/* dynamic: integral of n_active over time, for the average */
	double active_integral;
	__u64 active_since_ns;
	double run_active_integral;
	__u64 run_start_ns;
};

/* Build a configuration from @spec on top of @base; message into @msg. */
static int build_conf(const struct policy_spec *spec, const struct rss_conf *base,
		      int base_min, struct rss_conf *out, int *min_out, char *msg, size_t len)
{
	struct rss_conf c = *base;
	int min_cpus = spec->min_cpus ? spec->min_cpus : base_min;
	int err;

	if (spec->policy >= 0)
		c.policy = spec->policy;
	if (spec->cpus[0]) {
		err = parse_group("cpu", spec->cpus, c.cpus, &c.n_cpus, msg, len);
		if (err)
			return err;
	}
	if (spec->long_cpus[0]) {
		err = parse_group("long cpu", spec->long_cpus, c.long_cpus, &c.n_long, msg, len);
		if (err)
			return err;
	} else if (c.policy != RSS_POL_SPLIT) {
		c.n_long = 0;
	}
	if (c.n_cpus == 0) {
		snprintf(msg, len, "empty cpu group");
		return -EINVAL;
	}
	if (c.policy == RSS_POL_SPLIT && c.n_long == 0) {
		snprintf(msg, len, "policy split needs --long-cpus");
		return -EINVAL;
	}
	if (min_cpus < 1)
		min_cpus = 1;
	if ((__u32)min_cpus > c.n_cpus) {
		snprintf(msg, len, "--min-cpus %d is more than the %u cpus of the group",
			 min_cpus, c.n_cpus);
		return -EINVAL;
	}
	/*
	 * While the program is swapped, the old program may run with the new
	 * configuration and the other way round: keep every field valid for
	 * every program (long group = the group, all CPUs active).
	 */
	if (c.policy != RSS_POL_SPLIT) {
		memcpy(c.long_cpus, c.cpus, sizeof(c.cpus));
		c.n_long = c.n_cpus;
	}
	if (c.policy == RSS_POL_DYNAMIC) {
		if (spec->policy >= 0 || spec->cpus[0] || spec->min_cpus ||
		    base->policy != RSS_POL_DYNAMIC)
			c.n_active = min_cpus;
		if (c.n_active > c.n_cpus)
			c.n_active = c.n_cpus;
	} else {
		c.n_active = c.n_cpus;
	}
	*out = c;
	*min_out = min_cpus;
	return 0;
}

static int install_cpu(struct state *st, __u32 cpu)
{
	struct bpf_cpumap_val val = {
		.qsize = env.qsize,
		.bpf_prog.fd = bpf_program__fd(env.baseline ? st->skel->progs.rss_bare_worker :
					       st->skel->progs.rss_worker),
	};
	int err;

	if (bn_cpuset_has(&st->installed, cpu))
		return 0;
	err = bpf_map_update_elem(st->cpumap_fd, &cpu, &val, 0);
	if (err)
		return -errno;
	bn_cpuset_add(&st->installed, cpu);
	return 0;
}

static double active_now(const struct state *st)
{
	if (st->cur.policy == RSS_POL_SPLIT) {
		struct bn_cpuset u = {};
		__u32 i;

		for (i = 0; i < st->cur.n_cpus; i++)
			bn_cpuset_add(&u, st->cur.cpus[i]);
		for (i = 0; i < st->cur.n_long; i++)
			bn_cpuset_add(&u, st->cur.long_cpus[i]);
		return bn_cpuset_count(&u);
	}
	return st->cur.n_active;
}

static void account_active(struct state *st, __u64 now)
{
	double a = active_now(st), dt = (now - st->active_since_ns) / 1e9;

	st->active_integral += a * dt;
	st->run_active_integral += a * dt;
	st->active_since_ns = now;
}

/* Make @c what the programs run with; swap the XDP program if needed. */
static int apply_conf(struct state *st, const struct rss_conf *c, char *msg, size_t len)
{
	struct rss_bpf *skel = st->skel;
	struct bpf_program *progs[RSS_NR_POLICIES] = {
		skel->progs.rss_rr, skel->progs.rss_split, skel->progs.rss_dynamic,
		skel->progs.rss_hash, skel->progs.rss_jsq, skel->progs.rss_p2c,
	};
	__u32 i, next;
	int err;

	for (i = 0; i < c->n_cpus; i++) {
		err = install_cpu(st, c->cpus[i]);
		if (err)
			goto fail_cpu;
	}
	for (i = 0; i < c->n_long; i++) {
		err = install_cpu(st, c->long_cpus[i]);
		if (err)
			goto fail_cpu;
	}
	account_active(st, bn_now_ns());
	next = !(skel->bss->conf_idx & 1);
	skel->bss->conf[next] = *c;
	__sync_synchronize();
	*(volatile __u32 *)&skel->bss->conf_idx = next;
	__sync_synchronize();
	if (st->link_fd >= 0 && c->policy != st->cur.policy && !env.baseline) {
		err = bpf_link_update(st->link_fd, bpf_program__fd(progs[c->policy]), NULL);
		if (err) {
			err = -errno;
			/* the old program keeps running: with its own configuration */
			*(volatile __u32 *)&skel->bss->conf_idx = !next;
			__sync_synchronize();
			snprintf(msg, len, "cannot swap to policy %s: %s", policy_names[c->policy],
				 strerror(-err));
			return err;
		}
	}
	st->cur = *c;
	return 0;
fail_cpu:
	snprintf(msg, len, "cannot add a cpumap entry (queue size %u): %s", env.qsize,
		 strerror(-err));
	return err;
}

static void group_str(const struct rss_conf *c, char *buf, size_t len)
{
	size_t off = 0;
	__u32 i, n = c->policy == RSS_POL_DYNAMIC ? c->n_active : c->n_cpus;

	buf[0] = 0;
	for (i = 0; i < n && off + 8 < len; i++)
		off += snprintf(buf + off, len - off, "%s%u", i ? "," : "", c->cpus[i]);
	if (c->policy == RSS_POL_SPLIT) {
		off += snprintf(buf + off, len - off, "|");
		for (i = 0; i < c->n_long && off + 8 < len; i++)
			off += snprintf(buf + off, len - off, "%s%u", i ? "," : "",
					c->long_cpus[i]);
	}
}

/* ---- calibration ---- */

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int calibrate(struct rss_bpf *skel, double *ns_per_iter)
{
	char pkt[64] = {};
	__u64 runs[11];
	int i, err;
	LIBBPF_OPTS(bpf_test_run_opts, topts,
		.data_in = pkt,
		.data_size_in = sizeof(pkt),
		.repeat = 1,
	);

	skel->bss->calib_iters = 200000;
	for (i = 0; i < 11; i++) {
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.rss_calib), &topts);
		if (err)
			return -errno;
		runs[i] = skel->bss->calib_ns;
	}
	/* the fastest run: the least disturbed by interrupts and preemption */
	qsort(runs, 11, sizeof(runs[0]), cmp_u64);
	*ns_per_iter = (double)runs[0] / 200000.0;
	if (*ns_per_iter <= 0)
		*ns_per_iter = 0.001;
	return 0;
}

/* ---- cpumap kthread utilisation from /proc ---- */

struct kthr {
	int pid;
	int cpu;
	__u64 ticks;
};

static struct kthr kthr[RSS_MAX_CPUS];
static int nkthr;

static int read_ticks(int pid, __u64 *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long ut, stt;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p)
		return -EINVAL;
	/* after ")": state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
		return -EINVAL;
	*ticks = ut + stt;
	return 0;
}

static void scan_kthreads(__u32 map_id)
{
	char path[300], comm[64], want[32], *idp;
	struct dirent *de;
	DIR *d;
	int cpu;
	unsigned int id;
	FILE *f;

	nkthr = 0;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)) && nkthr < RSS_MAX_CPUS) {
		if (!isdigit(de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		if (strncmp(comm, "cpumap/", 7))
			continue;
		/*
		 * comm is cut at 15 characters ("cpumap/1/map:12"): a cut id
		 * matches on its prefix, an uncut one exactly.
		 */
		if (sscanf(comm, "cpumap/%d/map:%u", &cpu, &id) != 2)
			continue;
		snprintf(want, sizeof(want), "%u", map_id);
		comm[strcspn(comm, "\n")] = 0;
		idp = strchr(comm, ':') + 1;
		if (strlen(comm) < 15 ? strcmp(idp, want) : strncmp(idp, want, strlen(idp)))
			continue;
		kthr[nkthr].pid = atoi(de->d_name);
		kthr[nkthr].cpu = cpu;
		if (env.set_nice && setpriority(PRIO_PROCESS, kthr[nkthr].pid, env.worker_nice))
			bn_warn("cannot renice the worker of cpu %d: %s", cpu, strerror(errno));
		if (read_ticks(kthr[nkthr].pid, &kthr[nkthr].ticks))
			continue;
		nkthr++;
	}
	closedir(d);
}

/* Utilisation in % of each worker CPU's kthread since the last call. */
static void kthread_util(double *util, double dt_s)
{
	long hz = sysconf(_SC_CLK_TCK);
	__u64 t;
	int i;

	for (i = 0; i < nkthr; i++) {
		if (read_ticks(kthr[i].pid, &t))
			continue;
		if (kthr[i].cpu >= 0 && kthr[i].cpu < nr_cpus && dt_s > 0)
			util[kthr[i].cpu] = 100.0 * (t - kthr[i].ticks) / hz / dt_s;
		kthr[i].ticks = t;
	}
}

/* ---- statistics ---- */

struct snap {
	struct rss_sched_stats s;
	struct rss_tp_stats tp;
	__u64 done[RSS_MAX_CPUS][RSS_NR_CLASSES];
	__u64 replied[RSS_MAX_CPUS];
	__u64 bad;
	__u64 qsum[RSS_MAX_CPUS];
	__u64 ssum[RSS_MAX_CPUS];
	__u64 qhist[RSS_HIST_BUCKETS];
	__u64 t_ns;
};

static void *percpu_buf;

static int read_snap(struct rss_bpf *skel, struct snap *sn)
{
	size_t vs;
	__u32 zero = 0;
	int c, i;

	memset(sn, 0, sizeof(*sn));
	sn->t_ns = bn_now_ns();
	vs = (sizeof(struct rss_worker_stats) + 7) & ~7UL;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.worker_stats), &zero, percpu_buf))
		return -errno;
	for (c = 0; c < nr_cpus; c++) {
		struct rss_worker_stats *w = percpu_buf + c * vs;

		sn->done[c][0] = w->done[0];
		sn->done[c][1] = w->done[1];
		sn->replied[c] = w->replied;
		sn->bad += w->bad;
		sn->qsum[c] = w->qdelay_sum_ns;
		sn->ssum[c] = w->service_sum_ns;
		for (i = 0; i < RSS_HIST_BUCKETS; i++)
			sn->qhist[i] += w->qhist[i];
	}
	vs = (sizeof(struct rss_sched_stats) + 7) & ~7UL;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sched_stats), &zero, percpu_buf))
		return -errno;
	for (c = 0; c < nr_cpus; c++) {
		__u64 *a = (__u64 *)&sn->s, *b = percpu_buf + c * vs;

		for (i = 0; i < (int)(sizeof(sn->s) / 8); i++)
			a[i] += b[i];
	}
	vs = (sizeof(struct rss_tp_stats) + 7) & ~7UL;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.tp_stats), &zero, percpu_buf))
		return -errno;
	for (c = 0; c < nr_cpus; c++) {
		__u64 *a = (__u64 *)&sn->tp, *b = percpu_buf + c * vs;

		for (i = 0; i < (int)(sizeof(sn->tp) / 8); i++)
			a[i] += b[i];
	}
	return 0;
}

static struct bn_cpuset cols;	/* CPUs with per-CPU columns */

static void print_header(void)
{
	int c;

	if (env.json)
		return;
	printf("%-8s %9s %9s %8s %8s %8s %8s %8s %9s %8s %9s %9s %10s %-12s %6s %8s",
	       "time_s", "rx_rps", "tx_rps", "drop_q", "drop_rdr", "drop_kth", "drop_tx",
	       "drop_cpu", "malformed", "passed", "q_avg_us", "q_p99_us", "svc_avg_us",
	       "group", "cpus", "inflight");
	for (c = 0; c < nr_cpus; c++)
		if (bn_cpuset_has(&cols, c))
			printf(" cpu%d_rps cpu%d_util_pct", c, c);
	printf("\n");
}

static void print_stats(struct state *st, const struct snap *a, const struct snap *b,
			__u64 start_ns)
{
	double dt = (b->t_ns - a->t_ns) / 1e9, util[RSS_MAX_CPUS] = {};
	__u64 hist[RSS_HIST_BUCKETS], n = 0, qsum = 0, ssum = 0, tx = 0;
	__u64 malformed, drop_rdr, cpu_done[RSS_MAX_CPUS];
	double active, qavg, qp99, savg;
	__s64 inflight = 0;
	char group[512];
	struct bn_json j;
	int c, i;

	for (i = 0; i < RSS_HIST_BUCKETS; i++) {
		hist[i] = b->qhist[i] - a->qhist[i];
		n += hist[i];
	}
	for (c = 0; c < nr_cpus; c++)
		inflight += __atomic_load_n(&st->skel->bss->handed[c * RSS_LINE],
					    __ATOMIC_RELAXED) -
			    (__s64)__atomic_load_n(&st->skel->bss->taken[c * RSS_LINE],
						   __ATOMIC_RELAXED);
	for (c = 0; c < nr_cpus; c++) {
		cpu_done[c] = b->done[c][0] + b->done[c][1] - a->done[c][0] - a->done[c][1];
		qsum += b->qsum[c] - a->qsum[c];
		ssum += b->ssum[c] - a->ssum[c];
		tx += env.no_reply ? cpu_done[c] : b->replied[c] - a->replied[c];
	}
	qavg = n ? qsum / 1e3 / n : NAN;
	savg = n ? ssum / 1e3 / n : NAN;
	qp99 = rss_hist_buckets_percentile(hist, 99) / 1e3;
	malformed = (b->s.short_pkt + b->s.bad_magic + b->s.bad_class + b->s.bad_hdr) -
		    (a->s.short_pkt + a->s.bad_magic + a->s.bad_class + a->s.bad_hdr);
	drop_rdr = (b->s.redirect_fail - a->s.redirect_fail) +
		   (b->tp.redirect_err - a->tp.redirect_err);
	account_active(st, b->t_ns);
	active = dt > 0 ? st->active_integral / dt : active_now(st);
	st->active_integral = 0;
	kthread_util(util, dt);
	group_str(&st->cur, group, sizeof(group));
	if (dt <= 0)
		dt = 1e-9;

	if (env.json) {
		char key[48];

		bn_json_begin(&j, stdout);
		bn_json_double(&j, "time_s", (b->t_ns - start_ns) / 1e9, 3);
		bn_json_str(&j, "policy", policy_names[st->cur.policy]);
		bn_json_double(&j, "rx_rps", (b->s.rx - a->s.rx) / dt, 1);
		bn_json_double(&j, "tx_rps", tx / dt, 1);
		bn_json_u64(&j, "rx", b->s.rx - a->s.rx);
		bn_json_u64(&j, "tx", tx);
		bn_json_u64(&j, "rx_short", b->s.rx_class[0] - a->s.rx_class[0]);
		bn_json_u64(&j, "rx_long", b->s.rx_class[1] - a->s.rx_class[1]);
		bn_json_u64(&j, "drop_queue", b->tp.enq_drops - a->tp.enq_drops);
		bn_json_u64(&j, "drop_redirect", drop_rdr);
		bn_json_u64(&j, "drop_kthread", b->tp.kthread_drops - a->tp.kthread_drops);
		bn_json_u64(&j, "drop_xmit", b->tp.xmit_drops - a->tp.xmit_drops);
		bn_json_u64(&j, "drop_no_cpu", b->s.no_cpu - a->s.no_cpu);
		bn_json_u64(&j, "drop_worker", b->bad - a->bad);
		bn_json_u64(&j, "malformed", malformed);
		bn_json_u64(&j, "short_pkt", b->s.short_pkt - a->s.short_pkt);
		bn_json_u64(&j, "bad_magic", b->s.bad_magic - a->s.bad_magic);
		bn_json_u64(&j, "bad_class", b->s.bad_class - a->s.bad_class);
		bn_json_u64(&j, "bad_hdr", b->s.bad_hdr - a->s.bad_hdr);
		bn_json_u64(&j, "passed", b->s.passed - a->s.passed);
		bn_json_double(&j, "q_avg_us", qavg, 2);
		bn_json_double(&j, "q_p99_us", qp99, 2);
		bn_json_double(&j, "svc_avg_us", savg, 2);
		bn_json_str(&j, "group", group);
		bn_json_double(&j, "cpus", active, 2);
		bn_json_s64(&j, "inflight", inflight);
		for (c = 0; c < nr_cpus; c++) {
			if (!bn_cpuset_has(&cols, c))
				continue;
			snprintf(key, sizeof(key), "cpu%d_rps", c);
			bn_json_double(&j, key, cpu_done[c] / dt, 1);
			snprintf(key, sizeof(key), "cpu%d_short", c);
			bn_json_u64(&j, key, b->done[c][0] - a->done[c][0]);
			snprintf(key, sizeof(key), "cpu%d_long", c);
			bn_json_u64(&j, key, b->done[c][1] - a->done[c][1]);
			snprintf(key, sizeof(key), "cpu%d_util_pct", c);
			bn_json_double(&j, key, util[c], 1);
		}
		bn_json_end(&j);
		return;
	}
	printf("%-8.2f %9.0f %9.0f %8llu %8llu %8llu %8llu %8llu %9llu %8llu %9.2f %9.2f %10.2f "
	       "%-12s %6.2f %8lld", (b->t_ns - start_ns) / 1e9, (b->s.rx - a->s.rx) / dt, tx / dt,
	       (unsigned long long)(b->tp.enq_drops - a->tp.enq_drops),
	       (unsigned long long)drop_rdr,
	       (unsigned long long)(b->tp.kthread_drops - a->tp.kthread_drops),
	       (unsigned long long)(b->tp.xmit_drops - a->tp.xmit_drops),
	       (unsigned long long)(b->s.no_cpu - a->s.no_cpu),
	       (unsigned long long)malformed, (unsigned long long)(b->s.passed - a->s.passed),
	       qavg, qp99, savg, group, active, (long long)inflight);
	for (c = 0; c < nr_cpus; c++)
		if (bn_cpuset_has(&cols, c))
			printf(" %9.0f %14.1f", cpu_done[c] / dt, util[c]);
	printf("\n");
}

/* ---- dynamic group ---- */

static void dynamic_step(struct state *st, const struct snap *a, const struct snap *b)
{
	__u64 n = 0, qsum = 0, now = b->t_ns;
	struct rss_conf c;
	char msg[CTL_MAX];
	double avg;
	int i;

	if (st->cur.policy != RSS_POL_DYNAMIC)
		return;
	for (i = 0; i < nr_cpus; i++) {
		n += b->done[i][0] + b->done[i][1] - a->done[i][0] - a->done[i][1];
		qsum += b->qsum[i] - a->qsum[i];
	}
	avg = n ? (double)qsum / n : 0;
	if (now - st->last_change_ns < env.cooldown_ns)
		return;
	c = st->cur;
	if (avg > env.grow_ns && c.n_active < c.n_cpus) {
		c.n_active++;
	} else if (avg < env.shrink_ns && c.n_active > (__u32)st->min_cpus) {
		/* shrink only after a whole cooldown below the threshold */
		if (!st->below_since_ns) {
			st->below_since_ns = now;
			return;
		}
		if (now - st->below_since_ns < env.cooldown_ns)
			return;
		c.n_active--;
	} else {
		if (avg >= env.shrink_ns)
			st->below_since_ns = 0;
		return;
	}
	if (apply_conf(st, &c, msg, sizeof(msg))) {
		bn_warn("dynamic: %s", msg);
		return;
	}
	bn_info("dynamic: average queuing delay %.1f us: group now %u cpus", avg / 1e3,
		c.n_active);
	st->last_change_ns = now;
	st->below_since_ns = 0;
}

/* ---- control socket ---- */

static void ctl_addr(struct sockaddr_un *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* abstract: per network namespace, gone with the process */
	*len = offsetof(struct sockaddr_un, sun_path) + 1 +
	       snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "bpfnet-rss.%d",
			env.ifindex);
}

static void spec_to_text(const struct policy_spec *sp, char *buf, size_t len)
{
	snprintf(buf, len, "policy=%s\ncpus=%s\nlong_cpus=%s\nmin_cpus=%d\n",
		 sp->policy >= 0 ? policy_names[sp->policy] : "", sp->cpus, sp->long_cpus,
		 sp->min_cpus);
}

static int text_to_spec(char *buf, struct policy_spec *sp)
{
	char *line, *save = NULL, *v;
	uint64_t n;

	memset(sp, 0, sizeof(*sp));
	sp->policy = -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		v = strchr(line, '=');
		if (!v)
			return -EINVAL;
		*v++ = 0;
		if (!strcmp(line, "policy")) {
			if (*v && (sp->policy = parse_policy(v)) < 0)
				return -EINVAL;
		} else if (!strcmp(line, "cpus")) {
			snprintf(sp->cpus, sizeof(sp->cpus), "%s", v);
		} else if (!strcmp(line, "long_cpus")) {
			snprintf(sp->long_cpus, sizeof(sp->long_cpus), "%s", v);
		} else if (!strcmp(line, "min_cpus")) {
			if (bn_parse_u64(v, 0, RSS_MAX_GROUP, &n))
				return -EINVAL;
			sp->min_cpus = n;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static int do_swap(void)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_un sa;
	char buf[CTL_MAX];
	socklen_t len;
	int fd, n, err;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		bn_err("cannot create a unix socket: %s", strerror(errno));
		return BN_EXIT_ERR;
	}
	/* a server that is stopped or stuck does not hang us */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		bn_err("cannot set a timeout on the unix socket: %s", strerror(errno));
		close(fd);
		return BN_EXIT_ERR;
	}
	ctl_addr(&sa, &len);
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		bn_err("cannot reach the rss running on %s: %s", env.iface,
		       errno == ECONNREFUSED ? "no rss runs on it in this network namespace" :
		       strerror(errno));
		close(fd);
		return BN_EXIT_ERR;
	}
	spec_to_text(&env.spec, buf, sizeof(buf));
	if (send(fd, buf, strlen(buf), 0) < 0) {
		bn_err("cannot send to the rss on %s: %s", env.iface, strerror(errno));
		close(fd);
		return BN_EXIT_ERR;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	err = n < 0 ? errno : 0;
	close(fd);
	if (n <= 0) {
		bn_err("no answer from the rss on %s: %s", env.iface,
		       err == EAGAIN || err == EWOULDBLOCK ?
		       "timed out after 5 s (it may still apply the change)" :
		       err ? strerror(err) : "connection closed");
		return BN_EXIT_ERR;
	}
	buf[n] = 0;
	if (strncmp(buf, "ok ", 3)) {
		bn_err("swap refused: %s", buf + (strncmp(buf, "err ", 4) ? 0 : 4));
		return BN_EXIT_ERR;
	}
	bn_info("swapped: %s", buf + 3);
	fprintf(stderr, "%s: now %s\n", bn_prog(), buf + 3);
	return BN_EXIT_OK;
}

static void ctl_handle(struct state *st, int lfd)
{
	struct policy_spec sp;
	struct rss_conf c;
	char buf[CTL_MAX], msg[CTL_MAX], group[300];
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, n, min_cpus;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* only root or our own user may change the policy */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != 0 && cred.uid != getuid())) {
		snprintf(msg, sizeof(msg), "err permission denied: run as root");
		send(fd, msg, strlen(msg), MSG_NOSIGNAL);
		close(fd);
		return;
	}
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0) {
		/* a client that connects and waits gets nothing: no blocking here */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 500) <= 0 || (n = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0) {
			close(fd);
			return;
		}
	}
	buf[n] = 0;
	if (text_to_spec(buf, &sp)) {
		snprintf(msg, sizeof(msg), "err malformed request");
	} else if (build_conf(&sp, &st->cur, st->min_cpus, &c, &min_cpus, msg + 4,
			      sizeof(msg) - 4) ||
		   apply_conf(st, &c, msg + 4, sizeof(msg) - 4)) {
		memcpy(msg, "err ", 4);
	} else {
		st->min_cpus = min_cpus;
		st->last_change_ns = bn_now_ns();
		group_str(&st->cur, group, sizeof(group));
		snprintf(msg, sizeof(msg), "ok policy %s group %s", policy_names[c.policy], group);
		bn_info("swap: %s", msg + 3);
	}
	send(fd, msg, strlen(msg), MSG_NOSIGNAL);
	close(fd);
}

static int ctl_listen(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	ctl_addr(&sa, &len);
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 4)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* ---- main ---- */

static int attach_xdp(struct state *st, int prog_fd)
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
	st->link_fd = fd;
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
static int prepare_conf(struct rss_conf *base, int *min_cpus)
{
	char msg[CTL_MAX];
	int c;

	nr_cpus = bn_nr_cpus();
	if (nr_cpus <= 0 || nr_cpus > RSS_MAX_CPUS || read_online()) {
		bn_err("cannot read the list of cpus");
		return BN_EXIT_ERR;
	}
	for (c = 0; c < nr_cpus && base->n_cpus < RSS_MAX_GROUP; c++)
		if (bn_cpuset_has(&online, c))
			base->cpus[base->n_cpus++] = c;
	if (env.spec.policy < 0)
		env.spec.policy = RSS_POL_RR;
	if (env.spec.policy == RSS_POL_SPLIT && !env.spec.cpus[0] && env.spec.long_cpus[0]) {
		struct bn_cpuset lset;
		__u32 i, n = 0;

		/* split without --cpus: the short group is every other online CPU */
		if (!bn_parse_cpulist(env.spec.long_cpus, BN_MAX_CPUS, &lset)) {
			for (i = 0; i < base->n_cpus; i++)
				if (!bn_cpuset_has(&lset, base->cpus[i]))
					base->cpus[n++] = base->cpus[i];
			base->n_cpus = n;
		}
	}
	if (build_conf(&env.spec, base, 1, base, min_cpus, msg, sizeof(msg))) {
		bn_err("%s", msg);
		return BN_EXIT_USAGE;
	}
	return BN_EXIT_OK;
}

/* Open and load the BPF object; *tp_ok: the xdp tracepoints are usable. */
static struct rss_bpf *load_bpf(bool *tp_ok)
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

/* bpf_loop iterations for @ns of service time; capped at what bpf_loop runs. */
static __u32 loop_iters(__u64 ns, double ns_per_iter)
{
	double n = ns / ns_per_iter + 0.5;

	if (n > RSS_MAX_LOOPS) {
		bn_warn("service time %.1f us capped at %.1f us: bpf_loop runs at most %u "
			"iterations", ns / 1e3, RSS_MAX_LOOPS * ns_per_iter / 1e3, RSS_MAX_LOOPS);
		return RSS_MAX_LOOPS;
	}
	return (__u32)n;
}

/* Calibrate the service loop, set the iterations of both classes, print them. */
static int setup_service_time(struct rss_bpf *skel)
{
	double ns_per_iter = 0;
	int err;

	err = calibrate(skel, &ns_per_iter);
	if (err) {
		bn_err("cannot calibrate the service loop: %s", strerror(-err));
		return err;
	}
	skel->bss->loop_iters[RSS_SHORT] = loop_iters(env.short_ns, ns_per_iter);
	skel->bss->loop_iters[RSS_LONG] = loop_iters(env.long_ns, ns_per_iter);
	fprintf(stderr, "%s: calibration: %.3f ns per bpf_loop iteration; short %.1f us = %u "
		"iterations, long %.1f us = %u iterations\n", bn_prog(), ns_per_iter,
		env.short_ns / 1e3, skel->bss->loop_iters[RSS_SHORT], env.long_ns / 1e3,
		skel->bss->loop_iters[RSS_LONG]);
	return 0;
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
 * after an error the caller detaches what is attached (st->link_fd, @tp_links).
 */
static int start_server(struct state *st, const struct rss_conf *base, int min_cpus,
			bool tp_ok, struct bpf_link **tp_links)
{
	struct rss_bpf *skel = st->skel;
	struct bpf_program *progs[RSS_NR_POLICIES] = {
		skel->progs.rss_rr, skel->progs.rss_split, skel->progs.rss_dynamic,
		skel->progs.rss_hash, skel->progs.rss_jsq, skel->progs.rss_p2c,
	};
	char msg[CTL_MAX], group[300];
	int err, c;

	st->cur.policy = base->policy;
	st->min_cpus = min_cpus;
	st->run_start_ns = st->active_since_ns = bn_now_ns();
	err = apply_conf(st, base, msg, sizeof(msg));
	if (err) {
		bn_err("%s", msg);
		return err;
	}
	if (tp_ok) {
		err = setup_tracepoints(skel, tp_links);
		if (err)
			return err;
	}
	err = attach_xdp(st, bpf_program__fd(env.baseline ? skel->progs.rss_bare :
					     progs[base->policy]));
	if (err)
		return err;
	scan_kthreads(skel->bss->cpumap_id);
	for (c = 0; c < nr_cpus; c++)
		if (bn_cpuset_has(&online, c) &&
		    (nr_cpus <= 64 || bn_cpuset_has(&st->installed, c)))
			bn_cpuset_add(&cols, c);
	group_str(&st->cur, group, sizeof(group));
	fprintf(stderr, "%s: %s: policy %s, group %s, port %u%s; Ctrl-C to stop\n", bn_prog(),
		env.iface, env.baseline ? "baseline (every packet, round robin, dropped)" :
		policy_names[base->policy], group, env.port, env.no_reply ? ", no replies" : "");
	return 0;
}

/*
 * Serve the control socket, steer the dynamic group each period and print the
 * statistics each interval until a signal or the end of --duration.
 * @snaps: 4 snapshots; the last one read is left in snaps[1].
 */
static int stats_loop(struct state *st, int ctl_fd, struct snap *snaps)
{
	struct snap *prev = &snaps[0], *cur = &snaps[1], *dprev = &snaps[2], *dcur = &snaps[3];
	struct rss_bpf *skel = st->skel;
	__u64 start, next_stats, next_dyn, end;
	int err;

	print_header();
	err = read_snap(skel, prev);
	if (err) {
		bn_err("cannot read the statistics: %s", strerror(-err));
		return err;
	}
	*dprev = *prev;
	start = prev->t_ns;
	next_stats = start + env.interval_ns;
	next_dyn = start + env.period_ns;
	end = env.duration_ns ? start + env.duration_ns : 0;
	while (!bn_stop) {
		struct pollfd p = { .fd = ctl_fd, .events = POLLIN };
		__u64 now = bn_now_ns(), wake = next_stats;
		int to;

		if (st->cur.policy == RSS_POL_DYNAMIC && next_dyn < wake)
			wake = next_dyn;
		if (end && end < wake)
			wake = end;
		to = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (poll(&p, 1, to) > 0)
			ctl_handle(st, ctl_fd);
		now = bn_now_ns();
		if (st->cur.policy == RSS_POL_DYNAMIC && now >= next_dyn) {
			if (!read_snap(skel, dcur)) {
				dynamic_step(st, dprev, dcur);
				*dprev = *dcur;
			}
			next_dyn = now + env.period_ns;
		}
		if (now >= next_stats || (end && now >= end)) {
			if (nkthr < bn_cpuset_count(&st->installed))
				scan_kthreads(skel->bss->cpumap_id);
			if (!read_snap(skel, cur)) {
				print_stats(st, prev, cur, start);
				*prev = *cur;
			}
			next_stats += env.interval_ns;
			if (next_stats < now)
				next_stats = now + env.interval_ns;
		}
		if (end && now >= end)
			break;
	}
	return 0;
}

/* The run's totals to stderr, from a last snapshot into @cur. */
static void print_totals(struct state *st, struct snap *cur)
{
	__u64 replied = 0;
	int c;

	if (read_snap(st->skel, cur))
		return;
	for (c = 0; c < nr_cpus; c++)
		replied += cur->replied[c];
	account_active(st, cur->t_ns);
	fprintf(stderr, "%s: total: %llu requests in, %llu redirected, %llu replies, "
		"%llu queue drops, %llu worker drops, %llu malformed, %llu passed, "
		"%.2f cpus on average\n",
		bn_prog(), (unsigned long long)cur->s.rx,
		(unsigned long long)(cur->s.redirected),
		(unsigned long long)replied,
		(unsigned long long)cur->tp.enq_drops,
		(unsigned long long)cur->bad,
		(unsigned long long)(cur->s.short_pkt + cur->s.bad_magic +
				     cur->s.bad_class + cur->s.bad_hdr),
		(unsigned long long)cur->s.passed,
		(cur->t_ns > st->run_start_ns) ?
		st->run_active_integral / ((cur->t_ns - st->run_start_ns) / 1e9) : 0.0);
}

/* Detach the scheduler first (closing its link), then everything else. */
static void teardown(struct state *st, struct bpf_link **tp_links, int ctl_fd)
{
	int i;

	if (st->link_fd >= 0)
		close(st->link_fd);
	st->link_fd = -1;
	for (i = 0; i < NR_TP_LINKS; i++)
		bpf_link__destroy(tp_links[i]);
	if (ctl_fd >= 0)
		close(ctl_fd);
	rss_bpf__destroy(st->skel);
	st->skel = NULL;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct bpf_link *tp_links[NR_TP_LINKS] = {};
	struct state st = { .link_fd = -1 };
	struct snap *snaps = NULL;
	struct rss_conf base = {};
	int err, ret = BN_EXIT_ERR, ctl_fd = -1, min_cpus;
	bool tp_ok;

	bn_log_init("rss");
	argp_err_exit_status = BN_EXIT_USAGE;
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return BN_EXIT_USAGE;
	bn_stdout_setup();
	if (env.iface) {
		env.ifindex = bn_ifindex(env.iface);
		if (env.ifindex < 0) {
			bn_err("cannot attach to %s: no such interface", env.iface);
			return BN_EXIT_ERR;
		}
	}
	if (env.swap)
		return do_swap();
	ret = prepare_conf(&base, &min_cpus);
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
		ctl_fd = ctl_listen();
		if (ctl_fd < 0) {
			bn_err("cannot attach to %s: %s", env.iface,
			       ctl_fd == -EADDRINUSE ? "another rss runs on this interface" :
			       strerror(-ctl_fd));
			goto cleanup;
		}
	}
	percpu_buf = calloc(nr_cpus, (sizeof(struct rss_worker_stats) + 7) & ~7UL);
	snaps = calloc(4, sizeof(*snaps));
	if (!percpu_buf || !snaps) {
		bn_err("cannot allocate memory");
		goto cleanup;
	}
	st.skel = load_bpf(&tp_ok);
	if (!st.skel)
		goto cleanup;
	st.cpumap_fd = bpf_map__fd(st.skel->maps.cpu_map);
	if (setup_service_time(st.skel))
		goto cleanup;
	if (env.calib_only) {
		ret = BN_EXIT_OK;
		goto cleanup;
	}
	if (setup_maps(st.skel) || start_server(&st, &base, min_cpus, tp_ok, tp_links))
		goto cleanup;
	if (stats_loop(&st, ctl_fd, snaps))
		goto cleanup;
	print_totals(&st, &snaps[1]);
	ret = BN_EXIT_OK;
cleanup:
	teardown(&st, tp_links, ctl_fd);
	free(snaps);
	free(percpu_buf);
	return ret;
}
