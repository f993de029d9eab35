// SPDX-License-Identifier: GPL-2.0
/*
 * attrib.c - netns, interface and bridge port attribution of flows.
 *
 * A workload netns is a named netns (ip netns) at the far end of a veth
 * whose host end carries no address of its own (a container's port on a
 * bridge or a routed pod veth; an uplink veth with an address is not one).
 * Its addresses, learned by entering it, map a flow's tuple to it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "common.h"
#include "attrib.h"

#define NSEC		1000000000ULL
#define NETNS_DIR	"/run/netns"

static struct nl_link *link_by_index(struct el_attrib *a, int ifindex)
{
	int i;

	for (i = 0; i < a->nlinks; i++)
		if (a->links[i].ifindex == ifindex)
			return &a->links[i];
	return NULL;
}

static int add_owner(struct el_attrib *a, int family, const void *addr, int ns)
{
	struct el_owner *o;

	if (a->nowners % 64 == 0) {
		o = realloc(a->owners, (a->nowners + 64) * sizeof(*o));
		if (!o)
			return -ENOMEM;
		a->owners = o;
	}
	o = &a->owners[a->nowners++];
	memset(o, 0, sizeof(*o));
	o->family = family;
	memcpy(o->addr, addr, family == AF_INET ? 4 : 16);
	o->ns = ns;
	return 0;
}

/* Addresses of the netns at NETNS_DIR/<ns[@ns].name>, owned by ns[@ns]. */
static void collect_addrs(struct el_attrib *a, int ns, int selffd)
{
	struct ifaddrs *ifa, *p;
	char path[300];
	int fd;

	snprintf(path, sizeof(path), NETNS_DIR "/%s", a->ns[ns].name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (setns(fd, CLONE_NEWNET)) {
		close(fd);
		return;
	}
	if (!getifaddrs(&ifa)) {
		for (p = ifa; p; p = p->ifa_next) {
			struct sockaddr *sa = p->ifa_addr;

			if (sa && sa->sa_family == AF_INET)
				add_owner(a, AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ns);
			else if (sa && sa->sa_family == AF_INET6)
				add_owner(a, AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
					  ns);
		}
		freeifaddrs(ifa);
	}
	if (setns(selffd, CLONE_NEWNET))
		bn_warn("cannot return to the original network namespace: %s", strerror(errno));
	close(fd);
}

/* The named netns but our own, with the id our netns gives each. */
static void ns_list(struct el_attrib *a)
{
	struct dirent *de;
	DIR *d;

	free(a->ns);
	a->ns = NULL;
	a->nns = 0;
	d = opendir(NETNS_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300];
		struct stat st;
		void *p;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), NETNS_DIR "/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) || st.st_ino == a->self_ino) {
			close(fd);
			continue;
		}
		p = realloc(a->ns, (a->nns + 1) * sizeof(*a->ns));
		if (!p) {
			close(fd);
			break;
		}
		a->ns = p;
		snprintf(a->ns[a->nns].name, EL_NAME_MAX, "%.63s", de->d_name);
		a->ns[a->nns].ino = st.st_ino;
		a->ns[a->nns].nsid = rtnl_nsid(fd);
		close(fd);
		a->nns++;
	}
	closedir(d);
}

/* Whether ns[@ns] is a workload: the peer of an address-less veth of ours. */
static bool ns_is_workload(const struct el_attrib *a, int ns)
{
	int j;

	if (a->ns[ns].nsid < 0)
		return false;
	for (j = 0; j < a->nlinks; j++) {
		const struct nl_link *l = &a->links[j];

		if (l->link_netnsid == a->ns[ns].nsid && !strcmp(l->kind, "veth") &&
		    !l->has_addr)
			return true;
	}
	return false;
}

