// SPDX-License-Identifier: GPL-2.0
/*
 * tc.c - the tc backend's attachments and zones, and the run file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/pkt_sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "nl.h"
#include "tc.h"

#define EL_TC_HANDLE	0xe1e
#define EL_TC_PRIO	0xe1e
#define EL_TC_PROG	"el_tc_ingress"	/* its program's name, as the kernel keeps it */
#define RUN_DIR		"/run/bpfnet"
#define SYSCTL_ACCT	"net/netfilter/nf_conntrack_acct"
#define SYSCTL_EVENTS	"net/netfilter/nf_conntrack_events"

static int sysctl_set(const char *path, const char *val, char *orig, size_t len, bool *set)
{
	int err;

	err = bn_sysctl_read(path, orig, len);
	if (err)
		return err;
	if (!strcmp(orig, val))
		return 0;
	err = bn_sysctl_write(path, val);
	if (!err)
		*set = true;
	return err;
}

/*
 * Remove elephant's filter from @ifindex, and the clsact qdisc if elephant
 * created it (@created) and no other filter is left on it, ingress or
 * egress: what other tools attached meanwhile stays.
 */
static void tc_detach_one(int ifindex, const char *name, bool created)
{
	struct bn_tc t = { .ifindex = ifindex, .handle = EL_TC_HANDLE, .prio = EL_TC_PRIO,
			   .created = created };

	if (strlen(name) >= sizeof(t.dev))
		return;		/* no interface has that name */
	strcpy(t.dev, name);
	bn_tc_detach(&t, 0, EL_TC_PROG);
}

/*
 * The run file records what this elephant changed, so that the next start
 * after a kill -9 can undo it: written to a new file renamed over the old
 * one (bn_wfile_*), first line the netns it belongs to.
 */
static void run_file_write(struct el_tc *t)
{
	struct bn_wfile w;
	int i, err;

	if (!t->locked)
		return;
	err = bn_wfile_open(&w, t->run_file, 0600);
	if (err)
		goto fail;
	fprintf(w.f, "netns %" PRIu64 " %" PRIu64 "\n", t->ns_cookie, t->ns_ino);
	fprintf(w.f, "pid %d\n", getpid());
	if (t->acct_set)
		fprintf(w.f, "sysctl " SYSCTL_ACCT " %s\n", t->acct_orig);
	if (t->events_set)
		fprintf(w.f, "sysctl " SYSCTL_EVENTS " %s\n", t->events_orig);
	for (i = 0; i < t->natt; i++)
		fprintf(w.f, "tc %d %s %d\n", t->att[i].ifindex, t->att[i].name,
			t->att[i].created);
	err = bn_wfile_commit(&w);
	if (!err)
		return;
fail:
	if (!t->run_warned)
		bn_warn("cannot write %s: %s; a kill -9 would leave tc filters attached",
			t->run_file, strerror(-err));
	t->run_warned = true;
}

/*
 * Restore a sysctl a killed elephant changed, if it still holds what
 * elephant set ("1"): a value someone set since is theirs.
 */
static void stale_sysctl(const char *path, const char *val)
{
	char now[16];
	uint64_t v;

	/* only what run_file_write() writes: the two sysctls, 0..2 */
	if ((strcmp(path, SYSCTL_ACCT) && strcmp(path, SYSCTL_EVENTS)) ||
	    bn_parse_u64(val, 0, 2, &v))
		return;
	if (!bn_sysctl_read(path, now, sizeof(now)) && !strcmp(now, "1"))
		bn_sysctl_write(path, val);
}

/*
 * A run file left by a killed elephant in this netns (we hold the lock, so
 * nobody else runs here): undo what it did. A record of another netns (its
 * first line names it) is never applied; a tc record only to the interface
 * with that index *and* name, and only to elephant's program there.
 */
static void run_file_recover(struct el_tc *t)
{
	char line[256], name[IF_NAMESIZE + 1], path[128], val[32];
	int pid = 0, ifindex, created, n = 0;
	uint64_t cookie, ino;
	bool mine = false;
	FILE *f;

	if (bn_rfile_open(t->run_file, &f))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "netns %" SCNu64 " %" SCNu64, &cookie, &ino) == 2) {
			mine = cookie == t->ns_cookie && ino == t->ns_ino;
			if (!mine)
				break;
		} else if (!mine) {
			break;	/* no netns line first: not a record to trust */
		} else if (sscanf(line, "pid %d", &pid) == 1) {
			continue;
		} else if (sscanf(line, "sysctl %127s %31s", path, val) == 2) {
			stale_sysctl(path, val);
		} else if (sscanf(line, "tc %d %16s %d", &ifindex, name, &created) == 3) {
			tc_detach_one(ifindex, name, created);
			n++;
		}
	}
	fclose(f);
	unlink(t->run_file);
	if (!mine)
		bn_info("ignored %s: not a record of this network namespace", t->run_file);
	else if (n)
		bn_info("removed %d stale tc attachment(s) of a previous elephant (pid %d)", n,
			pid);
}

