// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - the per-interval records: `point` (packets, bytes, rates),
 * `segment` (packets in and out, drops by reason, unexplained loss, latency
 * percentiles and jitter), `lost` (ring buffer reservations that failed,
 * per point and CPU) and, at the end, `summary`. Everything is read from
 * cumulative per-CPU counters and printed as the difference to the
 * previous tick, so a slow tick loses nothing.
 *
 * Drops and unexplained loss after point A are charged to A's segment with
 * the most packets (the segment a packet at A usually takes next); a point
 * with no outgoing segment gets a segment to the drop point ("drop").
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "state.h"
#include "tracer.skel.h"

#define NPS (sizeof(struct tr_point_stats) / sizeof(uint64_t))
#define NSS (sizeof(struct tr_seg_stats) / sizeof(uint64_t))
#define MAX_DROPKEYS 1024

/* Drop counts by (point, reason): cumulative now and at the previous tick. */
struct drop_cnt {
	struct tr_drop_key k;
	uint64_t now, prev;
};

struct report {
	struct drop_cnt d[MAX_DROPKEYS];
	int nd;
	uint64_t seg_now[TR_MAX_SEGS][NSS];
	uint64_t pt_now[TR_MAX_POINTS + 1][NPS];
};

static struct report *rep(struct tr_state *s)
{
	return (struct report *)s->report;
}

int tr_report_init(struct tr_state *s)
{
	int i;

	s->report = calloc(1, sizeof(struct report));
	s->prev_lost_cpu = calloc((TR_MAX_POINTS + 1) * s->nr_cpus, sizeof(uint64_t));
	if (!s->report || !s->prev_lost_cpu)
		return -ENOMEM;
	for (i = 0; i < TR_MAX_SEGS; i++) {
		s->prev_seg[i].buckets = calloc(TR_NBUCKETS, sizeof(uint32_t));
		if (!s->prev_seg[i].buckets)
			return -ENOMEM;
	}
	return 0;
}

/* A new generation: new maps, counting from zero. */
void tr_report_reset(struct tr_state *s)
{
	int i;

	for (i = 0; i < TR_MAX_SEGS; i++) {
		memset(s->prev_seg[i].buckets, 0, TR_NBUCKETS * sizeof(uint32_t));
		s->prev_seg[i].packets = 0;
		s->prev_seg[i].sum_ns = 0;
	}
	memset(s->prev_pt, 0, sizeof(s->prev_pt));
	memset(s->prev_lost_cpu, 0, (TR_MAX_POINTS + 1) * s->nr_cpus * sizeof(uint64_t));
	memset(s->expired, 0, sizeof(s->expired));
	memset(s->prev_ended, 0, sizeof(s->prev_ended));
	rep(s)->nd = 0;
	s->last_ns = bn_now_ns();
}

void tr_report_free(struct tr_state *s)
{
	int i;

	for (i = 0; i < TR_MAX_SEGS; i++)
		free(s->prev_seg[i].buckets);
	free(s->prev_lost_cpu);
	free(s->report);
}

/* The middle of bucket @b, in ns (see tracer.h). */
static double bucket_mid(int b)
{
	int msb, sub;

	if (b < TR_SUB)
		return b;
	msb = (b - TR_SUB) / TR_SUB + TR_SUB_BITS;
	sub = (b - TR_SUB) % TR_SUB;
	return (double)((uint64_t)(TR_SUB + sub) << (msb - TR_SUB_BITS)) +
	       (double)(1ULL << (msb - TR_SUB_BITS)) / 2;
}

static double pct(const uint32_t *d, uint64_t total, double q)
{
	uint64_t rank = (uint64_t)ceil(q * total), c = 0;
	int b;

	if (!total)
		return 0;
	if (!rank)
		rank = 1;
	for (b = 0; b < TR_NBUCKETS; b++) {
		c += d[b];
		if (c >= rank)
			return bucket_mid(b);
	}
	return bucket_mid(TR_NBUCKETS - 1);
}

/*
 * Delete the @x->n entries of @x whose time is still the one read (the BPF
 * side's tr_expire(): a packet seen again meanwhile is not lost); count each
 * one deleted at its point @pt (TR_MAX_POINTS: none).
 */
