// SPDX-License-Identifier: GPL-2.0
/*
 * model.c - rss-client's queueing model (seed section 5.1.2): the server as
 * M/C/k/N queues, constant service times, k = CPUs of the group, N = k *
 * queue size. The maximum sustainable rate is where the arrival rate
 * reaches the service rate, lambda_max = mu.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "rss-client.h"

const char *const model_policies[MODEL_NR_POLICIES] = {
	"rr", "split", "dynamic", "hash", "jsq", "p2c",
};

double model_rate(const struct model *m, const char *policy, int class, double *plateau_us)
{
	double ps = m->short_pct / 100.0, pl = 1 - ps, s = m->short_us, l = m->long_us;
	double mean = ps * s + pl * l, p = class == RSS_SHORT ? ps : pl;
	int k = m->cpus, kl = m->long_cpus;

	*plateau_us = NAN;
	if (p <= 0 || k <= 0)
		return NAN;
	if (!strcmp(policy, "split")) {
		/* k CPUs in all: k - k_L short ones, k_L long ones */
		if (kl <= 0 || kl >= k)
			return NAN;
		if (class == RSS_SHORT) {
			*plateau_us = m->qsize * s;
			return s > 0 ? (k - kl) * 1e6 / (ps * s) : INFINITY;
		}
		*plateau_us = m->qsize * l;
		return l > 0 ? kl * 1e6 / (pl * l) : INFINITY;
	}
	/* rr, dynamic (at its largest group), hash (flows spread evenly), jsq, p2c */
	*plateau_us = m->qsize * mean;
	return mean > 0 ? k * 1e6 / mean : INFINITY;
}

double model_run_rate(const struct model *m, const char *policy, int class)
{
	double plateau;

	if (!strcmp(policy, "-") || m->cpus <= 0)
		return NAN;
	return model_rate(m, policy, class, &plateau);
}

static void model_line(enum out_fmt fmt, const char *policy, int class, double r,
		       double plateau)
{
	struct bn_json j;

	switch (fmt) {
	case OUT_JSON:
		bn_rec_begin(&j, stdout, "model", bn_realtime_ns());
		bn_json_str(&j, "policy", policy);
		bn_json_str(&j, "class", class_names[class]);
		bn_json_double(&j, "max_rps", r, 0);
		bn_json_double(&j, "plateau_queue_us", plateau, 1);
		bn_json_end(&j);
		break;
	case OUT_CSV:
		printf("%s,%s,%.0f,%.1f\n", policy, class_names[class], r, plateau);
		break;
	default:
		printf("%-8s %-6s %12.0f %17.1f\n", policy, class_names[class], r, plateau);
	}
}

void model_print(const struct model *m, enum out_fmt fmt)
{
	double plateau, r, ps = m->short_pct / 100.0, ks;
	int i, c;

	if (fmt == OUT_CSV)
		printf("policy,class,max_rps,plateau_queue_us\n");
	else if (fmt == OUT_TEXT)
		printf("%-8s %-6s %12s %17s\n", "policy", "class", "max_rps", "plateau_queue_us");
	for (i = 0; i < MODEL_NR_POLICIES; i++) {
		for (c = 0; c < RSS_NR_CLASSES; c++) {
			r = model_rate(m, model_policies[i], c, &plateau);
			if (!isnan(r))
				model_line(fmt, model_policies[i], c, r, plateau);
		}
	}
	/* the seed's k_S: short requests fare better split than shared from here on */
	ks = ps * m->short_us / (ps * m->short_us + (1 - ps) * m->long_us);
	fprintf(stderr, "%s: split beats rr for short requests when the short group has more "
		"than %.2f of the cpus\n", bn_prog(), ks);
}
