/* SPDX-License-Identifier: GPL-2.0 */
/*
 * perfetto.h - a Chrome JSON trace writer (ui.perfetto.dev opens it), shared
 * by tracer (a process per netns) and tracer-merge (a process per host).
 */
#ifndef TRACER_PERFETTO_H
#define TRACER_PERFETTO_H

#include <stdbool.h>
#include <stdint.h>

struct pf_trace;

/* Start writing @path (through a temporary file renamed by pf_close()). */
int pf_open(struct pf_trace **pf, const char *path);
/* The process for @key, 1-based, named @name when new; 0 when the table is full. */
int pf_process(struct pf_trace *pf, uint64_t key, const char *name);
/* Name track @tid of process @pid, once. */
void pf_thread(struct pf_trace *pf, int pid, int tid, const char *name);
/*
 * Packet @id arrived at track @tid at @ts_us after @hop_us: a slice @name
 * from ts - hop to ts (a 1 us mark at @first, the packet's first point) and
 * the step of its flow arrow.
 */
void pf_hop(struct pf_trace *pf, int pid, int tid, const char *name, double ts_us,
	    double hop_us, bool first, uint64_t id);
void pf_instant(struct pf_trace *pf, int pid, int tid, const char *name, double ts_us,
		uint64_t id);
/* Counters @pps and @bps named @name on process @pid. */
void pf_counter(struct pf_trace *pf, int pid, const char *name, double ts_us, double pps,
		double bps);
/* Close the JSON and rename the file into place; frees @pf. 0 or -errno. */
int pf_close(struct pf_trace *pf);
/* Remove the temporary file; frees @pf. */
void pf_abort(struct pf_trace *pf);

#endif /* TRACER_PERFETTO_H */
