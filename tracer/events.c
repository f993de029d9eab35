// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - what comes through the ring buffer: `event` records (one per
 * packet per point, --events) and `drop` records, with the drop reason's
 * name from the running kernel's BTF and the freeing location as
 * symbol+offset from /proc/kallsyms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>

#include "state.h"

#define REASON_PREFIX "SKB_DROP_REASON_"

int tr_reasons_load(struct tr_state *s)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	struct btf *btf;
	int id, i, n, max = 0, ret = 0;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0) {
		ret = -ENOENT;
		goto out;
	}
	t = btf__type_by_id(btf, id);
	n = btf_vlen(t);
	e = btf_enum(t);
	for (i = 0; i < n; i++)
		if ((int)e[i].val > max && (uint32_t)e[i].val < 65536)
			max = e[i].val;
	s->reasons = calloc(max + 1, sizeof(*s->reasons));
	if (!s->reasons) {
		ret = -ENOMEM;
		goto out;
	}
	s->nreasons = max + 1;
	for (i = 0; i < n; i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);

		if ((int)e[i].val > max || e[i].val < 0 || !name)
			continue;
		if (!strncmp(name, REASON_PREFIX, strlen(REASON_PREFIX)))
			name += strlen(REASON_PREFIX);
		s->reasons[e[i].val] = strdup(name);
	}
out:
	btf__free(btf);
	return ret;
}

const char *tr_reason_name(const struct tr_state *s, uint32_t reason)
{
	static __thread char buf[24];

	if (reason < (uint32_t)s->nreasons && s->reasons[reason])
		return s->reasons[reason];
	snprintf(buf, sizeof(buf), "REASON_%u", reason);
	return buf;
}

/* ---- kernel symbols: common/kallsyms.c, read at the first drop ---- */

static const char *sym_str(struct tr_state *st, uint64_t addr, char *buf, size_t len)
{
	const struct bn_ksym *k;
	int err;

	if (!st->syms_tried) {
		st->syms_tried = true;
		err = bn_ksyms_load(&st->syms, "/proc/kallsyms", 5000);
		if (err)
			bn_warn("cannot read kernel symbols: %s; drop locations as addresses",
				strerror(-err));
	}
	k = bn_ksyms_find(&st->syms, addr);
	if (!k) {
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
		return buf;
	}
	snprintf(buf, len, "%s+0x%llx", k->name, (unsigned long long)(addr - k->addr));
	return buf;
}

/* ---- records ---- */

