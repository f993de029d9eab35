// SPDX-License-Identifier: GPL-2.0
/*
 * http.c - the one HTTP server of every tool: /metrics, the scheduler
 * extender's POST endpoints. HTTP/1.1 without keep-alive: one request per
 * connection, answered with "Connection: close".
 *
 * Nothing here waits: the server keeps its own epoll set (listening socket,
 * connections, a timer for timeouts) and its fd is one source of the tool's
 * loop. Each connection is bounded in request size, idle time and total time;
 * when every slot is taken, the oldest connection makes room for the new one.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "common.h"

#define HTTP_MAX_CONNS	64
#define HTTP_HDR_MAX	8192
#define HTTP_IDLE_NS	(5 * 1000000000ULL)	/* no progress */
#define HTTP_TOTAL_NS	(15 * 1000000000ULL)	/* whole request and answer */
#define HTTP_LINGER_NS	(1 * 1000000000ULL)	/* after the answer, for the peer's FIN */

#define EV_LISTEN	0xffffffffu
#define EV_TIMER	0xfffffffeu

enum conn_state { C_FREE, C_READ, C_WRITE, C_LINGER };

struct conn {
	enum conn_state state;
	int fd;
	uint64_t start_ns, last_ns;
	char peer[INET6_ADDRSTRLEN + 8];
	char *in;			/* request: header, then body */
	size_t in_len, in_cap;
	size_t hdr_len;			/* 0 until the header is complete */
	size_t body_len;		/* Content-Length */
	char *out;			/* answer */
	size_t out_len, out_off;
};

struct static_body {
	char *type;
	char *data;
	size_t len;
};

struct bn_http {
	int lfd, epfd, tfd;
	bool json_errors;
	const struct bn_http_route *routes;
	int nroutes;
	struct static_body *bodies;	/* one per route */
	size_t max_body;
	int nconns;
	struct conn conns[HTTP_MAX_CONNS];
};

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int bn_http_reply(struct bn_http_resp *resp, int status, const char *type,
		  const char *fmt, ...)
{
	va_list ap;
	char *body;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	free(resp->body);
	resp->body = body;
	resp->len = n;
	resp->status = status;
	resp->type = type;
	return 0;
}

/* An error answer: text, or {"Error":"..."} for JSON APIs. */
static void error_reply(struct bn_http *srv, struct bn_http_resp *resp, int status,
			const char *msg)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (!srv->json_errors) {
		bn_http_reply(resp, status, NULL, "%s\n", msg);
		return;
	}
	f = open_memstream(&body, &len);
	if (!f)
		return;
	fputs("{\"Error\":", f);
	bn_json_escape(f, msg);
	fputs("}\n", f);
	if (fclose(f)) {
		free(body);
		return;
	}
	free(resp->body);
	resp->body = body;
	resp->len = len;
	resp->status = status;
	resp->type = "application/json";
}

static void conn_close(struct bn_http *srv, struct conn *c)
{
	if (c->state == C_FREE)
		return;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	srv->nconns--;
}

static void conn_events(struct bn_http *srv, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = c - srv->conns };

	epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_write(struct bn_http *srv, struct conn *c);

/* Queue the answer and start writing it. */
static void conn_answer(struct bn_http *srv, struct conn *c, struct bn_http_resp *resp)
{
	char *out;
	int n;

	n = asprintf(&out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n", resp->status, status_text(resp->status),
		     resp->type ? resp->type : "text/plain; charset=utf-8", resp->len);
	if (n < 0) {
		conn_close(srv, c);
		return;
	}
	if (resp->len) {
		char *big = realloc(out, n + resp->len);

		if (!big) {
			free(out);
			conn_close(srv, c);
			return;
		}
		out = big;
		memcpy(out + n, resp->body, resp->len);
	}
	c->out = out;
	c->out_len = n + resp->len;
	c->out_off = 0;
	c->state = C_WRITE;
	conn_events(srv, c, EPOLLOUT);
	/* an API's errors are the operator's to see; a scraper's 404s are noise */
	if (resp->status >= 400 && srv->json_errors)
		bn_warn("http %s: %d %s", c->peer, resp->status, status_text(resp->status));
	else if (resp->status >= 400)
		bn_info("http %s: %d %s", c->peer, resp->status, status_text(resp->status));
	conn_write(srv, c);
}

