// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c - rss's output: snapshots of the counters the BPF side keeps per
 * CPU, one record per interval (text or JSON Lines) from two snapshots, and
 * the run's totals on stderr at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "rss.h"
#include "rss_hist.h"
#include "rss.skel.h"
#include "server.h"

/* Size of one CPU's value in a per-CPU map of @size-byte values. */
static size_t percpu_size(size_t size)
{
	return (size + 7) & ~7UL;
}

int stats_init(struct rss_stats *rs, const struct rss_server *srv)
{
	memset(rs, 0, sizeof(*rs));
	rs->nr_cpus = srv->nr_cpus;
	rs->json = srv->env->cli.json;
	rs->no_reply = srv->env->no_reply;
	rs->kt.set_nice = srv->env->set_nice;
	rs->kt.nice = srv->env->worker_nice;
	rs->percpu_buf = calloc(srv->nr_cpus, percpu_size(sizeof(struct rss_worker_stats)));
	return rs->percpu_buf ? 0 : -ENOMEM;
}

void stats_free(struct rss_stats *rs)
{
	free(rs->percpu_buf);
	rs->percpu_buf = NULL;
}

/* Find the workers and pick the CPUs the records show, once attached. */
void stats_columns(struct rss_stats *rs, const struct rss_server *srv)
{
	int c;

	kthreads_scan(&rs->kt, srv->skel->bss->cpumap_id);
	for (c = 0; c < rs->nr_cpus; c++)
		if (bn_cpuset_has(&srv->online, c) &&
		    (rs->nr_cpus <= 64 || bn_cpuset_has(&srv->installed, c)))
			bn_cpuset_add(&rs->cols, c);
}

int read_snap(struct rss_stats *rs, struct rss_bpf *skel, struct snap *sn)
{
	size_t vs;
	__u32 zero = 0;
	int c, i, err;

	memset(sn, 0, sizeof(*sn));
	sn->t_ns = bn_now_ns();
	sn->real_ns = bn_realtime_ns();
	vs = percpu_size(sizeof(struct rss_worker_stats));
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.worker_stats), &zero, rs->percpu_buf))
		return -errno;
	for (c = 0; c < rs->nr_cpus; c++) {
		struct rss_worker_stats *w = rs->percpu_buf + c * vs;

		sn->done[c][0] = w->done[0];
		sn->done[c][1] = w->done[1];
		sn->replied[c] = w->replied;
		sn->bad += w->bad;
		sn->qsum[c] = w->qdelay_sum_ns;
		sn->ssum[c] = w->service_sum_ns;
		for (i = 0; i < RSS_HIST_BUCKETS; i++)
			sn->qhist[i] += w->qhist[i];
	}
	err = bn_percpu_sum(bpf_map__fd(skel->maps.sched_stats), &zero, (uint64_t *)&sn->s,
			    sizeof(sn->s) / sizeof(__u64));
	if (!err)
		err = bn_percpu_sum(bpf_map__fd(skel->maps.tp_stats), &zero, (uint64_t *)&sn->tp,
				    sizeof(sn->tp) / sizeof(__u64));
	return err;
}

void print_header(const struct rss_stats *rs)
{
	if (rs->json)
		return;
	printf("%-12s %9s %9s %8s %8s %8s %8s %8s %8s %9s %8s %9s %9s %10s %-12s %6s %8s %s\n",
	       "time", "rx_rps", "tx_rps", "drop_q", "drop_rdr", "drop_kth", "drop_tx",
	       "drop_rpl", "drop_cpu", "malformed", "passed", "q_avg_us", "q_p99_us", "svc_avg_us",
	       "group", "cpus", "inflight", "workers");
}

/* One interval's figures, from two snapshots @a and @b. */
struct interval {
	const struct snap *a, *b;
	double dt;			/* seconds, > 0 */
	__u64 tx;
	__u64 malformed;
	__u64 drop_rdr;
	__u64 drop_reply;		/* replies the interface refused */
	double qavg, qp99, savg;	/* us; 0 without requests */
	double active;			/* CPUs in the group, on average */
	__s64 inflight;
	__u64 cpu_done[RSS_MAX_CPUS];
	double util[RSS_MAX_CPUS];
	char group[512];
};

/* Queuing delay and service time of the requests served in @iv. */
static void interval_delays(struct rss_stats *rs, struct interval *iv)
{
	const struct snap *a = iv->a, *b = iv->b;
	__u64 hist[RSS_HIST_BUCKETS], n = 0, qsum = 0, ssum = 0;
	int c, i;

	for (i = 0; i < RSS_HIST_BUCKETS; i++) {
		hist[i] = b->qhist[i] - a->qhist[i];
		n += hist[i];
	}
	for (c = 0; c < rs->nr_cpus; c++) {
		iv->cpu_done[c] = b->done[c][0] + b->done[c][1] - a->done[c][0] - a->done[c][1];
		qsum += b->qsum[c] - a->qsum[c];
		ssum += b->ssum[c] - a->ssum[c];
		iv->tx += rs->no_reply ? iv->cpu_done[c] : b->replied[c] - a->replied[c];
	}
	iv->qavg = n ? qsum / 1e3 / n : 0;
	iv->savg = n ? ssum / 1e3 / n : 0;
	iv->qp99 = n ? rss_hist_buckets_percentile(hist, 99) / 1e3 : 0;
}

