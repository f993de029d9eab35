// SPDX-License-Identifier: GPL-2.0
/*
 * sched_policy.c - elephant-sched's placement policy (README "elephant-sched"):
 * what it learns about workloads across refreshes, the class of a pod, and
 * per node of a request the cost, the score 0-10 and the filter's verdict.
 * Pure functions of their arguments: no I/O, no clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "extender.h"

#define NSEC 1000000000ULL

const char *const sched_class_names[3] = { "unknown", "light", "heavy" };

/* Data not older than --stale (data from a clock ahead of ours is fresh). */
bool sched_node_fresh(const struct sched_node *nd, const struct sched_cfg *cfg,
		      uint64_t now_ns)
{
	return nd && nd->has_e && (nd->data_ns >= now_ns || now_ns - nd->data_ns <= cfg->stale_ns);
}

int sched_fresh_nodes(const struct sched_snap *snap, const struct sched_cfg *cfg,
		      uint64_t now_ns)
{
	int i, n = 0;

	for (i = 0; i < snap->n; i++)
		n += sched_node_fresh(&snap->nodes[i], cfg, now_ns);
	return n;
}

/* ---- what is learned across refreshes ---- */

static int learned_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sched_learned *)a)->name,
		      ((const struct sched_learned *)b)->name);
}

static int learned_age_cmp(const void *a, const void *b)
{
	const struct sched_learned *x = a, *y = b;

	return (y->last_seen > x->last_seen) - (y->last_seen < x->last_seen);
}

/* One observation of @w on @nd into @o (names borrowed). */
static void observe(struct sched_learned *o, const struct sched_node *nd,
		    const struct sched_wl *w)
{
	int64_t data_s = nd->data_ns / NSEC;

	o->name = w->name;
	o->last_seen = data_s;
	o->last_elephant = 0;
	o->heavy_node = nd->name;
	o->evidence = -1;
	if (w->last_elephant > 0) {
		o->last_elephant = (int64_t)w->last_elephant;
		o->evidence = SM_WL_LAST;
	}
	if (w->elephants && data_s > o->last_elephant) {
		o->last_elephant = data_s;
		o->evidence = SM_WL_ELEPHANTS;
	} else if (w->heavy && w->last_elephant < 0) {
		o->last_elephant = data_s;
		o->evidence = SM_WL_HEAVY;
	}
}

/* Fold entries with the same name (sorted) into the first; returns the new count. */
static int fold(struct sched_learned *a, int n, int64_t horizon)
{
	int i, out = 0;

	for (i = 0; i < n; i++) {
		struct sched_learned *d = out ? &a[out - 1] : NULL;

		if (d && !strcmp(d->name, a[i].name)) {
			if (a[i].last_seen > d->last_seen)
				d->last_seen = a[i].last_seen;
			if (a[i].last_elephant > d->last_elephant) {
				d->last_elephant = a[i].last_elephant;
				d->heavy_node = a[i].heavy_node;
				d->evidence = a[i].evidence;
			}
			continue;
		}
		a[out++] = a[i];
	}
	/* forget what was neither seen nor heavy within the window */
	for (i = n = 0; i < out; i++)
		if (a[i].last_seen >= horizon || a[i].last_elephant >= horizon)
			a[n++] = a[i];
	return n;
}