static void conn_error(struct bn_http *srv, struct conn *c, int status, const char *msg)
{
	struct bn_http_resp resp = { 0 };

	error_reply(srv, &resp, status, msg);
	conn_answer(srv, c, &resp);
	free(resp.body);
}

/* Value of header @name in the header block (lines after the first), or NULL. */
static const char *header(const char *hdr, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = strchr(hdr, '\n'), *v, *e;

	while (p && p[1]) {
		p++;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			e = v + strcspn(v, "\r\n");
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*len = e - v;
			return v;
		}
		p = strchr(p, '\n');
	}
	return NULL;
}

static bool token_is(const char *v, size_t len, const char *want)
{
	return v && len == strlen(want) && !strncasecmp(v, want, len);
}

/*
 * The header is complete: check the request line and the length of the body.
 * Returns 0 to go on reading the body, or the status of an error answer.
 */
static int parse_header(struct bn_http *srv, struct conn *c, const char **msg)
{
	const char *v;
	size_t vl;
	uint64_t cl;
	char num[24];

	const char *sp = strchr(c->in, ' ');

	if (!sp || sp == c->in || sp[1] != '/') {
		*msg = "bad request line";
		return 400;
	}
	v = header(c->in, "Transfer-Encoding", &vl);
	if (v) {
		*msg = "Transfer-Encoding is not supported: send Content-Length";
		return 411;
	}
	v = header(c->in, "Content-Length", &vl);
	if (!v) {
		if (!strncmp(c->in, "POST ", 5)) {
			*msg = "POST needs a Content-Length";
			return 411;
		}
		c->body_len = 0;
		return 0;
	}
	if (!vl || vl >= sizeof(num)) {
		*msg = "bad Content-Length";
		return 400;
	}
	memcpy(num, v, vl);
	num[vl] = '\0';
	if (bn_parse_u64(num, 0, UINT64_MAX, &cl)) {
		*msg = "bad Content-Length";
		return 400;
	}
	if (cl > srv->max_body) {
		*msg = "request body too large";
		return 413;
	}
	c->body_len = cl;
	v = header(c->in, "Expect", &vl);
	if (cl && token_is(v, vl, "100-continue") &&
	    c->in_len < c->hdr_len + cl) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		/* best effort: a client that sees nothing sends the body anyway */
		if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			bn_dbg("http %s: cannot send 100 Continue", c->peer);
	}
	return 0;
}

/* The whole request is in: find its route and answer. */
static void dispatch(struct bn_http *srv, struct conn *c)
{
	struct bn_http_resp resp = { .status = 200 };
	struct bn_http_req req = { .peer = c->peer, .query = "" };
	const struct bn_http_route *r = NULL;
	char *line = c->in, *sp, *target, *q;
	int i;

	sp = strchr(line, ' ');
	*sp = '\0';
	target = sp + 1;
	target[strcspn(target, " \r\n")] = '\0';
	q = strchr(target, '?');
	if (q) {
		*q = '\0';
		req.query = q + 1;
	}
	req.path = target;
	req.body = c->in + c->hdr_len;
	req.body_len = c->body_len;
	c->in[c->hdr_len + c->body_len] = '\0';
	if (!strcmp(line, "GET"))
		req.method = BN_HTTP_GET;
	else if (!strcmp(line, "POST"))
		req.method = BN_HTTP_POST;

	for (i = 0; i < srv->nroutes; i++)
		if (!strcmp(srv->routes[i].path, target))
			r = &srv->routes[i];
	if (!r) {
		conn_error(srv, c, 404, "not found");
		return;
	}
	if (!(req.method & r->methods)) {
		conn_error(srv, c, 405, "method not allowed");
		return;
	}
	if (r->fn) {
		r->fn(r->ctx, &req, &resp);
	} else {
		struct static_body *b = &srv->bodies[r - srv->routes];

		resp.type = b->type;
		resp.len = b->len;
		resp.body = malloc(b->len ? b->len : 1);
		if (resp.body)
			memcpy(resp.body, b->data, b->len);
		else
			resp.status = 500;
	}
	conn_answer(srv, c, &resp);
	free(resp.body);
}

