// SPDX-License-Identifier: GPL-2.0
/*
 * snap.c - the counters of one moment: every CPU's nc_cpu from the mmapped
 * .bss, the time of the softirq running there now, /proc/stat's softirq ticks,
 * netcost's own CPU time and (with --bpf-stats) its programs' run time.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

#define SNAP_SPINS	16		/* consistent-read tries before yielding */
#define SNAP_WAIT_NS	20000000ULL	/* and at most this long in one snapshot */

int nc_snap_alloc(struct nc_snap *s, int nr_cpus)
{
	s->nr_cpus = nr_cpus;
	s->cpu = calloc(nr_cpus, sizeof(*s->cpu));
	s->stat_si = calloc(nr_cpus, sizeof(*s->stat_si));
	s->pend = calloc(nr_cpus * NC_NPEND, sizeof(*s->pend));
	return s->cpu && s->stat_si && s->pend ? 0 : -ENOMEM;
}

void nc_snap_free(struct nc_snap *s)
{
	free(s->cpu);
	free(s->stat_si);
	free(s->pend);
}

void nc_snap_copy(struct nc_snap *dst, const struct nc_snap *src)
{
	int n = src->nr_cpus;

	memcpy(dst->cpu, src->cpu, n * sizeof(*dst->cpu));
	memcpy(dst->stat_si, src->stat_si, n * sizeof(*dst->stat_si));
	memcpy(dst->pend, src->pend, n * NC_NPEND * sizeof(*dst->pend));
	dst->mono = src->mono;
	dst->self_ns = src->self_ns;
	dst->bpf_ns = src->bpf_ns;
	dst->bpf_cnt = src->bpf_cnt;
}

static int read_proc_stat(struct nc_snap *s)
{
	unsigned long long v[7];
	char line[512];
	FILE *f;
	int cpu;

	f = fopen("/proc/stat", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6]) != 8)
			continue;
		if (cpu >= 0 && cpu < s->nr_cpus)
			s->stat_si[cpu] = v[6];
	}
	fclose(f);
	return 0;
}

static void read_bpf_stats(const struct netcost_bpf *skel, uint64_t *ns, uint64_t *cnt)
{
	struct bpf_program *p;
	struct bpf_prog_info info;
	__u32 len;

	*ns = *cnt = 0;
	bpf_object__for_each_program(p, skel->obj) {
		if (bpf_program__fd(p) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		*ns += info.run_time_ns;
		*cnt += info.run_cnt;
	}
}

/* One CPU's state, read again until it is of one moment. */
struct cpu_state {
	uint64_t si, start;
};

static void read_state(const struct nc_state *st, struct cpu_state *c)
{
	c->si = __atomic_load_n(&st->si_vec, __ATOMIC_ACQUIRE);
	c->start = __atomic_load_n(&st->si_start, __ATOMIC_ACQUIRE);
}

/* CPU @cpu's counters into @s, consistent with its state, returned in @c. */
static void read_cpu(struct nc_snap *s, const struct netcost_bpf *skel, int cpu,
		     struct cpu_state *c)
{
	const struct nc_state *st = &skel->bss->pcpu[cpu].st;
	struct cpu_state c2;
	int tries;

	read_state(st, &c2);
	for (tries = 0;; tries++) {
		*c = c2;
		memcpy(&s->cpu[cpu], &skel->bss->pcpu[cpu].c, sizeof(s->cpu[cpu]));
		read_state(st, &c2);
		/* si_vec without si_start: nc_si_exit is adding */
		if (c->si == c2.si && c->start == c2.start &&
		    !(c->si && !c->start))
			break;
		/*
		 * A program preempted in the middle of its update (a vCPU the
		 * hypervisor took away) finishes within a few ms: let it, or the
		 * softirq's time would land in NET_RX of the next interval but in
		 * SOFTIRQ% of this one.
		 */
		if (tries >= SNAP_SPINS) {
			if (bn_now_ns() - s->mono > SNAP_WAIT_NS)
				break;
			sched_yield();
		}
	}
}

/*
 * Counters only move when an operation or softirq ends; a softirq running
 * now is counted in this interval (pend) and taken off the next one. A
 * socket operation is charged whole when it ends (netcost.bpf.c).
 */
void nc_snap_take(struct nc_snap *s, const struct netcost_bpf *skel, bool bpf_stats)
{
	uint64_t *pend;
	struct cpu_state c;
	struct rusage ru;
	int cpu;

	s->mono = bn_now_ns();
	memset(s->pend, 0, s->nr_cpus * NC_NPEND * sizeof(*s->pend));
	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		read_cpu(s, skel, cpu, &c);
		pend = &s->pend[cpu * NC_NPEND];
		if (!c.si || !c.start || c.start >= s->mono)
			continue;
		pend[NC_NR_KINDS] = s->mono - c.start;
		if (c.si == 3 || c.si == 4)	/* NET_TX, NET_RX (vector + 1) */
			pend[c.si == 4 ? NC_RX : NC_TX] = s->mono - c.start;
	}
	read_proc_stat(s);
	getrusage(RUSAGE_SELF, &ru);
	s->self_ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ULL +
		     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ULL;
	if (bpf_stats)
		read_bpf_stats(skel, &s->bpf_ns, &s->bpf_cnt);
}