/*
 * Replies sent, of @replied handed to the devmap: in native mode those its
 * flush gave the driver (@xmit_sent, xdp_devmap_xmit), so that a reply
 * handed over before a snapshot and dropped at the flush after it is never
 * counted as sent; in skb mode (no flush, no such tracepoint) those handed
 * over less the @lost ones.
 */
static __u64 replies_sent(const struct rss_server *srv, __u64 replied, __u64 lost,
			  __u64 xmit_sent)
{
	if (!srv->skb_mode)
		return xmit_sent;
	return replied > lost ? replied - lost : 0;
}

static void interval_compute(struct rss_stats *rs, struct rss_server *srv,
			     struct interval *iv)
{
	const struct snap *a = iv->a, *b = iv->b;
	__u64 lost;
	int c;

	iv->dt = (b->t_ns - a->t_ns) / 1e9;
	for (c = 0; c < rs->nr_cpus; c++)
		iv->inflight += __atomic_load_n(&srv->skel->bss->handed[c * RSS_LINE],
						__ATOMIC_RELAXED) -
				(__s64)__atomic_load_n(&srv->skel->bss->taken[c * RSS_LINE],
						       __ATOMIC_RELAXED);
	interval_delays(rs, iv);
	iv->malformed = (b->s.short_pkt + b->s.bad_magic + b->s.bad_class + b->s.bad_hdr) -
			(a->s.short_pkt + a->s.bad_magic + a->s.bad_class + a->s.bad_hdr);
	iv->drop_rdr = (b->s.redirect_fail - a->s.redirect_fail) +
		       (b->tp.redirect_err - a->tp.redirect_err);
	/* a reply refused or dropped at transmit was never sent */
	iv->drop_reply = b->tp.reply_err - a->tp.reply_err;
	lost = iv->drop_reply + (b->tp.xmit_drops - a->tp.xmit_drops);
	if (!rs->no_reply)
		iv->tx = replies_sent(srv, iv->tx, lost,
				      b->tp.xmit_sent - a->tp.xmit_sent);
	account_active(srv, b->t_ns);
	iv->active = iv->dt > 0 ? srv->active_integral / iv->dt : active_now(srv);
	srv->active_integral = 0;
	kthreads_util(&rs->kt, iv->util, rs->nr_cpus, iv->dt);
	group_str(&srv->cur, iv->group, sizeof(iv->group));
	if (iv->dt <= 0)
		iv->dt = 1e-9;
}

/* Per worker CPU: requests served (per class and per second), kthread CPU time. */
static void json_workers(struct bn_json *j, const struct rss_stats *rs,
			 const struct interval *iv)
{
	const struct snap *a = iv->a, *b = iv->b;
	int c;

	bn_json_arr_begin(j, "workers");
	for (c = 0; c < rs->nr_cpus; c++) {
		if (!bn_cpuset_has(&rs->cols, c))
			continue;
		bn_json_obj_begin(j, NULL);
		bn_json_u64(j, "cpu", c);
		bn_json_double(j, "rps", iv->cpu_done[c] / iv->dt, 1);
		bn_json_u64(j, "short", b->done[c][RSS_SHORT] - a->done[c][RSS_SHORT]);
		bn_json_u64(j, "long", b->done[c][RSS_LONG] - a->done[c][RSS_LONG]);
		bn_json_double(j, "util_pct", iv->util[c], 1);
		bn_json_obj_end(j);
	}
	bn_json_arr_end(j);
}

