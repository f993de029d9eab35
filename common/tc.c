// SPDX-License-Identifier: GPL-2.0
/*
 * tc.c - a BPF program at a device's tc ingress or egress: by tcx (a
 * bpf_link) where the kernel has it, else as a filter on the clsact qdisc
 * through libbpf's bpf_tc_*, removed again without touching what other
 * tools attached.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"

/* enum bpf_attach_type's tcx values (6.6), which the 6.1 uapi headers lack */
#define BN_TCX_INGRESS	46
#define BN_TCX_EGRESS	47
#define BN_F_BEFORE	(1U << 3)	/* BPF_F_BEFORE: no relative program, so first */

int bn_tcx_attach(int ifindex, bool egress, bool first, int prog_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = first ? BN_F_BEFORE : 0);
	int fd;

	fd = bpf_link_create(prog_fd, ifindex, egress ? BN_TCX_EGRESS : BN_TCX_INGRESS, &o);
	return fd < 0 ? -errno : fd;
}

/* A filter's own message (a handle); its classifier's instance comes without. */
static int filter_cb(const struct nlmsghdr *nh, void *arg)
{
	if (nh->nlmsg_type == RTM_NEWTFILTER &&
	    nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct tcmsg)) &&
	    ((struct tcmsg *)NLMSG_DATA(nh))->tcm_handle)
		(*(int *)arg)++;
	return 0;
}

int bn_tc_filters(int ifindex, uint32_t parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {};
	int fd, err, n = 0;

	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.tc));
	req.tc.tcm_family = AF_UNSPEC;
	req.tc.tcm_ifindex = ifindex;
	req.tc.tcm_parent = parent;
	fd = bn_nl_socket(NETLINK_ROUTE, 0);
	if (fd < 0)
		return fd;
	err = bn_nl_talk(fd, &req.nh, filter_cb, &n);
	close(fd);
	return err ? err : n;
}

uint32_t bn_tc_prog_id(const struct bn_tc *t)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
		    .attach_point = t->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = t->handle, .priority = t->prio);

	return bpf_tc_query(&hook, &o) ? 0 : o.prog_id;
}

bool bn_tc_runs(const struct bn_tc *t, uint32_t prog_id, const char *name)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	uint32_t id;
	bool ours;
	int fd;

	id = bn_tc_prog_id(t);
	if (!id)
		return false;
	if (prog_id)
		return id == prog_id;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && name && !strcmp(info.name, name);
	close(fd);
	return ours;
}

/* Whether fdinfo file @f is BPF program *@arg's (a program's fd or a link's). */
static bool holds_prog(FILE *f, void *arg)
{
	char line[128];
	unsigned int id;

	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "prog_id: %u", &id) == 1)
			return id == *(uint32_t *)arg;
	return false;
}

int bn_prog_holder(uint32_t prog_id)
{
	int pid, found = 0, self = getpid();
	struct dirent *de;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		pid = atoi(de->d_name);
		if (pid > 0 && pid != self && bn_fdinfo_any(pid, holds_prog, &prog_id))
			found = pid;
	}
	closedir(d);
	return found;
}

void bn_tc_detach(const struct bn_tc *t, uint32_t prog_id, const char *prog_name)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
		    .attach_point = t->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = t->handle, .priority = t->prio);
	char now[IF_NAMESIZE];

	/* the interface may be gone, or its index reused by another one */
	if (bn_ifname(t->ifindex, now) || strcmp(now, t->dev))
		return;
	if (bn_tc_runs(t, prog_id, prog_name))
		bpf_tc_detach(&hook, &o);
	if (!t->created)
		return;
	if (bn_tc_filters(t->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) ||
	    bn_tc_filters(t->ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS))) {
		bn_dbg("tc: clsact on %s left: other filters use it", t->dev);
		return;
	}
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
}

int bn_tc_hook_create(struct bn_tc *t)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex, .attach_point = BPF_TC_INGRESS);
	int err;

	err = bpf_tc_hook_create(&hook);
	t->created = !err;
	return err == -EEXIST ? 0 : err;
}

int bn_tc_attach(const struct bn_tc *t, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
		    .attach_point = t->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = t->handle, .priority = t->prio,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);

	return bpf_tc_attach(&hook, &o);
}
