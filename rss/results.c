// SPDX-License-Identifier: GPL-2.0
/*
 * results.c - rss-client's results: a record per step and class (text,
 * JSON Lines or CSV) on stdout, and on stderr the run's totals, the knee of
 * each class after a ramp and, with -v, each flow's replies per worker CPU.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rss-client.h"

/* The numbers of a record after step, policy and class, in output order. */
static const struct field {
	const char *name;
	int prec;		/* digits after the point in text and CSV */
	int json_prec;		/* in JSON; -1: an integer */
} fields[] = {
	{ "offered_rps", 0, 1 }, { "achieved_rps", 0, 1 },
	{ "sent", 0, -1 }, { "received", 0, -1 }, { "lost", 0, -1 },
	{ "total_rps", 0, 1 },
	{ "queue_p50_us", 2, 2 }, { "queue_p90_us", 2, 2 },
	{ "queue_p99_us", 2, 2 }, { "queue_p999_us", 2, 2 },
	{ "rtt_p50_us", 2, 2 }, { "rtt_p90_us", 2, 2 },
	{ "rtt_p99_us", 2, 2 }, { "rtt_p999_us", 2, 2 },
	{ "model_rps", 0, 2 },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const double pcts[4] = { 50, 90, 99, 99.9 };

/* Text columns: at least 9 wide, as wide as their name. */
static int field_width(const char *name)
{
	return strlen(name) < 9 ? 9 : (int)strlen(name);
}

int results_init(struct results *r, const struct load *ld, const struct model *m,
		 const char *policy, enum out_fmt fmt)
{
	r->fmt = fmt;
	r->policy = policy;
	r->model = m;
	r->ld = ld;
	r->recs = calloc(ld->nsteps, sizeof(*r->recs));
	return r->recs ? 0 : -ENOMEM;
}

void results_free(struct results *r)
{
	free(r->recs);
	r->recs = NULL;
}

/* The header line of text and CSV; JSON has none. */
void results_header(const struct results *r)
{
	unsigned int i;

	if (r->fmt == OUT_JSON)
		return;
	if (r->fmt == OUT_CSV)
		printf("step,policy,class");
	else
		printf("%-12s %-6s %-8s %-6s", "time", "step", "policy", "class");
	for (i = 0; i < NFIELDS; i++) {
		if (r->fmt == OUT_CSV)
			printf(",%s", fields[i].name);
		else
			printf(" %*s", field_width(fields[i].name), fields[i].name);
	}
	printf("\n");
}

static void print_json(const struct results *res, const struct record *r, const double *vals,
		       uint64_t now)
{
	struct bn_json j;
	unsigned int i;

	bn_rec_begin(&j, stdout, "step", now);
	bn_json_u64(&j, "step", r->step);
	bn_json_str(&j, "policy", res->policy);
	bn_json_str(&j, "class", class_names[r->class]);
	for (i = 0; i < NFIELDS; i++) {
		if (fields[i].json_prec < 0)
			bn_json_s64(&j, fields[i].name, (__s64)vals[i]);
		else
			bn_json_double(&j, fields[i].name, vals[i], fields[i].json_prec);
	}
	bn_json_end(&j);
}

static void print_record(const struct results *res, const struct record *r, uint64_t now)
{
	double vals[NFIELDS] = { r->offered, r->achieved, r->sent, r->received, r->lost,
				 r->total, r->q[0], r->q[1], r->q[2], r->q[3],
				 r->rtt[0], r->rtt[1], r->rtt[2], r->rtt[3], r->model };
	char ts[BN_TIMESTRLEN];
	unsigned int i;

	if (res->fmt == OUT_JSON) {
		print_json(res, r, vals, now);
		return;
	}
	if (res->fmt == OUT_CSV)
		printf("%d,%s,%s", r->step, res->policy, class_names[r->class]);
	else
		printf("%-12s %-6d %-8s %-6s", bn_time_str(now, ts, sizeof(ts)), r->step,
		       res->policy, class_names[r->class]);
	for (i = 0; i < NFIELDS; i++) {
		if (res->fmt == OUT_TEXT)
			printf(" %*.*f", field_width(fields[i].name), fields[i].prec, vals[i]);
		else if (isnan(vals[i]))
			printf(",");
		else
			printf(",%.*f", fields[i].prec, vals[i]);
	}
	printf("\n");
}

static double class_share(const struct load *ld, int c)
{
	return c == RSS_SHORT ? ld->short_pct / 100.0 : 1 - ld->short_pct / 100.0;
}

int results_step(struct results *res, int s)
{
	const struct load *ld = res->ld;
	struct record *out = res->recs[s], *r;
	struct load_sum *sum;
	uint64_t now;
	int c, i;

	sum = malloc(sizeof(*sum));
	if (!sum)
		return -ENOMEM;
	for (c = 0; c < RSS_NR_CLASSES; c++) {
		r = &out[c];
		memset(sum, 0, sizeof(*sum));
		load_step_sum(ld, s, c, sum);
		memset(r, 0, sizeof(*r));
		r->step = s;
		r->class = c;
		r->sent = sum->sent;
		r->received = sum->received;
		r->offered = ld->step_rate[s] * class_share(ld, c);
		r->achieved = r->received / (ld->step_len_ns / 1e9);
		r->lost = (__s64)r->sent - (__s64)r->received;
		for (i = 0; i < 4; i++) {
			r->q[i] = rss_hist_percentile(&sum->q, pcts[i]) / 1e3;
			r->rtt[i] = rss_hist_percentile(&sum->rtt, pcts[i]) / 1e3;
		}
		r->model = model_run_rate(res->model, res->policy, c) * class_share(ld, c);
	}
	free(sum);
	for (c = 0; c < RSS_NR_CLASSES; c++)
		out[0].total += out[c].achieved;
	now = bn_realtime_ns();
	for (c = 0; c < RSS_NR_CLASSES; c++) {
		out[c].total = out[0].total;
		if (out[c].offered > 0)
			print_record(res, &out[c], now);
	}
	return 0;
}

void results_totals(const struct load_totals *t)
{
	fprintf(stderr, "%s: total: %llu sent, %llu received, %lld lost, %llu late, "
		"%llu duplicates, %llu invalid, %llu bad timestamps, %llu send errors\n",
		bn_prog(), (unsigned long long)t->sent, (unsigned long long)t->received,
		(long long)(t->sent - t->received), (unsigned long long)t->late,
		(unsigned long long)t->dups, (unsigned long long)t->invalid,
		(unsigned long long)t->bad_ts, (unsigned long long)t->send_err);
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

/* The low-load level of @c's p99 queuing delay: median of the first 3 steps. */
static double knee_base(const struct results *res, int c)
{
	double first[3];
	int n;

	for (n = 0; n < 3 && n < res->ld->nsteps; n++)
		first[n] = isnan(res->recs[n][c].q[2]) ? INFINITY : res->recs[n][c].q[2];
	qsort(first, n, sizeof(first[0]), cmp_double);
	return first[(n - 1) / 2];
}

/*
 * The knee of a class: the highest offered rate before the p99 queuing delay
 * leaves its low-load level (10x the median of the first three steps' and
 * 50 us more) or more than 1% of the requests are lost, for two steps in a
 * row (or the last step): a single spike of a noisy machine is not a knee.
 */
void results_knees(const struct results *res)
{
	int c, s, knee_step, nsteps = res->ld->nsteps;
	double base, knee, lim, m;
	const char *name;

	for (c = 0; c < RSS_NR_CLASSES; c++) {
		if (class_share(res->ld, c) <= 0)
			continue;
		base = knee_base(res, c);
		if (isinf(base))
			continue;
		lim = fmax(base * 10, base + 50);
		knee = NAN;
		knee_step = -1;
		for (s = 0; s < nsteps; s++) {
			if (step_bad(&res->recs[s][c], lim) &&
			    (s == nsteps - 1 || step_bad(&res->recs[s + 1][c], lim)))
				break;
			knee = res->ld->step_rate[s];
			knee_step = s;
		}
		m = model_run_rate(res->model, res->policy, c);
		name = class_names[c];
		if (knee_step < 0)
			fprintf(stderr, "%s: knee %s: already past it at the first step", bn_prog(),
				name);
		else if (knee_step == nsteps - 1)
			fprintf(stderr, "%s: knee %s: not reached (up to %.0f requests/s offered)",
				bn_prog(), name, knee);
		else
			fprintf(stderr, "%s: knee %s: %.0f requests/s offered (step %d, "
				"p99 queuing delay <= %.1f us)", bn_prog(), name, knee,
				knee_step, lim);
		if (!isnan(m))
			fprintf(stderr, "; model (%s, %d cpus): %.0f requests/s\n", res->policy,
				res->model->cpus, m);
		else
			fprintf(stderr, "\n");
	}
}

/* -v: the replies of each flow (client socket) per worker CPU. */
static void flow_json(const struct results *res, const struct client *cl, uint64_t now)
{
	struct bn_json j;
	int c;

	bn_rec_begin(&j, stdout, "flow", now);
	bn_json_u64(&j, "flow", cl->idx);
	bn_json_u64(&j, "port", cl->lport);
	bn_json_arr_begin(&j, "cpus");
	for (c = 0; c < RSS_MAX_CPUS; c++) {
		if (!cl->cpu_replies[c])
			continue;
		bn_json_obj_begin(&j, NULL);
		bn_json_u64(&j, "cpu", c);
		bn_json_u64(&j, "replies", cl->cpu_replies[c]);
		bn_json_obj_end(&j);
	}
	bn_json_arr_end(&j);
	bn_json_end(&j);
}

/* Text and CSV keep stdout for the steps: the flows go to stderr. */
static void flow_text(const struct client *cl)
{
	int c, n = 0;

	fprintf(stderr, "%s: flow %d port %u:", bn_prog(), cl->idx, cl->lport);
	for (c = 0; c < RSS_MAX_CPUS; c++)
		if (cl->cpu_replies[c])
			fprintf(stderr, "%s %llu from cpu %d", n++ ? "," : "",
				(unsigned long long)cl->cpu_replies[c], c);
	fprintf(stderr, "%s\n", n ? "" : " no replies");
}

void results_flows(const struct results *res)
{
	const struct load *ld = res->ld;
	uint64_t now = bn_realtime_ns();
	int k;

	for (k = 0; k < ld->nclients; k++) {
		if (res->fmt == OUT_JSON)
			flow_json(res, &ld->clients[k], now);
		else
			flow_text(&ld->clients[k]);
	}
}
