// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - what netcost prints: a "cpu" record per CPU and a "total"
 * record for the CPUs together, each interval and for the whole run, the
 * breakdown by category, the top cgroups, and the Prometheus exposition.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *const nc_kind_names[NC_NR_KINDS] = {
	[NC_RX] = "net_rx", [NC_TX] = "net_tx", [NC_SEND] = "sock_send",
	[NC_RECV] = "sock_recv",
};

/* What every line of one report shares. */
struct out {
	const struct nc_opts *o;
	bool average;			/* the whole run, not an interval */
	uint64_t now_ns;		/* realtime */
	char tm[BN_TIMESTRLEN];		/* text mode: the time, or "Average" */
	uint64_t el;			/* ns from snapshot a to b */
	int ncpus;			/* CPUs reported */
};

struct row {
	uint64_t ns[NC_NR_KINDS];
	uint64_t total_ns, si_ns, stat_si_ns, ops[2], untimed, errors, samples, lost;
};

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void cpu_row(struct nc_report *rp, const struct nc_snap *a, const struct nc_snap *b,
		    int cpu, struct row *row)
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
	row->errors = y->cg_drops - x->cg_drops;
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

/*
 * How far a share of @n samples may be from the true share: half the width
 * of the 95% Wilson score interval of @part in @n, in points (100 without
 * samples: the share could be anything). Stack samples are a binomial draw
 * of where the CPU was; Wilson's interval stays honest at 0 and at 100%.
 */
static double pct_err(uint64_t part, uint64_t n)
{
	const double z = 1.96;
	double p;

	if (!n)
		return 100;
	p = (double)part / n;
	return 100 * z / (1 + z * z / n) * sqrt(p * (1 - p) / n + z * z / (4.0 * n * n));
}

static void rec_begin(struct bn_json *j, const struct out *out, const char *type)
{
	bn_rec_begin(j, stdout, type, out->now_ns);
	bn_json_bool(j, "average", out->average);
}

static void print_cpu_header(void)
{
	printf("%-12s %4s %8s %8s %8s %8s %8s %12s %12s %12s %12s %9s %13s %6s\n", "TIME",
	       "CPU", "NET_RX%", "NET_TX%", "SEND%", "RECV%", "TOTAL%", "NET_RX_NS", "NET_TX_NS",
	       "SEND_NS", "RECV_NS", "SOFTIRQ%", "STAT_SOFTIRQ%", "SELF%");
}

/* A text row: @cpu < 0 is the "all" row, with netcost's own CPU @self. */
static void text_row(const struct out *out, int cpu, const struct row *row, double whole,
		     double self)
{
	char cbuf[16];

	snprintf(cbuf, sizeof(cbuf), cpu < 0 ? "all" : "%d", cpu);
	printf("%-12s %4s %8.2f %8.2f %8.2f %8.2f %8.2f %12" PRIu64 " %12" PRIu64 " %12" PRIu64
	       " %12" PRIu64 " %9.2f %13.2f ", out->tm, cbuf, pct(row->ns[NC_RX], whole),
	       pct(row->ns[NC_TX], whole), pct(row->ns[NC_SEND], whole),
	       pct(row->ns[NC_RECV], whole), pct(row->total_ns, whole), row->ns[NC_RX],
	       row->ns[NC_TX], row->ns[NC_SEND], row->ns[NC_RECV], pct(row->si_ns, whole),
	       pct(row->stat_si_ns, whole));
	if (cpu < 0)
		printf("%6.2f\n", self);
	else
		printf("%6s\n", "-");
}

/* The fields "cpu" and "total" records share; shares of @whole ns. */
static void json_times(struct bn_json *j, const struct out *out, const struct row *row,
		       double whole)
{
	char key[32];
	int k;

	bn_json_u64(j, "interval_ns", out->el);
	for (k = 0; k < NC_NR_KINDS; k++) {
		snprintf(key, sizeof(key), "%s_pct", nc_kind_names[k]);
		bn_json_double(j, key, pct(row->ns[k], whole), 3);
	}
	bn_json_double(j, "total_pct", pct(row->total_ns, whole), 3);
	for (k = 0; k < NC_NR_KINDS; k++) {
		snprintf(key, sizeof(key), "%s_ns", nc_kind_names[k]);
		bn_json_u64(j, key, row->ns[k]);
	}
	bn_json_u64(j, "total_ns", row->total_ns);
	bn_json_double(j, "cpus", out->el ? (double)row->total_ns / out->el : 0, 4);
	bn_json_double(j, "softirq_pct", pct(row->si_ns, whole), 3);
	bn_json_u64(j, "softirq_ns", row->si_ns);
	bn_json_double(j, "procstat_softirq_pct", pct(row->stat_si_ns, whole), 3);
	bn_json_u64(j, "procstat_softirq_ns", row->stat_si_ns);
	bn_json_u64(j, "send_ops", row->ops[0]);
	bn_json_u64(j, "recv_ops", row->ops[1]);
	bn_json_u64(j, "untimed_ops", row->untimed);
}

