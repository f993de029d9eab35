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

const char *const class_names[RSS_NR_CLASSES] = { "short", "long" };

struct opts {
	struct bn_addr server;
	const char *server_str;
	__u16 port;
	int clients;
	double rate;
	bool poisson;
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
	bool model_only;
	const char *policy;
	struct model model;
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
	struct opts *o = state->input;
	char *a, *b, buf[128];
	uint64_t v, w;

	switch (key) {
	case OPT_PORT:
		if (bn_parse_u64(arg, 1, 65535, &v))
			argp_error(state, "invalid port: %s", arg);
		o->port = v;
		break;
	case OPT_CLIENTS:
		if (bn_parse_u64(arg, 1, MAX_CLIENTS, &v))
			argp_error(state, "invalid number of clients (1-%d): %s", MAX_CLIENTS, arg);
		o->clients = v;
		break;
	case OPT_RATE:
		if (parse_rate(arg, &o->rate))
			argp_error(state, "invalid rate (1-100000000 requests/s): %s", arg);
		break;
	case OPT_ARRIVAL:
		if (!strcmp(arg, "poisson"))
			o->poisson = true;
		else if (!strcmp(arg, "fixed"))
			o->poisson = false;
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
		o->model.short_pct = (int)(100.0 * v / (v + w) + 0.5);
		if (v && !w)
			o->model.short_pct = 100;
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
		if (parse_rate(a, &o->ramp_start) || parse_rate(b, &o->ramp_step) ||
		    parse_rate(c, &o->ramp_end) || o->ramp_end < o->ramp_start)
			argp_error(state, "invalid ramp (START:STEP:END, rates >= 1): %s", arg);
		if ((o->ramp_end - o->ramp_start) / o->ramp_step + 1 > MAX_STEPS)
			argp_error(state, "ramp has more than %d steps: %s", MAX_STEPS, arg);
		o->ramp = true;
		break;
	}
	case OPT_STEP:
	case OPT_DRAIN:
	case 'd':
	case 'i':
		if (bn_parse_duration(arg, 1000000000ULL, &v) || v > 3600000000000ULL)
			argp_error(state, "invalid duration: %s", arg);
		if (key == OPT_STEP)
			o->step_ns = v;
		else if (key == OPT_DRAIN)
			o->drain_ns = v;
		else if (key == 'd')
			o->duration_ns = v;
		else
			o->interval_ns = v;
		break;
	case 'j':
		o->json = true;
		break;
	case OPT_CSV:
		o->csv = true;
		break;
	case OPT_PLOT:
		o->plot = arg;
		break;
	case OPT_FROM:
		if (o->nfrom >= MAX_FILES)
			argp_error(state, "at most %d --from files", MAX_FILES);
		o->from[o->nfrom++] = arg;
		break;
	case OPT_MODEL:
		o->model_only = true;
		break;
	case OPT_POLICY:
		o->policy = arg;
		break;
	case OPT_SHORT:
	case OPT_LONG:
		/* v is us * 10^9 */
		if (bn_parse_decimal(arg, &v) || v > 5000 * 1000000000ULL)
			argp_error(state, "invalid service time (0-5000 us): %s", arg);
		if (key == OPT_SHORT)
			o->model.short_us = v / 1e9;
		else
			o->model.long_us = v / 1e9;
		break;
	case OPT_CPUS:
	case OPT_LONG_CPUS:
		if (parse_ncpus(arg, key == OPT_CPUS ? &o->model.cpus : &o->model.long_cpus))
			argp_error(state, "invalid cpu count or list: %s", arg);
		break;
	case OPT_QSIZE:
		if (bn_parse_u64(arg, 1, 16384, &v))
			argp_error(state, "invalid queue size (1-16384): %s", arg);
		o->model.qsize = v;
		break;
	case 'v':
		bn_verbose++;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		if (o->server_str)
			argp_error(state, "unexpected argument: %s", arg);
		o->server_str = arg;
		if (bn_parse_addr(arg, &o->server))
			argp_error(state, "invalid server address: %s", arg);
		break;
	case ARGP_KEY_END:
		if (o->json && o->csv)
			argp_error(state, "--json and --csv exclude each other");
		if (o->nfrom && !o->plot)
			argp_error(state, "--from needs --plot");
		if (!o->server_str && !o->model_only && !o->nfrom)
			argp_error(state, "the SERVER address is required");
		if (o->ramp && o->duration_ns)
			argp_error(state, "--ramp and -d exclude each other (use --step-duration)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}


/* The steps of the run: their number, length and offered rate. */
static int setup_steps(const struct opts *o, struct load *ld)
{
	int s;

	if (o->ramp) {
		ld->nsteps = (int)((o->ramp_end - o->ramp_start) / o->ramp_step) + 1;
		ld->step_len_ns = o->step_ns ? o->step_ns : 1000000000ULL;
	} else {
		uint64_t d = o->duration_ns ? o->duration_ns : 5000000000ULL;

		ld->step_len_ns = o->interval_ns && o->interval_ns < d ? o->interval_ns : d;
		ld->nsteps = d / ld->step_len_ns;
		if (ld->nsteps > MAX_STEPS)
			return -E2BIG;
	}
	ld->step_rate = calloc(ld->nsteps, sizeof(*ld->step_rate));
	if (!ld->step_rate)
		return -ENOMEM;
	for (s = 0; s < ld->nsteps; s++)
		ld->step_rate[s] = o->ramp ? o->ramp_start + s * o->ramp_step : o->rate;
	return 0;
}

static enum out_fmt out_fmt(const struct opts *o)
{
	return o->json ? OUT_JSON : o->csv ? OUT_CSV : OUT_TEXT;
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

/* Report each step once it and its drain are over, until the end or a signal. */
static void run_steps(const struct opts *o, struct load *ld, struct results *res)
{
	int s;

	for (s = 0; s < ld->nsteps; s++) {
		load_sleep_until(ld, ld->t0_ns + (s + 1) * ld->step_len_ns + o->drain_ns);
		if (bn_stop)
			break;
		results_step(res, s);
		ld->reported[s] = 1;
	}
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
	struct results res = {};
	int err, ret = BN_EXIT_ERR;

	err = setup_steps(o, &ld);
	if (err) {
		bn_err("cannot set up the steps: %s", strerror(-err));
		return BN_EXIT_USAGE;
	}
	if (results_init(&res, &ld, &o->model, o->policy, out_fmt(o))) {
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
	if (err)
		bn_err("cannot start the client threads");
	else
		run_steps(o, &ld, &res);
	load_stop(&ld);
	results_totals(&res);
	if (!err && o->ramp)
		results_knees(&res);
	if (bn_verbose)
		results_flows(&res);
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
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = doc };
	struct opts o = {
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
	argp_err_exit_status = BN_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return BN_EXIT_USAGE;
	bn_stdout_setup();
	if (o.model_only) {
		if (o.model.cpus <= 0) {
			bn_err("--model needs --cpus (the server's worker cpus)");
			return BN_EXIT_USAGE;
		}
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
