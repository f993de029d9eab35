// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - raw netlink for elephant: ctnetlink events and GET, rtnetlink link
 * and address dumps, netns ids.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include "common.h"
#include "nl.h"

/* ---- attribute helpers ---- */

static void parse_attrs(struct nlattr **tb, int max, const void *data, int len)
{
	const struct nlattr *a = data;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	while (len >= (int)sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = (struct nlattr *)a;
		len -= NLA_ALIGN(a->nla_len);
		a = (const void *)a + NLA_ALIGN(a->nla_len);
	}
}

static void *nla_data(const struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

static int nla_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* A string attribute into @out (@size bytes), cut at its length or NUL. */
static void nla_strcpy(char *out, size_t size, const struct nlattr *a)
{
	size_t n = nla_len(a) < 0 ? 0 : (size_t)nla_len(a);

	if (n > size - 1)
		n = size - 1;
	memcpy(out, nla_data(a), n);
	out[n] = '\0';
}

/* A 32-bit attribute into @out; false (and @out unchanged) if it is short. */
static bool nla_u32(const struct nlattr *a, void *out)
{
	if (!a || nla_len(a) < 4)
		return false;
	memcpy(out, nla_data(a), 4);
	return true;
}

static void parse_nested(struct nlattr **tb, int max, const struct nlattr *a)
{
	parse_attrs(tb, max, nla_data(a), nla_len(a));
}

static __u64 be64(const struct nlattr *a)
{
	__u64 v;

	if (nla_len(a) < 8)
		return 0;
	memcpy(&v, nla_data(a), 8);
	return be64toh(v);
}

static __u16 be16(const struct nlattr *a)
{
	__u16 v;

	if (nla_len(a) < 2)
		return 0;
	memcpy(&v, nla_data(a), 2);
	return ntohs(v);
}

/* ---- ctnetlink ---- */

int ctnl_open_events(bool new)
{
	unsigned int groups = NF_NETLINK_CONNTRACK_DESTROY;

	if (new)
		groups |= NF_NETLINK_CONNTRACK_NEW;
	return bn_nl_socket(NETLINK_NETFILTER, groups);
}

static int parse_tuple(const struct nlattr *a, struct el_key *key)
{
	struct nlattr *tb[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1], *pr[CTA_PROTO_MAX + 1];

	parse_nested(tb, CTA_TUPLE_MAX, a);
	if (!tb[CTA_TUPLE_IP] || !tb[CTA_TUPLE_PROTO])
		return -EINVAL;
	parse_nested(ip, CTA_IP_MAX, tb[CTA_TUPLE_IP]);
	parse_nested(pr, CTA_PROTO_MAX, tb[CTA_TUPLE_PROTO]);
	if (ip[CTA_IP_V4_SRC] && ip[CTA_IP_V4_DST] && nla_len(ip[CTA_IP_V4_SRC]) >= 4 &&
	    nla_len(ip[CTA_IP_V4_DST]) >= 4) {
		key->t.family = AF_INET;
		memcpy(key->t.saddr, nla_data(ip[CTA_IP_V4_SRC]), 4);
		memcpy(key->t.daddr, nla_data(ip[CTA_IP_V4_DST]), 4);
	} else if (ip[CTA_IP_V6_SRC] && ip[CTA_IP_V6_DST] && nla_len(ip[CTA_IP_V6_SRC]) >= 16 &&
		   nla_len(ip[CTA_IP_V6_DST]) >= 16) {
		key->t.family = AF_INET6;
		memcpy(key->t.saddr, nla_data(ip[CTA_IP_V6_SRC]), 16);
		memcpy(key->t.daddr, nla_data(ip[CTA_IP_V6_DST]), 16);
	} else {
		return -EINVAL;
	}
	if (!pr[CTA_PROTO_NUM] || nla_len(pr[CTA_PROTO_NUM]) < 1)
		return -EINVAL;
	key->t.proto = *(__u8 *)nla_data(pr[CTA_PROTO_NUM]);
	if (pr[CTA_PROTO_SRC_PORT])
		key->t.sport = be16(pr[CTA_PROTO_SRC_PORT]);
	if (pr[CTA_PROTO_DST_PORT])
		key->t.dport = be16(pr[CTA_PROTO_DST_PORT]);
	return 0;
}

static void parse_counters(const struct nlattr *a, __u64 *bytes, __u64 *packets)
{
	struct nlattr *tb[CTA_COUNTERS_MAX + 1];

	parse_nested(tb, CTA_COUNTERS_MAX, a);
	if (tb[CTA_COUNTERS_BYTES])
		*bytes = be64(tb[CTA_COUNTERS_BYTES]);
	if (tb[CTA_COUNTERS_PACKETS])
		*packets = be64(tb[CTA_COUNTERS_PACKETS]);
}

int ctnl_parse(const struct nlmsghdr *nh, struct ct_msg *m)
{
	struct nlattr *tb[CTA_MAX + 1];
	int type, len;

	if (NFNL_SUBSYS_ID(nh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK)
		return 0;
	type = NFNL_MSG_TYPE(nh->nlmsg_type);
	if (type != IPCTNL_MSG_CT_NEW && type != IPCTNL_MSG_CT_DELETE)
		return 0;
	len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct nfgenmsg));
	if (len < 0)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->destroy = type == IPCTNL_MSG_CT_DELETE;
	parse_attrs(tb, CTA_MAX, (char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct nfgenmsg)),
		    len);
	if (!tb[CTA_TUPLE_ORIG] || parse_tuple(tb[CTA_TUPLE_ORIG], &m->key))
		return -EINVAL;
	if (m->key.t.proto != IPPROTO_TCP && m->key.t.proto != IPPROTO_UDP)
		return 0;
	if (tb[CTA_ZONE])
		m->key.zone = be16(tb[CTA_ZONE]);
	if (tb[CTA_COUNTERS_ORIG] && tb[CTA_COUNTERS_REPLY]) {
		m->has_counters = true;
		parse_counters(tb[CTA_COUNTERS_ORIG], &m->bytes[0], &m->packets[0]);
		parse_counters(tb[CTA_COUNTERS_REPLY], &m->bytes[1], &m->packets[1]);
	}
	return 1;
}

