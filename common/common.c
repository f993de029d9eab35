// SPDX-License-Identifier: GPL-2.0
/* common.c - logging, signals, parsers, addresses, interfaces, sysctl. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "common.h"

int bn_verbose;
volatile sig_atomic_t bn_stop;
static const char *prog_name = "bpfnet";

void bn_log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	prog_name = slash ? slash + 1 : prog;
}

const char *bn_prog(void)
{
	return prog_name;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", prog_name, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void bn_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void bn_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void bn_info(const char *fmt, ...)
{
	va_list ap;

	if (bn_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void bn_dbg(const char *fmt, ...)
{
	va_list ap;

	if (bn_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && bn_verbose < 2)
		return 0;
	if (level != LIBBPF_DEBUG && bn_verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void bn_libbpf_setup(void)
{
	libbpf_set_print(libbpf_print);
}

void bn_stdout_setup(void)
{
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
}

static void on_signal(int sig)
{
	(void)sig;
	bn_stop = 1;
}

int bn_signals_setup(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t bn_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t bn_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* ---- parsing ---- */

/* Leading digits of @s into @out; @end set past them. No sign, no spaces. */
static int parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = *p - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int bn_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int err;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		char *e;

		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		errno = 0;
		v = strtoull(s + 2, &e, 16);
		if (errno == ERANGE)
			return -ERANGE;
		end = e;
	} else {
		err = parse_digits(s, &v, &end);
		if (err)
			return err;
	}
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int bn_parse_s64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	uint64_t v;
	int64_t r;
	int err;

	if (!s)
		return -EINVAL;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	err = bn_parse_u64(s, 0, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v);
	if (err)
		return err;
	r = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (r < min || r > max)
		return -ERANGE;
	*out = r;
	return 0;
}

/* "12.345" -> 12345000000 (units of 1e-9); @end past the number. */
static int parse_decimal(const char *s, uint64_t *out, const char **end)
{
	uint64_t ip, frac = 0, scale = 1000000000ULL;
	const char *p;
	int err;

	err = parse_digits(s, &ip, &p);
	if (err)
		return err;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale == 1)
				return -EINVAL;	/* more than 9 decimals */
			scale /= 10;
			frac += (*p - '0') * scale;
		}
	}
	if (ip > (UINT64_MAX - frac) / 1000000000ULL)
		return -ERANGE;
	*out = ip * 1000000000ULL + frac;
	*end = p;
	return 0;
}

int bn_parse_decimal(const char *s, uint64_t *out_nano)
{
	const char *end;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_decimal(s, out_nano, &end);
	if (err)
		return err;
	return *end ? -EINVAL : 0;
}

/* A value in 1e-9 units times @mult, in whole units (rounded down). */
static int scale_nano(uint64_t nano, uint64_t mult, uint64_t *out)
{
	unsigned __int128 v = (unsigned __int128)nano * mult / 1000000000ULL;

	if (v > UINT64_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

int bn_parse_duration(const char *s, uint64_t bare_unit_ns, uint64_t *ns)
{
	static const struct {
		const char *sfx;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000ULL },
		{ "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};
	uint64_t nano, mult = bare_unit_ns, v;
	const char *end;
	unsigned int i;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_decimal(s, &nano, &end);
	if (err)
		return err;
	if (*end) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(end, units[i].sfx))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -EINVAL;
		mult = units[i].ns;
	}
	err = scale_nano(nano, mult, &v);
	if (err)
		return err;
	if (!v)
		return -ERANGE;
	*ns = v;
	return 0;
}

int bn_parse_size(const char *s, uint64_t *bytes)
{
	static const char sfx[] = "KMGT";
	uint64_t nano, mult = 1;
	const char *end, *p;
	int err;

	if (!s)
		return -EINVAL;
	err = parse_decimal(s, &nano, &end);
	if (err)
		return err;
	if (*end) {
		p = strchr(sfx, toupper((unsigned char)*end));
		if (*end != 'B' && *end != 'b' && p) {
			mult = 1ULL << (10 * (p - sfx + 1));
			end++;
			if (*end == 'i')
				end++;
		}
		if (*end == 'B' || (*end == 'b' && mult == 1))
			end++;
		if (*end)
			return -EINVAL;
	}
	if (nano % 1000000000ULL && mult == 1)
		return -EINVAL;		/* fractional bytes */
	return scale_nano(nano, mult, bytes);
}

int bn_parse_cpulist(const char *s, int nr_cpus, struct bn_cpuset *set)
{
	const char *p = s;
	uint64_t a, b, c;
	int err;

	if (!s || !*s)
		return -EINVAL;
	if (nr_cpus <= 0 || nr_cpus > BN_MAX_CPUS)
		nr_cpus = BN_MAX_CPUS;
	memset(set, 0, sizeof(*set));
	for (;;) {
		err = parse_digits(p, &a, &p);
		if (err)
			return err;
		b = a;
		if (*p == '-') {
			err = parse_digits(p + 1, &b, &p);
			if (err)
				return err;
			if (b < a)
				return -EINVAL;
		}
		if (b >= (uint64_t)nr_cpus)
			return -ERANGE;
		for (c = a; c <= b; c++)
			bn_cpuset_add(set, c);
		if (!*p)
			return 0;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

int bn_cpuset_count(const struct bn_cpuset *set)
{
	int i, n = 0;

	for (i = 0; i < BN_MAX_CPUS / 64; i++)
		n += __builtin_popcountll(set->bits[i]);
	return n;
}

int bn_nr_cpus(void)
{
	return libbpf_num_possible_cpus();
}

/* ---- addresses ---- */

int bn_parse_addr(const char *s, struct bn_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a->addr) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

static void mask_host_bits(uint8_t *addr, unsigned int len, unsigned int bits)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff00 >> bits);
		bits = 0;
	}
}

