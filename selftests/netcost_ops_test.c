// SPDX-License-Identifier: GPL-2.0
/*
 * netcost_ops_test - every way of sending and receiving on a socket is
 * timed, once per call, by each backend netcost has.
 *
 * In a network namespace of its own, the test opens a TCP connection on
 * loopback and, for each method (send, sendto, sendmsg, sendmmsg, write,
 * writev, splice, sendfile; recv, recvfrom, recvmsg, recvmmsg, read, readv,
 * splice; sendmmsg and recvmmsg with two messages per call; io_uring,
 * also right after a write or read of a file), moves itself into a cgroup of
 * that method's name and makes a known number of calls. netcost runs with
 * --cgroups; its whole-run cgroup records must show exactly that many
 * operations of the right direction and some time for each. A recv that
 * waits 1 s for data that never comes must count as one operation with next
 * to no time: a task switched out in an operation stops accruing. Receives
 * that fail with EAGAIN are operations too; a read of a pipe that waits for
 * its data is none. The fentry and kprobe variants SKIP where the kernel
 * cannot attach them (they run in the VM stage on Debian's 6.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

/* ASSERT_*() TH_LOG() expands to a for loop: not misleading here */
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include <linux/io_uring.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "common.h"

#define NCALLS	20
#define MSG	100

enum dir { SEND, RECV };

struct method {
	const char *name;
	enum dir dir;
	bool uring;		/* through io_uring: not timed by the tracepoint backend */
};

static const struct method methods[] = {
	{ "send", SEND, false },
	{ "sendto", SEND, false },
	{ "sendmsg", SEND, false },
	{ "sendmmsg", SEND, false },
	{ "write", SEND, false },
	{ "writev", SEND, false },
	{ "splice_send", SEND, false },
	{ "sendfile", SEND, false },
	{ "recv", RECV, false },
	{ "recvfrom", RECV, false },
	{ "recvmsg", RECV, false },
	{ "recvmmsg", RECV, false },
	{ "read", RECV, false },
	{ "readv", RECV, false },
	{ "splice_recv", RECV, false },
	{ "uring_send", SEND, true },
	{ "uring_send_wq", SEND, true },
	{ "uring_recv", RECV, true },
	/* a file's read/write first: its start must not time the io_uring call */
	{ "uring_send_after_write", SEND, true },
	{ "uring_recv_after_read", RECV, true },
};
#define NMETHODS (int)(sizeof(methods) / sizeof(methods[0]))

/* Cgroups of the test's other calls (see every_method). */
enum { OTHER, BLOCKED, EAGAIN_RECV, PIPE_WAIT, NEXTRA };
static const char *const extras[NEXTRA] = { "other", "blocked", "eagain", "pipe_wait" };

