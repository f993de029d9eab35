// SPDX-License-Identifier: GPL-2.0
/*
 * rss-client - the load generator for rss: open-loop UDP requests (Poisson
 * or fixed arrivals, a short:long mix) from N clients, each a UDP socket
 * with its own sender and receiver thread, and per step and class the
 * queuing delay (server timestamps) and round-trip time (client clock) in
 * mergeable log-linear histograms. Also: the queueing model's maximum
 * sustainable rate per policy (--model) and gnuplot figures (--plot).
 *
 * This file: options, the steps of a run, the run and main. The load
 * generator is in load.c, the records in results.c, the model in model.c,
 * the plots in plot.c.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rss-client.h"

#define NSEC		1000000000ULL
#define MAX_STEP_NS	(3600 * NSEC)

const char *const class_names[RSS_NR_CLASSES] = { "short", "long" };

static const char *const arrivals[] = { "poisson", "fixed" };

struct opts {
	struct bn_cli cli;		/* -j -i -d -v */
	struct bn_addr server;
	const char *server_str;
	__u16 port;
	int clients;
	double rate;
	bool poisson;
	double ramp_start, ramp_step, ramp_end;
	bool ramp;
	uint64_t step_ns;		/* --step-duration; 0: not given */
	uint64_t drain_ns;
	bool csv;
	const char *plot;
	const char *from[MAX_FILES];
	int nfrom;
	bool model_only;
	const char *policy;
	struct model model;
};

static const char doc[] =
"rss-client: load generator and measurements for rss.\n"
"\n"
"  rss-client [--clients N] [--rate RPS] [--arrival poisson|fixed]\n"
"             [--mix SHORT:LONG] [-d DUR] [-i DUR] [-j|--csv] SERVER\n"
"  rss-client --ramp START:STEP:END [--step-duration DUR] SERVER\n"
"  rss-client --model --cpus N|LIST [--long-cpus N|LIST] [--mix S:L]\n"
"  rss-client --plot FILE.png --from RUN.csv [--from RUN2.csv ...]\n"
"\n"
"Each record is one step and one request class: offered and achieved rate,\n"
"sent, received and lost requests, percentiles of the queuing delay at the\n"
"server (worker start - XDP arrival) and of the round-trip time. -d is the\n"
"length of a constant-rate run (5s), -i makes one step per interval; -v adds\n"
"each flow's replies per worker cpu.\n"
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
	{ "step-duration", OPT_STEP, "DUR", 0, "Length of a ramp step (default 1s)", 0 },
	{ "drain", OPT_DRAIN, "DUR", 0,
	  "Wait for late replies after a step before reporting it (200ms)", 0 },
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
	{},
};

static double opt_rate(const char *what, const char *arg)
{
	return bn_opt_u64(what, arg, 1, 100000000);
}

/* "N" or a CPU list: the number of CPUs */
static int opt_ncpus(const char *what, const char *arg)
{
	struct bn_cpuset set;
	uint64_t v;

	if (!strpbrk(arg, ",-") && !bn_parse_u64(arg, 0, RSS_MAX_GROUP, &v))
		return v;
	if (bn_parse_cpulist(arg, BN_MAX_CPUS, &set))
		bn_usage("invalid %s '%s': want a number of cpus (0-%d) or a cpu list", what, arg,
			 RSS_MAX_GROUP);
	return bn_cpuset_count(&set);
}

/* --short-us, --long-us: 0 to 5000 us, decimals allowed */
static double opt_us(const char *what, const char *arg)
{
	uint64_t v;	/* us * 10^9 */

	if (bn_parse_decimal(arg, &v) || v > 5000 * NSEC)
		bn_usage("invalid %s '%s': want 0 to 5000 (microseconds)", what, arg);
	return v / 1e9;
}

/* SHORT:LONG -> the short share in % */
static int opt_mix(const char *arg)
{
	char buf[128], *b;
	uint64_t v, w;

	snprintf(buf, sizeof(buf), "%s", arg);
	b = strchr(buf, ':');
	if (b)
		*b++ = 0;
	if (!b || bn_parse_u64(buf, 0, 1000000, &v) || bn_parse_u64(b, 0, 1000000, &w) ||
	    v + w == 0)
		bn_usage("invalid --mix '%s': want SHORT:LONG, e.g. 90:10", arg);
	return v && !w ? 100 : (int)(100.0 * v / (v + w) + 0.5);
}

