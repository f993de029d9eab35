// SPDX-License-Identifier: GPL-2.0
/*
 * elephant-sched - a kube-scheduler extender that places pods by the network
 * footprint elephant learned: heavy workloads (they source or sink elephant
 * flows) away from light ones, and every pod toward nodes with fewer
 * elephants. It reads elephant's /metrics, through Prometheus (--prometheus)
 * or directly (--target), every --refresh into an in-memory snapshot, and
 * answers POST /filter and /prioritize from it without any I/O.
 * No BPF, no root.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <curl/curl.h>

#include "common.h"
#include "extender.h"

#define NSEC		1000000000ULL
#define MAX_TARGETS	1024

struct env {
	struct bn_cli cli;
	struct bn_listen listen;
	const char *prom_url;
	char *nodes[MAX_TARGETS], *urls[MAX_TARGETS];
	int ntargets;
	uint64_t refresh_ns, max_body;
	struct sched_cfg cfg;
	bool labels_given;
};

/* A refresh's answers parsed into a new snapshot, in a thread of its own. */
struct refresh {
	pthread_t thread;
	bool running;
	int efd;			/* written when the thread is done */
	uint64_t now_ns;
	struct sched_snap snap;
	struct sched_memory mem;
	int err, mem_err;
	uint64_t ms;
};

struct state {
	struct env *env;
	struct refresh job;
	struct bn_http *http;
	struct bn_loop loop;
	struct sched_source *src;
	struct sched_snap snap;
	struct sched_memory mem;
	bool busy;			/* a refresh is fetching or being parsed */
	uint64_t requests, bad_requests, refreshes, refresh_failures, skipped;
};

static const char doc[] =
"elephant-sched: a kube-scheduler extender that places pods by the network footprint elephant "
"learned (heavy workloads away from light ones, fewer elephants preferred).\n"
"\n"
"Endpoints: POST /filter and /prioritize (ExtenderArgs), GET /healthz, GET /state.\n"
"\n"
"EXAMPLES:\n"
"  elephant-sched --prometheus http://127.0.0.1:9090 -l 0.0.0.0:8888\n"
"  elephant-sched --target n1=198.18.0.1:9464 --target n2=198.18.0.2:9464\n"
"  elephant-sched --prometheus http://prom:9090 --isolate --max-elephants 4 -j";

enum {
	OPT_PROM = 1000, OPT_TARGET, OPT_REFRESH, OPT_STALE, OPT_LEARN, OPT_WL_LABEL,
	OPT_NAMESPACED, OPT_ISOLATE, OPT_MAX_E, OPT_MAX_BODY,
};

static const struct argp_option opts[] = {
	{ "listen", 'l', "[ADDR:]PORT", 0, "Serve the extender there (default 127.0.0.1:8888)", 0 },
	{ "prometheus", OPT_PROM, "URL", 0, "Query the Prometheus server at URL", 0 },
	{ "target", OPT_TARGET, "NODE=HOST:PORT", 0,
	  "Scrape NODE's elephant at HOST:PORT/metrics (repeatable; instead of --prometheus)", 0 },
	{ "refresh", OPT_REFRESH, "DUR", 0, "Read the data every DUR (default 10s)", 0 },
	{ "stale", OPT_STALE, "DUR", 0, "Data older than DUR is no data (default 2m)", 0 },
	{ "learn-window", OPT_LEARN, "DUR", 0,
	  "A workload with an elephant within DUR is heavy (default 24h)", 0 },
	{ "workload-label", OPT_WL_LABEL, "LABEL", 0,
	  "Pod label naming its workload, first present wins (repeatable; default "
	  "app.kubernetes.io/name, then app)", 0 },
	{ "namespaced", OPT_NAMESPACED, NULL, 0, "Workload names are NAMESPACE/VALUE", 0 },
	{ "isolate", OPT_ISOLATE, NULL, 0, "Filter: keep light pods off nodes with heavy workloads", 0 },
	{ "max-elephants", OPT_MAX_E, "N", 0, "Filter: reject nodes with N or more elephants", 0 },
	{ "max-body", OPT_MAX_BODY, "SIZE", 0, "Largest request body (default 16M)", 0 },
	{},
};

