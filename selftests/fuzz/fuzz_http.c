// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_http - libFuzzer target for common/http.c: the input is what a client
 * sends on one connection to a real server on 127.0.0.1 (a GET route with a
 * static body and a POST route with a callback). The server must answer or
 * close, never crash, and never keep the connection beyond the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "common.h"

static void echo(void *ctx, const struct bn_http_req *req, struct bn_http_resp *resp)
{
	if (strlen(req->body) > req->body_len)
		abort();	/* the body is NUL-terminated at its length */
	bn_http_reply(resp, 200, NULL, "%zu %s\n", req->body_len, req->query);
}

static const struct bn_http_route routes[] = {
	{ "/metrics", BN_HTTP_GET, NULL, NULL },
	{ "/post", BN_HTTP_POST, echo, NULL },
};

static struct bn_http *srv;
static struct bn_listen where;

static int setup(void)
{
	char port[8];
	int p;

	for (p = 30000 + getpid() % 20000; p < 65000; p += 101) {
		snprintf(port, sizeof(port), "%d", p);
		if (bn_parse_listen(port, &where))
			return -1;
		if (!bn_http_open(&srv, &where, routes, 2, 4096))
			return bn_http_set_body(srv, "/metrics", NULL, "m 1\n", 4);
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[65536];
	int fd, i;
	ssize_t n;

	if (!srv && setup())
		abort();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&where.ss, where.len) && errno != EINPROGRESS)
		abort();
	bn_http_process(srv);
	if (size)
		send(fd, data, size, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	/* the server sees everything and the client's FIN: it must be done */
	for (i = 0; i < 100; i++) {
		bn_http_process(srv);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		if (n < 0)
			usleep(100);
	}
	if (i == 100)
		abort();	/* still open after the whole request and a FIN */
	close(fd);
	bn_http_process(srv);
	return 0;
}
