/* SPDX-License-Identifier: GPL-2.0 */
/*
 * merge.h - tracer-merge's state: the hosts (one per input file), the
 * packets they saw (joined by id, a fixed slot per host), the events to
 * write again on one time line, and the clock offsets estimated from the
 * packets that crossed between hosts. mread.c reads and estimates (no
 * output); tracer-merge.c writes.
 */
#ifndef TRACER_MERGE_H
#define TRACER_MERGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common.h"

#define MG_MAX_HOSTS	16
#define MG_MAX_POINTS	64		/* point names per host */
#define MG_NAME_LEN	32		/* as tracer's point names */
#define MG_LINE_MAX	65536		/* a longer line is bad */
#define MG_MAX_GROUPS	64		/* paths per host pair considered for the offset */
#define MG_MAX_SPAN_NS	1000000000ULL	/* a packet longer on one host: not used for it */

enum mg_est {
	MG_EST_REF,			/* the reference host (the first file's) */
	MG_EST_MID,			/* both directions: midpoint of the bounds */
	MG_EST_UPPER,			/* only packets to this host: an upper bound */
	MG_EST_LOWER,			/* only packets from this host: a lower bound */
};

struct mg_host {
	char name[BN_NODE_MAX];		/* the records' "host" */
	const char *path;
	FILE *f;
	char points[MG_MAX_POINTS][MG_NAME_LEN];
	char hooks[MG_MAX_POINTS][16];	/* the point's hook ("" for drop points) */
	int npoints;
	uint64_t lines, events, drops, bad, lost;	/* lost: tracer's lost events */
	/* the estimate, relative to host 0: host clock - host 0 clock */
	enum mg_est est;
	int64_t offset_ns;
	uint64_t uncertainty_ns;
	uint64_t packets_ab, packets_ba;	/* host 0 -> this host, this host -> host 0 */
	int64_t overlap_ns;		/* > 0: the two directions' bounds disagree */
};

/*
 * Where a packet was on one host: its first and last sighting (n == 0: never).
 * Made from the packet's entries when needed (mg_packet), never stored.
 */
struct mg_seen {
	uint64_t first_ts, last_ts;	/* the host's own clock, ns */
	uint16_t first_pt, last_pt;
	uint16_t n;			/* events (saturates) */
	bool dropped;			/* a drop record on this host */
};

#define MG_NO_HOST	0xff

/* An event or drop line, to be written again on the common time line. */
struct mg_ev {
	uint64_t ts;			/* host clock; corrected later */
	uint64_t id;
	off_t off;			/* the line's offset in its file */
	int64_t hop_ns;			/* from the previous host (from_host set) */
	uint8_t host;
	uint8_t pt;
	uint8_t from_host;		/* the host before this one, at its first sighting here */
	uint8_t from_pt;		/* (MG_NO_HOST: none, or not known yet) */
	bool drop;
};

struct mg {
	struct mg_host hosts[MG_MAX_HOSTS];
	int nhosts;
	struct mg_ev *ev;		/* by file after reading; by id after mg_sort_ids */
	size_t nev, evcap;
	/* the first bad lines, reported by the caller */
	void (*bad_line)(void *ctx, const struct mg_host *h, uint64_t line, const char *why);
	void *ctx;
};

/* A host for @path (not opened here). 0 or -ENOSPC. */
int mg_add_host(struct mg *m, const char *path, FILE *f);
/*
 * One line of host @h's file at offset @off (line number @lineno): a record
 * of tracer -j --events. Returns 1 if taken, 0 if ignored (another record
 * type) and -EINVAL for a bad line (reported through m->bad_line).
 */
int mg_line(struct mg *m, int h, const char *line, size_t len, off_t off, uint64_t lineno);
/*
 * A line of @f into @buf (@size bytes, NUL-terminated if it fits): its
 * length with the newline, larger than @size - 1 if it did not fit (the
 * rest is read and dropped); -1 at the end of the file.
 */
ssize_t mg_getline(FILE *f, char *buf, size_t size);
/* Every line of host @h's file. 0, or -errno for a read error / no memory. */
int mg_read(struct mg *m, int h);
/* Sort the entries by packet id (then host, time): for mg_packet. */
void mg_sort_ids(struct mg *m);
/* Sort the entries by time (then host, place in the file): the output's order. */
void mg_sort_time(struct mg *m);
/*
 * The packet whose entries start at @i (entries sorted by id): its sightings
 * per host in @s (nhosts), at the entries' times (the host's clock, or host
 * 0's once corrected). Returns the index of the next packet's first entry.
 */
size_t mg_packet(const struct mg *m, size_t i, struct mg_seen *s);
/*
 * Estimate each host's offset to host 0 from the packets both saw (sorts
 * the entries by id; times not corrected yet). -ENOMEM, or with @h
 * set to the host: -ENODATA when it shares no packet with host 0, -EDOM
 * when its packets go one way and which way cannot be told.
 */
int mg_estimate(struct mg *m, int *h);
/* @ts of host @h on host 0's clock. */
static inline uint64_t mg_corrected(const struct mg *m, int h, uint64_t ts)
{
	return ts - (uint64_t)m->hosts[h].offset_ns;
}
/* Room for element @n of the array at *@arr (@cap elements of @size, doubled). */
int mg_grow(void *arr, size_t *cap, size_t n, size_t size);
/* Free the tables; @m is empty afterwards (the hosts too). */
void mg_free(struct mg *m);

#endif /* TRACER_MERGE_H */