static void expire_keys(struct tr_state *s, struct tr_expire *x, const uint8_t *pt)
{
	int fd = bpf_map__fd(s->skel->maps.expq), err;
	LIBBPF_OPTS(bpf_test_run_opts, run);
	__u32 zero = 0, i;

	err = bpf_map_update_elem(fd, &zero, x, 0);
	if (!err)
		err = bpf_prog_test_run_opts(bpf_program__fd(s->skel->progs.tr_expire), &run);
	if (!err)
		err = bpf_map_lookup_elem(fd, &zero, x);
	if (err) {
		bn_warn("cannot expire the packet state: %s", strerror(-err));
		return;
	}
	for (i = 0; i < x->n; i++)
		if (x->ts[i])
			s->expired[pt[i]]++;
}

/*
 * Expire the state of packets not seen for --loss-timeout; count it per
 * point. Read in batches (a syscall per TR_EXPIRE_BATCH entries, not two
 * per entry: the map holds up to --track entries and is walked every
 * interval).
 */
static void expire(struct tr_state *s)
{
	int fd = bpf_map__fd(s->skel->maps.pkts), err, i;
	uint64_t now = bn_now_ns(), keys[TR_EXPIRE_BATCH], in, out;
	struct tr_pkt v[TR_EXPIRE_BATCH];
	uint8_t pt[TR_EXPIRE_BATCH];
	struct tr_expire x;
	bool first = true;
	__u32 n;

	memset(&x, 0, sizeof(x));
	do {
		n = TR_EXPIRE_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, v, &n, NULL);
		if (err && err != -ENOENT) {
			bn_warn("cannot read the packet state: %s", strerror(-err));
			return;
		}
		for (i = 0, x.n = 0; i < (int)n; i++) {
			/* 0: the BPF side is ending it */
			if (!v[i].ts || now < v[i].ts + s->o.loss_timeout_ns)
				continue;
			pt[x.n] = v[i].point < TR_MAX_POINTS ? v[i].point : TR_MAX_POINTS;
			x.key[x.n] = keys[i];
			x.ts[x.n++] = v[i].ts;
		}
		if (x.n)
			expire_keys(s, &x, pt);
		in = out;
		first = false;
	} while (!err);
}

static void read_drops(struct tr_state *s)
{
	int fd = bpf_map__fd(s->skel->maps.drops), i;
	struct tr_drop_key k, *pk = NULL;
	struct report *r = rep(s);
	uint64_t v;

	while (!bpf_map_get_next_key(fd, pk, &k)) {
		pk = &k;
		if (bn_percpu_sum(fd, &k, &v, 1))
			continue;
		for (i = 0; i < r->nd; i++)
			if (!memcmp(&r->d[i].k, &k, sizeof(k)))
				break;
		if (i == r->nd) {
			if (r->nd == MAX_DROPKEYS)
				continue;
			r->d[r->nd++].k = k;
		}
		r->d[i].now = v;
	}
}

/* A's most used outgoing segment's "to", or -1. */
static int main_next(struct tr_state *s, int a)
{
	uint64_t best = 0;
	int b, to = -1;

	for (b = 0; b < s->o.npoints; b++) {
		uint64_t n = rep(s)->seg_now[a * TR_MAX_POINTS + b][0];

		if (b != a && n > best) {
			best = n;
			to = b;
		}
	}
	return to;
}

static void point_rec(struct tr_state *s, int pt, double secs, uint64_t rt)
{
	uint64_t *now = rep(s)->pt_now[pt], pk, by;
	struct tr_point_stats *prev = &s->prev_pt[pt];
	char t[BN_TIMESTRLEN];
	struct bn_json j;

	pk = now[0] - prev->packets;
	by = now[1] - prev->bytes;
	if (s->pf)
		pf_counter(s->pf, tr_pf_process(s, &s->o, pt, s->o.points[pt].p.netns),
			   tr_point_name(&s->o, pt), rt / 1e3, pk / secs, by * 8 / secs);
	if (s->cli.json) {
		tr_rec_begin(s, &j, "point", rt);
		bn_json_str(&j, "point", tr_point_name(&s->o, pt));
		bn_json_u64(&j, "packets", pk);
		bn_json_u64(&j, "bytes", by);
		bn_json_double(&j, "pps", pk / secs, 1);
		bn_json_double(&j, "bps", by * 8 / secs, 1);
		bn_json_end(&j);
	} else {
		fprintf(tr_out(s), "%-12s %-16s %10llu %12llu %10.1f %14.1f\n",
			bn_time_str(rt, t, sizeof(t)), tr_point_name(&s->o, pt),
			(unsigned long long)pk, (unsigned long long)by, pk / secs, by * 8 / secs);
	}
}

