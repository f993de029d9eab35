// SPDX-License-Identifier: GPL-2.0
/*
 * sched_snap.c - elephant-sched's snapshot: the samples of one refresh
 * (from every --target, or from Prometheus) turned into nodes with their
 * workloads, sorted by name so that a request's nodes are found in
 * O(log n). Built once per refresh; requests only read it.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "extender.h"

int sched_samples_add(struct sched_samples *ss, int metric, const char *node,
		      const char *workload, double value)
{
	size_t max = ss->max ? ss->max : SCHED_MAX_SAMPLES;
	struct sched_sample *s;
	size_t nl = strlen(node);

	if (!nl || nl > SCHED_NAME_MAX || (workload && (!*workload ||
						       strlen(workload) > 2 * SCHED_NAME_MAX + 1)))
		return -EINVAL;
	if (ss->n == max)
		return -E2BIG;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 256;

		s = realloc(ss->s, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		ss->s = s;
		ss->cap = cap;
	}
	s = &ss->s[ss->n];
	s->metric = metric;
	s->value = value;
	s->node = strdup(node);
	s->workload = workload ? strdup(workload) : NULL;
	if (!s->node || (workload && !s->workload)) {
		free(s->node);
		free(s->workload);
		return -ENOMEM;
	}
	ss->n++;
	return 0;
}

int sched_samples_take(struct sched_samples *to, struct sched_samples *from)
{
	size_t max = to->max ? to->max : SCHED_MAX_SAMPLES;
	struct sched_sample *s;

	if (to->n + from->n > max)
		return -E2BIG;
	if (to->n + from->n > to->cap) {
		s = realloc(to->s, (to->n + from->n) * sizeof(*s));
		if (!s)
			return -ENOMEM;
		to->s = s;
		to->cap = to->n + from->n;
	}
	if (from->n)
		memcpy(to->s + to->n, from->s, from->n * sizeof(*s));
	to->n += from->n;
	from->n = 0;
	return 0;
}

void sched_samples_free(struct sched_samples *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++) {
		free(ss->s[i].node);
		free(ss->s[i].workload);
	}
	free(ss->s);
	ss->s = NULL;
	ss->n = ss->cap = 0;
}

static int sample_cmp(const void *a, const void *b)
{
	const struct sched_sample *x = a, *y = b;
	int c = strcmp(x->node, y->node);

	if (c)
		return c;
	if (!x->workload || !y->workload)
		return !!x->workload - !!y->workload;
	return strcmp(x->workload, y->workload);
}

/* A gauge of counts as a count: NaN, negative and absurd values bounded. */
static unsigned int count(double v)
{
	if (!(v > 0))
		return 0;
	return v > 1e9 ? 1000000000u : (unsigned int)v;
}

static void wl_sample(struct sched_wl *w, const struct sched_sample *s)
{
	unsigned int c = count(s->value);

	switch (s->metric) {
	case SM_WL_ELEPHANTS:
		w->elephants = c > w->elephants ? c : w->elephants;
		break;
	case SM_WL_MICE:
		w->mice = c > w->mice ? c : w->mice;
		break;
	case SM_WL_HEAVY:
		w->heavy |= c >= 1;
		break;
	case SM_WL_LAST:
		if (isfinite(s->value) && s->value > 0 && s->value < 1e10 &&
		    s->value > w->last_elephant)
			w->last_elephant = s->value;
		break;
	}
}

static void node_sample(struct sched_node *nd, const struct sched_sample *s, bool *has_h)
{
	unsigned int c = count(s->value);
	uint64_t t;

	switch (s->metric) {
	case SM_NODE_ELEPHANTS:
		nd->e = nd->has_e && nd->e > c ? nd->e : c;
		nd->has_e = true;
		break;
	case SM_NODE_HEAVY:
		nd->h = *has_h && nd->h > c ? nd->h : c;
		*has_h = true;
		break;
	case SM_SCRAPE_TIME:
		if (isfinite(s->value) && s->value > 0 && s->value < 1e10) {
			t = (uint64_t)(s->value * 1e9);
			if (t > nd->data_ns)
				nd->data_ns = t;
		}
		break;
	}
}

/* The samples @s[0..n-1] of one node into @nd. */
static int node_build(struct sched_node *nd, const struct sched_sample *s, size_t n,
		      uint64_t default_ns)
{
	bool has_h = false, has_t = false;
	struct sched_wl *w = NULL;
	size_t i, nwl = 0;

	for (i = 0; i < n; i++)
		nwl += s[i].workload && (!i || !s[i - 1].workload ||
					 strcmp(s[i].workload, s[i - 1].workload));
	nd->name = strdup(s[0].node);
	nd->wl = calloc(nwl ? nwl : 1, sizeof(*nd->wl));
	if (!nd->name || !nd->wl)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!s[i].workload) {
			has_t |= s[i].metric == SM_SCRAPE_TIME;
			node_sample(nd, &s[i], &has_h);
			continue;
		}
		if (!w || strcmp(w->name, s[i].workload)) {
			w = &nd->wl[nd->nwl++];
			w->name = strdup(s[i].workload);
			w->last_elephant = -1;
			if (!w->name)
				return -ENOMEM;
		}
		wl_sample(w, &s[i]);
	}
	if (!has_t || !nd->data_ns)
		nd->data_ns = default_ns;
	for (i = 0; i < (size_t)nd->nwl; i++) {
		w = &nd->wl[i];
		w->heavy |= w->elephants > 0;
		nd->l += w->mice > 0 && !w->heavy;
		if (!has_h)
			nd->h += w->heavy;
	}
	return 0;
}

int sched_snap_build(struct sched_snap *snap, struct sched_samples *ss, uint64_t default_ns)
{
	size_t i, j, nn = 0;
	int err;

	memset(snap, 0, sizeof(*snap));
	if (ss->n)
		qsort(ss->s, ss->n, sizeof(*ss->s), sample_cmp);
	for (i = 0; i < ss->n; i++)
		nn += !i || strcmp(ss->s[i].node, ss->s[i - 1].node);
	snap->nodes = calloc(nn ? nn : 1, sizeof(*snap->nodes));
	if (!snap->nodes)
		return -ENOMEM;
	for (i = 0; i < ss->n; i = j) {
		for (j = i + 1; j < ss->n && !strcmp(ss->s[j].node, ss->s[i].node); j++)
			;
		err = node_build(&snap->nodes[snap->n++], &ss->s[i], j - i, default_ns);
		if (err) {
			sched_snap_free(snap);
			return err;
		}
	}
	return 0;
}

static int node_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sched_node *)elem)->name);
}

const struct sched_node *sched_snap_find(const struct sched_snap *snap, const char *name)
{
	if (!snap->n)
		return NULL;
	return bsearch(name, snap->nodes, snap->n, sizeof(*snap->nodes), node_key_cmp);
}

void sched_snap_free(struct sched_snap *snap)
{
	int i, k;

	for (i = 0; i < snap->n; i++) {
		for (k = 0; k < snap->nodes[i].nwl; k++)
			free(snap->nodes[i].wl[k].name);
		free(snap->nodes[i].wl);
		free(snap->nodes[i].name);
	}
	free(snap->nodes);
	memset(snap, 0, sizeof(*snap));
}
