/* SPDX-License-Identifier: GPL-2.0 */
/*
 * server.h - what the files of the rss server share: its options, the
 * running state a policy is applied to, and each job's entry points
 * (policy.c, ctl.c, calib.c, kthread.c, stats.c). rss-client does not use it.
 *
 * Include after <linux/types.h>, common.h, rss.h and rss.skel.h.
 */
#ifndef BPFNET_RSS_SERVER_H
#define BPFNET_RSS_SERVER_H

#define CTL_MAX 1024

/* What a policy needs: given on the command line or by --swap. */
struct policy_spec {
	int policy;		/* -1: not given */
	char cpus[256];		/* "" = not given */
	char long_cpus[256];
	int min_cpus;		/* 0 = not given */
};

/* The command line. */
struct rss_env {
	const char *iface;
	int ifindex;
	__u16 port;
	struct policy_spec spec;
	__u64 grow_ns;
	__u64 shrink_ns;
	__u64 cooldown_ns;
	__u64 period_ns;
	__u64 short_ns;
	__u64 long_ns;
	__u32 qsize;
	int mode;		/* 0 auto, 1 native, 2 skb */
	bool no_reply;
	bool baseline;
	bool swap;
	bool calib_only;
	bool set_nice;
	int worker_nice;
	struct bn_cli cli;	/* -j, -i, -d */
};

/* The running server a configuration is applied to. */
struct rss_server {
	const struct rss_env *env;
	int nr_cpus;			/* possible CPUs: per-CPU map size */
	struct bn_cpuset online;
	struct rss_bpf *skel;
	int link_fd;			/* the scheduler's XDP link, -1 if none */
	bool skb_mode;			/* attached in skb (generic) mode */
	int cpumap_fd;
	struct rss_conf cur;		/* what the programs run with */
	int min_cpus;
	struct bn_cpuset installed;	/* CPUs with a cpumap entry */
	__u64 last_change_ns;
	__u64 below_since_ns;
	/* integral of the active CPUs over time: per interval and for the run */
	double active_integral;
	__u64 active_since_ns;
	double run_active_integral;
	__u64 run_start_ns;
};

/* ctlmsg.c: the policy names, the control messages' text */
extern const char *const policy_names[RSS_NR_POLICIES];
void ctl_msg_format(const struct policy_spec *sp, char *buf, size_t len);
/* Parse the @n bytes at @buf (room for one more: it is NUL-terminated). */
int ctl_msg_parse(char *buf, size_t n, struct policy_spec *sp);

/* policy.c: groups, applying a configuration, the dynamic group */
int default_conf(struct rss_server *srv, struct policy_spec *spec, struct rss_conf *base,
		 int *min_cpus, char *msg, size_t len);
int build_conf(const struct rss_server *srv, const struct policy_spec *spec,
	       const struct rss_conf *base, int base_min, struct rss_conf *out, int *min_out,
	       char *msg, size_t len);
int apply_conf(struct rss_server *srv, const struct rss_conf *c, char *msg, size_t len);
struct bpf_program *policy_prog(struct rss_bpf *skel, int policy);
void group_str(const struct rss_conf *c, char *buf, size_t len);
double active_now(const struct rss_server *srv);
void account_active(struct rss_server *srv, __u64 now);
struct snap;
/* The dynamic policy's step over the period from snapshot @a to @b. */
void dynamic_step(struct rss_server *srv, const struct snap *a, const struct snap *b);

/* ctl.c: the hot-swap control socket, both ends */
#define CTL_CONNS 4

struct ctl {
	int lfd;		/* listening socket */
	int epfd;		/* lfd and the connections: the loop waits on this */
	char path[108];		/* the socket's name, "" if not bound */
	struct {
		int fd;		/* -1: free */
		bool allowed;	/* root or CAP_NET_ADMIN: may swap */
		__u64 since_ns;
	} conn[CTL_CONNS];
};

/*
 * Listen for --swap on @env->ifindex; -EADDRINUSE: another rss runs there.
 * The reason of a failure in @msg.
 */
int ctl_open(struct ctl *ctl, const struct rss_env *env, char *msg, size_t len);
/* Accept, answer and time out what is ready; never waits. */
int ctl_process(struct ctl *ctl, struct rss_server *srv);
void ctl_close(struct ctl *ctl);
/* rss --swap: send env->spec to the running server; prints; an exit code */
int ctl_swap(const struct rss_env *env);

/* veth.c: warn when @iface is a veth whose peer cannot take XDP frames */
void veth_check(const char *iface, int ifindex);

/* calib.c: the service loop's speed and the iterations of each class */
int setup_service_time(const struct rss_env *env, struct rss_bpf *skel);

/* kthread.c: CPU time of the cpumap worker kthreads, from /proc */
struct kthr {
	int pid;
	int cpu;
	__u64 ticks;
};

struct kthreads {
	struct kthr t[RSS_MAX_CPUS];
	int n;
	bool set_nice;		/* renice each one found to @nice */
	int nice;
};

void kthreads_scan(struct kthreads *kt, __u32 map_id);
void kthreads_util(struct kthreads *kt, double *util, int nr_cpus, double dt_s);

/* stats.c: counters of the BPF side, the interval records and the totals */
struct snap {
	struct rss_sched_stats s;
	struct rss_tp_stats tp;
	__u64 done[RSS_MAX_CPUS][RSS_NR_CLASSES];
	__u64 replied[RSS_MAX_CPUS];
	__u64 bad;
	__u64 qsum[RSS_MAX_CPUS];
	__u64 ssum[RSS_MAX_CPUS];
	__u64 qhist[RSS_HIST_BUCKETS];
	__u64 t_ns;			/* monotonic */
	__u64 real_ns;			/* wall clock, for the records */
};

struct rss_stats {
	int nr_cpus;
	bool json;
	bool no_reply;
	void *percpu_buf;		/* one per-CPU map value */
	struct bn_cpuset cols;		/* worker CPUs the records show */
	struct kthreads kt;
};

int stats_init(struct rss_stats *rs, const struct rss_server *srv);
void stats_free(struct rss_stats *rs);
int read_snap(struct rss_stats *rs, struct rss_bpf *skel, struct snap *sn);
void stats_columns(struct rss_stats *rs, const struct rss_server *srv);
void print_header(const struct rss_stats *rs);
void print_stats(struct rss_stats *rs, struct rss_server *srv, const struct snap *a,
		 const struct snap *b);
void print_totals(struct rss_stats *rs, struct rss_server *srv, struct snap *cur);

#endif /* BPFNET_RSS_SERVER_H */
