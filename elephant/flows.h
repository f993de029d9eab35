/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flows.h - the user-space mirror of the BPF flow table: what each flow
 * has been counted for and where it belongs. Fed by the ring buffer, by
 * conntrack DESTROY events (tc backend) and by the walk every interval,
 * which also finds deletes that were missed.
 *
 * The ring buffer callback only queues events; fl_consume() handles them
 * after the consume, so attribution (netlink dumps, setns) never runs
 * inside the callback.
 */
#ifndef ELEPHANT_FLOWS_H
#define ELEPHANT_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "attrib.h"
#include "elephant.h"
#include "footprint.h"
#include "output.h"
#include "tc.h"

#define FL_BUCKETS	65536
#define FL_QUEUE	256	/* events taken from the ring buffer per round */
#define FL_WALK_BATCH	1024
#define FL_SWEEP_MAX	4096

struct ring_buffer;

struct uflow {
	struct uflow *next;
	struct el_key key;
	uint64_t bytes_seen;		/* counted into the workload so far */
	struct el_who who;
	bool elephant;
	bool gen;
};

struct el_flows {
	/* set by the caller */
	int flows_fd;			/* the BPF flow table */
	bool tc;			/* tc backend: only flow_gone() deletes entries */
	struct el_thresh th;
	uint64_t interval_ns;
	const char (*ifaces)[IF_NAMESIZE];	/* report only these (not tc) */
	int nifaces;
	uint64_t mono_to_real;		/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct ring_buffer *rb;
	struct el_attrib *at;
	struct el_fp *fp;
	struct el_out *out;
	struct el_tc *tcs;		/* tc backend: zones to learn, else NULL */
	/* what happened */
	struct el_counts c;
	/* events the ring buffer callback queued */
	struct el_event q[FL_QUEUE];
	int nq;
	/* the mirror: a hash of uflows; gen marks what the last walk saw */
	struct uflow *uf[FL_BUCKETS];
	bool gen;
	/* the walk's batches */
	struct el_key keys[FL_WALK_BATCH], idle[FL_SWEEP_MAX];
	struct el_flow vals[FL_WALK_BATCH];
};

/* The ring buffer callback (@ctx: the el_flows): queues the event only. */
int fl_rb_event(void *ctx, void *data, size_t len);
/* Consume the ring buffer and handle what it held; 0 or a negative errno. */
int fl_consume(struct el_flows *fl);
/* Read the ctnetlink events pending on @fd (tc backend). */
void fl_ct_events(struct el_flows *fl, int fd);
/*
 * Every interval: count active elephants and mice per workload, add the
 * bytes carried since the last walk, and sweep entries conntrack lost.
 */
void fl_walk(struct el_flows *fl);
void fl_free(struct el_flows *fl);

#endif /* ELEPHANT_FLOWS_H */
