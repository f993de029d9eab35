// SPDX-License-Identifier: GPL-2.0
/*
 * ctl.c - rss's hot-swap control socket: a unix socket per interface and
 * network namespace, /run/bpfnet/rss.NETNS_COOKIE.IFINDEX. The running
 * server listens and applies what `rss --swap` sends (policy, groups,
 * minimum), without detaching.
 *
 * Trust: the directory is root's (created 0700, refused unless it is a real
 * directory owned by root that nobody else may write), so no other user can
 * bind the name first or plant a socket there; the server answers only a
 * client that is root or has CAP_NET_ADMIN, and the client talks only to a
 * server that is root and holds the XDP link of the interface.
 *
 * Request: "policy=P\ncpus=LIST\nlong_cpus=LIST\nmin_cpus=N\n" (empty values:
 * keep what runs). Answer: "ok policy P group G" or "err MESSAGE". The server
 * side never waits: the listening socket and up to CTL_CONNS connections sit
 * in an epoll set of their own, which is one source of the main loop; a
 * connection without a request for CTL_TIMEOUT_NS is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/types.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

#define CTL_LISTEN		CTL_CONNS	/* epoll data of the listening socket */
#define CTL_TIMEOUT_NS		(2 * 1000000000ULL)
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE		71
#endif
#define CAP_NET_ADMIN_BIT	12

/*
 * Open the control directory (made 0700 if missing) and check it: a
 * directory, not a link, owned by root, writable by nobody else. The fd.
 */
static int ctl_dir_open(const char *dir, char *msg, size_t len)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(msg, len, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, len, "cannot open %s: %s", dir,
			 errno == ELOOP || errno == ENOTDIR ? "not a directory" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(msg, len, "%s is not a directory of root's that only root may write",
			 dir);
		close(fd);
		return -1;
	}
	return fd;
}

/* The socket's address: netns cookie and ifindex under @dir. */
static int ctl_addr(const char *dir, int ifindex, struct sockaddr_un *sa, char *msg,
		    size_t len)
{
	__u64 cookie = 0;
	socklen_t clen = sizeof(cookie);
	int fd, n;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &clen)) {
		snprintf(msg, len, "cannot read the network namespace cookie: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/rss.%llu.%d", dir,
		     (unsigned long long)cookie, ifindex);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
		snprintf(msg, len, "control socket path under %s too long", dir);
		return -1;
	}
	return 0;
}

/* The control directory: $BPFNET_RUN_DIR (for tests) or /run/bpfnet. */
static const char *ctl_dir(void)
{
	const char *d = getenv("BPFNET_RUN_DIR");

	return d && *d ? d : "/run/bpfnet";
}

/*
 * Does process @pid have CAP_NET_ADMIN in its effective set, in our user
 * namespace? (Root of a user namespace of its own has every bit, over
 * nothing of ours.)
 */
static bool pid_net_admin(int pid)
{
	char path[64], line[256];
	unsigned long long caps;
	struct stat us, them;
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	if (stat("/proc/self/ns/user", &us) || stat(path, &them) || us.st_dev != them.st_dev ||
	    us.st_ino != them.st_ino)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			ok = caps & (1ULL << CAP_NET_ADMIN_BIT);
			break;
		}
	fclose(f);
	return ok;
}

/* Is fdinfo file @f an XDP bpf_link's on ifindex *@arg? */
static bool xdp_link_on(FILE *f, void *arg)
{
	char line[128];
	bool xdp = false;
	int ifx = -1;

	while (fgets(line, sizeof(line), f)) {
		if (!strcmp(line, "link_type:\txdp\n"))
			xdp = true;
		sscanf(line, "ifindex: %d", &ifx);
	}
	return xdp && ifx == *(int *)arg;
}

/* Does process @pid hold an XDP bpf_link on @ifindex (from its fdinfo)? */
static bool pid_holds_xdp(int pid, int ifindex)
{
	return bn_fdinfo_any(pid, xdp_link_on, &ifindex);
}

/* Connect to the server of @env->ifindex and check who answers; the fd or -1. */
static int ctl_connect(const struct rss_env *env)
{
	struct timeval tv = { .tv_sec = 5 };
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char msg[160];
	int fd, dfd;

	dfd = ctl_dir_open(ctl_dir(), msg, sizeof(msg));
	if (dfd < 0 || ctl_addr(ctl_dir(), env->ifindex, &sa, msg, sizeof(msg))) {
		bn_err("cannot reach the rss running on %s: %s", env->iface, msg);
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		bn_err("cannot create a unix socket: %s", strerror(errno));
		return -1;
	}
	/* a server that is stopped or stuck does not hang us */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		bn_err("cannot set a timeout on the unix socket: %s", strerror(errno));
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		bn_err("cannot reach the rss running on %s: %s", env->iface,
		       errno == ECONNREFUSED || errno == ENOENT ?
		       "no rss runs on it in this network namespace" :
		       errno == EACCES ? "permission denied: run as root" : strerror(errno));
		goto fail;
	}
	/* only the root process that holds the interface's XDP link is rss */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		bn_err("cannot read the credentials of the rss on %s: %s", env->iface,
		       strerror(errno));
		goto fail;
	}
	if (cred.uid != 0 || !pid_holds_xdp(cred.pid, env->ifindex)) {
		bn_err("refusing the control socket of %s: its process %d (uid %u) is not a "
		       "root rss holding the XDP link of %s", env->iface, cred.pid, cred.uid,
		       env->iface);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int ctl_swap(const struct rss_env *env)
{
	char buf[CTL_MAX];
	int fd, n, err;

	fd = ctl_connect(env);
	if (fd < 0)
		return BN_EXIT_ERR;
	ctl_msg_format(&env->spec, buf, sizeof(buf));
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL) < 0) {
		err = errno;
		/* a server that refused us said why before it closed */
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0) {
			bn_err("cannot send to the rss on %s: %s", env->iface, strerror(err));
			close(fd);
			return BN_EXIT_ERR;
		}
	} else {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
	}
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

