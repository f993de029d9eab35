/* SPDX-License-Identifier: GPL-2.0 */
/*
 * extender.h - elephant-sched, the kube-scheduler extender: what its parts
 * share. The data path: elephant's /metrics (scraped by the extender, or by
 * Prometheus and queried with PromQL) -> samples -> a snapshot of nodes and
 * their workloads -> the learned classes of workloads -> a decision per
 * request (sched_policy.c) -> the answer (sched_api.c).
 */
#ifndef ELEPHANT_EXTENDER_H
#define ELEPHANT_EXTENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The series of elephant's /metrics the extender reads. */
enum sched_metric {
	SM_NODE_ELEPHANTS,	/* elephant_node_elephants{node}: E */
	SM_NODE_HEAVY,		/* elephant_node_heavy_workloads{node}: H */
	SM_WL_ELEPHANTS,	/* elephant_workload_elephants{node,workload} */
	SM_WL_MICE,		/* elephant_workload_mice{node,workload} */
	SM_WL_HEAVY,		/* elephant_workload_heavy{node,workload} */
	SM_WL_LAST,		/* elephant_workload_last_elephant_seconds{node,workload} */
	SM_NR,
	SM_SCRAPE_TIME = SM_NR,	/* not a series: when the node's data was taken (Unix s) */
};

extern const char *const sched_metric_names[SM_NR];
/* The metric called @name (@len bytes), or -1 if the extender does not read it. */
int sched_metric_index(const char *name, size_t len);

/* ---- samples: one value of one series ---- */

#define SCHED_NAME_MAX	253	/* Kubernetes node names; label values are bounded the same */

struct sched_sample {
	char *node;
	char *workload;		/* NULL for node series */
	int metric;
	double value;
};

struct sched_samples {
	struct sched_sample *s;
	size_t n, cap;
	size_t max;		/* 0: SCHED_MAX_SAMPLES */
};

#define SCHED_MAX_SAMPLES	(4 * 1024 * 1024)

/* Copies @node and @workload; -E2BIG past the bound, -EINVAL for a bad name. */
int sched_samples_add(struct sched_samples *ss, int metric, const char *node,
		      const char *workload, double value);
/* Move every sample of @from to the end of @to (@from is emptied). */
int sched_samples_take(struct sched_samples *to, struct sched_samples *from);
void sched_samples_free(struct sched_samples *ss);

/* ---- parsers of the input (sched_expo.c) ---- */

/*
 * elephant's /metrics (Prometheus text format 0.0.4) into @out; only the
 * series of enum sched_metric are kept. @node, if not NULL, replaces the
 * series' node label (--target NODE=...). Returns 0 or -EINVAL with a message
 * naming the line in @err.
 */
int sched_expo_parse(const char *text, size_t len, const char *node,
		     struct sched_samples *out, char *err, size_t errlen);
/*
 * A Prometheus HTTP API answer (/api/v1/query, resultType vector) into @out.
 * @metric >= 0 gives every series that metric (timestamp() results, which
 * lose their name); -1 takes it from __name__. @eval_s gets the evaluation
 * time. Returns 0 or -EINVAL with a message in @err.
 */
int sched_prom_parse(const char *body, size_t len, int metric, struct sched_samples *out,
		     double *eval_s, char *err, size_t errlen);

/* ---- the snapshot: what the last refresh learned, per node ---- */

struct sched_wl {
	char *name;
	unsigned int elephants, mice;
	bool heavy;
	double last_elephant;	/* Unix s; < 0: not exported */
};

struct sched_node {
	char *name;
	uint64_t data_ns;	/* Unix ns of the data (scrape time) */
	bool has_e;		/* elephant_node_elephants seen: the node has data */
	unsigned int e, h, l;	/* elephants, heavy workloads, active light workloads */
	int nwl;
	struct sched_wl *wl;	/* sorted by name */
};

struct sched_snap {
	int n;
	struct sched_node *nodes;	/* sorted by name */
};