/* One CPU: shares of that CPU. */
static void print_cpu(const struct out *out, int cpu, const struct row *row)
{
	struct bn_json j;

	if (!out->o->cli.json) {
		text_row(out, cpu, row, out->el, 0);
		return;
	}
	rec_begin(&j, out, "cpu");
	bn_json_u64(&j, "cpu", cpu);
	json_times(&j, out, row, out->el);
	bn_json_end(&j);
}

/* The CPUs together: shares of all of them, and netcost's own cost. */
static void print_total(const struct out *out, const struct row *row, const struct nc_snap *a,
			const struct nc_snap *b)
{
	double whole = (double)out->el * out->ncpus;
	double self = pct(sub0(b->self_ns, a->self_ns), out->el);
	uint64_t bpf_ns = sub0(b->bpf_ns, a->bpf_ns), runs = sub0(b->bpf_cnt, a->bpf_cnt);
	struct bn_json j;

	if (!out->o->cli.json) {
		text_row(out, -1, row, whole, self);
		return;
	}
	rec_begin(&j, out, "total");
	bn_json_u64(&j, "ncpus", out->ncpus);
	json_times(&j, out, row, whole);
	bn_json_double(&j, "self_pct", self, 3);
	if (out->o->bpf_stats) {
		bn_json_double(&j, "bpf_pct", pct(bpf_ns, whole), 4);
		bn_json_u64(&j, "bpf_ns", bpf_ns);
		bn_json_u64(&j, "bpf_runs", runs);
		bn_json_double(&j, "bpf_ns_per_run", runs ? (double)bpf_ns / runs : 0, 1);
	}
	bn_json_u64(&j, "samples", row->samples);
	bn_json_u64(&j, "samples_lost", row->lost);
	bn_json_u64(&j, "errors", row->errors);
	bn_json_end(&j);
}

static void breakdown_text(const struct out *out, uint64_t cat[NC_NR_KINDS][NC_CAT_NR],
			   const uint64_t *per_kind, uint64_t total, uint64_t lost)
{
	uint64_t n;
	int k, c;

	printf("%-12s %-12s %8s %8s %8s %8s %8s %8s %9s\n", "TIME", "CATEGORY", "NET_RX%",
	       "NET_TX%", "SEND%", "RECV%", "ALL%", "+-ALL%", "SAMPLES");
	for (c = 0; c < NC_CAT_NR; c++) {
		for (n = 0, k = 0; k < NC_NR_KINDS; k++)
			n += cat[k][c];
		printf("%-12s %-12s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %9" PRIu64 "\n",
		       out->tm, nc_cat_name(c), pct(cat[NC_RX][c], per_kind[NC_RX]),
		       pct(cat[NC_TX][c], per_kind[NC_TX]), pct(cat[NC_SEND][c], per_kind[NC_SEND]),
		       pct(cat[NC_RECV][c], per_kind[NC_RECV]), pct(n, total), pct_err(n, total),
		       n);
	}
	printf("%-12s %-12s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
	       " %8s %9s\n", out->tm, "(samples)", per_kind[NC_RX], per_kind[NC_TX],
	       per_kind[NC_SEND], per_kind[NC_RECV], total, "-", "-");
	printf("%-12s %-12s %8s %8s %8s %8s %8s %8s %9" PRIu64 "\n", out->tm, "(lost)", "-",
	       "-", "-", "-", "-", "-", lost);
}

