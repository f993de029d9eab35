// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c - rss's scheduling configuration: CPU groups, a
 * configuration built from a spec and applied to the running programs
 * (double-buffered in .bss, the XDP program swapped through its link), and
 * the dynamic policy's group steering.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "rss.h"
#include "rss.skel.h"
#include "server.h"

static int read_online(struct rss_server *srv)
{
	char buf[512];
	FILE *f;
	int err;

	f = fopen("/sys/devices/system/cpu/online", "r");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	err = bn_parse_cpulist(buf, srv->nr_cpus, &srv->online);
	return err;
}

/*
 * The CPUs (@srv->nr_cpus, @srv->online), the default group (every online
 * CPU) and the start configuration from @spec into @base. -EIO: the CPUs
 * cannot be read; else a usage error; the message in @msg.
 */
int default_conf(struct rss_server *srv, struct policy_spec *spec, struct rss_conf *base,
		 int *min_cpus, char *msg, size_t len)
{
	int c;

	srv->nr_cpus = bn_nr_cpus();
	if (srv->nr_cpus <= 0 || srv->nr_cpus > RSS_MAX_CPUS || read_online(srv)) {
		snprintf(msg, len, "cannot read the list of cpus");
		return -EIO;
	}
	for (c = 0; c < srv->nr_cpus && base->n_cpus < RSS_MAX_GROUP; c++)
		if (bn_cpuset_has(&srv->online, c))
			base->cpus[base->n_cpus++] = c;
	if (spec->policy < 0)
		spec->policy = RSS_POL_RR;
	if (spec->policy == RSS_POL_SPLIT && !spec->cpus[0] && spec->long_cpus[0]) {
		struct bn_cpuset lset;
		__u32 i, n = 0;

		/* split without --cpus: the short group is every other online CPU */
		if (!bn_parse_cpulist(spec->long_cpus, BN_MAX_CPUS, &lset)) {
			for (i = 0; i < base->n_cpus; i++)
				if (!bn_cpuset_has(&lset, base->cpus[i]))
					base->cpus[n++] = base->cpus[i];
			base->n_cpus = n;
		}
	}
	return build_conf(srv, spec, base, 1, base, min_cpus, msg, len);
}

/* Parse @s into @cpus; an error message into @msg on failure. */
static int parse_group(const struct rss_server *srv, const char *what, const char *s,
		       __u32 *cpus, __u32 *n, char *msg, size_t len)
{
	struct bn_cpuset set;
	int err, c;

	err = bn_parse_cpulist(s, BN_MAX_CPUS, &set);
	if (err) {
		snprintf(msg, len, "invalid %s list '%s'", what, s);
		return err;
	}
	*n = 0;
	for (c = 0; c < BN_MAX_CPUS; c++) {
		if (!bn_cpuset_has(&set, c))
			continue;
		if (c >= srv->nr_cpus || !bn_cpuset_has(&srv->online, c)) {
			snprintf(msg, len, "invalid %s list '%s': cpu %d does not exist%s", what,
				 s, c, c < srv->nr_cpus ? " (offline)" : "");
			return -ERANGE;
		}
		if (*n >= RSS_MAX_GROUP) {
			snprintf(msg, len, "invalid %s list '%s': more than %d cpus", what, s,
				 RSS_MAX_GROUP);
			return -E2BIG;
		}
		cpus[(*n)++] = c;
	}
	return 0;
}

/* Build a configuration from @spec on top of @base; message into @msg. */
int build_conf(const struct rss_server *srv, const struct policy_spec *spec,
	       const struct rss_conf *base, int base_min, struct rss_conf *out, int *min_out,
	       char *msg, size_t len)
{
	struct rss_conf c = *base;
	int min_cpus = spec->min_cpus ? spec->min_cpus : base_min;
	int err;

	if (spec->policy >= 0)
		c.policy = spec->policy;
	if (spec->cpus[0]) {
		err = parse_group(srv, "cpu", spec->cpus, c.cpus, &c.n_cpus, msg, len);
		if (err)
			return err;
	}
	if (spec->long_cpus[0]) {
		err = parse_group(srv, "long cpu", spec->long_cpus, c.long_cpus, &c.n_long,
				  msg, len);
		if (err)
			return err;
	} else if (c.policy != RSS_POL_SPLIT) {
		c.n_long = 0;
	}
	if (c.n_cpus == 0) {
		snprintf(msg, len, "empty cpu group");
		return -EINVAL;
	}
	if (c.policy == RSS_POL_SPLIT && c.n_long == 0) {
		snprintf(msg, len, "policy split needs --long-cpus");
		return -EINVAL;
	}
	if (min_cpus < 1)
		min_cpus = 1;
	if ((__u32)min_cpus > c.n_cpus) {
		snprintf(msg, len, "--min-cpus %d is more than the %u cpus of the group",
			 min_cpus, c.n_cpus);
		return -EINVAL;
	}
	/*
	 * While the program is swapped, the old program may run with the new
	 * configuration and the other way round: keep every field valid for
	 * every program (long group = the group, all CPUs active).
	 */
	if (c.policy != RSS_POL_SPLIT) {
		memcpy(c.long_cpus, c.cpus, sizeof(c.cpus));
		c.n_long = c.n_cpus;
	}
	if (c.policy == RSS_POL_DYNAMIC) {
		if (spec->policy >= 0 || spec->cpus[0] || spec->min_cpus ||
		    base->policy != RSS_POL_DYNAMIC)
			c.n_active = min_cpus;
		if (c.n_active > c.n_cpus)
			c.n_active = c.n_cpus;
	} else {
		c.n_active = c.n_cpus;
	}
	*out = c;
	*min_out = min_cpus;
	return 0;
}