/* Links, named netns and the workload namespaces' addresses, anew. */
static void ns_refresh(struct el_attrib *a)
{
	int selffd, i, n;

	a->refreshed = bn_now_ns();
	free(a->links);
	a->links = NULL;
	a->nlinks = 0;
	n = rtnl_links(&a->links);
	if (n < 0) {
		bn_warn("cannot list interfaces: %s", strerror(-n));
		return;
	}
	a->nlinks = n;
	a->nowners = 0;
	ns_list(a);
	selffd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (selffd < 0)
		return;
	for (i = 0; i < a->nns; i++)
		if (ns_is_workload(a, i))
			collect_addrs(a, i, selffd);
	close(selffd);
}

int at_init(struct el_attrib *a)
{
	char path[300];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	a->self_ino = st.st_ino;
	ns_refresh(a);
	d = opendir(NETNS_DIR);
	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), NETNS_DIR "/%.100s", de->d_name);
		if (de->d_name[0] != '.' && !stat(path, &st) && st.st_ino == a->self_ino)
			snprintf(a->self_name, sizeof(a->self_name), "%.63s", de->d_name);
	}
	if (d)
		closedir(d);
	return 0;
}

void at_free(struct el_attrib *a)
{
	free(a->ns);
	free(a->owners);
	free(a->links);
	a->ns = NULL;
	a->owners = NULL;
	a->links = NULL;
	a->nns = a->nowners = a->nlinks = 0;
}

const char *at_ns_name(const struct el_attrib *a, uint64_t ino)
{
	int i;

	if (ino == a->self_ino)
		return a->self_name;
	for (i = 0; i < a->nns; i++)
		if (a->ns[i].ino == ino)
			return a->ns[i].name;
	return "";
}

static int addr_owner(const struct el_attrib *a, int family, const uint8_t *addr)
{
	int i;

	for (i = 0; i < a->nowners; i++)
		if (a->owners[i].family == family &&
		    !memcmp(a->owners[i].addr, addr, family == AF_INET ? 4 : 16))
			return a->owners[i].ns;
	return -1;
}

/* The bridge port number @mac was learned on, or -1. */
static int bridge_fdb_port(const struct nl_link *br, const uint8_t *mac)
{
	struct {
		uint8_t mac_addr[6];
		uint8_t port_no;
		uint8_t is_local;
		uint32_t ageing_timer_value;
		uint8_t port_hi;
		uint8_t pad0;
		uint16_t unused;
	} e[128];
	char path[128];
	int fd, i, port = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/brforward", br->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (port < 0 && (n = read(fd, e, sizeof(e))) > 0) {
		for (i = 0; i < (int)(n / sizeof(e[0])); i++)
			if (!memcmp(e[i].mac_addr, mac, 6) && !e[i].is_local) {
				port = e[i].port_hi << 8 | e[i].port_no;
				break;
			}
	}
	close(fd);
	return port;
}

/* The bridge port @mac was learned on, for entries seen on a bridge device. */
static bool bridge_port(const struct el_attrib *a, const struct nl_link *br,
			const uint8_t *mac, char *out)
{
	int i, port = bridge_fdb_port(br, mac);

	if (port < 0)
		return false;
	for (i = 0; i < a->nlinks; i++) {
		const struct nl_link *l = &a->links[i];
		char path[128];
		unsigned int pn;
		FILE *f;
		int ok;

		if (l->master != br->ifindex)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/brport/port_no", l->name);
		f = fopen(path, "re");
		if (!f)
			continue;
		ok = fscanf(f, "%x", &pn) == 1 && (int)pn == port;
		fclose(f);
		if (ok) {
			strcpy(out, l->name);
			return true;
		}
	}
	return false;
}

