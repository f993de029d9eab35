// SPDX-License-Identifier: GPL-2.0
/*
 * elephant - detect elephant flows at conntrack and map them to workloads.
 *
 * Loads elephant.bpf.c with one of three backends (fentry, kprobe, tc),
 * prints an event when a conntrack flow crosses the elephant thresholds and
 * when an elephant's entry is deleted, and every interval a footprint
 * summary per workload and for the node (heavy: sourced or sank an elephant
 * within --window). See elephant/README.md.
 */
#include <argp.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "elephant.h"
#include "elephant.skel.h"
#include "footprint.h"
#include "nl.h"

#define MAX_LABELS	64
#define MAX_IFACES	64
#define MAX_TC		1024
#define EL_TC_HANDLE	0xe1e
#define EL_TC_PRIO	0xe1e
#define RUN_DIR		"/run/bpfnet"
#define NSEC		1000000000ULL

enum backend { BK_AUTO, BK_FENTRY, BK_KPROBE, BK_TC, BK_MAX };
static const char *const backend_names[BK_MAX] = { "auto", "fentry", "kprobe", "tc" };

static struct env {
	enum backend backend;
	uint64_t min_bytes;
	uint64_t min_duration_ns;
	uint64_t min_rate_bps;
	uint64_t interval_ns;
	uint64_t duration_ns;
	uint64_t window_ns;
	uint32_t max_flows;
	bool json;
	bool list_backends;
	const char *state_path;
	char node[EL_NAME_MAX];
	char metrics_host[64];
	int metrics_port;
	struct el_label labels[MAX_LABELS];
	int nlabels;
	char ifaces[MAX_IFACES][IF_NAMESIZE];
	int nifaces;
} env = {
	.backend = BK_AUTO,
	.min_bytes = 10ULL << 20,
	.min_duration_ns = 5 * NSEC,
	.interval_ns = 10 * NSEC,
	.window_ns = 300 * NSEC,
	.max_flows = 65536,
	.metrics_port = -1,
};

const char *argp_program_version = "elephant " BN_VERSION;
const char *argp_program_bug_address = "<bpfnet@example.org>";
static const char doc[] =
"elephant: detect elephant flows at conntrack and map them to workloads.\n"
"\n"
"USAGE: elephant [OPTIONS] [IFACE...]\n"
"\n"
"A flow (a conntrack entry, ASSURED) is an elephant once it has lived at\n"
"least --min-duration and carried at least --min-bytes (and --min-rate, if\n"
"given). Each elephant is reported once when it crosses, and again when\n"
"conntrack deletes it. Every --interval a summary per workload and for the\n"
"node: active elephants and mice, bytes, and the footprint (heavy if the\n"
"workload sourced or sank an elephant within --window, else light).\n"
"IFACE...: host interfaces the tc backend attaches to (default: all but lo\n"
"and bridges, and new ones as they appear); with kprobe/fentry, only flows\n"
"entering through them are reported.\n"
"\n"
"EXAMPLES:\n"
"    elephant                          # auto backend, text output\n"
"    elephant -j -i 5 --min-bytes 50M  # JSON Lines, 5 s summaries\n"
"    elephant --label zone:1=web --label iface:veth-db=db\n"
"    elephant --state /var/lib/elephant.state --metrics 127.0.0.1:9464\n"
"    elephant --backend tc veth1 veth2 # tc on two interfaces only\n"
"    elephant --backends               # which backends this kernel can run\n";

enum {
	OPT_MIN_BYTES = 0x100,
	OPT_MIN_DURATION,
	OPT_MIN_RATE,
	OPT_WINDOW,
	OPT_MAX_FLOWS,
	OPT_BACKENDS,
};

static const struct argp_option opts[] = {
	{ "backend", 'b', "NAME", 0, "auto (default), fentry, kprobe or tc", 0 },
	{ "backends", OPT_BACKENDS, NULL, 0, "List the backends and whether they work here", 0 },
	{ "min-bytes", OPT_MIN_BYTES, "SIZE", 0, "Elephant: at least SIZE bytes, both "
	  "directions (default 10M)", 0 },
	{ "min-duration", OPT_MIN_DURATION, "DUR", 0, "Elephant: lived at least DUR "
	  "(default 5s)", 0 },
	{ "min-rate", OPT_MIN_RATE, "BITS", 0, "Elephant: average rate at least BITS per "
	  "second, e.g. 100M (default off)", 0 },
	{ "interval", 'i', "DUR", 0, "Summary every DUR (default 10s)", 0 },
	{ "duration", 'd', "DUR", 0, "Stop after DUR", 0 },
	{ "window", OPT_WINDOW, "DUR", 0, "Heavy if an elephant within DUR (default 5m)", 0 },
	{ "label", 'l', "zone:N=NAME|iface:IF=NAME", 0, "Workload name for a zone or an "
	  "interface (repeatable)", 0 },
	{ "state", 's', "FILE", 0, "Keep learned footprints in FILE across restarts", 0 },
	{ "metrics", 'm', "[ADDR:]PORT", 0, "Serve Prometheus metrics on /metrics", 0 },
	{ "node", 'n', "NAME", 0, "Node name in summaries (default: hostname)", 0 },
	{ "max-flows", OPT_MAX_FLOWS, "N", 0, "Flow table size (default 65536)", 0 },
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "verbose", 'v', NULL, 0, "Verbose (twice: libbpf debug)", 0 },
	{ "help", 'h', NULL, 0, "Show this help", -1 },
	{},
};

/* A usage error: one line, exit 2. */
static void bad(struct argp_state *st, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	argp_failure(st, BN_EXIT_USAGE, 0, "%s", buf);
}

static int parse_dur(const char *arg, const char *what, uint64_t *ns, struct argp_state *st)
{
	if (bn_parse_duration(arg, NSEC, ns))
		bad(st, "invalid %s '%s': want a duration like 5s, 500ms, 2m", what, arg);
	return 0;
}