struct nlbuf {
	char *p;
	int len;
	int cap;
};

static struct nlattr *put(struct nlbuf *b, int type, const void *data, int len)
{
	struct nlattr *a = (struct nlattr *)(b->p + b->len);

	if (b->len + NLA_ALIGN(NLA_HDRLEN + len) > b->cap)
		return NULL;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy(nla_data(a), data, len);
	b->len += NLA_ALIGN(a->nla_len);
	return a;
}

static void nest_end(struct nlbuf *b, struct nlattr *a)
{
	a->nla_len = b->p + b->len - (char *)a;
}

/* A ctnetlink request of @type (GET, DELETE) for @key; 0 or a negative errno. */
static int ctnl_req(const struct el_key *key, int type)
{
	char msg[512] __attribute__((aligned(8))) = {};
	struct nlmsghdr *nh = (struct nlmsghdr *)msg;
	struct nfgenmsg *g;
	struct nlattr *tup, *ip, *pr;
	struct nlbuf b;
	__u16 port, zone;
	int fd, err;

	nh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	g = NLMSG_DATA(nh);
	g->nfgen_family = key->t.family;
	g->version = NFNETLINK_V0;
	b.p = msg;
	b.len = NLMSG_LENGTH(sizeof(*g));
	b.cap = sizeof(msg);
	tup = put(&b, CTA_TUPLE_ORIG | NLA_F_NESTED, NULL, 0);
	ip = put(&b, CTA_TUPLE_IP | NLA_F_NESTED, NULL, 0);
	if (key->t.family == AF_INET) {
		put(&b, CTA_IP_V4_SRC, key->t.saddr, 4);
		put(&b, CTA_IP_V4_DST, key->t.daddr, 4);
	} else {
		put(&b, CTA_IP_V6_SRC, key->t.saddr, 16);
		put(&b, CTA_IP_V6_DST, key->t.daddr, 16);
	}
	nest_end(&b, ip);
	pr = put(&b, CTA_TUPLE_PROTO | NLA_F_NESTED, NULL, 0);
	put(&b, CTA_PROTO_NUM, &key->t.proto, 1);
	port = htons(key->t.sport);
	put(&b, CTA_PROTO_SRC_PORT, &port, 2);
	port = htons(key->t.dport);
	put(&b, CTA_PROTO_DST_PORT, &port, 2);
	nest_end(&b, pr);
	nest_end(&b, tup);
	zone = htons(key->zone);
	put(&b, CTA_ZONE, &zone, 2);
	nh->nlmsg_len = b.len;

	fd = bn_nl_socket(NETLINK_NETFILTER, 0);
	if (fd < 0)
		return fd;
	err = bn_nl_talk(fd, nh, NULL, NULL);
	close(fd);
	return err;
}

