// SPDX-License-Identifier: GPL-2.0
/*
 * mread.c - tracer-merge's input: the JSON Lines of `tracer -j --events
 * --host NAME` runs, one file per host, read with jansson. Every line is
 * hostile: a line that is not a record tracer writes is counted and named
 * (file:line) and skipped. Per event line only an entry of 40 bytes is kept
 * (packet id, time, point, its offset in the file: the line is read again for
 * the output); the packets are joined by sorting the entries on the id, so
 * memory is bounded per event line, whatever the number of hosts.
 *
 * The clock offsets: a packet last seen on host 0 at a and first seen on
 * host H at b (H's clock) crossed in b - a - offset >= 0, so the offset is
 * at most b - a; one that went from H to host 0 bounds it from below. The
 * direction of a crossing is decided per path (the packets that share their
 * first and last point on both hosts go the same way): by the hooks where
 * they tell (left host 0 at a transmit hook, entered H at a receive hook),
 * else by where the bounds fit: every packet to H lies above every packet
 * from H, and the split with the widest gap between them is taken.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "merge.h"


int mg_add_host(struct mg *m, const char *path, FILE *f)
{
	struct mg_host *h;

	if (m->nhosts == MG_MAX_HOSTS || m->nev)
		return -ENOSPC;
	h = &m->hosts[m->nhosts++];
	memset(h, 0, sizeof(*h));
	h->path = path;
	h->f = f;
	return 0;
}

static int bad(struct mg *m, int h, uint64_t lineno, const char *why)
{
	m->hosts[h].bad++;
	if (m->bad_line)
		m->bad_line(m->ctx, &m->hosts[h], lineno, why);
	return -EINVAL;
}

/* ---- lines ---- */

static int point_index(struct mg_host *h, const char *name, const char *hook)
{
	int i;

	for (i = 0; i < h->npoints; i++)
		if (!strcmp(h->points[i], name))
			return i;
	if (h->npoints == MG_MAX_POINTS)
		return -ENOSPC;
	snprintf(h->points[i], MG_NAME_LEN, "%s", name);
	snprintf(h->hooks[i], sizeof(h->hooks[i]), "%s", hook);
	return h->npoints++;
}

static bool parse_id(const char *s, uint64_t *id)
{
	size_t n = strlen(s), i;

	if (!n || n > 16)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	*id = strtoull(s, NULL, 16);
	return true;
}

static const char *str_of(json_t *r, const char *key, size_t max)
{
	const char *s = json_string_value(json_object_get(r, key));

	return s && strlen(s) < max ? s : NULL;
}

int mg_grow(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*(void **)arr, c * size);
	if (!p)
		return -ENOMEM;
	*(void **)arr = p;
	*cap = c;
	return 0;
}

static int ev_add(struct mg *m, const struct mg_ev *e)
{
	if (mg_grow(&m->ev, &m->evcap, m->nev, sizeof(*e)))
		return -ENOMEM;
	m->ev[m->nev++] = *e;
	return 0;
}

/* ---- packets: the entries sorted by id, a run of them per packet ---- */

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_id(const void *a, const void *b)
{
	const struct mg_ev *x = a, *y = b;

	return cmp_u64(x->id, y->id) ?: cmp_u64(x->host, y->host) ?: cmp_u64(x->ts, y->ts) ?:
	       cmp_u64(x->off, y->off);
}

static int cmp_time(const void *a, const void *b)
{
	const struct mg_ev *x = a, *y = b;

	return cmp_u64(x->ts, y->ts) ?: cmp_u64(x->host, y->host) ?: cmp_u64(x->off, y->off);
}

void mg_sort_time(struct mg *m)
{
	if (m->nev)
		qsort(m->ev, m->nev, sizeof(*m->ev), cmp_time);
}

