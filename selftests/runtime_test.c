// SPDX-License-Identifier: GPL-2.0
/*
 * runtime_test - the runtime every tool shares: records and escaping, the
 * common options, the interval loop and the HTTP server (hostile clients
 * included: idle, slow, oversized, many).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "common.h"

static char *capture(void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void esc_json(FILE *f, const void *s)
{
	bn_json_escape(f, s);
}

static void esc_prom(FILE *f, const void *s)
{
	bn_prom_label(f, s);
}

TEST(json_escape_utf8)
{
	char *s;

	s = capture(esc_json, "caf\xc3\xa9 \xe2\x82\xac");	/* valid UTF-8 stays */
	EXPECT_STREQ("\"caf\xc3\xa9 \xe2\x82\xac\"", s);
	free(s);
	s = capture(esc_json, "a\xff" "b\xc3");		/* invalid bytes: \xNN */
	EXPECT_STREQ("\"a\\\\xffb\\\\xc3\"", s);
	free(s);
	s = capture(esc_json, "\xc0\xaf");			/* overlong '/' */
	EXPECT_STREQ("\"\\\\xc0\\\\xaf\"", s);
	free(s);
	s = capture(esc_json, "\x01q\"\\\n");
	EXPECT_STREQ("\"\\u0001q\\\"\\\\\\n\"", s);
	free(s);
}

TEST(prom_label)
{
	char *s;

	s = capture(esc_prom, "a\\b\"c\nd\x01" "e\xff");
	EXPECT_STREQ("a\\\\b\\\"c\\nd\x01" "e\xef\xbf\xbd", s);
	free(s);
}

static void rec(FILE *f, const void *arg)
{
	struct bn_json j;

	bn_rec_begin(&j, f, "t", 1764600000123456789ULL);
	bn_json_arr_begin(&j, "cpus");
	bn_json_obj_begin(&j, NULL);
	bn_json_u64(&j, "cpu", 0);
	bn_json_obj_end(&j);
	bn_json_obj_begin(&j, NULL);
	bn_json_u64(&j, "cpu", 1);
	bn_json_obj_end(&j);
	bn_json_arr_end(&j);
	bn_json_u64(&j, "n", 2);
	bn_json_end(&j);
}

TEST(records)
{
	char *s = capture(rec, NULL), buf[BN_TIMESTRLEN];

	EXPECT_STREQ("{\"type\":\"t\",\"time\":1764600000.123456,"
		     "\"cpus\":[{\"cpu\":0},{\"cpu\":1}],\"n\":2}\n", s);
	free(s);
	bn_time_str(1764600000123456789ULL, buf, sizeof(buf));
	EXPECT_EQ(12, strlen(buf));
	EXPECT_EQ(':', buf[2]);
	EXPECT_EQ('.', buf[8]);
	EXPECT_STREQ("123", buf + 9);
}

TEST(listen_addr)
{
	struct bn_listen l;

	ASSERT_EQ(0, bn_parse_listen("9464", &l));
	EXPECT_STREQ("127.0.0.1:9464", l.str);
	ASSERT_EQ(0, bn_parse_listen("0.0.0.0:80", &l));
	EXPECT_STREQ("0.0.0.0:80", l.str);
	ASSERT_EQ(0, bn_parse_listen("[::]:9464", &l));
	EXPECT_EQ(AF_INET6, l.ss.ss_family);
	EXPECT_STREQ("[::]:9464", l.str);
	EXPECT_EQ(-EINVAL, bn_parse_listen("0", &l));
	EXPECT_EQ(-EINVAL, bn_parse_listen("65536", &l));
	EXPECT_EQ(-EINVAL, bn_parse_listen("::1:80", &l));
	EXPECT_EQ(-EINVAL, bn_parse_listen("host:80", &l));
	EXPECT_EQ(-EINVAL, bn_parse_listen(":80", &l));
	EXPECT_EQ(-EINVAL, bn_parse_listen("[::1:80", &l));
	EXPECT_EQ(-EINVAL, bn_parse_listen("", &l));
}

TEST(names)
{
	static const char *const names[] = { "auto", "fentry", "kprobe", "tc" };
	char buf[64];

	EXPECT_EQ(2, bn_name_index("kprobe", names, 4));
	EXPECT_EQ(-EINVAL, bn_name_index("kprobes", names, 4));
	EXPECT_STREQ("auto, fentry, kprobe or tc", bn_names_str(names, 4, buf, sizeof(buf)));
}