static int parse_metrics(const char *arg)
{
	const char *colon = strrchr(arg, ':');
	const char *port = colon ? colon + 1 : arg;
	uint64_t p;
	size_t hl;

	if (bn_parse_u64(port, 1, 65535, &p))
		return -EINVAL;
	env.metrics_port = p;
	strcpy(env.metrics_host, "0.0.0.0");
	if (colon) {
		hl = colon - arg;
		if (!hl || hl >= sizeof(env.metrics_host))
			return -EINVAL;
		memcpy(env.metrics_host, arg, hl);
		env.metrics_host[hl] = '\0';
	}
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *st)
{
	uint64_t v;
	int i;

	switch (key) {
	case 'b':
		for (i = 0; i < BK_MAX; i++)
			if (!strcmp(arg, backend_names[i]))
				break;
		if (i == BK_MAX)
			bad(st, "invalid backend '%s': want auto, fentry, kprobe or tc", arg);
		env.backend = i;
		break;
	case OPT_BACKENDS:
		env.list_backends = true;
		break;
	case OPT_MIN_BYTES:
		if (bn_parse_size(arg, &v) || !v)
			bad(st, "invalid --min-bytes '%s': want a size like 10M", arg);
		env.min_bytes = v;
		break;
	case OPT_MIN_DURATION:
		parse_dur(arg, "--min-duration", &env.min_duration_ns, st);
		break;
	case OPT_MIN_RATE:
		if (bn_parse_size(arg, &v) || !v)
			bad(st, "invalid --min-rate '%s': want bits per second like 100M",
				   arg);
		env.min_rate_bps = v;
		break;
	case 'i':
		parse_dur(arg, "interval", &env.interval_ns, st);
		if (env.interval_ns < NSEC / 10)
			bad(st, "invalid interval '%s': at least 100ms", arg);
		break;
	case 'd':
		parse_dur(arg, "duration", &env.duration_ns, st);
		break;
	case OPT_WINDOW:
		parse_dur(arg, "--window", &env.window_ns, st);
		break;
	case 'l':
		if (env.nlabels == MAX_LABELS)
			bad(st, "too many labels (at most %d)", MAX_LABELS);
		if (el_label_parse(arg, &env.labels[env.nlabels]))
			bad(st, "invalid label '%s': want zone:N=NAME or iface:IF=NAME "
				   "(NAME: letters, digits, ._:@/-)", arg);
		env.nlabels++;
		break;
	case 's':
		env.state_path = arg;
		break;
	case 'm':
		if (parse_metrics(arg))
			bad(st, "invalid --metrics '%s': want [ADDR:]PORT", arg);
		break;
	case 'n':
		if (!el_name_valid(arg))
			bad(st, "invalid node name '%s'", arg);
		snprintf(env.node, sizeof(env.node), "%s", arg);
		break;
	case OPT_MAX_FLOWS:
		if (bn_parse_u64(arg, 16, 1 << 24, &v))
			bad(st, "invalid --max-flows '%s': want 16..16777216", arg);
		env.max_flows = v;
		break;
	case 'h':
		argp_state_help(st, stdout, ARGP_HELP_STD_HELP);
		break;
	case 'j':
		env.json = true;
		break;
	case 'v':
		bn_verbose++;
		break;
	case ARGP_KEY_ARG:
		if (env.nifaces == MAX_IFACES)
			bad(st, "too many interfaces (at most %d)", MAX_IFACES);
		if (strlen(arg) >= IF_NAMESIZE)
			bad(st, "invalid interface name '%s'", arg);
		strcpy(env.ifaces[env.nifaces++], arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- run state ---- */

struct tc_att {
	int ifindex;
	char name[IF_NAMESIZE];
	bool created;		/* we created the clsact qdisc */
};

struct ns_info {
	char name[EL_NAME_MAX];
	uint64_t ino;
	int nsid;
};

struct addr_owner {
	uint8_t family;
	uint8_t addr[16];
	int ns;			/* index into R.ns */
};

struct uflow {
	struct uflow *next;
	struct el_key key;
	uint64_t bytes_seen;	/* counted into the workload so far */
	int wl;			/* workload index */
	uint64_t ns_ino;	/* workload netns inode, 0: the node's own netns */
	bool elephant;
	bool gen;
	char iface[IF_NAMESIZE];
};

#define UF_BUCKETS	65536

static struct run {
	struct elephant_bpf *skel;
	enum backend backend;
	struct bpf_link *links[8];
	int nlinks;
	struct ring_buffer *rb;
	int epfd, ctfd, lnkfd, mfd;
	struct tc_att tc[MAX_TC];
	int ntc;
	char run_file[128];
	char acct_orig[16], events_orig[16];
	bool acct_set, events_set;
	uint64_t self_ino;
	char self_name[EL_NAME_MAX];
	struct ns_info *ns;
	int nns;
	struct addr_owner *owners;
	int nowners;
	struct nl_link *links_info;
	int nlinks_info;
	uint64_t ns_refreshed;
	struct el_fp fp;
	struct uflow *uf[UF_BUCKETS];
	bool gen;
	uint64_t mono_to_real;
	uint64_t deleted_user;
	uint64_t ct_events_lost, swept, events_add, events_del, event_drops;
	int zones_known[EL_MAX_ZONES];
	int nzones;
	bool zone_warned;
	uint32_t ct_opts_sz;
	bool header_done;
} R = { .epfd = -1, .ctfd = -1, .lnkfd = -1, .mfd = -1 };

/* ---- small helpers ---- */

static const char *proto_str(int p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : "?";
}

static void time_str(uint64_t real_ns, char *buf, size_t len, bool iso)
{
	time_t s = real_ns / NSEC;
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	if (iso) {
		n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + n, len - n, ".%03uZ", (unsigned int)(real_ns % NSEC / 1000000));
	} else {
		strftime(buf, len, "%H:%M:%S", &tm);
	}
}

static uint64_t mono_to_real(uint64_t mono)
{
	return mono + R.mono_to_real;
}

static uint64_t stat_sum(enum el_stat idx)
{
	int ncpu = bn_nr_cpus();
	uint64_t vals[BN_MAX_CPUS], sum = 0;
	__u32 key = idx;
	int i;

	if (ncpu <= 0 || ncpu > BN_MAX_CPUS)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(R.skel->maps.stats), &key, vals))
		return 0;
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}

/* ---- netns and interface attribution ---- */

static struct nl_link *link_by_index(int ifindex)
{
	int i;

	for (i = 0; i < R.nlinks_info; i++)
		if (R.links_info[i].ifindex == ifindex)
			return &R.links_info[i];
	return NULL;
}

static int add_owner(int family, const void *addr, int ns)
{
	struct addr_owner *o;

	if (R.nowners % 64 == 0) {
		o = realloc(R.owners, (R.nowners + 64) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		R.owners = o;
	}
	o = &R.owners[R.nowners++];
	memset(o, 0, sizeof(*o));
	o->family = family;
	memcpy(o->addr, addr, family == AF_INET ? 4 : 16);
	o->ns = ns;
	return 0;
}

/* Addresses of the netns at /run/netns/@name, owned by R.ns[@ns]. */
static void collect_addrs(const char *path, int ns, int selffd)
{
	struct ifaddrs *ifa, *p;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (setns(fd, CLONE_NEWNET)) {
		close(fd);
		return;
	}
	if (!getifaddrs(&ifa)) {
		for (p = ifa; p; p = p->ifa_next) {
			struct sockaddr *sa = p->ifa_addr;

			if (sa && sa->sa_family == AF_INET)
				add_owner(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ns);
			else if (sa && sa->sa_family == AF_INET6)
				add_owner(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ns);
		}
		freeifaddrs(ifa);
	}
	if (setns(selffd, CLONE_NEWNET))
		bn_warn("cannot return to the original network namespace: %s", strerror(errno));
	close(fd);
}

/*
 * Workload namespaces: the named netns (ip netns) at the far end of a veth
 * whose host end carries no address of its own (a container's port on a
 * bridge or a routed pod veth; an uplink veth with an address is not one).
 */
static void ns_refresh(void)
{
	struct dirent *de;
	int selffd, i, j, n;
	DIR *d;

	R.ns_refreshed = bn_now_ns();
	free(R.links_info);
	R.links_info = NULL;
	R.nlinks_info = 0;
	n = rtnl_links(&R.links_info);
	if (n < 0) {
		bn_warn("cannot list interfaces: %s", strerror(-n));
		return;
	}
	R.nlinks_info = n;
	free(R.ns);
	R.ns = NULL;
	R.nns = 0;
	R.nowners = 0;
	d = opendir("/run/netns");
	if (!d)
		return;
	selffd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	while ((de = readdir(d))) {
		char path[300];
		struct stat st;
		void *p;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) || st.st_ino == R.self_ino) {
			close(fd);
			continue;
		}
		p = realloc(R.ns, (R.nns + 1) * sizeof(*R.ns));
		if (!p) {
			close(fd);
			break;
		}
		R.ns = p;
		snprintf(R.ns[R.nns].name, EL_NAME_MAX, "%.63s", de->d_name);
		R.ns[R.nns].ino = st.st_ino;
		R.ns[R.nns].nsid = rtnl_nsid(fd);
		close(fd);
		R.nns++;
	}
	closedir(d);
	if (selffd < 0)
		return;
	for (i = 0; i < R.nns; i++) {
		bool workload = false;

		if (R.ns[i].nsid < 0)
			continue;
		for (j = 0; j < R.nlinks_info; j++) {
			struct nl_link *l = &R.links_info[j];

			if (l->link_netnsid == R.ns[i].nsid && !strcmp(l->kind, "veth") &&
			    !l->has_addr)
				workload = true;
		}
		if (workload) {
			char path[300];

			snprintf(path, sizeof(path), "/run/netns/%s", R.ns[i].name);
			collect_addrs(path, i, selffd);
		}
	}
	close(selffd);
}

/* Name of the netns with inode @ino ("" if ip netns does not know it). */
static const char *ns_name(uint64_t ino)
{
	int i;

	if (ino == R.self_ino)
		return R.self_name;
	for (i = 0; i < R.nns; i++)
		if (R.ns[i].ino == ino)
			return R.ns[i].name;
	return "";
}

static int addr_owner(int family, const uint8_t *addr)
{
	int i;

	for (i = 0; i < R.nowners; i++)
		if (R.owners[i].family == family &&
		    !memcmp(R.owners[i].addr, addr, family == AF_INET ? 4 : 16))
			return R.owners[i].ns;
	return -1;
}