static void iface_name(struct el_attrib *a, const struct el_flow *f, int dir, char *out)
{
	struct nl_link *l;

	strcpy(out, "-");
	if (!f->ifindex[dir])
		return;
	l = link_by_index(a, f->ifindex[dir]);
	if (!l) {
		ns_refresh(a);
		l = link_by_index(a, f->ifindex[dir]);
	}
	if (!l) {
		snprintf(out, IF_NAMESIZE, "if%u", f->ifindex[dir]);
		return;
	}
	if (dir == EL_DIR_ORIG && !strcmp(l->kind, "bridge") && f->has_mac) {
		int br = l->ifindex;

		if (bridge_port(a, l, f->mac, out))
			return;
		/* a port added since the last refresh (a new container) */
		if (bn_now_ns() - a->refreshed > NSEC / 10) {
			ns_refresh(a);
			l = link_by_index(a, br);
			if (l && bridge_port(a, l, f->mac, out))
				return;
		}
		if (!l) {
			snprintf(out, IF_NAMESIZE, "if%d", br);
			return;
		}
	}
	strcpy(out, l->name);
}

static const char *label_for(const struct el_attrib *a, enum el_label_kind kind,
			     unsigned int zone, const char *iface)
{
	int i;

	for (i = 0; i < a->nlabels; i++) {
		const struct el_label *l = &a->labels[i];

		if (l->kind != kind)
			continue;
		if (kind == EL_LABEL_ZONE && l->zone == zone)
			return l->name;
		if (kind == EL_LABEL_IFACE && !strcmp(l->iface, iface))
			return l->name;
	}
	return NULL;
}

/* The workload netns owning the flow's source or destination, or -1. */
static int flow_ns(struct el_attrib *a, const struct el_key *k)
{
	int ns;

	ns = addr_owner(a, k->t.family, k->t.saddr);
	if (ns < 0)
		ns = addr_owner(a, k->t.family, k->t.daddr);
	if (ns < 0 && bn_now_ns() - a->refreshed > NSEC) {
		ns_refresh(a);
		ns = addr_owner(a, k->t.family, k->t.saddr);
		if (ns < 0)
			ns = addr_owner(a, k->t.family, k->t.daddr);
	}
	return ns;
}

int at_flow(struct el_attrib *a, struct el_fp *fp, const struct el_key *k,
	    const struct el_flow *f, struct el_who *who)
{
	char reply_if[IF_NAMESIZE], derived[EL_NAME_MAX];
	const char *name;
	int idx, ns;

	iface_name(a, f, EL_DIR_ORIG, who->iface);
	iface_name(a, f, EL_DIR_REPLY, reply_if);
	/* an index into a->ns, valid until the next ns_refresh() */
	ns = flow_ns(a, k);
	who->ns_ino = ns >= 0 ? a->ns[ns].ino : 0;
	name = label_for(a, EL_LABEL_ZONE, k->zone, NULL);
	if (!name)
		name = label_for(a, EL_LABEL_IFACE, 0, who->iface);
	if (!name)
		name = label_for(a, EL_LABEL_IFACE, 0, reply_if);
	if (!name && ns >= 0) {
		if (el_name_valid(a->ns[ns].name)) {
			name = a->ns[ns].name;
		} else {
			snprintf(derived, sizeof(derived), "netns-%" PRIu64, a->ns[ns].ino);
			name = derived;
		}
	}
	if (!name && strcmp(who->iface, "-") && el_name_valid(who->iface))
		name = who->iface;
	if (!name)	/* the node's own: its name, if it is a workload name too */
		name = el_name_valid(a->node) ? a->node : "node";
	idx = fp_get(fp, name);
	if (idx < 0)
		return idx;
	who->wl = idx;
	if (ns >= 0) {
		fp->w[idx].netns_ino = a->ns[ns].ino;
		snprintf(fp->w[idx].netns_name, EL_NAME_MAX, "%s", a->ns[ns].name);
	} else if (!fp->w[idx].netns_ino) {
		fp->w[idx].netns_ino = a->self_ino;
		snprintf(fp->w[idx].netns_name, EL_NAME_MAX, "%s", a->self_name);
	}
	return 0;
}
