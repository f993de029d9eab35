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
#include <argp.h>
#include <sys/socket.h>
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

/* ---- JSON Lines writer (output.c): one object per line, numbers unquoted ---- */

#define BN_JSON_DEPTH 8
struct bn_json {
	FILE *f;
	int nfields;			/* fields written at the current level */
	int depth;
	int outer[BN_JSON_DEPTH];	/* nfields of the enclosing levels */
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
/*
 * Write @s as a JSON string (with quotes, escaped) to @f. Bytes that are not
 * valid UTF-8 are written as the text \xNN (JSON "\\xNN"), so the line stays
 * JSON and the byte can still be told; a backslash in @s is written as \\.
 */
void bn_json_escape(FILE *f, const char *s);
/* Nested values: "key":[ ... ] and "key":{ ... } (@key NULL inside an array). */
void bn_json_arr_begin(struct bn_json *j, const char *key);
void bn_json_arr_end(struct bn_json *j);
void bn_json_obj_begin(struct bn_json *j, const char *key);
void bn_json_obj_end(struct bn_json *j);

/* ---- records (output.c): what every JSON Lines record starts with ---- */

/*
 * Begin a record of @type: {"type":"@type","time":S.UUUUUU with the time in
 * Unix seconds, microseconds after the point (@realtime_ns: bn_realtime_ns()).
 */
void bn_rec_begin(struct bn_json *j, FILE *f, const char *type, uint64_t realtime_ns);
/* Wall-clock time in text mode, every tool the same: "HH:MM:SS.mmm", local. */
#define BN_TIMESTRLEN 16
const char *bn_time_str(uint64_t realtime_ns, char *buf, size_t len);
/*
 * @s for a terminal, in @buf (@len bytes, truncated at a whole character):
 * printable ASCII as it is, a backslash as \\, every other byte (control
 * characters, escape sequences, DEL, anything not ASCII) as \xNN. A
 * BN_SAFE_LEN(n)-byte buffer holds any @s of n bytes.
 */
#define BN_SAFE_LEN(n) (4 * (n) + 1)
const char *bn_safe_str(const char *s, char *buf, size_t len);
/* "<tool>: ready" on stderr, once attached; tests and scripts wait for it. */
void bn_ready(void);

/* ---- Prometheus text format (output.c) ---- */

/* "# HELP @name @help" and "# TYPE @name @type" lines. */
void bn_prom_head(FILE *f, const char *name, const char *type, const char *help);
/*
 * Write @val as a label value, without the quotes: \\, \" and \n escaped as
 * the text format wants, bytes that are not valid UTF-8 replaced by U+FFFD.
 */
void bn_prom_label(FILE *f, const char *val);

/* ---- per-CPU maps (output.c) ---- */

/*
 * Look up @key in the per-CPU map @map_fd whose value is @nvals u64s and sum
 * each of them over the possible CPUs into @out[0..nvals-1].
 */
int bn_percpu_sum(int map_fd, const void *key, uint64_t *out, size_t nvals);

/* ---- interfaces ---- */

/* A host's name in records: what a Kubernetes node name accepts (letters,
 * digits, '.' and '-', not first or last), 1..253 characters. */
#define BN_NODE_MAX	254
bool bn_node_name_valid(const char *s);

/* ifindex of @name in the current netns, or -ENODEV / -EINVAL. */
int bn_ifindex(const char *name);
/* Name of @ifindex into @buf (IF_NAMESIZE); "?" and -ENODEV if unknown. */
int bn_ifname(int ifindex, char *buf);

/* ---- netlink (nl.c): raw sockets, no library ---- */

struct nlmsghdr;
#define BN_NL_BUF	(64 * 1024)	/* what bn_nl_talk() reads at once */
/* A NETLINK_* socket (non-blocking, extended acks), joined to @groups. */
int bn_nl_socket(int proto, unsigned int groups);
/* Send @nh and wait for the answer (2 s at most); @cb sees each message. */
int bn_nl_talk(int fd, struct nlmsghdr *nh, int (*cb)(const struct nlmsghdr *, void *),
	       void *arg);

/* ---- network namespaces (common.c) ---- */

/* Enter the netns of file @path; *@self keeps the one to go back to. */
int bn_netns_enter(const char *path, int *self);
/* Back into *@self (from bn_netns_enter()), closing it. */
int bn_netns_leave(int *self);

/*
 * Call @fn with each of process @pid's /proc/PID/fdinfo files (open, at
 * their start) until it returns true: true then; false when none does, or
 * the process is gone or not ours to look at.
 */
bool bn_fdinfo_any(int pid, bool (*fn)(FILE *f, void *arg), void *arg);

/* ---- tc (tc.c): a BPF program at tc ingress or egress, by tcx or clsact ---- */

struct bn_tc {
	int ifindex;
	char dev[IF_NAMESIZE];		/* checked again before detaching */
	bool egress;			/* else ingress */
	uint32_t handle, prio;
	bool created;			/* bn_tc_attach() created the clsact qdisc */
};

/* The clsact qdisc on @t's device: created (t->created) unless it is there. */
int bn_tc_hook_create(struct bn_tc *t);
/*
 * Attach @prog_fd (direct action) at @t's handle and priority, replacing a
 * filter there; on failure, bn_tc_detach() removes a qdisc @t created.
 */
int bn_tc_attach(const struct bn_tc *t, int prog_fd);
/*
 * Remove @t's filter if it runs program @prog_id (0: a program named
 * @prog_name), then the clsact qdisc if @t created it and no filter is left
 * on either side: what other tools attached stays.
 */
void bn_tc_detach(const struct bn_tc *t, uint32_t prog_id, const char *prog_name);
/*
 * Attach @prog_fd by tcx (6.6+) to @ifindex's ingress or egress in this
 * netns, before the tcx programs there if @first (BPF_F_BEFORE), else after
 * them: a bpf_link, so it goes when its fd closes, even on kill -9. The
 * link's fd, or -errno (-EINVAL: no tcx).
 */
int bn_tcx_attach(int ifindex, bool egress, bool first, int prog_fd);
/* The program id of the filter at @t's handle and priority; 0: no filter there. */
uint32_t bn_tc_prog_id(const struct bn_tc *t);
/* Whether the filter at @t's handle and priority runs @prog_id (0: one named @name). */
bool bn_tc_runs(const struct bn_tc *t, uint32_t prog_id, const char *name);
/*
 * A process other than this one that holds BPF program @prog_id by an fd
 * (/proc/PID/fdinfo): its pid, 0 if none does (only a tc filter or a link
 * keeps it, e.g. after kill -9), or -errno.
 */
int bn_prog_holder(uint32_t prog_id);
/* Filters under @parent (a clsact minor) on @ifindex: a count or -errno. */
int bn_tc_filters(int ifindex, uint32_t parent);

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
	BN_HOOK_TP_MEM,		/* a tp_btf program may load through skb->data (6.17+) */
	BN_HOOK_MAX,
};
const char *bn_hook_name(enum bn_hook hook);
/*
 * Whether a program of type @hook can be loaded *and attached* on the running
 * kernel. For kprobe, fentry and tp_btf @func names the target (NULL picks a
 * function every kernel has); tc, XDP and TP_MEM are load probes (@func
 * unused).
 * Returns 0 if it works, a negative errno saying why not. Needs privileges.
 */
