// SPDX-License-Identifier: GPL-2.0
/*
 * load.c - rss-client's load generator: N clients, each a connected UDP
 * socket with its own sender and receiver thread. Senders are open loop
 * (Poisson or fixed arrivals, a short:long mix); receivers check each reply
 * and add its queuing delay (server timestamps) and round-trip time (client
 * clock) to the histograms of its step and class.
 *
 * Sharing: each client's counters and histograms have one writer (its
 * sender or its receiver) and are read with relaxed atomics by the main
 * thread; the main thread writes only the stop flags and reported[].
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include "rss-client.h"

static bool tx_stopping(const struct load *ld)
{
	return bn_stop || ld->tx_stop;
}

/*
 * Sleep until @t (CLOCK_MONOTONIC ns) or a stop, whichever is first: in
 * slices of at most 20 ms, since the signal may wake another thread.
 */
void load_sleep_until(const struct load *ld, __u64 t)
{
	struct timespec ts;
	__u64 now, until;

	while (!tx_stopping(ld) && (now = bn_now_ns()) < t) {
		until = t - now > 20000000ULL ? now + 20000000ULL : t;
		ts.tv_sec = until / 1000000000ULL;
		ts.tv_nsec = until % 1000000000ULL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static void *sender(void *arg)
{
	struct client *cl = arg;
	const struct load *ld = cl->ld;
	struct rss_req req = {};
	__u64 next, end, seq, now;
	double gap;
	int s, class;

	prctl(PR_SET_TIMERSLACK, 1UL);
	req.magic = htonl(RSS_MAGIC);
	req.version = RSS_VERSION;
	req.client = htons(cl->idx);
	for (s = 0; s < ld->nsteps && !tx_stopping(ld); s++) {
		gap = 1e9 * ld->nclients / ld->step_rate[s];
		next = ld->t0_ns + s * ld->step_len_ns;
		end = next + ld->step_len_ns;
		/* spread the clients' fixed schedules over one gap */
		if (!ld->poisson)
			next += gap * cl->idx / ld->nclients;
		else
			next += -log(1.0 - erand48(cl->xs)) * gap;
		seq = 0;
		while (next < end && !tx_stopping(ld)) {
			now = bn_now_ns();
			/* behind by the whole step: this client cannot offer the
			 * rate; what was sent is what counts (open loop) */
			if (now >= end)
				break;
			if (next > now + 2000)
				load_sleep_until(ld, next);
			class = erand48(cl->xs) * 100 < ld->short_pct ? RSS_SHORT : RSS_LONG;
			req.class = class;
			req.id = htobe64(((__u64)s << 32) | seq);
			req.t_send = htobe64(bn_now_ns());
			if (send(cl->fd, &req, sizeof(req), 0) == sizeof(req)) {
				__atomic_fetch_add(&cl->st[s][class].sent, 1, __ATOMIC_RELAXED);
				seq++;
			} else {
				cl->send_err++;
			}
			next += ld->poisson ? -log(1.0 - erand48(cl->xs)) * gap : gap;
		}
	}
	return NULL;
}

/* A reply of @cl: is it one of its requests? */
static bool reply_valid(const struct client *cl, const struct rss_req *r, ssize_t n)
{
	return n == (ssize_t)sizeof(*r) && ntohl(r->magic) == RSS_MAGIC &&
	       r->version == RSS_VERSION && r->class < RSS_NR_CLASSES &&
	       ntohs(r->client) == cl->idx && (be64toh(r->id) >> 32) < (__u64)cl->ld->nsteps;
}

/* Seen before in its step? Marks it seen. */
static bool reply_dup(struct client *cl, __u32 step, __u64 seq)
{
	__u8 bit = 1 << (seq & 7);

	if (!cl->seen[step] || seq >= cl->seen_bits[step])
		return false;
	if (cl->seen[step][seq >> 3] & bit)
		return true;
	cl->seen[step][seq >> 3] |= bit;
	return false;
}

static void *receiver(void *arg)
{
	struct client *cl = arg;
	const struct load *ld = cl->ld;
	__u64 id, t_send, t_server, t_worker, now;
	struct cls_stat *cs;
	struct rss_req r;
	__u32 step, cpu;
	ssize_t n;

	while (!ld->rx_stop) {
		n = recv(cl->fd, &r, sizeof(r), 0);
		if (n < 0)
			continue;	/* timeout: look at rx_stop */
		now = bn_now_ns();
		if (!reply_valid(cl, &r, n)) {
			cl->invalid++;
			continue;
		}
		id = be64toh(r.id);
		step = id >> 32;
		if (ld->reported[step])
			cl->late++;
		cs = &cl->st[step][r.class];
		if (reply_dup(cl, step, id & 0xffffffffULL)) {
			__atomic_fetch_add(&cs->dups, 1, __ATOMIC_RELAXED);
			continue;
		}
		t_send = be64toh(r.t_send);
		t_server = be64toh(r.t_server);
		t_worker = be64toh(r.t_worker);
		cpu = ntohl(r.cpu);
		if (cpu < RSS_MAX_CPUS)
			cl->cpu_replies[cpu]++;
		if (t_worker >= t_server && t_server)
			rss_hist_add(&cs->q, t_worker - t_server);
		else
			__atomic_fetch_add(&cs->bad_ts, 1, __ATOMIC_RELAXED);
		rss_hist_add(&cs->rtt, now >= t_send ? now - t_send : 0);
		__atomic_fetch_add(&cs->received, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int open_socket(const struct load *ld, struct client *cl)
{
	struct sockaddr_storage ss = {};
	struct sockaddr_storage local;
	struct timeval tv = { .tv_usec = 20000 };
	socklen_t len, llen = sizeof(local);
	int buf = 4 << 20;

	if (ld->server.family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(ld->port);
		memcpy(&sin->sin_addr, ld->server.addr, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ld->port);
		memcpy(&sin6->sin6_addr, ld->server.addr, 16);
		len = sizeof(*sin6);
	}
	cl->fd = socket(ld->server.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0)
		return -errno;
	setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* beyond net.core.rmem_max when privileged: bursts of replies fit */
	if (setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(cl->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (connect(cl->fd, (struct sockaddr *)&ss, len))
		return -errno;
	if (getsockname(cl->fd, (struct sockaddr *)&local, &llen))
		return -errno;
	cl->lport = ntohs(((struct sockaddr_in *)&local)->sin_port);
	return 0;
}

static int open_client(const struct load *ld, struct client *cl)
{
	int s;

	cl->xs[0] = 0x330e;
	cl->xs[1] = cl->idx * 7919 + 1;
	cl->xs[2] = (unsigned short)getpid();
	cl->st = calloc(ld->nsteps, sizeof(*cl->st));
	cl->seen = calloc(ld->nsteps, sizeof(*cl->seen));
	cl->seen_bits = calloc(ld->nsteps, sizeof(*cl->seen_bits));
	if (!cl->st || !cl->seen || !cl->seen_bits)
		return -ENOMEM;
	for (s = 0; s < ld->nsteps; s++) {
		double exp_n = ld->step_rate[s] / ld->nclients * ld->step_len_ns / 1e9;
		__u64 bits = (__u64)(exp_n * 1.5 + 8 * sqrt(exp_n) + 4096);

		/* duplicate detection only while it stays cheap */
		if (bits > (1ULL << 32))
			continue;
		cl->seen[s] = calloc(bits / 8 + 1, 1);
		if (cl->seen[s])
			cl->seen_bits[s] = bits;
	}
	return open_socket(ld, cl);
}

int load_open(struct load *ld)
{
	int k, err;

	ld->reported = calloc(ld->nsteps, 1);
	ld->clients = calloc(ld->nclients, sizeof(*ld->clients));
	if (!ld->reported || !ld->clients)
		return -ENOMEM;
	/* load_close() closes these: none may be 0 if a later one fails */
	for (k = 0; k < ld->nclients; k++)
		ld->clients[k].fd = -1;
	for (k = 0; k < ld->nclients; k++) {
		ld->clients[k].ld = ld;
		ld->clients[k].idx = k;
		err = open_client(ld, &ld->clients[k]);
		if (err)
			return err;
	}
	return 0;
}

static int start_client(struct client *cl)
{
	int err;

	err = pthread_create(&cl->rx, NULL, receiver, cl);
	if (err)
		return -err;
	err = pthread_create(&cl->tx, NULL, sender, cl);
	if (err) {
		pthread_cancel(cl->rx);
		pthread_join(cl->rx, NULL);
		return -err;
	}
	return 0;
}

/*
 * The threads run with SIGINT and SIGTERM blocked: a signal goes to the main
 * thread, whose loop sees it at once (the threads see bn_stop).
 */
int load_start(struct load *ld)
{
	sigset_t block, orig;
	int k, err = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	err = pthread_sigmask(SIG_BLOCK, &block, &orig);
	if (err)
		return -err;
	ld->t0_ns = bn_now_ns() + 50000000ULL;
	for (k = 0; k < ld->nclients && !err; k++) {
		err = start_client(&ld->clients[k]);
		if (!err)
			ld->started++;
	}
	pthread_sigmask(SIG_SETMASK, &orig, NULL);
	return err;
}

void load_stop(struct load *ld)
{
	int k;

	ld->tx_stop = 1;
	for (k = 0; k < ld->started; k++)
		pthread_join(ld->clients[k].tx, NULL);
	ld->rx_stop = 1;
	for (k = 0; k < ld->started; k++)
		pthread_join(ld->clients[k].rx, NULL);
	ld->started = 0;
}

void load_close(struct load *ld)
{
	struct client *cl;
	int k, s;

	for (k = 0; ld->clients && k < ld->nclients; k++) {
		cl = &ld->clients[k];
		if (cl->fd >= 0)
			close(cl->fd);
		for (s = 0; cl->seen && s < ld->nsteps; s++)
			free(cl->seen[s]);
		free(cl->seen);
		free(cl->seen_bits);
		free(cl->st);
	}
	free(ld->clients);
	free((void *)ld->reported);
	free(ld->step_rate);
	ld->clients = NULL;
	ld->reported = NULL;
	ld->step_rate = NULL;
}

void load_step_sum(const struct load *ld, int s, int c, struct load_sum *sum)
{
	const struct cls_stat *cs;
	int k;

	for (k = 0; k < ld->nclients; k++) {
		cs = &ld->clients[k].st[s][c];
		sum->sent += __atomic_load_n(&cs->sent, __ATOMIC_RELAXED);
		sum->received += __atomic_load_n(&cs->received, __ATOMIC_RELAXED);
		rss_hist_merge(&sum->q, &cs->q);
		rss_hist_merge(&sum->rtt, &cs->rtt);
	}
}

/* After load_stop(): the threads are gone. */
void load_totals(const struct load *ld, struct load_totals *t)
{
	const struct client *cl;
	int k, s, c;

	memset(t, 0, sizeof(*t));
	for (k = 0; k < ld->nclients; k++) {
		cl = &ld->clients[k];
		for (s = 0; s < ld->nsteps; s++) {
			for (c = 0; c < RSS_NR_CLASSES; c++) {
				t->sent += cl->st[s][c].sent;
				t->received += cl->st[s][c].received;
				t->dups += cl->st[s][c].dups;
				t->bad_ts += cl->st[s][c].bad_ts;
			}
		}
		t->invalid += cl->invalid;
		t->late += cl->late;
		t->send_err += cl->send_err;
	}
}