int ctnl_exists(const struct el_key *key)
{
	int err = ctnl_req(key, IPCTNL_MSG_CT_GET);

	if (err == -ENOENT)
		return 0;
	return err ? err : 1;
}

/* The loopback address of @family, port 0, into @ss. */
static socklen_t loopback(int family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	}
	((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
	((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
	return sizeof(struct sockaddr_in6);
}

/* Bind a UDP socket of @family to loopback; its address into @ss. */
static int lo_socket(int family, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	*len = loopback(family, ss);
	if (bind(fd, (struct sockaddr *)ss, *len) || getsockname(fd, (struct sockaddr *)ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int ctnl_active(int family)
{
	struct sockaddr_storage src, dst;
	struct el_key key = {};
	socklen_t slen, dlen;
	int rx, tx, err;

	rx = lo_socket(family, &dst, &dlen);
	if (rx < 0)
		return rx;
	tx = lo_socket(family, &src, &slen);
	if (tx < 0) {
		close(rx);
		return tx;
	}
	err = sendto(tx, "", 1, 0, (struct sockaddr *)&dst, dlen) < 0 ? -errno : 0;
	close(tx);
	close(rx);
	if (err)
		return err;
	key.t.family = family;
	key.t.proto = IPPROTO_UDP;
	if (family == AF_INET) {
		memcpy(key.t.saddr, &((struct sockaddr_in *)&src)->sin_addr, 4);
		memcpy(key.t.daddr, &((struct sockaddr_in *)&dst)->sin_addr, 4);
		key.t.sport = ntohs(((struct sockaddr_in *)&src)->sin_port);
		key.t.dport = ntohs(((struct sockaddr_in *)&dst)->sin_port);
	} else {
		memcpy(key.t.saddr, &((struct sockaddr_in6 *)&src)->sin6_addr, 16);
		memcpy(key.t.daddr, &((struct sockaddr_in6 *)&dst)->sin6_addr, 16);
		key.t.sport = ntohs(((struct sockaddr_in6 *)&src)->sin6_port);
		key.t.dport = ntohs(((struct sockaddr_in6 *)&dst)->sin6_port);
	}
	err = ctnl_exists(&key);
	if (err == 1)
		ctnl_req(&key, IPCTNL_MSG_CT_DELETE);	/* the probe leaves nothing */
	return err;
}

/* ---- rtnetlink ---- */

struct links_ctx {
	struct nl_link *links;
	int n, cap;
};

static int link_cb(const struct nlmsghdr *nh, void *arg)
{
	struct links_ctx *c = arg;
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	struct nl_link *l;
	int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));

	if (nh->nlmsg_type != RTM_NEWLINK || len < 0)
		return 0;
	if (c->n == c->cap) {
		void *p = realloc(c->links, (c->cap * 2 + 16) * sizeof(*l));

		if (!p)
			return -ENOMEM;
		c->links = p;
		c->cap = c->cap * 2 + 16;
	}
	l = &c->links[c->n++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->up = ifi->ifi_flags & IFF_UP;
	l->link_netnsid = -1;
	parse_attrs(tb, IFLA_MAX, (char *)ifi + NLMSG_ALIGN(sizeof(*ifi)), len);
	if (tb[IFLA_IFNAME])
		nla_strcpy(l->name, sizeof(l->name), tb[IFLA_IFNAME]);
	nla_u32(tb[IFLA_MASTER], &l->master);
	nla_u32(tb[IFLA_LINK_NETNSID], &l->link_netnsid);
	if (tb[IFLA_LINKINFO]) {
		parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO]);
		if (li[IFLA_INFO_KIND])
			nla_strcpy(l->kind, sizeof(l->kind), li[IFLA_INFO_KIND]);
	}
	return 0;
}

static int addr_cb(const struct nlmsghdr *nh, void *arg)
{
	struct links_ctx *c = arg;
	struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	int i;

	if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	if (ifa->ifa_family == AF_INET6 && ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->links[i].ifindex == (int)ifa->ifa_index)
			c->links[i].has_addr = true;
	return 0;
}

static int rtnl_dump(int type, int family, int (*cb)(const struct nlmsghdr *, void *), void *arg)
{
	struct {
		struct nlmsghdr nh;
		union {
			struct ifinfomsg ifi;
			struct ifaddrmsg ifa;
		};
	} req = {};
	int fd, err;

	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (type == RTM_GETLINK) {
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
		req.ifi.ifi_family = family;
	} else {
		req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifa));
		req.ifa.ifa_family = family;
	}
	fd = bn_nl_socket(NETLINK_ROUTE, 0);
	if (fd < 0)
		return fd;
	err = bn_nl_talk(fd, &req.nh, cb, arg);
	close(fd);
	return err;
}

int rtnl_links(struct nl_link **links)
{
	struct links_ctx c = {};
	int err;

	err = rtnl_dump(RTM_GETLINK, AF_UNSPEC, link_cb, &c);
	if (!err)
		err = rtnl_dump(RTM_GETADDR, AF_UNSPEC, addr_cb, &c);
	if (err) {
		free(c.links);
		return err;
	}
	*links = c.links;
	return c.n;
}

static int nsid_cb(const struct nlmsghdr *nh, void *arg)
{
	struct nlattr *tb[NETNSA_MAX + 1];
	struct rtgenmsg *g = NLMSG_DATA(nh);
	int len = nh->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));

	if (nh->nlmsg_type != RTM_NEWNSID || len < 0)
		return 0;
	parse_attrs(tb, NETNSA_MAX, (char *)g + NLMSG_ALIGN(sizeof(*g)), len);
	nla_u32(tb[NETNSA_NSID], arg);
	return 0;
}