static void conn_read(struct bn_http *srv, struct conn *c)
{
	const char *msg = NULL;
	size_t want;
	ssize_t n;
	char *end;
	int status;

	for (;;) {
		want = c->hdr_len ? c->hdr_len + c->body_len + 1 : HTTP_HDR_MAX + 1;
		if (c->in_cap < want) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 1024;
			char *in;

			while (cap < want && cap < c->in_len + 65536)
				cap *= 2;
			if (cap > want)
				cap = want;
			in = realloc(c->in, cap);
			if (!in) {
				conn_close(srv, c);
				return;
			}
			c->in = in;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - 1 - c->in_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(srv, c);	/* gone, or closed before a full request */
			return;
		}
		c->in_len += n;
		c->in[c->in_len] = '\0';
		c->last_ns = bn_now_ns();
		if (!c->hdr_len) {
			end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
			if (memchr(c->in, '\0', end ? (size_t)(end - c->in) : c->in_len)) {
				conn_error(srv, c, 400, "NUL byte in the request header");
				return;
			}
			if (!end && c->in_len >= HTTP_HDR_MAX) {
				conn_error(srv, c, 431, "request header too large");
				return;
			}
			if (!end)
				continue;
			c->hdr_len = end + 4 - c->in;
			end[2] = '\0';	/* header lines end with "\r\n" */
			status = parse_header(srv, c, &msg);
			if (status) {
				conn_error(srv, c, status, msg);
				return;
			}
		}
		if (c->in_len >= c->hdr_len + c->body_len) {
			if (c->in_len > c->hdr_len + c->body_len) {
				conn_error(srv, c, 400, "data after the request body");
				return;
			}
			dispatch(srv, c);
			return;
		}
	}
}

static void conn_write(struct bn_http *srv, struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_close(srv, c);
			return;
		}
		c->out_off += n;
		c->last_ns = bn_now_ns();
	}
	/* all sent: close our side, read until the peer closes (no RST on unread data) */
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->start_ns = bn_now_ns();
	conn_events(srv, c, EPOLLIN);
}

static void conn_linger(struct bn_http *srv, struct conn *c)
{
	char buf[1024];
	ssize_t n;

	do {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	} while (n > 0);
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_close(srv, c);
}

/* Close what has waited too long; arm the timer while connections are open. */
static void sweep(struct bn_http *srv)
{
	struct itimerspec its = { 0 };
	uint64_t now = bn_now_ns(), limit;
	int i;

	for (i = 0; i < HTTP_MAX_CONNS; i++) {
		struct conn *c = &srv->conns[i];

		if (c->state == C_FREE)
			continue;
		limit = c->state == C_LINGER ? HTTP_LINGER_NS : HTTP_TOTAL_NS;
		if (now - c->start_ns > limit ||
		    (c->state != C_LINGER && now - c->last_ns > HTTP_IDLE_NS))
			conn_close(srv, c);
	}
	if (srv->nconns)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = 250000000;
	timerfd_settime(srv->tfd, 0, &its, NULL);
}

/* A free slot; when all are taken, the oldest connection's. */
static struct conn *conn_slot(struct bn_http *srv)
{
	struct conn *old = NULL;
	int i;

	for (i = 0; i < HTTP_MAX_CONNS; i++) {
		if (srv->conns[i].state == C_FREE)
			return &srv->conns[i];
		if (!old || srv->conns[i].start_ns < old->start_ns)
			old = &srv->conns[i];
	}
	bn_dbg("http: %d connections open, closing the oldest (%s)", HTTP_MAX_CONNS,
	       old->peer);
	conn_close(srv, old);
	return old;
}

static void accept_all(struct bn_http *srv)
{
	struct sockaddr_storage ss;
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t sl;
	struct conn *c;
	char a[INET6_ADDRSTRLEN];
	int fd, i, port = 0;

	for (i = 0; i < HTTP_MAX_CONNS; i++) {
		sl = sizeof(ss);
		fd = accept4(srv->lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		c = conn_slot(srv);
		c->state = C_READ;
		c->fd = fd;
		c->start_ns = c->last_ns = bn_now_ns();
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
			port = ntohs(s6->sin6_port);
			snprintf(c->peer, sizeof(c->peer), "[%s]:%d", a, port);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
			port = ntohs(s4->sin_port);
			snprintf(c->peer, sizeof(c->peer), "%s:%d", a, port);
		}
		ev.data.u32 = c - srv->conns;
		if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			memset(c, 0, sizeof(*c));
			continue;
		}
		srv->nconns++;
	}
}