/* Sum the per-CPU segment counters; jitter: the CPUs' J weighted by packets. */
static void read_segs(struct tr_state *s)
{
	int fd = bpf_map__fd(s->skel->maps.sstats), c;
	struct tr_seg_stats *v;
	uint32_t seg;

	v = calloc(s->nr_cpus, sizeof(*v));
	if (!v)
		return;
	for (seg = 0; seg < TR_MAX_SEGS; seg++) {
		uint64_t *o = rep(s)->seg_now[seg];
		double jw = 0;

		memset(o, 0, NSS * sizeof(*o));
		if (seg / TR_MAX_POINTS >= (uint32_t)s->o.npoints ||
		    seg % TR_MAX_POINTS >= (uint32_t)s->o.npoints ||
		    bpf_map_lookup_elem(fd, &seg, v))
			continue;
		for (c = 0; c < s->nr_cpus; c++) {
			o[0] += v[c].packets;
			o[1] += v[c].sum_ns;
			if (v[c].max_ns > o[2])
				o[2] = v[c].max_ns;
			jw += (double)v[c].jitter16 * v[c].packets;
		}
		o[3] = o[0] ? (uint64_t)(jw / o[0]) : 0;
	}
	free(v);
}

/* This interval's histogram of @seg into @d; remembers the cumulative one. */
static int hist_delta(struct tr_state *s, uint32_t seg, uint32_t *d)
{
	int fd = bpf_map__fd(s->skel->maps.hist), c, b;
	uint32_t *prev = s->prev_seg[seg].buckets;
	struct tr_hist *v;

	v = calloc(s->nr_cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &seg, v)) {
		free(v);
		return -errno;
	}
	for (b = 0; b < TR_NBUCKETS; b++) {
		uint32_t sum = 0;

		for (c = 0; c < s->nr_cpus; c++)
			sum += v[c].b[b];
		d[b] = sum - prev[b];
		prev[b] = sum;
	}
	free(v);
	return 0;
}

struct seg_out {
	int a, b;			/* b == -1: to the drop point */
	uint64_t out, drops, lost;
	double p50, p90, p99, max, jitter;
	bool complete;
};

static void seg_print(struct tr_state *s, const struct seg_out *o, uint64_t rt)
{
	const char *to = o->b < 0 ? "drop" : tr_point_name(&s->o, o->b);
	struct report *r = rep(s);
	char t[BN_TIMESTRLEN];
	struct bn_json j;
	int i;

	if (!s->cli.json) {
		fprintf(tr_out(s), "%-12s %-16s %-16s %8llu %8llu %6llu %6llu "
			"%9.1f %9.1f %9.1f %9.1f %9.1f %s", bn_time_str(rt, t, sizeof(t)),
			tr_point_name(&s->o, o->a), to,
			(unsigned long long)(o->out + o->drops + o->lost),
			(unsigned long long)o->out, (unsigned long long)o->drops,
			(unsigned long long)o->lost, o->p50 / 1e3, o->p90 / 1e3, o->p99 / 1e3,
			o->max / 1e3, o->jitter / 1e3, o->complete ? "yes" : "no");
		for (i = 0; i < r->nd; i++)
			if (o->drops && (int)r->d[i].k.point == o->a && r->d[i].now > r->d[i].prev)
				fprintf(tr_out(s), " %s:%llu", tr_reason_name(s, r->d[i].k.reason),
					(unsigned long long)(r->d[i].now - r->d[i].prev));
		fprintf(tr_out(s), "\n");
		return;
	}
	tr_rec_begin(s, &j, "segment", rt);
	bn_json_str(&j, "from", tr_point_name(&s->o, o->a));
	bn_json_str(&j, "to", to);
	bn_json_u64(&j, "packets_in", o->out + o->drops + o->lost);
	bn_json_u64(&j, "packets_out", o->out);
	bn_json_obj_begin(&j, "drops");
	for (i = 0; i < r->nd; i++)
		if (o->drops && (int)r->d[i].k.point == o->a && r->d[i].now > r->d[i].prev)
			bn_json_u64(&j, tr_reason_name(s, r->d[i].k.reason),
				    r->d[i].now - r->d[i].prev);
	bn_json_obj_end(&j);
	bn_json_u64(&j, "lost", o->lost);
	bn_json_double(&j, "p50_us", o->p50 / 1e3, 3);
	bn_json_double(&j, "p90_us", o->p90 / 1e3, 3);
	bn_json_double(&j, "p99_us", o->p99 / 1e3, 3);
	bn_json_double(&j, "max_us", o->max / 1e3, 3);
	bn_json_double(&j, "jitter_us", o->jitter / 1e3, 3);
	bn_json_bool(&j, "complete", o->complete);
	bn_json_end(&j);
}