static const char *proto_str(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static const char *dev_str(const struct tr_opts *o, const struct tr_event *e, char *buf)
{
	if (e->point < o->npoints && o->points[e->point].dev[0])
		return o->points[e->point].dev;
	snprintf(buf, IF_NAMESIZE + 8, "if%u", e->ifindex);
	return buf;
}

static void event_json(struct tr_state *s, const struct tr_opts *o, const struct tr_event *e,
		       uint64_t now_rt)
{
	char id[20], a[BN_ADDRSTRLEN], b[BN_ADDRSTRLEN], p[8], d[IF_NAMESIZE + 8], loc[300];
	bool drop = e->kind == TR_EV_DROP;
	struct bn_json j;

	snprintf(id, sizeof(id), "%016llx", (unsigned long long)e->id);
	tr_rec_begin(s, &j, drop ? "drop" : "event", now_rt);
	bn_json_u64(&j, "ts_ns", now_rt);
	bn_json_str(&j, "pkt", id);
	bn_json_str(&j, "point", tr_point_name(o, e->point));
	if (!drop)
		bn_json_str(&j, "hook", o->points[e->point].hook);
	bn_json_str(&j, "dev", dev_str(o, e, d));
	bn_json_u64(&j, "netns", e->netns);
	bn_json_u64(&j, "len", e->len);
	bn_json_str(&j, "proto", proto_str(e->proto, p, sizeof(p)));
	bn_json_str(&j, "src", bn_addr_str(e->family, e->src, a, sizeof(a)));
	bn_json_str(&j, "dst", bn_addr_str(e->family, e->dst, b, sizeof(b)));
	bn_json_u64(&j, "sport", e->sport);
	bn_json_u64(&j, "dport", e->dport);
	if (e->outer_family) {
		bn_json_obj_begin(&j, "outer");
		bn_json_str(&j, "src", bn_addr_str(e->outer_family, e->outer_src, a, sizeof(a)));
		bn_json_str(&j, "dst", bn_addr_str(e->outer_family, e->outer_dst, b, sizeof(b)));
		bn_json_u64(&j, "vni", e->vni);
		bn_json_obj_end(&j);
	}
	bn_json_u64(&j, "hop_ns", e->hop_ns);
	bn_json_str(&j, "prev_point",
		    e->prev_point == TR_NO_POINT ? "" : tr_point_name(o, e->prev_point));
	if (!drop)
		bn_json_bool(&j, "rule", e->rule);
	if (drop) {
		bn_json_str(&j, "reason", tr_reason_name(s, e->reason));
		bn_json_str(&j, "location", sym_str(s, e->location, loc, sizeof(loc)));
	}
	bn_json_end(&j);
}

static void event_text(struct tr_state *s, const struct tr_opts *o, const struct tr_event *e,
		       uint64_t now_rt)
{
	char t[BN_TIMESTRLEN], a[BN_ADDRSTRLEN], b[BN_ADDRSTRLEN], p[8], d[IF_NAMESIZE + 8];
	char loc[300];
	FILE *f = s->out ? s->out : stdout;

	fprintf(f, "%-12s %-5s %016llx %-12s %-10s %-6s %s:%u > %s:%u len %u hop %.1fus",
		bn_time_str(now_rt, t, sizeof(t)), e->kind == TR_EV_DROP ? "DROP" : "EVENT",
		(unsigned long long)e->id, tr_point_name(o, e->point), dev_str(o, e, d),
		proto_str(e->proto, p, sizeof(p)), bn_addr_str(e->family, e->src, a, sizeof(a)),
		e->sport, bn_addr_str(e->family, e->dst, b, sizeof(b)), e->dport, e->len,
		e->hop_ns / 1000.0);
	if (e->rule)
		fprintf(f, " RULE");
	if (e->kind == TR_EV_DROP)
		fprintf(f, " after %s reason %s at %s", tr_point_name(o, e->prev_point),
			tr_reason_name(s, e->reason), sym_str(s, e->location, loc, sizeof(loc)));
	fputc('\n', f);
}

int tr_pf_process(struct tr_state *s, const struct tr_opts *o, int pt, uint32_t netns)
{
	char name[300];

	if (pt >= 0 && pt < o->npoints && o->points[pt].netns[0])
		snprintf(name, sizeof(name), "netns %s (%u)", o->points[pt].netns, netns);
	else
		snprintf(name, sizeof(name), "netns %u", netns);
	return pf_process(s->pf, netns, name);
}

/* --perfetto: a process per netns (named after a point's netns), a track per point. */
static void event_perfetto(struct tr_state *s, const struct tr_opts *o,
			   const struct tr_event *e, double ts_us)
{
	int pid, pt = e->point == TR_NO_POINT ? TR_MAX_POINTS : e->point;
	bool first = e->prev_point == TR_NO_POINT;
	char name[300];

	pid = tr_pf_process(s, o, pt, e->netns);
	pf_thread(s->pf, pid, pt + 1, tr_point_name(o, pt));
	if (e->kind == TR_EV_DROP) {
		snprintf(name, sizeof(name), "drop %s", tr_reason_name(s, e->reason));
		pf_instant(s->pf, pid, pt + 1, name, ts_us, e->id);
		return;
	}
	snprintf(name, sizeof(name), "%s%s%s", first ? "" : tr_point_name(o, e->prev_point),
		 first ? "" : "->", tr_point_name(o, pt));
	pf_hop(s->pf, pid, pt + 1, name, ts_us, e->hop_ns / 1e3, first, e->id);
}

/* ---- the batch: a drain's records, written out together ---- */

static void batch_open(struct tr_state *s)
{
	s->batch = NULL;
	s->batch_len = 0;
	s->batch_records = 0;
	s->out = open_memstream(&s->batch, &s->batch_len);
	if (s->out)	/* one thread: no lock per fputc */
		__fsetlocking(s->out, FSETLOCKING_BYCALLER);
}

static uint64_t lines_in(const char *p, size_t len)
{
	const char *end = p + len;
	uint64_t n = 0;

	while (p < end && (p = memchr(p, '\n', end - p))) {
		n++;
		p++;
	}
	return n;
}

/*
 * @len bytes of @p to stdout (after what stdio holds): how many were written.
 * To a non-blocking stdout in pieces of whole lines of at most PIPE_BUF
 * bytes, which a pipe takes whole or not at all: a full pipe cuts no line.
 */
static size_t out_write(const char *p, size_t len, int *err)
{
	int fl = fcntl(STDOUT_FILENO, F_GETFL);
	size_t done = 0, piece;
	const char *nl;
	ssize_t n;

	*err = fflush(stdout) ? errno : 0;
	while (!*err && done < len) {
		piece = len - done;
		if (fl >= 0 && (fl & O_NONBLOCK) && piece > PIPE_BUF) {
			nl = memrchr(p + done, '\n', PIPE_BUF);
			if (!nl)
				nl = memchr(p + done, '\n', piece);
			piece = nl ? (size_t)(nl + 1 - (p + done)) : piece;
		}
		n = write(STDOUT_FILENO, p + done, piece);
		if (n > 0)
			done += n;
		else if (n < 0 && errno != EINTR)
			*err = errno;
		else if (!n)
			*err = EIO;
	}
	return done;
}

/*
 * The batch to stdout. Its records that do not get there are counted, into
 * @unwritten: all of them when the batch itself failed (no memory: the
 * events counted as they were made, else the lines it holds, at least
 * one), those from the first line not written whole after a failed write.
 * stdout full for now (EAGAIN: a non-blocking pipe) only loses them; any
 * other write error (a closed pipe, a full disk) also stops the run with
 * one error line, and tracer exits 1.
 */
static void batch_flush(struct tr_state *s, uint64_t *unwritten, bool events)
{
	uint64_t n;
	size_t done;
	int err;

	if (!s->out)
		return;
	if (fclose(s->out)) {
		n = s->batch ? lines_in(s->batch, s->batch_len) : 0;
		*unwritten += events ? s->batch_records : n ? n : 1;
	} else if (s->batch_len) {
		done = out_write(s->batch, s->batch_len, &err);
		*unwritten += lines_in(s->batch + done, s->batch_len - done);
		clearerr(stdout);
		if (err && err != EAGAIN && !s->out_err) {
			s->out_err = err;
			bn_err("cannot write to stdout: %s", strerror(err));
			bn_stop = 1;
		}
	}
	free(s->batch);
	s->out = NULL;
	s->batch = NULL;
}

/* After each record in a batch: written out past the bound. */
static void batch_record(struct tr_state *s)
{
	if (!s->out)
		return;
	s->batch_records++;
	if (ftello(s->out) < (off_t)s->batch_max)
		return;
	batch_flush(s, &s->unwritten, true);
	batch_open(s);
}

int tr_event(void *ctx, void *data, size_t size)
{
	const struct tr_event *e = data;
	struct tr_state *s = ctx;
	const struct tr_opts *o;
	uint64_t rt;

	if (size < sizeof(*e))
		return 0;
	/* while a reload switches over, both generations' events arrive */
	o = s->next_o && e->gen == (uint8_t)(s->gen + 1) ? s->next_o : &s->o;
	if (e->point != TR_NO_POINT && e->point >= o->npoints)
		return 0;
	if (e->kind == TR_EV_PASS && e->point == TR_NO_POINT)
		return 0;
	/* the event's own time, on the realtime clock (the `clock` record's pairing) */
	rt = e->ts + s->rt_off;
	if (e->kind == TR_EV_DROP)
		s->drops++;
	else
		s->events++;
	if (s->pf)
		event_perfetto(s, o, e, rt / 1e3);
	if (s->cli.json)
		event_json(s, o, e, rt);
	else
		event_text(s, o, e, rt);
	batch_record(s);
	return 0;
}

/*
 * Drain the ring buffer, its records written out together: stdout is
 * line-buffered when not a terminal, and a write(2) per event was most of
 * the reader's time. The batch holds whole lines only, at most
 * batch_max bytes past one record (then it is written out and another
 * begins), so a drain of many events does not grow it without bound.
 */
int tr_events_consume(struct tr_state *s)
{
	int n;

	batch_open(s);
	n = ring_buffer__consume(s->rb);
	batch_flush(s, &s->unwritten, true);
	return n;
}

/*
 * Interval records (tr_report_tick(), tr_report_config()) go out as one
 * batch too, so that those that do not reach stdout are counted: in
 * unwritten_recs, reported by the next `lost` record and the summary.
 */
void tr_out_begin(struct tr_state *s)
{
	batch_open(s);
}

void tr_out_end(struct tr_state *s)
{
	batch_flush(s, &s->unwritten_recs, false);
}

uint64_t tr_events_unwritten(struct tr_state *s)
{
	uint64_t n = s->unwritten - s->prev_unwritten;

	s->prev_unwritten = s->unwritten;
	return n;
}

uint64_t tr_records_unwritten(struct tr_state *s)
{
	uint64_t n = s->unwritten_recs - s->prev_unwritten_recs;

	s->prev_unwritten_recs = s->unwritten_recs;
	return n;
}