static void print_breakdown(const struct out *out, uint64_t cat[NC_NR_KINDS][NC_CAT_NR],
			    uint64_t lost)
{
	uint64_t per_kind[NC_NR_KINDS] = {}, total = 0, n;
	struct bn_json j;
	char key[32];
	int k, c;

	for (k = 0; k < NC_NR_KINDS; k++) {
		for (c = 0; c < NC_CAT_NR; c++)
			per_kind[k] += cat[k][c];
		total += per_kind[k];
	}
	if (!out->o->cli.json) {
		breakdown_text(out, cat, per_kind, total, lost);
		return;
	}
	for (c = 0; c < NC_CAT_NR; c++) {
		for (n = 0, k = 0; k < NC_NR_KINDS; k++)
			n += cat[k][c];
		rec_begin(&j, out, "breakdown");
		bn_json_str(&j, "category", nc_cat_name(c));
		bn_json_double(&j, "pct", pct(n, total), 3);
		bn_json_double(&j, "pct_err", pct_err(n, total), 3);
		for (k = 0; k < NC_NR_KINDS; k++) {
			snprintf(key, sizeof(key), "%s_pct", nc_kind_names[k]);
			bn_json_double(&j, key, pct(cat[k][c], per_kind[k]), 3);
			snprintf(key, sizeof(key), "%s_pct_err", nc_kind_names[k]);
			bn_json_double(&j, key, pct_err(cat[k][c], per_kind[k]), 3);
		}
		bn_json_u64(&j, "samples", n);
		bn_json_u64(&j, "samples_total", total);
		bn_json_end(&j);
	}
}

static void print_cgroups(struct nc_cgroups *cg, const struct out *out)
{
	double whole = (double)out->el * out->ncpus;
	const struct nc_cg_ent *e;
	const uint64_t *d, *ops;
	struct bn_json j;
	int i, k;

	nc_cgroups_sort(cg, out->average);
	if (!out->o->cli.json)
		printf("%-12s %8s %8s %12s %12s %s\n", "TIME", "SEND%", "RECV%", "SEND_NS",
		       "RECV_NS", "CGROUP");
	for (i = 0; i < cg->n && i < out->o->cgroups; i++) {
		e = &cg->ents[i];
		d = out->average ? e->sum : e->d;
		ops = out->average ? e->sumops : e->dops;
		if (!d[0] && !d[1] && !ops[0] && !ops[1])
			break;
		if (!out->o->cli.json) {
			printf("%-12s %8.2f %8.2f %12" PRIu64 " %12" PRIu64 " %s\n", out->tm,
			       pct(d[0], whole), pct(d[1], whole), d[0], d[1], e->path);
			continue;
		}
		rec_begin(&j, out, "cgroup");
		bn_json_str(&j, "cgroup", e->path);
		bn_json_u64(&j, "cgroup_id", e->id);
		for (k = 0; k < 2; k++) {
			bn_json_double(&j, k ? "sock_recv_pct" : "sock_send_pct", pct(d[k], whole), 3);
			bn_json_u64(&j, k ? "sock_recv_ns" : "sock_send_ns", d[k]);
			bn_json_u64(&j, k ? "recv_ops" : "send_ops", ops[k]);
		}
		bn_json_end(&j);
	}
}

/* ---- the Prometheus exposition ---- */

/* Per CPU: seconds since start and shares of the last interval. */
static void metrics_cpus(struct nc_report *rp, FILE *f, const struct nc_snap *cur,
			 const struct row *rows, uint64_t el)
{
	int cpu, k;

	bn_prom_head(f, "netcost_cpu_seconds_total", "counter",
		     "CPU time in networking since netcost started.");
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		for (k = 0; k < NC_NR_KINDS; k++)
			fprintf(f, "netcost_cpu_seconds_total{cpu=\"%d\",kind=\"%s\"} %.9f\n", cpu,
				nc_kind_names[k],
				sub0(cur->cpu[cpu].ns[k], rp->first->cpu[cpu].ns[k]) / 1e9);
	}
	bn_prom_head(f, "netcost_cpu_ratio", "gauge",
		     "Share of a CPU in networking over the last interval.");
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		for (k = 0; k < NC_NR_KINDS; k++)
			fprintf(f, "netcost_cpu_ratio{cpu=\"%d\",kind=\"%s\"} %.6f\n", cpu,
				nc_kind_names[k], el ? (double)rows[cpu].ns[k] / el : 0);
		fprintf(f, "netcost_cpu_ratio{cpu=\"%d\",kind=\"total\"} %.6f\n", cpu,
			el ? (double)rows[cpu].total_ns / el : 0);
	}
	bn_prom_head(f, "netcost_softirq_ratio", "gauge",
		     "Share of a CPU in all softirqs, measured and from /proc/stat.");
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		fprintf(f, "netcost_softirq_ratio{cpu=\"%d\",source=\"bpf\"} %.6f\n", cpu,
			el ? (double)rows[cpu].si_ns / el : 0);
		fprintf(f, "netcost_softirq_ratio{cpu=\"%d\",source=\"procstat\"} %.6f\n", cpu,
			el ? (double)rows[cpu].stat_si_ns / el : 0);
	}
}

