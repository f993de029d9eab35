// SPDX-License-Identifier: GPL-2.0
/*
 * flows.c - `flow` records: each point's top-N flows (the innermost
 * packet's 5-tuple) by bytes this interval. The kernel counts per flow and
 * point in an LRU per-CPU hash; every interval each entry is read and
 * deleted in one step (lookup-and-delete), so what a packet adds after the
 * read counts in the next interval.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "state.h"
#include "tracer.skel.h"

struct flow {
	struct tr_flow_key k;
	uint64_t packets, bytes;
};

static int by_bytes(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;

	if (x->k.point != y->k.point)
		return x->k.point - y->k.point;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* Take every entry out of the map: keys first, then lookup-and-delete each. */
static int flows_take(struct tr_state *s, struct flow *v, int max)
{
	int fd = bpf_map__fd(s->skel->maps.flows), n = 0, i, c;
	struct tr_flow_key k, *pk = NULL;
	struct tr_flow_val *pc;

	while (n < max && !bpf_map_get_next_key(fd, pk, &k)) {
		v[n].k = k;
		pk = &v[n++].k;
	}
	pc = calloc(s->nr_cpus, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v[i].packets = v[i].bytes = 0;
		if (bpf_map_lookup_and_delete_elem(fd, &v[i].k, pc))
			continue;
		for (c = 0; c < s->nr_cpus; c++) {
			v[i].packets += pc[c].packets;
			v[i].bytes += pc[c].bytes;
		}
	}
	free(pc);
	return n;
}

static void flow_rec(struct tr_state *s, const struct flow *f, int rank, double secs,
		     uint64_t rt)
{
	char a[BN_ADDRSTRLEN], b[BN_ADDRSTRLEN], t[BN_TIMESTRLEN];
	const char *pt = tr_point_name(&s->o, f->k.point);
	struct bn_json j;

	bn_addr_str(f->k.family, f->k.src, a, sizeof(a));
	bn_addr_str(f->k.family, f->k.dst, b, sizeof(b));
	if (!s->cli.json) {
		fprintf(tr_out(s), "%-12s flow %-16s #%d %u %s:%u > %s:%u %llu pkts %.1f bit/s\n",
			bn_time_str(rt, t, sizeof(t)), pt, rank, f->k.proto, a, f->k.sport, b,
			f->k.dport, (unsigned long long)f->packets, f->bytes * 8 / secs);
		return;
	}
	tr_rec_begin(s, &j, "flow", rt);
	bn_json_str(&j, "point", pt);
	bn_json_u64(&j, "rank", rank);
	bn_json_u64(&j, "proto", f->k.proto);
	bn_json_str(&j, "src", a);
	bn_json_str(&j, "dst", b);
	bn_json_u64(&j, "sport", f->k.sport);
	bn_json_u64(&j, "dport", f->k.dport);
	bn_json_u64(&j, "packets", f->packets);
	bn_json_u64(&j, "bytes", f->bytes);
	bn_json_double(&j, "bps", f->bytes * 8 / secs, 1);
	bn_json_end(&j);
}

void tr_flows_tick(struct tr_state *s, double secs, uint64_t rt)
{
	struct flow *v;
	int n, i, rank = 0, point = -1;

	if (!s->o.top)
		return;
	v = calloc(16384, sizeof(*v));
	if (!v)
		return;
	n = flows_take(s, v, 16384);
	if (n > 0)
		qsort(v, n, sizeof(*v), by_bytes);
	for (i = 0; i < n; i++) {
		if (v[i].k.point != point) {
			point = v[i].k.point;
			rank = 0;
		}
		if (v[i].packets && ++rank <= (int)s->o.top && v[i].k.point < s->o.npoints)
			flow_rec(s, &v[i], rank, secs, rt);
	}
	free(v);
}
