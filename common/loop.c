// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - the one main loop of every tool: wait on the tool's fds (ring
 * buffers, netlink, the metrics server, control sockets) and tick every
 * --interval until --duration or SIGINT/SIGTERM.
 *
 * SIGINT and SIGTERM are blocked except inside epoll_pwait(), so a signal
 * that arrives between the check of bn_stop and the wait ends the wait at
 * once instead of after it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "common.h"

#define MSEC 1000000ULL

int bn_loop_init(struct bn_loop *l, uint64_t interval_ns, uint64_t duration_ns)
{
	memset(l, 0, sizeof(*l));
	l->interval_ns = interval_ns;
	l->duration_ns = duration_ns;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	return 0;
}

int bn_loop_add(struct bn_loop *l, int fd, bn_loop_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0 || !fn)
		return -EINVAL;
	if (l->nsrc == BN_LOOP_MAX_SRC)
		return -ENOSPC;
	ev.data.u32 = l->nsrc;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->src[l->nsrc].fd = fd;
	l->src[l->nsrc].fn = fn;
	l->src[l->nsrc].ctx = ctx;
	l->nsrc++;
	return 0;
}

static int rb_ready(void *rb)
{
	int n = ring_buffer__consume(rb);

	return n < 0 && n != -EINTR ? n : 0;
}

int bn_loop_add_rb(struct bn_loop *l, struct ring_buffer *rb)
{
	return bn_loop_add(l, ring_buffer__epoll_fd(rb), rb_ready, rb);
}

static int http_ready(void *srv)
{
	return bn_http_process(srv);
}

int bn_loop_add_http(struct bn_loop *l, struct bn_http *srv)
{
	return bn_loop_add(l, bn_http_fd(srv), http_ready, srv);
}

/* ms to wait until @deadline (monotonic ns), rounded up, at most ~24 days. */
static int wait_ms(uint64_t now, uint64_t deadline)
{
	uint64_t ms;

	if (deadline <= now)
		return 0;
	ms = (deadline - now + MSEC - 1) / MSEC;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static int loop_wait(struct bn_loop *l, const sigset_t *waitmask, int timeout)
{
	struct epoll_event evs[16];
	int n, i, err;

	n = epoll_pwait(l->epfd, evs, 16, timeout, waitmask);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		unsigned int s = evs[i].data.u32;

		if (s >= (unsigned int)l->nsrc)
			continue;
		err = l->src[s].fn(l->src[s].ctx);
		if (err)
			return err;
	}
	return 0;
}

int bn_loop_run(struct bn_loop *l, bn_loop_fn tick, void *ctx)
{
	uint64_t now, next, end = UINT64_MAX, deadline;
	sigset_t block, orig, waitmask;
	int err = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &orig))
		return -errno;
	waitmask = orig;
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);

	l->start_ns = bn_now_ns();
	if (l->duration_ns)
		end = l->start_ns + l->duration_ns;
	next = l->interval_ns ? l->start_ns + l->interval_ns : UINT64_MAX;
	while (!bn_stop) {
		now = bn_now_ns();
		if (now >= end)
			break;
		if (now >= next) {
			err = tick ? tick(ctx) : 0;
			if (err)
				break;
			next += l->interval_ns;
			if (next <= now)	/* a tick took longer than the interval */
				next = now + l->interval_ns;
			continue;
		}
		deadline = next < end ? next : end;
		err = loop_wait(l, &waitmask,
				deadline == UINT64_MAX ? -1 : wait_ms(now, deadline));
		if (err)
			break;
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return err;
}

void bn_loop_close(struct bn_loop *l)
{
	if (l->epfd > 0)	/* 0: a zeroed, never initialised loop */
		close(l->epfd);
	l->epfd = -1;
	l->nsrc = 0;
}
