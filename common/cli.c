// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - the options every binary shares (-v -j -i -d -V -h), usage errors
 * (one line, exit 2), bounded option values, name tables, listen addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define NSEC 1000000000ULL

void bn_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", bn_prog());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(BN_EXIT_USAGE);
}

uint64_t bn_opt_u64(const char *what, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (bn_parse_u64(arg, min, max, &v))
		bn_usage("invalid %s '%s': want a number from %llu to %llu", what, arg,
			 (unsigned long long)min, (unsigned long long)max);
	return v;
}

/* "1.5s", "250ms", ... for messages; whole units where they fit. */
static const char *dur_str(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *sfx;
		uint64_t ns;
	} u[] = { { "d", 86400 * NSEC }, { "h", 3600 * NSEC }, { "m", 60 * NSEC },
		  { "s", NSEC }, { "ms", 1000000 }, { "us", 1000 }, { "ns", 1 } };
	unsigned int i;

	for (i = 0; i < sizeof(u) / sizeof(u[0]) - 1; i++)
		if (ns >= u[i].ns && !(ns % u[i].ns))
			break;
	snprintf(buf, len, "%llu%s", (unsigned long long)(ns / u[i].ns), u[i].sfx);
	return buf;
}

uint64_t bn_opt_duration(const char *what, const char *arg, uint64_t min_ns, uint64_t max_ns)
{
	char lo[32], hi[32];
	uint64_t v;
	int err;

	err = bn_parse_duration(arg, NSEC, &v);
	if (err == -EINVAL)
		bn_usage("invalid %s '%s': want a duration like 5s, 500ms, 2m", what, arg);
	if (err || v < min_ns || v > max_ns)
		bn_usage("invalid %s '%s': want %s to %s", what, arg,
			 dur_str(min_ns ? min_ns : 1, lo, sizeof(lo)),
			 dur_str(max_ns, hi, sizeof(hi)));
	return v;
}

uint64_t bn_opt_size(const char *what, const char *arg)
{
	uint64_t v;

	if (bn_parse_size(arg, &v) || !v)
		bn_usage("invalid %s '%s': want a size like 64K, 10M, 1G", what, arg);
	return v;
}

int bn_name_index(const char *s, const char *const *names, int n)
{
	int i;

	for (i = 0; s && i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -EINVAL;
}

const char *bn_names_str(const char *const *names, int n, char *buf, size_t len)
{
	size_t off = 0;
	int i, last = n - 1;

	if (len)
		buf[0] = '\0';
	while (last >= 0 && !names[last])
		last--;
	for (i = 0; i <= last && off < len; i++) {
		if (!names[i])
			continue;
		off += snprintf(buf + off, len - off, "%s%s",
				!off ? "" : i == last ? " or " : ", ", names[i]);
	}
	return buf;
}

int bn_opt_name(const char *what, const char *arg, const char *const *names, int n)
{
	char want[256];
	int i = bn_name_index(arg, names, n);

	if (i < 0)
		bn_usage("invalid %s '%s': want %s", what, arg,
			 bn_names_str(names, n, want, sizeof(want)));
	return i;
}

/* ---- listen addresses ---- */

int bn_parse_listen(const char *s, struct bn_listen *l)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->ss;
	const char *colon, *port;
	char host[INET6_ADDRSTRLEN + 2];
	uint64_t p;
	size_t hl;

	if (!s || !*s)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	colon = strrchr(s, ':');
	port = colon ? colon + 1 : s;
	if (bn_parse_u64(port, 1, 65535, &p))
		return -EINVAL;
	if (!colon) {
		strcpy(host, "127.0.0.1");
	} else {
		hl = colon - s;
		if (!hl || hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
	}
	if (host[0] == '[') {
		hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']')
			return -EINVAL;
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		l->len = sizeof(*sin6);
		snprintf(l->str, sizeof(l->str), "[%s]:%u", host, (unsigned int)p);
		return 0;
	}
	/* an IPv6 address needs its brackets: "::1:80" is ambiguous */
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EINVAL;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(p);
	l->len = sizeof(*sin);
	snprintf(l->str, sizeof(l->str), "%s:%u", host, (unsigned int)p);
	return 0;
}

