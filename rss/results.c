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

static const char *const fields[] = {
	"step", "policy", "class", "offered_rps", "achieved_rps", "sent", "received", "lost",
	"total_rps",
	"queue_p50_us", "queue_p90_us", "queue_p99_us", "queue_p999_us",
	"rtt_p50_us", "rtt_p90_us", "rtt_p99_us", "rtt_p999_us", "model_rps",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const double pcts[4] = { 50, 90, 99, 99.9 };

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

void results_header(const struct results *r)
{
	unsigned int i;

	if (r->fmt == OUT_JSON)
		return;
	for (i = 0; i < NFIELDS; i++) {
		if (r->fmt == OUT_CSV)
			printf("%s%s", i ? "," : "", fields[i]);
		else if (i < 3)
			printf(i == 1 ? "%-8s " : "%-6s ", fields[i]);
		else
			printf("%*s%s", (int)strlen(fields[i]) < 9 ? 9 : (int)strlen(fields[i]),
			       fields[i], i + 1 < NFIELDS ? " " : "");
	}
	printf("\n");
}

static void print_json(const struct results *res, const struct record *r, const double *vals)
{
	struct bn_json j;
	unsigned int i;

	bn_json_begin(&j, stdout);
	bn_json_u64(&j, "step", r->step);
	bn_json_str(&j, "policy", res->policy);
	bn_json_str(&j, "class", class_names[r->class]);
	for (i = 3; i < NFIELDS; i++) {
		if (i >= 5 && i <= 7)
			bn_json_s64(&j, fields[i], (__s64)vals[i - 3]);
		else
			bn_json_double(&j, fields[i], vals[i - 3], i < 5 || i == 8 ? 1 : 2);
	}
	bn_json_end(&j);
}

static void print_record(const struct results *res, const struct record *r)
{
	double vals[] = { r->offered, r->achieved, r->sent, r->received, r->lost, r->total,
			  r->q[0], r->q[1], r->q[2], r->q[3],
			  r->rtt[0], r->rtt[1], r->rtt[2], r->rtt[3], r->model };
	unsigned int i;
	int prec;

	if (res->fmt == OUT_JSON) {
		print_json(res, r, vals);
		return;
	}
	if (res->fmt == OUT_CSV)
		printf("%d,%s,%s", r->step, res->policy, class_names[r->class]);
	else
		printf("%-6d %-8s %-6s", r->step, res->policy, class_names[r->class]);
	for (i = 3; i < NFIELDS; i++) {
		int w = (int)strlen(fields[i]) < 9 ? 9 : (int)strlen(fields[i]);

		prec = i <= 8 || i == NFIELDS - 1 ? 0 : 2;
		if (res->fmt == OUT_CSV) {
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

static double class_share(const struct load *ld, int c)
{
	return c == RSS_SHORT ? ld->short_pct / 100.0 : 1 - ld->short_pct / 100.0;
}

int results_step(struct results *res, int s)
{
	const struct load *ld = res->ld;
	struct record *out = res->recs[s], *r;
	struct load_sum *sum;
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
	for (c = 0; c < RSS_NR_CLASSES; c++) {
		out[c].total = out[0].total;
		if (out[c].offered > 0)
			print_record(res, &out[c]);
	}
	return 0;
}

void results_totals(const struct results *res)
{
	struct load_totals t;

	load_totals(res->ld, &t);
	fprintf(stderr, "%s: total: %llu sent, %llu received, %lld lost, %llu late, "
		"%llu duplicates, %llu invalid, %llu bad timestamps, %llu send errors\n",
		bn_prog(), (unsigned long long)t.sent, (unsigned long long)t.received,
		(long long)(t.sent - t.received), (unsigned long long)t.late,
		(unsigned long long)t.dups, (unsigned long long)t.invalid,
		(unsigned long long)t.bad_ts, (unsigned long long)t.send_err);
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

void results_flows(const struct results *res)
{
	const struct load *ld = res->ld;
	char buf[256];
	size_t off;
	int k, c;

	for (k = 0; k < ld->nclients; k++) {
		off = 0;
		buf[0] = 0;
		for (c = 0; c < RSS_MAX_CPUS && off + 24 < sizeof(buf); c++)
			if (ld->clients[k].cpu_replies[c])
				off += snprintf(buf + off, sizeof(buf) - off, " cpu%d=%llu", c,
						(unsigned long long)ld->clients[k].cpu_replies[c]);
		fprintf(stderr, "%s: flow %d port %u:%s\n", bn_prog(), k, ld->clients[k].lport,
			off ? buf : " no replies");
	}
}