void mg_sort_ids(struct mg *m)
{
	struct mg_ev *ev;

	if (!m->nev)
		return;
	/* done reading: the slack of the doubled array is given back first */
	ev = realloc(m->ev, m->nev * sizeof(*ev));
	if (ev) {
		m->ev = ev;
		m->evcap = m->nev;
	}
	qsort(m->ev, m->nev, sizeof(*m->ev), cmp_id);
}

static void sighting(struct mg_seen *s, uint64_t ts, int pt)
{
	if (!s->n || ts < s->first_ts) {
		s->first_ts = ts;
		s->first_pt = pt;
	}
	if (!s->n || ts >= s->last_ts) {
		s->last_ts = ts;
		s->last_pt = pt;
	}
	if (s->n < UINT16_MAX)
		s->n++;
}

size_t mg_packet(const struct mg *m, size_t i, struct mg_seen *s)
{
	uint64_t id = m->ev[i].id;

	memset(s, 0, m->nhosts * sizeof(*s));
	for (; i < m->nev && m->ev[i].id == id; i++) {
		const struct mg_ev *e = &m->ev[i];

		if (e->drop)
			s[e->host].dropped = true;
		else
			sighting(&s[e->host], e->ts, e->pt);
	}
	return i;
}

/* An event or drop record: its packet, point and time. */
static int packet_line(struct mg *m, int hi, json_t *r, bool drop, off_t off,
		       uint64_t lineno)
{
	struct mg_host *h = &m->hosts[hi];
	const char *pkt, *point, *hook = "";
	struct mg_ev e = { .off = off, .host = hi, .from_host = MG_NO_HOST, .drop = drop };
	json_t *ts;
	int pt;

	pkt = str_of(r, "pkt", 17);
	if (!pkt || !parse_id(pkt, &e.id))
		return bad(m, hi, lineno, "no packet id (\"pkt\": up to 16 hex digits)");
	ts = json_object_get(r, "ts_ns");
	if (!json_is_integer(ts) || json_integer_value(ts) <= 0)
		return bad(m, hi, lineno, "no \"ts_ns\" (a positive integer): run tracer with "
			   "--host");
	e.ts = json_integer_value(ts);
	point = str_of(r, "point", MG_NAME_LEN);
	if (!point || !point[0])
		return bad(m, hi, lineno, "no point name");
	if (!drop && !(hook = str_of(r, "hook", sizeof(h->hooks[0]))))
		return bad(m, hi, lineno, "no hook");
	pt = point_index(h, point, hook);
	if (pt < 0)
		return bad(m, hi, lineno, "too many point names");
	e.pt = pt;
	if (ev_add(m, &e))
		return -ENOMEM;
	if (drop)
		h->drops++;
	else
		h->events++;
	return 1;
}

int mg_line(struct mg *m, int hi, const char *line, size_t len, off_t off, uint64_t lineno)
{
	struct mg_host *h = &m->hosts[hi];
	const char *type, *host;
	char why[200];
	json_error_t jerr;
	json_t *r, *v;
	int ret = 0;

	h->lines++;
	if (len > MG_LINE_MAX)
		return bad(m, hi, lineno, "line too long (64 KiB at most)");
	if (strspn(line, " \t\r\n") == len)
		return 0;
	r = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!r) {
		snprintf(why, sizeof(why), "not JSON: %s", jerr.text);
		return bad(m, hi, lineno, why);
	}
	type = str_of(r, "type", 32);
	host = str_of(r, "host", BN_NODE_MAX);
	if (!json_is_object(r) || !type) {
		ret = bad(m, hi, lineno, "not a record (an object with a \"type\")");
	} else if (!host || !bn_node_name_valid(host)) {
		ret = bad(m, hi, lineno, "no valid \"host\": run tracer with --host");
	} else if (h->name[0] && strcmp(host, h->name)) {
		snprintf(why, sizeof(why), "host '%s' in a file of host '%s'", host, h->name);
		ret = bad(m, hi, lineno, why);
	} else {
		if (!h->name[0])
			strcpy(h->name, host);
		if (!strcmp(type, "event") || !strcmp(type, "drop")) {
			ret = packet_line(m, hi, r, type[0] == 'd', off, lineno);
		} else if (!strcmp(type, "lost")) {
			v = json_object_get(r, "events");
			if (json_is_integer(v) && json_integer_value(v) > 0)
				h->lost += json_integer_value(v);
		}
	}
	json_decref(r);
	return ret;
}