int bn_probe_hook(enum bn_hook hook, const char *func);
/* Whether @func is a traceable kernel symbol (in available_filter_functions
 * or kallsyms); does not need kprobes to work. */
bool bn_ksym_exists(const char *func);

/* ---- files (file.c): written all at once, never through a planted link ---- */

#include <limits.h>
#include <sys/types.h>

struct bn_wfile {
	FILE *f;			/* write the contents here */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
};
/*
 * Start writing @path: a new temporary file beside it, O_CREAT|O_EXCL|
 * O_NOFOLLOW with @mode. -EINVAL if @path exists and is not a regular file
 * (or a link, which the commit replaces without following).
 */
int bn_wfile_open(struct bn_wfile *w, const char *path, mode_t mode);
/* Flush, fsync and rename over the target; 0 or -errno (nothing left behind). */
int bn_wfile_commit(struct bn_wfile *w);
void bn_wfile_abort(struct bn_wfile *w);
/* Open @path for reading if it is a regular file (-EINVAL for a FIFO, a directory, ...). */
int bn_rfile_open(const char *path, FILE **f);

/* ---- command line (cli.c): the options every binary shares ---- */

/* Bounds of -i and -d, checked while parsing. */
#define BN_MAX_INTERVAL_NS	(24ULL * 3600 * 1000000000ULL)
#define BN_MAX_DURATION_NS	(366ULL * 24 * 3600 * 1000000000ULL)