/* The bridge port @mac was learned on, for entries seen on a bridge device. */
static bool bridge_port(const struct nl_link *br, const uint8_t *mac, char *out)
{
	struct {
		uint8_t mac_addr[6];
		uint8_t port_no;
		uint8_t is_local;
		uint32_t ageing_timer_value;
		uint8_t port_hi;
		uint8_t pad0;
		uint16_t unused;
	} e[128];
	char path[128];
	int fd, i, port = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/brforward", br->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (port < 0 && (n = read(fd, e, sizeof(e))) > 0) {
		for (i = 0; i < (int)(n / sizeof(e[0])); i++)
			if (!memcmp(e[i].mac_addr, mac, 6) && !e[i].is_local) {
				port = e[i].port_hi << 8 | e[i].port_no;
				break;
			}
	}
	close(fd);
	if (port < 0)
		return false;
	for (i = 0; i < R.nlinks_info; i++) {
		struct nl_link *l = &R.links_info[i];
		unsigned int pn;
		FILE *f;
		int ok;

		if (l->master != br->ifindex)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/brport/port_no", l->name);
		f = fopen(path, "re");
		if (!f)
			continue;
		ok = fscanf(f, "%x", &pn) == 1 && (int)pn == port;
		fclose(f);
		if (ok) {
			strcpy(out, l->name);
			return true;
		}
	}
	return false;
}

static void iface_name(const struct el_flow *f, int dir, char *out)
{
	struct nl_link *l;

	strcpy(out, "-");
	if (!f->ifindex[dir])
		return;
	l = link_by_index(f->ifindex[dir]);
	if (!l) {
		ns_refresh();
		l = link_by_index(f->ifindex[dir]);
	}
	if (!l) {
		snprintf(out, IF_NAMESIZE, "if%u", f->ifindex[dir]);
		return;
	}
	if (dir == EL_DIR_ORIG && !strcmp(l->kind, "bridge") && f->has_mac) {
		int br = l->ifindex;

		if (bridge_port(l, f->mac, out))
			return;
		/* a port added since the last refresh (a new container) */
		if (bn_now_ns() - R.ns_refreshed > NSEC / 10) {
			ns_refresh();
			l = link_by_index(br);
			if (l && bridge_port(l, f->mac, out))
				return;
		}
		if (!l) {
			snprintf(out, IF_NAMESIZE, "if%d", br);
			return;
		}
	}
	strcpy(out, l->name);
}

static const char *label_for(enum el_label_kind kind, unsigned int zone, const char *iface)
{
	int i;

	for (i = 0; i < env.nlabels; i++) {
		const struct el_label *l = &env.labels[i];

		if (l->kind != kind)
			continue;
		if (kind == EL_LABEL_ZONE && l->zone == zone)
			return l->name;
		if (kind == EL_LABEL_IFACE && !strcmp(l->iface, iface))
			return l->name;
	}
	return NULL;
}

/* Attribute a flow: interface, netns and workload. 0 or -ENOMEM. */
static int attribute(struct uflow *u, const struct el_flow *f)
{
	const char *name;
	char reply_if[IF_NAMESIZE], derived[EL_NAME_MAX];
	int idx, ns;

	iface_name(f, EL_DIR_ORIG, u->iface);
	iface_name(f, EL_DIR_REPLY, reply_if);
	/* an index into R.ns, valid until the next ns_refresh() */
	ns = addr_owner(u->key.t.family, u->key.t.saddr);
	if (ns < 0)
		ns = addr_owner(u->key.t.family, u->key.t.daddr);
	if (ns < 0 && bn_now_ns() - R.ns_refreshed > NSEC) {
		ns_refresh();
		ns = addr_owner(u->key.t.family, u->key.t.saddr);
		if (ns < 0)
			ns = addr_owner(u->key.t.family, u->key.t.daddr);
	}
	u->ns_ino = ns >= 0 ? R.ns[ns].ino : 0;
	name = label_for(EL_LABEL_ZONE, u->key.zone, NULL);
	if (!name)
		name = label_for(EL_LABEL_IFACE, 0, u->iface);
	if (!name)
		name = label_for(EL_LABEL_IFACE, 0, reply_if);
	if (!name && ns >= 0) {
		if (el_name_valid(R.ns[ns].name))
			name = R.ns[ns].name;
		else
			snprintf(derived, sizeof(derived), "netns-%" PRIu64, R.ns[ns].ino),
				name = derived;
	}
	if (!name && strcmp(u->iface, "-") && el_name_valid(u->iface))
		name = u->iface;
	if (!name)
		name = env.node;
	idx = fp_get(&R.fp, name);
	if (idx < 0)
		return idx;
	u->wl = idx;
	if (ns >= 0) {
		R.fp.w[idx].netns_ino = R.ns[ns].ino;
		snprintf(R.fp.w[idx].netns_name, EL_NAME_MAX, "%s", R.ns[ns].name);
	} else if (!R.fp.w[idx].netns_ino) {
		R.fp.w[idx].netns_ino = R.self_ino;
		snprintf(R.fp.w[idx].netns_name, EL_NAME_MAX, "%s", R.self_name);
	}
	return 0;
}

/* ---- the user-space mirror of the flow table ---- */

static uint32_t key_hash(const struct el_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % UF_BUCKETS;
}

static struct uflow *uf_find(const struct el_key *k, bool create, const struct el_flow *f)
{
	uint32_t h = key_hash(k);
	struct uflow *u;

	for (u = R.uf[h]; u; u = u->next)
		if (!memcmp(&u->key, k, sizeof(*k)))
			return u;
	if (!create)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->key = *k;
	u->gen = R.gen;
	if (attribute(u, f)) {
		free(u);
		return NULL;
	}
	u->next = R.uf[h];
	R.uf[h] = u;
	return u;
}

static void uf_remove(struct uflow *x)
{
	struct uflow **pp = &R.uf[key_hash(&x->key)];

	for (; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			free(x);
			return;
		}
}

static void uf_account(struct uflow *u, const struct el_flow *f)
{
	uint64_t b = f->bytes[0] + f->bytes[1];

	if (b > u->bytes_seen) {
		R.fp.w[u->wl].bytes += b - u->bytes_seen;
		R.fp.w[u->wl].bytes_total += b - u->bytes_seen;
		u->bytes_seen = b;
	}
}

/* ---- output ---- */

static void reason_str(uint32_t type, uint32_t reason, char *buf, size_t len)
{
	char dur[32];
	int n;

	if (type != EL_EV_ADD) {
		snprintf(buf, len, "deleted");
		return;
	}
	if (env.min_duration_ns % NSEC)
		snprintf(dur, sizeof(dur), "%.3fs", env.min_duration_ns / 1e9);
	else
		snprintf(dur, sizeof(dur), "%" PRIu64 "s", (uint64_t)(env.min_duration_ns / NSEC));
	n = snprintf(buf, len, "bytes>=%" PRIu64 ",duration>=%s", env.min_bytes, dur);
	if (reason & EL_R_RATE)
		n += snprintf(buf + n, len - n, ",rate>=%" PRIu64, env.min_rate_bps);
	if (reason & EL_R_ON_DELETE)
		snprintf(buf + n, len - n, ",at_delete");
}