int bn_http_process(struct bn_http *srv)
{
	struct epoll_event evs[HTTP_MAX_CONNS + 2];
	uint64_t ticks;
	int n, i;

	n = epoll_wait(srv->epfd, evs, HTTP_MAX_CONNS + 2, 0);
	for (i = 0; i < n; i++) {
		uint32_t id = evs[i].data.u32;
		struct conn *c;

		if (id == EV_LISTEN) {
			accept_all(srv);
			continue;
		}
		if (id == EV_TIMER) {
			if (read(srv->tfd, &ticks, sizeof(ticks)) < 0)
				bn_dbg("http: timer: %s", strerror(errno));
			continue;
		}
		c = &srv->conns[id];
		if (c->state == C_READ)
			conn_read(srv, c);
		else if (c->state == C_WRITE)
			conn_write(srv, c);
		else if (c->state == C_LINGER)
			conn_linger(srv, c);
	}
	sweep(srv);
	return 0;
}

int bn_http_open(struct bn_http **out, const struct bn_listen *l,
		 const struct bn_http_route *routes, int nroutes, size_t max_body)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct bn_http *srv;
	int one = 1, err, i;

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->lfd = srv->epfd = srv->tfd = -1;
	for (i = 0; i < HTTP_MAX_CONNS; i++)
		srv->conns[i].fd = -1;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->max_body = max_body;
	srv->bodies = calloc(nroutes ? nroutes : 1, sizeof(*srv->bodies));
	if (!srv->bodies) {
		err = -ENOMEM;
		goto cleanup;
	}
	srv->lfd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	srv->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (srv->lfd < 0 || srv->epfd < 0 || srv->tfd < 0) {
		err = -errno;
		goto cleanup;
	}
	setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->ss.ss_family == AF_INET6)
		setsockopt(srv->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(srv->lfd, (const struct sockaddr *)&l->ss, l->len) ||
	    listen(srv->lfd, HTTP_MAX_CONNS)) {
		err = -errno;
		goto cleanup;
	}
	ev.data.u32 = EV_LISTEN;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->lfd, &ev)) {
		err = -errno;
		goto cleanup;
	}
	ev.data.u32 = EV_TIMER;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->tfd, &ev)) {
		err = -errno;
		goto cleanup;
	}
	*out = srv;
	return 0;
cleanup:
	bn_http_close(srv);
	return err;
}

void bn_http_json_errors(struct bn_http *srv, bool on)
{
	srv->json_errors = on;
}

int bn_http_set_body(struct bn_http *srv, const char *path, const char *type,
		     const char *body, size_t len)
{
	struct static_body *b;
	char *data, *t = NULL;
	int i;

	for (i = 0; i < srv->nroutes; i++)
		if (!srv->routes[i].fn && !strcmp(srv->routes[i].path, path))
			break;
	if (i == srv->nroutes)
		return -ENOENT;
	b = &srv->bodies[i];
	data = malloc(len ? len : 1);
	if (type)
		t = strdup(type);
	if (!data || (type && !t)) {
		free(data);
		free(t);
		return -ENOMEM;
	}
	memcpy(data, body, len);
	free(b->data);
	free(b->type);
	b->data = data;
	b->type = t;
	b->len = len;
	return 0;
}

int bn_http_fd(const struct bn_http *srv)
{
	return srv->epfd;
}

void bn_http_close(struct bn_http *srv)
{
	int i;

	if (!srv)
		return;
	for (i = 0; i < HTTP_MAX_CONNS; i++)
		conn_close(srv, &srv->conns[i]);
	if (srv->lfd >= 0)
		close(srv->lfd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->tfd >= 0)
		close(srv->tfd);
	for (i = 0; srv->bodies && i < srv->nroutes; i++) {
		free(srv->bodies[i].data);
		free(srv->bodies[i].type);
	}
	free(srv->bodies);
	free(srv);
}