/*
 * Drops after @a this interval and, when @a leads somewhere (@lost), its
 * lost packets: state that ended there (expired, or the skb reused).
 */
static void seg_losses(struct tr_state *s, int a, struct seg_out *o, bool lost)
{
	struct report *r = rep(s);
	uint64_t ended;
	int i;

	for (i = 0; i < r->nd; i++)
		if ((int)r->d[i].k.point == a)
			o->drops += r->d[i].now - r->d[i].prev;
	ended = s->expired[a] + r->pt_now[a][3];
	o->lost = lost ? ended - s->prev_ended[a] : 0;
	s->prev_ended[a] = ended;
}

static void seg_rec(struct tr_state *s, int a, int b, int next, uint64_t rt)
{
	uint32_t seg = a * TR_MAX_POINTS + (b < 0 ? 0 : b), *d;
	uint64_t *now = rep(s)->seg_now[seg];
	struct tr_seg_prev *prev = &s->prev_seg[seg];
	struct seg_out o = { .a = a, .b = b };
	uint64_t total = 0;
	int i;

	if (b >= 0)
		o.out = now[0] - prev->packets;
	if (b == next)
		seg_losses(s, a, &o, b >= 0);
	if (!o.out && !o.drops && !o.lost)
		return;
	d = calloc(TR_NBUCKETS, sizeof(*d));
	if (!d)
		return;
	if (b >= 0 && !hist_delta(s, seg, d)) {
		for (i = 0; i < TR_NBUCKETS; i++)
			total += d[i];
		o.p50 = pct(d, total, 0.50);
		o.p90 = pct(d, total, 0.90);
		o.p99 = pct(d, total, 0.99);
		o.max = pct(d, total, 1.0);
		if (o.max > now[2])
			o.max = now[2];
		o.jitter = now[3] / 16.0;
	}
	free(d);
	o.complete = rep(s)->pt_now[a][2] == s->prev_pt[a].rb_lost &&
		     rep(s)->pt_now[a][4] == s->prev_pt[a].track_fail &&
		     (b < 0 || rep(s)->pt_now[b][2] == s->prev_pt[b].rb_lost);
	seg_print(s, &o, rt);
	if (b >= 0)
		prev->packets = now[0], prev->sum_ns = now[1];
}

/*
 * `path`: the end-to-end decomposition. From the point that starts the
 * busiest chain (a point no other point leads to), follow each point's
 * busiest outgoing segment; each segment's mean latency this interval and
 * its share of their sum.
 */
