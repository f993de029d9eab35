// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - raw netlink sockets and one request/answer exchange, for the tools
 * that talk to the kernel without a netlink library (elephant, tracer).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "common.h"

int bn_nl_socket(int proto, unsigned int groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd, sz = 8 << 20, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	if (groups && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Send @nh and wait for the answer; @cb sees each message. Returns 0/-errno. */
int bn_nl_talk(int fd, struct nlmsghdr *nh, int (*cb)(const struct nlmsghdr *, void *),
	       void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char *buf;
	int err = 0, done = 0;

	buf = malloc(BN_NL_BUF);
	if (!buf)
		return -ENOMEM;
	nh->nlmsg_seq = 1;
	if (sendto(fd, nh, nh->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		struct nlmsghdr *h;
		ssize_t n = recv(fd, buf, BN_NL_BUF, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLIN };

				/* poll, not select: an fd over FD_SETSIZE is fine */
				if (poll(&p, 1, 2000) <= 0) {
					err = -ETIMEDOUT;
					break;
				}
				continue;
			}
			err = -errno;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(e->error)))
					err = -EBADMSG;
				else if (!err)
					err = e->error;
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (cb && !err)
				err = cb(h, arg);
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				done = 1;
		}
	}
out:
	free(buf);
	return err;
}
