// SPDX-License-Identifier: GPL-2.0
/*
 * tracer-merge - join the `tracer -j --events --host NAME` runs of several
 * hosts by packet id: each host's clock offset to the first file's host
 * (from the packets that crossed both ways), every event on that host's
 * time line, the cross-host segments (a host's last point of a packet to
 * the next host's first) with tracer's latency fields, and a Perfetto trace
 * with a process per host. No BPF, no privileges.
 *
 * This file: options, the crossings and segments, the output. mread.c reads
 * the files, joins the packets (entries sorted by id) and estimates the
 * offsets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "merge.h"
#include "perfetto.h"

#define MAX_SEGS	256
#define BAD_SHOWN	10		/* bad lines named per file; the rest counted */

/* A cross-host segment: from a host's point to another host's point. */
struct xseg {
	uint16_t fh, fp, th, tp;	/* from host, point; to host, point */
	struct xlat {
		uint64_t ts;		/* arrival, host 0's clock */
		int64_t ns;
	} *v;
	size_t n, cap;
	uint64_t lost;
};

struct merge {
	struct mg m;
	struct bn_cli cli;
	const char *out;		/* -o FILE */
	const char *perfetto;
	const char *files[MG_MAX_HOSTS];
	int nfiles;
	struct xseg segs[MAX_SEGS];
	int nsegs;
	uint64_t end_ts;		/* the last event, host 0's clock */
	uint64_t rewritten_bad;		/* lines that changed between the passes */
};

enum { OPT_PERFETTO = 0x100 };

static const struct argp_option opts[] = {
	{ "output", 'o', "FILE", 0, "Write the merged JSON Lines to FILE (default: stdout "
	  "with -j)", 0 },
	{ "perfetto", OPT_PERFETTO, "FILE", 0, "Write a trace that ui.perfetto.dev opens: "
	  "a process per host, a track per point, a slice per packet per segment", 0 },
	{},
};