static void path_rec(struct tr_state *s, uint64_t rt)
{
	int a, b, start = -1, next[TR_MAX_POINTS], chain[TR_MAX_POINTS], n = 0, i;
	uint64_t best = 0, pk[TR_MAX_POINTS], to_me = 0;
	double mean[TR_MAX_POINTS], e2e = 0;
	char t[BN_TIMESTRLEN];
	struct bn_json j;

	for (a = 0; a < s->o.npoints; a++)
		next[a] = main_next(s, a);
	for (a = 0; a < s->o.npoints; a++) {
		uint32_t seg = a * TR_MAX_POINTS + next[a];

		for (b = 0, to_me = 0; b < s->o.npoints; b++)
			to_me |= next[b] == a;
		if (next[a] < 0 || to_me ||
		    rep(s)->seg_now[seg][0] - s->prev_seg[seg].packets <= best)
			continue;
		best = rep(s)->seg_now[seg][0] - s->prev_seg[seg].packets;
		start = a;
	}
	for (a = start; a >= 0 && next[a] >= 0 && n < s->o.npoints; a = next[a]) {
		uint32_t seg = a * TR_MAX_POINTS + next[a];

		for (i = 0; i < n; i++)
			if (chain[i] == next[a])
				break;
		if (i < n)
			break;		/* a loop: the chain ends here */
		pk[n] = rep(s)->seg_now[seg][0] - s->prev_seg[seg].packets;
		mean[n] = pk[n] ? (rep(s)->seg_now[seg][1] - s->prev_seg[seg].sum_ns) /
				  (double)pk[n] : 0;
		e2e += mean[n];
		chain[n++] = a;
	}
	if (!n || !best)
		return;
	if (s->cli.json) {
		tr_rec_begin(s, &j, "path", rt);
		bn_json_double(&j, "e2e_us", e2e / 1e3, 3);
		bn_json_arr_begin(&j, "segments");
	} else {
		fprintf(tr_out(s), "%-12s path e2e %.1f us:", bn_time_str(rt, t, sizeof(t)),
			e2e / 1e3);
	}
	for (i = 0; i < n; i++) {
		const char *from = tr_point_name(&s->o, chain[i]);
		const char *to = tr_point_name(&s->o, next[chain[i]]);
		double share = e2e > 0 ? 100 * mean[i] / e2e : 0;

		if (!s->cli.json) {
			fprintf(tr_out(s), " %s->%s %.1f us (%.1f%%)", from, to, mean[i] / 1e3,
				share);
			continue;
		}
		bn_json_obj_begin(&j, NULL);
		bn_json_str(&j, "from", from);
		bn_json_str(&j, "to", to);
		bn_json_u64(&j, "packets", pk[i]);
		bn_json_double(&j, "mean_us", mean[i] / 1e3, 3);
		bn_json_double(&j, "share_pct", share, 2);
		bn_json_obj_end(&j);
	}
	if (s->cli.json) {
		bn_json_arr_end(&j);
		bn_json_end(&j);
	} else {
		fprintf(tr_out(s), "\n");
	}
}

/* `lost`: ring buffer reservations that failed this interval, per point and CPU. */
static void lost_rec(struct tr_state *s, uint64_t rt)
{
	int fd = bpf_map__fd(s->skel->maps.pstats), c;
	uint64_t total = 0, *prev, unwritten, recs;
	struct tr_point_stats *v;
	char t[BN_TIMESTRLEN];
	struct bn_json j;
	uint32_t pt;

	v = calloc(s->nr_cpus, sizeof(*v));
	if (!v)
		return;
	if (s->cli.json) {
		tr_rec_begin(s, &j, "lost", rt);
		bn_json_arr_begin(&j, "detail");
	}
	for (pt = 0; pt <= TR_MAX_POINTS; pt++) {
		if (bpf_map_lookup_elem(fd, &pt, v))
			continue;
		for (c = 0; c < s->nr_cpus; c++) {
			prev = &s->prev_lost_cpu[pt * s->nr_cpus + c];
			if (v[c].rb_lost == *prev)
				continue;
			total += v[c].rb_lost - *prev;
			if (s->cli.json) {
				bn_json_obj_begin(&j, NULL);
				bn_json_str(&j, "point", tr_point_name(&s->o, pt));
				bn_json_u64(&j, "cpu", c);
				bn_json_u64(&j, "events", v[c].rb_lost - *prev);
				bn_json_obj_end(&j);
			}
			*prev = v[c].rb_lost;
		}
	}
	free(v);
	unwritten = tr_events_unwritten(s);
	recs = tr_records_unwritten(s);
	total += unwritten;
	s->lost_events += total;
	if (s->cli.json) {
		bn_json_arr_end(&j);
		bn_json_u64(&j, "unwritten", unwritten);
		bn_json_u64(&j, "events", total);
		bn_json_u64(&j, "unwritten_records", recs);
		bn_json_end(&j);
	} else {
		fprintf(tr_out(s), "%-12s lost events %llu", bn_time_str(rt, t, sizeof(t)),
			(unsigned long long)total);
		if (recs)
			fprintf(tr_out(s), ", interval records unwritten %llu",
				(unsigned long long)recs);
		fputc('\n', tr_out(s));
	}
}