/* NODE=HOST:PORT, NODE=[ADDR6]:PORT or NODE=http(s)://... */
static void parse_target(struct env *env, const char *arg)
{
	const char *eq = strchr(arg, '='), *hp, *colon;
	uint64_t port;
	char *url;

	if (env->ntargets == MAX_TARGETS)
		bn_usage("too many --target: at most %d", MAX_TARGETS);
	if (!eq || eq == arg || eq - arg > SCHED_NAME_MAX || !eq[1])
		bn_usage("invalid --target '%s': want NODE=HOST:PORT", arg);
	hp = eq + 1;
	if (!strncmp(hp, "http://", 7) || !strncmp(hp, "https://", 8)) {
		url = strdup(hp);
	} else {
		colon = strrchr(hp, ':');
		if (!colon || colon == hp || strpbrk(hp, "/?#@ ") ||
		    bn_parse_u64(colon + 1, 1, 65535, &port))
			bn_usage("invalid --target '%s': want NODE=HOST:PORT", arg);
		if (asprintf(&url, "http://%s/metrics", hp) < 0)
			url = NULL;
	}
	env->nodes[env->ntargets] = strndup(arg, eq - arg);
	env->urls[env->ntargets] = url;
	if (!url || !env->nodes[env->ntargets])
		bn_usage("out of memory");
	env->ntargets++;
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *env = st->input;

	switch (key) {
	case 'l':
		bn_opt_listen("--listen", arg, &env->listen);
		break;
	case OPT_PROM:
		if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8))
			bn_usage("invalid --prometheus '%s': want an http:// or https:// URL", arg);
		env->prom_url = arg;
		break;
	case OPT_TARGET:
		parse_target(env, arg);
		break;
	case OPT_REFRESH:
		env->refresh_ns = bn_opt_duration("--refresh", arg, NSEC / 10, 3600 * NSEC);
		break;
	case OPT_STALE:
		env->cfg.stale_ns = bn_opt_duration("--stale", arg, NSEC, 7 * 86400 * NSEC);
		break;
	case OPT_LEARN:
		env->cfg.learn_window_ns = bn_opt_duration("--learn-window", arg, NSEC,
							   366 * 86400 * NSEC);
		break;
	case OPT_WL_LABEL:
		if (!env->labels_given)
			env->cfg.nlabels = 0;
		env->labels_given = true;
		if (env->cfg.nlabels == 8)
			bn_usage("too many --workload-label: at most 8");
		if (!*arg || strlen(arg) > 316)
			bn_usage("invalid --workload-label '%s': want a label name", arg);
		env->cfg.labels[env->cfg.nlabels++] = arg;
		break;
	case OPT_NAMESPACED:
		env->cfg.namespaced = true;
		break;
	case OPT_ISOLATE:
		env->cfg.isolate = true;
		break;
	case OPT_MAX_E:
		env->cfg.max_elephants = bn_opt_u64("--max-elephants", arg, 1, 1000000000);
		break;
	case OPT_MAX_BODY:
		env->max_body = bn_opt_size("--max-body", arg);
		if (env->max_body > (1ULL << 30))
			bn_usage("invalid --max-body '%s': at most 1G", arg);
		break;
	case ARGP_KEY_END:
		if (!env->prom_url && !env->ntargets)
			bn_usage("no data source: give --prometheus URL or --target NODE=HOST:PORT");
		if (env->prom_url && env->ntargets)
			bn_usage("--prometheus and --target exclude each other");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- requests ---- */

static void bad_request(struct state *S, const struct bn_http_req *req,
			struct bn_http_resp *resp, int status, const char *msg)
{
	char *body = NULL;
	size_t len = 0;

	S->bad_requests++;
	bn_warn("%s: POST %s: %d: %s", req->peer, req->path, status, msg);
	if (sched_answer_error(msg, &body, &len))
		return;
	bn_http_reply(resp, status, "application/json", "%.*s", (int)len, body);
	free(body);
}

static void extender(struct state *S, const struct bn_http_req *req,
		     struct bn_http_resp *resp, bool filter)
{
	struct sched_decision dn = { 0 }, di = { 0 };
	uint64_t now = bn_realtime_ns();
	struct sched_args a;
	struct sched_pod pod;
	char err[512];
	int e;

	S->requests++;
	e = sched_args_parse(req->body, req->body_len, &S->env->cfg, &a, &pod, err,
			     sizeof(err));
	if (e) {
		bad_request(S, req, resp, e == -ENOMEM ? 500 : 400, err);
		goto out;
	}
	sched_classify(&S->env->cfg, &S->mem, &pod, now);
	e = sched_decide(&S->env->cfg, &S->snap, &pod, a.names, a.nnames, filter, now, &dn);
	if (!e && a.has_nodes)
		e = sched_decide(&S->env->cfg, &S->snap, &pod, a.item_names, a.nitems, filter,
				 now, &di);
	if (!e)
		e = filter ? sched_answer_filter(&a, &dn, &di, &resp->body, &resp->len) :
			     sched_answer_prioritize(a.has_names ? &dn : &di, &resp->body,
						     &resp->len);
	if (e) {
		bad_request(S, req, resp, 500, "out of memory");
		goto out;
	}
	resp->status = 200;
	resp->type = "application/json";
	sched_out_decision(stdout, S->env->cli.json, filter ? "filter" : "prioritize", &pod,
			   a.has_names ? &dn : &di, now);
out:
	sched_decision_free(&dn);
	sched_decision_free(&di);
	sched_args_free(&a);
}