/* Build @snap from @ss (sorted in place); @default_ns: data time without one. */
int sched_snap_build(struct sched_snap *snap, struct sched_samples *ss, uint64_t default_ns);
const struct sched_node *sched_snap_find(const struct sched_snap *snap, const char *name);
void sched_snap_free(struct sched_snap *snap);

/* ---- workloads learned across refreshes (sched_policy.c) ---- */

struct sched_learned {
	char *name;
	int64_t last_seen;	/* Unix s a fresh node last reported it */
	int64_t last_elephant;	/* Unix s of its last elephant, 0: none seen */
	char *heavy_node;	/* where that elephant was */
	int evidence;		/* enum sched_metric that showed it */
};

struct sched_memory {
	int n;
	struct sched_learned *w;	/* sorted by name */
};

#define SCHED_MAX_LEARNED	100000

struct sched_cfg {
	bool isolate;			/* --isolate */
	unsigned int max_elephants;	/* --max-elephants, 0: off */
	uint64_t stale_ns;		/* --stale */
	uint64_t learn_window_ns;	/* --learn-window */
	const char *labels[8];		/* --workload-label, in order */
	int nlabels;
	bool namespaced;		/* --namespaced */
};

/*
 * @old with the fresh nodes of @snap folded in, minus what is older than the
 * window, into @out (@old is only read: the loop may use it meanwhile).
 */
int sched_memory_update(const struct sched_memory *old, const struct sched_snap *snap,
			const struct sched_cfg *cfg, uint64_t now_ns, struct sched_memory *out);
const struct sched_learned *sched_memory_find(const struct sched_memory *mem,
					      const char *name);
void sched_memory_free(struct sched_memory *mem);

enum sched_class { SC_UNKNOWN, SC_LIGHT, SC_HEAVY };
extern const char *const sched_class_names[3];

/* What a pod is, from its labels and annotations (sched_api.c fills them in). */
struct sched_pod {
	const char *name, *ns;
	const char *footprint;		/* bpfnet.io/footprint annotation, or NULL */
	const char *label_vals[8];	/* value of cfg->labels[i], or NULL */
	char workload[2 * SCHED_NAME_MAX + 2];	/* "" if none */
	enum sched_class cls;
	char source[160];		/* why: "annotation", "learned: ...", ... */
};

/* Set pod->workload, pod->cls and pod->source. */
void sched_classify(const struct sched_cfg *cfg, const struct sched_memory *mem,
		    struct sched_pod *pod, uint64_t now_ns);

/* A node of a request, evaluated. */
struct sched_eval {
	const char *name;
	bool data;			/* fresh data */
	unsigned int e, h, l, cost;
	int score;			/* 0-10 */
	bool failed;
	char *reason;			/* malloc()ed when failed */
};

struct sched_decision {
	int n;
	struct sched_eval *nodes;
	int passed, failed, no_data;
	bool fail_open;			/* every node would have been rejected */
};

/* Evaluate @names[0..n-1] for @pod: costs and scores, and the filter if @filter. */
int sched_decide(const struct sched_cfg *cfg, const struct sched_snap *snap,
		 const struct sched_pod *pod, const char *const *names, int n, bool filter,
		 uint64_t now_ns, struct sched_decision *d);
void sched_decision_free(struct sched_decision *d);

/* ---- the extender's wire format (sched_api.c) ---- */

struct json_t;

/* ExtenderArgs, parsed: the pod and the nodes in the form(s) the request used. */
struct sched_args {
	struct json_t *root;
	bool has_names, has_nodes;	/* NodeNames, Nodes given (not null) */
	const char **names;		/* NodeNames */
	int nnames;
	struct json_t *items;		/* Nodes.items */
	const char **item_names;	/* their metadata.name */
	int nitems;
};

/*
 * Parse an ExtenderArgs document: keys matched as Go's encoding/json does
 * (case-insensitively, last one wins), the pod's name, namespace, labels and
 * annotations into @pod (@cfg->labels looked up). Returns 0, or -EINVAL with
 * what and where in @err (line and column for bad JSON).
 */
