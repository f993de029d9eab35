// SPDX-License-Identifier: GPL-2.0
/*
 * rss-client - the load generator for rss: open-loop UDP requests (Poisson
 * or fixed arrivals, a short:long mix) from N clients, each a UDP socket
 * with its own sender and receiver thread, and per step and class the
 * queuing delay (server timestamps) and round-trip time (client clock) in
 * mergeable log-linear histograms. Also: the queueing model's maximum
 * sustainable rate per policy (--model) and gnuplot figures (--plot).
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/types.h>
#include "common.h"
#include "rss.h"
#include "rss_hist.h"

#define MAX_CLIENTS	256
#define MAX_STEPS	1000
#define MAX_FILES	16

static const char *class_names[RSS_NR_CLASSES] = { "short", "long" };

static struct env {
	struct bn_addr server;
	const char *server_str;
	__u16 port;
	int clients;
	double rate;
	bool poisson;
	int short_pct;
	double ramp_start, ramp_step, ramp_end;
	bool ramp;
	uint64_t duration_ns;
	uint64_t interval_ns;
	uint64_t step_ns;
	uint64_t drain_ns;
	bool json;
	bool csv;
	const char *plot;
	const char *from[MAX_FILES];
	int nfrom;
	bool model;
	const char *policy;
	double short_us, long_us;
	int model_cpus, model_long;
	int qsize;
} env = {
	.port = 9000,
	.clients = 1,
	.rate = 1000,
	.poisson = true,
	.short_pct = 90,
	.drain_ns = 200000000ULL,
	.policy = "-",
	.short_us = 6,
	.long_us = 60,
	.qsize = 4096,
};

const char *argp_program_version = "rss-client " BN_VERSION;
const char *argp_program_bug_address = "<bpfnet@localhost>";
static const char doc[] =
"rss-client: load generator and measurements for rss.\n"
"\n"
"USAGE: rss-client [--clients N] [--rate RPS] [--arrival poisson|fixed]\n"
"                  [--mix SHORT:LONG] [-d SECONDS] [-i SECONDS] [-j|--csv] SERVER\n"
"       rss-client --ramp START:STEP:END [--step-duration SECONDS] SERVER\n"
"       rss-client --model [--cpus N|LIST] [--long-cpus N|LIST] [--mix S:L]\n"
"       rss-client --plot FILE.png --from RUN.csv [--from RUN2.csv ...]\n"
"\n"
"Each record is one step and one request class: offered and achieved rate,\n"
"sent, received and lost requests, percentiles of the queuing delay at the\n"
"server (worker start - XDP arrival) and of the round-trip time.\n"
"\n"
"EXAMPLES:\n"
"    rss-client --rate 20000 -d 5 198.18.1.2           # 5 s at 20k requests/s\n"
"    rss-client --clients 4 --mix 90:10 --ramp 10000:10000:100000 \\\n"
"               --step-duration 2 --policy rr --cpus 2 --csv 198.18.1.2 > rr.csv\n"
"    rss-client --model --cpus 16 --long-cpus 4 --mix 90:10  # the seed's setup\n"
"    rss-client --plot p99.png --from rr.csv --from split.csv\n";

enum {
	OPT_PORT = 1000, OPT_CLIENTS, OPT_RATE, OPT_ARRIVAL, OPT_MIX, OPT_RAMP, OPT_STEP,
	OPT_DRAIN, OPT_CSV, OPT_PLOT, OPT_FROM, OPT_MODEL, OPT_POLICY, OPT_SHORT, OPT_LONG,
	OPT_CPUS, OPT_LONG_CPUS, OPT_QSIZE,
};

static const struct argp_option opts[] = {
	{ "port", OPT_PORT, "PORT", 0, "Server UDP port (default 9000)", 0 },
	{ "clients", OPT_CLIENTS, "N", 0, "UDP sockets, each with a sender and a receiver (1)", 0 },
	{ "rate", OPT_RATE, "RPS", 0, "Total requests per second (default 1000)", 0 },
	{ "arrival", OPT_ARRIVAL, "KIND", 0, "poisson (default) or fixed inter-arrival times", 0 },
	{ "mix", OPT_MIX, "S:L", 0, "Short:long request ratio, e.g. 90:10 (default) or 100:0", 0 },
	{ "ramp", OPT_RAMP, "START:STEP:END", 0, "Rate ramp in requests/s, one step each", 0 },
	{ "step-duration", OPT_STEP, "SECONDS", 0, "Length of a ramp step (default 1)", 0 },
	{ "drain", OPT_DRAIN, "SECONDS", 0,
	  "Wait for late replies after a step before reporting it (0.2)", 0 },
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "csv", OPT_CSV, NULL, 0, "CSV output", 0 },
	{ "plot", OPT_PLOT, "FILE.png", 0,
	  "Plot p99 queuing delay against achieved rate (gnuplot)", 0 },
	{ "from", OPT_FROM, "FILE.csv", 0, "With --plot: plot earlier --csv runs instead", 0 },
	{ "model", OPT_MODEL, NULL, 0, "Print the queueing model's maximum rates and exit", 0 },
	{ "policy", OPT_POLICY, "NAME", 0,
	  "The server's policy: labels the output, picks the model's figure", 0 },
	{ "short-us", OPT_SHORT, "US", 0, "Model: short service time (6)", 0 },
	{ "long-us", OPT_LONG, "US", 0, "Model: long service time (60)", 0 },
	{ "cpus", OPT_CPUS, "N|LIST", 0, "Model: the server's worker CPUs, all groups", 0 },
	{ "long-cpus", OPT_LONG_CPUS, "N|LIST", 0, "Model: split's long group, out of --cpus", 0 },
	{ "queue-size", OPT_QSIZE, "N", 0, "Model: cpumap queue size (4096)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Length of a constant-rate run (default 5)", 0 },
	{ "interval", 'i', "SECONDS", 0, "Constant rate: one record per interval", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose: per-flow CPU counts at the end", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{},
};

static int parse_rate(const char *s, double *out)
{
	uint64_t v;

	if (bn_parse_u64(s, 1, 100000000, &v))
		return -EINVAL;
	*out = v;
	return 0;
}

/* "N" or a CPU list: the number of CPUs */
static int parse_ncpus(const char *s, int *n)
{
	struct bn_cpuset set;
	uint64_t v;

	if (!strpbrk(s, ",-") && !bn_parse_u64(s, 0, RSS_MAX_GROUP, &v)) {
		*n = v;
		return 0;
	}
	if (bn_parse_cpulist(s, BN_MAX_CPUS, &set))
		return -EINVAL;
	*n = bn_cpuset_count(&set);
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *a, *b, buf[128];
	uint64_t v, w;

	switch (key) {
	case OPT_PORT:
		if (bn_parse_u64(arg, 1, 65535, &v))
			argp_error(state, "invalid port: %s", arg);
		env.port = v;
		break;
	case OPT_CLIENTS:
		if (bn_parse_u64(arg, 1, MAX_CLIENTS, &v))
			argp_error(state, "invalid number of clients (1-%d): %s", MAX_CLIENTS, arg);
		env.clients = v;
		break;
	case OPT_RATE:
		if (parse_rate(arg, &env.rate))
			argp_error(state, "invalid rate (1-100000000 requests/s): %s", arg);
		break;
	case OPT_ARRIVAL:
		if (!strcmp(arg, "poisson"))
			env.poisson = true;
		else if (!strcmp(arg, "fixed"))
			env.poisson = false;
		else
			argp_error(state, "invalid arrival process: %s (poisson, fixed)", arg);
		break;
	case OPT_MIX:
		snprintf(buf, sizeof(buf), "%s", arg);
		a = buf;
		b = strchr(buf, ':');
		if (!b)
			argp_error(state, "invalid mix (SHORT:LONG, e.g. 90:10): %s", arg);
		*b++ = 0;
		if (bn_parse_u64(a, 0, 1000000, &v) || bn_parse_u64(b, 0, 1000000, &w) ||
		    v + w == 0)
			argp_error(state, "invalid mix (SHORT:LONG, e.g. 90:10): %s", arg);
		env.short_pct = (int)(100.0 * v / (v + w) + 0.5);
		if (v && !w)
			env.short_pct = 100;
		break;
	case OPT_RAMP: {
		char *c;

		snprintf(buf, sizeof(buf), "%s", arg);
		a = buf;
		b = strchr(a, ':');
		c = b ? strchr(b + 1, ':') : NULL;
		if (!b || !c)
			argp_error(state, "invalid ramp (START:STEP:END): %s", arg);
		*b++ = 0;
		*c++ = 0;
		if (parse_rate(a, &env.ramp_start) || parse_rate(b, &env.ramp_step) ||
		    parse_rate(c, &env.ramp_end) || env.ramp_end < env.ramp_start)
			argp_error(state, "invalid ramp (START:STEP:END, rates >= 1): %s", arg);
		if ((env.ramp_end - env.ramp_start) / env.ramp_step + 1 > MAX_STEPS)
			argp_error(state, "ramp has more than %d steps: %s", MAX_STEPS, arg);
		env.ramp = true;
		break;
	}
	case OPT_STEP:
	case OPT_DRAIN:
	case 'd':
	case 'i':
		if (bn_parse_duration(arg, 1000000000ULL, &v) || v > 3600000000000ULL)
			argp_error(state, "invalid duration: %s", arg);
		if (key == OPT_STEP)
			env.step_ns = v;
		else if (key == OPT_DRAIN)
			env.drain_ns = v;
		else if (key == 'd')
			env.duration_ns = v;
		else
			env.interval_ns = v;
		break;
	case 'j':
		env.json = true;
		break;
	case OPT_CSV:
		env.csv = true;
		break;
	case OPT_PLOT:
		env.plot = arg;
		break;
	case OPT_FROM:
		if (env.nfrom >= MAX_FILES)
			argp_error(state, "at most %d --from files", MAX_FILES);
		env.from[env.nfrom++] = arg;
		break;
	case OPT_MODEL:
		env.model = true;
		break;
	case OPT_POLICY:
		env.policy = arg;
		break;
	case OPT_SHORT:
	case OPT_LONG:
		/* v is us * 10^9 */
		if (bn_parse_decimal(arg, &v) || v > 5000 * 1000000000ULL)
			argp_error(state, "invalid service time (0-5000 us): %s", arg);
		if (key == OPT_SHORT)
			env.short_us = v / 1e9;
		else
			env.long_us = v / 1e9;
		break;
	case OPT_CPUS:
	case OPT_LONG_CPUS:
		if (parse_ncpus(arg, key == OPT_CPUS ? &env.model_cpus : &env.model_long))
			argp_error(state, "invalid cpu count or list: %s", arg);
		break;
	case OPT_QSIZE:
		if (bn_parse_u64(arg, 1, 16384, &v))
			argp_error(state, "invalid queue size (1-16384): %s", arg);
		env.qsize = v;
		break;
	case 'v':
		bn_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (env.server_str)
			argp_error(state, "unexpected argument: %s", arg);
		env.server_str = arg;
		if (bn_parse_addr(arg, &env.server))
			argp_error(state, "invalid server address: %s", arg);
		break;
	case ARGP_KEY_END:
		if (env.json && env.csv)
			argp_error(state, "--json and --csv exclude each other");
		if (env.nfrom && !env.plot)
			argp_error(state, "--from needs --plot");
		if (!env.server_str && !env.model && !env.nfrom)
			argp_error(state, "the SERVER address is required");
		if (env.ramp && env.duration_ns)
			argp_error(state, "--ramp and -d exclude each other (use --step-duration)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- the queueing model (seed section 5.1.2) ---- */

/*
 * The server as M/C/k/N queues: constant service times, k = CPUs of the
 * group, N = k * queue size. The maximum sustainable rate is where the
 * arrival rate reaches the service rate, lambda_max = mu. Returns requests/s
 * of all classes together at which the queue of @class saturates; NAN when
 * the class is not offered. *plateau_us: the queuing delay of a full queue.
 */
static double model_rate(const char *policy, int class, double *plateau_us)
{
	double ps = env.short_pct / 100.0, pl = 1 - ps, s = env.short_us, l = env.long_us;
	int k = env.model_cpus, kl = env.model_long;
	double mean = ps * s + pl * l, p = class == RSS_SHORT ? ps : pl;

	*plateau_us = NAN;
	if (p <= 0 || k <= 0)
		return NAN;
	if (!strcmp(policy, "split")) {
		/* k CPUs in all: k - k_L short ones, k_L long ones */
		if (kl <= 0 || kl >= k)
			return NAN;
		if (class == RSS_SHORT) {
			*plateau_us = env.qsize * s;
			return s > 0 ? (k - kl) * 1e6 / (ps * s) : INFINITY;
		}
		*plateau_us = env.qsize * l;
		return l > 0 ? kl * 1e6 / (pl * l) : INFINITY;
	}
	/* rr, dynamic (at its largest group), hash (flows spread evenly), jsq, p2c */
	*plateau_us = env.qsize * mean;
	return mean > 0 ? k * 1e6 / mean : INFINITY;
}

static int print_model(void)
{
	static const char *pols[] = { "rr", "split", "dynamic", "hash", "jsq", "p2c" };
	double plateau, r, ks;
	struct bn_json j;
	unsigned int i;
	int c;

	if (env.model_cpus <= 0) {
		bn_err("--model needs --cpus (the server's worker cpus)");
		return BN_EXIT_USAGE;
	}
	if (env.csv)
		printf("policy,class,max_rps,plateau_queue_us\n");
	else if (!env.json)
		printf("%-8s %-6s %12s %17s\n", "policy", "class", "max_rps", "plateau_queue_us");
	for (i = 0; i < sizeof(pols) / sizeof(pols[0]); i++) {
		for (c = 0; c < RSS_NR_CLASSES; c++) {
			r = model_rate(pols[i], c, &plateau);
			if (isnan(r) && !strcmp(pols[i], "split") && env.model_long <= 0)
				continue;
			if (isnan(r))
				continue;
			if (env.json) {
				bn_json_begin(&j, stdout);
				bn_json_str(&j, "policy", pols[i]);
				bn_json_str(&j, "class", class_names[c]);
				bn_json_double(&j, "max_rps", r, 0);
				bn_json_double(&j, "plateau_queue_us", plateau, 1);
				bn_json_end(&j);
			} else if (env.csv) {
				printf("%s,%s,%.0f,%.1f\n", pols[i], class_names[c], r, plateau);
			} else {
				printf("%-8s %-6s %12.0f %17.1f\n", pols[i], class_names[c], r,
				       plateau);
			}
		}
	}
	/* the seed's k_S: short requests fare better split than shared from here on */
	ks = env.short_pct / 100.0 * env.short_us /
	     (env.short_pct / 100.0 * env.short_us + (1 - env.short_pct / 100.0) * env.long_us);
	fprintf(stderr, "%s: split beats rr for short requests when the short group has more "
		"than %.2f of the cpus\n", bn_prog(), ks);
	return BN_EXIT_OK;
}

/* ---- clients ---- */

struct cls_stat {
	__u64 sent;
	__u64 received;
	__u64 dups;
	__u64 bad_ts;
	struct rss_hist q;
	struct rss_hist rtt;
};

struct client {
	int idx;
	int fd;
	__u16 lport;
	pthread_t tx, rx;
	struct cls_stat (*st)[RSS_NR_CLASSES];	/* [step][class] */
	__u8 **seen;				/* dup bitmap per step */
	__u64 *seen_bits;
	__u64 send_err;
	__u64 invalid;
	__u64 late;		/* replies after their step was reported */
	__u64 cpu_replies[RSS_MAX_CPUS];
	unsigned short xs[3];
};

static struct client *clients;
static int nsteps;
static double *step_rate;
static __u64 t0_ns, step_len_ns;
static volatile int rx_stop;
static volatile char *reported;	/* per step: printed already */

/*
 * Sleep until @t (CLOCK_MONOTONIC ns) or a stop signal, whichever is first:
 * in slices of at most 20 ms, since the signal may wake another thread.
 */
static void sleep_until(__u64 t)
{
	struct timespec ts;
	__u64 now, until;

	while (!bn_stop && (now = bn_now_ns()) < t) {
		until = t - now > 20000000ULL ? now + 20000000ULL : t;
		ts.tv_sec = until / 1000000000ULL;
		ts.tv_nsec = until % 1000000000ULL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void *sender(void *arg)
{
	struct client *cl = arg;
	struct rss_req req = {};
	__u64 next, end, seq, now;
	double gap;
	int s, class;

	prctl(PR_SET_TIMERSLACK, 1UL);
	req.magic = htonl(RSS_MAGIC);
	req.version = RSS_VERSION;
	req.client = htons(cl->idx);
	for (s = 0; s < nsteps && !bn_stop; s++) {
		gap = 1e9 * env.clients / step_rate[s];
		next = t0_ns + s * step_len_ns;
		end = next + step_len_ns;
		/* spread the clients' fixed schedules over one gap */
		if (!env.poisson)
			next += gap * cl->idx / env.clients;
		else
			next += -log(1.0 - erand48(cl->xs)) * gap;
		seq = 0;
		while (next < end && !bn_stop) {
			now = bn_now_ns();
			/* behind by the whole step: this client cannot offer the
			 * rate; what was sent is what counts (open loop) */
			if (now >= end)
				break;
			if (next > now + 2000)
				sleep_until(next);
			class = erand48(cl->xs) * 100 < env.short_pct ? RSS_SHORT : RSS_LONG;
			req.class = class;
			req.id = htobe64(((__u64)s << 32) | seq);
			req.t_send = htobe64(bn_now_ns());
			if (send(cl->fd, &req, sizeof(req), 0) == sizeof(req)) {
				__atomic_fetch_add(&cl->st[s][class].sent, 1, __ATOMIC_RELAXED);
				seq++;
			} else {
				cl->send_err++;
			}
			next += env.poisson ? -log(1.0 - erand48(cl->xs)) * gap : gap;
		}
	}
	return NULL;
}

static void *receiver(void *arg)
{
	struct client *cl = arg;
	struct rss_req r;
	__u64 id, t_send, t_server, t_worker, now, seq;
	struct cls_stat *cs;
	__u32 step, cpu;
	ssize_t n;

	while (!rx_stop) {
		n = recv(cl->fd, &r, sizeof(r), 0);
		if (n < 0)
			continue;	/* timeout: look at rx_stop */
		now = bn_now_ns();
		if (n < (ssize_t)sizeof(r) || ntohl(r.magic) != RSS_MAGIC ||
		    r.version != RSS_VERSION || r.class >= RSS_NR_CLASSES ||
		    ntohs(r.client) != cl->idx) {
			cl->invalid++;
			continue;
		}
		id = be64toh(r.id);
		step = id >> 32;
		seq = id & 0xffffffffULL;
		if (step >= (__u32)nsteps) {
			cl->invalid++;
			continue;
		}
		if (reported[step])
			cl->late++;
		cs = &cl->st[step][r.class];
		if (cl->seen[step] && seq < cl->seen_bits[step]) {
			__u8 bit = 1 << (seq & 7);

			if (cl->seen[step][seq >> 3] & bit) {
				__atomic_fetch_add(&cs->dups, 1, __ATOMIC_RELAXED);
				continue;
			}
			cl->seen[step][seq >> 3] |= bit;
		}
		t_send = be64toh(r.t_send);
		t_server = be64toh(r.t_server);
		t_worker = be64toh(r.t_worker);
		cpu = ntohl(r.cpu);
		if (cpu < RSS_MAX_CPUS)
			cl->cpu_replies[cpu]++;
		if (t_worker >= t_server && t_server) {
			rss_hist_add(&cs->q, t_worker - t_server);
		} else {
			__atomic_fetch_add(&cs->bad_ts, 1, __ATOMIC_RELAXED);
		}
		rss_hist_add(&cs->rtt, now >= t_send ? now - t_send : 0);
		__atomic_fetch_add(&cs->received, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int open_client(struct client *cl)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_storage local;
	struct timeval tv = { .tv_usec = 20000 };
	socklen_t len, llen = sizeof(local);
	int buf = 4 << 20;

	if (env.server.family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(env.port);
		memcpy(&sin->sin_addr, env.server.addr, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(env.port);
		memcpy(&sin6->sin6_addr, env.server.addr, 16);
		len = sizeof(*sin6);
	}
	cl->fd = socket(env.server.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0)
		return -errno;
	setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* beyond net.core.rmem_max when privileged: bursts of replies fit */
	if (setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (connect(cl->fd, (struct sockaddr *)&ss, len))
		return -errno;
	if (getsockname(cl->fd, (struct sockaddr *)&local, &llen))
		return -errno;
	cl->lport = ntohs(((struct sockaddr_in *)&local)->sin_port);
	return 0;
}

/* ---- output ---- */

static const char *fields[] = {
	"step", "policy", "class", "offered_rps", "achieved_rps", "sent", "received", "lost",
	"total_rps",
	"queue_p50_us", "queue_p90_us", "queue_p99_us", "queue_p999_us",
	"rtt_p50_us", "rtt_p90_us", "rtt_p99_us", "rtt_p999_us", "model_rps",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

struct record {
	int step;
	int class;
	double offered, achieved;
	__u64 sent, received;
	__s64 lost;
	double total;	/* achieved rate of all classes in the step */
	double q[4], rtt[4];
	double model;
};

static const double pcts[4] = { 50, 90, 99, 99.9 };

static void print_header(void)
{
	unsigned int i;

	if (env.json)
		return;
	for (i = 0; i < NFIELDS; i++) {
		if (env.csv)
			printf("%s%s", i ? "," : "", fields[i]);
		else if (i < 3)
			printf(i == 1 ? "%-8s " : "%-6s ", fields[i]);
		else
			printf("%*s%s", (int)strlen(fields[i]) < 9 ? 9 : (int)strlen(fields[i]),
			       fields[i], i + 1 < NFIELDS ? " " : "");
	}
	printf("\n");
}

static void print_record(const struct record *r)
{
	double vals[] = { r->offered, r->achieved, r->sent, r->received, r->lost, r->total,
			  r->q[0], r->q[1], r->q[2], r->q[3],
			  r->rtt[0], r->rtt[1], r->rtt[2], r->rtt[3], r->model };
	struct bn_json j;
	unsigned int i;
	int prec;

	if (env.json) {
		bn_json_begin(&j, stdout);
		bn_json_u64(&j, "step", r->step);
		bn_json_str(&j, "policy", env.policy);
		bn_json_str(&j, "class", class_names[r->class]);
		for (i = 3; i < NFIELDS; i++) {
			if (i >= 5 && i <= 7)
				bn_json_s64(&j, fields[i], (__s64)vals[i - 3]);
			else
				bn_json_double(&j, fields[i], vals[i - 3], i < 5 || i == 8 ? 1 : 2);
		}
		bn_json_end(&j);
		return;
	}
	if (env.csv)
		printf("%d,%s,%s", r->step, env.policy, class_names[r->class]);
	else
		printf("%-6d %-8s %-6s", r->step, env.policy, class_names[r->class]);
	for (i = 3; i < NFIELDS; i++) {
		int w = (int)strlen(fields[i]) < 9 ? 9 : (int)strlen(fields[i]);

		prec = i <= 8 || i == NFIELDS - 1 ? 0 : 2;
		if (env.csv) {
			if (isnan(vals[i - 3]))
				printf(",");
			else
				printf(",%.*f", prec, vals[i - 3]);
		} else {
			printf(" %*.*f", w, prec, vals[i - 3]);
		}
	}
	printf("\n");
}

/* Merge the clients' step @s, print a record per class; the records into @out. */
static void report_step(int s, struct record *out)
{
	struct rss_hist *q, *rtt;
	struct record r;
	double plateau;
	int c, k, i;

	q = calloc(1, sizeof(*q));
	rtt = calloc(1, sizeof(*rtt));
	if (!q || !rtt) {
		free(q);
		free(rtt);
		return;
	}
	for (c = 0; c < RSS_NR_CLASSES; c++) {
		double share = c == RSS_SHORT ? env.short_pct / 100.0 : 1 - env.short_pct / 100.0;

		memset(&r, 0, sizeof(r));
		memset(q, 0, sizeof(*q));
		memset(rtt, 0, sizeof(*rtt));
		for (k = 0; k < env.clients; k++) {
			struct cls_stat *cs = &clients[k].st[s][c];

			r.sent += __atomic_load_n(&cs->sent, __ATOMIC_RELAXED);
			r.received += __atomic_load_n(&cs->received, __ATOMIC_RELAXED);
			rss_hist_merge(q, &cs->q);
			rss_hist_merge(rtt, &cs->rtt);
		}
		r.step = s;
		r.class = c;
		r.offered = step_rate[s] * share;
		r.achieved = r.received / (step_len_ns / 1e9);
		r.lost = (__s64)r.sent - (__s64)r.received;
		for (i = 0; i < 4; i++) {
			r.q[i] = rss_hist_percentile(q, pcts[i]) / 1e3;
			r.rtt[i] = rss_hist_percentile(rtt, pcts[i]) / 1e3;
		}
		r.model = strcmp(env.policy, "-") && env.model_cpus > 0 ?
			  model_rate(env.policy, c, &plateau) * share : NAN;
		out[c] = r;
	}
	for (c = 0; c < RSS_NR_CLASSES; c++)
		out[0].total += out[c].achieved;
	for (c = 0; c < RSS_NR_CLASSES; c++) {
		out[c].total = out[0].total;
		if (out[c].offered > 0)
			print_record(&out[c]);
	}
	free(q);
	free(rtt);
}

static bool step_bad(const struct record *r, double lim)
{
	return isnan(r->q[2]) || r->q[2] > lim || (r->sent && r->lost > 0.01 * r->sent);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The knee of a class: the highest offered rate before the p99 queuing delay
 * leaves its low-load level (10x the median of the first three steps' and
 * 50 us more) or more than 1% of the requests are lost, for two steps in a
 * row (or the last step): a single spike of a noisy machine is not a knee.
 */
static void print_knees(struct record (*recs)[RSS_NR_CLASSES])
{
	double base, knee, lim, plateau, m, first[3];
	int c, s, n, knee_step;

	for (c = 0; c < RSS_NR_CLASSES; c++) {
		if ((c == RSS_SHORT ? env.short_pct : 100 - env.short_pct) <= 0)
			continue;
		for (n = 0; n < 3 && n < nsteps; n++)
			first[n] = isnan(recs[n][c].q[2]) ? INFINITY : recs[n][c].q[2];
		qsort(first, n, sizeof(first[0]), cmp_double);
		base = first[(n - 1) / 2];
		if (isinf(base))
			continue;
		lim = fmax(base * 10, base + 50);
		knee = NAN;
		knee_step = -1;
		for (s = 0; s < nsteps; s++) {
			if (step_bad(&recs[s][c], lim) &&
			    (s == nsteps - 1 || step_bad(&recs[s + 1][c], lim)))
				break;
			knee = step_rate[s];
			knee_step = s;
		}
		m = strcmp(env.policy, "-") && env.model_cpus > 0 ?
		    model_rate(env.policy, c, &plateau) : NAN;
		if (knee_step < 0)
			fprintf(stderr, "%s: knee %s: already past it at the first step", bn_prog(),
				class_names[c]);
		else if (knee_step == nsteps - 1)
			fprintf(stderr, "%s: knee %s: not reached (up to %.0f requests/s offered)",
				bn_prog(), class_names[c], knee);
		else
			fprintf(stderr, "%s: knee %s: %.0f requests/s offered (step %d, "
				"p99 queuing delay <= %.1f us)", bn_prog(), class_names[c], knee,
				knee_step, lim);
		if (!isnan(m))
			fprintf(stderr, "; model (%s, %d cpus): %.0f requests/s\n", env.policy,
				env.model_cpus, m);
		else
			fprintf(stderr, "\n");
	}
}

/* ---- plots ---- */

struct series {
	char policy[32];
	int class;
	int n;
	double x[MAX_STEPS], y[MAX_STEPS];
};

static struct series *series;
static int nseries;

static void series_add(const char *policy, int class, double x, double y)
{
	struct series *se = NULL;
	int i;

	for (i = 0; i < nseries; i++)
		if (!strcmp(series[i].policy, policy) && series[i].class == class)
			se = &series[i];
	if (!se) {
		if (nseries >= 2 * MAX_FILES * RSS_NR_CLASSES)
			return;
		se = &series[nseries++];
		snprintf(se->policy, sizeof(se->policy), "%s", policy);
		se->class = class;
	}
	if (se->n < MAX_STEPS && !isnan(y)) {
		se->x[se->n] = x;
		se->y[se->n] = y;
		se->n++;
	}
}

static int load_csv(const char *path)
{
	char line[1024], *tok, *save;
	int col_pol = -1, col_cls = -1, col_x = -1, col_y = -1, i, c;
	char pol[32] = "", cls[16] = "";
	double x = NAN, y = NAN;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		bn_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		bn_err("cannot plot %s: empty file", path);
		return -EINVAL;
	}
	line[strcspn(line, "\r\n")] = 0;
	for (i = 0, tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
		if (!strcmp(tok, "policy"))
			col_pol = i;
		else if (!strcmp(tok, "class"))
			col_cls = i;
		else if (!strcmp(tok, "total_rps"))
			col_x = i;
		else if (!strcmp(tok, "queue_p99_us"))
			col_y = i;
	}
	if (col_pol < 0 || col_cls < 0 || col_x < 0 || col_y < 0) {
		fclose(f);
		bn_err("cannot plot %s: not an rss-client --csv file", path);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *e;

		line[strcspn(line, "\r\n")] = 0;
		for (i = 0; p; i++) {
			e = strchr(p, ',');
			if (e)
				*e = 0;
			if (i == col_pol)
				snprintf(pol, sizeof(pol), "%.31s", p);
			else if (i == col_cls)
				snprintf(cls, sizeof(cls), "%.15s", p);
			else if (i == col_x)
				x = *p ? strtod(p, NULL) : NAN;
			else if (i == col_y)
				y = *p ? strtod(p, NULL) : NAN;
			p = e ? e + 1 : NULL;
		}
		for (c = 0; c < RSS_NR_CLASSES; c++)
			if (!strcmp(cls, class_names[c]))
				series_add(pol, c, x, y);
	}
	fclose(f);
	return 0;
}

static int plot(const char *png)
{
	char data[] = "/tmp/rss-plot.XXXXXX";
	FILE *f, *g;
	int fd, i, k, st;

	if (!nseries) {
		bn_err("cannot plot: no data");
		return -EINVAL;
	}
	fd = mkstemp(data);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		bn_err("cannot plot: temporary file: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < nseries; i++) {
		fprintf(f, "# %s %s\n", series[i].policy, class_names[series[i].class]);
		for (k = 0; k < series[i].n; k++)
			fprintf(f, "%.1f %.3f\n", series[i].x[k], series[i].y[k]);
		fprintf(f, "\n\n");
	}
	fclose(f);
	g = popen("gnuplot", "w");
	if (!g) {
		bn_err("cannot plot: gnuplot: %s", strerror(errno));
		unlink(data);
		return -errno;
	}
	fprintf(g, "set terminal pngcairo size 1000,650\nset output '%s'\n", png);
	fprintf(g, "set title 'p99 queuing delay against achieved rate'\n"
		"set xlabel 'achieved rate, all classes (requests/s)'\n"
		"set ylabel 'p99 queuing delay (us)'\n"
		"set logscale y\nset grid\nset key top left\nplot ");
	for (i = 0; i < nseries; i++)
		fprintf(g, "%s'%s' index %d with linespoints title '%s %s'", i ? ", " : "", data, i,
			series[i].policy, class_names[series[i].class]);
	fprintf(g, "\n");
	st = pclose(g);
	unlink(data);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		bn_err("cannot plot %s: gnuplot failed (is gnuplot installed? make deps)", png);
		return -EIO;
	}
	fprintf(stderr, "%s: plot written to %s\n", bn_prog(), png);
	return 0;
}

/* ---- main ---- */

static int setup_steps(void)
{
	int s;

	if (env.ramp) {
		nsteps = (int)((env.ramp_end - env.ramp_start) / env.ramp_step) + 1;
		step_len_ns = env.step_ns ? env.step_ns : 1000000000ULL;
	} else {
		uint64_t d = env.duration_ns ? env.duration_ns : 5000000000ULL;

		step_len_ns = env.interval_ns && env.interval_ns < d ? env.interval_ns : d;
		nsteps = d / step_len_ns;
		if (nsteps > MAX_STEPS)
			return -E2BIG;
	}
	step_rate = calloc(nsteps, sizeof(*step_rate));
	if (!step_rate)
		return -ENOMEM;
	for (s = 0; s < nsteps; s++)
		step_rate[s] = env.ramp ? env.ramp_start + s * env.ramp_step : env.rate;
	return 0;
}

static int setup_clients(void)
{
	int k, s, err;

	clients = calloc(env.clients, sizeof(*clients));
	if (!clients)
		return -ENOMEM;
	/* free_clients() closes these: none may be 0 if a later one fails */
	for (k = 0; k < env.clients; k++)
		clients[k].fd = -1;
	for (k = 0; k < env.clients; k++) {
		struct client *cl = &clients[k];

		cl->idx = k;
		cl->xs[0] = 0x330e;
		cl->xs[1] = k * 7919 + 1;
		cl->xs[2] = (unsigned short)getpid();
		cl->st = calloc(nsteps, sizeof(*cl->st));
		cl->seen = calloc(nsteps, sizeof(*cl->seen));
		cl->seen_bits = calloc(nsteps, sizeof(*cl->seen_bits));
		if (!cl->st || !cl->seen || !cl->seen_bits)
			return -ENOMEM;
		for (s = 0; s < nsteps; s++) {
			double exp_n = step_rate[s] / env.clients * step_len_ns / 1e9;
			__u64 bits = (__u64)(exp_n * 1.5 + 8 * sqrt(exp_n) + 4096);

			/* duplicate detection only while it stays cheap */
			if (bits > (1ULL << 32))
				continue;
			cl->seen[s] = calloc(bits / 8 + 1, 1);
			if (cl->seen[s])
				cl->seen_bits[s] = bits;
		}
		err = open_client(cl);
		if (err)
			return err;
	}
	return 0;
}

static void free_clients(void)
{
	int k, s;

	if (!clients)
		return;
	for (k = 0; k < env.clients; k++) {
		if (clients[k].fd >= 0)
			close(clients[k].fd);
		for (s = 0; clients[k].seen && s < nsteps; s++)
			free(clients[k].seen[s]);
		free(clients[k].seen);
		free(clients[k].seen_bits);
		free(clients[k].st);
	}
	free(clients);
}

static void print_flows(void)
{
	char buf[256];
	size_t off;
	int k, c;

	for (k = 0; k < env.clients; k++) {
		off = 0;
		buf[0] = 0;
		for (c = 0; c < RSS_MAX_CPUS && off + 24 < sizeof(buf); c++)
			if (clients[k].cpu_replies[c])
				off += snprintf(buf + off, sizeof(buf) - off, " cpu%d=%llu", c,
						(unsigned long long)clients[k].cpu_replies[c]);
		fprintf(stderr, "%s: flow %d port %u:%s\n", bn_prog(), k, clients[k].lport,
			off ? buf : " no replies");
	}
}

static int run(void)
{
	struct record (*recs)[RSS_NR_CLASSES];
	__u64 sent = 0, received = 0, dups = 0, invalid = 0, send_err = 0, bad_ts = 0, late = 0;
	int k, s, c, err, ret = BN_EXIT_ERR;
	int started = 0;

	err = setup_steps();
	if (err) {
		bn_err("cannot set up the steps: %s", strerror(-err));
		return BN_EXIT_USAGE;
	}
	recs = calloc(nsteps, sizeof(*recs));
	reported = calloc(nsteps, 1);
	if (!recs || !reported) {
		bn_err("cannot allocate memory");
		return BN_EXIT_ERR;
	}
	err = setup_clients();
	if (err) {
		bn_err("cannot open the client sockets to %s port %u: %s", env.server_str, env.port,
		       strerror(-err));
		goto cleanup;
	}
	print_header();
	t0_ns = bn_now_ns() + 50000000ULL;
	for (k = 0; k < env.clients; k++) {
		if (pthread_create(&clients[k].rx, NULL, receiver, &clients[k]))
			goto stop;
		if (pthread_create(&clients[k].tx, NULL, sender, &clients[k])) {
			pthread_cancel(clients[k].rx);
			pthread_join(clients[k].rx, NULL);
			goto stop;
		}
		started++;
	}
	for (s = 0; s < nsteps; s++) {
		__u64 when = t0_ns + (s + 1) * step_len_ns + env.drain_ns;

		sleep_until(when);
		if (bn_stop)
			break;
		report_step(s, recs[s]);
		reported[s] = 1;
	}
	ret = BN_EXIT_OK;
stop:
	if (ret != BN_EXIT_OK)
		bn_err("cannot start the client threads");
	bn_stop = 1;
	for (k = 0; k < started; k++)
		pthread_join(clients[k].tx, NULL);
	rx_stop = 1;
	for (k = 0; k < started; k++)
		pthread_join(clients[k].rx, NULL);
	for (k = 0; k < env.clients; k++) {
		for (s = 0; s < nsteps; s++) {
			for (c = 0; c < RSS_NR_CLASSES; c++) {
				sent += clients[k].st[s][c].sent;
				received += clients[k].st[s][c].received;
				dups += clients[k].st[s][c].dups;
				bad_ts += clients[k].st[s][c].bad_ts;
			}
		}
		invalid += clients[k].invalid;
		late += clients[k].late;
		send_err += clients[k].send_err;
	}
	fprintf(stderr, "%s: total: %llu sent, %llu received, %lld lost, %llu late, "
		"%llu duplicates, %llu invalid, %llu bad timestamps, %llu send errors\n",
		bn_prog(), (unsigned long long)sent, (unsigned long long)received,
		(long long)(sent - received), (unsigned long long)late, (unsigned long long)dups,
		(unsigned long long)invalid, (unsigned long long)bad_ts,
		(unsigned long long)send_err);
	if (ret == BN_EXIT_OK && env.ramp)
		print_knees(recs);
	if (bn_verbose)
		print_flows();
	if (ret == BN_EXIT_OK && env.plot) {
		series = calloc(2 * MAX_FILES * RSS_NR_CLASSES, sizeof(*series));
		if (!series)
			goto cleanup;
		for (s = 0; s < nsteps; s++)
			for (c = 0; c < RSS_NR_CLASSES; c++)
				if (recs[s][c].sent)
					series_add(env.policy, c, recs[s][c].total,
						   recs[s][c].q[2]);
		if (plot(env.plot))
			ret = BN_EXIT_ERR;
	}
cleanup:
	free_clients();
	free(recs);
	free((void *)reported);
	free(step_rate);
	free(series);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	int i;

	bn_log_init("rss-client");
	argp_err_exit_status = BN_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return BN_EXIT_USAGE;
	bn_stdout_setup();
	if (env.model)
		return print_model();
	if (env.nfrom) {
		int ret = BN_EXIT_OK;

		series = calloc(2 * MAX_FILES * RSS_NR_CLASSES, sizeof(*series));
		if (!series)
			return BN_EXIT_ERR;
		for (i = 0; i < env.nfrom; i++)
			if (load_csv(env.from[i]))
				ret = BN_EXIT_ERR;
		if (ret == BN_EXIT_OK && plot(env.plot))
			ret = BN_EXIT_ERR;
		free(series);
		return ret;
	}
	if (bn_signals_setup()) {
		bn_err("cannot install signal handlers: %s", strerror(errno));
		return BN_EXIT_ERR;
	}
	return run();
}
