/* SPDX-License-Identifier: GPL-2.0 */
/*
 * category.h - the breakdown categories of a stack sample, and folded-stack
 * aggregation for netcost --breakdown/--folded.
 */
#ifndef NETCOST_CATEGORY_H
#define NETCOST_CATEGORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum nc_cat {
	NC_CAT_DRIVER,		/* driver, NAPI poll, receive core */
	NC_CAT_GRO,
	NC_CAT_XDP,
	NC_CAT_TC,		/* tc classifiers and actions */
	NC_CAT_NETFILTER,	/* hooks, conntrack, NAT, iptables/nftables */
	NC_CAT_BRIDGE,
	NC_CAT_IP_FORWARD,
	NC_CAT_IP_LOCAL,	/* IP receive, routing input, local deliver */
	NC_CAT_TCP,
	NC_CAT_UDP,
	NC_CAT_SOCK_COPY,	/* copies between socket buffers and user memory */
	NC_CAT_XMIT,		/* IP output, neighbour, qdisc, device xmit */
	NC_CAT_OTHER,
	NC_CAT_NR,
};

const char *nc_cat_name(int cat);

/* ---- categories ---- */

/* Category of one frame, or -1 if the frame says nothing (helpers, locks, ...). */
int nc_frame_cat(const char *name, const char *module);
#define NC_STACK_FRAMES	256	/* frames of a stack looked at, from the leaf */

/*
 * Category of a stack, @names/@modules leaf first: the first frame, from the
 * leaf up, that belongs to a category. JITed BPF programs take the category
 * of what ran them (tc, XDP, tracing). NC_CAT_OTHER if no frame says.
 */
int nc_stack_cat(const char *const *names, const char *const *modules, int n);

/* One frame, classified once (netcost caches it per address). */
struct nc_frame {
	int cat;		/* nc_frame_cat() */
	bool bpf;		/* a JITed BPF program */
};

void nc_frame_class(const char *name, const char *module, struct nc_frame *f);
/* nc_stack_cat() over classified frames, leaf first. */
int nc_stack_cat_frames(const struct nc_frame *frames, int n);

/* ---- folded stacks: "a;b;c count" lines, root first ---- */

struct nc_folded_ent {
	char *key;
	uint64_t count;
};

struct nc_folded {
	struct nc_folded_ent *tab;
	size_t cap, n;
};

int nc_folded_add(struct nc_folded *f, const char *stack, uint64_t count);
/* Write every stack, sorted, as "stack count\n". Returns 0 or -errno. */
int nc_folded_write(const struct nc_folded *f, FILE *out);
void nc_folded_free(struct nc_folded *f);

#endif /* NETCOST_CATEGORY_H */
