/* SPDX-License-Identifier: GPL-2.0 */
/*
 * state.h - tracer's user-space state and the interfaces of its files:
 * config.c (points, config files, netns and device names), filter.c (pcap
 * filter -> eBPF), events.c (ring buffer records, drop reasons, symbols),
 * report.c (per-interval records).
 */
#ifndef TRACER_STATE_H
#define TRACER_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/filter.h>

#include "common.h"
#include "tracer.h"
#include "perfetto.h"

#define TR_NAME_LEN	32
#define TR_FILTER_LEN	1024
#define TR_MAX_RULES	32

#define TR_FUNC_LEN	128		/* KSYM_NAME_LEN */

struct tr_point_cfg {
	char name[TR_NAME_LEN];
	char hook[TR_FUNC_LEN + 8];	/* as records show it: rx, fentry:ip_rcv, ... */
	char func[TR_FUNC_LEN];		/* fentry, kprobe: the function */
	char dev[IF_NAMESIZE];		/* "" : any */
	char netns[256];		/* as given, "" : any */
	struct tr_point p;		/* resolved: hook, ifindex, netns inode, skb arg, ip */
	int via;			/* attached as: TR_HOOK_FENTRY, TR_HOOK_KPROBE; 0: tracepoint */
};

struct tr_opts {
	struct tr_point_cfg points[TR_MAX_POINTS];
	int npoints;
	char filter[TR_FILTER_LEN];	/* "" : every packet */
	bool events;
	uint64_t loss_timeout_ns;
	uint64_t buffer;		/* ring buffer bytes */
	uint32_t track;			/* packets followed at once */
	const char *config;		/* -c FILE */
	uint32_t sample_n;		/* follow 1 id in N; 0: all */
	uint32_t top;			/* flows per point in `flow` records; 0: none */
	struct tr_rule {
		char from[TR_NAME_LEN], to[TR_NAME_LEN];
		uint64_t ns;		/* emit when the segment takes longer */
	} rules[TR_MAX_RULES];
	int nrules;
	/* resolved: */
	struct bpf_insn fcode[TR_SLOT_LEN];	/* the translated --filter */
	int nfcode;
	uint64_t rule_ns[TR_MAX_SEGS];		/* --rule thresholds by segment */
};

/* Cumulative per-CPU sums read at the previous tick, to print deltas. */
struct tr_seg_prev {
	uint64_t packets;
	uint64_t sum_ns;
	uint32_t *buckets;		/* TR_NBUCKETS */
};

struct tr_state {
	struct tr_opts o;		/* what runs */
	struct tr_opts cli_o;		/* the command line's part, for reloads */
	struct tr_opts *next_o;		/* during a reload: what runs next */
	int gen;			/* config generation: 1, +1 per reload */
	int hup_fd;			/* signalfd: SIGHUP reloads the config file */
	bool metrics;			/* --metrics */
	struct bn_listen listen;
	struct bn_http *http;
	const char *perfetto;		/* --perfetto FILE */
	struct pf_trace *pf;
	struct bn_cli cli;
	char host[BN_NODE_MAX];		/* --host: in every JSON record */
	int64_t skew_ns;		/* BPFNET_TRACER_SKEW_NS (tests only) */
	int64_t rt_off;			/* realtime - monotonic (+ skew), at the last sync */
	struct tracer_bpf *skel;
	struct tr_fn *fn;		/* fentry and kprobe points of this generation */
	bool stamp_on;			/* --stamp */
	struct tr_stamp *stamp;		/* its program, attached at start for the run */
	struct tr_point_cfg stamp_pt;	/* the first point at start: where it stamps */
	struct ring_buffer *rb;
	FILE *out;			/* where records go: stdout, or a drain's batch */
	char *batch;			/* the batch's memstream buffer */
	size_t batch_len;
	size_t batch_max;		/* flushed past this (1 MiB) */
	uint64_t batch_records;		/* records in the batch */
	uint64_t unwritten;		/* records lost on the way out (cumulative) */
	uint64_t prev_unwritten;	/* ... at the last `lost` record */
	uint64_t unwritten_recs;	/* interval records lost on the way out */
	uint64_t prev_unwritten_recs;	/* ... at the last `lost` record */
	int out_err;			/* stdout failed for good: the run stops, exit 1 */
	int nr_cpus;
	const char **reasons;		/* enum skb_drop_reason names, by value */
	int nreasons;
	struct bn_ksyms syms;		/* kallsyms, loaded at the first drop */
	bool syms_tried;
	void *report;			/* report.c's counters */
	int drain_fd;			/* timerfd: drain the ring buffer */
	uint64_t last_ns;		/* monotonic time of the previous tick */
	uint64_t start_ns;
	/* previous cumulative values */
	struct tr_point_stats prev_pt[TR_MAX_POINTS + 1];
	uint64_t *prev_lost_cpu;	/* (TR_MAX_POINTS + 1) * nr_cpus */
	struct tr_seg_prev prev_seg[TR_MAX_SEGS];
	uint64_t expired[TR_MAX_POINTS + 1];	/* state expired at a point, cumulative */
	uint64_t prev_ended[TR_MAX_POINTS + 1];
	/* whole-run totals */
	uint64_t events, drops, lost_events;
};