ssize_t mg_getline(FILE *f, char *buf, size_t size)
{
	size_t n = 0;
	int c;

	while ((c = getc_unlocked(f)) != EOF) {
		if (n < size)
			buf[n] = c;
		n++;
		if (c == '\n')
			break;
	}
	if (!n)
		return -1;
	if (n < size)
		buf[n] = '\0';
	return n;
}

int mg_read(struct mg *m, int hi)
{
	struct mg_host *h = &m->hosts[hi];
	uint64_t lineno = 0;
	char *line;
	ssize_t n;
	off_t off;
	int ret = 0;

	line = malloc(MG_LINE_MAX + 1);
	if (!line)
		return -ENOMEM;
	for (;;) {
		off = ftello(h->f);
		n = mg_getline(h->f, line, MG_LINE_MAX + 1);
		if (n < 0) {
			ret = ferror(h->f) ? -EIO : 0;
			break;
		}
		ret = mg_line(m, hi, line, n, off, ++lineno);
		if (ret == -ENOMEM)
			break;
		ret = 0;
	}
	free(line);
	return ret;
}

/* ---- the offsets ---- */

/* The packets that share their first and last point on both hosts. */
struct group {
	uint16_t pts[4];		/* host 0 first, last; host H first, last */
	int64_t minu, maxw;		/* the bounds if it went to H / came from H */
	uint64_t n;
	int verdict;			/* 1: to H, -1: from H, 0: the hooks do not tell */
};

static bool is_tx(const char *hook)
{
	return !strcmp(hook, "tx") || !strcmp(hook, "txq") || !strcmp(hook, "qdisc");
}

static bool is_rx(const char *hook)
{
	return !strcmp(hook, "rx") || !strcmp(hook, "rxq");
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->minu < y->minu ? -1 : x->minu > y->minu;
}

/* Packet @s (both hosts saw it) into host @hi's groups @g (@ng of them). */
static void group_add(const struct mg *m, int hi, const struct mg_seen *s, struct group *g,
		      int *ng)
{
	const struct mg_host *r = &m->hosts[0], *h = &m->hosts[hi];
	const struct mg_seen *a = &s[0], *b = &s[hi];
	uint64_t span;
	int64_t u, w;
	int i;

	span = (a->last_ts - a->first_ts) + (b->last_ts - b->first_ts);
	if (span > MG_MAX_SPAN_NS)
		return;
	u = (int64_t)(b->first_ts - a->last_ts);
	w = (int64_t)((uint64_t)u + span);
	for (i = 0; i < *ng; i++)
		if (g[i].pts[0] == a->first_pt && g[i].pts[1] == a->last_pt &&
		    g[i].pts[2] == b->first_pt && g[i].pts[3] == b->last_pt)
			break;
	if (i == *ng) {
		if (*ng == MG_MAX_GROUPS)
			return;
		g[(*ng)++] = (struct group){
			.pts = { a->first_pt, a->last_pt, b->first_pt, b->last_pt },
			.minu = u, .maxw = w,
		};
		g[i].verdict = is_tx(r->hooks[a->last_pt]) && is_rx(h->hooks[b->first_pt]);
		if (is_tx(h->hooks[b->last_pt]) && is_rx(r->hooks[a->first_pt]))
			g[i].verdict = g[i].verdict ? 0 : -1;
	}
	if (u < g[i].minu)
		g[i].minu = u;
	if (w > g[i].maxw)
		g[i].maxw = w;
	g[i].n++;
}