static const char doc[] =
	"Merge the JSON Lines of `tracer -j --events --host NAME` runs on several hosts: "
	"join their events by packet id, estimate each host's clock offset to the first "
	"file's host from packets seen in both directions, and report the cross-host "
	"segments.\n"
	"\n"
	"EXAMPLES:\n"
	"  tracer-merge a.jsonl b.jsonl                 # offsets and cross-host segments\n"
	"  tracer-merge -o all.jsonl a.jsonl b.jsonl    # and every event, one time line\n"
	"  tracer-merge --perfetto t.json a.jsonl b.jsonl\n"
	"\v"
	"Records: offset (per host), event and drop (corrected), segment (cross-host).";

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	struct merge *g = st->input;

	switch (key) {
	case 'o':
		g->out = arg;
		break;
	case OPT_PERFETTO:
		g->perfetto = arg;
		break;
	case ARGP_KEY_ARG:
		if (g->nfiles == MG_MAX_HOSTS)
			bn_usage("too many files: at most %d hosts", MG_MAX_HOSTS);
		g->files[g->nfiles++] = arg;
		break;
	case ARGP_KEY_END:
		if (g->nfiles < 2)
			bn_usage("want two or more files: A.jsonl B.jsonl ...");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Names and messages from the input files go to a terminal escaped (bn_safe_str). */
static void bad_line(void *ctx, const struct mg_host *h, uint64_t line, const char *why)
{
	char w[BN_SAFE_LEN(200)];

	if (h->bad <= BAD_SHOWN)
		bn_warn("%s:%llu: %s", h->path, (unsigned long long)line,
			bn_safe_str(why, w, sizeof(w)));
}

/* ---- crossings: consecutive hosts of a packet, on host 0's clock ---- */

/* The host packet @s was on before @hi (by first sighting), or -1. */
static int prev_host(const struct mg *m, const struct mg_seen *s, int hi)
{
	uint64_t t = s[hi].first_ts, best = 0;
	int i, p = -1;

	for (i = 0; i < m->nhosts; i++) {
		uint64_t f = s[i].first_ts;

		if (i == hi || !s[i].n || f > t || (f == t && i > hi))
			continue;
		if (p < 0 || f > best) {
			best = f;
			p = i;
		}
	}
	return p;
}

static struct xseg *seg_get(struct merge *g, int fh, int fp, int th, int tp)
{
	struct xseg *x;
	int i;

	for (i = 0; i < g->nsegs; i++) {
		x = &g->segs[i];
		if (x->fh == fh && x->fp == fp && x->th == th && x->tp == tp)
			return x;
	}
	if (g->nsegs == MAX_SEGS)
		return NULL;
	x = &g->segs[g->nsegs++];
	*x = (struct xseg){ .fh = fh, .fp = fp, .th = th, .tp = tp };
	return x;
}

/* A host's last point of a packet that was seen on no later host, not dropped. */
static void lost_at(struct merge *g, int hi, int pt)
{
	struct xseg *best = NULL;
	int i;

	/* charged to the busiest segment from that point, as tracer does */
	for (i = 0; i < g->nsegs; i++)
		if (g->segs[i].fh == hi && g->segs[i].fp == pt &&
		    (!best || g->segs[i].n > best->n))
			best = &g->segs[i];
	if (best)
		best->lost++;
}

/* The entries [@i, @end) of packet @s at its first sighting on host @h came from @p. */
static void mark_from(struct mg *m, size_t i, size_t end, const struct mg_seen *s, int h,
		      int p)
{
	for (; i < end; i++) {
		struct mg_ev *e = &m->ev[i];

		if (e->host != h || e->drop || e->pt != s[h].first_pt || e->ts != s[h].first_ts)
			continue;
		e->from_host = p;
		e->from_pt = s[p].last_pt;
		e->hop_ns = (int64_t)(e->ts - s[p].last_ts);
	}
}

static int cmp_seg(const void *a, const void *b)
{
	const struct xseg *x = a, *y = b;

	if (x->fh != y->fh)
		return x->fh - y->fh;
	if (x->fp != y->fp)
		return x->fp - y->fp;
	if (x->th != y->th)
		return x->th - y->th;
	return x->tp - y->tp;
}

/* Entries sorted by id, times corrected: the crossings, and their entries marked. */
static int crossings(struct merge *g)
{
	struct mg_seen s[MG_MAX_HOSTS];
	struct mg *m = &g->m;
	size_t k, next;
	int h, p, pass;

	/* pass 0: the crossings; pass 1: what left a point no other host saw */
	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < m->nev; k = next) {
			bool dropped = false;
			int last = -1;

			next = mg_packet(m, k, s);
			for (h = 0; h < m->nhosts; h++) {
				struct xseg *x;

				dropped |= s[h].dropped;
				if (!s[h].n)
					continue;
				if (last < 0 || s[h].last_ts > s[last].last_ts)
					last = h;
				p = prev_host(m, s, h);
				if (p < 0 || pass)
					continue;
				mark_from(m, k, next, s, h, p);
				x = seg_get(g, p, s[p].last_pt, h, s[h].first_pt);
				if (!x)
					continue;
				if (mg_grow(&x->v, &x->cap, x->n, sizeof(*x->v)))
					return -ENOMEM;
				x->v[x->n++] = (struct xlat){
					.ts = s[h].first_ts,
					.ns = (int64_t)(s[h].first_ts - s[p].last_ts),
				};
			}
			if (pass && last >= 0 && !dropped)
				lost_at(g, last, s[last].last_pt);
		}
		/* by host and point: the output's order, and lost_at's among equals */
		if (!pass)
			qsort(g->segs, g->nsegs, sizeof(*g->segs), cmp_seg);
	}
	return 0;
}

/* ---- output ---- */