static void print_event(const struct el_event *e, const struct uflow *u)
{
	const struct el_flow *f = &e->flow;
	const struct el_workload *w = &R.fp.w[u->wl];
	char src[BN_ADDRSTRLEN], dst[BN_ADDRSTRLEN], ts[40], reason[128];
	uint64_t bytes = f->bytes[0] + f->bytes[1], pkts = f->packets[0] + f->packets[1];
	uint64_t dur_ns = e->ts_ns > f->first_ns ? e->ts_ns - f->first_ns : 0;
	uint64_t rate = dur_ns ? (uint64_t)(bytes * 8.0 * NSEC / dur_ns) : 0;
	const char *type = e->type == EL_EV_ADD ? "elephant_add" : "elephant_del";
	uint64_t ino = u->ns_ino ? u->ns_ino : R.self_ino;
	const char *nsname = ns_name(ino);
	struct bn_json j;

	bn_addr_str(e->key.t.family, e->key.t.saddr, src, sizeof(src));
	bn_addr_str(e->key.t.family, e->key.t.daddr, dst, sizeof(dst));
	reason_str(e->type, e->reason, reason, sizeof(reason));
	if (env.json) {
		time_str(mono_to_real(e->ts_ns), ts, sizeof(ts), true);
		bn_json_begin(&j, stdout);
		bn_json_str(&j, "type", type);
		bn_json_str(&j, "time", ts);
		bn_json_str(&j, "proto", proto_str(e->key.t.proto));
		bn_json_str(&j, "src", src);
		bn_json_u64(&j, "sport", e->key.t.sport);
		bn_json_str(&j, "dst", dst);
		bn_json_u64(&j, "dport", e->key.t.dport);
		bn_json_str(&j, "iface", u->iface);
		bn_json_u64(&j, "zone", e->key.zone);
		bn_json_u64(&j, "netns", ino);
		bn_json_str(&j, "netns_name", nsname);
		bn_json_str(&j, "workload", w->name);
		bn_json_u64(&j, "bytes", bytes);
		bn_json_u64(&j, "packets", pkts);
		bn_json_u64(&j, "bytes_orig", f->bytes[0]);
		bn_json_u64(&j, "bytes_reply", f->bytes[1]);
		bn_json_u64(&j, "packets_orig", f->packets[0]);
		bn_json_u64(&j, "packets_reply", f->packets[1]);
		bn_json_double(&j, "duration_s", dur_ns / 1e9, 3);
		bn_json_u64(&j, "rate_bps", rate);
		bn_json_str(&j, "reason", reason);
		bn_json_u64(&j, "min_bytes", env.min_bytes);
		bn_json_double(&j, "min_duration_s", env.min_duration_ns / 1e9, 3);
		bn_json_u64(&j, "min_rate_bps", env.min_rate_bps);
		bn_json_str(&j, "backend", backend_names[R.backend]);
		bn_json_end(&j);
		return;
	}
	if (!R.header_done) {
		printf("%-8s %-12s %-5s %-22s %-5s %-22s %-5s %-12s %-5s %-16s %-16s %12s %9s "
		       "%12s %12s %8s %12s %s\n", "TIME", "EVENT", "PROTO", "SRC", "SPORT", "DST",
		       "DPORT", "IFACE", "ZONE", "NETNS", "WORKLOAD", "BYTES", "PACKETS",
		       "BYTES_ORIG", "BYTES_REPLY", "DUR_S", "RATE_BPS", "REASON");
		R.header_done = true;
	}
	time_str(mono_to_real(e->ts_ns), ts, sizeof(ts), false);
	printf("%-8s %-12s %-5s %-22s %-5u %-22s %-5u %-12s %-5u %-16s %-16s %12" PRIu64
	       " %9" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8.1f %12" PRIu64 " %s\n", ts, type,
	       proto_str(e->key.t.proto), src, e->key.t.sport, dst, e->key.t.dport, u->iface,
	       e->key.zone, nsname[0] ? nsname : "-", w->name, bytes, pkts,
	       (uint64_t)f->bytes[0], (uint64_t)f->bytes[1], dur_ns / 1e9, rate, reason);
}

static bool iface_wanted(const struct uflow *u)
{
	int i;

	if (!env.nifaces || R.backend == BK_TC)
		return true;
	for (i = 0; i < env.nifaces; i++)
		if (!strcmp(env.ifaces[i], u->iface))
			return true;
	return false;
}

static void handle_event(const struct el_event *e)
{
	struct uflow *u;

	u = uf_find(&e->key, e->type != EL_EV_GONE, &e->flow);
	if (!u) {
		if (e->type != EL_EV_GONE)
			R.event_drops++;	/* out of memory */
		return;
	}
	uf_account(u, &e->flow);
	switch (e->type) {
	case EL_EV_ADD:
		if (u->elephant)
			break;
		u->elephant = true;
		R.events_add++;
		fp_elephant(&R.fp, u->wl, mono_to_real(e->ts_ns) / NSEC);
		if (iface_wanted(u))
			print_event(e, u);
		break;
	case EL_EV_DEL:
		R.events_del++;
		if (iface_wanted(u))
			print_event(e, u);
		uf_remove(u);
		break;
	default:
		uf_remove(u);
		break;
	}
}

static int rb_event(void *ctx, void *data, size_t len)
{
	const struct el_event *e = data;
	struct el_flow f;

	if (len < sizeof(*e))
		return 0;
	/*
	 * tc: only flow_gone() removes table entries. An elephant_add the
	 * program emitted while flow_gone() took its entry (and judged it at
	 * delete) must not report the flow a second time.
	 */
	if (R.backend == BK_TC && e->type == EL_EV_ADD && !uf_find(&e->key, false, NULL) &&
	    bpf_map_lookup_elem(bpf_map__fd(R.skel->maps.flows), &e->key, &f))
		return 0;
	handle_event(e);
	return 0;
}

/*
 * A conntrack entry is gone (tc backend: ctnetlink DESTROY; any backend: the
 * sweep found it missing). Same bookkeeping as the BPF delete hook.
 */
static void flow_gone(const struct el_key *key, const struct ct_msg *m)
{
	struct el_event e = { .key = *key };
	int fd = bpf_map__fd(R.skel->maps.flows);
	uint32_t reason;

	if (bpf_map_lookup_and_delete_elem(fd, key, &e.flow))
		return;
	R.deleted_user++;
	e.ts_ns = bn_now_ns();
	if (m && m->has_counters) {
		memcpy(e.flow.bytes, m->bytes, sizeof(e.flow.bytes));
		memcpy(e.flow.packets, m->packets, sizeof(e.flow.packets));
	}
	if (!e.flow.elephant) {
		reason = el_thresholds(&e.flow, e.ts_ns, env.min_bytes, env.min_duration_ns,
				       env.min_rate_bps);
		if (reason) {
			e.type = EL_EV_ADD;
			e.reason = reason | EL_R_ON_DELETE;
			e.flow.elephant = 1;
			e.flow.elephant_ns = e.ts_ns;
			handle_event(&e);
		}
	}
	e.type = e.flow.elephant ? EL_EV_DEL : EL_EV_GONE;
	e.reason = 0;
	handle_event(&e);
}

static void zone_learn(unsigned int zone)
{
	__u32 idx, val = zone + 1;
	int i;

	if (!zone)
		return;
	for (i = 0; i < R.nzones; i++)
		if (R.zones_known[i] == (int)zone)
			return;
	if (R.ct_opts_sz < 16) {
		if (!R.zone_warned)
			bn_warn("tc backend: this kernel's bpf_skb_ct_lookup() has no zone "
				"parameter; flows in conntrack zone %u are not seen", zone);
		R.zone_warned = true;
		return;
	}
	if (R.nzones == EL_MAX_ZONES) {
		if (!R.zone_warned)
			bn_warn("tc backend: more than %d conntrack zones; zone %u not watched",
				EL_MAX_ZONES, zone);
		R.zone_warned = true;
		return;
	}
	idx = R.nzones;
	if (bpf_map_update_elem(bpf_map__fd(R.skel->maps.zones), &idx, &val, BPF_ANY)) {
		bn_warn("tc backend: cannot watch conntrack zone %u: %s", zone, strerror(errno));
		return;
	}
	R.zones_known[R.nzones++] = zone;
	bn_info("tc backend: watching conntrack zone %u", zone);
}

static void ct_events(void)
{
	char buf[65536] __attribute__((aligned(8)));
	struct nlmsghdr *nh;
	struct ct_msg m;
	ssize_t n;

	for (;;) {
		n = recv(R.ctfd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* events lost: the next sweep checks every entry */
				R.ct_events_lost++;
				continue;
			}
			return;
		}
		/* what the programs reported before these deletes comes first */
		ring_buffer__consume(R.rb);
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
			if (ctnl_parse(nh, &m) != 1)
				continue;
			if (m.destroy)
				flow_gone(&m.key, &m);
			else
				zone_learn(m.key.zone);
		}
	}
}

/*
 * Every interval: walk the BPF table, count active elephants and mice per
 * workload, add the bytes carried since the last walk, and check that idle
 * entries still exist in conntrack (a delete that was missed).
 */