static void on_filter(void *ctx, const struct bn_http_req *req, struct bn_http_resp *resp)
{
	extender(ctx, req, resp, true);
}

static void on_prioritize(void *ctx, const struct bn_http_req *req,
			  struct bn_http_resp *resp)
{
	extender(ctx, req, resp, false);
}

static void on_healthz(void *ctx, const struct bn_http_req *req, struct bn_http_resp *resp)
{
	struct state *S = ctx;
	int n = sched_fresh_nodes(&S->snap, &S->env->cfg, bn_realtime_ns());

	if (n)
		bn_http_reply(resp, 200, NULL, "ok: %d node%s with fresh data\n", n,
			      n == 1 ? "" : "s");
	else
		bn_http_reply(resp, 503, NULL, "no node has fresh data\n");
}

static void on_state(void *ctx, const struct bn_http_req *req, struct bn_http_resp *resp)
{
	struct state *S = ctx;
	const struct sched_status *st;
	int nst = sched_source_status(S->src, &st);

	if (sched_out_state(&resp->body, &resp->len, &S->env->cfg, &S->snap, &S->mem, st, nst,
			    bn_realtime_ns())) {
		bn_http_reply(resp, 500, NULL, "out of memory\n");
		return;
	}
	resp->status = 200;
	resp->type = "application/json";
}

/* ---- refresh ---- */

/* The refresh thread: parse, build the snapshot, learn. Reads S->mem only. */
static void *refresh_work(void *ctx)
{
	struct state *S = ctx;
	struct refresh *r = &S->job;
	struct sched_samples ss = { 0 };
	uint64_t one = 1, t0 = bn_now_ns();

	r->err = sched_source_collect(S->src, &ss);
	if (!r->err)
		r->err = sched_snap_build(&r->snap, &ss, r->now_ns);
	sched_samples_free(&ss);
	if (!r->err)
		r->mem_err = sched_memory_update(&S->mem, &r->snap, &S->env->cfg, r->now_ns,
						 &r->mem);
	r->ms = (bn_now_ns() - t0) / 1000000;
	if (write(r->efd, &one, sizeof(one)) < 0)
		bn_warn("refresh: cannot wake the loop: %s", strerror(errno));
	return NULL;
}

/* The transfers of a refresh ended: parse them off the loop. */
static void on_fetched(void *ctx)
{
	struct state *S = ctx;
	struct refresh *r = &S->job;

	memset(&r->snap, 0, sizeof(r->snap));
	memset(&r->mem, 0, sizeof(r->mem));
	r->err = r->mem_err = 0;
	r->now_ns = bn_realtime_ns();
	r->running = true;
	if (pthread_create(&r->thread, NULL, refresh_work, S)) {
		bn_warn("refresh: no thread, parsing in the loop");
		r->running = false;
		refresh_work(S);
	}
}

/* The refresh thread is done: its snapshot and memory replace the old ones. */
static int on_refreshed(void *ctx)
{
	struct state *S = ctx;
	struct refresh *r = &S->job;
	const struct sched_status *st;
	uint64_t n;
	int i, nst;

	if (read(r->efd, &n, sizeof(n)) < 0)
		return 0;
	if (r->running)
		pthread_join(r->thread, NULL);
	r->running = false;
	sched_source_commit(S->src);
	nst = sched_source_status(S->src, &st);
	for (i = 0; i < nst; i++)
		if (!st[i].ok)
			bn_warn("refresh: %s (%s): %s", st[i].name, st[i].url, st[i].err);
	S->refreshes++;
	if (r->err) {
		S->refresh_failures++;
		if (r->err != -EAGAIN)
			bn_warn("refresh: %s; keeping the last data", strerror(-r->err));
	} else {
		sched_snap_free(&S->snap);
		S->snap = r->snap;
		if (r->mem_err)
			bn_warn("refresh: learned workloads: %s", r->mem_err == -E2BIG ?
				"too many, the least recently seen were forgotten" :
				strerror(-r->mem_err));
		sched_memory_free(&S->mem);
		S->mem = r->mem;
		bn_dbg("refresh: %d nodes parsed in %llu ms", S->snap.n,
		       (unsigned long long)r->ms);
	}
	memset(&r->snap, 0, sizeof(r->snap));
	memset(&r->mem, 0, sizeof(r->mem));
	S->busy = false;
	sched_out_source(stdout, S->env->cli.json, st, nst, &S->snap, &S->env->cfg,
			 bn_realtime_ns());
	return 0;
}

