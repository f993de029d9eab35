/* SPDX-License-Identifier: GPL-2.0 */
/*
 * common.h - what every bpfnet tool shares in user space.
 *
 * Only code that at least two tools need lives here. Every function that
 * can fail returns 0 or a negative errno and prints nothing, unless its
 * comment says otherwise; the caller turns the errno into a one-line error.
 */
#ifndef BPFNET_COMMON_H
#define BPFNET_COMMON_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/libbpf.h>

#define BN_VERSION "0.1"

/* Exit codes shared by every tool (CONVENTIONS.md). */
#define BN_EXIT_OK	0
#define BN_EXIT_ERR	1
#define BN_EXIT_USAGE	2

/* ---- logging: everything goes to stderr, prefixed with the tool name ---- */

/* 0: errors and warnings, 1: -v (info and libbpf warnings), 2: -vv (libbpf debug) */
extern int bn_verbose;

void bn_log_init(const char *prog);
const char *bn_prog(void);
void bn_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bn_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bn_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bn_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Install the libbpf print callback, gated on bn_verbose. */
void bn_libbpf_setup(void);

/* stdout line-buffered when it is not a terminal, so pipes see each record. */
void bn_stdout_setup(void);

/* ---- stop flag: set by SIGINT and SIGTERM ---- */

extern volatile sig_atomic_t bn_stop;
int bn_signals_setup(void);

/* Monotonic and realtime clocks, in ns. */
uint64_t bn_now_ns(void);
uint64_t bn_realtime_ns(void);

/* ---- bounded parsing: 0, -EINVAL (malformed) or -ERANGE (out of bounds) ---- */

int bn_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int bn_parse_s64(const char *s, int64_t min, int64_t max, int64_t *out);
/* "1.5" with at most 9 decimals; out in units of 10^-9 (e.g. seconds -> ns) */
int bn_parse_decimal(const char *s, uint64_t *out_nano);
/*
 * Durations: "250ns", "10us", "500ms", "2s", "1m", "1h", "1.5s"; a bare number
 * is in units of @bare_unit_ns (1000000000 for seconds). Result in ns, > 0.
 */
int bn_parse_duration(const char *s, uint64_t bare_unit_ns, uint64_t *ns);
/* Sizes: "512", "64K", "10M", "1G", "1T" (powers of 1024, optional "B"/"iB"). */
int bn_parse_size(const char *s, uint64_t *bytes);

#define BN_MAX_CPUS 1024
struct bn_cpuset {
	uint64_t bits[BN_MAX_CPUS / 64];
};
/* "0-3,6"; every CPU must be < @nr_cpus (pass bn_nr_cpus()). Empty -> -EINVAL. */
int bn_parse_cpulist(const char *s, int nr_cpus, struct bn_cpuset *set);
static inline bool bn_cpuset_has(const struct bn_cpuset *set, int cpu)
{
	return cpu >= 0 && cpu < BN_MAX_CPUS && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}
static inline void bn_cpuset_add(struct bn_cpuset *set, int cpu)
{
	set->bits[cpu / 64] |= 1ULL << (cpu % 64);
}
int bn_cpuset_count(const struct bn_cpuset *set);
/* Possible CPUs (libbpf_num_possible_cpus()), for per-CPU maps. */
int bn_nr_cpus(void);

/* ---- addresses ---- */

/* An IPv4 or IPv6 address; IPv4 is kept in the first 4 bytes, network order. */
struct bn_addr {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
};
struct bn_prefix {
	struct bn_addr addr;	/* host bits cleared */
	uint8_t len;		/* 0..32 or 0..128 */
};
#define BN_ADDRSTRLEN INET6_ADDRSTRLEN
#define BN_PREFIXSTRLEN (INET6_ADDRSTRLEN + 4)

int bn_parse_addr(const char *s, struct bn_addr *a);
/* "198.18.0.0/15", "2001:db8::/32"; a bare address is a host prefix. */
int bn_parse_prefix(const char *s, struct bn_prefix *p);
bool bn_prefix_match(const struct bn_prefix *p, const struct bn_addr *a);
/* Print @family/@raw (4 or 16 bytes, network order); returns @buf. */
const char *bn_addr_str(int family, const void *raw, char *buf, size_t len);
const char *bn_prefix_str(const struct bn_prefix *p, char *buf, size_t len);

/* ---- JSON Lines writer: one object per line, numbers unquoted ---- */

struct bn_json {
	FILE *f;
	int nfields;
};
void bn_json_begin(struct bn_json *j, FILE *f);
void bn_json_str(struct bn_json *j, const char *key, const char *val);
void bn_json_u64(struct bn_json *j, const char *key, uint64_t val);
void bn_json_s64(struct bn_json *j, const char *key, int64_t val);
/* @prec digits after the point; NaN and infinities are written as null */
void bn_json_double(struct bn_json *j, const char *key, double val, int prec);
void bn_json_bool(struct bn_json *j, const char *key, bool val);
void bn_json_null(struct bn_json *j, const char *key);
/* Closes the object, writes the newline. */
void bn_json_end(struct bn_json *j);
/* Write @s as a JSON string (with quotes, escaped) to @f. */
void bn_json_escape(FILE *f, const char *s);

/* ---- interfaces ---- */

/* ifindex of @name in the current netns, or -ENODEV / -EINVAL. */
int bn_ifindex(const char *name);
/* Name of @ifindex into @buf (IF_NAMESIZE); "?" and -ENODEV if unknown. */
int bn_ifname(int ifindex, char *buf);

/* ---- privileges ---- */

/*
 * Check that the process can load and attach BPF programs (CAP_BPF,
 * CAP_PERFMON, CAP_NET_ADMIN, or CAP_SYS_ADMIN). Returns 0, or -EPERM after
 * printing which capability is missing.
 */
int bn_check_caps(void);

/* ---- sysctl: read, set and restore a value under /proc/sys ---- */

/* @path like "net/netfilter/nf_conntrack_acct"; value without newline */
int bn_sysctl_read(const char *path, char *buf, size_t len);
int bn_sysctl_write(const char *path, const char *val);

/* ---- kernel feature probes, for --backend auto ---- */

enum bn_hook {
	BN_HOOK_KPROBE,		/* kprobe on @func */
	BN_HOOK_FENTRY,		/* fentry on @func (vmlinux or module BTF) */
	BN_HOOK_TP_BTF,		/* tp_btf on tracepoint @func, e.g. "sched_switch" */
	BN_HOOK_TC,		/* a SCHED_CLS program loads */
	BN_HOOK_XDP,		/* an XDP program loads */
	BN_HOOK_MAX,
};
const char *bn_hook_name(enum bn_hook hook);
/*
 * Whether a program of type @hook can be loaded *and attached* on the running
 * kernel. For kprobe, fentry and tp_btf @func names the target (NULL picks a
 * function every kernel has); tc and XDP are load probes (@func unused).
 * Returns 0 if it works, a negative errno saying why not. Needs privileges.
 */
int bn_probe_hook(enum bn_hook hook, const char *func);
/* Whether @func is a traceable kernel symbol (in available_filter_functions
 * or kallsyms); does not need kprobes to work. */
bool bn_ksym_exists(const char *func);

#endif /* BPFNET_COMMON_H */