#define WALK_BATCH	1024
#define SWEEP_MAX	4096

static void walk_one(const struct el_key *key, const struct el_flow *f)
{
	struct uflow *u;

	u = uf_find(key, true, f);
	if (!u)
		return;
	u->gen = R.gen;
	uf_account(u, f);
	if (f->elephant)
		R.fp.w[u->wl].elephants++;
	else
		R.fp.w[u->wl].mice++;
}

static void walk_flows(void)
{
	static struct el_key keys[WALK_BATCH], idle_keys[SWEEP_MAX];
	static struct el_flow vals[WALK_BATCH];
	int fd = bpf_map__fd(R.skel->maps.flows);
	uint64_t now = bn_now_ns(), idle = env.interval_ns * 3;
	bool full_sweep = R.ct_events_lost > 0, first = true;
	struct el_key in, out;
	int err, i, nidle = 0;
	__u32 n;

	if (idle < 30 * NSEC)
		idle = 30 * NSEC;
	R.gen = !R.gen;
	do {
		n = WALK_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, NULL);
		if (err && err != -ENOENT) {
			bn_warn("cannot read the flow table: %s", strerror(-err));
			break;
		}
		for (i = 0; i < (int)n; i++) {
			if ((full_sweep || (now > vals[i].last_ns && now - vals[i].last_ns > idle)) &&
			    nidle < SWEEP_MAX)
				idle_keys[nidle++] = keys[i];
			walk_one(&keys[i], &vals[i]);
		}
		in = out;
		first = false;
	} while (!err);
	/* idle entries conntrack no longer has: a delete was missed */
	for (i = 0; i < nidle; i++) {
		if (ctnl_exists(&idle_keys[i]) == 0) {
			struct uflow *u = uf_find(&idle_keys[i], false, NULL);

			R.swept++;
			if (u && u->gen == R.gen) {
				/* counted as active above: take it back */
				if (u->elephant)
					R.fp.w[u->wl].elephants--;
				else
					R.fp.w[u->wl].mice--;
			}
			flow_gone(&idle_keys[i], NULL);
		}
	}
	/* mirror entries whose BPF entry is gone without an event */
	for (i = 0; i < UF_BUCKETS; i++) {
		struct uflow *x = R.uf[i], *nx;

		for (; x; x = nx) {
			nx = x->next;
			if (x->gen != R.gen)
				uf_remove(x);
		}
	}
	if (full_sweep)
		R.ct_events_lost = 0;
}

static void print_summary(void)
{
	uint64_t now_real = bn_realtime_ns(), now_s = now_real / NSEC;
	uint64_t window_s = env.window_ns / NSEC, node_bytes = 0;
	unsigned int node_e = 0, node_m = 0, heavy = 0;
	char ts[40];
	struct bn_json j;
	int i;

	time_str(now_real, ts, sizeof(ts), env.json);
	if (!env.json)
		printf("%-8s %-8s %-16s %9s %9s %14s %s\n", "TIME", "SUMMARY", "NAME",
		       "ELEPHANTS", "MICE", "BYTES", "FOOTPRINT");
	for (i = 0; i < R.fp.n; i++) {
		const struct el_workload *w = &R.fp.w[i];
		bool h = fp_heavy(w, now_s, window_s);

		node_e += w->elephants;
		node_m += w->mice;
		node_bytes += w->bytes;
		heavy += h;
		if (env.json) {
			bn_json_begin(&j, stdout);
			bn_json_str(&j, "type", "workload");
			bn_json_str(&j, "time", ts);
			bn_json_str(&j, "workload", w->name);
			bn_json_str(&j, "node", env.node);
			bn_json_u64(&j, "netns", w->netns_ino);
			bn_json_str(&j, "netns_name", w->netns_name);
			bn_json_u64(&j, "elephants", w->elephants);
			bn_json_u64(&j, "mice", w->mice);
			bn_json_u64(&j, "bytes", w->bytes);
			bn_json_u64(&j, "bytes_total", w->bytes_total);
			bn_json_u64(&j, "elephants_total", w->elephants_total);
			if (w->last_elephant_s)
				bn_json_u64(&j, "last_elephant", w->last_elephant_s);
			else
				bn_json_null(&j, "last_elephant");
			bn_json_str(&j, "footprint", h ? "heavy" : "light");
			bn_json_end(&j);
		} else {
			printf("%-8s %-8s %-16s %9u %9u %14" PRIu64 " %s\n", ts, "workload",
			       w->name, w->elephants, w->mice, w->bytes, h ? "heavy" : "light");
		}
	}
	if (env.json) {
		bn_json_begin(&j, stdout);
		bn_json_str(&j, "type", "node");
		bn_json_str(&j, "time", ts);
		bn_json_str(&j, "node", env.node);
		bn_json_u64(&j, "elephants", node_e);
		bn_json_u64(&j, "mice", node_m);
		bn_json_u64(&j, "bytes", node_bytes);
		bn_json_u64(&j, "workloads", R.fp.n);
		bn_json_u64(&j, "workloads_heavy", heavy);
		bn_json_str(&j, "footprint", node_e || heavy ? "heavy" : "light");
		bn_json_u64(&j, "table_full", stat_sum(EL_ST_TABLE_FULL));
		bn_json_u64(&j, "event_drops", stat_sum(EL_ST_RB_DROP) +
			    stat_sum(EL_ST_DEL_RB_DROP) + R.event_drops);
		bn_json_u64(&j, "swept", R.swept);
		bn_json_u64(&j, "flows_added", stat_sum(EL_ST_ADDED));
		bn_json_u64(&j, "flows_deleted", stat_sum(EL_ST_DELETED) + R.deleted_user);
		bn_json_str(&j, "backend", backend_names[R.backend]);
		bn_json_end(&j);
	} else {
		printf("%-8s %-8s %-16s %9u %9u %14" PRIu64 " %s\n", ts, "node", env.node,
		       node_e, node_m, node_bytes, node_e || heavy ? "heavy" : "light");
	}
	R.header_done = false;
}

/* ---- Prometheus ---- */