int sched_memory_update(const struct sched_memory *mem, const struct sched_snap *snap,
			const struct sched_cfg *cfg, uint64_t now_ns, struct sched_memory *out)
{
	int64_t horizon = (int64_t)(now_ns / NSEC) - (int64_t)(cfg->learn_window_ns / NSEC);
	struct sched_learned *a;
	size_t n = mem->n, cap = mem->n;
	int i, k, err = 0;

	for (i = 0; i < snap->n; i++)
		cap += snap->nodes[i].nwl;
	a = calloc(cap ? cap : 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (mem->n)
		memcpy(a, mem->w, mem->n * sizeof(*a));
	for (i = 0; i < snap->n; i++) {
		if (!sched_node_fresh(&snap->nodes[i], cfg, now_ns))
			continue;
		for (k = 0; k < snap->nodes[i].nwl; k++)
			observe(&a[n++], &snap->nodes[i], &snap->nodes[i].wl[k]);
	}
	qsort(a, n, sizeof(*a), learned_cmp);
	n = fold(a, n, horizon);
	if (n > SCHED_MAX_LEARNED) {	/* keep the most recently seen */
		qsort(a, n, sizeof(*a), learned_age_cmp);
		n = SCHED_MAX_LEARNED;
		qsort(a, n, sizeof(*a), learned_cmp);
		err = -E2BIG;
	}
	/* the names were borrowed from the old memory and the snapshot: own them */
	for (i = k = 0; i < (int)n; i++) {
		a[k] = a[i];
		a[k].name = strdup(a[i].name);
		a[k].heavy_node = a[i].heavy_node ? strdup(a[i].heavy_node) : NULL;
		if (!a[k].name || (a[i].heavy_node && !a[k].heavy_node)) {
			free(a[k].name);
			free(a[k].heavy_node);
			err = -ENOMEM;
			continue;
		}
		k++;
	}
	out->w = a;
	out->n = k;
	return err;
}

const struct sched_learned *sched_memory_find(const struct sched_memory *mem,
					      const char *name)
{
	struct sched_learned key = { .name = (char *)name };

	if (!mem->n)
		return NULL;
	return bsearch(&key, mem->w, mem->n, sizeof(key), learned_cmp);
}

void sched_memory_free(struct sched_memory *mem)
{
	int i;

	for (i = 0; i < mem->n; i++) {
		free(mem->w[i].name);
		free(mem->w[i].heavy_node);
	}
	free(mem->w);
	mem->w = NULL;
	mem->n = 0;
}

/* ---- the class of a pod ---- */

void sched_classify(const struct sched_cfg *cfg, const struct sched_memory *mem,
		    struct sched_pod *pod, uint64_t now_ns)
{
	int64_t horizon = (int64_t)(now_ns / NSEC) - (int64_t)(cfg->learn_window_ns / NSEC);
	const struct sched_learned *l;
	const char *label = NULL, *val = NULL;
	int i;

	pod->workload[0] = '\0';
	for (i = 0; i < cfg->nlabels && !val; i++)
		if (pod->label_vals[i] && *pod->label_vals[i]) {
			val = pod->label_vals[i];
			label = cfg->labels[i];
		}
	if (val)
		snprintf(pod->workload, sizeof(pod->workload), "%s%s%.*s",
			 cfg->namespaced ? pod->ns ?: "default" : "", cfg->namespaced ? "/" : "",
			 SCHED_NAME_MAX, val);
	if (pod->footprint && (!strcmp(pod->footprint, "heavy") ||
			       !strcmp(pod->footprint, "light"))) {
		pod->cls = pod->footprint[0] == 'h' ? SC_HEAVY : SC_LIGHT;
		snprintf(pod->source, sizeof(pod->source), "declared: bpfnet.io/footprint=%s",
			 pod->footprint);
		return;
	}
	pod->cls = SC_UNKNOWN;
	if (!val) {
		snprintf(pod->source, sizeof(pod->source), "unknown: no workload label%s",
			 pod->footprint ? " (bpfnet.io/footprint not heavy|light)" : "");
		return;
	}
	l = sched_memory_find(mem, pod->workload);
	if (l && l->last_elephant && l->last_elephant >= horizon) {
		pod->cls = SC_HEAVY;
		snprintf(pod->source, sizeof(pod->source),
			 "learned: %s; elephant on %.60s at %" PRId64 " (%s)", label,
			 l->heavy_node, l->last_elephant,
			 l->evidence >= 0 ? sched_metric_names[l->evidence] : "?");
	} else if (l && l->last_seen >= horizon) {
		pod->cls = SC_LIGHT;
		snprintf(pod->source, sizeof(pod->source),
			 "learned: %s; seen at %" PRId64 ", no elephant in the learn window",
			 label, l->last_seen);
	} else {
		snprintf(pod->source, sizeof(pod->source), "unknown: %s; no node reports it",
			 label);
	}
}

/* ---- a request's nodes ---- */

/* "web, db and 3 more": the node's heavy workloads. */
static void heavy_list(const struct sched_node *nd, char *buf, size_t len)
{
	int i, shown = 0, heavy = 0;
	size_t off = 0;

	buf[0] = '\0';
	for (i = 0; i < nd->nwl; i++) {
		if (!nd->wl[i].heavy)
			continue;
		if (shown < 4 && off < len)
			off += snprintf(buf + off, len - off, "%s%.64s", shown ? ", " : "",
					nd->wl[i].name), shown++;
		heavy++;
	}
	if (heavy > shown && off < len)
		snprintf(buf + off, len - off, " and %d more", heavy - shown);
}

static int reject(const struct sched_cfg *cfg, const struct sched_pod *pod,
		  const struct sched_node *nd, struct sched_eval *ev)
{
	char wl[320];
	int n = 0;

	if (cfg->isolate && pod->cls == SC_LIGHT && ev->h >= 1) {
		heavy_list(nd, wl, sizeof(wl));
		n = asprintf(&ev->reason, "--isolate: light pod, node has %u heavy workload%s (%s)",
			     ev->h, ev->h == 1 ? "" : "s", wl[0] ? wl : "names not reported");
	} else if (cfg->max_elephants && ev->e >= cfg->max_elephants) {
		n = asprintf(&ev->reason, "--max-elephants %u: node has %u elephant flow%s",
			     cfg->max_elephants, ev->e, ev->e == 1 ? "" : "s");
	} else {
		return 0;
	}
	if (n < 0) {
		ev->reason = NULL;
		return -ENOMEM;
	}
	ev->failed = true;
	return 0;
}

int sched_decide(const struct sched_cfg *cfg, const struct sched_snap *snap,
		 const struct sched_pod *pod, const char *const *names, int n, bool filter,
		 uint64_t now_ns, struct sched_decision *d)
{
	uint64_t cmax = 0;
	int i, err;

	memset(d, 0, sizeof(*d));
	d->nodes = calloc(n ? n : 1, sizeof(*d->nodes));
	if (!d->nodes)
		return -ENOMEM;
	d->n = n;
	for (i = 0; i < n; i++) {
		const struct sched_node *nd = sched_snap_find(snap, names[i]);
		struct sched_eval *ev = &d->nodes[i];

		ev->name = names[i];
		ev->data = sched_node_fresh(nd, cfg, now_ns);
		if (!ev->data) {
			d->no_data++;
			continue;
		}
		ev->e = nd->e;
		ev->h = nd->h;
		ev->l = nd->l;
		ev->cost = pod->cls == SC_HEAVY ? nd->e + nd->l : nd->h + nd->e;
		if (ev->cost > cmax)
			cmax = ev->cost;
		if (filter) {
			err = reject(cfg, pod, nd, ev);
			if (err)
				return err;
			d->failed += ev->failed;
		}
	}
	for (i = 0; i < n; i++) {
		struct sched_eval *ev = &d->nodes[i];

		if (ev->data)
			ev->score = cmax ? (int)(10 * (cmax - ev->cost) / cmax) : 10;
	}
	d->passed = n - d->failed;
	if (filter && d->failed && !d->passed) {
		d->fail_open = true;
		d->passed = n;
	}
	return 0;
}

void sched_decision_free(struct sched_decision *d)
{
	int i;

	for (i = 0; i < d->n; i++)
		free(d->nodes[i].reason);
	free(d->nodes);
	memset(d, 0, sizeof(*d));
}
