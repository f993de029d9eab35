/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h - what netcost's user-space files share: the options, and the
 * state of each job (hooks.c, samples.c, cgroup.c, snap.c, report.c), each
 * passed to its functions as a pointer.
 */
#ifndef NETCOST_INTERNAL_H
#define NETCOST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "netcost.h"
#include "category.h"
#include "netcost.skel.h"

enum nc_backend { NC_BK_AUTO, NC_BK_FENTRY, NC_BK_KPROBE, NC_BK_TP, NC_BK_NR };

extern const char *const nc_backend_names[NC_BK_NR];
extern const char *const nc_kind_names[NC_NR_KINDS];

/* The command line. */
struct nc_opts {
	struct bn_cli cli;	/* -i -d -j */
	bool cpus_given;
	struct bn_cpuset cpus;
	enum nc_backend backend;
	bool breakdown;
	uint64_t freq;
	enum nc_sampler sampler;
	bool sampling_opt;	/* --freq, --sampler or --slots given */
	const char *folded;
	int cgroups;		/* top N, 0: off */
	uint64_t max_cgroups;	/* --max-cgroups, 0: the map's default */
	bool metrics;		/* --metrics given: listen on @listen */
	struct bn_listen listen;
	bool bpf_stats;
	uint64_t slots;		/* samples per CPU per buffer */
};

/* ---- hooks.c: which programs load, and their attachment ---- */

struct nc_hooks {
	enum nc_backend backend;	/* the one chosen */
	int nr_cpus;
	struct bpf_link **links;
	int nlinks, links_cap;
	int *pfds;			/* perf event fds, per CPU, -1: none */
};

/* The backend for @want (NC_BK_AUTO: the first that works); NC_BK_AUTO if none. */
enum nc_backend nc_hooks_choose(enum nc_backend want);
/* Set which programs of @skel load, and their targets, before the load. */
int nc_hooks_select(struct nc_hooks *h, struct netcost_bpf *skel, bool breakdown);
/* Attach every loaded program but the sampler. */
int nc_hooks_attach(struct nc_hooks *h, struct netcost_bpf *skel);
/* A cpu-clock perf event at @freq Hz on each CPU of @cpus, running nc_sample. */
int nc_hooks_open_perf(struct nc_hooks *h, struct netcost_bpf *skel,
		       const struct bn_cpuset *cpus, uint64_t freq);
void nc_hooks_free(struct nc_hooks *h);

/* ---- samples.c: stack samples, symbolized and put in categories ---- */

/* A sampled address, symbolized and classified once. */
struct nc_ip_ent {
	uint64_t ip;
	const struct bn_ksym *sym;	/* NULL: in no symbol */
	struct nc_frame frame;
};

struct nc_samples {
	int nr_cpus;
	uint64_t slots;
	const char *folded_path;	/* --folded, NULL: none */
	struct bn_wfile folded_w;	/* --folded, written at exit */
	struct netcost_bpf *skel;
	struct nc_sample *arr;		/* mmapped sample array */
	size_t arr_len;
	struct ring_buffer *rb;
	struct bn_ksyms ksyms;
	struct nc_ip_ent *ipc;		/* address cache, ip 0: empty */
	struct nc_folded folded;
	uint64_t cat[NC_NR_KINDS][NC_CAT_NR];		/* this interval */
	uint64_t cat_sum[NC_NR_KINDS][NC_CAT_NR];	/* intervals reported */
	uint64_t unsymbolized;		/* frames not in the symbol table */
	uint64_t bpf_ids_hash;		/* the BPF programs whose symbols we have */
	uint64_t folded_drops;		/* stacks --folded could not keep */
};

/* Before the BPF object is opened: the --folded file, kernel symbols. */
int nc_samples_init(struct nc_samples *s, const struct nc_opts *o, int nr_cpus);
/* After the load: map the sample array or open the ring buffer reader. */
int nc_samples_open(struct nc_samples *s, struct netcost_bpf *skel, enum nc_sampler sampler);
/* Read what the samplers hold (every DRAIN_NS). */
void nc_samples_drain(struct nc_samples *s);
/* At exit: everything, after a grace period for programs still writing. */
void nc_samples_drain_all(struct nc_samples *s);
/* Re-read the JITed BPF symbols if the set of programs changed. */
void nc_samples_refresh_syms(struct nc_samples *s);
/* Add this interval's categories to the run's. */
void nc_samples_next_interval(struct nc_samples *s);
/* Write the --folded file; 0 or -errno (said on stderr). */
int nc_samples_write_folded(struct nc_samples *s);
void nc_samples_free(struct nc_samples *s);

/* ---- cgroup.c: socket time per cgroup ---- */

struct nc_cg_ent {
	uint64_t id;
	uint64_t ns[2], ops[2];		/* last read totals */
	uint64_t d[2], dops[2];		/* this interval */
	uint64_t sum[2], sumops[2];	/* whole run */
	char *path;
};

struct nc_cgroups {
	int map_fd;
	struct nc_cg_ent *ents;
	int n;
	char root[4096];		/* where cgroup v2 is mounted, "" if nowhere */
	bool root_done;
};

int nc_cgroups_init(struct nc_cgroups *c, int map_fd);
/* Read the map: this interval's differences and the run's sums. */
void nc_cgroups_read(struct nc_cgroups *c);
/* Most socket time first, in this interval or (@whole_run) in the run. */
void nc_cgroups_sort(struct nc_cgroups *c, bool whole_run);
void nc_cgroups_free(struct nc_cgroups *c);

/* ---- snap.c: the counters of one moment ---- */

#define NC_NPEND	(NC_NR_KINDS + 1)	/* kinds, then all softirqs */

struct nc_snap {
	int nr_cpus;
	struct nc_cpu *cpu;	/* nr_cpus entries */
	uint64_t *stat_si;	/* /proc/stat softirq ticks per CPU */
	uint64_t *pend;		/* in-progress time counted early, [cpu][NC_NPEND] */
	uint64_t mono;		/* CLOCK_MONOTONIC ns */
	uint64_t self_ns;	/* netcost's user+system time */
	uint64_t bpf_ns, bpf_cnt;
};

int nc_snap_alloc(struct nc_snap *s, int nr_cpus);
void nc_snap_free(struct nc_snap *s);
void nc_snap_copy(struct nc_snap *dst, const struct nc_snap *src);
/* Read @skel's counters into @s; with @bpf_stats the programs' run time too. */
void nc_snap_take(struct nc_snap *s, const struct netcost_bpf *skel, bool bpf_stats);

/* ---- report.c: records, summaries and the metrics body ---- */

struct nc_report {
	const struct nc_opts *opts;
	int nr_cpus;
	uint64_t clk_tck;
	struct nc_cgroups *cg;		/* NULL without --cgroups */
	struct nc_samples *samples;	/* NULL without --breakdown */
	const struct nc_snap *first;	/* the run's start, for the metrics' totals */
	bool metrics;			/* build the exposition */
	char *metrics_text;		/* the last one, NULL before the first interval */
	size_t metrics_len;
};

/* One interval (or, with @average, the whole run) from snapshot @a to @b. */
void nc_report(struct nc_report *rp, const struct nc_snap *a, const struct nc_snap *b,
	       bool average);
void nc_report_free(struct nc_report *rp);

#endif /* NETCOST_INTERNAL_H */