static int metrics_open(void)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1, err;
	bool v6 = strchr(env.metrics_host, ':');
	const char *host = env.metrics_host;
	char h6[64];

	if (v6 && host[0] == '[') {
		snprintf(h6, sizeof(h6), "%.62s", host + 1);
		h6[strcspn(h6, "]")] = '\0';
		host = h6;
	}
	if (v6 ? inet_pton(AF_INET6, host, &sa6.sin6_addr) != 1 :
		 inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		bn_err("invalid --metrics address '%s'", env.metrics_host);
		return -EINVAL;
	}
	sa.sin_port = htons(env.metrics_port);
	sa6.sin6_port = htons(env.metrics_port);
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof(sa6)) :
		  bind(fd, (struct sockaddr *)&sa, sizeof(sa))) || listen(fd, 16)) {
		err = -errno;
		bn_err("cannot serve metrics on %s:%d: %s", env.metrics_host, env.metrics_port,
		       strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

static void metrics_serve(void)
{
	uint64_t now_s = bn_realtime_ns() / NSEC, window_s = env.window_ns / NSEC;
	unsigned int node_e = 0, node_m = 0, heavy = 0;
	char req[2048], *body = NULL;
	size_t blen = 0;
	FILE *b;
	int c, i;
	ssize_t n;

	c = accept4(R.mfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	{
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	n = recv(c, req, sizeof(req) - 1, 0);
	if (n <= 0)
		goto out;
	req[n] = '\0';
	if (strncmp(req, "GET /metrics", 12) || (req[12] != ' ' && req[12] != '?')) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 10\r\n"
					 "Connection: close\r\n\r\nnot found\n";

		send(c, nf, sizeof(nf) - 1, MSG_NOSIGNAL);
		goto out;
	}
	b = open_memstream(&body, &blen);
	if (!b)
		goto out;
	fprintf(b, "# HELP elephant_workload_elephants Active elephant flows of the workload.\n"
		   "# TYPE elephant_workload_elephants gauge\n");
	for (i = 0; i < R.fp.n; i++)
		fprintf(b, "elephant_workload_elephants{node=\"%s\",workload=\"%s\"} %u\n",
			env.node, R.fp.w[i].name, R.fp.w[i].elephants);
	fprintf(b, "# HELP elephant_workload_mice Active non-elephant flows of the workload.\n"
		   "# TYPE elephant_workload_mice gauge\n");
	for (i = 0; i < R.fp.n; i++)
		fprintf(b, "elephant_workload_mice{node=\"%s\",workload=\"%s\"} %u\n",
			env.node, R.fp.w[i].name, R.fp.w[i].mice);
	fprintf(b, "# HELP elephant_workload_bytes_total Bytes carried by the workload's "
		   "flows.\n# TYPE elephant_workload_bytes_total counter\n");
	for (i = 0; i < R.fp.n; i++)
		fprintf(b, "elephant_workload_bytes_total{node=\"%s\",workload=\"%s\"} %" PRIu64
			"\n", env.node, R.fp.w[i].name, R.fp.w[i].bytes_total);
	fprintf(b, "# HELP elephant_workload_elephants_total Elephants the workload sourced "
		   "or sank.\n# TYPE elephant_workload_elephants_total counter\n");
	for (i = 0; i < R.fp.n; i++)
		fprintf(b, "elephant_workload_elephants_total{node=\"%s\",workload=\"%s\"} %"
			PRIu64 "\n", env.node, R.fp.w[i].name, R.fp.w[i].elephants_total);
	fprintf(b, "# HELP elephant_workload_heavy 1 if the workload's footprint is heavy.\n"
		   "# TYPE elephant_workload_heavy gauge\n");
	for (i = 0; i < R.fp.n; i++) {
		bool h = fp_heavy(&R.fp.w[i], now_s, window_s);

		fprintf(b, "elephant_workload_heavy{node=\"%s\",workload=\"%s\"} %d\n",
			env.node, R.fp.w[i].name, h);
		node_e += R.fp.w[i].elephants;
		node_m += R.fp.w[i].mice;
		heavy += h;
	}
	fprintf(b, "# HELP elephant_node_elephants Active elephant flows on the node.\n"
		   "# TYPE elephant_node_elephants gauge\n"
		   "elephant_node_elephants{node=\"%s\"} %u\n", env.node, node_e);
	fprintf(b, "# HELP elephant_node_mice Active non-elephant flows on the node.\n"
		   "# TYPE elephant_node_mice gauge\n"
		   "elephant_node_mice{node=\"%s\"} %u\n", env.node, node_m);
	fprintf(b, "# HELP elephant_node_heavy_workloads Workloads with a heavy footprint.\n"
		   "# TYPE elephant_node_heavy_workloads gauge\n"
		   "elephant_node_heavy_workloads{node=\"%s\"} %u\n", env.node, heavy);
	fprintf(b, "# HELP elephant_node_elephant_events_total elephant_add events.\n"
		   "# TYPE elephant_node_elephant_events_total counter\n"
		   "elephant_node_elephant_events_total{node=\"%s\"} %" PRIu64 "\n", env.node,
		R.events_add);
	fprintf(b, "# HELP elephant_node_untracked_flows_total Flows not tracked: table full.\n"
		   "# TYPE elephant_node_untracked_flows_total counter\n"
		   "elephant_node_untracked_flows_total{node=\"%s\"} %" PRIu64 "\n", env.node,
		stat_sum(EL_ST_TABLE_FULL));
	fclose(b);
	dprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	send(c, body, blen, MSG_NOSIGNAL);
	free(body);
out:
	close(c);
}

/* ---- sysctls and the run file (stale tc attachments after kill -9) ---- */

static int sysctl_set(const char *path, const char *val, char *orig, size_t len, bool *set)
{
	int err;

	err = bn_sysctl_read(path, orig, len);
	if (err)
		return err;
	if (!strcmp(orig, val))
		return 0;
	err = bn_sysctl_write(path, val);
	if (!err)
		*set = true;
	return err;
}

static void run_file_write(void)
{
	static bool warned;
	char tmp[160];
	FILE *f;
	int i;

	if (!R.run_file[0])
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", R.run_file);
	f = fopen(tmp, "we");
	if (!f) {
		if (!warned)
			bn_warn("cannot write %s: %s; a kill -9 would leave tc filters attached",
				tmp, strerror(errno));
		warned = true;
		return;
	}
	fprintf(f, "pid %d\n", getpid());
	if (R.acct_set)
		fprintf(f, "sysctl net/netfilter/nf_conntrack_acct %s\n", R.acct_orig);
	if (R.events_set)
		fprintf(f, "sysctl net/netfilter/nf_conntrack_events %s\n", R.events_orig);
	for (i = 0; i < R.ntc; i++)
		fprintf(f, "tc %d %s %d\n", R.tc[i].ifindex, R.tc[i].name, R.tc[i].created);
	if (fclose(f) || rename(tmp, R.run_file)) {
		if (!warned)
			bn_warn("cannot write %s: %s", R.run_file, strerror(errno));
		warned = true;
		unlink(tmp);
	}
}

static void tc_detach_one(int ifindex, const char *name, bool created)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = EL_TC_HANDLE, .priority = EL_TC_PRIO);
	char now[IF_NAMESIZE];

	/* the interface may be gone, or its index reused by another one */
	if (bn_ifname(ifindex, now) || strcmp(now, name))
		return;
	bpf_tc_detach(&hook, &o);
	if (created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

/* A run file left by a killed elephant in this netns: undo what it did. */
static int run_file_recover(void)
{
	char line[256], name[IF_NAMESIZE + 1], path[128], val[32];
	int pid = 0, ifindex, created, n = 0;
	uint64_t v;
	FILE *f;

	f = fopen(R.run_file, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pid %d", &pid) == 1) {
			char comm[64] = "", cpath[64];
			FILE *c;

			snprintf(cpath, sizeof(cpath), "/proc/%d/comm", pid);
			c = fopen(cpath, "re");
			if (c) {
				if (!fgets(comm, sizeof(comm), c))
					comm[0] = '\0';
				fclose(c);
			}
			if (pid != getpid() && !strncmp(comm, "elephant", 8)) {
				fclose(f);
				bn_err("another elephant runs in this network namespace (pid %d)",
				       pid);
				/* its run file, not ours: teardown must leave it */
				R.run_file[0] = '\0';
				return -EBUSY;
			}
		} else if (sscanf(line, "sysctl %127s %31s", path, val) == 2) {
			/* only what run_file_write() writes: the two sysctls, 0..2 */
			if ((!strcmp(path, "net/netfilter/nf_conntrack_acct") ||
			     !strcmp(path, "net/netfilter/nf_conntrack_events")) &&
			    !bn_parse_u64(val, 0, 2, &v))
				bn_sysctl_write(path, val);
		} else if (sscanf(line, "tc %d %16s %d", &ifindex, name, &created) == 3) {
			tc_detach_one(ifindex, name, created);
			n++;
		}
	}
	fclose(f);
	unlink(R.run_file);
	if (n)
		bn_info("removed %d stale tc attachment(s) of a previous elephant (pid %d)", n,
			pid);
	return 0;
}

/* ---- backends ---- */

static bool tc_skip(const struct nl_link *l)
{
	int i;

	if (env.nifaces) {
		for (i = 0; i < env.nifaces; i++)
			if (!strcmp(env.ifaces[i], l->name))
				return false;
		return true;
	}
	return !strcmp(l->name, "lo") || !strcmp(l->kind, "bridge");
}

static int tc_attach_one(int ifindex, const char *name)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = EL_TC_HANDLE, .priority = EL_TC_PRIO);
	struct tc_att *a;
	bool created = false;
	int err, i;

	for (i = 0; i < R.ntc; i++)
		if (R.tc[i].ifindex == ifindex)
			return 0;
	if (R.ntc == MAX_TC)
		return -E2BIG;
	err = bpf_tc_hook_create(&hook);
	if (!err)
		created = true;
	else if (err != -EEXIST)
		return err;
	/* record first: a kill -9 right after attach is then still undone */
	a = &R.tc[R.ntc++];
	a->ifindex = ifindex;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->created = created;
	run_file_write();
	o.prog_fd = bpf_program__fd(R.skel->progs.el_tc_ingress);
	o.flags = BPF_TC_F_REPLACE;
	err = bpf_tc_attach(&hook, &o);
	if (err) {
		tc_detach_one(ifindex, name, created);
		R.ntc--;
		run_file_write();
		return err;
	}
	bn_dbg("tc: attached to %s", name);
	return 0;
}

