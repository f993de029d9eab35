// SPDX-License-Identifier: GPL-2.0
/*
 * stamp.c - tracer --stamp: load stamp.bpf.c and attach it at the first
 * point's device (egress: the point is tx, txq or qdisc, which the kernel
 * runs after tc egress), in that point's netns: by tcx where the kernel has
 * it, else as a clsact filter; on exit remove the filter, and the clsact
 * qdisc if tracer created it and nothing else uses it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if_arp.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state.h"
#include "stamp.skel.h"

#define TR_TC_HANDLE	0x7a5
#define TR_TC_PRIO	1		/* first: the filters after it see the stamp */
#define TR_STAMP_PROG	"tr_stamp"	/* its program's name, as the kernel keeps it */

struct tr_stamp {
	struct stamp_bpf *skel;
	struct bn_tc tc;
	char nspath[300];		/* "": tracer's own netns */
	uint32_t prog_id;
	int link_fd;			/* attached by tcx; -1: by a clsact filter */
	bool attached;
};

int tr_stamp_check(const struct tr_opts *o, char *err, size_t len)
{
	const struct tr_point_cfg *pc = &o->points[0];
	int hook = pc->p.hook;

	if (!pc->dev[0]) {
		snprintf(err, len, "--stamp: the first point, %s, names no device "
			 "(give it as %s=%s@DEV)", pc->name, pc->name, pc->hook);
		return -EINVAL;
	}
	if (hook == TR_HOOK_RX || hook == TR_HOOK_RXQ) {
		snprintf(err, len, "--stamp: the first point, %s, is %s: the kernel runs it "
			 "before tc ingress could stamp; give a tx, txq or qdisc point first",
			 pc->name, pc->hook);
		return -EINVAL;
	}
	if (hook != TR_HOOK_TX && hook != TR_HOOK_TXQ && hook != TR_HOOK_QDISC) {
		snprintf(err, len, "--stamp: the first point, %s, is %s: want tx, txq or "
			 "qdisc", pc->name, pc->hook);
		return -EINVAL;
	}
	return 0;
}

/* Whether @dev (in the current netns) has Ethernet headers, as the program expects. */
static int dev_ether(const char *dev)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		err = -EOPNOTSUPP;
	close(fd);
	return err;
}

/*
 * Without tcx, the filter at tracer's handle and priority on @dev, if there
 * is one, must be one a tracer killed by -9 left (its program run by no
 * process): replaced, and the qdisc counted tracer's if that filter is all
 * there is on it. A live tracer's filter (a process holds its program) and
 * another tool's are refused. Errors are printed.
 */
static int tc_slot(struct tr_stamp *st, const char *dev)
{
	uint32_t id;
	int pid;

	id = bn_tc_prog_id(&st->tc);
	if (!id)
		return 0;
	if (!bn_tc_runs(&st->tc, 0, TR_STAMP_PROG)) {
		bn_err("--stamp: %s egress has another program (id %u) at pref %d handle %#x",
		       dev, id, TR_TC_PRIO, TR_TC_HANDLE);
		return -EBUSY;
	}
	pid = bn_prog_holder(id);
	if (pid < 0) {
		bn_err("--stamp: cannot tell whether a tracer stamps at %s: %s", dev,
		       strerror(-pid));
		return pid;
	}
	if (pid) {
		bn_err("--stamp: a tracer (pid %d) stamps at %s already", pid, dev);
		return -EBUSY;
	}
	bn_info("--stamp: replacing the filter a previous tracer left on %s", dev);
	if (!bn_tc_filters(st->tc.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)) &&
	    bn_tc_filters(st->tc.ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS)) == 1)
		st->tc.created = true;
	return 0;
}

