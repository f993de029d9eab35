/* SPDX-License-Identifier: GPL-2.0 */
/*
 * output.h - what elephant prints: elephant events, the summary every
 * interval (text or JSON Lines), the Prometheus exposition and the losses
 * at exit.
 */
#ifndef ELEPHANT_OUTPUT_H
#define ELEPHANT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "elephant.h"
#include "footprint.h"

/* What user space counted, beside the programs' per-CPU stats. */
struct el_counts {
	uint64_t deleted_user;		/* entries user space removed (gone, swept) */
	uint64_t swept;			/* removed by the sweep: delete not seen */
	uint64_t events_add;		/* elephant_add reported */
	uint64_t events_del;		/* elephant_del reported */
	uint64_t event_drops;		/* events not reported: out of memory */
	uint64_t ct_events_lost;	/* ctnetlink ENOBUFS since the last sweep */
	uint64_t ct_events_lost_total;	/* ... since start */
};

struct el_out {
	/* set by the caller */
	bool json;
	const char *node;
	const char *backend;
	struct el_thresh th;
	uint64_t window_ns;
	int stats_fd;			/* the programs' per-CPU "stats" array */
	/* text mode: the event header is printed before the first event */
	bool header_done;
	/* the losses at the last out_losses(), to warn about what is new */
	uint64_t seen_full, seen_drops, seen_no_acct, seen_lost;
};

/* Where an event's flow belongs, resolved by the caller. */
struct el_where {
	const char *iface;
	uint64_t netns;
	const char *netns_name;
	const char *workload;
};

/* An elephant_add or elephant_del event at @real_ns (CLOCK_REALTIME). */
void out_event(struct el_out *o, const struct el_event *e, uint64_t real_ns,
	       const struct el_where *w);
/* Every workload, then the node. */
void out_summary(struct el_out *o, const struct el_fp *fp, const struct el_counts *c);
/* The Prometheus text exposition of @fp and the counters, into @f. */
void out_metrics(const struct el_out *o, const struct el_fp *fp, const struct el_counts *c,
		 FILE *f);
/*
 * Every interval, on stderr: what was lost since the last call (flows not
 * tracked, events dropped, flows without accounting, conntrack events
 * lost), one warning per kind that is not zero.
 */
void out_losses(struct el_out *o, const struct el_counts *c);
/* At exit, on stderr: what the kernel side could not track. */
void out_drops(const struct el_out *o, const struct el_counts *c);

#endif /* ELEPHANT_OUTPUT_H */