/* --stamp's counters: what was stamped, and why the rest was not. */
static void stamp_summary(struct tr_state *s, struct bn_json *j)
{
	struct tr_stamp_stats ss;
	const char *names[] = { "stamped", "gso", "mtu", "fragment", "not_udp", "other",
				"tunnel" };
	const __u64 *v = &ss.stamped;
	size_t i;

	if (!s->stamp_on || tr_stamp_read(s->stamp, &ss))
		return;
	if (!j) {
		fprintf(tr_out(s), "stamp:");
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			fprintf(tr_out(s), " %s %llu", names[i], (unsigned long long)v[i]);
		fprintf(tr_out(s), "\n");
		return;
	}
	bn_json_obj_begin(j, "stamp");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		bn_json_u64(j, names[i], v[i]);
	bn_json_obj_end(j);
}

static void summary_rec(struct tr_state *s, uint64_t rt)
{
	struct bn_json j;
	int pt;

	if (!s->cli.json) {
		fprintf(tr_out(s), "summary: %.1f s, %llu events, %llu drops, %llu events lost, "
			"%llu interval records unwritten\n", (bn_now_ns() - s->start_ns) / 1e9,
			(unsigned long long)s->events, (unsigned long long)s->drops,
			(unsigned long long)s->lost_events,
			(unsigned long long)s->unwritten_recs);
		stamp_summary(s, NULL);
		return;
	}
	tr_rec_begin(s, &j, "summary", rt);
	bn_json_double(&j, "duration_s", (bn_now_ns() - s->start_ns) / 1e9, 3);
	bn_json_u64(&j, "events", s->events);
	bn_json_u64(&j, "drops", s->drops);
	bn_json_u64(&j, "lost", s->lost_events);
	bn_json_u64(&j, "unwritten_records", s->unwritten_recs);
	stamp_summary(s, &j);
	bn_json_arr_begin(&j, "points");
	for (pt = 0; pt < s->o.npoints; pt++) {
		bn_json_obj_begin(&j, NULL);
		bn_json_str(&j, "point", tr_point_name(&s->o, pt));
		bn_json_u64(&j, "packets", rep(s)->pt_now[pt][0]);
		bn_json_u64(&j, "bytes", rep(s)->pt_now[pt][1]);
		bn_json_obj_end(&j);
	}
	bn_json_arr_end(&j);
	bn_json_end(&j);
}

/* `config`: what runs from now on; gen 1 at start, +1 per accepted reload. */
static void config_rec(struct tr_state *s, int gen)
{
	char t[BN_TIMESTRLEN];
	const char *via;
	struct bn_json j;
	uint32_t id;
	int i;

	if (!s->cli.json) {
		fprintf(tr_out(s), "%-12s config gen %d: %d points, %d rules, filter '%s', "
			"sample 1/%u", bn_time_str(tr_realtime_ns(s), t, sizeof(t)), gen,
			s->o.npoints, s->o.nrules, s->o.filter, s->o.sample_n ? s->o.sample_n : 1);
		for (i = 0; i < s->o.npoints; i++)
			if (s->o.points[i].via)
				fprintf(tr_out(s), ", %s by %s", s->o.points[i].name,
					tr_hook_name(s->o.points[i].via));
		if (s->stamp_on) {
			tr_stamp_info(s->stamp, &via, &id);
			fprintf(tr_out(s), ", stamp at %s by %s", s->stamp_pt.dev, via);
		}
		fprintf(tr_out(s), "\n");
		return;
	}
	tr_rec_begin(s, &j, "config", tr_realtime_ns(s));
	bn_json_u64(&j, "gen", gen);
	bn_json_arr_begin(&j, "points");
	for (i = 0; i < s->o.npoints; i++) {
		bn_json_obj_begin(&j, NULL);
		bn_json_str(&j, "point", s->o.points[i].name);
		bn_json_str(&j, "hook", s->o.points[i].hook);
		bn_json_str(&j, "via", s->o.points[i].via ? tr_hook_name(s->o.points[i].via) :
				       "tp_btf");
		bn_json_str(&j, "dev", s->o.points[i].dev);
		bn_json_u64(&j, "netns", s->o.points[i].p.netns);
		bn_json_obj_end(&j);
	}
	bn_json_arr_end(&j);
	bn_json_str(&j, "filter", s->o.filter);
	bn_json_u64(&j, "sample", s->o.sample_n ? s->o.sample_n : 1);
	bn_json_u64(&j, "rules", s->o.nrules);
	if (s->stamp_on) {
		/* where it started: a reload keeps it there */
		tr_stamp_info(s->stamp, &via, &id);
		bn_json_obj_begin(&j, "stamp");
		bn_json_str(&j, "point", s->stamp_pt.name);
		bn_json_str(&j, "dev", s->stamp_pt.dev);
		bn_json_str(&j, "via", via);
		bn_json_u64(&j, "prog_id", id);
		bn_json_obj_end(&j);
	}
	bn_json_end(&j);
}