/* Attach in the point's netns; errors are printed. */
static int stamp_attach(struct tr_stamp *st, const struct tr_point_cfg *pc)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int self = -1, fd, err;

	if (st->nspath[0] && (err = bn_netns_enter(st->nspath, &self))) {
		bn_err("--stamp: cannot enter netns %s: %s", pc->netns, strerror(-err));
		return err;
	}
	err = dev_ether(pc->dev);
	if (err == -EOPNOTSUPP)	/* exit 2: a point tracer cannot stamp at */
		bn_err("--stamp: %s is not an Ethernet device: not supported", pc->dev);
	else if (err)
		bn_err("--stamp: cannot tell the type of %s: %s", pc->dev, strerror(-err));
	if (err)
		goto out;
	fd = bpf_program__fd(st->skel->progs.tr_stamp);
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err) {
		err = -errno;
		bn_err("--stamp: cannot read the program's id: %s", strerror(-err));
		goto out;
	}
	st->prog_id = info.id;
	/*
	 * A bpf_link where the kernel has tcx (6.6+), first on the device, so
	 * that the tcx programs there see stamped packets: gone with tracer,
	 * even on kill -9. BPFNET_TRACER_NO_TCX (tests only): the clsact
	 * filter anyway.
	 */
	st->link_fd = getenv("BPFNET_TRACER_NO_TCX") ? -EINVAL :
		      bn_tcx_attach(pc->p.ifindex, true, true, fd);
	if (st->link_fd >= 0) {
		st->attached = true;
		bn_dbg("--stamp: attached to %s egress by tcx, first", pc->dev);
		goto out;
	}
	bn_dbg("--stamp: no tcx (%s): a filter on the clsact qdisc", strerror(-st->link_fd));
	err = bn_tc_hook_create(&st->tc);
	if (err) {
		bn_err("--stamp: cannot attach to %s egress: %s", pc->dev, strerror(-err));
		goto out;
	}
	if (!st->tc.created && (err = tc_slot(st, pc->dev)))
		goto out;
	err = bn_tc_attach(&st->tc, fd);
	if (err) {
		bn_err("--stamp: cannot attach to %s egress: %s", pc->dev, strerror(-err));
		bn_tc_detach(&st->tc, st->prog_id, NULL);
		goto out;
	}
	st->attached = true;
	bn_dbg("--stamp: attached to %s egress by tc%s", pc->dev,
	       st->tc.created ? " (clsact qdisc created)" : "");
out:
	if (bn_netns_leave(&self) && !err)
		err = -EIO;
	return err;
}

int tr_stamp_start(struct tr_stamp **out, const struct tr_point_cfg *pc)
{
	struct tr_stamp *st;
	uint32_t ino;
	int err;

	*out = st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->link_fd = -1;
	if (pc->netns[0] &&
	    (err = tr_netns_resolve(pc->netns, st->nspath, sizeof(st->nspath), &ino))) {
		bn_err("--stamp: no netns '%s': %s", pc->netns, strerror(-err));
		return err;
	}
	st->tc.ifindex = pc->p.ifindex;
	snprintf(st->tc.dev, sizeof(st->tc.dev), "%s", pc->dev);
	st->tc.egress = true;
	st->tc.handle = TR_TC_HANDLE;
	st->tc.prio = TR_TC_PRIO;
	st->skel = stamp_bpf__open_and_load();
	if (!st->skel) {
		err = -errno;
		bn_err("--stamp: cannot load the stamping program: %s", strerror(-err));
		return err;
	}
	return stamp_attach(st, pc);
}

void tr_stamp_stop(struct tr_stamp *st)
{
	int self = -1;

	if (!st)
		return;
	if (st->link_fd >= 0)
		close(st->link_fd);
	else if (st->attached && (!st->nspath[0] || !bn_netns_enter(st->nspath, &self))) {
		bn_tc_detach(&st->tc, st->prog_id, NULL);
		bn_netns_leave(&self);
	}
	stamp_bpf__destroy(st->skel);
	free(st);
}

int tr_stamp_read(const struct tr_stamp *st, struct tr_stamp_stats *sum)
{
	__u32 zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (!st || !st->skel)
		return -ENOENT;
	return bn_percpu_sum(bpf_map__fd(st->skel->maps.stamp_stats), &zero, (uint64_t *)sum,
			     sizeof(*sum) / sizeof(uint64_t));
}

void tr_stamp_info(const struct tr_stamp *st, const char **via, uint32_t *prog_id)
{
	*via = !st ? "" : st->link_fd >= 0 ? "tcx" : "tc";
	*prog_id = st ? st->prog_id : 0;
}
