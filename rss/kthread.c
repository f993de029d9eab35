// SPDX-License-Identifier: GPL-2.0
/*
 * kthread.c - the cpumap worker kthreads of rss's cpumap ("cpumap/CPU/map:ID"):
 * found by name under /proc, reniced on request, and their CPU time (utime +
 * stime of /proc/PID/stat) turned into a utilisation per worker CPU. Any
 * process may take such a name: only kernel threads (PF_KTHREAD, children
 * of kthreadd) are taken.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <linux/types.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

#define PF_KTHREAD	0x00200000
#define KTHREADD_PID	2

/* CPU ticks of @pid; -EPERM if it is not a kernel thread. */
static int read_ticks(int pid, __u64 *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long ut, stt;
	unsigned int flags;
	int ppid;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = 0;
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p)
		return -EINVAL;
	/* after ")": state(3) ppid(4) ... flags(9) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %u %*u %*u %*u %*u %lu %lu", &ppid, &flags,
		   &ut, &stt) != 4)
		return -EINVAL;
	if (!(flags & PF_KTHREAD) || ppid != KTHREADD_PID)
		return -EPERM;
	*ticks = ut + stt;
	return 0;
}

void kthreads_scan(struct kthreads *kt, __u32 map_id)
{
	char path[300], comm[64], want[32], *idp;
	struct dirent *de;
	DIR *d;
	int cpu, pid, old_n;
	unsigned int id;
	FILE *f;

	old_n = kt->n;
	kt->n = 0;
	d = opendir("/proc");
	if (!d)
		return;
	while ((de = readdir(d)) && kt->n < RSS_MAX_CPUS) {
		if (!isdigit(de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		if (strncmp(comm, "cpumap/", 7))
			continue;
		/*
		 * comm is cut at 15 characters ("cpumap/1/map:12"): a cut id
		 * matches on its prefix, an uncut one exactly.
		 */
		if (sscanf(comm, "cpumap/%d/map:%u", &cpu, &id) != 2)
			continue;
		snprintf(want, sizeof(want), "%u", map_id);
		comm[strcspn(comm, "\n")] = 0;
		idp = strchr(comm, ':') + 1;
		if (strlen(comm) < 15 ? strcmp(idp, want) : strncmp(idp, want, strlen(idp)))
			continue;
		pid = atoi(de->d_name);
		/* a kernel thread, checked before it is reniced or counted */
		if (read_ticks(pid, &kt->t[kt->n].ticks))
			continue;
		if (kt->n >= old_n || kt->t[kt->n].pid != pid)
			bn_info("cpumap worker of cpu %d: pid %d", cpu, pid);
		kt->t[kt->n].pid = pid;
		kt->t[kt->n].cpu = cpu;
		if (kt->set_nice && setpriority(PRIO_PROCESS, pid, kt->nice))
			bn_warn("cannot renice the worker of cpu %d: %s", cpu, strerror(errno));
		kt->n++;
	}
	closedir(d);
}

/* Utilisation in % of each worker CPU's kthread since the last call. */
void kthreads_util(struct kthreads *kt, double *util, int nr_cpus, double dt_s)
{
	long hz = sysconf(_SC_CLK_TCK);
	__u64 t;
	int i;

	for (i = 0; i < kt->n; i++) {
		if (read_ticks(kt->t[i].pid, &t))
			continue;
		if (kt->t[i].cpu >= 0 && kt->t[i].cpu < nr_cpus && dt_s > 0)
			util[kt->t[i].cpu] = 100.0 * (t - kt->t[i].ticks) / hz / dt_s;
		kt->t[i].ticks = t;
	}
}