static int tick(void *ctx)
{
	struct state *S = ctx;
	int err = S->busy ? -EBUSY : sched_source_start(S->src);

	if (!err)
		S->busy = true;
	if (err == -EBUSY) {
		S->skipped++;
		bn_warn("refresh: the last one has not finished after --refresh; skipped");
		return 0;
	}
	if (err)
		bn_warn("refresh: cannot start: %s", strerror(-err));
	return 0;
}

static int serve(struct state *S)
{
	struct env *env = S->env;
	const struct bn_http_route routes[] = {
		{ "/filter", BN_HTTP_POST, on_filter, S },
		{ "/prioritize", BN_HTTP_POST, on_prioritize, S },
		{ "/healthz", BN_HTTP_GET, on_healthz, S },
		{ "/state", BN_HTTP_GET, on_state, S },
	};
	uint64_t timeout = env->refresh_ns < 30 * NSEC ? env->refresh_ns : 30 * NSEC;
	int err;

	err = sched_source_open(&S->src, env->prom_url, env->nodes, env->urls, env->ntargets,
				timeout, on_fetched, S);
	if (err) {
		bn_err("cannot set up the data source: %s", strerror(-err));
		return err;
	}
	err = bn_http_open(&S->http, &env->listen, routes, 4, env->max_body);
	if (err) {
		bn_err("cannot listen on %s: %s", env->listen.str, strerror(-err));
		return err;
	}
	bn_http_json_errors(S->http, true);
	err = bn_loop_init(&S->loop, env->refresh_ns, env->cli.duration_ns);
	err = err ?: bn_loop_add_http(&S->loop, S->http);
	err = err ?: bn_loop_add(&S->loop, sched_source_fd(S->src), sched_source_process, S->src);
	S->job.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = err ?: S->job.efd < 0 ? -errno : 0;
	err = err ?: bn_loop_add(&S->loop, S->job.efd, on_refreshed, S);
	if (err) {
		bn_err("cannot set up the loop: %s", strerror(-err));
		return err;
	}
	tick(S);
	bn_info("listening on %s, reading %s", env->listen.str,
		env->prom_url ? env->prom_url : "the --target elephants");
	bn_ready();
	err = bn_loop_run(&S->loop, tick, S);
	if (err)
		bn_err("loop: %s", strerror(-err));
	fprintf(stderr, "%s: %llu requests (%llu bad), %llu refreshes (%llu failed, %llu "
		"skipped)\n", bn_prog(), (unsigned long long)S->requests,
		(unsigned long long)S->bad_requests, (unsigned long long)S->refreshes,
		(unsigned long long)S->refresh_failures, (unsigned long long)S->skipped);
	/* the routes live on this stack frame: close the server before returning */
	bn_http_close(S->http);
	S->http = NULL;
	return err;
}

int main(int argc, char **argv)
{
	static struct env env = {
		.refresh_ns = 10 * NSEC,
		.max_body = 16 << 20,
		.cfg = {
			.stale_ns = 120 * NSEC,
			.learn_window_ns = 24 * 3600 * NSEC,
			.labels = { "app.kubernetes.io/name", "app" },
			.nlabels = 2,
		},
	};
	struct state S = { .env = &env };
	int err, i;

	bn_log_init(argv[0]);
	bn_parse_listen("127.0.0.1:8888", &env.listen);
	bn_cli_parse(&env.cli, opts, parse_opt, NULL, doc, &env, argc, argv);
	bn_stdout_setup();
	err = bn_signals_setup();
	if (err) {
		bn_err("cannot set up signals: %s", strerror(-err));
		return BN_EXIT_ERR;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		bn_err("cannot initialise libcurl");
		return BN_EXIT_ERR;
	}
	S.job.efd = -1;
	err = serve(&S);
	if (S.job.running) {	/* stopped while a refresh was parsed */
		pthread_join(S.job.thread, NULL);
		sched_snap_free(&S.job.snap);
		sched_memory_free(&S.job.mem);
	}
	if (S.job.efd >= 0)
		close(S.job.efd);
	bn_http_close(S.http);
	bn_loop_close(&S.loop);
	sched_source_close(S.src);
	sched_snap_free(&S.snap);
	sched_memory_free(&S.mem);
	for (i = 0; i < env.ntargets; i++) {
		free(env.nodes[i]);
		free(env.urls[i]);
	}
	curl_global_cleanup();
	return err ? BN_EXIT_ERR : BN_EXIT_OK;
}