static void opt_ramp(struct opts *o, const char *arg)
{
	char buf[128], *b, *c;
	uint64_t s, st, e;

	snprintf(buf, sizeof(buf), "%s", arg);
	b = strchr(buf, ':');
	c = b ? strchr(b + 1, ':') : NULL;
	if (b)
		*b++ = 0;
	if (c)
		*c++ = 0;
	if (!c || bn_parse_u64(buf, 1, 100000000, &s) || bn_parse_u64(b, 1, 100000000, &st) ||
	    bn_parse_u64(c, 1, 100000000, &e) || e < s)
		bn_usage("invalid --ramp '%s': want START:STEP:END requests/s, "
			 "1 <= START <= END", arg);
	if ((e - s) / st + 1 > MAX_STEPS)
		bn_usage("invalid --ramp '%s': more than %d steps", arg, MAX_STEPS);
	o->ramp_start = s;
	o->ramp_step = st;
	o->ramp_end = e;
	o->ramp = true;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct opts *o = state->input;

	switch (key) {
	case OPT_PORT:
		o->port = bn_opt_u64("--port", arg, 1, 65535);
		break;
	case OPT_CLIENTS:
		o->clients = bn_opt_u64("--clients", arg, 1, MAX_CLIENTS);
		break;
	case OPT_RATE:
		o->rate = opt_rate("--rate", arg);
		break;
	case OPT_ARRIVAL:
		o->poisson = bn_opt_name("--arrival", arg, arrivals, 2) == 0;
		break;
	case OPT_MIX:
		o->model.short_pct = opt_mix(arg);
		break;
	case OPT_RAMP:
		opt_ramp(o, arg);
		break;
	case OPT_STEP:
		o->step_ns = bn_opt_duration("--step-duration", arg, 1000000, MAX_STEP_NS);
		break;
	case OPT_DRAIN:
		o->drain_ns = bn_opt_duration("--drain", arg, 1, MAX_STEP_NS);
		break;
	case OPT_CSV:
		o->csv = true;
		break;
	case OPT_PLOT:
		o->plot = arg;
		break;
	case OPT_FROM:
		if (o->nfrom >= MAX_FILES)
			bn_usage("at most %d --from files", MAX_FILES);
		o->from[o->nfrom++] = arg;
		break;
	case OPT_MODEL:
		o->model_only = true;
		break;
	case OPT_POLICY:
		o->policy = model_policies[bn_opt_name("--policy", arg, model_policies,
						       MODEL_NR_POLICIES)];
		break;
	case OPT_SHORT:
		o->model.short_us = opt_us("--short-us", arg);
		break;
	case OPT_LONG:
		o->model.long_us = opt_us("--long-us", arg);
		break;
	case OPT_CPUS:
		o->model.cpus = opt_ncpus("--cpus", arg);
		break;
	case OPT_LONG_CPUS:
		o->model.long_cpus = opt_ncpus("--long-cpus", arg);
		break;
	case OPT_QSIZE:
		o->model.qsize = bn_opt_u64("--queue-size", arg, 1, 16384);
		break;
	case ARGP_KEY_ARG:
		if (o->server_str)
			bn_usage("unexpected argument '%s'", arg);
		o->server_str = arg;
		if (bn_parse_addr(arg, &o->server))
			bn_usage("invalid server address '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Length of a constant-rate run: -d, 5s by default. */
static uint64_t run_len(const struct opts *o)
{
	return o->cli.duration_ns ? o->cli.duration_ns : 5 * NSEC;
}

/* Length of a step: --step-duration of a ramp, else -i within the run. */
static uint64_t step_len(const struct opts *o)
{
	uint64_t d = run_len(o);

	if (o->ramp)
		return o->step_ns ? o->step_ns : NSEC;
	return o->cli.interval_ns && o->cli.interval_ns < d ? o->cli.interval_ns : d;
}

/* What no single option can check, before anything is opened. */
static void check_opts(const struct opts *o)
{
	const struct bn_cli *cli = &o->cli;
	double per_client;

	if (cli->json && o->csv)
		bn_usage("--json and --csv exclude each other");
	if (o->nfrom && !o->plot)
		bn_usage("--from needs --plot");
	if (o->model_only && o->model.cpus <= 0)
		bn_usage("--model needs --cpus (the server's worker cpus)");
	if (o->model_only || o->nfrom)
		return;
	if (!o->server_str)
		bn_usage("the SERVER address is required");
	if (o->ramp && (cli->duration_ns || cli->interval_ns))
		bn_usage("--ramp goes without -d and -i (its steps last --step-duration)");
	if (!o->ramp && o->step_ns)
		bn_usage("--step-duration needs --ramp (a constant rate uses -d and -i)");
	if (!o->ramp && run_len(o) / step_len(o) > MAX_STEPS)
		bn_usage("-d / -i makes %llu steps: at most %d",
			 (unsigned long long)(run_len(o) / step_len(o)), MAX_STEPS);
	/* the request id holds 32 bits of sequence number per client and step */
	per_client = (o->ramp ? o->ramp_end : o->rate) / o->clients * step_len(o) / 1e9;
	if (per_client > 2e9)
		bn_usage("a step of %.0f requests per client is too long: at most 2e9",
			 per_client);
}

/* The steps of the run: their number, length and offered rate. */
static int setup_steps(const struct opts *o, struct load *ld)
{
	int s;

	ld->step_len_ns = step_len(o);
	if (o->ramp)
		ld->nsteps = (int)((o->ramp_end - o->ramp_start) / o->ramp_step) + 1;
	else
		ld->nsteps = run_len(o) / ld->step_len_ns;
	ld->step_rate = calloc(ld->nsteps, sizeof(*ld->step_rate));
	if (!ld->step_rate)
		return -ENOMEM;
	for (s = 0; s < ld->nsteps; s++)
		ld->step_rate[s] = o->ramp ? o->ramp_start + s * o->ramp_step : o->rate;
	return 0;
}

static enum out_fmt out_fmt(const struct opts *o)
{
	return o->cli.json ? OUT_JSON : o->csv ? OUT_CSV : OUT_TEXT;
}

/* --plot after a run: this run's p99 queuing delay against the achieved rate. */
static int plot_run(const struct opts *o, const struct results *res)
{
	struct plot p;
	int s, c, err;

	err = plot_init(&p);
	if (err)
		return err;
	for (s = 0; s < res->ld->nsteps; s++)
		for (c = 0; c < RSS_NR_CLASSES; c++)
			if (res->recs[s][c].sent)
				plot_add(&p, o->policy, c, res->recs[s][c].total,
					 res->recs[s][c].q[2]);
	err = plot_write(&p, o->plot);
	plot_free(&p);
	return err;
}

/* --plot --from: earlier --csv runs. */
static int plot_files(const struct opts *o)
{
	int i, ret = BN_EXIT_OK;
	struct plot p;

	if (plot_init(&p))
		return BN_EXIT_ERR;
	for (i = 0; i < o->nfrom; i++)
		if (plot_load_csv(&p, o->from[i]))
			ret = BN_EXIT_ERR;
	if (ret == BN_EXIT_OK && plot_write(&p, o->plot))
		ret = BN_EXIT_ERR;
	plot_free(&p);
	return ret;
}

struct steps {
	struct load *ld;
	struct results *res;
	int next;			/* the step to report at the next tick */
};

/* A tick: the step that ended a drain ago; after the last one, the run is over. */
static int report_step(void *ctx)
{
	struct steps *st = ctx;
	int err;

	err = results_step(st->res, st->next);
	if (err)
		return err;
	st->ld->reported[st->next++] = 1;
	if (st->next == st->ld->nsteps)
		bn_stop = 1;	/* every step reported: stop like a signal would */
	return 0;
}

/*
 * Report each step once it and its drain are over: the loop ticks once a
 * step from the end of the first step's drain on, until the last step or a
 * signal.
 */
static int run_steps(const struct opts *o, struct load *ld, struct results *res)
{
	struct steps st = { .ld = ld, .res = res };
	struct bn_loop loop;
	int err;

	err = bn_loop_init(&loop, ld->step_len_ns, 0);
	if (err)
		return err;
	load_sleep_until(ld, ld->t0_ns + o->drain_ns);
	if (!bn_stop)
		err = bn_loop_run(&loop, report_step, &st);
	bn_loop_close(&loop);
	return err;
}

static int run(const struct opts *o)
{
	struct load ld = {
		.server = o->server,
		.port = o->port,
		.nclients = o->clients,
		.poisson = o->poisson,
		.short_pct = o->model.short_pct,
	};
	struct load_totals t;
	struct results res = {};
	int err, ret = BN_EXIT_ERR;

	if (setup_steps(o, &ld) || results_init(&res, &ld, &o->model, o->policy, out_fmt(o))) {
		bn_err("cannot allocate memory");
		goto cleanup;
	}
	err = load_open(&ld);
	if (err) {
		bn_err("cannot open the client sockets to %s port %u: %s", o->server_str, o->port,
		       strerror(-err));
		goto cleanup;
	}
	results_header(&res);
	err = load_start(&ld);
	if (err) {
		bn_err("cannot start the client threads: %s", strerror(-err));
	} else {
		bn_ready();
		err = run_steps(o, &ld, &res);
		if (err)
			bn_err("cannot report the steps: %s", strerror(-err));
	}
	load_stop(&ld);
	load_totals(&ld, &t);
	results_totals(&t);
	if (!err && o->ramp)
		results_knees(&res);
	if (bn_verbose)
		results_flows(&res);
	if (!err && t.sent && !t.received) {
		bn_err("nothing answered: no reply to %llu requests to %s port %u",
		       (unsigned long long)t.sent, o->server_str, o->port);
		err = -ENODATA;
	}
	ret = err ? BN_EXIT_ERR : BN_EXIT_OK;
	if (!err && o->plot && plot_run(o, &res))
		ret = BN_EXIT_ERR;
cleanup:
	load_close(&ld);
	results_free(&res);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.cli.has_interval = true,
		.port = 9000,
		.clients = 1,
		.rate = 1000,
		.poisson = true,
		.drain_ns = 200000000ULL,
		.policy = "-",
		.model = {
			.short_pct = 90,
			.short_us = 6,
			.long_us = 60,
			.qsize = 4096,
		},
	};

	bn_log_init("rss-client");
	bn_cli_parse(&o.cli, opts, parse_arg, "SERVER", doc, &o, argc, argv);
	check_opts(&o);
	bn_stdout_setup();
	if (o.model_only) {
		model_print(&o.model, out_fmt(&o));
		return BN_EXIT_OK;
	}
	if (o.nfrom)
		return plot_files(&o);
	if (bn_signals_setup()) {
		bn_err("cannot install signal handlers: %s", strerror(errno));
		return BN_EXIT_ERR;
	}
	return run(&o);
}