static void tc_detach_all(void)
{
	int i;

	for (i = 0; i < R.ntc; i++)
		tc_detach_one(R.tc[i].ifindex, R.tc[i].name, R.tc[i].created);
	R.ntc = 0;
}

/* Attach to every wanted interface not attached yet; forget vanished ones. */
static int tc_sync(bool initial)
{
	struct nl_link *links;
	int n, i, j, err;

	n = rtnl_links(&links);
	if (n < 0)
		return n;
	for (i = 0; i < R.ntc; i++) {
		for (j = 0; j < n; j++)
			if (links[j].ifindex == R.tc[i].ifindex)
				break;
		if (j == n) {
			R.tc[i--] = R.tc[--R.ntc];
			run_file_write();
		} else if (strcmp(links[j].name, R.tc[i].name)) {
			/* renamed (container runtimes do): detach checks the name */
			snprintf(R.tc[i].name, sizeof(R.tc[i].name), "%s", links[j].name);
			run_file_write();
		}
	}
	for (i = 0; i < n; i++) {
		if (tc_skip(&links[i]))
			continue;
		err = tc_attach_one(links[i].ifindex, links[i].name);
		if (err && (initial || err != -ENODEV)) {
			bn_err("cannot attach to %s: %s", links[i].name, strerror(-err));
			if (initial) {
				free(links);
				return err;
			}
		}
	}
	free(links);
	return 0;
}

/*
 * Look @name up in the kernel's BTF: vmlinux, then nf_conntrack's module BTF
 * (a module on most distributions). Returns the type's size (0 for
 * functions) or a negative errno when it is not there.
 */
static int kernel_btf_find(const char *name, int kind)
{
	struct btf *vml, *mod = NULL;
	const struct btf_type *t;
	int id, ret = -ENOENT;

	vml = btf__load_vmlinux_btf();
	if (!vml)
		return -ENOENT;
	id = btf__find_by_name_kind(vml, name, kind);
	if (id > 0) {
		t = btf__type_by_id(vml, id);
		ret = kind == BTF_KIND_STRUCT ? (int)t->size : 0;
		goto out;
	}
	mod = btf__load_module_btf("nf_conntrack", vml);
	if (!mod)
		goto out;
	id = btf__find_by_name_kind(mod, name, kind);
	if (id > 0) {
		t = btf__type_by_id(mod, id);
		ret = kind == BTF_KIND_STRUCT ? (int)t->size : 0;
	}
out:
	btf__free(mod);
	btf__free(vml);
	return ret;
}

/* 16 when bpf_ct_opts has ct_zone_id (lookups in any zone), else 12. */
static uint32_t ct_opts_size(void)
{
	return kernel_btf_find("bpf_ct_opts", BTF_KIND_STRUCT) >= 16 ? 16 : 12;
}

static void set_autoload(enum backend bk)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, R.skel->obj) {
		const char *name = bpf_program__name(p);
		bool want = (bk == BK_KPROBE && !strncmp(name, "kp_", 3)) ||
			    (bk == BK_FENTRY && !strncmp(name, "fe_", 3)) ||
			    (bk == BK_TC && !strncmp(name, "el_tc", 5));

		bpf_program__set_autoload(p, want);
	}
}

static void backend_close(void)
{
	int i;

	tc_detach_all();
	for (i = 0; i < R.nlinks; i++)
		bpf_link__destroy(R.links[i]);
	R.nlinks = 0;
	elephant_bpf__destroy(R.skel);
	R.skel = NULL;
}

/* Load and attach one backend; 0, or a negative errno with *why set. */
static int backend_open(enum backend bk, const char **why)
{
	struct bpf_program *p;
	int err;

	R.skel = elephant_bpf__open();
	if (!R.skel) {
		*why = "cannot open the BPF object";
		return -errno;
	}
	R.skel->rodata->min_bytes = env.min_bytes;
	R.skel->rodata->min_duration_ns = env.min_duration_ns;
	R.skel->rodata->min_rate_bps = env.min_rate_bps;
	R.ct_opts_sz = ct_opts_size();
	R.skel->rodata->ct_opts_sz = R.ct_opts_sz;
	bpf_map__set_max_entries(R.skel->maps.flows, env.max_flows);
	bpf_map__set_max_entries(R.skel->maps.pending, env.max_flows);
	bpf_map__set_max_entries(R.skel->maps.tuple_cache, env.max_flows);
	set_autoload(bk);
	err = elephant_bpf__load(R.skel);
	if (err) {
		*why = "the kernel refused to load the programs";
		goto fail;
	}
	if (bk == BK_TC)
		return 0;
	bpf_object__for_each_program(p, R.skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		l = bpf_program__attach(p);
		if (!l) {
			err = -errno;
			*why = "cannot attach";
			goto fail;
		}
		R.links[R.nlinks++] = l;
	}
	return 0;
fail:
	backend_close();
	return err ? err : -EINVAL;
}

static int backend_start(void)
{
	static const enum backend order[] = { BK_FENTRY, BK_KPROBE, BK_TC };
	const char *why = "";
	unsigned int i;
	int err = -EINVAL;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (env.backend != BK_AUTO && env.backend != order[i])
			continue;
		err = backend_open(order[i], &why);
		if (!err) {
			R.backend = order[i];
			return 0;
		}
		if (env.backend == BK_AUTO)
			bn_info("backend %s: %s: %s", backend_names[order[i]], why,
				strerror(-err));
	}
	if (env.backend == BK_AUTO)
		bn_err("no backend works on this kernel (fentry, kprobe, tc; -v says why)");
	else
		bn_err("backend %s: %s: %s", backend_names[env.backend], why, strerror(-err));
	return err;
}

static int list_backends(void)
{
	static const char *const funcs[] = { "__nf_conntrack_confirm",
		"nf_ct_deliver_cached_events", "__nf_ct_refresh_acct", "nf_ct_delete" };
	unsigned int i;
	int err;

	printf("%-7s %-6s %s\n", "BACKEND", "WORKS", "DETAIL");
	for (i = 0; i < 2; i++) {
		enum bn_hook h = i ? BN_HOOK_KPROBE : BN_HOOK_FENTRY;
		unsigned int k;

		for (k = 0; k < 4; k++) {
			err = bn_probe_hook(h, funcs[k]);
			if (err)
				break;
		}
		if (err)
			printf("%-7s %-6s %s on %s: %s\n", bn_hook_name(h), "no", bn_hook_name(h),
			       funcs[k], strerror(-err));
		else
			printf("%-7s %-6s %s\n", bn_hook_name(h), "yes", "all four hooks attach");
	}
	err = bn_probe_hook(BN_HOOK_TC, NULL);
	if (!err && kernel_btf_find("bpf_skb_ct_lookup", BTF_KIND_FUNC) < 0)
		err = -ENOENT;
	if (err)
		printf("%-7s %-6s %s\n", "tc", "no", err == -ENOENT ?
		       "no bpf_skb_ct_lookup kfunc" : strerror(-err));
	else
		printf("%-7s %-6s %s\n", "tc", "yes", ct_opts_size() >= 16 ?
		       "conntrack zones looked up" : "zone 0 only (no bpf_ct_opts.ct_zone_id)");
	return 0;
}

/* ---- main ---- */

/* Watch @fd (a negative errno: opening it failed) in the main loop. */
static int ep_add(int fd, const char *what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	int err = fd;

	if (fd >= 0 && epoll_ctl(R.epfd, EPOLL_CTL_ADD, fd, &ev))
		err = -errno;
	if (err < 0) {
		bn_err("cannot listen to %s: %s", what, strerror(-err));
		return err;
	}
	return 0;
}

