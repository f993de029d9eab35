// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - what netcost prints: per-CPU rows and the all-CPU total each
 * interval and for the whole run, the breakdown by category, the top
 * cgroups, and the Prometheus exposition.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

const char *const nc_kind_names[NC_NR_KINDS] = {
	[NC_RX] = "net_rx", [NC_TX] = "net_tx", [NC_SEND] = "sock_send",
	[NC_RECV] = "sock_recv",
};

struct row {
	uint64_t ns[NC_NR_KINDS];
	uint64_t total_ns, si_ns, stat_si_ns, ops[2], untimed, errors, samples, lost;
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void cpu_row(struct nc_report *rp, const struct nc_snap *a, const struct nc_snap *b, int cpu,
		    struct row *row)
{
	const struct nc_cpu *x = &a->cpu[cpu], *y = &b->cpu[cpu];
	int k;

	memset(row, 0, sizeof(*row));
	for (k = 0; k < NC_NR_KINDS; k++) {
		row->ns[k] = sub0(y->ns[k] + b->pend[cpu * NC_NPEND + k],
				  x->ns[k] + a->pend[cpu * NC_NPEND + k]);
		row->total_ns += row->ns[k];
	}
	row->si_ns = sub0(y->softirq_ns + b->pend[cpu * NC_NPEND + NC_NR_KINDS],
			  x->softirq_ns + a->pend[cpu * NC_NPEND + NC_NR_KINDS]);
	row->stat_si_ns = sub0(b->stat_si[cpu], a->stat_si[cpu]) * (1000000000ULL / rp->clk_tck);
	row->ops[0] = y->ops[0] - x->ops[0];
	row->ops[1] = y->ops[1] - x->ops[1];
	row->untimed = y->untimed_ops - x->untimed_ops;
	row->errors = (y->errors - x->errors) + (y->cg_drops - x->cg_drops);
	row->samples = y->samples - x->samples;
	row->lost = y->lost - x->lost;
}

static void row_add(struct row *sum, const struct row *row)
{
	int k;

	for (k = 0; k < NC_NR_KINDS; k++)
		sum->ns[k] += row->ns[k];
	sum->total_ns += row->total_ns;
	sum->si_ns += row->si_ns;
	sum->stat_si_ns += row->stat_si_ns;
	sum->ops[0] += row->ops[0];
	sum->ops[1] += row->ops[1];
	sum->untimed += row->untimed;
	sum->errors += row->errors;
	sum->samples += row->samples;
	sum->lost += row->lost;
}

static double pct(uint64_t part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0;
}

static void time_str(char *buf, size_t len, bool average)
{
	time_t t = time(NULL);
	struct tm tm;

	if (average) {
		snprintf(buf, len, "Average");
		return;
	}
	localtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
}

static void print_cpu_header(void)
{
	printf("%-8s %4s %8s %8s %8s %8s %8s %12s %12s %12s %12s %9s %13s %6s\n", "TIME", "CPU",
	       "NET_RX%", "NET_TX%", "SEND%", "RECV%", "TOTAL%", "NET_RX_NS", "NET_TX_NS",
	       "SEND_NS", "RECV_NS", "SOFTIRQ%", "STAT_SOFTIRQ%", "SELF%");
}

/* @ncpu CPUs over @el ns: % of one CPU for a CPU row, machine share for "all". */
static void print_row(struct nc_report *rp, const char *tm, double now_s, bool average, int cpu, const struct row *row,
		      uint64_t el, int ncpu, const struct nc_snap *a, const struct nc_snap *b)
{
	double whole = (double)el * ncpu;
	bool all = cpu < 0;
	double self = all ? pct(sub0(b->self_ns, a->self_ns), el) : 0;
	double bpf = all && b->bpf_cnt ? pct(sub0(b->bpf_ns, a->bpf_ns), whole) : NAN;
	struct bn_json j;
	char cbuf[16];
	int k;

	if (!rp->opts->json) {
		snprintf(cbuf, sizeof(cbuf), all ? "all" : "%d", cpu);
		printf("%-8s %4s %8.2f %8.2f %8.2f %8.2f %8.2f %12" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %12" PRIu64 " %9.2f %13.2f ", tm, cbuf,
		       pct(row->ns[NC_RX], whole), pct(row->ns[NC_TX], whole),
		       pct(row->ns[NC_SEND], whole), pct(row->ns[NC_RECV], whole),
		       pct(row->total_ns, whole), row->ns[NC_RX], row->ns[NC_TX],
		       row->ns[NC_SEND], row->ns[NC_RECV], pct(row->si_ns, whole),
		       pct(row->stat_si_ns, whole));
		if (all)
			printf("%6.2f\n", self);
		else
			printf("%6s\n", "-");
		return;
	}
	bn_json_begin(&j, stdout);
	bn_json_str(&j, "type", "cpu");
	bn_json_double(&j, "time", now_s, 3);
	bn_json_bool(&j, "average", average);
	if (all)
		bn_json_str(&j, "cpu", "all");
	else
		bn_json_u64(&j, "cpu", cpu);
	bn_json_u64(&j, "interval_ns", el);
	for (k = 0; k < NC_NR_KINDS; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_pct", nc_kind_names[k]);
		bn_json_double(&j, key, pct(row->ns[k], whole), 3);
	}
	bn_json_double(&j, "total_pct", pct(row->total_ns, whole), 3);
	for (k = 0; k < NC_NR_KINDS; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_ns", nc_kind_names[k]);
		bn_json_u64(&j, key, row->ns[k]);
	}
	bn_json_u64(&j, "total_ns", row->total_ns);
	bn_json_double(&j, "cpus", el ? (double)row->total_ns / el : 0, 4);
	bn_json_double(&j, "softirq_pct", pct(row->si_ns, whole), 3);
	bn_json_u64(&j, "softirq_ns", row->si_ns);
	bn_json_double(&j, "procstat_softirq_pct", pct(row->stat_si_ns, whole), 3);
	bn_json_u64(&j, "procstat_softirq_ns", row->stat_si_ns);
	bn_json_u64(&j, "send_ops", row->ops[0]);
	bn_json_u64(&j, "recv_ops", row->ops[1]);
	bn_json_u64(&j, "untimed_ops", row->untimed);
	if (all) {
		bn_json_double(&j, "self_pct", self, 3);
		bn_json_double(&j, "bpf_pct", bpf, 4);
		bn_json_double(&j, "bpf_ns_per_run", b->bpf_cnt > a->bpf_cnt ?
			       (double)sub0(b->bpf_ns, a->bpf_ns) / (b->bpf_cnt - a->bpf_cnt) : NAN,
			       1);
		bn_json_u64(&j, "samples", row->samples);
		bn_json_u64(&j, "samples_lost", row->lost);
		bn_json_u64(&j, "errors", row->errors);
	}
	bn_json_end(&j);
}

static void print_breakdown(struct nc_report *rp, const char *tm, double now_s, bool average,
			    uint64_t cat[NC_NR_KINDS][NC_CAT_NR], uint64_t lost)
{
	uint64_t per_kind[NC_NR_KINDS] = {}, total = 0, n;
	struct bn_json j;
	int k, c;

	for (k = 0; k < NC_NR_KINDS; k++)
		for (c = 0; c < NC_CAT_NR; c++)
			per_kind[k] += cat[k][c];
	for (k = 0; k < NC_NR_KINDS; k++)
		total += per_kind[k];
	if (!rp->opts->json)
		printf("%-8s %-12s %8s %8s %8s %8s %8s %9s\n", "TIME", "CATEGORY", "NET_RX%",
		       "NET_TX%", "SEND%", "RECV%", "ALL%", "SAMPLES");
	for (c = 0; c < NC_CAT_NR; c++) {
		n = 0;
		for (k = 0; k < NC_NR_KINDS; k++)
			n += cat[k][c];
		if (!rp->opts->json) {
			printf("%-8s %-12s %8.2f %8.2f %8.2f %8.2f %8.2f %9" PRIu64 "\n", tm,
			       nc_cat_name(c), pct(cat[NC_RX][c], per_kind[NC_RX]),
			       pct(cat[NC_TX][c], per_kind[NC_TX]),
			       pct(cat[NC_SEND][c], per_kind[NC_SEND]),
			       pct(cat[NC_RECV][c], per_kind[NC_RECV]), pct(n, total), n);
			continue;
		}
		bn_json_begin(&j, stdout);
		bn_json_str(&j, "type", "breakdown");
		bn_json_double(&j, "time", now_s, 3);
		bn_json_bool(&j, "average", average);
		bn_json_str(&j, "category", nc_cat_name(c));
		bn_json_double(&j, "pct", pct(n, total), 3);
		for (k = 0; k < NC_NR_KINDS; k++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_pct", nc_kind_names[k]);
			bn_json_double(&j, key, pct(cat[k][c], per_kind[k]), 3);
		}
		bn_json_u64(&j, "samples", n);
		bn_json_end(&j);
	}
	if (!rp->opts->json)
		printf("%-8s %-12s %8s %8s %8s %8s %8s %9" PRIu64 "\n", tm, "(lost)", "-", "-",
		       "-", "-", "-", lost);
}

static void print_cgroups(struct nc_report *rp, const char *tm, double now_s, bool average,
			  uint64_t el, int ncpu)
{
	struct bn_json j;
	int i, k;

	nc_cgroups_sort(rp->cg, average);
	if (!rp->opts->json)
		printf("%-8s %8s %8s %12s %12s %s\n", "TIME", "SEND%", "RECV%", "SEND_NS",
		       "RECV_NS", "CGROUP");
	for (i = 0; i < rp->cg->n && i < rp->opts->cgroups; i++) {
		const uint64_t *d = average ? rp->cg->ents[i].sum : rp->cg->ents[i].d;
		const uint64_t *ops = average ? rp->cg->ents[i].sumops : rp->cg->ents[i].dops;

		if (!d[0] && !d[1] && !ops[0] && !ops[1])
			break;
		if (!rp->opts->json) {
			printf("%-8s %8.2f %8.2f %12" PRIu64 " %12" PRIu64 " %s\n", tm,
			       pct(d[0], (double)el * ncpu), pct(d[1], (double)el * ncpu), d[0],
			       d[1], rp->cg->ents[i].path);
			continue;
		}
		bn_json_begin(&j, stdout);
		bn_json_str(&j, "type", "cgroup");
		bn_json_double(&j, "time", now_s, 3);
		bn_json_bool(&j, "average", average);
		bn_json_str(&j, "cgroup", rp->cg->ents[i].path);
		bn_json_u64(&j, "cgroup_id", rp->cg->ents[i].id);
		for (k = 0; k < 2; k++) {
			bn_json_double(&j, k ? "sock_recv_pct" : "sock_send_pct",
				       pct(d[k], (double)el * ncpu), 3);
			bn_json_u64(&j, k ? "sock_recv_ns" : "sock_send_ns", d[k]);
			bn_json_u64(&j, k ? "recv_ops" : "send_ops", ops[k]);
		}
		bn_json_end(&j);
	}
}

/* Prometheus text exposition of the totals since start and the last interval. */
static void build_metrics(struct nc_report *rp, const struct nc_snap *cur, const struct row *rows,
			  const struct row *all, uint64_t el)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int cpu, k, c;

