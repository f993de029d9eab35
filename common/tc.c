// SPDX-License-Identifier: GPL-2.0
/*
 * tc.c - a BPF program at a device's tc ingress or egress: by tcx (a
 * bpf_link) where the kernel has it, else as a filter on the clsact qdisc
 * through libbpf's bpf_tc_*, removed again without touching what other
 * tools attached.
 */
#include <errno.h>
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

int bn_tcx_attach(int ifindex, bool egress, int prog_fd)
{
	int fd;

	fd = bpf_link_create(prog_fd, ifindex, egress ? BN_TCX_EGRESS : BN_TCX_INGRESS, NULL);
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

bool bn_tc_runs(const struct bn_tc *t, uint32_t prog_id, const char *name)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex,
		    .attach_point = t->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = t->handle, .priority = t->prio);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours;
	int fd;

	if (bpf_tc_query(&hook, &o))
		return false;
	if (prog_id)
		return o.prog_id == prog_id;
	fd = bpf_prog_get_fd_by_id(o.prog_id);
	if (fd < 0)
		return false;
	ours = !bpf_obj_get_info_by_fd(fd, &info, &len) && name && !strcmp(info.name, name);
	close(fd);
	return ours;
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
