/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl.h - the netlink elephant needs: conntrack events and lookups
 * (NETLINK_NETFILTER, ctnetlink) and links, addresses and netns ids
 * (NETLINK_ROUTE). Raw sockets, no library.
 */
#ifndef ELEPHANT_NL_H
#define ELEPHANT_NL_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/netlink.h>
#include <net/if.h>

#include "elephant.h"

/* ---- ctnetlink ---- */

struct ct_msg {
	bool destroy;		/* IPCTNL_MSG_CT_DELETE, else NEW/UPDATE */
	bool has_counters;
	struct el_key key;
	__u64 bytes[2];
	__u64 packets[2];
};

/* Socket subscribed to conntrack NEW (if @new) and DESTROY events. */
int ctnl_open_events(bool new);
/*
 * Parse one ctnetlink message. Returns 1 for a TCP/UDP entry, 0 for anything
 * else (other protocols, errors, done), -EINVAL when malformed.
 */
int ctnl_parse(const struct nlmsghdr *nh, struct ct_msg *m);
/* Whether conntrack still has the entry: 1 yes, 0 no, negative errno. */
int ctnl_exists(const struct el_key *key);
/*
 * Whether conntrack tracks @family (AF_INET, AF_INET6) in this netns: the
 * hooks are registered only once a rule asks for them. Probed with one UDP
 * datagram over loopback, whose entry is then deleted. 1 yes, 0 no, or a
 * negative errno (cannot tell: no loopback address, lo down).
 */
int ctnl_active(int family);

/* ---- rtnetlink ---- */

struct nl_link {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[16];		/* "veth", "bridge", ... ("" if none) */
	int master;		/* bridge (or other master) ifindex, 0 none */
	int link_netnsid;	/* peer netns id (veth), -1 none */
	bool up;
	bool has_addr;		/* carries an IPv4 or global IPv6 address */
};

/* All links of the current netns; *links is malloc'ed. Returns the count. */
int rtnl_links(struct nl_link **links);
/* The id the current netns gives the netns of @fd, -1 if none, or -errno. */
int rtnl_nsid(int fd);
/*
 * Number of tc filters (of any kind, any chain) on @ifindex under @parent,
 * e.g. TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS); or a negative errno.
 */

/* Socket subscribed to link changes. */
int rtnl_open_link_monitor(void);

/* Read and discard what is pending on a monitor socket; 1 if anything came. */
int nl_drain(int fd);

#endif /* ELEPHANT_NL_H */