void bn_opt_listen(const char *what, const char *arg, struct bn_listen *l)
{
	if (bn_parse_listen(arg, l))
		bn_usage("invalid %s '%s': want PORT, ADDR:PORT or [ADDR6]:PORT", what, arg);
}

/* ---- the common options: an argp child of every binary ---- */

enum { OPT_VERSION = 'V' };

static const struct argp_option common_opts[] = {
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "duration", 'd', "DUR", 0, "Stop after DUR (e.g. 30s, 5m; at most 1 year)", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose (twice: libbpf debug output)", 0 },
	{ "version", OPT_VERSION, NULL, 0, "Print the version", 0 },
	{ "help", 'h', NULL, 0, "Show this help", 0 },
	{},
};

static const struct argp_option interval_opts[] = {
	{ "interval", 'i', "DUR", 0, "Report every DUR (at most 24h)", 0 },
	{},
};

static error_t common_parse(int key, char *arg, struct argp_state *st)
{
	struct bn_cli *cli = st->input;

	switch (key) {
	case 'j':
		cli->json = true;
		break;
	case 'd':
		cli->duration_ns = bn_opt_duration("duration", arg, 1, BN_MAX_DURATION_NS);
		break;
	case 'i':
		cli->interval_ns = bn_opt_duration("interval", arg,
						   cli->interval_min_ns ?: 1000000,
						   BN_MAX_INTERVAL_NS);
		break;
	case 'v':
		bn_verbose++;
		break;
	case OPT_VERSION:
		printf("%s %s\n", bn_prog(), BN_VERSION);
		exit(BN_EXIT_OK);
	case 'h':
		argp_state_help(st, stdout, ARGP_HELP_STD_HELP);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct cli_ctx {
	struct bn_cli *cli;
	void *input;
};

/* Tried after every other parser: an argument nobody took is an error. */
static error_t tail_parse(int key, char *arg, struct argp_state *st)
{
	if (key == ARGP_KEY_ARG)
		bn_usage("unexpected argument '%s'", arg);
	return ARGP_ERR_UNKNOWN;
}

static error_t root_parse(int key, char *arg, struct argp_state *st)
{
	struct cli_ctx *c = st->input;
	static FILE *devnull;

	if (key != ARGP_KEY_INIT)
		return ARGP_ERR_UNKNOWN;
	st->child_inputs[0] = c->input;
	st->child_inputs[1] = c->cli;
	st->child_inputs[2] = c->cli;
	/*
	 * getopt names an unknown option or a missing argument on stderr in
	 * one line; argp's "Try --help" line after it goes to err_stream.
	 */
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (devnull)
		st->err_stream = devnull;
	return 0;
}

void bn_cli_parse(struct bn_cli *cli, const struct argp_option *opts,
		  error_t (*parser)(int key, char *arg, struct argp_state *st),
		  const char *args_doc, const char *doc, void *input, int argc, char **argv)
{
	static const struct argp_option none[] = { {} };
	struct argp tool = { opts ? opts : none, parser, NULL, NULL, NULL, NULL, NULL };
	struct argp common = { common_opts, common_parse, NULL, NULL, NULL, NULL, NULL };
	struct argp interval = { cli->has_interval ? interval_opts : none, common_parse,
				 NULL, NULL, NULL, NULL, NULL };
	struct argp tail = { none, tail_parse, NULL, NULL, NULL, NULL, NULL };
	struct argp_child children[] = {
		{ &tool, 0, NULL, 0 },
		{ &common, 0, "Common options:", 0 },
		{ &interval, 0, NULL, 0 },
		{ &tail, 0, NULL, 0 },
		{},
	};
	struct argp root = { NULL, root_parse, args_doc, doc, children, NULL, NULL };
	struct cli_ctx ctx = { cli, input };

	argp_err_exit_status = BN_EXIT_USAGE;
	argv[0] = (char *)bn_prog();	/* getopt's messages start with it */
	if (argp_parse(&root, argc, argv, ARGP_NO_HELP, NULL, &ctx))
		exit(BN_EXIT_USAGE);
}