/*
 * This netns, by something the kernel never reuses: its cookie (5.14+).
 * Without it, its inode (reused once the netns is gone): then the checks of
 * run_file_recover() are what keep a stale record off another netns.
 */
static void netns_id(struct el_tc *t, uint64_t netns_ino)
{
	socklen_t len = sizeof(t->ns_cookie);
	int fd;

	t->ns_ino = netns_ino;
	t->ns_cookie = 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &t->ns_cookie, &len))
			t->ns_cookie = 0;
		close(fd);
	}
	if (t->ns_cookie)
		snprintf(t->key, sizeof(t->key), "netns%" PRIu64, t->ns_cookie);
	else
		snprintf(t->key, sizeof(t->key), "ino%" PRIu64, netns_ino);
}

/* /run/bpfnet: a directory of ours that nobody else can write into. */
static int run_dir(void)
{
	struct stat st;

	if (mkdir(RUN_DIR, 0755) && errno != EEXIST)
		return -errno;
	if (lstat(RUN_DIR, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

/* The pid a lock holder wrote into @fd, waiting up to 1 s for it; 0 unknown. */
static int lock_holder(int fd)
{
	char buf[16];
	uint64_t pid;
	ssize_t n;
	int i;

	for (i = 0; i < 100; i++) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (!bn_parse_u64(buf, 1, INT32_MAX, &pid))
				return pid;
		}
		usleep(10000);
	}
	return 0;
}

/*
 * Take the lock of this netns for the whole run: flock on the lock file,
 * created without following links. Whoever holds it is the one elephant
 * here. The file locked must still be the one at the path: an exiting
 * elephant unlinks it while it holds the lock.
 */
static int run_lock(struct el_tc *t)
{
	struct stat st, now;
	int fd = -1, i, err, holder;
	char pid[16];

	for (i = 0; i < 16 && fd < 0; i++) {
		fd = open(t->lock_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			close(fd);
			return -EPERM;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			err = -errno;
			holder = err == -EWOULDBLOCK ? lock_holder(fd) : 0;
			close(fd);
			if (err != -EWOULDBLOCK)
				return err;
			if (holder)
				bn_err("another elephant runs in this network namespace (pid %d)",
				       holder);
			else
				bn_err("another elephant runs in this network namespace");
			return -EBUSY;
		}
		if (lstat(t->lock_file, &now) || now.st_dev != st.st_dev ||
		    now.st_ino != st.st_ino) {
			close(fd);	/* unlinked by the one that held it: again */
			fd = -1;
		}
	}
	if (fd < 0)
		return -EAGAIN;
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	t->lock_fd = fd;
	t->locked = true;
	return 0;
}

int tc_run_open(struct el_tc *t, uint64_t netns_ino)
{
	int err;

	t->locked = false;
	netns_id(t, netns_ino);
	snprintf(t->run_file, sizeof(t->run_file), RUN_DIR "/elephant-%s.run", t->key);
	snprintf(t->lock_file, sizeof(t->lock_file), RUN_DIR "/elephant-%s.lock", t->key);
	err = run_dir();
	if (!err)
		err = run_lock(t);
	if (err == -EBUSY)
		return err;
	if (err) {
		bn_err("cannot lock %s: %s", t->lock_file, strerror(-err));
		return err;
	}
	run_file_recover(t);
	return 0;
}

int tc_sysctls_set(struct el_tc *t)
{
	int err;

	err = sysctl_set(SYSCTL_ACCT, "1", t->acct_orig, sizeof(t->acct_orig), &t->acct_set);
	if (!err)
		err = sysctl_set(SYSCTL_EVENTS, "1", t->events_orig, sizeof(t->events_orig),
				 &t->events_set);
	run_file_write(t);
	return err;
}

void tc_run_close(struct el_tc *t)
{
	if (!t->locked)
		return;
	if (t->acct_set)
		bn_sysctl_write(SYSCTL_ACCT, t->acct_orig);
	if (t->events_set)
		bn_sysctl_write(SYSCTL_EVENTS, t->events_orig);
	unlink(t->run_file);
	/* while we hold it: the next one locks a new file (run_lock()) */
	unlink(t->lock_file);
	close(t->lock_fd);
	t->locked = false;
}

static bool tc_skip(const struct el_tc *t, const struct nl_link *l)
{
	int i;

	if (t->nifaces) {
		for (i = 0; i < t->nifaces; i++)
			if (!strcmp(t->ifaces[i], l->name))
				return false;
		return true;
	}
	return !strcmp(l->name, "lo") || !strcmp(l->kind, "bridge");
}

static int tc_attach_one(struct el_tc *t, int ifindex, const char *name)
{
	struct bn_tc tc = { .ifindex = ifindex, .handle = EL_TC_HANDLE, .prio = EL_TC_PRIO };
	struct el_tc_att *a;
	int err, i;

	for (i = 0; i < t->natt; i++)
		if (t->att[i].ifindex == ifindex)
			return 0;
	if (t->natt == EL_MAX_TC)
		return -E2BIG;
	snprintf(tc.dev, sizeof(tc.dev), "%s", name);
	err = bn_tc_hook_create(&tc);
	if (err)
		return err;
	/* record first: a kill -9 right after attach is then still undone */
	a = &t->att[t->natt++];
	a->ifindex = ifindex;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->created = tc.created;
	run_file_write(t);
	err = bn_tc_attach(&tc, t->prog_fd);
	if (err) {
		bn_tc_detach(&tc, 0, EL_TC_PROG);
		t->natt--;
		run_file_write(t);
		return err;
	}
	bn_dbg("tc: attached to %s", name);
	return 0;
}

void tc_detach_all(struct el_tc *t)
{
	int i;

	for (i = 0; i < t->natt; i++)
		tc_detach_one(t->att[i].ifindex, t->att[i].name, t->att[i].created);
	t->natt = 0;
}

/* Forget attachments whose interface is gone; follow renames. */
static void tc_forget_gone(struct el_tc *t, const struct nl_link *links, int n)
{
	int i, j;

	for (i = 0; i < t->natt; i++) {
		for (j = 0; j < n; j++)
			if (links[j].ifindex == t->att[i].ifindex)
				break;
		if (j == n) {
			t->att[i--] = t->att[--t->natt];
			run_file_write(t);
		} else if (strcmp(links[j].name, t->att[i].name)) {
			/* renamed (container runtimes do): detach checks the name */
			snprintf(t->att[i].name, sizeof(t->att[i].name), "%s", links[j].name);
			run_file_write(t);
		}
	}
}

int tc_sync(struct el_tc *t, bool initial)
{
	struct nl_link *links;
	int n, i, err;

	n = rtnl_links(&links);
	if (n < 0)
		return n;
	tc_forget_gone(t, links, n);
	for (i = 0; i < n; i++) {
		if (tc_skip(t, &links[i]))
			continue;
		err = tc_attach_one(t, links[i].ifindex, links[i].name);
		if (err && (initial || err != -ENODEV)) {
			bn_err("cannot attach to %s: %s", links[i].name, strerror(-err));
			if (initial) {
				free(links);
				return err;
			}
		}
	}
	free(links);
	return 0;
}

void tc_zone_learn(struct el_tc *t, unsigned int zone)
{
	__u32 idx, val = zone + 1;
	int i;

	if (!zone)
		return;
	for (i = 0; i < t->nzones; i++)
		if (t->zones[i] == zone)
			return;
	if (t->ct_opts_sz < 16) {
		if (!t->zone_warned)
			bn_warn("tc backend: this kernel's bpf_skb_ct_lookup() has no zone "
				"parameter; flows in conntrack zone %u are not seen", zone);
		t->zone_warned = true;
		return;
	}
	if (t->nzones == EL_MAX_ZONES) {
		if (!t->zone_warned)
			bn_warn("tc backend: more than %d conntrack zones; zone %u not watched",
				EL_MAX_ZONES, zone);
		t->zone_warned = true;
		return;
	}
	idx = t->nzones;
	if (bpf_map_update_elem(t->zones_fd, &idx, &val, BPF_ANY)) {
		bn_warn("tc backend: cannot watch conntrack zone %u: %s", zone, strerror(errno));
		return;
	}
	t->zones[t->nzones++] = zone;
	bn_info("tc backend: watching conntrack zone %u", zone);
}
