// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - elephant events, summaries, the metrics body and the losses.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>

#include "common.h"
#include "output.h"

#define NSEC		1000000000ULL

static const char *proto_str(int p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

/* Sum of per-CPU counter @idx over the possible CPUs (0 if unreadable). */
static uint64_t stat_sum(const struct el_out *o, enum el_stat idx)
{
	__u32 key = idx;
	uint64_t sum;

	return bn_percpu_sum(o->stats_fd, &key, &sum, 1) ? 0 : sum;
}

/* Events not reported (yet): ring buffer full (adds are retried), out of memory. */
static uint64_t event_drops(const struct el_out *o, const struct el_counts *c)
{
	return stat_sum(o, EL_ST_RB_DROP) + stat_sum(o, EL_ST_DEL_RB_DROP) + c->event_drops;
}

static void reason_str(const struct el_out *o, uint32_t type, uint32_t reason, char *buf,
		       size_t len)
{
	char dur[32];
	int n;

	if (type != EL_EV_ADD) {
		snprintf(buf, len, "deleted");
		return;
	}
	if (o->th.min_duration_ns % NSEC)
		snprintf(dur, sizeof(dur), "%.3fs", o->th.min_duration_ns / 1e9);
	else
		snprintf(dur, sizeof(dur), "%" PRIu64 "s",
			 (uint64_t)(o->th.min_duration_ns / NSEC));
	n = snprintf(buf, len, "bytes>=%" PRIu64 ",duration>=%s", (uint64_t)o->th.min_bytes,
		     dur);
	if (reason & EL_R_RATE)
		n += snprintf(buf + n, len - n, ",rate>=%" PRIu64,
			      (uint64_t)o->th.min_rate_bps);
	if (reason & EL_R_ON_DELETE)
		snprintf(buf + n, len - n, ",at_delete");
}

/* What an event line says about its flow. */
struct ev_line {
	const char *type;
	char src[BN_ADDRSTRLEN], dst[BN_ADDRSTRLEN], ts[BN_TIMESTRLEN], reason[128];
	uint64_t real_ns, bytes, pkts, dur_ns, rate;
};

static void event_json(const struct el_out *o, const struct el_event *e,
		       const struct ev_line *l, const struct el_where *w)
{
	const struct el_flow *f = &e->flow;
	struct bn_json j;

	bn_rec_begin(&j, stdout, l->type, l->real_ns);
	bn_json_str(&j, "proto", proto_str(e->key.t.proto));
	bn_json_str(&j, "src", l->src);
	bn_json_u64(&j, "sport", e->key.t.sport);
	bn_json_str(&j, "dst", l->dst);
	bn_json_u64(&j, "dport", e->key.t.dport);
	bn_json_str(&j, "iface", w->iface);
	bn_json_u64(&j, "zone", e->key.zone);
	bn_json_u64(&j, "netns", w->netns);
	bn_json_str(&j, "netns_name", w->netns_name);
	bn_json_str(&j, "workload", w->workload);
	bn_json_u64(&j, "bytes", l->bytes);
	bn_json_u64(&j, "packets", l->pkts);
	bn_json_u64(&j, "bytes_orig", f->bytes[0]);
	bn_json_u64(&j, "bytes_reply", f->bytes[1]);
	bn_json_u64(&j, "packets_orig", f->packets[0]);
	bn_json_u64(&j, "packets_reply", f->packets[1]);
	bn_json_double(&j, "duration_s", l->dur_ns / 1e9, 3);
	bn_json_u64(&j, "rate_bps", l->rate);
	bn_json_str(&j, "reason", l->reason);
	bn_json_u64(&j, "min_bytes", o->th.min_bytes);
	bn_json_double(&j, "min_duration_s", o->th.min_duration_ns / 1e9, 3);
	bn_json_u64(&j, "min_rate_bps", o->th.min_rate_bps);
	bn_json_str(&j, "backend", o->backend);
	bn_json_end(&j);
}

static void event_text(struct el_out *o, const struct el_event *e, const struct ev_line *l,
		       const struct el_where *w)
{
	const struct el_flow *f = &e->flow;

	if (!o->header_done) {
		printf("%-12s %-12s %-5s %-22s %-5s %-22s %-5s %-12s %-5s %-16s %-16s %12s %9s "
		       "%12s %12s %8s %12s %s\n", "TIME", "EVENT", "PROTO", "SRC", "SPORT", "DST",
		       "DPORT", "IFACE", "ZONE", "NETNS", "WORKLOAD", "BYTES", "PACKETS",
		       "BYTES_ORIG", "BYTES_REPLY", "DUR_S", "RATE_BPS", "REASON");
		o->header_done = true;
	}
	printf("%-12s %-12s %-5s %-22s %-5u %-22s %-5u %-12s %-5u %-16s %-16s %12" PRIu64
	       " %9" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8.1f %12" PRIu64 " %s\n", l->ts,
	       l->type, proto_str(e->key.t.proto), l->src, e->key.t.sport, l->dst,
	       e->key.t.dport, w->iface, e->key.zone, w->netns_name[0] ? w->netns_name : "-",
	       w->workload, l->bytes, l->pkts, (uint64_t)f->bytes[0], (uint64_t)f->bytes[1],
	       l->dur_ns / 1e9, l->rate, l->reason);
}

void out_event(struct el_out *o, const struct el_event *e, uint64_t real_ns,
	       const struct el_where *w)
{
	const struct el_flow *f = &e->flow;
	struct ev_line l;

	l.type = e->type == EL_EV_ADD ? "elephant_add" : "elephant_del";
	l.bytes = f->bytes[0] + f->bytes[1];
	l.pkts = f->packets[0] + f->packets[1];
	l.dur_ns = e->ts_ns > f->first_ns ? e->ts_ns - f->first_ns : 0;
	l.rate = l.dur_ns ? (uint64_t)(l.bytes * 8.0 * NSEC / l.dur_ns) : 0;
	bn_addr_str(e->key.t.family, e->key.t.saddr, l.src, sizeof(l.src));
	bn_addr_str(e->key.t.family, e->key.t.daddr, l.dst, sizeof(l.dst));
	reason_str(o, e->type, e->reason, l.reason, sizeof(l.reason));
	l.real_ns = real_ns;
	bn_time_str(real_ns, l.ts, sizeof(l.ts));
	if (o->json)
		event_json(o, e, &l, w);
	else
		event_text(o, e, &l, w);
}

static void summary_workload(const struct el_out *o, const struct el_workload *w,
			     uint64_t real_ns, const char *ts, bool heavy)
{
	struct bn_json j;

	if (!o->json) {
		printf("%-12s %-8s %-16s %9u %9u %14" PRIu64 " %s\n", ts, "workload",
		       w->name, w->elephants, w->mice, w->bytes, heavy ? "heavy" : "light");
		return;
	}
	bn_rec_begin(&j, stdout, "workload", real_ns);
	bn_json_str(&j, "workload", w->name);
	bn_json_str(&j, "node", o->node);
	bn_json_u64(&j, "netns", w->netns_ino);
	bn_json_str(&j, "netns_name", w->netns_name);
	bn_json_u64(&j, "elephants", w->elephants);
	bn_json_u64(&j, "mice", w->mice);
	bn_json_u64(&j, "bytes", w->bytes);
	bn_json_u64(&j, "bytes_total", w->bytes_total);
	bn_json_u64(&j, "elephants_total", w->elephants_total);
	bn_json_u64(&j, "last_elephant", w->last_elephant_s);
	bn_json_str(&j, "footprint", heavy ? "heavy" : "light");
	bn_json_end(&j);
}

/* The node's totals over its workloads. */
struct node_sum {
	unsigned int elephants, mice, heavy;
	uint64_t bytes;
};

static void summary_node(const struct el_out *o, const struct el_fp *fp,
			 const struct el_counts *c, uint64_t real_ns, const char *ts,
			 const struct node_sum *n)
{
	const char *footprint = n->elephants || n->heavy ? "heavy" : "light";
	struct bn_json j;

	if (!o->json) {
		printf("%-12s %-8s %-16s %9u %9u %14" PRIu64 " %s\n", ts, "node", o->node,
		       n->elephants, n->mice, n->bytes, footprint);
		return;
	}
	bn_rec_begin(&j, stdout, "node", real_ns);
	bn_json_str(&j, "node", o->node);
	bn_json_u64(&j, "elephants", n->elephants);
	bn_json_u64(&j, "mice", n->mice);
	bn_json_u64(&j, "bytes", n->bytes);
	bn_json_u64(&j, "workloads", fp->n);
	bn_json_u64(&j, "workloads_heavy", n->heavy);
	bn_json_str(&j, "footprint", footprint);
	bn_json_u64(&j, "table_full", stat_sum(o, EL_ST_TABLE_FULL));
	bn_json_u64(&j, "event_drops", event_drops(o, c));
	bn_json_u64(&j, "no_acct", stat_sum(o, EL_ST_NO_ACCT));
	bn_json_u64(&j, "ct_events_lost", c->ct_events_lost_total);
	bn_json_u64(&j, "swept", c->swept);
	bn_json_u64(&j, "flows_added", stat_sum(o, EL_ST_ADDED));
	bn_json_u64(&j, "flows_deleted", stat_sum(o, EL_ST_DELETED) + c->deleted_user);
	bn_json_str(&j, "backend", o->backend);
	bn_json_end(&j);
}

void out_summary(struct el_out *o, const struct el_fp *fp, const struct el_counts *c)
{
	uint64_t now_real = bn_realtime_ns(), now_s = now_real / NSEC;
	struct node_sum n = {};
	char ts[BN_TIMESTRLEN];
	int i;

	bn_time_str(now_real, ts, sizeof(ts));
	if (!o->json)
		printf("%-12s %-8s %-16s %9s %9s %14s %s\n", "TIME", "SUMMARY", "NAME",
		       "ELEPHANTS", "MICE", "BYTES", "FOOTPRINT");
	for (i = 0; i < fp->n; i++) {
		const struct el_workload *w = &fp->w[i];
		bool h = fp_heavy(w, now_s, o->window_ns / NSEC);

		n.elephants += w->elephants;
		n.mice += w->mice;
		n.bytes += w->bytes;
		n.heavy += h;
		summary_workload(o, w, now_real, ts, h);
	}
	summary_node(o, fp, c, now_real, ts, &n);
	o->header_done = false;
}

enum wl_metric { WM_ELEPHANTS, WM_MICE, WM_BYTES, WM_ELEPHANTS_TOTAL, WM_HEAVY };

/* One metric, a sample per workload. */
static void metric_workloads(const struct el_out *o, const struct el_fp *fp, FILE *f,
			     enum wl_metric m, uint64_t now_s)
{
	static const char *const names[][3] = {
		{ "elephant_workload_elephants", "gauge",
		  "Active elephant flows of the workload." },
		{ "elephant_workload_mice", "gauge",
		  "Active non-elephant flows of the workload." },
		{ "elephant_workload_bytes_total", "counter",
		  "Bytes carried by the workload's flows." },
		{ "elephant_workload_elephants_total", "counter",
		  "Elephants the workload sourced or sank." },
		{ "elephant_workload_heavy", "gauge",
		  "1 if the workload's footprint is heavy." },
	};
	int i;

	bn_prom_head(f, names[m][0], names[m][1], names[m][2]);
	for (i = 0; i < fp->n; i++) {
		const struct el_workload *w = &fp->w[i];
		uint64_t v = m == WM_ELEPHANTS ? w->elephants : m == WM_MICE ? w->mice :
			     m == WM_BYTES ? w->bytes_total :
			     m == WM_ELEPHANTS_TOTAL ? w->elephants_total :
			     fp_heavy(w, now_s, o->window_ns / NSEC);

		fprintf(f, "%s{node=\"", names[m][0]);
		bn_prom_label(f, o->node);
		fputs("\",workload=\"", f);
		bn_prom_label(f, w->name);
		fprintf(f, "\"} %" PRIu64 "\n", v);
	}
}

static void metric_node(const struct el_out *o, FILE *f, const char *name, const char *type,
			const char *help, uint64_t v)
{
	bn_prom_head(f, name, type, help);
	fprintf(f, "%s{node=\"", name);
	bn_prom_label(f, o->node);
	fprintf(f, "\"} %" PRIu64 "\n", v);
}

void out_metrics(const struct el_out *o, const struct el_fp *fp, const struct el_counts *c,
		 FILE *f)
{
	uint64_t now_s = bn_realtime_ns() / NSEC;
	struct node_sum n = {};
	int i;

	for (i = WM_ELEPHANTS; i <= WM_HEAVY; i++)
		metric_workloads(o, fp, f, i, now_s);
	/* only workloads that had one: absent means never */
	bn_prom_head(f, "elephant_workload_last_elephant_seconds", "gauge",
		     "Unix time of the workload's last elephant (kept by --state).");
	for (i = 0; i < fp->n; i++) {
		if (!fp->w[i].last_elephant_s)
			continue;
		fputs("elephant_workload_last_elephant_seconds{node=\"", f);
		bn_prom_label(f, o->node);
		fputs("\",workload=\"", f);
		bn_prom_label(f, fp->w[i].name);
		fprintf(f, "\"} %" PRIu64 "\n", fp->w[i].last_elephant_s);
	}
	for (i = 0; i < fp->n; i++) {
		n.elephants += fp->w[i].elephants;
		n.mice += fp->w[i].mice;
		n.heavy += fp_heavy(&fp->w[i], now_s, o->window_ns / NSEC);
	}
	metric_node(o, f, "elephant_node_elephants", "gauge",
		    "Active elephant flows on the node.", n.elephants);
	metric_node(o, f, "elephant_node_mice", "gauge",
		    "Active non-elephant flows on the node.", n.mice);
	metric_node(o, f, "elephant_node_heavy_workloads", "gauge",
		    "Workloads with a heavy footprint.", n.heavy);
	metric_node(o, f, "elephant_node_elephant_events_total", "counter",
		    "elephant_add events.", c->events_add);
	metric_node(o, f, "elephant_node_untracked_flows_total", "counter",
		    "Flows not tracked: table full.", stat_sum(o, EL_ST_TABLE_FULL));
	metric_node(o, f, "elephant_node_no_acct_flows_total", "counter",
		    "Flows without conntrack accounting: bytes not seen.",
		    stat_sum(o, EL_ST_NO_ACCT));
	metric_node(o, f, "elephant_node_ct_events_lost_total", "counter",
		    "Times conntrack events were lost (socket buffer full).",
		    c->ct_events_lost_total);
}

/* @now minus what @seen held (and @seen updated): what is new since the last call. */
static uint64_t news(uint64_t *seen, uint64_t now)
{
	uint64_t d = now > *seen ? now - *seen : 0;

	*seen = now;
	return d;
}

void out_losses(struct el_out *o, const struct el_counts *c)
{
	uint64_t n;

	n = news(&o->seen_full, stat_sum(o, EL_ST_TABLE_FULL));
	if (n)
		bn_warn("%" PRIu64 " flows not tracked in the last interval: flow table full "
			"(--max-flows)", n);
	n = news(&o->seen_drops, event_drops(o, c));
	if (n)
		bn_warn("%" PRIu64 " events dropped in the last interval: ring buffer full or out "
			"of memory", n);
	n = news(&o->seen_no_acct, stat_sum(o, EL_ST_NO_ACCT));
	if (n)
		bn_warn("%" PRIu64 " flows without conntrack accounting in the last interval "
			"(created before nf_conntrack_acct was on): their bytes are not seen", n);
	n = news(&o->seen_lost, c->ct_events_lost_total);
	if (n)
		bn_warn("conntrack events lost %" PRIu64 " time(s) in the last interval (socket "
			"buffer full): every entry is checked again", n);
}

void out_drops(const struct el_out *o, const struct el_counts *c)
{
	uint64_t full = stat_sum(o, EL_ST_TABLE_FULL), pend = stat_sum(o, EL_ST_PENDING_FULL);
	uint64_t rb = stat_sum(o, EL_ST_RB_DROP), del = stat_sum(o, EL_ST_DEL_RB_DROP);

	if (full)
		bn_warn("%" PRIu64 " flows not tracked: flow table full (--max-flows)", full);
	if (pend)
		bn_warn("%" PRIu64 " entry interfaces lost: pending table full", pend);
	if (rb)
		bn_warn("%" PRIu64 " ring buffer reservations failed (retried)", rb);
	if (del)
		bn_warn("%" PRIu64 " delete events lost: ring buffer full", del);
	if (c->event_drops)
		bn_warn("%" PRIu64 " events not reported: out of memory", c->event_drops);
	if (stat_sum(o, EL_ST_NO_ACCT))
		bn_warn("%" PRIu64 " flows without conntrack accounting: their bytes were not seen",
			stat_sum(o, EL_ST_NO_ACCT));
	if (c->ct_events_lost_total)
		bn_warn("conntrack events lost %" PRIu64 " time(s) (socket buffer full)",
			c->ct_events_lost_total);
	if (c->swept)
		bn_info("%" PRIu64 " entries removed by the sweep (delete not seen)", c->swept);
}