static int install_cpu(struct rss_server *srv, __u32 cpu)
{
	struct bpf_cpumap_val val = {
		.qsize = srv->env->qsize,
		.bpf_prog.fd = bpf_program__fd(srv->env->baseline ?
					       srv->skel->progs.rss_bare_worker :
					       srv->skel->progs.rss_worker),
	};
	int err;

	if (bn_cpuset_has(&srv->installed, cpu))
		return 0;
	err = bpf_map_update_elem(srv->cpumap_fd, &cpu, &val, 0);
	if (err)
		return -errno;
	bn_cpuset_add(&srv->installed, cpu);
	return 0;
}

double active_now(const struct rss_server *srv)
{
	if (srv->cur.policy == RSS_POL_SPLIT) {
		struct bn_cpuset u = {};
		__u32 i;

		for (i = 0; i < srv->cur.n_cpus; i++)
			bn_cpuset_add(&u, srv->cur.cpus[i]);
		for (i = 0; i < srv->cur.n_long; i++)
			bn_cpuset_add(&u, srv->cur.long_cpus[i]);
		return bn_cpuset_count(&u);
	}
	return srv->cur.n_active;
}

void account_active(struct rss_server *srv, __u64 now)
{
	double a = active_now(srv), dt = (now - srv->active_since_ns) / 1e9;

	srv->active_integral += a * dt;
	srv->run_active_integral += a * dt;
	srv->active_since_ns = now;
}

/* Make @c what the programs run with; swap the XDP program if needed. */
struct bpf_program *policy_prog(struct rss_bpf *skel, int policy)
{
	struct bpf_program *progs[RSS_NR_POLICIES] = {
		skel->progs.rss_rr, skel->progs.rss_split, skel->progs.rss_dynamic,
		skel->progs.rss_hash, skel->progs.rss_jsq, skel->progs.rss_p2c,
	};

	return progs[policy];
}

int apply_conf(struct rss_server *srv, const struct rss_conf *c, char *msg, size_t len)
{
	struct rss_bpf *skel = srv->skel;
	__u32 i, next;
	int err;

	for (i = 0; i < c->n_cpus; i++) {
		err = install_cpu(srv, c->cpus[i]);
		if (err)
			goto fail_cpu;
	}
	for (i = 0; i < c->n_long; i++) {
		err = install_cpu(srv, c->long_cpus[i]);
		if (err)
			goto fail_cpu;
	}
	account_active(srv, bn_now_ns());
	next = !(skel->bss->conf_idx & 1);
	skel->bss->conf[next] = *c;
	__sync_synchronize();
	*(volatile __u32 *)&skel->bss->conf_idx = next;
	__sync_synchronize();
	if (srv->link_fd >= 0 && c->policy != srv->cur.policy && !srv->env->baseline) {
		err = bpf_link_update(srv->link_fd, bpf_program__fd(policy_prog(skel, c->policy)),
				      NULL);
		if (err) {
			err = -errno;
			/* the old program keeps running: with its own configuration */
			*(volatile __u32 *)&skel->bss->conf_idx = !next;
			__sync_synchronize();
			snprintf(msg, len, "cannot swap to policy %s: %s", policy_names[c->policy],
				 strerror(-err));
			return err;
		}
	}
	srv->cur = *c;
	return 0;
fail_cpu:
	snprintf(msg, len, "cannot add a cpumap entry (queue size %u): %s", srv->env->qsize,
		 strerror(-err));
	return err;
}

void group_str(const struct rss_conf *c, char *buf, size_t len)
{
	size_t off = 0;
	__u32 i, n = c->policy == RSS_POL_DYNAMIC ? c->n_active : c->n_cpus;

	buf[0] = 0;
	for (i = 0; i < n && off + 8 < len; i++)
		off += snprintf(buf + off, len - off, "%s%u", i ? "," : "", c->cpus[i]);
	if (c->policy == RSS_POL_SPLIT) {
		off += snprintf(buf + off, len - off, "|");
		for (i = 0; i < c->n_long && off + 8 < len; i++)
			off += snprintf(buf + off, len - off, "%s%u", i ? "," : "",
					c->long_cpus[i]);
	}
}

/* ---- dynamic group ---- */

void dynamic_step(struct rss_server *srv, const struct snap *a, const struct snap *b)
{
	__u64 n = 0, qsum = 0, now = b->t_ns;
	struct rss_conf c;
	char msg[CTL_MAX];
	double avg;
	int i;

	if (srv->cur.policy != RSS_POL_DYNAMIC)
		return;
	for (i = 0; i < srv->nr_cpus; i++) {
		n += b->done[i][0] + b->done[i][1] - a->done[i][0] - a->done[i][1];
		qsum += b->qsum[i] - a->qsum[i];
	}
	avg = n ? (double)qsum / n : 0;
	if (now - srv->last_change_ns < srv->env->cooldown_ns)
		return;
	c = srv->cur;
	if (avg > srv->env->grow_ns && c.n_active < c.n_cpus) {
		c.n_active++;
	} else if (avg < srv->env->shrink_ns && c.n_active > (__u32)srv->min_cpus) {
		/* shrink only after a whole cooldown below the threshold */
		if (!srv->below_since_ns) {
			srv->below_since_ns = now;
			return;
		}
		if (now - srv->below_since_ns < srv->env->cooldown_ns)
			return;
		c.n_active--;
	} else {
		if (avg >= srv->env->shrink_ns)
			srv->below_since_ns = 0;
		return;
	}
	if (apply_conf(srv, &c, msg, sizeof(msg))) {
		bn_warn("dynamic: %s", msg);
		return;
	}
	bn_info("dynamic: average queuing delay %.1f us: group now %u cpus", avg / 1e3,
		c.n_active);
	srv->last_change_ns = now;
	srv->below_since_ns = 0;
}