	if (!f)
		return;
	fprintf(f, "# HELP netcost_cpu_seconds_total CPU time in networking since netcost "
		"started.\n# TYPE netcost_cpu_seconds_total counter\n");
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		for (k = 0; k < NC_NR_KINDS; k++)
			fprintf(f, "netcost_cpu_seconds_total{cpu=\"%d\",kind=\"%s\"} %.9f\n", cpu,
				nc_kind_names[k],
				sub0(cur->cpu[cpu].ns[k], rp->first->cpu[cpu].ns[k]) / 1e9);
	}
	fprintf(f, "# HELP netcost_cpu_ratio Share of a CPU in networking over the last "
		"interval.\n# TYPE netcost_cpu_ratio gauge\n");
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		for (k = 0; k < NC_NR_KINDS; k++)
			fprintf(f, "netcost_cpu_ratio{cpu=\"%d\",kind=\"%s\"} %.6f\n", cpu,
				nc_kind_names[k], el ? (double)rows[cpu].ns[k] / el : 0);
		fprintf(f, "netcost_cpu_ratio{cpu=\"%d\",kind=\"total\"} %.6f\n", cpu,
			el ? (double)rows[cpu].total_ns / el : 0);
	}
	fprintf(f, "# HELP netcost_softirq_ratio Share of a CPU in all softirqs, measured and "
		"from /proc/stat.\n# TYPE netcost_softirq_ratio gauge\n");
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		fprintf(f, "netcost_softirq_ratio{cpu=\"%d\",source=\"bpf\"} %.6f\n", cpu,
			el ? (double)rows[cpu].si_ns / el : 0);
		fprintf(f, "netcost_softirq_ratio{cpu=\"%d\",source=\"procstat\"} %.6f\n", cpu,
			el ? (double)rows[cpu].stat_si_ns / el : 0);
	}
	fprintf(f, "# HELP netcost_self_cpu_seconds_total netcost's own user-space CPU time.\n"
		"# TYPE netcost_self_cpu_seconds_total counter\n"
		"netcost_self_cpu_seconds_total %.6f\n",
		sub0(cur->self_ns, rp->first->self_ns) / 1e9);
	fprintf(f, "# HELP netcost_samples_lost_total Stack samples dropped.\n"
		"# TYPE netcost_samples_lost_total counter\nnetcost_samples_lost_total %" PRIu64
		"\n", all->lost);
	if (rp->opts->breakdown) {
		fprintf(f, "# HELP netcost_breakdown_samples_total Stack samples by context and "
			"category.\n# TYPE netcost_breakdown_samples_total counter\n");
		for (k = 0; k < NC_NR_KINDS; k++)
			for (c = 0; c < NC_CAT_NR; c++)
				fprintf(f, "netcost_breakdown_samples_total{kind=\"%s\","
					"category=\"%s\"} %" PRIu64 "\n", nc_kind_names[k],
					nc_cat_name(c), rp->samples->cat_sum[k][c]);
	}
	if (rp->opts->cgroups) {
		fprintf(f, "# HELP netcost_cgroup_cpu_seconds_total Socket operation time by "
			"cgroup.\n# TYPE netcost_cgroup_cpu_seconds_total counter\n");
		for (c = 0; c < rp->cg->n; c++)
			for (k = 0; k < 2; k++) {
				fprintf(f, "netcost_cgroup_cpu_seconds_total{cgroup=");
				bn_json_escape(f, rp->cg->ents[c].path);
				fprintf(f, ",kind=\"%s\"} %.9f\n", k ? "sock_recv" : "sock_send",
					rp->cg->ents[c].sum[k] / 1e9);
			}
	}
	fclose(f);
	free(rp->metrics_text);
	rp->metrics_text = buf;
}

