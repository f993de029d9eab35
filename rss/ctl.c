// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c - rss's hot-swap control socket: an abstract unix socket per
 * interface and network namespace. The running server listens and applies
 * what `rss --swap` sends (policy, groups, minimum), without detaching.
 *
 * Request: "policy=P\ncpus=LIST\nlong_cpus=LIST\nmin_cpus=N\n" (empty values:
 * keep what runs). Answer: "ok policy P group G" or "err MESSAGE". The server
 * side never waits: the listening socket and up to CTL_CONNS connections sit
 * in an epoll set of their own, which is one source of the main loop; a
 * connection without a request for CTL_TIMEOUT_NS is closed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/types.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

#define CTL_LISTEN		CTL_CONNS	/* epoll data of the listening socket */
#define CTL_TIMEOUT_NS		(2 * 1000000000ULL)

static void ctl_addr(int ifindex, struct sockaddr_un *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* abstract: per network namespace, gone with the process */
	*len = offsetof(struct sockaddr_un, sun_path) + 1 +
	       snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "bpfnet-rss.%d",
			ifindex);
}

static void spec_to_text(const struct policy_spec *sp, char *buf, size_t len)
{
	snprintf(buf, len, "policy=%s\ncpus=%s\nlong_cpus=%s\nmin_cpus=%d\n",
		 sp->policy >= 0 ? policy_names[sp->policy] : "", sp->cpus, sp->long_cpus,
		 sp->min_cpus);
}

static int text_to_spec(char *buf, struct policy_spec *sp)
{
	char *line, *save = NULL, *v;
	uint64_t n;

	memset(sp, 0, sizeof(*sp));
	sp->policy = -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		v = strchr(line, '=');
		if (!v)
			return -EINVAL;
		*v++ = 0;
		if (!strcmp(line, "policy")) {
			if (*v)
				sp->policy = bn_name_index(v, policy_names, RSS_NR_POLICIES);
			if (*v && sp->policy < 0)
				return -EINVAL;
		} else if (!strcmp(line, "cpus")) {
			snprintf(sp->cpus, sizeof(sp->cpus), "%s", v);
		} else if (!strcmp(line, "long_cpus")) {
			snprintf(sp->long_cpus, sizeof(sp->long_cpus), "%s", v);
		} else if (!strcmp(line, "min_cpus")) {
			if (bn_parse_u64(v, 0, RSS_MAX_GROUP, &n))
				return -EINVAL;
			sp->min_cpus = n;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

int ctl_swap(const struct rss_env *env)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_un sa;
	char buf[CTL_MAX];
	socklen_t len;
	int fd, n, err;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		bn_err("cannot create a unix socket: %s", strerror(errno));
		return BN_EXIT_ERR;
	}
	/* a server that is stopped or stuck does not hang us */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		bn_err("cannot set a timeout on the unix socket: %s", strerror(errno));
		close(fd);
		return BN_EXIT_ERR;
	}
	ctl_addr(env->ifindex, &sa, &len);
	if (connect(fd, (struct sockaddr *)&sa, len)) {
		bn_err("cannot reach the rss running on %s: %s", env->iface,
		       errno == ECONNREFUSED ? "no rss runs on it in this network namespace" :
		       strerror(errno));
		close(fd);
		return BN_EXIT_ERR;
	}
	spec_to_text(&env->spec, buf, sizeof(buf));
	if (send(fd, buf, strlen(buf), 0) < 0) {
		bn_err("cannot send to the rss on %s: %s", env->iface, strerror(errno));
		close(fd);
		return BN_EXIT_ERR;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	err = n < 0 ? errno : 0;
	close(fd);
	if (n <= 0) {
		bn_err("no answer from the rss on %s: %s", env->iface,
		       err == EAGAIN || err == EWOULDBLOCK ?
		       "timed out after 5 s (it may still apply the change)" :
		       err ? strerror(err) : "connection closed");
		return BN_EXIT_ERR;
	}
	buf[n] = 0;
	if (strncmp(buf, "ok ", 3)) {
		bn_err("swap refused: %s", buf + (strncmp(buf, "err ", 4) ? 0 : 4));
		return BN_EXIT_ERR;
	}
	bn_info("swapped: %s", buf + 3);
	fprintf(stderr, "%s: now %s\n", bn_prog(), buf + 3);
	return BN_EXIT_OK;
}