static void set_counts(struct mg_host *h, const struct group *g, int ng, int k)
{
	int i;

	h->packets_ab = h->packets_ba = 0;
	for (i = 0; i < ng; i++) {
		if (i < k)
			h->packets_ba += g[i].n;
		else
			h->packets_ab += g[i].n;
	}
}

/*
 * Host @hi against host 0: groups [0, k) came from H (lower bounds), [k, ng)
 * went to H (upper bounds). The splits every decided group agrees with;
 * of those with both directions the widest gap; else the one one-way split.
 * -ENODATA: no packet in common; -EDOM: one way, and which way is not told.
 */
static int estimate(struct mg *m, int hi, struct group *g, int ng)
{
	struct mg_host *h = &m->hosts[hi];
	int k, i, best = -1, one = -1, nones = 0;
	int64_t lo = 0, up = 0, gap, bgap = 0, lo1 = 0, up1 = 0;

	if (!ng)
		return -ENODATA;
	qsort(g, ng, sizeof(*g), group_cmp);
	for (k = 0; k <= ng; k++) {
		int64_t l = INT64_MIN, u = INT64_MAX;
		bool ok = true;

		for (i = 0; i < ng && ok; i++) {
			ok = i < k ? g[i].verdict <= 0 : g[i].verdict >= 0;
			if (i < k && g[i].maxw > l)
				l = g[i].maxw;
			if (i >= k && g[i].minu < u)
				u = g[i].minu;
		}
		if (!ok)
			continue;
		if (k == 0 || k == ng) {
			nones++;
			one = k;
			lo1 = l;
			up1 = u;
			continue;
		}
		gap = (int64_t)((uint64_t)u - (uint64_t)l);
		if (best < 0 || gap > bgap) {
			best = k;
			bgap = gap;
			lo = l;
			up = u;
		}
	}
	if (best < 0) {
		if (nones != 1)
			return -EDOM;
		set_counts(h, g, ng, one);
		h->est = one ? MG_EST_LOWER : MG_EST_UPPER;
		h->offset_ns = one ? lo1 : up1;
		h->uncertainty_ns = 0;
		return 0;
	}
	set_counts(h, g, ng, best);
	h->est = MG_EST_MID;
	if (up >= lo) {
		h->uncertainty_ns = ((uint64_t)up - (uint64_t)lo) / 2;
		h->offset_ns = (int64_t)((uint64_t)lo + h->uncertainty_ns);
	} else {
		h->uncertainty_ns = ((uint64_t)lo - (uint64_t)up) / 2;
		h->offset_ns = (int64_t)((uint64_t)up + h->uncertainty_ns);
		h->overlap_ns = (int64_t)((uint64_t)lo - (uint64_t)up);
	}
	return 0;
}

int mg_estimate(struct mg *m, int *hi)
{
	struct mg_seen s[MG_MAX_HOSTS];
	int ng[MG_MAX_HOSTS] = {}, i, err = 0;
	struct group *g;
	size_t k;

	g = calloc(MG_MAX_HOSTS * MG_MAX_GROUPS, sizeof(*g));
	if (!g)
		return -ENOMEM;
	mg_sort_ids(m);
	for (k = 0; k < m->nev; ) {
		k = mg_packet(m, k, s);
		for (i = 1; s[0].n && i < m->nhosts; i++)
			if (s[i].n)
				group_add(m, i, s, &g[i * MG_MAX_GROUPS], &ng[i]);
	}
	m->hosts[0].est = MG_EST_REF;
	for (i = 1; i < m->nhosts && !err; i++) {
		err = estimate(m, i, &g[i * MG_MAX_GROUPS], ng[i]);
		if (err)
			*hi = i;
	}
	free(g);
	return err;
}

void mg_free(struct mg *m)
{
	free(m->ev);
	memset(m, 0, sizeof(*m));
}