/* config.c */
int tr_point_parse(const char *s, struct tr_point_cfg *pc, char *err, size_t len);
int tr_opt_set(struct tr_opts *o, const char *name, const char *val, char *err, size_t len);
int tr_config_load(struct tr_opts *o, const char *path, char *err, size_t len);
int tr_points_resolve(struct tr_opts *o, char *err, size_t len);
/* The netns file of @spec (a name, an inode or a path) and its inode. */
int tr_netns_resolve(const char *spec, char *path, size_t len, uint32_t *ino);
/* The rules' thresholds by segment (from * TR_MAX_POINTS + to), once points are known. */
int tr_rules_resolve(const struct tr_opts *o, uint64_t *rule_ns, char *err, size_t len);
const char *tr_hook_name(int hook);
const char *tr_point_name(const struct tr_opts *o, int pt);

/* fpoints.c */
struct tr_fn;
/* The function of a fentry or kprobe point: its skb argument and address. */
int tr_fn_resolve(struct tr_opts *o, char *err, size_t len);
/* Before load: which of @obj's fentry/kprobe programs load. */
void tr_fn_prepare(const struct tr_opts *o, struct bpf_object *obj);
/*
 * After @obj (opened from @elf) is loaded: attach every function point, fentry
 * programs in objects of their own sharing @obj's maps (@fn_off: where `fn` is
 * in .rodata). Sets each point's via. -EOPNOTSUPP: the kernel lacks what a
 * point needs. Errors are printed; *@out is set even then.
 */
int tr_fn_attach(struct tr_opts *o, struct bpf_object *obj, const void *elf, size_t elf_sz,
		 size_t fn_off, struct tr_fn **out);
void tr_fn_destroy(struct tr_fn *fn);

/* stamp.c: --stamp */
struct tr_stamp;
/* Whether the first point can stamp (a device, an egress hook); else -EINVAL, @err set. */
int tr_stamp_check(const struct tr_opts *o, char *err, size_t len);
/* Load and attach at @pc's device; errors printed. *@out is set even then. */
int tr_stamp_start(struct tr_stamp **out, const struct tr_point_cfg *pc);
void tr_stamp_stop(struct tr_stamp *st);
/* How it is attached ("tcx", "tc") and its program's id. */
void tr_stamp_info(const struct tr_stamp *st, const char **via, uint32_t *prog_id);
/* The counters summed over CPUs. */
int tr_stamp_read(const struct tr_stamp *st, struct tr_stamp_stats *sum);

/* filter.c */
int tr_filter_xlate(const struct sock_filter *prog, int n, struct bpf_insn *out, int max,
		    int *outn, char *err, size_t len);
int tr_filter_compile(const char *expr, struct bpf_insn *out, int max, int *n,
		      char *err, size_t len);
int tr_filter_patch(struct bpf_program *prog, const struct bpf_insn *f, int n);

/* events.c */
int tr_reasons_load(struct tr_state *s);
const char *tr_reason_name(const struct tr_state *s, uint32_t reason);
int tr_event(void *ctx, void *data, size_t size);
int tr_events_consume(struct tr_state *s);
/* Records lost on the way to stdout since the last call (for the `lost` record). */
uint64_t tr_events_unwritten(struct tr_state *s);
uint64_t tr_records_unwritten(struct tr_state *s);
void tr_out_begin(struct tr_state *s);
void tr_out_end(struct tr_state *s);

/* Where records go: the open batch, else stdout. */
static inline FILE *tr_out(struct tr_state *s)
{
	return s->out ? s->out : stdout;
}
/* --perfetto: the process of netns @netns (named after point @pt's netns). */
int tr_pf_process(struct tr_state *s, const struct tr_opts *o, int pt, uint32_t netns);

/* flows.c */
void tr_flows_tick(struct tr_state *s, double secs, uint64_t rt);

/* report.c */
/* Realtime now, with the test-only skew. */
uint64_t tr_realtime_ns(const struct tr_state *s);
/* Pair the clocks again: s->rt_off from the tightest of three readings. */
void tr_clock_sync(struct tr_state *s);
/* A record's start: type, time and host. */
void tr_rec_begin(struct tr_state *s, struct bn_json *j, const char *type, uint64_t rt);
void tr_report_reset(struct tr_state *s);
int tr_report_init(struct tr_state *s);
void tr_report_tick(struct tr_state *s, bool final);
void tr_report_free(struct tr_state *s);
void tr_report_config(struct tr_state *s, int gen);
/* The counters in Prometheus's text format (after a tick). */
void tr_report_prom(struct tr_state *s, FILE *f);

#endif /* TRACER_STATE_H */
