// SPDX-License-Identifier: GPL-2.0
/*
 * sched_source.c - where elephant-sched's data comes from: every --target's
 * /metrics scraped directly, or two PromQL instant queries to --prometheus
 * (the series, and timestamp() of each node's scrape). Transfers run on
 * libcurl's multi interface driven by the tool's loop: curl's sockets and
 * its timer live in an epoll set of our own whose fd is one source of the
 * loop, so a slow or dead elephant or Prometheus never blocks a request.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <curl/curl.h>

#include "common.h"
#include "extender.h"

#define NSEC		1000000000ULL
#define MAX_ANSWER	(64 << 20)	/* bytes of one answer */

static const char *const prom_queries[] = {
	"{__name__=~\"elephant_node_elephants|elephant_node_heavy_workloads|"
	"elephant_workload_elephants|elephant_workload_mice|elephant_workload_heavy|"
	"elephant_workload_last_elephant_seconds\"}",
	"timestamp(elephant_node_elephants)",
};
#define NR_QUERIES 2

struct xfer {
	struct sched_source *src;
	CURL *easy;
	int idx;		/* target or query */
	char *buf;
	size_t len;
	bool too_big;
	uint64_t start_ns;
	char errbuf[CURL_ERROR_SIZE];
};

/* What a transfer brought back, parsed by sched_source_collect(). */
struct answer {
	char *buf;
	size_t len;
	long code;
	uint64_t done_ns;		/* Unix ns */
	char err[CURL_ERROR_SIZE];	/* the transfer failed */
};

struct sched_source {
	CURLM *multi;
	int epfd, tfd;
	bool prom;
	int nx;			/* transfers per refresh: targets or queries */
	char **urls;
	struct sched_status *st;	/* per target, or one for Prometheus */
	struct sched_status *next;	/* the same, being updated by the refresh */
	struct answer *ans;		/* per transfer of the refresh */
	struct sched_samples *last;	/* per target: its last good samples */
	struct sched_samples acc;	/* Prometheus: this refresh's samples */
	struct xfer **live;		/* transfers in flight, by index */
	bool acc_ok;
	uint64_t timeout_ns;
	int pending;
	void (*done)(void *ctx);
	void *ctx;
};

static size_t on_data(char *p, size_t size, size_t n, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * n;
	char *b;

	if (x->len + len > MAX_ANSWER) {
		x->too_big = true;
		return 0;
	}
	b = realloc(x->buf, x->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + x->len, p, len);
	x->buf = b;
	x->len += len;
	b[x->len] = '\0';
	return len;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct sched_source *s = userp;
	struct epoll_event ev = { .data.fd = fd };

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) && errno == ENOENT &&
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -1;
	return 0;
}

static int on_timer(CURLM *m, long ms, void *userp)
{
	struct sched_source *s = userp;
	struct itimerspec its = { 0 };

	if (ms == 0)
		its.it_value.tv_nsec = 1;
	else if (ms > 0) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000;
	}
	return timerfd_settime(s->tfd, 0, &its, NULL) ? -1 : 0;
}

/* A Prometheus answer: its samples into this refresh's. */
static int prom_answer(struct sched_source *s, int idx, struct answer *a, char *err,
		       size_t len)
{
	double eval = 0;
	int e;

	e = sched_prom_parse(a->buf ?: "", a->len, idx ? SM_SCRAPE_TIME : -1, &s->acc, &eval,
			     err, len);
	if (!e && a->code != 200) {
		snprintf(err, len, "HTTP status %ld", a->code);
		e = -EINVAL;
	}
	return e;
}

/* A target's /metrics: replaces its last good samples. */
static int target_answer(struct sched_source *s, int idx, struct answer *a, char *err,
			 size_t len)
{
	struct sched_samples ss = { 0 };
	const char *node = s->next[idx].name;
	int e;

	if (a->code != 200) {
		snprintf(err, len, "HTTP status %ld", a->code);
		return -EINVAL;
	}
	e = sched_expo_parse(a->buf ?: "", a->len, node, &ss, err, len);
	e = e ?: sched_samples_add(&ss, SM_SCRAPE_TIME, node, NULL, a->done_ns / 1e9);
	if (e) {
		sched_samples_free(&ss);
		return e;
	}
	sched_samples_free(&s->last[idx]);
	s->last[idx] = ss;
	return 0;
}