int rtnl_nsid(int nsfd)
{
	char msg[64] __attribute__((aligned(8))) = {};
	struct nlmsghdr *nh = (struct nlmsghdr *)msg;
	struct rtgenmsg *g;
	struct nlbuf b;
	int fd, err, nsid = -1;
	__u32 v = nsfd;

	nh->nlmsg_type = RTM_GETNSID;
	nh->nlmsg_flags = NLM_F_REQUEST;
	g = NLMSG_DATA(nh);
	g->rtgen_family = AF_UNSPEC;
	b.p = msg;
	b.len = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*g)));
	b.cap = sizeof(msg);
	put(&b, NETNSA_FD, &v, 4);
	nh->nlmsg_len = b.len;
	fd = bn_nl_socket(NETLINK_ROUTE, 0);
	if (fd < 0)
		return fd;
	err = bn_nl_talk(fd, nh, nsid_cb, &nsid);
	close(fd);
	return err ? err : nsid;
}

int rtnl_open_link_monitor(void)
{
	return bn_nl_socket(NETLINK_ROUTE, RTMGRP_LINK);
}

int nl_drain(int fd)
{
	char buf[8192];
	int got = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		/* ENOBUFS: messages were lost, which is news too */
		if (n > 0 || (n < 0 && errno == ENOBUFS))
			got = 1;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	return got;
}