/* Just enough io_uring, through the raw syscalls, to send and receive. */
struct uring {
	int fd;
	unsigned int *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int uring_init(struct uring *u)
{
	struct io_uring_params p = {};
	size_t sq_len, cq_len;
	char *sq, *cq;

	u->fd = syscall(__NR_io_uring_setup, 4, &p);
	if (u->fd < 0)
		return -errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -errno;
	cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
			  IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			return -errno;
	}
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED)
		return -errno;
	u->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned int *)(sq + p.sq_off.array);
	u->cq_head = (unsigned int *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* One request, waited for; returns its result. */
static int uring_io(struct uring *u, int op, int fd, void *buf, unsigned int len,
		    unsigned int flags)
{
	unsigned int tail = *u->sq_tail, idx = tail & *u->sq_mask, head;
	struct io_uring_sqe *sqe = &u->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	sqe->flags = flags;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, u->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -errno;
	head = *u->cq_head;
	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = u->cqes[head & *u->cq_mask].res;
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

FIXTURE(ops) {
	char cg2[PATH_MAX];	/* cgroup v2 mount */
	char base[64];		/* our cgroups: <cg2>/<base>/<method> */
	char home[PATH_MAX];	/* the cgroup we started in */
	char out[64], err[64];
	pid_t nc;
	int a, b;		/* connected TCP sockets: a sends, b receives */
	int pipefd[2], memfd;
	struct uring ring;
	long calls[NMETHODS];	/* how many calls each method made */
};

FIXTURE_VARIANT(ops) {
	const char *backend;
	int hook;		/* BN_HOOK_* to probe, BN_HOOK_MAX: none */
};

FIXTURE_VARIANT_ADD(ops, tracepoint) { .backend = "tracepoint", .hook = BN_HOOK_MAX };
FIXTURE_VARIANT_ADD(ops, fentry) { .backend = "fentry", .hook = BN_HOOK_FENTRY };
FIXTURE_VARIANT_ADD(ops, kprobe) { .backend = "kprobe", .hook = BN_HOOK_KPROBE };

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int enter_cg(FIXTURE_DATA(ops) *self, const char *name)
{
	char path[2 * PATH_MAX + 128];

	if (name)
		snprintf(path, sizeof(path), "%s/%s/%s/cgroup.procs", self->cg2, self->base, name);
	else
		snprintf(path, sizeof(path), "%s%s/cgroup.procs", self->cg2, self->home);
	return write_file(path, "0");
}

/* cgroup v2 mount point, mounting one in a private mount namespace if none. */
static int find_cg2(char *buf, size_t len)
{
	char line[4096], mnt[PATH_MAX], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (sep && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(buf, len, "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
	if (buf[0])
		return 0;
	snprintf(buf, len, "/tmp/netcost_ops_cg2.XXXXXX");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    !mkdtemp(buf) || mount("none", buf, "cgroup2", 0, NULL))
		return -errno;
	return 0;
}

static int lo_up(void)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);
	int l, one = 1;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &len))
		return -errno;
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, sizeof(sin)))
		return -errno;
	*b = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	if (*b < 0)
		return -errno;
	setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

static bool file_has(const char *path, const char *what)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