int sched_args_parse(const char *body, size_t len, const struct sched_cfg *cfg,
		     struct sched_args *a, struct sched_pod *pod, char *err, size_t errlen);
void sched_args_free(struct sched_args *a);
/* ExtenderFilterResult for @a: @dn decides NodeNames, @di Nodes.items. malloc()ed. */
int sched_answer_filter(const struct sched_args *a, const struct sched_decision *dn,
			const struct sched_decision *di, char **out, size_t *len);
/* HostPriorityList for the nodes of @d. */
int sched_answer_prioritize(const struct sched_decision *d, char **out, size_t *len);
/* @s as a JSON string: plain ASCII at once, the rest through bn_json_escape(). */
void sched_json_str(FILE *f, const char *s);
/* {"Error":"@msg"} */
int sched_answer_error(const char *msg, char **out, size_t *len);

/* ---- where the data comes from (sched_source.c): non-blocking, libcurl multi ---- */

struct sched_status {
	char name[SCHED_NAME_MAX + 1];	/* the --target's node, or "prometheus" */
	char url[512];
	bool ok;			/* the last attempt worked */
	char err[256];			/* why it did not */
	uint64_t good_ns;		/* Unix ns of the last good answer, 0: none yet */
	uint64_t ms;			/* how long the last attempt took */
};

struct sched_source;

/*
 * Scrape every --target (@nodes[i] = @urls[i]) or query the Prometheus server
 * at @prom_url. @done(@ctx) is called from sched_source_process() when a
 * refresh has finished. Nothing blocks: the source's fd (sched_source_fd())
 * goes into the tool's loop.
 */
int sched_source_open(struct sched_source **out, const char *prom_url,
		      char *const *nodes, char *const *urls, int ntargets,
		      uint64_t timeout_ns, void (*done)(void *ctx), void *ctx);
int sched_source_fd(const struct sched_source *s);
/* Start a refresh; -EBUSY if the last one has not finished. */
int sched_source_start(struct sched_source *s);
/* Drive the transfers (the loop's callback); never waits. */
int sched_source_process(void *s);
/*
 * Parse what the refresh that just ended brought into @out: 0, or -EAGAIN if
 * it failed entirely. It touches only what the loop does not read until
 * sched_source_commit() (the refresh's statuses), so it may run in a thread
 * while the loop answers requests; no refresh may start meanwhile.
 */
int sched_source_collect(struct sched_source *s, struct sched_samples *out);
/* The statuses of the collected refresh become those sched_source_status() gives. */
void sched_source_commit(struct sched_source *s);
int sched_source_status(const struct sched_source *s, const struct sched_status **st);
void sched_source_close(struct sched_source *s);

/* ---- what elephant-sched prints (sched_out.c) ---- */

/* One record of a request's decision (@type "filter" or "prioritize") on @f. */
void sched_out_decision(FILE *f, bool json, const char *type, const struct sched_pod *pod,
			const struct sched_decision *d, uint64_t now_ns);
/* One record per data source after a refresh. */
void sched_out_source(FILE *f, bool json, const struct sched_status *st, int nst,
		      const struct sched_snap *snap, const struct sched_cfg *cfg,
		      uint64_t now_ns);
/* The /state document. */
int sched_out_state(char **out, size_t *len, const struct sched_cfg *cfg,
		    const struct sched_snap *snap, const struct sched_memory *mem,
		    const struct sched_status *st, int nst, uint64_t now_ns);
/* Whether @nd has data not older than --stale; how many nodes of @snap do. */
bool sched_node_fresh(const struct sched_node *nd, const struct sched_cfg *cfg,
		      uint64_t now_ns);
int sched_fresh_nodes(const struct sched_snap *snap, const struct sched_cfg *cfg,
		      uint64_t now_ns);

#endif /* ELEPHANT_EXTENDER_H */
