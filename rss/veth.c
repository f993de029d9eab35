// SPDX-License-Identifier: GPL-2.0
/*
 * veth.c - replies sent into a veth: the peer must take XDP frames (NAPI:
 * GRO or an XDP program on it), else the veth drops every one. Found at
 * start from the interface's XDP features (netdev generic netlink, 6.3+:
 * a veth offers ndo_xdp_xmit only when its peer can take the frames) and
 * the peer's name and XDP program from rtnetlink; the drops themselves are
 * counted by the xdp tracepoints (stats.c, drop_reply).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/types.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

/* linux/netdev.h (6.3) is not in Debian 12's headers */
#define NETDEV_CMD_DEV_GET		1
#define NETDEV_A_DEV_IFINDEX		1
#define NETDEV_A_DEV_XDP_FEATURES	3
#define NETDEV_XDP_ACT_NDO_XMIT		4

#define NL_BUF	16384

/* One request, its one answer into @buf; the answer's length or -errno. */
static int nl_ask(int proto, struct nlmsghdr *req, char *buf, size_t len)
{
	struct timeval tv = { .tv_sec = 2 };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int fd, n, err = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	req->nlmsg_flags = NLM_F_REQUEST;
	req->nlmsg_seq = 1;
	if (send(fd, req, req->nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, len, 0);
	if (n < 0) {
		err = -errno;
	} else if (!NLMSG_OK(nh, (unsigned int)n)) {
		err = -EBADMSG;
	} else if (nh->nlmsg_type == NLMSG_ERROR) {
		err = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) ?
		      ((struct nlmsgerr *)NLMSG_DATA(nh))->error : -EBADMSG;
		if (!err)
			err = -ENOMSG;
	} else {
		err = n;
	}
out:
	close(fd);
	return err;
}

/* Append attribute @type of @len bytes to @nh (room checked by the caller). */
static void nl_put(struct nlmsghdr *nh, __u16 type, const void *data, __u16 len)
{
	struct nlattr *a = (void *)nh + NLMSG_ALIGN(nh->nlmsg_len);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* The attribute @type among the @len bytes at @p, or NULL; its payload size. */
static void *nl_find(void *p, int len, __u16 type, int *size)
{
	struct nlattr *a;

	while (len >= NLA_HDRLEN) {
		a = p;
		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type) {
			*size = a->nla_len - NLA_HDRLEN;
			return (char *)a + NLA_HDRLEN;
		}
		len -= NLA_ALIGN(a->nla_len);
		p = (char *)p + NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

/* RTM_GETLINK of @ifindex (in netns @nsid if >= 0): the attributes in @buf. */
static void *get_link(int ifindex, int nsid, char *buf, int *len)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req = {};
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int n;

	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.ifi));
	req.ifi.ifi_index = ifindex;
	if (nsid >= 0)
		nl_put(&req.nh, IFLA_TARGET_NETNSID, &nsid, sizeof(nsid));
	n = nl_ask(NETLINK_ROUTE, &req.nh, buf, NL_BUF);
	if (n < 0 || nh->nlmsg_type != RTM_NEWLINK ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)) || nh->nlmsg_len > (unsigned int)n)
		return NULL;
	*len = nh->nlmsg_len - NLMSG_SPACE(sizeof(struct ifinfomsg));
	return (char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct ifinfomsg));
}

/*
 * One generic netlink request: command @cmd of @family with one attribute
 * (@in_type, @in of @in_len bytes); the answer's attribute @out_type, of
 * exactly @out_len bytes, into @out. 0 or -errno.
 */
static int genl_ask(__u16 family, __u8 cmd, __u16 in_type, const void *in, __u16 in_len,
		    __u16 out_type, void *out, int out_len)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr g;
		char attrs[64];
	} req = {};
	char buf[NL_BUF], *p;
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	int n, size;

	req.nh.nlmsg_type = family;
	req.nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	req.g.cmd = cmd;
	req.g.version = 1;
	nl_put(&req.nh, in_type, in, in_len);
	n = nl_ask(NETLINK_GENERIC, &req.nh, buf, sizeof(buf));
	if (n < 0)
		return n;
	p = nl_find((char *)NLMSG_DATA(nh) + GENL_HDRLEN,
		    nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN), out_type, &size);
	if (!p || size != out_len)
		return -ENOENT;
	memcpy(out, p, out_len);
	return 0;
}

/* XDP features of @ifindex (netdev genetlink); -errno where unknown. */
static int xdp_features(int ifindex, __u64 *features)
{
	__u32 ifx = ifindex;
	__u16 family;
	int err;

	err = genl_ask(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, "netdev", 7,
		       CTRL_ATTR_FAMILY_ID, &family, sizeof(family));
	if (!err)
		err = genl_ask(family, NETDEV_CMD_DEV_GET, NETDEV_A_DEV_IFINDEX, &ifx, sizeof(ifx),
			       NETDEV_A_DEV_XDP_FEATURES, features, sizeof(*features));
	return err;
}

void veth_check(const char *iface, int ifindex)
{
	char buf[NL_BUF], peer_name[IF_NAMESIZE + 1] = "?", *p, *info;
	int len, size, isize, nsid = -1;
	__u32 peer = 0;
	__u64 feat;

	p = get_link(ifindex, -1, buf, &len);
	if (!p)
		return;
	info = nl_find(p, len, IFLA_LINKINFO, &isize);
	if (!info || !(info = nl_find(info, isize, IFLA_INFO_KIND, &size)) ||
	    strncmp(info, "veth", size))
		return;
	if ((info = nl_find(p, len, IFLA_LINK, &size)) && size == 4)
		memcpy(&peer, info, 4);
	if ((info = nl_find(p, len, IFLA_LINK_NETNSID, &size)) && size == 4)
		memcpy(&nsid, info, 4);
	if (xdp_features(ifindex, &feat)) {
		bn_info("cannot read the XDP features of %s (kernel before 6.3?): not checking "
			"that its veth peer takes XDP frames", iface);
		return;
	}
	if (feat & NETDEV_XDP_ACT_NDO_XMIT)
		return;
	/* the peer's name, for the message (a veth always has one) */
	if (peer && (p = get_link(peer, nsid, buf, &len)) &&
	    (info = nl_find(p, len, IFLA_IFNAME, &size)) && size > 0) {
		snprintf(peer_name, sizeof(peer_name), "%.*s", size, info);
		/* a name is bytes: nothing but printable ASCII on the terminal */
		for (p = peer_name; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				*p = '?';
	}
	if (!feat)	/* the peer has more tx queues than we have rx queues */
		bn_warn("%s is a veth that cannot send XDP frames to its peer %s%s (more queues "
			"there than here?): it drops every reply (counted in drop_reply)",
			iface, peer_name, nsid >= 0 ? " (in another network namespace)" : "");
	else
		bn_warn("%s is a veth whose peer %s%s has neither GRO nor an XDP program: it "
			"drops every reply (counted in drop_reply); fix: ethtool -K %s gro on",
			iface, peer_name, nsid >= 0 ? " (in another network namespace)" : "",
			peer_name);
}