/* ---- the common options, in a child: usage errors exit ---- */

static error_t tool_parse(int key, char *arg, struct argp_state *st)
{
	static const char *const modes[] = { "a", "b" };

	switch (key) {
	case 'm':
		*(int *)st->input = bn_opt_name("--mode", arg, modes, 2);
		return 0;
	case ARGP_KEY_ARG:
		if (strcmp(arg, "ok"))
			return ARGP_ERR_UNKNOWN;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

/* Run the parser on @args in a child: its exit status, stdout and stderr. */
static int cli_run(const char *const *args, bool interval, char *out, char *err, size_t len)
{
	static const struct argp_option opts[] = {
		{ "mode", 'm', "M", 0, "a or b", 0 }, {},
	};
	int po[2], pe[2], st, argc = 0;
	char *argv[16];
	ssize_t n;
	pid_t pid;

	if (pipe(po) || pipe(pe))
		return -1;
	pid = fork();
	if (!pid) {
		struct bn_cli cli = { .has_interval = interval, .interval_ns = 1000000000 };
		int mode = -1;

		dup2(po[1], 1);
		dup2(pe[1], 2);
		argv[argc++] = "/x/runtime_test";
		while (*args)
			argv[argc++] = (char *)*args++;
		argv[argc] = NULL;
		bn_log_init(argv[0]);
		bn_cli_parse(&cli, opts, tool_parse, "[ok]", "doc", &mode, argc, argv);
		printf("json=%d i=%llu d=%llu v=%d mode=%d\n", cli.json,
		       (unsigned long long)cli.interval_ns, (unsigned long long)cli.duration_ns,
		       bn_verbose, mode);
		fflush(stdout);
		_exit(0);
	}
	close(po[1]);
	close(pe[1]);
	n = read(po[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	n = read(pe[0], err, len - 1);
	err[n > 0 ? n : 0] = '\0';
	close(po[0]);
	close(pe[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(cli)
{
	char out[4096], err[4096];

	ASSERT_EQ(0, cli_run((const char *const[]){ "-j", "-i", "2s", "-d", "1m", "-vv",
			     "--mode", "b", "ok", NULL }, true, out, err, sizeof(out)));
	EXPECT_STREQ("json=1 i=2000000000 d=60000000000 v=2 mode=1\n", out);
	/* usage errors: exit 2, one line naming the problem, nothing on stdout */
	ASSERT_EQ(2, cli_run((const char *const[]){ "--bogus", NULL }, true, out, err,
			     sizeof(out)));
	EXPECT_STREQ("runtime_test: unrecognized option '--bogus'\n", err);
	EXPECT_STREQ("", out);
	ASSERT_EQ(2, cli_run((const char *const[]){ "-i", "18446744073s", NULL }, true, out,
			     err, sizeof(out)));
	EXPECT_STREQ("runtime_test: invalid interval '18446744073s': want 1ms to 1d\n", err);
	ASSERT_EQ(2, cli_run((const char *const[]){ "-d", "18446744073s", NULL }, true, out,
			     err, sizeof(out)));
	EXPECT_STREQ("runtime_test: invalid duration '18446744073s': want 1ns to 366d\n", err);
	ASSERT_EQ(2, cli_run((const char *const[]){ "-i", "1s", NULL }, false, out, err,
			     sizeof(out)));
	ASSERT_EQ(2, cli_run((const char *const[]){ "--mode", "c", NULL }, true, out, err,
			     sizeof(out)));
	EXPECT_STREQ("runtime_test: invalid --mode 'c': want a or b\n", err);
	ASSERT_EQ(2, cli_run((const char *const[]){ "extra", NULL }, true, out, err,
			     sizeof(out)));
	EXPECT_STREQ("runtime_test: unexpected argument 'extra'\n", err);
	ASSERT_EQ(2, cli_run((const char *const[]){ "-d", NULL }, true, out, err,
			     sizeof(out)));
	EXPECT_EQ(NULL, strchr(err, '\n') + 1 == err + strlen(err) ? NULL : "two lines");
	ASSERT_EQ(0, cli_run((const char *const[]){ "-V", NULL }, true, out, err,
			     sizeof(out)));
	EXPECT_STREQ("runtime_test " BN_VERSION "\n", out);
	ASSERT_EQ(0, cli_run((const char *const[]){ "-h", NULL }, true, out, err,
			     sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "--interval"));
	EXPECT_NE(NULL, strstr(out, "--mode"));
	EXPECT_EQ(NULL, strstr(out, "Report bugs"));
}

/* ---- loop ---- */

static int count_tick(void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

TEST(loop_ticks_until_duration)
{
	struct bn_loop l;
	uint64_t t0;
	int ticks = 0;

	ASSERT_EQ(0, bn_loop_init(&l, 100000000, 550000000));
	t0 = bn_now_ns();
	ASSERT_EQ(0, bn_loop_run(&l, count_tick, &ticks));
	EXPECT_GE(bn_now_ns() - t0, 550000000);
	/* one per 100 ms, never more; fewer only if this process was not run */
	EXPECT_LE(ticks, 5);
	EXPECT_GE(ticks, 1);
	bn_loop_close(&l);
}

static int fail_tick(void *ctx)
{
	return -EIO;
}

TEST(loop_error_ends)
{
	struct bn_loop l;

	ASSERT_EQ(0, bn_loop_init(&l, 1000000, 0));
	EXPECT_EQ(-EIO, bn_loop_run(&l, fail_tick, NULL));
	bn_loop_close(&l);
}

static void *send_term(void *arg)
{
	sigset_t set;

	/* only the loop's thread may take it, as in a threaded tool */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	usleep(200000);
	kill(getpid(), SIGTERM);
	return NULL;
}

TEST(loop_signal_ends_wait)
{
	struct bn_loop l;
	pthread_t t;
	uint64_t t0;

	ASSERT_EQ(0, bn_signals_setup());
	bn_stop = 0;
	/* a tick once an hour: only the signal can end this at once */
	ASSERT_EQ(0, bn_loop_init(&l, 3600ULL * 1000000000, 0));
	t0 = bn_now_ns();
	ASSERT_EQ(0, pthread_create(&t, NULL, send_term, NULL));
	EXPECT_EQ(0, bn_loop_run(&l, NULL, NULL));
	pthread_join(t, NULL);
	EXPECT_EQ(1, bn_stop);
	/* bounded wait, not a speed check: an hour-long wait would fail here */
	EXPECT_LT(bn_now_ns() - t0, 30ULL * 1000000000);
	bn_stop = 0;
	bn_loop_close(&l);
}

/* ---- HTTP server: runs in a thread's loop, the test is the client ---- */

struct srv_ctx {
	struct bn_http *srv;
	struct bn_loop loop;
	struct bn_listen l;
	int posts;
};

static void echo(void *ctx, const struct bn_http_req *req, struct bn_http_resp *resp)
{
	struct srv_ctx *s = ctx;

	s->posts++;
	bn_http_reply(resp, 200, "application/json", "{\"len\":%zu,\"body\":\"%s\"}",
		      req->body_len, req->body);
}

static struct bn_http_route routes[] = {
	{ "/metrics", BN_HTTP_GET, NULL, NULL },
	{ "/echo", BN_HTTP_POST, echo, NULL },
};

static void *serve(void *arg)
{
	struct srv_ctx *s = arg;

	bn_loop_run(&s->loop, NULL, NULL);
	return NULL;
}

static int connect_to(const struct bn_listen *l)
{
	int fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 5 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)&l->ss, l->len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send @req, read the whole answer into @buf; returns the status or -1. */
static int request(const struct bn_listen *l, const char *req, size_t len, char *buf,
		   size_t cap)
{
	int fd = connect_to(l), status = -1;
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		goto out;
	while (got < cap - 1 && (n = recv(fd, buf + got, cap - 1 - got, 0)) > 0)
		got += n;
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		status = -1;
out:
	close(fd);
	return status;
}

FIXTURE(http) {
	struct srv_ctx s;
	pthread_t t;
};

FIXTURE_SETUP(http)
{
	struct bn_http_route *r = &routes[1];
	int port, err = -1;

	r->ctx = &self->s;
	ASSERT_EQ(0, bn_signals_setup());
	for (port = 20000 + getpid() % 20000; err && port < 65000; port += 97) {
		char a[16];

		snprintf(a, sizeof(a), "%d", port);
		ASSERT_EQ(0, bn_parse_listen(a, &self->s.l));
		err = bn_http_open(&self->s.srv, &self->s.l, routes, 2, 4096);
	}
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, bn_http_set_body(self->s.srv, "/metrics", NULL, "m 1\n", 4));
	ASSERT_EQ(0, bn_loop_init(&self->s.loop, 0, 20ULL * 1000000000));
	ASSERT_EQ(0, bn_loop_add_http(&self->s.loop, self->s.srv));
	bn_stop = 0;
	ASSERT_EQ(0, pthread_create(&self->t, NULL, serve, &self->s));
}

FIXTURE_TEARDOWN(http)
{
	bn_stop = 1;
	pthread_kill(self->t, SIGTERM);
	pthread_join(self->t, NULL);
	bn_stop = 0;
	bn_loop_close(&self->s.loop);
	bn_http_close(self->s.srv);
}

#define REQ(s) s, sizeof(s) - 1

TEST_F(http, routes_and_errors)
{
	char buf[8192], big[9000];

	ASSERT_EQ(200, request(&self->s.l, REQ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
			       buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "Content-Length: 4\r\n"));
	EXPECT_NE(NULL, strstr(buf, "\r\n\r\nm 1\n"));
	EXPECT_EQ(200, request(&self->s.l, REQ("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), buf,
			       sizeof(buf)));
	EXPECT_EQ(404, request(&self->s.l, REQ("GET /other HTTP/1.1\r\n\r\n"), buf,
			       sizeof(buf)));
	EXPECT_EQ(405, request(&self->s.l, REQ("DELETE /metrics HTTP/1.1\r\n\r\n"), buf,
			       sizeof(buf)));
	EXPECT_EQ(405, request(&self->s.l, REQ("GET /echo HTTP/1.1\r\n\r\n"), buf,
			       sizeof(buf)));
	EXPECT_EQ(411, request(&self->s.l, REQ("POST /echo HTTP/1.1\r\n\r\n"), buf,
			       sizeof(buf)));
	EXPECT_EQ(411, request(&self->s.l, REQ("POST /echo HTTP/1.1\r\nTransfer-Encoding: "
					       "chunked\r\n\r\n"), buf, sizeof(buf)));
	EXPECT_EQ(413, request(&self->s.l, REQ("POST /echo HTTP/1.1\r\nContent-Length: "
					       "99999\r\n\r\n"), buf, sizeof(buf)));
	EXPECT_EQ(400, request(&self->s.l, REQ("POST /echo HTTP/1.1\r\nContent-Length: "
					       "-1\r\n\r\n"), buf, sizeof(buf)));
	EXPECT_EQ(400, request(&self->s.l, REQ("garbage\r\n\r\n"), buf, sizeof(buf)));
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	EXPECT_EQ(431, request(&self->s.l, big, sizeof(big), buf, sizeof(buf)));
	ASSERT_EQ(200, request(&self->s.l, REQ("POST /echo HTTP/1.1\r\nContent-length: 5\r\n"
					       "\r\nhello"), buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "{\"len\":5,\"body\":\"hello\"}"));
	EXPECT_EQ(1, self->s.posts);
}

TEST_F(http, json_errors)
{
	char buf[4096];

	bn_http_json_errors(self->s.srv, true);
	EXPECT_EQ(404, request(&self->s.l, REQ("GET /x HTTP/1.1\r\n\r\n"), buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "\r\n\r\n{\"Error\":\"not found\"}\n"));
}

/* Idle and slow clients, and more of them than the server has slots. */
TEST_F(http, hostile_clients)
{
	int idle[100], slow, i, n = 0;
	char buf[4096];

	for (i = 0; i < 100; i++) {
		idle[i] = connect_to(&self->s.l);
		if (idle[i] >= 0)
			n++;
	}
	EXPECT_GT(n, 64);
	slow = connect_to(&self->s.l);
	ASSERT_GE(slow, 0);
	ASSERT_EQ(4, send(slow, "GET ", 4, MSG_NOSIGNAL));
	/* a well-behaved client is still answered */
	EXPECT_EQ(200, request(&self->s.l, REQ("GET /metrics HTTP/1.1\r\n\r\n"), buf,
			       sizeof(buf)));
	for (i = 0; i < 100; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	close(slow);
	EXPECT_EQ(200, request(&self->s.l, REQ("GET /metrics HTTP/1.1\r\n\r\n"), buf,
			       sizeof(buf)));
}

/* A client that sends half a request and stops is closed by the server. */
TEST_F(http, idle_timeout)
{
	struct timeval tv = { .tv_sec = 12 };
	char buf[64];
	int fd;

	fd = connect_to(&self->s.l);
	ASSERT_GE(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ASSERT_EQ(4, send(fd, "GET ", 4, MSG_NOSIGNAL));
	EXPECT_EQ(0, recv(fd, buf, sizeof(buf), 0));
	close(fd);
}

TEST_HARNESS_MAIN
