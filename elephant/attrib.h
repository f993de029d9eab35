/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attrib.h - where a flow belongs: its entry interface (the bridge port for
 * flows seen on a bridge), its network namespace and its workload.
 *
 * Attribution may list links (netlink dumps) and enter every named netns
 * (setns) to learn addresses: never call it from a ring buffer callback.
 */
#ifndef ELEPHANT_ATTRIB_H
#define ELEPHANT_ATTRIB_H

#include <stdint.h>
#include <net/if.h>

#include "elephant.h"
#include "footprint.h"
#include "nl.h"

struct el_ns {
	char name[EL_NAME_MAX];
	uint64_t ino;
	int nsid;
};

struct el_owner {
	uint8_t family;
	uint8_t addr[16];
	int ns;				/* index into ns[] */
};

struct el_attrib {
	/* set by the caller before at_init() */
	const struct el_label *labels;
	int nlabels;
	const char *node;		/* the workload of flows nothing else claims */
	/* the netns elephant runs in */
	uint64_t self_ino;
	char self_name[EL_NAME_MAX];	/* "" if ip netns does not name it */
	/* named netns, workload addresses and links, as of @refreshed */
	struct el_ns *ns;
	int nns;
	struct el_owner *owners;
	int nowners;
	struct nl_link *links;
	int nlinks;
	uint64_t refreshed;		/* CLOCK_MONOTONIC ns */
};

/* Where a flow belongs. */
struct el_who {
	char iface[IF_NAMESIZE];	/* entry interface, "-" unknown */
	uint64_t ns_ino;		/* workload netns inode, 0: the node's own */
	int wl;				/* workload index in the footprint */
};

/* Learn the own netns and the workload namespaces; 0 or a negative errno. */
int at_init(struct el_attrib *a);
void at_free(struct el_attrib *a);
/* Attribute @f (key @k) into @who, creating its workload in @fp; -ENOMEM. */
int at_flow(struct el_attrib *a, struct el_fp *fp, const struct el_key *k,
	    const struct el_flow *f, struct el_who *who);
/* Name of the netns with inode @ino ("" if ip netns does not know it). */
const char *at_ns_name(const struct el_attrib *a, uint64_t ino);

#endif /* ELEPHANT_ATTRIB_H */