struct bn_cli {
	bool json;			/* -j */
	bool has_interval;		/* the tool reports periodically: offer -i */
	uint64_t interval_ns;		/* -i; set the tool's default before parsing */
	uint64_t interval_min_ns;	/* lower bound of -i (0: 1ms) */
	uint64_t duration_ns;		/* -d; 0: until a signal */
};

/*
 * Parse @argv: the tool's options (@opts, @parser with state->input = @input,
 * @args_doc, @doc for --help) and the common ones, -v -j -d -V -h and -i if
 * @cli->has_interval, into @cli. A usage error prints one line and exits 2
 * (unknown option, missing argument, or bn_usage() from @parser); -h and -V
 * print to stdout and exit 0. Returns only on success.
 */
void bn_cli_parse(struct bn_cli *cli, const struct argp_option *opts,
		  error_t (*parser)(int key, char *arg, struct argp_state *st),
		  const char *args_doc, const char *doc, void *input, int argc, char **argv);
/* A usage error: "<tool>: <message>" on stderr, exit 2. */
void bn_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/*
 * Option value helpers for parsers: return the value, or call bn_usage()
 * with "invalid @what '@arg': want ...". @what names the option ("--window").
 */
uint64_t bn_opt_u64(const char *what, const char *arg, uint64_t min, uint64_t max);
uint64_t bn_opt_duration(const char *what, const char *arg, uint64_t min_ns, uint64_t max_ns);
uint64_t bn_opt_size(const char *what, const char *arg);
/* Index of @arg in @names[0..n-1]; else "invalid @what 'x': want a, b or c". */
int bn_opt_name(const char *what, const char *arg, const char *const *names, int n);
/* The same without exiting: index, or -EINVAL. */
int bn_name_index(const char *s, const char *const *names, int n);
/* "a, b or c" into @buf. */
const char *bn_names_str(const char *const *names, int n, char *buf, size_t len);

/*
 * A listening address: "PORT" (127.0.0.1), "ADDR:PORT", "[ADDR6]:PORT";
 * 0.0.0.0 and [::] listen on every address. Returns 0 or -EINVAL.
 */
struct bn_listen {
	struct sockaddr_storage ss;
	socklen_t len;
	char str[64];			/* "127.0.0.1:9464", "[::1]:9464" */
};
int bn_parse_listen(const char *s, struct bn_listen *l);
/* bn_parse_listen() or a usage error naming @what. */
void bn_opt_listen(const char *what, const char *arg, struct bn_listen *l);

/* ---- HTTP server (http.c): non-blocking, driven by the tool's loop ---- */

#define BN_HTTP_GET	0x1
#define BN_HTTP_POST	0x2

struct bn_http_req {
	int method;			/* BN_HTTP_GET or BN_HTTP_POST */
	const char *path;		/* without the query */
	const char *query;		/* after '?', "" if none */
	const char *body;		/* NUL-terminated, @body_len bytes */
	size_t body_len;
	const char *peer;		/* "ADDR:PORT" of the client, for messages */
};

struct bn_http_resp {
	int status;			/* 200 unless set */
	const char *type;		/* Content-Type; NULL: text/plain */
	char *body;			/* malloc()ed; the server frees it */
	size_t len;
};

/* A route's handler fills @resp; it must not block. */
typedef void (*bn_http_fn)(void *ctx, const struct bn_http_req *req,
			   struct bn_http_resp *resp);

struct bn_http_route {
	const char *path;		/* exact match */
	int methods;			/* BN_HTTP_GET | BN_HTTP_POST; else 405 */
	bn_http_fn fn;			/* NULL: the body set by bn_http_set_body() */
	void *ctx;
};

struct bn_http;

/*
 * Listen on @l and answer @routes (kept by reference; other paths 404). Request
 * bodies larger than @max_body get 413, a POST without Content-Length 411.
 * Connections are bounded in number, request size and idle time; a slow or
 * idle client never blocks: every call returns without waiting.
 */
int bn_http_open(struct bn_http **srv, const struct bn_listen *l,
		 const struct bn_http_route *routes, int nroutes, size_t max_body);
/* Replace the body served on @path (a route with fn NULL); copied. */
int bn_http_set_body(struct bn_http *srv, const char *path, const char *type,
		     const char *body, size_t len);
