/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rss-client.h - what the parts of rss-client share: the load generator
 * (load.c), the step records and the summary (results.c), the queueing
 * model (model.c) and the plots (plot.c). Each part takes its state as an
 * argument; the only state the threads share is in struct load.
 */
#ifndef BPFNET_RSS_CLIENT_H
#define BPFNET_RSS_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <linux/types.h>
#include "common.h"
#include "rss.h"
#include "rss_hist.h"

#define MAX_CLIENTS	256
#define MAX_STEPS	1000
#define MAX_FILES	16

extern const char *const class_names[RSS_NR_CLASSES];

enum out_fmt {
	OUT_TEXT,
	OUT_JSON,
	OUT_CSV,
};

/* ---- the queueing model (model.c, seed section 5.1.2) ---- */

/* The server's policies, as rss names them: --policy labels a run with one. */
#define MODEL_NR_POLICIES 6
extern const char *const model_policies[MODEL_NR_POLICIES];

struct model {
	int short_pct;			/* share of short requests, % */
	double short_us, long_us;	/* service times */
	int cpus;			/* k: the server's worker CPUs; 0: not given */
	int long_cpus;			/* k_L: split's long group */
	int qsize;			/* cpumap queue size */
};

/*
 * Requests/s of all classes together at which the queue of @class saturates
 * under @policy; NAN when the class is not offered. *plateau_us: the queuing
 * delay of a full queue.
 */
double model_rate(const struct model *m, const char *policy, int class, double *plateau_us);
/* model_rate() for the label @policy of a run: NAN for "-" or without --cpus. */
double model_run_rate(const struct model *m, const char *policy, int class);
/* --model: every policy and class, then the seed's k_S threshold on stderr. */
void model_print(const struct model *m, enum out_fmt fmt);

/* ---- the load generator (load.c) ---- */

/* Per client, step and class: written by the client's threads only. */
struct cls_stat {
	__u64 sent;			/* by the sender */
	__u64 received;			/* the rest by the receiver */
	__u64 dups;
	__u64 bad_ts;
	struct rss_hist q;
	struct rss_hist rtt;
};

struct load;

/* One UDP socket with its sender and receiver thread. */
struct client {
	const struct load *ld;		/* the run it belongs to */
	int idx;
	int fd;
	__u16 lport;
	pthread_t tx, rx;
	struct cls_stat (*st)[RSS_NR_CLASSES];	/* [step][class] */
	__u8 **seen;			/* receiver: dup bitmap per step */
	__u64 *seen_bits;
	__u64 send_err;			/* sender */
	__u64 invalid;			/* receiver, from here on */
	__u64 late;			/* replies after their step was reported */
	__u64 cpu_replies[RSS_MAX_CPUS];
	unsigned short xs[3];		/* sender's random state */
};

struct load {
	/* the run, set before load_open() and not changed after */
	struct bn_addr server;
	__u16 port;
	int nclients;
	bool poisson;
	int short_pct;
	int nsteps;
	__u64 step_len_ns;
	double *step_rate;		/* [nsteps] requests/s; load_close() frees it */
	/* set by load_start() before the threads run */
	__u64 t0_ns;			/* start of step 0, CLOCK_MONOTONIC */
	/* written by the main thread, read by the threads */
	volatile int tx_stop;		/* senders: stop sending */
	volatile int rx_stop;		/* receivers: stop (after the senders) */
	volatile char *reported;	/* [nsteps]: the step is printed already */
	struct client *clients;		/* [nclients] */
	int started;			/* clients whose threads run */
};

/* Sums of one step and class over every client. */
struct load_sum {
	__u64 sent;
	__u64 received;
	struct rss_hist q;
	struct rss_hist rtt;
};

/* Totals of a run, for the summary. */
struct load_totals {
	__u64 sent, received, dups, invalid, send_err, bad_ts, late;
};

/* Sockets and per-step state of every client; 0 or -errno. */
int load_open(struct load *ld);
/* Start the threads; step 0 begins 50 ms from now. 0 or -errno. */
int load_start(struct load *ld);
/* Stop and join the threads that run. */
void load_stop(struct load *ld);
void load_close(struct load *ld);
/* Sleep until @t (CLOCK_MONOTONIC ns), a signal or load_stop(). */
void load_sleep_until(const struct load *ld, __u64 t);
/* Add step @s, class @c of every client into @sum (zeroed by the caller). */
void load_step_sum(const struct load *ld, int s, int c, struct load_sum *sum);
void load_totals(const struct load *ld, struct load_totals *t);

/* ---- records of the steps and the summary (results.c) ---- */

struct record {
	int step;
	int class;
	double offered, achieved;
	__u64 sent, received;
	__s64 lost;
	double total;	/* achieved rate of all classes in the step */
	double q[4], rtt[4];
	double model;
};

struct results {
	enum out_fmt fmt;
	const char *policy;		/* --policy label */
	const struct model *model;
	const struct load *ld;
	struct record (*recs)[RSS_NR_CLASSES];	/* [nsteps] */
};

int results_init(struct results *r, const struct load *ld, const struct model *m,
		 const char *policy, enum out_fmt fmt);
void results_free(struct results *r);
void results_header(const struct results *r);
/* Merge step @s of every client and print a record per class offered. */
int results_step(struct results *r, int s);
/* The stderr summary: totals (load_totals()), then the knees of a ramp and -v flows. */
void results_totals(const struct load_totals *t);
void results_knees(const struct results *r);
void results_flows(const struct results *r);

/* ---- plots (plot.c) ---- */

struct series;

struct plot {
	struct series *series;
	int n;
};

int plot_init(struct plot *p);
void plot_free(struct plot *p);
void plot_add(struct plot *p, const char *policy, int class, double x, double y);
/* The p99 queuing delay of each class against total_rps of an --csv file. */
int plot_load_csv(struct plot *p, const char *path);
/* Draw the series into @png with gnuplot; prints its own errors. */
int plot_write(const struct plot *p, const char *png);

#endif /* BPFNET_RSS_CLIENT_H */