/* Breakdown samples and cgroup socket time, since start. */
static void metrics_more(struct nc_report *rp, FILE *f)
{
	int k, c;

	if (rp->samples) {
		bn_prom_head(f, "netcost_breakdown_samples_total", "counter",
			     "Stack samples by context and category.");
		for (k = 0; k < NC_NR_KINDS; k++)
			for (c = 0; c < NC_CAT_NR; c++)
				fprintf(f, "netcost_breakdown_samples_total{kind=\"%s\","
					"category=\"%s\"} %" PRIu64 "\n", nc_kind_names[k],
					nc_cat_name(c), rp->samples->cat_sum[k][c]);
	}
	if (!rp->cg)
		return;
	bn_prom_head(f, "netcost_cgroup_cpu_seconds_total", "counter",
		     "Socket operation time by cgroup.");
	for (c = 0; c < rp->cg->n; c++)
		for (k = 0; k < 2; k++) {
			fprintf(f, "netcost_cgroup_cpu_seconds_total{cgroup=\"");
			bn_prom_label(f, rp->cg->ents[c].path);
			fprintf(f, "\",kind=\"%s\"} %.9f\n", k ? "sock_recv" : "sock_send",
				rp->cg->ents[c].sum[k] / 1e9);
		}
}

/* The exposition of the totals since start and the last interval. */
static void build_metrics(struct nc_report *rp, const struct nc_snap *cur,
			  const struct row *rows, const struct row *all, uint64_t el)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	metrics_cpus(rp, f, cur, rows, el);
	bn_prom_head(f, "netcost_self_cpu_seconds_total", "counter",
		     "netcost's own user-space CPU time.");
	fprintf(f, "netcost_self_cpu_seconds_total %.6f\n",
		sub0(cur->self_ns, rp->first->self_ns) / 1e9);
	bn_prom_head(f, "netcost_samples_lost_total", "counter", "Stack samples dropped.");
	fprintf(f, "netcost_samples_lost_total %" PRIu64 "\n", all->lost);
	metrics_more(rp, f);
	if (fclose(f)) {
		free(buf);
		return;
	}
	free(rp->metrics_text);
	rp->metrics_text = buf;
	rp->metrics_len = len;
}

/* One interval (or, with @average, the whole run) from snapshot @a to @b. */
void nc_report(struct nc_report *rp, const struct nc_snap *a, const struct nc_snap *b,
	       bool average)
{
	struct out out = { .o = rp->opts, .average = average, .now_ns = bn_realtime_ns(),
			   .el = sub0(b->mono, a->mono) };
	struct row *rows, all = {};
	int cpu;

	rows = calloc(rp->nr_cpus, sizeof(*rows));
	if (!rows)
		return;
	if (average)
		snprintf(out.tm, sizeof(out.tm), "Average");
	else
		bn_time_str(out.now_ns, out.tm, sizeof(out.tm));
	if (!rp->opts->cli.json)
		print_cpu_header();
	for (cpu = 0; cpu < rp->nr_cpus; cpu++) {
		if (!bn_cpuset_has(&rp->opts->cpus, cpu))
			continue;
		cpu_row(rp, a, b, cpu, &rows[cpu]);
		row_add(&all, &rows[cpu]);
		out.ncpus++;
		print_cpu(&out, cpu, &rows[cpu]);
	}
	print_total(&out, &all, a, b);
	/* JSON carries them in every record; text shows them where the user looks */
	if (!rp->opts->cli.json && !average && all.errors)
		bn_warn("%" PRIu64 " socket operations not attributed in this interval "
			"(cgroup map full)", all.errors);
	if (rp->samples) {
		if (!rp->opts->cli.json)
			printf("\n");
		print_breakdown(&out, average ? rp->samples->cat_sum : rp->samples->cat, all.lost);
		if (!average)
			nc_samples_next_interval(rp->samples);
	}
	if (rp->cg) {
		if (!average)
			nc_cgroups_read(rp->cg);
		if (!rp->opts->cli.json)
			printf("\n");
		print_cgroups(rp->cg, &out);
	}
	if (!rp->opts->cli.json)
		printf("\n");
	fflush(stdout);
	if (rp->metrics && !average)
		build_metrics(rp, b, rows, &all, out.el);
	free(rows);
}

void nc_report_free(struct nc_report *rp)
{
	free(rp->metrics_text);
	rp->metrics_text = NULL;
}