static int cmp_s64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_xlat(const void *a, const void *b)
{
	const struct xlat *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static const char *est_name(enum mg_est e)
{
	static const char *const names[] = { "reference", "midpoint", "upper_bound",
					     "lower_bound" };

	return names[e];
}

static void offset_rec(struct merge *g, FILE *f, const struct mg_host *h)
{
	struct bn_json j;

	bn_rec_begin(&j, f, "offset", g->end_ts);
	bn_json_str(&j, "host", h->name);
	bn_json_s64(&j, "offset_ns", h->offset_ns);
	bn_json_u64(&j, "uncertainty_ns", h->uncertainty_ns);
	bn_json_str(&j, "estimate", est_name(h->est));
	bn_json_u64(&j, "packets_ab", h->packets_ab);
	bn_json_u64(&j, "packets_ba", h->packets_ba);
	bn_json_u64(&j, "events", h->events);
	bn_json_u64(&j, "bad_lines", h->bad);
	bn_json_u64(&j, "lost_events", h->lost);
	bn_json_end(&j);
}

/* Percentiles (nearest rank), max and RFC 3550 jitter of @x, in us. */
struct xstats {
	double p50, p90, p99, max, jitter;
};

static int seg_stats(struct xseg *x, struct xstats *st)
{
	int64_t *v = malloc(x->n * sizeof(*v));
	double j = 0;
	size_t i;

	if (!v)
		return -ENOMEM;
	qsort(x->v, x->n, sizeof(*x->v), cmp_xlat);
	for (i = 0; i < x->n; i++) {
		v[i] = x->v[i].ns;
		if (i) {
			double d = (double)x->v[i].ns - (double)x->v[i - 1].ns;

			j += ((d < 0 ? -d : d) - j) / 16;
		}
	}
	qsort(v, x->n, sizeof(*v), cmp_s64);
	st->p50 = v[(x->n * 50 + 99) / 100 - 1] / 1e3;
	st->p90 = v[(x->n * 90 + 99) / 100 - 1] / 1e3;
	st->p99 = v[(x->n * 99 + 99) / 100 - 1] / 1e3;
	st->max = v[x->n - 1] / 1e3;
	st->jitter = j / 1e3;
	free(v);
	return 0;
}

static void seg_rec(struct merge *g, FILE *f, struct xseg *x, const struct xstats *st)
{
	const struct mg_host *a = &g->m.hosts[x->fh], *b = &g->m.hosts[x->th];
	struct bn_json j;

	bn_rec_begin(&j, f, "segment", g->end_ts);
	bn_json_str(&j, "from_host", a->name);
	bn_json_str(&j, "from", a->points[x->fp]);
	bn_json_str(&j, "to_host", b->name);
	bn_json_str(&j, "to", b->points[x->tp]);
	bn_json_u64(&j, "packets_in", x->n + x->lost);
	bn_json_u64(&j, "packets_out", x->n);
	bn_json_obj_begin(&j, "drops");
	bn_json_obj_end(&j);
	bn_json_u64(&j, "lost", x->lost);
	bn_json_double(&j, "p50_us", st->p50, 3);
	bn_json_double(&j, "p90_us", st->p90, 3);
	bn_json_double(&j, "p99_us", st->p99, 3);
	bn_json_double(&j, "max_us", st->max, 3);
	bn_json_double(&j, "jitter_us", st->jitter, 3);
	bn_json_double(&j, "uncertainty_us", (a->uncertainty_ns + b->uncertainty_ns) / 1e3, 3);
	bn_json_bool(&j, "complete", !a->lost && !b->lost);
	bn_json_end(&j);
}

static void hosts_text(struct merge *g)
{
	int i;

	printf("%-24s %12s %10s %8s %8s %-12s %8s %6s\n", "HOST", "OFFSET_MS", "+-MS",
	       "PKTS_AB", "PKTS_BA", "ESTIMATE", "EVENTS", "BAD");
	for (i = 0; i < g->m.nhosts; i++) {
		const struct mg_host *h = &g->m.hosts[i];
		char name[BN_SAFE_LEN(BN_NODE_MAX)];

		printf("%-24s %12.6f %10.6f %8llu %8llu %-12s %8llu %6llu\n",
		       bn_safe_str(h->name, name, sizeof(name)),
		       h->offset_ns / 1e6, h->uncertainty_ns / 1e6,
		       (unsigned long long)h->packets_ab, (unsigned long long)h->packets_ba,
		       est_name(h->est), (unsigned long long)h->events,
		       (unsigned long long)h->bad);
	}
	printf("%-32s %-32s %8s %6s %9s %9s %9s %9s %9s %9s\n", "FROM", "TO", "PACKETS",
	       "LOST", "P50_US", "P90_US", "P99_US", "MAX_US", "JITTER_US", "+-US");
}

static void seg_text(struct merge *g, struct xseg *x, const struct xstats *st)
{
	const struct mg_host *a = &g->m.hosts[x->fh], *b = &g->m.hosts[x->th];
	char from[BN_SAFE_LEN(BN_NODE_MAX + MG_NAME_LEN)], to[sizeof(from)];
	char raw[BN_NODE_MAX + MG_NAME_LEN + 1];

	snprintf(raw, sizeof(raw), "%s:%s", a->name, a->points[x->fp]);
	bn_safe_str(raw, from, sizeof(from));
	snprintf(raw, sizeof(raw), "%s:%s", b->name, b->points[x->tp]);
	bn_safe_str(raw, to, sizeof(to));
	printf("%-32s %-32s %8zu %6llu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", from, to, x->n,
	       (unsigned long long)x->lost, st->p50, st->p90, st->p99, st->max, st->jitter,
	       (a->uncertainty_ns + b->uncertainty_ns) / 1e3);
}

/* The record @r of event @e on host 0's clock: time, ts_ns and where it came from. */
static void ev_fix(struct merge *g, json_t *r, const struct mg_ev *e, int *from,
		   int64_t *hop)
{
	const struct mg *m = &g->m;
	const char *prev = json_string_value(json_object_get(r, "prev_point"));
	const char *ph = prev && prev[0] ? m->hosts[e->host].name : "";

	*from = e->from_host == MG_NO_HOST ? -1 : e->from_host;
	json_object_set_new(r, "time", json_real((double)(e->ts / 1000) / 1e6));
	json_object_set_new(r, "ts_ns", json_integer(e->ts));
	if (*from >= 0) {
		*hop = e->hop_ns;
		ph = m->hosts[*from].name;
		json_object_set_new(r, "prev_point",
				    json_string(m->hosts[*from].points[e->from_pt]));
		json_object_set_new(r, "hop_ns", json_integer(*hop));
	}
	json_object_set_new(r, "prev_host", json_string(ph));
}

static void ev_perfetto(struct merge *g, struct pf_trace *pf, json_t *r,
			const struct mg_ev *e, int from, int64_t hop)
{
	const struct mg_host *h = &g->m.hosts[e->host];
	const char *prev = json_string_value(json_object_get(r, "prev_point"));
	json_t *hv = json_object_get(r, "hop_ns");
	char name[300];
	int pid;

	snprintf(name, sizeof(name), "host %s", h->name);
	pid = pf_process(pf, e->host, name);
	pf_thread(pf, pid, e->pt + 1, h->points[e->pt]);
	if (e->drop) {
		snprintf(name, sizeof(name), "drop %s",
			 json_string_value(json_object_get(r, "reason")) ?: "?");
		pf_instant(pf, pid, e->pt + 1, name, e->ts / 1e3, e->id);
		return;
	}
	if (from >= 0)
		snprintf(name, sizeof(name), "%s:%s->%s:%s", g->m.hosts[from].name, prev,
			 h->name, h->points[e->pt]);
	else
		snprintf(name, sizeof(name), "%s%s%s", prev ?: "", prev && prev[0] ? "->" : "",
			 h->points[e->pt]);
	if (from < 0)
		hop = json_is_integer(hv) ? json_integer_value(hv) : 0;
	pf_hop(pf, pid, e->pt + 1, name, e->ts / 1e3, hop > 0 ? hop / 1e3 : 0,
	       !prev || !prev[0], e->id);
}

/* Every event and drop again, in the order of host 0's clock. */
static int events_out(struct merge *g, FILE *f, struct pf_trace *pf)
{
	char *line = malloc(MG_LINE_MAX + 1);
	size_t i;

	if (!line)
		return -ENOMEM;
	for (i = 0; i < g->m.nev; i++) {
		const struct mg_ev *e = &g->m.ev[i];
		FILE *in = g->m.hosts[e->host].f;
		int64_t hop = 0;
		json_t *r = NULL;
		ssize_t n;
		int from;

		if (!fseeko(in, e->off, SEEK_SET) &&
		    (n = mg_getline(in, line, MG_LINE_MAX + 1)) > 0 && n <= MG_LINE_MAX)
			r = json_loadb(line, n, 0, NULL);
		if (!json_is_object(r)) {
			/* the file changed under us */
			g->rewritten_bad++;
			json_decref(r);
			continue;
		}
		ev_fix(g, r, e, &from, &hop);
		if (pf)
			ev_perfetto(g, pf, r, e, from, hop);
		if (f) {
			json_dumpf(r, f, JSON_COMPACT | JSON_REAL_PRECISION(16));
			fputc('\n', f);
		}
		json_decref(r);
	}
	free(line);
	return 0;
}

static int write_all(struct merge *g, FILE *f, struct pf_trace *pf)
{
	struct xstats st[MAX_SEGS];
	int i, err;

	for (i = 0; i < g->nsegs; i++) {
		err = seg_stats(&g->segs[i], &st[i]);
		if (err)
			return err;
	}
	if (!g->cli.json) {
		hosts_text(g);
		for (i = 0; i < g->nsegs; i++)
			seg_text(g, &g->segs[i], &st[i]);
	}
	if (f)
		for (i = 0; i < g->m.nhosts; i++)
			offset_rec(g, f, &g->m.hosts[i]);
	if (f || pf) {
		err = events_out(g, f, pf);
		if (err)
			return err;
	}
	if (f)
		for (i = 0; i < g->nsegs; i++)
			seg_rec(g, f, &g->segs[i], &st[i]);
	return 0;
}

/* Read every file; 0, or an exit code. */
static int read_all(struct merge *g)
{
	int i, j, err;

	for (i = 0; i < g->nfiles; i++) {
		struct mg_host *h = &g->m.hosts[i];

		err = mg_read(&g->m, i);
		if (err) {
			bn_err("cannot read %s: %s", h->path, strerror(-err));
			return BN_EXIT_ERR;
		}
		if (h->bad > BAD_SHOWN)
			bn_warn("%s: %llu bad lines (the first %d named)", h->path,
				(unsigned long long)h->bad, BAD_SHOWN);
		if (!h->name[0]) {
			bn_err("%s: no tracer record with a host: want the output of tracer -j "
			       "--events --host NAME", h->path);
			return BN_EXIT_ERR;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(g->m.hosts[j].name, h->name)) {
				bn_err("%s and %s are both of host '%s'", g->m.hosts[j].path,
				       h->path, h->name);
				return BN_EXIT_USAGE;
			}
		if (h->lost)
			bn_warn("%s: tracer lost %llu events: crossings may be missing", h->path,
				(unsigned long long)h->lost);
	}
	return 0;
}

static int estimate(struct merge *g)
{
	const struct mg_host *h;
	int hi = 0, err, i;

	err = mg_estimate(&g->m, &hi);
	h = &g->m.hosts[hi];
	if (err == -ENOMEM) {
		bn_err("out of memory");
		return BN_EXIT_ERR;
	} else if (err == -ENODATA) {
		bn_err("no common packets between %s (%s) and %s (%s)", g->m.hosts[0].name,
		       g->m.hosts[0].path, h->name, h->path);
		return BN_EXIT_ERR;
	} else if (err) {
		bn_err("%s and %s share packets in one direction only, and which one is not "
		       "told by the hooks: no offset", g->m.hosts[0].name, h->name);
		return BN_EXIT_ERR;
	}
	for (i = 1; i < g->m.nhosts; i++) {
		h = &g->m.hosts[i];
		if (h->est == MG_EST_UPPER || h->est == MG_EST_LOWER)
			bn_warn("%s: packets in one direction only: offset at %s %.6f ms, "
				"not an estimate", h->name, h->est == MG_EST_UPPER ? "most" :
				"least", h->offset_ns / 1e6);
		if (h->overlap_ns)
			bn_warn("%s: the two directions' bounds overlap by %.3f us (clocks "
				"drifting?): the uncertainty is not a bound", h->name,
				h->overlap_ns / 1e3);
	}
	return 0;
}

/* -v: the peak memory (VmHWM), against the bound the README states. */
static void peak_info(const struct merge *g)
{
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			bn_info("%zu event and drop lines, peak memory %lld KiB", g->m.nev,
				strtoll(line + 6, NULL, 10));
	fclose(f);
}

int main(int argc, char **argv)
{
	static struct merge g;
	struct pf_trace *pf = NULL;
	struct bn_wfile w = {};
	FILE *out = NULL;
	int ret, err, i;
	size_t k;

	bn_log_init("tracer-merge");
	bn_cli_parse(&g.cli, opts, parse_arg, "A.jsonl B.jsonl ...", doc, &g, argc, argv);
	bn_stdout_setup();
	g.m.bad_line = bad_line;
	g.m.ctx = &g;
	for (i = 0; i < g.nfiles; i++) {
		FILE *f;

		err = bn_rfile_open(g.files[i], &f);
		if (err) {
			bn_err("cannot read %s: %s", g.files[i],
			       err == -EINVAL ? "not a regular file" : strerror(-err));
			ret = BN_EXIT_USAGE;
			goto cleanup;
		}
		mg_add_host(&g.m, g.files[i], f);
	}
	ret = read_all(&g);
	if (!ret)
		ret = estimate(&g);
	if (ret)
		goto cleanup;
	for (k = 0; k < g.m.nev; k++) {
		struct mg_ev *e = &g.m.ev[k];

		e->ts = mg_corrected(&g.m, e->host, e->ts);
		if (e->ts > g.end_ts)
			g.end_ts = e->ts;
	}
	if (crossings(&g)) {
		bn_err("out of memory");
		ret = BN_EXIT_ERR;
		goto cleanup;
	}
	mg_sort_time(&g.m);
	if (g.out && (err = bn_wfile_open(&w, g.out, 0644))) {
		bn_err("cannot write %s: %s", g.out, strerror(-err));
		ret = BN_EXIT_ERR;
		goto cleanup;
	}
	out = g.out ? w.f : g.cli.json ? stdout : NULL;
	if (g.perfetto && (err = pf_open(&pf, g.perfetto))) {
		bn_err("cannot write %s: %s", g.perfetto, strerror(-err));
		ret = BN_EXIT_ERR;
		goto cleanup;
	}
	err = write_all(&g, out, pf);
	if (err) {
		bn_err("cannot merge: %s", strerror(-err));
		ret = BN_EXIT_ERR;
		goto cleanup;
	}
	if (g.rewritten_bad)
		bn_warn("%llu event lines changed while merging: left out",
			(unsigned long long)g.rewritten_bad);
	if (g.out && (err = bn_wfile_commit(&w))) {
		bn_err("cannot write %s: %s", g.out, strerror(-err));
		ret = BN_EXIT_ERR;
	}
	if (pf) {
		err = pf_close(pf);
		pf = NULL;
		if (err) {
			bn_err("cannot write %s: %s", g.perfetto, strerror(-err));
			ret = BN_EXIT_ERR;
		}
	}
	if (bn_verbose)
		peak_info(&g);	/* after the output: the peak is known */
cleanup:
	if (w.f)
		bn_wfile_abort(&w);
	pf_abort(pf);
	for (i = 0; i < g.m.nhosts; i++)
		fclose(g.m.hosts[i].f);
	for (i = 0; i < g.nsegs; i++)
		free(g.segs[i].v);
	mg_free(&g.m);
	return ret;
}
