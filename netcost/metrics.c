// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - the --metrics server: any request gets the last exposition.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "internal.h"

int nc_metrics_listen(const char *spec)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	char host[128] = "";
	const char *colon = strrchr(spec, ':');
	struct sockaddr *sa = (struct sockaddr *)&a6;
	socklen_t salen = sizeof(a6);
	uint64_t port;
	int fd, one = 1, family = AF_INET6;

	if (colon) {
		size_t hl = colon - spec;

		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		spec = colon + 1;
	}
	if (bn_parse_u64(spec, 1, 65535, &port))
		return -EINVAL;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if (host[0] && inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		family = AF_INET;
		a4.sin_port = htons(port);
		sa = (struct sockaddr *)&a4;
		salen = sizeof(a4);
	} else if (host[0] && inet_pton(AF_INET6, host, &a6.sin6_addr) != 1) {
		return -EINVAL;
	}
	a6.sin6_port = htons(port);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, sa, salen) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void nc_metrics_serve(int listen_fd, const char *text)
{
	static const char empty[] = "# netcost: no interval finished yet\n";
	const char *body = text ? text : empty;
	struct timeval snd_to = { .tv_sec = 1 };
	char req[2048], hdr[256];
	struct pollfd pfd;
	int fd, n;

	for (;;) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* a client that does not read cannot stall the measurement */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd_to, sizeof(snd_to));
		/* read the request (any path is the metrics page), bounded wait */
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) > 0) {
			n = read(fd, req, sizeof(req));
			(void)n;
		}
		n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Type: text/plain; "
			     "version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			     strlen(body));
		if (write(fd, hdr, n) == n && write(fd, body, strlen(body)) < 0)
			bn_dbg("metrics client went away");
		close(fd);
	}
}