/* Apply the request in @buf; the answer into @msg. */
static void ctl_apply(struct rss_server *srv, char *buf, char *msg, size_t len)
{
	struct policy_spec sp;
	struct rss_conf c;
	char group[300];
	int min_cpus;

	if (text_to_spec(buf, &sp)) {
		snprintf(msg, len, "err malformed request");
	} else if (build_conf(srv, &sp, &srv->cur, srv->min_cpus, &c, &min_cpus, msg + 4,
			      len - 4) ||
		   apply_conf(srv, &c, msg + 4, len - 4)) {
		memcpy(msg, "err ", 4);
	} else {
		srv->min_cpus = min_cpus;
		srv->last_change_ns = bn_now_ns();
		group_str(&srv->cur, group, sizeof(group));
		snprintf(msg, len, "ok policy %s group %s", policy_names[c.policy], group);
		bn_info("swap: %s", msg + 3);
	}
}

static void conn_close(struct ctl *ctl, int i)
{
	close(ctl->conn[i].fd);
	ctl->conn[i].fd = -1;
}

/* Take a new connection: only root or our own user may change the policy. */
static void ctl_accept(struct ctl *ctl, __u64 now)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const char *denied = "err permission denied: run as root";
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, i, slot = 0;

	fd = accept4(ctl->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != 0 && cred.uid != getuid())) {
		send(fd, denied, strlen(denied), MSG_NOSIGNAL);
		close(fd);
		return;
	}
	/* a free slot, else the oldest connection goes */
	for (i = 0; i < CTL_CONNS; i++) {
		if (ctl->conn[i].fd < 0) {
			slot = i;
			break;
		}
		if (ctl->conn[i].since_ns < ctl->conn[slot].since_ns)
			slot = i;
	}
	if (ctl->conn[slot].fd >= 0)
		conn_close(ctl, slot);
	ev.data.u32 = slot;
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		close(fd);
		return;
	}
	ctl->conn[slot].fd = fd;
	ctl->conn[slot].since_ns = now;
}

/* A connection has data: one request, one answer, closed. */
static void ctl_serve(struct ctl *ctl, struct rss_server *srv, int i)
{
	char buf[CTL_MAX], msg[CTL_MAX];
	int n;

	n = recv(ctl->conn[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		buf[n] = 0;
		ctl_apply(srv, buf, msg, sizeof(msg));
		send(ctl->conn[i].fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	conn_close(ctl, i);
}

int ctl_process(struct ctl *ctl, struct rss_server *srv)
{
	struct epoll_event evs[CTL_CONNS + 1];
	__u64 now = bn_now_ns();
	int n, i;

	n = epoll_wait(ctl->epfd, evs, CTL_CONNS + 1, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.u32 == CTL_LISTEN)
			ctl_accept(ctl, now);
		else if (evs[i].data.u32 < CTL_CONNS && ctl->conn[evs[i].data.u32].fd >= 0)
			ctl_serve(ctl, srv, evs[i].data.u32);
	}
	/* a client that connects and sends nothing is dropped, never waited for */
	for (i = 0; i < CTL_CONNS; i++)
		if (ctl->conn[i].fd >= 0 && now - ctl->conn[i].since_ns > CTL_TIMEOUT_NS)
			conn_close(ctl, i);
	return 0;
}

int ctl_open(struct ctl *ctl, const struct rss_env *env)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = CTL_LISTEN };
	struct sockaddr_un sa;
	socklen_t len;
	int i;

	for (i = 0; i < CTL_CONNS; i++)
		ctl->conn[i].fd = -1;
	ctl->lfd = -1;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epfd < 0)
		return -errno;
	ctl->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->lfd < 0)
		return -errno;
	ctl_addr(env->ifindex, &sa, &len);
	if (bind(ctl->lfd, (struct sockaddr *)&sa, len) || listen(ctl->lfd, CTL_CONNS) ||
	    epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &ev))
		return -errno;
	return 0;
}

void ctl_close(struct ctl *ctl)
{
	int i;

	if (ctl->epfd < 0)	/* never opened, or nothing else opened */
		return;
	for (i = 0; i < CTL_CONNS; i++)
		if (ctl->conn[i].fd >= 0)
			conn_close(ctl, i);
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	ctl->lfd = ctl->epfd = -1;
}