/* Apply the request of @n bytes in @buf; the answer into @msg. */
static void ctl_apply(struct rss_server *srv, char *buf, size_t n, char *msg, size_t len)
{
	struct policy_spec sp;
	struct rss_conf c;
	char group[300];
	int min_cpus;

	if (ctl_msg_parse(buf, n, &sp)) {
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

/* Take a new connection: only root or CAP_NET_ADMIN may change the policy. */
static void ctl_accept(struct ctl *ctl, __u64 now)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, i, slot = 0;

	fd = accept4(ctl->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
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
	/* refused once its request is read: closing on unread data would
	 * reset the connection before the client reads why */
	ctl->conn[slot].allowed = !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) &&
				  (cred.uid == 0 || pid_net_admin(cred.pid));
}

/* A connection has data: one request, one answer, closed. */
static void ctl_serve(struct ctl *ctl, struct rss_server *srv, int i)
{
	char buf[CTL_MAX], msg[CTL_MAX];
	int n;

	/* MSG_TRUNC: the whole message's length, so a cut one is refused */
	n = recv(ctl->conn[i].fd, buf, sizeof(buf) - 1, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n >= (int)sizeof(buf)) {
		snprintf(msg, sizeof(msg), "err request longer than %zu bytes", sizeof(buf) - 1);
		send(ctl->conn[i].fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	} else if (n > 0 && !ctl->conn[i].allowed) {
		snprintf(msg, sizeof(msg), "err permission denied: needs root or CAP_NET_ADMIN");
		send(ctl->conn[i].fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	} else if (n > 0) {
		ctl_apply(srv, buf, n, msg, sizeof(msg));
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

/*
 * Bind @sa and listen; a socket file left by a server killed with SIGKILL
 * (nobody listens on it) is replaced, a live one is another rss: -EADDRINUSE.
 * Called with the directory locked, so two servers starting together
 * cannot both take the name.
 */
static int ctl_bind(int fd, const struct sockaddr_un *sa)
{
	mode_t old;
	int probe, err;

	old = umask(0077);	/* the socket file: root only */
	err = bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	if (err == -EADDRINUSE) {
		probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (probe < 0) {
			err = -errno;
			goto out;
		}
		if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) &&
		    errno == ECONNREFUSED) {
			unlink(sa->sun_path);
			err = bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
		}
		close(probe);
	}
out:
	umask(old);
	if (!err && listen(fd, CTL_CONNS))
		err = -errno;
	return err;
}

int ctl_open(struct ctl *ctl, const struct rss_env *env, char *msg, size_t len)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = CTL_LISTEN };
	struct sockaddr_un sa;
	int i, dfd, err;

	for (i = 0; i < CTL_CONNS; i++)
		ctl->conn[i].fd = -1;
	ctl->lfd = -1;
	ctl->path[0] = 0;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epfd < 0)
		goto fail_errno;
	ctl->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->lfd < 0)
		goto fail_errno;
	dfd = ctl_dir_open(ctl_dir(), msg, len);
	if (dfd < 0)
		return -EPERM;
	if (ctl_addr(ctl_dir(), env->ifindex, &sa, msg, len)) {
		close(dfd);
		return -EINVAL;
	}
	if (flock(dfd, LOCK_EX)) {
		err = -errno;
		close(dfd);
		errno = -err;
		goto fail_errno;
	}
	err = ctl_bind(ctl->lfd, &sa);
	close(dfd);		/* and the lock */
	if (err == -EADDRINUSE) {
		snprintf(msg, len, "another rss runs on this interface");
		return err;
	}
	if (err) {
		snprintf(msg, len, "cannot bind %s: %s", sa.sun_path, strerror(-err));
		return err;
	}
	snprintf(ctl->path, sizeof(ctl->path), "%s", sa.sun_path);
	if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &ev))
		goto fail_errno;
	return 0;
fail_errno:
	err = -errno;
	snprintf(msg, len, "cannot open the control socket: %s", strerror(errno));
	return err;
}

void ctl_close(struct ctl *ctl)
{
	int i;

	if (ctl->epfd < 0)	/* never opened, or nothing else opened */
		return;
	for (i = 0; i < CTL_CONNS; i++)
		if (ctl->conn[i].fd >= 0)
			conn_close(ctl, i);
	/* the name goes first: a server starting now finds it gone, not stale */
	if (ctl->path[0])
		unlink(ctl->path);
	ctl->path[0] = 0;
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	ctl->lfd = ctl->epfd = -1;
}
