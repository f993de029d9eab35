// SPDX-License-Identifier: GPL-2.0
/*
 * sched_out.c - what elephant-sched prints: one decision record per request
 * and one source record per data source and refresh on stdout (text, or
 * JSON Lines with -j), and the /state document.
 */
#include <inttypes.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extender.h"

#define NSEC 1000000000ULL

static double age_s(uint64_t then_ns, uint64_t now_ns)
{
	return then_ns >= now_ns ? 0 : (double)(now_ns - then_ns) / NSEC;
}

static void pod_name(const struct sched_pod *pod, char *buf, size_t len)
{
	snprintf(buf, len, "%.253s/%.253s", pod->ns ?: "default", pod->name ?: "?");
}

/* The per-node arrays, written directly after the record's fields: thousands of nodes. */
static void decision_nodes(FILE *f, bool filter, const struct sched_decision *d)
{
	bool first = true;
	int i;

	if (filter) {
		fputs(",\"passed\":[", f);
		for (i = 0; i < d->n; i++) {
			if (d->nodes[i].failed && !d->fail_open)
				continue;
			fputs(first ? "" : ",", f);
			sched_json_str(f, d->nodes[i].name);
			first = false;
		}
		fputs("],\"failed\":[", f);
		for (i = 0, first = true; i < d->n; i++) {
			if (!d->nodes[i].failed)
				continue;
			fputs(first ? "{\"node\":" : ",{\"node\":", f);
			sched_json_str(f, d->nodes[i].name);
			fputs(",\"reason\":", f);
			sched_json_str(f, d->nodes[i].reason);
			fputc('}', f);
			first = false;
		}
	} else {
		fputs(",\"scores\":[", f);
		for (i = 0; i < d->n; i++) {
			const struct sched_eval *ev = &d->nodes[i];

			fputs(i ? ",{\"node\":" : "{\"node\":", f);
			sched_json_str(f, ev->name);
			fprintf(f, ",\"score\":%d,\"data\":%s,\"cost\":%u,\"elephants\":%u,"
				"\"heavy_workloads\":%u,\"light_workloads\":%u}", ev->score,
				ev->data ? "true" : "false", ev->cost, ev->e, ev->h, ev->l);
		}
	}
	fputs("],\"no_data\":[", f);
	for (i = 0, first = true; i < d->n; i++) {
		if (d->nodes[i].data)
			continue;
		fputs(first ? "" : ",", f);
		sched_json_str(f, d->nodes[i].name);
		first = false;
	}
	fputc(']', f);
}

static void decision_json(FILE *f, const char *type, const struct sched_pod *pod,
			  const struct sched_decision *d, uint64_t now_ns)
{
	bool filter = !strcmp(type, "filter");
	char pn[520];
	struct bn_json j;

	pod_name(pod, pn, sizeof(pn));
	bn_rec_begin(&j, f, type, now_ns);
	bn_json_str(&j, "pod", pn);
	bn_json_str(&j, "class", sched_class_names[pod->cls]);
	bn_json_str(&j, "class_source", pod->source);
	if (pod->workload[0])
		bn_json_str(&j, "workload", pod->workload);
	else
		bn_json_null(&j, "workload");
	bn_json_u64(&j, "nodes", d->n);
	if (filter)
		bn_json_bool(&j, "fail_open", d->fail_open);
	decision_nodes(f, filter, d);
	bn_json_end(&j);
}

static void decision_text(FILE *f, const char *type, const struct sched_pod *pod,
			  const struct sched_decision *d, uint64_t now_ns)
{
	char ts[BN_TIMESTRLEN], pn[520];
	int i;

	pod_name(pod, pn, sizeof(pn));
	fprintf(f, "%s %-10s %s class=%s workload=%s (%s)", bn_time_str(now_ns, ts, sizeof(ts)),
		type, pn, sched_class_names[pod->cls], pod->workload[0] ? pod->workload : "-",
		pod->source);
	if (!strcmp(type, "filter")) {
		fprintf(f, " passed=%d/%d no_data=%d fail_open=%s", d->passed, d->n, d->no_data,
			d->fail_open ? "yes" : "no");
		for (i = 0; i < d->n; i++)
			if (d->nodes[i].failed)
				fprintf(f, " | %s%s: %s", d->fail_open ? "would fail " : "failed ",
					d->nodes[i].name, d->nodes[i].reason);
	} else {
		fputs(" scores:", f);
		for (i = 0; i < d->n; i++) {
			if (d->nodes[i].data)
				fprintf(f, " %s=%d(C=%u)", d->nodes[i].name, d->nodes[i].score,
					d->nodes[i].cost);
			else
				fprintf(f, " %s=0(no data)", d->nodes[i].name);
		}
	}
	fputc('\n', f);
}

/* Built in memory without locking, then written at once: 5,000 nodes are 300 KB. */
void sched_out_decision(FILE *out, bool json, const char *type, const struct sched_pod *pod,
			const struct sched_decision *d, uint64_t now_ns)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	if (json)
		decision_json(f, type, pod, d, now_ns);
	else
		decision_text(f, type, pod, d, now_ns);
	if (!fclose(f))
		fwrite(buf, 1, len, out);
	free(buf);
}

static void status_fields(struct bn_json *j, const struct sched_status *st)
{
	bn_json_str(j, "source", st->name);
	bn_json_str(j, "url", st->url);
	bn_json_bool(j, "ok", st->ok);
	if (st->ok)
		bn_json_null(j, "error");
	else
		bn_json_str(j, "error", st->err);
}