FIXTURE_SETUP(ops)
{
	char exe[PATH_MAX], nc[PATH_MAX + 32], path[PATH_MAX + 160], *slash;
	ssize_t n;
	int i, err, fd;

	self->nc = -1;
	self->a = self->b = self->memfd = -1;
	self->pipefd[0] = self->pipefd[1] = -1;
	self->base[0] = '\0';
	if (variant->hook != BN_HOOK_MAX) {
		err = bn_probe_hook(variant->hook, "sock_sendmsg");
		if (err)
			SKIP(return, "kernel cannot attach %s: %s", bn_hook_name(variant->hook),
			     strerror(-err));
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_GT(n, 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	*slash = '\0';
	snprintf(nc, sizeof(nc), "%s/../netcost/netcost", exe);
	ASSERT_EQ(0, access(nc, X_OK)) TH_LOG("%s not built", nc);

	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, lo_up());
	ASSERT_EQ(0, find_cg2(self->cg2, sizeof(self->cg2)));
	/* where we are now: "0::/path" */
	{
		FILE *f = fopen("/proc/self/cgroup", "re");
		char line[PATH_MAX - 8];

		self->home[0] = '\0';
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "0::", 3)) {
				line[strcspn(line, "\n")] = '\0';
				snprintf(self->home, sizeof(self->home), "%s",
					 strcmp(line + 3, "/") ? line + 3 : "");
			}
		if (f)
			fclose(f);
	}
	snprintf(self->base, sizeof(self->base), "bn-ncops-%d", getpid());
	snprintf(path, sizeof(path), "%s/%s", self->cg2, self->base);
	ASSERT_EQ(0, mkdir(path, 0755));
	for (i = 0; i < NMETHODS; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", self->cg2, self->base, methods[i].name);
		ASSERT_EQ(0, mkdir(path, 0755));
	}
	for (i = 0; i < NEXTRA; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", self->cg2, self->base, extras[i]);
		ASSERT_EQ(0, mkdir(path, 0755));
	}

	ASSERT_EQ(0, tcp_pair(&self->a, &self->b));
	ASSERT_EQ(0, pipe2(self->pipefd, O_CLOEXEC));
	ASSERT_EQ(0, uring_init(&self->ring));
	self->memfd = memfd_create("netcost_ops", MFD_CLOEXEC);
	ASSERT_GE(self->memfd, 0);
	ASSERT_EQ(MSG, write(self->memfd, exe, MSG));

	snprintf(self->out, sizeof(self->out), "/tmp/netcost_ops.%d.out", getpid());
	snprintf(self->err, sizeof(self->err), "/tmp/netcost_ops.%d.err", getpid());
	self->nc = fork();
	ASSERT_GE(self->nc, 0);
	if (!self->nc) {
		fd = open(self->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(self->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execl(nc, nc, "--backend", variant->backend, "-j", "-i", "60", "--cgroups=200",
		      (char *)NULL);
		_exit(127);
	}
	/* attached once it says it is ready; up to 2 min in TCG */
	for (i = 0; i < 1200 && !file_has(self->err, "netcost: ready"); i++) {
		if (waitpid(self->nc, NULL, WNOHANG) == self->nc) {
			self->nc = -1;
			break;
		}
		usleep(100000);
	}
	ASSERT_TRUE(file_has(self->err, "netcost: ready")) TH_LOG("netcost did not start");
}

FIXTURE_TEARDOWN(ops)
{
	char path[PATH_MAX + 160];
	int i;

	if (self->nc > 0) {
		kill(self->nc, SIGKILL);
		waitpid(self->nc, NULL, 0);
	}
	if (!self->base[0])
		return;
	enter_cg(self, NULL);
	for (i = 0; i < NMETHODS; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", self->cg2, self->base, methods[i].name);
		rmdir(path);
	}
	for (i = 0; i < NEXTRA; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", self->cg2, self->base, extras[i]);
		rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/%s", self->cg2, self->base);
	rmdir(path);
	unlink(self->out);
	unlink(self->err);
}

/* One call of a send method; returns bytes sent. */
static ssize_t do_send(FIXTURE_DATA(ops) *self, const char *m, char *buf)
{
	struct iovec iov = { .iov_base = buf, .iov_len = MSG };
	struct iovec iov2[2] = { { buf, MSG / 2 }, { buf + MSG / 2, MSG - MSG / 2 } };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm[2] = {
		{ .msg_hdr = { .msg_iov = &iov2[0], .msg_iovlen = 1 } },
		{ .msg_hdr = { .msg_iov = &iov2[1], .msg_iovlen = 1 } },
	};
	off_t off = 0;

	if (!strcmp(m, "send"))
		return send(self->a, buf, MSG, 0);
	if (!strcmp(m, "sendto"))
		return sendto(self->a, buf, MSG, 0, NULL, 0);
	if (!strcmp(m, "sendmsg"))
		return sendmsg(self->a, &msg, 0);
	if (!strcmp(m, "sendmmsg"))	/* two messages: one operation */
		return sendmmsg(self->a, mm, 2, 0) == 2 ? (ssize_t)(mm[0].msg_len +
								   mm[1].msg_len) : -1;
	if (!strcmp(m, "write"))
		return write(self->a, buf, MSG);
	if (!strcmp(m, "writev"))
		return writev(self->a, &iov, 1);
	if (!strcmp(m, "splice_send")) {
		if (write(self->pipefd[1], buf, MSG) != MSG)
			return -1;
		return splice(self->pipefd[0], NULL, self->a, NULL, MSG, 0);
	}
	if (!strcmp(m, "sendfile"))
		return sendfile(self->a, self->memfd, &off, MSG);
	if (!strcmp(m, "uring_send"))
		return uring_io(&self->ring, IORING_OP_SEND, self->a, buf, MSG, 0);
	if (!strcmp(m, "uring_send_wq"))	/* run by an io-wq worker thread */
		return uring_io(&self->ring, IORING_OP_SEND, self->a, buf, MSG, IOSQE_ASYNC);
	if (!strcmp(m, "uring_send_after_write")) {
		if (lseek(self->memfd, 0, SEEK_SET) || write(self->memfd, buf, MSG) != MSG)
			return -1;
		return uring_io(&self->ring, IORING_OP_SEND, self->a, buf, MSG, 0);
	}
	return -1;
}

/* One call of a receive method; returns bytes received. */
static ssize_t do_recv(FIXTURE_DATA(ops) *self, const char *m, char *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct iovec iov2[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm[2] = {
		{ .msg_hdr = { .msg_iov = &iov2[0], .msg_iovlen = 1 } },
		{ .msg_hdr = { .msg_iov = &iov2[1], .msg_iovlen = 1 } },
	};
	char tmp[MSG];
	ssize_t n;

	if (!strcmp(m, "recv"))
		return recv(self->b, buf, len, 0);
	if (!strcmp(m, "recvfrom"))
		return recvfrom(self->b, buf, len, 0, NULL, NULL);
	if (!strcmp(m, "recvmsg"))
		return recvmsg(self->b, &msg, 0);
	if (!strcmp(m, "recvmmsg")) {	/* up to two messages: one operation */
		n = recvmmsg(self->b, mm, 2, MSG_WAITFORONE, NULL);
		if (n < 1)
			return -1;
		return mm[0].msg_len + (n > 1 ? mm[1].msg_len : 0);
	}
	if (!strcmp(m, "read"))
		return read(self->b, buf, len);
	if (!strcmp(m, "readv"))
		return readv(self->b, &iov, 1);
	if (!strcmp(m, "splice_recv")) {
		n = splice(self->b, NULL, self->pipefd[1], NULL, len, 0);
		if (n > 0 && read(self->pipefd[0], buf, n) != n)
			return -1;
		return n;
	}
	if (!strcmp(m, "uring_recv"))
		return uring_io(&self->ring, IORING_OP_RECV, self->b, buf, len, 0);
	if (!strcmp(m, "uring_recv_after_read")) {
		if (lseek(self->memfd, 0, SEEK_SET) || read(self->memfd, tmp, MSG) != MSG)
			return -1;
		return uring_io(&self->ring, IORING_OP_RECV, self->b, buf, len, 0);
	}
	return -1;
}

/* Parse "key":number from a JSON line of netcost's (flat objects only). */
static long long jnum(const char *line, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(line, k);
	return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

/* If @line is the record of cgroup <base>/<name>: its send, recv ops and ns. */
static void cg_record(const char *line, const char *base, const char *name, long long v[4])
{
	char want[256];

	snprintf(want, sizeof(want), "\"cgroup\":\"/%s/%s\"", base, name);
	if (!strstr(line, want))
		return;
	v[0] = jnum(line, "send_ops");
	v[1] = jnum(line, "recv_ops");
	v[2] = jnum(line, "sock_send_ns");
	v[3] = jnum(line, "sock_recv_ns");
}

TEST_F(ops, every_method)
{
	char buf[MSG * NCALLS], line[2048];
	long long got[NMETHODS][4] = {}, ex[NEXTRA][4], untimed = -1, uring_calls = 0;
	struct timeval tv = { .tv_sec = 1 };
	const char *m;
	size_t have;
	ssize_t n;
	int i, k, status;
	pid_t pid;
	FILE *f;

	if (!self->base[0])
		SKIP(return, "backend %s unavailable", variant->backend);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < NMETHODS; i++) {
		m = methods[i].name;
		if (methods[i].dir == SEND) {
			ASSERT_EQ(0, enter_cg(self, m));
			for (k = 0; k < NCALLS; k++)
				ASSERT_EQ(MSG, do_send(self, m, buf)) TH_LOG("%s: %s", m,
									      strerror(errno));
			self->calls[i] = NCALLS;
			/* drain elsewhere */
			ASSERT_EQ(0, enter_cg(self, "other"));
			for (have = 0; have < MSG * NCALLS; have += n) {
				n = recv(self->b, buf, sizeof(buf) - have, 0);
				ASSERT_GT(n, 0);
			}
			continue;
		}
		ASSERT_EQ(0, enter_cg(self, "other"));
		for (k = 0; k < NCALLS; k++)
			ASSERT_EQ(MSG, send(self->a, buf, MSG, 0));
		ASSERT_EQ(0, enter_cg(self, m));
		for (have = 0; have < MSG * NCALLS; have += n) {
			n = do_recv(self, m, buf, MSG);
			ASSERT_GT(n, 0) TH_LOG("%s: %s", m, strerror(errno));
			self->calls[i]++;
		}
	}
	/* a receive that waits 1 s for nothing */
	ASSERT_EQ(0, setsockopt(self->b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	ASSERT_EQ(0, enter_cg(self, "blocked"));
	ASSERT_EQ(-1, recv(self->b, buf, MSG, 0));
	/* receives that find nothing: operations that fail */
	ASSERT_EQ(0, enter_cg(self, "eagain"));
	for (k = 0; k < NCALLS; k++) {
		ASSERT_EQ(-1, recv(self->b, buf, MSG, MSG_DONTWAIT));
		ASSERT_EQ(EAGAIN, errno);
	}
	/* a read of a pipe that waits 300 ms for its byte: no socket operation */
	ASSERT_EQ(0, enter_cg(self, "other"));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		usleep(300000);
		_exit(write(self->pipefd[1], "x", 1) == 1 ? 0 : 1);
	}
	ASSERT_EQ(0, enter_cg(self, "pipe_wait"));
	ASSERT_EQ(1, read(self->pipefd[0], buf, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, enter_cg(self, NULL));

	ASSERT_EQ(0, kill(self->nc, SIGINT));
	ASSERT_EQ(self->nc, waitpid(self->nc, &status, 0));
	self->nc = -1;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	memset(ex, 0xff, sizeof(ex));	/* -1: no record */
	f = fopen(self->out, "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "\"type\":\"total\"") && strstr(line, "\"average\":true"))
			untimed = jnum(line, "untimed_ops");
		if (!strstr(line, "\"type\":\"cgroup\"") || !strstr(line, "\"average\":true"))
			continue;
		if (!strstr(line, self->base))
			TH_LOG("other cgroup: %.*s", (int)strcspn(line, "\n"), line);
		for (i = 0; i < NMETHODS; i++)
			cg_record(line, self->base, methods[i].name, got[i]);
		for (i = 0; i < NEXTRA; i++)
			cg_record(line, self->base, extras[i], ex[i]);
	}
	fclose(f);
	f = fopen(self->err, "r");
	while (f && fgets(line, sizeof(line), f))
		TH_LOG("netcost: %.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
	TH_LOG("cgroup v2 at %s, ours under /%s", self->cg2, self->base);

	for (i = 0; i < NMETHODS; i++) {
		int d = methods[i].dir;

		if (methods[i].uring && !strcmp(variant->backend, "tracepoint")) {
			/* no syscall to time: counted as untimed_ops where sock_*_length exist */
			EXPECT_TRUE(got[i][0] <= 0 && got[i][1] <= 0) TH_LOG("%s: timed",
									       methods[i].name);
			uring_calls += self->calls[i];
			continue;
		}
		TH_LOG("%-22s calls %ld: send_ops %lld recv_ops %lld send_ns %lld recv_ns %lld",
		       methods[i].name, self->calls[i], got[i][0], got[i][1], got[i][2],
		       got[i][3]);
		EXPECT_EQ(self->calls[i], got[i][d]) TH_LOG("%s: operations", methods[i].name);
		EXPECT_EQ(0, got[i][!d]) TH_LOG("%s: other direction", methods[i].name);
		EXPECT_GT(got[i][2 + d], 0) TH_LOG("%s: no time", methods[i].name);
	}
	/* io_uring operations the tracepoint backend saw end but could not time */
	TH_LOG("untimed_ops %lld", untimed);
	if (!strcmp(variant->backend, "tracepoint") &&
	    !bn_probe_hook(BN_HOOK_TP_BTF, "sock_send_length"))
		EXPECT_GE(untimed, uring_calls);
	TH_LOG("blocked recv: recv_ops %lld, %lld ns", ex[BLOCKED][1], ex[BLOCKED][3]);
	EXPECT_EQ(1, ex[BLOCKED][1]);
	/* 1 s asleep in the call, on-CPU a few us: far below 50 ms even under TCG */
	EXPECT_LT(ex[BLOCKED][3], 50000000);
	EXPECT_GE(ex[BLOCKED][3], 0);
	TH_LOG("eagain: recv_ops %lld send_ops %lld", ex[EAGAIN_RECV][1], ex[EAGAIN_RECV][0]);
	EXPECT_EQ(NCALLS, ex[EAGAIN_RECV][1]);
	EXPECT_EQ(0, ex[EAGAIN_RECV][0]);
	/* no record, or one with no socket operation (the cgroup's other tasks) */
	TH_LOG("pipe_wait: recv_ops %lld send_ops %lld recv_ns %lld send_ns %lld",
	       ex[PIPE_WAIT][1], ex[PIPE_WAIT][0], ex[PIPE_WAIT][3], ex[PIPE_WAIT][2]);
	for (i = 0; i < 4; i++)
		EXPECT_GE(0, ex[PIPE_WAIT][i]);
}

TEST_HARNESS_MAIN