static int setup(void)
{
	char path[128];
	struct stat st;
	int err, i;

	if (stat("/proc/self/ns/net", &st)) {
		err = -errno;
		bn_err("cannot read /proc/self/ns/net: %s", strerror(-err));
		return err;
	}
	R.self_ino = st.st_ino;
	ns_refresh();
	{
		struct dirent *de;
		DIR *d = opendir("/run/netns");

		while (d && (de = readdir(d))) {
			snprintf(path, sizeof(path), "/run/netns/%.100s", de->d_name);
			if (de->d_name[0] != '.' && !stat(path, &st) && st.st_ino == R.self_ino)
				snprintf(R.self_name, sizeof(R.self_name), "%.63s", de->d_name);
		}
		if (d)
			closedir(d);
	}

	if (bn_sysctl_read("net/netfilter/nf_conntrack_acct", path, sizeof(path))) {
		bn_err("conntrack is not loaded in this network namespace "
		       "(no net.netfilter.nf_conntrack_acct): modprobe nf_conntrack");
		return -ENOENT;
	}
	mkdir(RUN_DIR, 0755);
	snprintf(R.run_file, sizeof(R.run_file), RUN_DIR "/elephant-%" PRIu64 ".run",
		 R.self_ino);
	err = run_file_recover();
	if (err)
		return err;

	err = sysctl_set("net/netfilter/nf_conntrack_acct", "1", R.acct_orig,
			 sizeof(R.acct_orig), &R.acct_set);
	if (!err)
		err = sysctl_set("net/netfilter/nf_conntrack_events", "1", R.events_orig,
				 sizeof(R.events_orig), &R.events_set);
	if (err) {
		bn_err("cannot enable conntrack accounting and events: %s", strerror(-err));
		return err;
	}
	run_file_write();

	for (i = 0; i < env.nifaces; i++)
		if (bn_ifindex(env.ifaces[i]) < 0) {
			bn_err("cannot attach to %s: no such interface", env.ifaces[i]);
			return -ENODEV;
		}
	err = backend_start();
	if (err)
		return err;
	fprintf(stderr, "%s: using the %s backend\n", bn_prog(), backend_names[R.backend]);

	R.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (R.epfd < 0) {
		err = -errno;
		bn_err("cannot create an epoll instance: %s", strerror(-err));
		return err;
	}
	R.rb = ring_buffer__new(bpf_map__fd(R.skel->maps.events), rb_event, NULL, NULL);
	if (!R.rb) {
		err = -errno;
		bn_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	err = ep_add(ring_buffer__epoll_fd(R.rb), "the ring buffer");
	if (err)
		return err;

	if (R.backend == BK_TC) {
		R.ctfd = ctnl_open_events(true);
		err = ep_add(R.ctfd, "conntrack events");
		if (err)
			return err;
		for (i = 0; i < env.nlabels; i++)
			if (env.labels[i].kind == EL_LABEL_ZONE)
				zone_learn(env.labels[i].zone);
		R.lnkfd = rtnl_open_link_monitor();
		err = ep_add(R.lnkfd, "interface changes");
		if (err)
			return err;
		err = tc_sync(true);
		if (err)
			return err;
		if (!R.ntc) {
			bn_err("no interface to attach to");
			return -ENODEV;
		}
	}
	if (env.metrics_port >= 0) {
		R.mfd = metrics_open();
		if (R.mfd < 0)
			return R.mfd;
		err = ep_add(R.mfd, "the metrics socket");
		if (err)
			return err;
	}
	return 0;
}

/* Nothing lost silently: say what the kernel side could not track. */
static void report_drops(void)
{
	uint64_t full = stat_sum(EL_ST_TABLE_FULL), pend = stat_sum(EL_ST_PENDING_FULL);
	uint64_t rb = stat_sum(EL_ST_RB_DROP), del = stat_sum(EL_ST_DEL_RB_DROP);

	if (full)
		bn_warn("%" PRIu64 " flows not tracked: flow table full (--max-flows)", full);
	if (pend)
		bn_warn("%" PRIu64 " entry interfaces lost: pending table full", pend);
	if (rb)
		bn_warn("%" PRIu64 " ring buffer reservations failed (retried)", rb);
	if (del)
		bn_warn("%" PRIu64 " delete events lost: ring buffer full", del);
	if (R.event_drops)
		bn_warn("%" PRIu64 " events not reported: out of memory", R.event_drops);
	if (R.swept)
		bn_info("%" PRIu64 " entries removed by the sweep (delete not seen)", R.swept);
}

static void teardown(void)
{
	ring_buffer__free(R.rb);
	R.rb = NULL;
	backend_close();
	if (R.acct_set)
		bn_sysctl_write("net/netfilter/nf_conntrack_acct", R.acct_orig);
	if (R.events_set)
		bn_sysctl_write("net/netfilter/nf_conntrack_events", R.events_orig);
	if (R.run_file[0])
		unlink(R.run_file);
	if (R.ctfd >= 0)
		close(R.ctfd);
	if (R.lnkfd >= 0)
		close(R.lnkfd);
	if (R.mfd >= 0)
		close(R.mfd);
	if (R.epfd >= 0)
		close(R.epfd);
}

static void save_state(void)
{
	int err;

	if (!env.state_path || !R.fp.dirty)
		return;
	err = fp_state_save(&R.fp, env.state_path);
	if (err)
		bn_warn("cannot write state file %s: %s", env.state_path, strerror(-err));
}

static int loop(void)
{
	uint64_t start = bn_now_ns(), next = start + env.interval_ns, now;
	struct epoll_event evs[8];
	int n, i, timeout;

	while (!bn_stop) {
		now = bn_now_ns();
		if (env.duration_ns && now - start >= env.duration_ns)
			break;
		if (now >= next) {
			ring_buffer__consume(R.rb);
			walk_flows();
			print_summary();
			fp_reset_interval(&R.fp);
			save_state();
			next += env.interval_ns;
			if (next <= now)
				next = now + env.interval_ns;
			continue;
		}
		timeout = (next - now) / 1000000 + 1;
		if (env.duration_ns && start + env.duration_ns - now < next - now)
			timeout = (start + env.duration_ns - now) / 1000000 + 1;
		n = epoll_wait(R.epfd, evs, 8, timeout);
		if (n < 0 && errno != EINTR) {
			int err = -errno;

			bn_err("cannot wait for events: %s", strerror(-err));
			return err;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == R.ctfd) {
				ct_events();
			} else if (fd == R.lnkfd) {
				int err = nl_drain(R.lnkfd) ? tc_sync(false) : 0;

				if (err)
					bn_warn("cannot list interfaces: %s; new ones are not "
						"watched yet", strerror(-err));
			} else if (fd == R.mfd) {
				metrics_serve();
			} else {
				ring_buffer__consume(R.rb);
			}
		}
	}
	/* final: what happened since the last summary */
	ring_buffer__consume(R.rb);
	if (R.ctfd >= 0)
		ct_events();
	walk_flows();
	print_summary();
	save_state();
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, "[IFACE...]", doc, NULL, NULL, NULL };
	int err, line;

	bn_log_init(argv[0]);
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return BN_EXIT_USAGE;
	bn_stdout_setup();
	bn_libbpf_setup();
	/* the node name goes unescaped into metric labels: only valid names */
	if (!env.node[0] && (gethostname(env.node, sizeof(env.node) - 1) ||
			     !el_name_valid(env.node)))
		strcpy(env.node, "node");
	if (bn_check_caps())
		return BN_EXIT_ERR;
	if (env.list_backends)
		return list_backends();
	if (env.state_path) {
		err = fp_state_load(&R.fp, env.state_path, &line);
		if (err) {
			if (err == -EINVAL)
				bn_err("cannot read state file %s: line %d is malformed",
				       env.state_path, line);
			else
				bn_err("cannot read state file %s: %s", env.state_path,
				       strerror(-err));
			return BN_EXIT_ERR;
		}
		/* a path it cannot write is bad input now, not a warning every interval */
		err = fp_state_save(&R.fp, env.state_path);
		if (err) {
			bn_err("cannot write state file %s: %s", env.state_path, strerror(-err));
			return BN_EXIT_ERR;
		}
	}
	R.mono_to_real = bn_realtime_ns() - bn_now_ns();
	err = bn_signals_setup();
	if (err)
		bn_err("cannot install signal handlers: %s", strerror(-err));
	else
		err = setup();
	if (!err)
		err = loop();
	if (R.skel)
		report_drops();
	teardown();
	fp_free(&R.fp);
	return err ? BN_EXIT_ERR : BN_EXIT_OK;
}