/* Text: one line per refresh, the failures named. */
static void source_text(FILE *f, const struct sched_status *st, int nst,
			const struct sched_snap *snap, int fresh, uint64_t now_ns)
{
	char ts[BN_TIMESTRLEN];
	uint64_t oldest = now_ns;
	int i, ok = 0;

	for (i = 0; i < nst; i++)
		ok += st[i].ok;
	for (i = 0; i < snap->n; i++)
		if (snap->nodes[i].data_ns < oldest)
			oldest = snap->nodes[i].data_ns;
	fprintf(f, "%s %-10s %d/%d ok; nodes with fresh data %d/%d; oldest data %.1fs",
		bn_time_str(now_ns, ts, sizeof(ts)), "source", ok, nst, fresh, snap->n,
		age_s(oldest, now_ns));
	for (i = 0; i < nst; i++)
		if (!st[i].ok)
			fprintf(f, " | %s: %s", st[i].name, st[i].err);
	fputc('\n', f);
}

void sched_out_source(FILE *f, bool json, const struct sched_status *st, int nst,
		      const struct sched_snap *snap, const struct sched_cfg *cfg,
		      uint64_t now_ns)
{
	struct bn_json j;
	int i, fresh = sched_fresh_nodes(snap, cfg, now_ns);

	if (!json) {
		source_text(f, st, nst, snap, fresh, now_ns);
		return;
	}
	for (i = 0; i < nst; i++) {
		const struct sched_node *nd = nst > 1 || strcmp(st[i].name, "prometheus") ?
					      sched_snap_find(snap, st[i].name) : NULL;

		bn_rec_begin(&j, f, "source", now_ns);
		status_fields(&j, &st[i]);
		bn_json_u64(&j, "ms", st[i].ms);
		bn_json_u64(&j, "nodes", snap->n);
		bn_json_u64(&j, "nodes_fresh", fresh);
		if (nd)
			bn_json_double(&j, "data_age_s", age_s(nd->data_ns, now_ns), 3);
		else
			bn_json_null(&j, "data_age_s");
		bn_json_end(&j);
	}
}

static void state_node(struct bn_json *j, const struct sched_node *nd,
		       const struct sched_cfg *cfg, uint64_t now_ns)
{
	int k;

	bn_json_obj_begin(j, NULL);
	bn_json_str(j, "node", nd->name);
	bn_json_bool(j, "fresh", sched_node_fresh(nd, cfg, now_ns));
	bn_json_double(j, "data_age_s", age_s(nd->data_ns, now_ns), 3);
	bn_json_u64(j, "elephants", nd->e);
	bn_json_u64(j, "heavy_workloads", nd->h);
	bn_json_u64(j, "light_workloads", nd->l);
	bn_json_arr_begin(j, "workloads");
	for (k = 0; k < nd->nwl; k++) {
		const struct sched_wl *w = &nd->wl[k];

		bn_json_obj_begin(j, NULL);
		bn_json_str(j, "workload", w->name);
		bn_json_u64(j, "elephants", w->elephants);
		bn_json_u64(j, "mice", w->mice);
		bn_json_bool(j, "heavy", w->heavy);
		bn_json_str(j, "class", w->heavy ? "heavy" : w->mice ? "light" : "idle");
		bn_json_obj_end(j);
	}
	bn_json_arr_end(j);
	bn_json_obj_end(j);
}

static void state_workload(struct bn_json *j, const struct sched_learned *l, int64_t horizon)
{
	bool heavy = l->last_elephant && l->last_elephant >= horizon;
	char src[320];

	if (heavy)
		snprintf(src, sizeof(src), "elephant on %s at %" PRId64 " (%s)", l->heavy_node,
			 l->last_elephant, l->evidence >= 0 ? sched_metric_names[l->evidence] : "?");
	else
		snprintf(src, sizeof(src), "seen at %" PRId64 ", no elephant in the learn window",
			 l->last_seen);
	bn_json_obj_begin(j, NULL);
	bn_json_str(j, "workload", l->name);
	bn_json_str(j, "class", heavy ? "heavy" : "light");
	bn_json_str(j, "source", src);
	bn_json_s64(j, "last_seen", l->last_seen);
	if (l->last_elephant)
		bn_json_s64(j, "last_elephant", l->last_elephant);
	else
		bn_json_null(j, "last_elephant");
	bn_json_obj_end(j);
}

int sched_out_state(char **out, size_t *len, const struct sched_cfg *cfg,
		    const struct sched_snap *snap, const struct sched_memory *mem,
		    const struct sched_status *st, int nst, uint64_t now_ns)
{
	int64_t horizon = (int64_t)(now_ns / NSEC) - (int64_t)(cfg->learn_window_ns / NSEC);
	FILE *f = open_memstream(out, len);
	struct bn_json j;
	int i;

	if (!f)
		return -1;
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	bn_rec_begin(&j, f, "state", now_ns);
	bn_json_u64(&j, "nodes_fresh", sched_fresh_nodes(snap, cfg, now_ns));
	bn_json_double(&j, "stale_s", (double)cfg->stale_ns / NSEC, 3);
	bn_json_arr_begin(&j, "sources");
	for (i = 0; i < nst; i++) {
		bn_json_obj_begin(&j, NULL);
		status_fields(&j, &st[i]);
		if (st[i].good_ns)
			bn_json_double(&j, "age_s", age_s(st[i].good_ns, now_ns), 3);
		else
			bn_json_null(&j, "age_s");
		bn_json_obj_end(&j);
	}
	bn_json_arr_end(&j);
	bn_json_arr_begin(&j, "nodes");
	for (i = 0; i < snap->n; i++)
		state_node(&j, &snap->nodes[i], cfg, now_ns);
	bn_json_arr_end(&j);
	bn_json_arr_begin(&j, "workloads");
	for (i = 0; i < mem->n; i++)
		state_workload(&j, &mem->w[i], horizon);
	bn_json_arr_end(&j);
	bn_json_end(&j);
	return fclose(f) ? -1 : 0;
}
