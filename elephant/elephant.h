/* SPDX-License-Identifier: GPL-2.0 */
/*
 * elephant.h - what elephant.bpf.c and the user-space side share.
 *
 * The flow table is keyed like the talk's flow_key (the conntrack entry's
 * original-direction tuple) plus the conntrack zone, so the same connection
 * in two zones is two flows. The value is the talk's flow_stats: entry
 * interface, first-seen timestamp, zone (in the key), elephant flag, plus
 * the conntrack accounting counters per direction.
 */
#ifndef ELEPHANT_H
#define ELEPHANT_H

#include "flow.h"

#define EL_DIR_ORIG	0
#define EL_DIR_REPLY	1

/* Zones the tc backend tries when a packet's zone is not yet known. */
#define EL_MAX_ZONES	16

struct el_key {
	struct bn_flow_key t;	/* original direction */
	__u32 zone;
};

struct el_flow {
	__u64 first_ns;		/* CLOCK_MONOTONIC: entered the table (ASSURED seen) */
	__u64 last_ns;		/* last update */
	__u64 elephant_ns;	/* crossed the thresholds, 0 if not (yet) */
	__u64 bytes[2];		/* conntrack accounting, per direction */
	__u64 packets[2];
	__u64 elephant;		/* 0/1, set once with compare-and-swap */
	__u32 ifindex[2];	/* entry interface per direction, 0 unknown */
	__u8 mac[6];		/* source MAC of the orig direction (bridge port lookup) */
	__u8 has_mac;
	__u8 no_acct;		/* seen without conntrack accounting (counted once) */
};

enum el_event_type {
	EL_EV_ADD = 1,		/* crossed the thresholds */
	EL_EV_DEL = 2,		/* an elephant's conntrack entry was deleted */
	EL_EV_GONE = 3,		/* a mouse's entry was deleted (table bookkeeping) */
};

/* which test fired; EL_R_ON_DELETE: found when the entry was deleted */
#define EL_R_BYTES	(1U << 0)
#define EL_R_DURATION	(1U << 1)
#define EL_R_RATE	(1U << 2)
#define EL_R_ON_DELETE	(1U << 3)

/* Average rate of @bytes over @dur_ns (at least 1 ms) in bits/s; saturates. */
static inline __u64 el_rate_bps(__u64 bytes, __u64 dur_ns)
{
	__u64 ms = dur_ns / 1000000, q;

	if (!ms)
		return 0;
	if (bytes <= ~0ULL / 8000)
		return bytes * 8000 / ms;
	q = bytes / ms;
	return q > ~0ULL / 8000 ? ~0ULL : q * 8000;
}

/*
 * Which thresholds @f meets at @now (all must, for an elephant), 0 if not.
 * The rate test (@min_rate_bps, 0: off) needs at least a second of life.
 * Shared by the BPF programs and user space (checks at delete).
 */
static inline __u32 el_thresholds(const struct el_flow *f, __u64 now, __u64 min_bytes,
				  __u64 min_duration_ns, __u64 min_rate_bps)
{
	__u64 bytes = f->bytes[0] + f->bytes[1], dur = now - f->first_ns;

	if (now < f->first_ns || bytes < min_bytes || dur < min_duration_ns)
		return 0;
	if (!min_rate_bps)
		return EL_R_BYTES | EL_R_DURATION;
	if (dur < 1000000000ULL || el_rate_bps(bytes, dur) < min_rate_bps)
		return 0;
	return EL_R_BYTES | EL_R_DURATION | EL_R_RATE;
}

/* The elephant thresholds (--min-bytes, --min-duration, --min-rate; 0: off). */
struct el_thresh {
	__u64 min_bytes;
	__u64 min_duration_ns;
	__u64 min_rate_bps;
};

struct el_event {
	__u32 type;
	__u32 reason;
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	struct el_key key;
	struct el_flow flow;
};

/* Per-CPU counters (array "stats"). */
enum el_stat {
	EL_ST_ADDED,		/* flows entered the table */
	EL_ST_DELETED,		/* flows left it on conntrack delete */
	EL_ST_TABLE_FULL,	/* ASSURED flows not tracked: table full (each once) */
	EL_ST_PENDING_FULL,	/* entry interfaces lost: pending table full */
	EL_ST_RB_DROP,		/* ring buffer full: event retried on next packet */
	EL_ST_DEL_RB_DROP,	/* ring buffer full on delete: event lost */
	EL_ST_NO_ACCT,		/* flows without conntrack accounting extension (once each) */
	EL_ST_MAX,
};

#endif /* ELEPHANT_H */
