// SPDX-License-Identifier: GPL-2.0
/*
 * perfetto.c - the Chrome JSON trace format, which ui.perfetto.dev opens:
 * processes and named tracks (threads), a complete slice per packet per
 * segment on the track of the point it arrived at, flow events joining one
 * packet's slices, instants and counters. tracer makes a process per netns,
 * tracer-merge one per host.
 *
 * The file is written through common/file.c (a temporary file, O_EXCL and
 * O_NOFOLLOW, renamed to FILE at pf_close()), so FILE is always a whole trace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "perfetto.h"

#define PF_MAX_PROC	64
#define PF_MAX_TID	320

struct pf_trace {
	struct bn_wfile w;
	bool first;			/* nothing written yet: no comma */
	uint64_t keys[PF_MAX_PROC];	/* key of process i + 1 */
	int nproc;
	uint64_t named[PF_MAX_PROC][PF_MAX_TID / 64];	/* bit t: track t named */
};

int pf_open(struct pf_trace **pf, const char *path)
{
	struct pf_trace *p;
	int err;

	*pf = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	err = bn_wfile_open(&p->w, path, 0644);
	if (err) {
		free(p);
		return err;
	}
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", p->w.f);
	p->first = true;
	*pf = p;
	return 0;
}

static FILE *sep(struct pf_trace *p)
{
	if (!p->first)
		fputs(",\n", p->w.f);
	p->first = false;
	return p->w.f;
}

int pf_process(struct pf_trace *p, uint64_t key, const char *name)
{
	FILE *f;
	int i;

	for (i = 0; i < p->nproc; i++)
		if (p->keys[i] == key)
			return i + 1;
	if (p->nproc == PF_MAX_PROC)
		return 0;
	p->keys[p->nproc++] = key;
	f = sep(p);
	fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,"
		"\"args\":{\"name\":", p->nproc);
	bn_json_escape(f, name);
	fputs("}}", f);
	return p->nproc;
}

void pf_thread(struct pf_trace *p, int pid, int tid, const char *name)
{
	uint64_t *w;
	FILE *f;

	if (pid < 1 || pid > p->nproc || tid < 0 || tid >= PF_MAX_TID)
		return;
	w = &p->named[pid - 1][tid / 64];
	if (*w & (1ULL << (tid % 64)))
		return;
	*w |= 1ULL << (tid % 64);
	f = sep(p);
	fprintf(f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
		"\"args\":{\"name\":", pid, tid);
	bn_json_escape(f, name);
	fputs("}}", f);
}

void pf_hop(struct pf_trace *p, int pid, int tid, const char *name, double ts_us,
	    double hop_us, bool first, uint64_t id)
{
	double start = ts_us - hop_us;
	FILE *f = sep(p);

	fputs("{\"ph\":\"X\",\"name\":", f);
	bn_json_escape(f, name);
	fprintf(f, ",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,"
		"\"args\":{\"pkt\":\"%016llx\"}}", pid, tid, first ? ts_us : start,
		first ? 1.0 : hop_us, (unsigned long long)id);
	/* the packet's flow: starts in its first slice, steps through the others */
	f = sep(p);
	fprintf(f, "{\"ph\":\"%s\",\"name\":\"pkt\",\"cat\":\"pkt\",\"id\":\"%016llx\","
		"\"pid\":%d,\"tid\":%d,\"ts\":%.3f%s}", first ? "s" : "t",
		(unsigned long long)id, pid, tid, first ? ts_us + 0.5 : (start + ts_us) / 2,
		first ? "" : ",\"bp\":\"e\"");
}

void pf_instant(struct pf_trace *p, int pid, int tid, const char *name, double ts_us,
		uint64_t id)
{
	FILE *f = sep(p);

	fputs("{\"ph\":\"i\",\"s\":\"t\",\"name\":", f);
	bn_json_escape(f, name);
	fprintf(f, ",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"args\":{\"pkt\":\"%016llx\"}}",
		pid, tid, ts_us, (unsigned long long)id);
}

void pf_counter(struct pf_trace *p, int pid, const char *name, double ts_us, double pps,
		double bps)
{
	FILE *f = sep(p);

	fputs("{\"ph\":\"C\",\"name\":", f);
	bn_json_escape(f, name);
	fprintf(f, ",\"pid\":%d,\"ts\":%.3f,\"args\":{\"pps\":%.1f,\"bps\":%.1f}}", pid,
		ts_us, pps, bps);
}

int pf_close(struct pf_trace *p)
{
	int err;

	if (!p)
		return 0;
	fputs("\n]}\n", p->w.f);
	err = bn_wfile_commit(&p->w);
	free(p);
	return err;
}

void pf_abort(struct pf_trace *p)
{
	if (!p)
		return;
	bn_wfile_abort(&p->w);
	free(p);
}