/*
 * Error bodies (400, 404, 405, 411, 413, ...) as {"Error":"..."} instead of
 * text, and each error answered also named on stderr (an API's errors are the
 * operator's; without this they are named only with -v).
 */
void bn_http_json_errors(struct bn_http *srv, bool on);
/* An fd that is readable when the server has work; for the loop. */
int bn_http_fd(const struct bn_http *srv);
/* Accept, read, answer and time out what is ready; never waits. */
int bn_http_process(struct bn_http *srv);
void bn_http_close(struct bn_http *srv);
/* Set @resp to @status with a printf-formatted body of @type (NULL: text). */
int bn_http_reply(struct bn_http_resp *resp, int status, const char *type,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- interval loop (loop.c) ---- */

/* A source's or the tick's callback: 0, or a negative errno that ends the loop. */
typedef int (*bn_loop_fn)(void *ctx);

#define BN_LOOP_MAX_SRC 16

struct bn_loop {
	int epfd;
	uint64_t interval_ns;		/* 0: no tick */
	uint64_t duration_ns;		/* 0: until a signal */
	uint64_t start_ns;
	int nsrc;
	struct {
		int fd;
		bn_loop_fn fn;
		void *ctx;
	} src[BN_LOOP_MAX_SRC];
};

int bn_loop_init(struct bn_loop *l, uint64_t interval_ns, uint64_t duration_ns);
/* Call @fn(@ctx) whenever @fd is readable. */
int bn_loop_add(struct bn_loop *l, int fd, bn_loop_fn fn, void *ctx);
/* Consume @rb when it has data. */
int bn_loop_add_rb(struct bn_loop *l, struct ring_buffer *rb);
/* Serve @srv. */
int bn_loop_add_http(struct bn_loop *l, struct bn_http *srv);
/*
 * Wait for the sources and call @tick(@ctx) every interval, until the
 * duration has passed, SIGINT/SIGTERM (bn_signals_setup()) or a callback
 * fails. A signal is seen at once, never after a pending wait (a tool with
 * threads blocks SIGINT and SIGTERM in the others). Returns 0
 * (duration or signal) or the callback's negative errno.
 */
int bn_loop_run(struct bn_loop *l, bn_loop_fn tick, void *ctx);
void bn_loop_close(struct bn_loop *l);

/* ---- kernel symbols (kallsyms.c) ---- */

struct bn_ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* NULL for the kernel image, "bpf" for a JITed program */
	uint64_t size;		/* 0: unknown, up to the next symbol */
};

struct bn_ksyms {
	struct bn_ksym *syms;	/* /proc/kallsyms text symbols, sorted by addr */
	size_t n;
	char **blocks;		/* string storage */
	size_t nblocks;
	struct bn_ksym *bpf;	/* JITed BPF functions, exact ranges, sorted */
	size_t nbpf;
};

/*
 * Load the text symbols of @path (/proc/kallsyms), read by a child process.
 * -EPERM if every address reads as 0 (kptr_restrict, no CAP_SYSLOG), -ENOENT
 * if there is none, -ETIMEDOUT if the read made no progress for @stall_ms.
 */
int bn_ksyms_load(struct bn_ksyms *ks, const char *path, int stall_ms);
/*
 * Replace the table of JITed BPF functions with @syms (@n entries with a size
 * and a malloc'ed name, module "bpf"); takes them over, sorts them.
 */
void bn_ksyms_set_bpf(struct bn_ksyms *ks, struct bn_ksym *syms, size_t n);
/*
 * Read the JITed functions of every loaded BPF program (bpf_prog_<tag>_<name>,
 * exact ranges) into @ks's BPF table; their number into @nfuncs (may be NULL).
 * Pointers into the old table are invalid afterwards.
 */
int bn_ksyms_load_bpf(struct bn_ksyms *ks, size_t *nfuncs);
/* A hash of the ids of the loaded BPF programs: changes when the set does. */
uint64_t bn_bpf_ids_hash(void);
/*
 * Symbol containing @addr: a BPF function whose range holds it, else the
 * last /proc/kallsyms symbol at or below it; NULL if none.
 */
const struct bn_ksym *bn_ksyms_find(const struct bn_ksyms *ks, uint64_t addr);
void bn_ksyms_free(struct bn_ksyms *ks);

#endif /* BPFNET_COMMON_H */