/* Parse answer @idx of the refresh into the samples; its status into s->next. */
static void answer_parse(struct sched_source *s, int idx)
{
	struct answer *a = &s->ans[idx];
	struct sched_status *st = &s->next[s->prom ? 0 : idx];
	char err[sizeof(st->err)];
	int e = a->err[0] ? -EIO : 0;

	if (e)
		snprintf(err, sizeof(err), "%s", a->err);
	else
		e = s->prom ? prom_answer(s, idx, a, err, sizeof(err)) :
			      target_answer(s, idx, a, err, sizeof(err));
	if (e) {
		s->acc_ok = false;
		st->ok = false;
		snprintf(st->err, sizeof(st->err), "%s%.240s", s->prom ? "query: " : "", err);
	} else if (!s->prom) {
		st->ok = true;
		st->err[0] = '\0';
		st->good_ns = a->done_ns;
	}
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

static void xfer_free(struct sched_source *s, struct xfer *x)
{
	s->live[x->idx] = NULL;
	curl_multi_remove_handle(s->multi, x->easy);
	curl_easy_cleanup(x->easy);
	free(x->buf);
	free(x);
}

/* A transfer ended: keep its answer (parsed later, off the loop). */
static void finish(struct sched_source *s, struct xfer *x, CURLcode rc)
{
	struct answer *a = &s->ans[x->idx];

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &a->code);
	a->done_ns = bn_realtime_ns();
	s->next[s->prom ? 0 : x->idx].ms = (bn_now_ns() - x->start_ns) / 1000000;
	if (rc != CURLE_OK)
		snprintf(a->err, sizeof(a->err), "%s", x->too_big ? "answer larger than 64M" :
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
	a->buf = x->buf;
	a->len = x->len;
	x->buf = NULL;
	xfer_free(s, x);
}

static void check_done(struct sched_source *s)
{
	struct xfer *x;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(s, x, m->data.result);
		s->pending--;
		if (!s->pending)
			s->done(s->ctx);
	}
}

int sched_source_process(void *arg)
{
	struct sched_source *s = arg;
	struct epoll_event evs[32];
	uint64_t ticks;
	int n, i, running, flags;

	n = epoll_wait(s->epfd, evs, 32, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.fd == s->tfd) {
			if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				return -errno;
			curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
			continue;
		}
		flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			(evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			(evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(s->multi, evs[i].data.fd, flags, &running);
	}
	check_done(s);
	return 0;
}

static int xfer_start(struct sched_source *s, int idx, const char *url)
{
	struct xfer *x = calloc(1, sizeof(*x));
	long ms = s->timeout_ns / 1000000;

	if (!x)
		return -ENOMEM;
	x->src = s;
	x->idx = idx;
	x->start_ns = bn_now_ns();
	x->easy = curl_easy_init();
	if (!x->easy) {
		free(x);
		return -ENOMEM;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, ms ? ms : 1);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, ms ? ms : 1);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "elephant-sched/" BN_VERSION);
	if (curl_multi_add_handle(s->multi, x->easy)) {
		curl_easy_cleanup(x->easy);
		free(x);
		return -ENOMEM;
	}
	s->live[idx] = x;
	s->pending++;
	return 0;
}

int sched_source_start(struct sched_source *s)
{
	int i, err;

	if (s->pending)
		return -EBUSY;
	if (s->prom)
		sched_samples_free(&s->acc);
	for (i = 0; i < s->nx; i++) {
		err = xfer_start(s, i, s->urls[i]);
		if (err)
			return err;
	}
	return 0;
}

int sched_source_collect(struct sched_source *s, struct sched_samples *out)
{
	struct sched_sample *p;
	int i, err = 0, good = 0;
	size_t k;

	s->acc_ok = true;
	for (i = 0; i < s->nx; i++)
		answer_parse(s, i);
	if (s->prom) {
		if (!s->acc_ok)
			return -EAGAIN;
		s->next[0].ok = true;
		s->next[0].err[0] = '\0';
		s->next[0].good_ns = bn_realtime_ns();
		return sched_samples_take(out, &s->acc);
	}
	for (i = 0; i < s->nx && !err; i++) {	/* every target's last good samples */
		good += s->last[i].n > 0;
		for (k = 0; k < s->last[i].n && !err; k++) {
			p = &s->last[i].s[k];
			err = sched_samples_add(out, p->metric, p->node, p->workload, p->value);
		}
	}
	return err ? err : good ? 0 : -EAGAIN;
}

