// SPDX-License-Identifier: GPL-2.0
/*
 * perfetto.c - --perfetto FILE: the Chrome JSON trace format, which
 * ui.perfetto.dev opens. One process per netns, one thread (track) per
 * point, a complete slice per packet per segment on the track of the point
 * it arrived at (from the previous point's time to this one), flow events
 * joining one packet's slices, an instant per drop, and counters for each
 * point's packet and bit rates every interval.
 *
 * The file is written to FILE.tmp.PID (O_EXCL, O_NOFOLLOW) and renamed to
 * FILE when tracer ends, so FILE is always a whole trace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

#define PF_MAX_NS 64

struct tr_perfetto {
	FILE *f;
	char *path, *tmp;
	bool first;			/* no event written yet: no comma */
	uint32_t ns[PF_MAX_NS];		/* netns inode of process i + 1 */
	int nns;
	uint64_t named[PF_MAX_NS];	/* bit t: thread t of process i + 1 named */
};

int tr_perfetto_open(struct tr_state *s, const char *path)
{
	struct tr_perfetto *p;
	int fd;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->path = strdup(path);
	if (!p->path || asprintf(&p->tmp, "%s.tmp.%d", path, getpid()) < 0) {
		free(p->path);
		free(p);
		return -ENOMEM;
	}
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || !(p->f = fdopen(fd, "w"))) {
		int err = -errno;

		if (fd >= 0)
			close(fd);
		free(p->tmp);
		free(p->path);
		free(p);
		return err;
	}
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", p->f);
	p->first = true;
	s->pf = p;
	return 0;
}

static void sep(struct tr_perfetto *p)
{
	if (!p->first)
		fputs(",\n", p->f);
	p->first = false;
}

/* The process of netns @ns (named on first use), 1-based; 0 when full. */
static int pf_pid(struct tr_perfetto *p, const struct tr_opts *o, int pt, uint32_t ns)
{
	char name[300];
	int i;

	for (i = 0; i < p->nns; i++)
		if (p->ns[i] == ns)
			return i + 1;
	if (p->nns == PF_MAX_NS)
		return 0;
	p->ns[p->nns++] = ns;
	if (pt >= 0 && pt < o->npoints && o->points[pt].netns[0])
		snprintf(name, sizeof(name), "netns %s (%u)", o->points[pt].netns, ns);
	else
		snprintf(name, sizeof(name), "netns %u", ns);
	sep(p);
	fprintf(p->f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,"
		"\"args\":{\"name\":", p->nns);
	bn_json_escape(p->f, name);
	fputs("}}", p->f);
	return p->nns;
}

/* Point @pt's track in process @pid (named on first use). */
static int pf_tid(struct tr_perfetto *p, const struct tr_opts *o, int pid, int pt)
{
	int tid = pt + 1;	/* TR_NO_POINT ("drop") too: 256 */

	if (pid && tid < 64 && !(p->named[pid - 1] & (1ULL << tid))) {
		p->named[pid - 1] |= 1ULL << tid;
		sep(p);
		fprintf(p->f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
			"\"args\":{\"name\":", pid, tid);
		bn_json_escape(p->f, tr_point_name(o, pt));
		fputs("}}", p->f);
	}
	return tid;
}

/* An event from the ring buffer; @ts_us on the realtime clock. */
void tr_perfetto_event(struct tr_state *s, const struct tr_opts *o,
		       const struct tr_event *e, double ts_us)
{
	struct tr_perfetto *p = s->pf;
	int pid, tid, pt = e->point == TR_NO_POINT ? TR_MAX_POINTS : e->point;
	double start = ts_us - e->hop_ns / 1e3;
	bool first = e->prev_point == TR_NO_POINT;

	if (!p)
		return;
	pid = pf_pid(p, o, pt, e->netns);
	tid = pf_tid(p, o, pid, pt);
	sep(p);
	if (e->kind == TR_EV_DROP) {
		fprintf(p->f, "{\"ph\":\"i\",\"s\":\"t\",\"name\":\"drop %s\",\"pid\":%d,"
			"\"tid\":%d,\"ts\":%.3f,\"args\":{\"pkt\":\"%016llx\"}}",
			tr_reason_name(s, e->reason), pid, tid, ts_us,
			(unsigned long long)e->id);
		return;
	}
	fprintf(p->f, "{\"ph\":\"X\",\"name\":\"%s%s%s\",\"pid\":%d,\"tid\":%d,"
		"\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"pkt\":\"%016llx\"}}",
		first ? "" : tr_point_name(o, e->prev_point), first ? "" : "->",
		tr_point_name(o, pt), pid, tid, first ? ts_us : start,
		first ? 1.0 : e->hop_ns / 1e3, (unsigned long long)e->id);
	/* the packet's flow: starts in its first slice, steps through the others */
	sep(p);
	fprintf(p->f, "{\"ph\":\"%s\",\"name\":\"pkt\",\"cat\":\"pkt\",\"id\":\"%016llx\","
		"\"pid\":%d,\"tid\":%d,\"ts\":%.3f%s}", first ? "s" : "t",
		(unsigned long long)e->id, pid, tid, first ? ts_us + 0.5 : (start + ts_us) / 2,
		first ? "" : ",\"bp\":\"e\"");
}

/* Rates of point @pt this interval, as counters on its process. */
void tr_perfetto_counter(struct tr_state *s, int pt, double pps, double bps, uint64_t rt)
{
	struct tr_perfetto *p = s->pf;
	int pid;

	if (!p)
		return;
	pid = pf_pid(p, &s->o, pt, s->o.points[pt].p.netns);
	sep(p);
	fputs("{\"ph\":\"C\",\"name\":", p->f);
	bn_json_escape(p->f, tr_point_name(&s->o, pt));
	fprintf(p->f, ",\"pid\":%d,\"ts\":%.3f,\"args\":{\"pps\":%.1f,\"bps\":%.1f}}", pid,
		rt / 1e3, pps, bps);
}

/* Close the JSON and rename the file into place. */
int tr_perfetto_close(struct tr_state *s)
{
	struct tr_perfetto *p = s->pf;
	int err = 0;

	if (!p)
		return 0;
	fputs("\n]}\n", p->f);
	if (fflush(p->f) || fsync(fileno(p->f)))
		err = -errno;
	if (fclose(p->f) && !err)
		err = -errno;
	if (!err && rename(p->tmp, p->path))
		err = -errno;
	if (err)
		unlink(p->tmp);
	free(p->tmp);
	free(p->path);
	free(p);
	s->pf = NULL;
	return err;
}