static void print_json(struct rss_stats *rs, const struct rss_server *srv,
		       const struct interval *iv)
{
	const struct snap *a = iv->a, *b = iv->b;
	double dt = iv->dt;
	struct bn_json j;

	bn_rec_begin(&j, stdout, "interval", b->real_ns);
	bn_json_double(&j, "interval_s", dt, 3);
	bn_json_str(&j, "policy", policy_names[srv->cur.policy]);
	bn_json_double(&j, "rx_rps", (b->s.rx - a->s.rx) / dt, 1);
	bn_json_double(&j, "tx_rps", iv->tx / dt, 1);
	bn_json_u64(&j, "rx", b->s.rx - a->s.rx);
	bn_json_u64(&j, "tx", iv->tx);
	bn_json_u64(&j, "rx_short", b->s.rx_class[0] - a->s.rx_class[0]);
	bn_json_u64(&j, "rx_long", b->s.rx_class[1] - a->s.rx_class[1]);
	bn_json_u64(&j, "drop_queue", b->tp.enq_drops - a->tp.enq_drops);
	bn_json_u64(&j, "drop_redirect", iv->drop_rdr);
	bn_json_u64(&j, "drop_kthread", b->tp.kthread_drops - a->tp.kthread_drops);
	bn_json_u64(&j, "drop_xmit", b->tp.xmit_drops - a->tp.xmit_drops);
	bn_json_u64(&j, "drop_reply", iv->drop_reply);
	bn_json_u64(&j, "drop_no_cpu", b->s.no_cpu - a->s.no_cpu);
	bn_json_u64(&j, "drop_worker", b->bad - a->bad);
	bn_json_u64(&j, "malformed", iv->malformed);
	bn_json_u64(&j, "short_pkt", b->s.short_pkt - a->s.short_pkt);
	bn_json_u64(&j, "bad_magic", b->s.bad_magic - a->s.bad_magic);
	bn_json_u64(&j, "bad_class", b->s.bad_class - a->s.bad_class);
	bn_json_u64(&j, "bad_hdr", b->s.bad_hdr - a->s.bad_hdr);
	bn_json_u64(&j, "passed", b->s.passed - a->s.passed);
	bn_json_double(&j, "q_avg_us", iv->qavg, 2);
	bn_json_double(&j, "q_p99_us", iv->qp99, 2);
	bn_json_double(&j, "svc_avg_us", iv->savg, 2);
	bn_json_str(&j, "group", iv->group);
	bn_json_double(&j, "cpus", iv->active, 2);
	bn_json_s64(&j, "inflight", iv->inflight);
	json_workers(&j, rs, iv);
	bn_json_end(&j);
}

/* The workers column: "CPU:RPS/UTIL%" per worker CPU, comma separated. */
static void text_workers(const struct rss_stats *rs, const struct interval *iv)
{
	const char *sep = "";
	int c;

	for (c = 0; c < rs->nr_cpus; c++) {
		if (!bn_cpuset_has(&rs->cols, c))
			continue;
		printf("%s%d:%.0f/%.1f%%", sep, c, iv->cpu_done[c] / iv->dt, iv->util[c]);
		sep = ",";
	}
}

static void print_text(struct rss_stats *rs, const struct interval *iv)
{
	const struct snap *a = iv->a, *b = iv->b;
	char ts[BN_TIMESTRLEN];
	double dt = iv->dt;

	printf("%-12s %9.0f %9.0f %8llu %8llu %8llu %8llu %8llu %8llu %9llu %8llu %9.2f %9.2f "
	       "%10.2f "
	       "%-12s %6.2f %8lld ", bn_time_str(b->real_ns, ts, sizeof(ts)),
	       (b->s.rx - a->s.rx) / dt, iv->tx / dt,
	       (unsigned long long)(b->tp.enq_drops - a->tp.enq_drops),
	       (unsigned long long)iv->drop_rdr,
	       (unsigned long long)(b->tp.kthread_drops - a->tp.kthread_drops),
	       (unsigned long long)(b->tp.xmit_drops - a->tp.xmit_drops),
	       (unsigned long long)iv->drop_reply,
	       (unsigned long long)(b->s.no_cpu - a->s.no_cpu),
	       (unsigned long long)iv->malformed,
	       (unsigned long long)(b->s.passed - a->s.passed),
	       iv->qavg, iv->qp99, iv->savg, iv->group, iv->active, (long long)iv->inflight);
	text_workers(rs, iv);
	printf("\n");
}

/* The record of the interval from snapshot @a to snapshot @b. */
void print_stats(struct rss_stats *rs, struct rss_server *srv, const struct snap *a,
		 const struct snap *b)
{
	struct interval iv = { .a = a, .b = b };

	interval_compute(rs, srv, &iv);
	if (rs->json)
		print_json(rs, srv, &iv);
	else
		print_text(rs, &iv);
}

/* The run's totals to stderr, from a last snapshot into @cur. */
void print_totals(struct rss_stats *rs, struct rss_server *srv, struct snap *cur)
{
	__u64 replied = 0, lost;
	int c;

	if (read_snap(rs, srv->skel, cur))
		return;
	for (c = 0; c < rs->nr_cpus; c++)
		replied += cur->replied[c];
	lost = cur->tp.reply_err + cur->tp.xmit_drops;
	replied = replies_sent(srv, replied, lost, cur->tp.xmit_sent);
	account_active(srv, cur->t_ns);
	fprintf(stderr, "%s: total: %llu requests in, %llu redirected, %llu replies, "
		"%llu replies refused, %llu queue drops, %llu worker drops, %llu malformed, "
		"%llu passed, "
		"%.2f cpus on average\n",
		bn_prog(), (unsigned long long)cur->s.rx,
		(unsigned long long)(cur->s.redirected),
		(unsigned long long)replied,
		(unsigned long long)cur->tp.reply_err,
		(unsigned long long)cur->tp.enq_drops,
		(unsigned long long)cur->bad,
		(unsigned long long)(cur->s.short_pkt + cur->s.bad_magic +
				     cur->s.bad_class + cur->s.bad_hdr),
		(unsigned long long)cur->s.passed,
		(cur->t_ns > srv->run_start_ns) ?
		srv->run_active_integral / ((cur->t_ns - srv->run_start_ns) / 1e9) : 0.0);
}