int bn_parse_prefix(const char *s, struct bn_prefix *p)
{
	char buf[BN_PREFIXSTRLEN];
	const char *slash;
	uint64_t len;
	int err, max;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(s, '/');
	if (slash)
		buf[slash - s] = '\0';
	err = bn_parse_addr(buf, &p->addr);
	if (err)
		return err;
	max = p->addr.family == AF_INET ? 32 : 128;
	len = max;
	if (slash) {
		err = bn_parse_u64(slash + 1, 0, max, &len);
		if (err)
			return err == -ERANGE ? -ERANGE : -EINVAL;
		if (slash[1] == '0' && slash[2])
			return -EINVAL;	/* no leading zeros or hex */
	}
	p->len = len;
	mask_host_bits(p->addr.addr, max / 8, len);
	return 0;
}

bool bn_prefix_match(const struct bn_prefix *p, const struct bn_addr *a)
{
	uint8_t tmp[16];
	int n = p->addr.family == AF_INET ? 4 : 16;

	if (a->family != p->addr.family)
		return false;
	memcpy(tmp, a->addr, n);
	mask_host_bits(tmp, n, p->len);
	return !memcmp(tmp, p->addr.addr, n);
}

const char *bn_addr_str(int family, const void *raw, char *buf, size_t len)
{
	if (!inet_ntop(family, raw, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *bn_prefix_str(const struct bn_prefix *p, char *buf, size_t len)
{
	char a[BN_ADDRSTRLEN];

	bn_addr_str(p->addr.family, p->addr.addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

/* ---- interfaces ---- */

bool bn_node_name_valid(const char *s)
{
	size_t n = strnlen(s, BN_NODE_MAX), i;

	/* a Kubernetes node name: a DNS subdomain, up to 253 characters */
	if (!n || n >= BN_NODE_MAX || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' ||
	    s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}

int bn_ifindex(const char *name)
{
	unsigned int idx;

	if (!name || !*name || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	idx = if_nametoindex(name);
	return idx ? (int)idx : -ENODEV;
}

int bn_ifname(int ifindex, char *buf)
{
	if (ifindex > 0 && if_indextoname(ifindex, buf))
		return 0;
	strcpy(buf, "?");
	return -ENODEV;
}

/* ---- network namespaces ---- */

int bn_netns_enter(const char *path, int *self)
{
	int fd, err = 0;

	*self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*self < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		close(*self);
		*self = -1;
	}
	return err;
}

int bn_netns_leave(int *self)
{
	int err = 0;

	if (*self < 0)
		return 0;
	if (setns(*self, CLONE_NEWNET))
		err = -errno;	/* cannot happen: we were there */
	close(*self);
	*self = -1;
	return err;
}

/* ---- privileges ---- */

int bn_check_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	uint64_t eff;

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel decide */
	eff = data[0].effective | (uint64_t)data[1].effective << 32;
	if (eff & (1ULL << CAP_SYS_ADMIN))
		return 0;
	if (!(eff & (1ULL << CAP_BPF))) {
		bn_err("missing capability CAP_BPF (or CAP_SYS_ADMIN): run as root");
		return -EPERM;
	}
	if (!(eff & (1ULL << CAP_PERFMON))) {
		bn_err("missing capability CAP_PERFMON (or CAP_SYS_ADMIN): run as root");
		return -EPERM;
	}
	if (!(eff & (1ULL << CAP_NET_ADMIN))) {
		bn_err("missing capability CAP_NET_ADMIN: run as root");
		return -EPERM;
	}
	return 0;
}

/* ---- sysctl ---- */

static int sysctl_open(const char *path, int flags)
{
	char file[PATH_MAX];

	if (snprintf(file, sizeof(file), "/proc/sys/%s", path) >= (int)sizeof(file)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(file, flags | O_CLOEXEC);
}

int bn_sysctl_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = sysctl_open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int bn_sysctl_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = sysctl_open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

bool bn_fdinfo_any(int pid, bool (*fn)(FILE *f, void *arg), void *arg)
{
	char path[64];
	struct dirent *de;
	bool found = false;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.16s", pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		found = fn(f, arg);
		fclose(f);
	}
	closedir(d);
	return found;
}
