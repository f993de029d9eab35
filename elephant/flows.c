// SPDX-License-Identifier: GPL-2.0
/*
 * flows.c - the user-space mirror of the flow table, its events and the walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "flows.h"
#include "nl.h"

#define NSEC		1000000000ULL

static uint32_t key_hash(const struct el_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % FL_BUCKETS;
}

/* The mirror entry of @k; with @create, a new one attributed from @f. */
static struct uflow *uf_find(struct el_flows *fl, const struct el_key *k, bool create,
			     const struct el_flow *f)
{
	uint32_t h = key_hash(k);
	struct uflow *u;

	for (u = fl->uf[h]; u; u = u->next)
		if (!memcmp(&u->key, k, sizeof(*k)))
			return u;
	if (!create)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->key = *k;
	u->gen = fl->gen;
	if (at_flow(fl->at, fl->fp, k, f, &u->who)) {
		free(u);
		return NULL;
	}
	u->next = fl->uf[h];
	fl->uf[h] = u;
	return u;
}

static void uf_remove(struct el_flows *fl, struct uflow *x)
{
	struct uflow **pp = &fl->uf[key_hash(&x->key)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			free(x);
			return;
		}
}

static void uf_account(struct el_flows *fl, struct uflow *u, const struct el_flow *f)
{
	uint64_t b = f->bytes[0] + f->bytes[1];

	if (b > u->bytes_seen) {
		fp_bytes(fl->fp, u->who.wl, b - u->bytes_seen);
		u->bytes_seen = b;
	}
}

void fl_free(struct el_flows *fl)
{
	struct uflow *u, *nx;
	int i;

	for (i = 0; i < FL_BUCKETS; i++) {
		for (u = fl->uf[i]; u; u = nx) {
			nx = u->next;
			free(u);
		}
		fl->uf[i] = NULL;
	}
}

static bool iface_wanted(const struct el_flows *fl, const struct uflow *u)
{
	int i;

	if (!fl->nifaces || fl->tc)
		return true;
	for (i = 0; i < fl->nifaces; i++)
		if (!strcmp(fl->ifaces[i], u->who.iface))
			return true;
	return false;
}

static void report(struct el_flows *fl, const struct el_event *e, const struct uflow *u)
{
	uint64_t ino = u->who.ns_ino ? u->who.ns_ino : fl->at->self_ino;
	struct el_where w = {
		.iface = u->who.iface,
		.netns = ino,
		.netns_name = at_ns_name(fl->at, ino),
		.workload = fl->fp->w[u->who.wl].name,
	};

	if (iface_wanted(fl, u))
		out_event(fl->out, e, e->ts_ns + fl->mono_to_real, &w);
}

static void handle_event(struct el_flows *fl, const struct el_event *e)
{
	struct uflow *u;

	u = uf_find(fl, &e->key, e->type != EL_EV_GONE, &e->flow);
	if (!u) {
		if (e->type != EL_EV_GONE)
			fl->c.event_drops++;	/* out of memory */
		return;
	}
	uf_account(fl, u, &e->flow);
	switch (e->type) {
	case EL_EV_ADD:
		if (u->elephant)
			break;
		u->elephant = true;
		fl->c.events_add++;
		fp_elephant(fl->fp, u->who.wl, (e->ts_ns + fl->mono_to_real) / NSEC);
		report(fl, e, u);
		break;
	case EL_EV_DEL:
		fl->c.events_del++;
		report(fl, e, u);
		uf_remove(fl, u);
		break;
	default:
		uf_remove(fl, u);
		break;
	}
}

int fl_rb_event(void *ctx, void *data, size_t len)
{
	struct el_flows *fl = ctx;

	if (len < sizeof(struct el_event))
		return 0;
	memcpy(&fl->q[fl->nq++], data, sizeof(struct el_event));
	/* full: stop this consume; fl_consume() handles these and goes on */
	return fl->nq == FL_QUEUE ? -ENOSPC : 0;
}

/* A queued event from the programs. */
static void queued_event(struct el_flows *fl, const struct el_event *e)
{
	struct el_flow f;

	/*
	 * tc: only flow_gone() removes table entries. An elephant_add the
	 * program emitted while flow_gone() took its entry (and judged it at
	 * delete) must not report the flow a second time.
	 */
	if (fl->tc && e->type == EL_EV_ADD && !uf_find(fl, &e->key, false, NULL) &&
	    bpf_map_lookup_elem(fl->flows_fd, &e->key, &f))
		return;
	handle_event(fl, e);
}

int fl_consume(struct el_flows *fl)
{
	int err, i;

	do {
		err = ring_buffer__consume(fl->rb);
		for (i = 0; i < fl->nq; i++)
			queued_event(fl, &fl->q[i]);
		fl->nq = 0;
	} while (err == -ENOSPC);
	return err < 0 ? err : 0;
}