void sched_source_commit(struct sched_source *s)
{
	memcpy(s->st, s->next, (s->prom ? 1 : s->nx) * sizeof(*s->st));
}

int sched_source_status(const struct sched_source *s, const struct sched_status **st)
{
	*st = s->st;
	return s->prom ? 1 : s->nx;
}

int sched_source_fd(const struct sched_source *s)
{
	return s->epfd;
}

/* "BASE/api/v1/query?query=Q" for each query. */
static int prom_urls(struct sched_source *s, const char *base)
{
	size_t bl = strlen(base);
	char *q;
	int i;

	while (bl && base[bl - 1] == '/')
		bl--;
	for (i = 0; i < NR_QUERIES; i++) {
		q = curl_easy_escape(NULL, prom_queries[i], 0);
		if (!q || asprintf(&s->urls[i], "%.*s/api/v1/query?query=%s", (int)bl, base,
				   q) < 0) {
			s->urls[i] = NULL;
			curl_free(q);
			return -ENOMEM;
		}
		curl_free(q);
	}
	snprintf(s->st[0].name, sizeof(s->st[0].name), "prometheus");
	snprintf(s->st[0].url, sizeof(s->st[0].url), "%s", base);
	s->next[0] = s->st[0];
	return 0;
}

int sched_source_open(struct sched_source **out, const char *prom_url,
		      char *const *nodes, char *const *urls, int ntargets,
		      uint64_t timeout_ns, void (*done)(void *ctx), void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sched_source *s = calloc(1, sizeof(*s));
	int i, err = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->epfd = s->tfd = -1;
	s->prom = prom_url;
	s->nx = s->prom ? NR_QUERIES : ntargets;
	s->timeout_ns = timeout_ns;
	s->done = done;
	s->ctx = ctx;
	s->urls = calloc(s->nx, sizeof(*s->urls));
	s->st = calloc(s->prom ? 1 : s->nx, sizeof(*s->st));
	s->last = calloc(s->nx, sizeof(*s->last));
	s->live = calloc(s->nx, sizeof(*s->live));
	s->next = calloc(s->prom ? 1 : s->nx, sizeof(*s->next));
	s->ans = calloc(s->nx, sizeof(*s->ans));
	s->multi = curl_multi_init();
	if (!s->urls || !s->st || !s->last || !s->live || !s->next || !s->ans || !s->multi)
		goto cleanup;
	if (s->prom) {
		err = prom_urls(s, prom_url);
		if (err)
			goto cleanup;
	}
	for (i = 0; !s->prom && i < ntargets; i++) {
		snprintf(s->st[i].name, sizeof(s->st[i].name), "%s", nodes[i]);
		snprintf(s->st[i].url, sizeof(s->st[i].url), "%s", urls[i]);
		s->next[i] = s->st[i];
		s->urls[i] = strdup(urls[i]);
		if (!s->urls[i])
			goto cleanup;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ev.data.fd = s->tfd;
	if (s->epfd < 0 || s->tfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &ev)) {
		err = -errno;
		goto cleanup;
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	*out = s;
	return 0;
cleanup:
	sched_source_close(s);
	return err;
}

void sched_source_close(struct sched_source *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; s->live && i < s->nx; i++)
		if (s->live[i])
			xfer_free(s, s->live[i]);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	for (i = 0; s->urls && i < s->nx; i++)
		free(s->urls[i]);
	for (i = 0; s->last && i < s->nx; i++)
		sched_samples_free(&s->last[i]);
	sched_samples_free(&s->acc);
	for (i = 0; s->ans && i < s->nx; i++)
		free(s->ans[i].buf);
	free(s->ans);
	free(s->next);
	free(s->urls);
	free(s->live);
	free(s->last);
	free(s->st);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s);
}