void tr_report_config(struct tr_state *s, int gen)
{
	tr_out_begin(s);
	config_rec(s, gen);
	tr_out_end(s);
}

uint64_t tr_realtime_ns(const struct tr_state *s)
{
	return bn_realtime_ns() + s->skew_ns;
}

void tr_clock_sync(struct tr_state *s)
{
	uint64_t m1, m2, rt, best = UINT64_MAX;
	int i;

	/* a preemption between two readings would shift every event: keep the tightest */
	for (i = 0; i < 3; i++) {
		m1 = bn_now_ns();
		rt = tr_realtime_ns(s);
		m2 = bn_now_ns();
		if (m2 - m1 < best) {
			best = m2 - m1;
			s->rt_off = (int64_t)(rt - (m1 + (m2 - m1) / 2));
		}
	}
}

void tr_rec_begin(struct tr_state *s, struct bn_json *j, const char *type, uint64_t rt)
{
	bn_rec_begin(j, tr_out(s), type, rt);
	bn_json_str(j, "host", s->host);
}

/* `clock`: the monotonic (the events' clock) to realtime pairing events use. */
static void clock_rec(struct tr_state *s, uint64_t rt)
{
	struct bn_json j;
	uint64_t mono = bn_now_ns();

	if (!s->cli.json)
		return;
	tr_rec_begin(s, &j, "clock", rt);
	bn_json_u64(&j, "monotonic_ns", mono);
	bn_json_u64(&j, "realtime_ns", mono + s->rt_off);
	bn_json_end(&j);
}

void tr_report_tick(struct tr_state *s, bool final)
{
	struct report *r = rep(s);
	uint64_t now = bn_now_ns(), rt = tr_realtime_ns(s);
	double secs = (now - s->last_ns) / 1e9;
	int pt, a, b, next, fd = bpf_map__fd(s->skel->maps.pstats);
	uint32_t k;

	if (secs <= 0)
		secs = 1e-9;
	tr_out_begin(s);
	for (k = 0; k <= TR_MAX_POINTS; k++)
		if (bn_percpu_sum(fd, &k, r->pt_now[k], NPS))
			memset(r->pt_now[k], 0, sizeof(r->pt_now[k]));
	expire(s);
	read_drops(s);
	read_segs(s);
	if (!s->cli.json)
		fprintf(tr_out(s), "%-12s %-16s %10s %12s %10s %14s\n", "TIME", "POINT",
			"PACKETS", "BYTES", "PPS", "BIT/S");
	for (pt = 0; pt < s->o.npoints; pt++)
		point_rec(s, pt, secs, rt);
	if (!s->cli.json)
		fprintf(tr_out(s), "%-12s %-16s %-16s %8s %8s %6s %6s %9s %9s %9s %9s %9s %s\n",
			"TIME", "FROM", "TO", "IN", "OUT", "DROPS", "LOST", "P50_US", "P90_US",
			"P99_US", "MAX_US", "JITTER_US", "COMPLETE");
	tr_flows_tick(s, secs, rt);
	path_rec(s, rt);
	for (a = 0; a < s->o.npoints; a++) {
		next = main_next(s, a);
		for (b = 0; b < s->o.npoints; b++)
			if (b != a)
				seg_rec(s, a, b, next, rt);
		if (next < 0)
			seg_rec(s, a, -1, -1, rt);
	}
	lost_rec(s, rt);
	clock_rec(s, rt);
	for (pt = 0; pt < r->nd; pt++)
		r->d[pt].prev = r->d[pt].now;
	for (k = 0; k <= TR_MAX_POINTS; k++)
		memcpy(&s->prev_pt[k], r->pt_now[k], sizeof(s->prev_pt[k]));
	s->last_ns = now;
	tr_out_end(s);
	if (final) {	/* after the last interval's records are counted */
		tr_out_begin(s);
		summary_rec(s, rt);
		tr_out_end(s);
	}
}