/*
 * A conntrack entry is gone (tc backend: ctnetlink DESTROY; any backend: the
 * sweep found it missing). Same bookkeeping as the BPF delete hook.
 */
static void flow_gone(struct el_flows *fl, const struct el_key *key, const struct ct_msg *m)
{
	struct el_event e = { .key = *key };
	uint32_t reason;

	if (bpf_map_lookup_and_delete_elem(fl->flows_fd, key, &e.flow))
		return;
	fl->c.deleted_user++;
	e.ts_ns = bn_now_ns();
	if (m && m->has_counters) {
		memcpy(e.flow.bytes, m->bytes, sizeof(e.flow.bytes));
		memcpy(e.flow.packets, m->packets, sizeof(e.flow.packets));
	}
	if (!e.flow.elephant) {
		reason = el_thresholds(&e.flow, e.ts_ns, fl->th.min_bytes, fl->th.min_duration_ns,
				       fl->th.min_rate_bps);
		if (reason) {
			e.type = EL_EV_ADD;
			e.reason = reason | EL_R_ON_DELETE;
			e.flow.elephant = 1;
			e.flow.elephant_ns = e.ts_ns;
			handle_event(fl, &e);
		}
	}
	e.type = e.flow.elephant ? EL_EV_DEL : EL_EV_GONE;
	e.reason = 0;
	handle_event(fl, &e);
}

void fl_ct_events(struct el_flows *fl, int fd)
{
	char buf[65536] __attribute__((aligned(8)));
	struct nlmsghdr *nh;
	struct ct_msg m;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* events lost: the next sweep checks every entry */
				fl->c.ct_events_lost++;
				fl->c.ct_events_lost_total++;
				continue;
			}
			return;
		}
		/* what the programs reported before these deletes comes first */
		fl_consume(fl);
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (ctnl_parse(nh, &m) != 1)
				continue;
			if (m.destroy)
				flow_gone(fl, &m.key, &m);
			else if (fl->tcs)
				tc_zone_learn(fl->tcs, m.key.zone);
		}
	}
}

static void walk_one(struct el_flows *fl, const struct el_key *key, const struct el_flow *f)
{
	struct uflow *u;

	u = uf_find(fl, key, true, f);
	if (!u)
		return;
	u->gen = fl->gen;
	uf_account(fl, u, f);
	if (f->elephant)
		fl->fp->w[u->who.wl].elephants++;
	else
		fl->fp->w[u->who.wl].mice++;
}

/* Walk the BPF table; keep the idle entries (all, if @all) in fl->idle. */
static int walk_table(struct el_flows *fl, bool all)
{
	uint64_t now = bn_now_ns(), idle = fl->interval_ns * 3;
	struct el_key in, out;
	bool first = true;
	int err, i, nidle = 0;
	__u32 n;

	if (idle < 30 * NSEC)
		idle = 30 * NSEC;
	do {
		n = FL_WALK_BATCH;
		err = bpf_map_lookup_batch(fl->flows_fd, first ? NULL : &in, &out, fl->keys,
					   fl->vals, &n, NULL);
		if (err && err != -ENOENT) {
			bn_warn("cannot read the flow table: %s", strerror(-err));
			break;
		}
		for (i = 0; i < (int)n; i++) {
			const struct el_flow *v = &fl->vals[i];

			if ((all || (now > v->last_ns && now - v->last_ns > idle)) &&
			    nidle < FL_SWEEP_MAX)
				fl->idle[nidle++] = fl->keys[i];
			walk_one(fl, &fl->keys[i], v);
		}
		in = out;
		first = false;
	} while (!err);
	return nidle;
}

void fl_walk(struct el_flows *fl)
{
	bool full_sweep = fl->c.ct_events_lost > 0;
	struct uflow *x, *nx;
	int i, nidle;

	fl->gen = !fl->gen;
	nidle = walk_table(fl, full_sweep);
	/* idle entries conntrack no longer has: a delete was missed */
	for (i = 0; i < nidle; i++) {
		if (ctnl_exists(&fl->idle[i]) == 0) {
			struct uflow *u = uf_find(fl, &fl->idle[i], false, NULL);

			fl->c.swept++;
			if (u && u->gen == fl->gen) {
				/* counted as active above: take it back */
				if (u->elephant)
					fl->fp->w[u->who.wl].elephants--;
				else
					fl->fp->w[u->who.wl].mice--;
			}
			flow_gone(fl, &fl->idle[i], NULL);
		}
	}
	/* mirror entries whose BPF entry is gone without an event */
	for (i = 0; i < FL_BUCKETS; i++) {
		for (x = fl->uf[i]; x; x = nx) {
			nx = x->next;
			if (x->gen != fl->gen)
				uf_remove(fl, x);
		}
	}
	if (full_sweep)
		fl->c.ct_events_lost = 0;
}