/* One interval (or, with @average, the whole run) from snapshot @a to @b. */
void nc_report(struct nc_report *rp, const struct nc_snap *a, const struct nc_snap *b,
	       bool average)
{
	uint64_t el = sub0(b->mono, a->mono);
	struct row *rows, all = {};
	char tm[16];
	double now_s = bn_realtime_ns() / 1e9;
	int cpu, n = 0;

	rows = calloc(rp->nr_cpus, sizeof(*rows));
	if (!rows)
		return;
	time_str(tm, sizeof(tm), average);
	if (!rp->opts->json)
		print_cpu_header();
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		cpu_row(rp, a, b, cpu, &rows[cpu]);
		row_add(&all, &rows[cpu]);
		n++;
		print_row(rp, tm, now_s, average, cpu, &rows[cpu], el, 1, a, b);
	}
	print_row(rp, tm, now_s, average, -1, &all, el, n, a, b);
	if (rp->opts->breakdown) {
		if (!rp->opts->json)
			printf("\n");
		if (average) {
			print_breakdown(rp, tm, now_s, true, rp->samples->cat_sum, all.lost);
		} else {
			print_breakdown(rp, tm, now_s, false, rp->samples->cat, all.lost);
			nc_samples_next_interval(rp->samples);
		}
	}
	if (rp->opts->cgroups) {
		if (!average)
			nc_cgroups_read(rp->cg);
		if (!rp->opts->json)
			printf("\n");
		print_cgroups(rp, tm, now_s, average, el, n);
	}
	if (!rp->opts->json)
		printf("\n");
	fflush(stdout);
	if (rp->metrics && !average)
		build_metrics(rp, b, rows, &all, el);
	free(rows);
}

void nc_report_free(struct nc_report *rp)
{
	free(rp->metrics_text);
	rp->metrics_text = NULL;
}