/* ---- Prometheus (--metrics): the same cumulative counters ---- */

#define PROM_LE_MIN	10	/* buckets: le = 2^10 ns (1 us) .. 2^30 ns (1.07 s) */
#define PROM_LE_MAX	30

static void prom_seg_labels(FILE *f, struct tr_state *s, int a, int b)
{
	fputs("{from=\"", f);
	bn_prom_label(f, tr_point_name(&s->o, a));
	fputs("\",to=\"", f);
	bn_prom_label(f, tr_point_name(&s->o, b));
	fputc('"', f);
}

/* A segment's histogram with le at powers of two: log-linear buckets end on them. */
static void prom_hist(FILE *f, struct tr_state *s, int a, int b)
{
	uint32_t seg = a * TR_MAX_POINTS + b, *cum = s->prev_seg[seg].buckets;
	uint64_t c = 0, *now = rep(s)->seg_now[seg];
	int k, bk = 0;

	for (k = PROM_LE_MIN; k <= PROM_LE_MAX; k++) {
		/* the buckets below 2^k: values < 16, then 16 per power of two */
		int end = TR_SUB + (k - TR_SUB_BITS) * TR_SUB;

		for (; bk < end && bk < TR_NBUCKETS; bk++)
			c += cum[bk];
		fputs("tracer_segment_latency_seconds_bucket", f);
		prom_seg_labels(f, s, a, b);
		fprintf(f, ",le=\"%.9f\"} %llu\n", (double)(1ULL << k) / 1e9,
			(unsigned long long)c);
	}
	fputs("tracer_segment_latency_seconds_bucket", f);
	prom_seg_labels(f, s, a, b);
	fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)now[0]);
	fputs("tracer_segment_latency_seconds_sum", f);
	prom_seg_labels(f, s, a, b);
	fprintf(f, "} %.9f\n", now[1] / 1e9);
	fputs("tracer_segment_latency_seconds_count", f);
	prom_seg_labels(f, s, a, b);
	fprintf(f, "} %llu\n", (unsigned long long)now[0]);
}

void tr_report_prom(struct tr_state *s, FILE *f)
{
	struct report *r = rep(s);
	int pt, a, b, i;

	bn_prom_head(f, "tracer_point_packets_total", "counter", "Packets seen at a point");
	for (pt = 0; pt < s->o.npoints; pt++) {
		fputs("tracer_point_packets_total{point=\"", f);
		bn_prom_label(f, tr_point_name(&s->o, pt));
		fprintf(f, "\"} %llu\n", (unsigned long long)r->pt_now[pt][0]);
	}
	bn_prom_head(f, "tracer_point_bytes_total", "counter", "Bytes seen at a point");
	for (pt = 0; pt < s->o.npoints; pt++) {
		fputs("tracer_point_bytes_total{point=\"", f);
		bn_prom_label(f, tr_point_name(&s->o, pt));
		fprintf(f, "\"} %llu\n", (unsigned long long)r->pt_now[pt][1]);
	}
	bn_prom_head(f, "tracer_segment_latency_seconds", "histogram",
		     "Time packets took from one point to the next");
	for (a = 0; a < s->o.npoints; a++)
		for (b = 0; b < s->o.npoints; b++)
			if (a != b && r->seg_now[a * TR_MAX_POINTS + b][0])
				prom_hist(f, s, a, b);
	bn_prom_head(f, "tracer_drops_total", "counter",
		     "Drops of followed packets by the last point passed and the reason");
	for (i = 0; i < r->nd; i++) {
		fputs("tracer_drops_total{after=\"", f);
		bn_prom_label(f, tr_point_name(&s->o, r->d[i].k.point));
		fputs("\",reason=\"", f);
		bn_prom_label(f, tr_reason_name(s, r->d[i].k.reason));
		fprintf(f, "\"} %llu\n", (unsigned long long)r->d[i].now);
	}
	bn_prom_head(f, "tracer_lost_events_total", "counter",
		     "Events not recorded: ring buffer full");
	fprintf(f, "tracer_lost_events_total %llu\n", (unsigned long long)s->lost_events);
}
