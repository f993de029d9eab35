// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - tracer's points and options: `--point NAME=HOOK[@DEV][%NETNS]`,
 * the config file (one directive per line: a long option without its
 * dashes, then its value; `#` starts a comment), and resolving device and
 * netns names to what the BPF side compares (ifindex, netns inode).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "state.h"

static const char *const hook_names[TR_HOOK_MAX] = {
	[TR_HOOK_RX] = "rx",
	[TR_HOOK_RXQ] = "rxq",
	[TR_HOOK_TXQ] = "txq",
	[TR_HOOK_TX] = "tx",
	[TR_HOOK_QDISC] = "qdisc",
	[TR_HOOK_DROP] = "drop",
	[TR_HOOK_RETRANS] = "tcp-retrans",
	[TR_HOOK_FENTRY] = "fentry",
	[TR_HOOK_KPROBE] = "kprobe",
};

const char *tr_hook_name(int hook)
{
	return hook >= 0 && hook < TR_HOOK_MAX ? hook_names[hook] : "?";
}

const char *tr_point_name(const struct tr_opts *o, int pt)
{
	if (pt >= 0 && pt < o->npoints)
		return o->points[pt].name;
	return "drop";
}

/* Names, devices and netns names: letters, digits and "_.-", 1..@max chars. */
static bool safe_name(const char *s, size_t max, bool slash)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]) &&
		    !(slash && s[i] == '/'))
			return false;
	return true;
}

int tr_point_parse(const char *s, struct tr_point_cfg *pc, char *err, size_t len)
{
	char buf[512], *eq, *at, *pct, hooks[128];
	int hook;

	memset(pc, 0, sizeof(*pc));
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	eq = strchr(buf, '=');
	if (!eq)
		goto bad;
	*eq++ = '\0';
	pct = strchr(eq, '%');
	if (pct)
		*pct++ = '\0';
	at = strchr(eq, '@');
	if (at)
		*at++ = '\0';
	if (!safe_name(buf, TR_NAME_LEN - 1, false) || !strcmp(buf, "drop"))
		goto bad;
	strcpy(pc->name, buf);
	if (!strncmp(eq, "fentry:", 7) || !strncmp(eq, "kprobe:", 7)) {
		hook = eq[0] == 'f' ? TR_HOOK_FENTRY : TR_HOOK_KPROBE;
		if (!safe_name(eq + 7, TR_FUNC_LEN - 1, false)) {
			snprintf(err, len, "invalid function '%.64s' in point '%.64s'", eq + 7, s);
			return -EINVAL;
		}
		strcpy(pc->func, eq + 7);
	} else {
		hook = bn_name_index(eq, hook_names, TR_HOOK_FENTRY);
	}
	if (hook < 0) {
		snprintf(err, len, "invalid hook '%.32s' in point '%.64s': want %s; or fentry:FUNC, "
			 "kprobe:FUNC", eq, s,
			 bn_names_str(hook_names, TR_HOOK_FENTRY, hooks, sizeof(hooks)));
		return -EINVAL;
	}
	pc->p.hook = hook;
	strcpy(pc->hook, eq);
	if (at) {
		if (!safe_name(at, IF_NAMESIZE - 1, false) || hook == TR_HOOK_RETRANS)
			goto bad;
		strcpy(pc->dev, at);
	}
	if (pct) {
		if (!safe_name(pct, sizeof(pc->netns) - 1, true))
			goto bad;
		strcpy(pc->netns, pct);
	}
	return 0;
bad:
	snprintf(err, len, "invalid point '%.64s': want NAME=HOOK[@DEV][%%NETNS]%s", s,
		 strstr(s, "tcp-retrans@") ? " (tcp-retrans takes no device)" : "");
	return -EINVAL;
}

/* "FROM->TO latency>DUR emit" */
static int rule_parse(struct tr_opts *o, const char *val, char *err, size_t len)
{
	char seg[2 * TR_NAME_LEN + 3], cond[64], act[16], *arrow;
	struct tr_rule *r = &o->rules[o->nrules];

	if (o->nrules == TR_MAX_RULES) {
		snprintf(err, len, "too many rules: at most %d", TR_MAX_RULES);
		return -EINVAL;
	}
	if (sscanf(val, "%66s %63s %15s", seg, cond, act) != 3 || strcmp(act, "emit") ||
	    strncmp(cond, "latency>", 8) || !(arrow = strstr(seg, "->")))
		goto bad;
	*arrow = '\0';
	if (!safe_name(seg, TR_NAME_LEN - 1, false) ||
	    !safe_name(arrow + 2, TR_NAME_LEN - 1, false) ||
	    bn_parse_duration(cond + 8, 1000ULL, &r->ns))
		goto bad;
	strcpy(r->from, seg);
	strcpy(r->to, arrow + 2);
	o->nrules++;
	return 0;
bad:
	snprintf(err, len, "invalid rule '%.64s': want FROM->TO latency>DUR emit "
		 "(DUR: 500us, 2ms; bare: us)", val);
	return -EINVAL;
}

static int point_index(const struct tr_opts *o, const char *name)
{
	int i;

	for (i = 0; i < o->npoints; i++)
		if (!strcmp(o->points[i].name, name))
			return i;
	return -1;
}

int tr_rules_resolve(const struct tr_opts *o, uint64_t *rule_ns, char *err, size_t len)
{
	int i, a, b;

	for (i = 0; i < o->nrules; i++) {
		a = point_index(o, o->rules[i].from);
		b = point_index(o, o->rules[i].to);
		if (a < 0 || b < 0 || a == b) {
			snprintf(err, len, "rule %s->%s: no such segment (points: from and to)",
				 o->rules[i].from, o->rules[i].to);
			return -ENOENT;
		}
		rule_ns[a * TR_MAX_POINTS + b] = o->rules[i].ns;
	}
	return 0;
}

int tr_opt_set(struct tr_opts *o, const char *name, const char *val, char *err, size_t len)
{
	uint64_t v;
	int i;

	if (!strcmp(name, "point")) {
		if (o->npoints == TR_MAX_POINTS) {
			snprintf(err, len, "too many points: at most %d", TR_MAX_POINTS);
			return -EINVAL;
		}
		if (tr_point_parse(val, &o->points[o->npoints], err, len))
			return -EINVAL;
		for (i = 0; i < o->npoints; i++) {
			if (!strcmp(o->points[i].name, o->points[o->npoints].name)) {
				snprintf(err, len, "point '%s' named twice", o->points[i].name);
				return -EINVAL;
			}
		}
		o->npoints++;
	} else if (!strcmp(name, "filter")) {
		if (strlen(val) >= sizeof(o->filter) || !*val) {
			snprintf(err, len, "invalid filter: empty or over %zu bytes",
				 sizeof(o->filter) - 1);
			return -EINVAL;
		}
		strcpy(o->filter, val);
	} else if (!strcmp(name, "events")) {
		if (*val) {
			snprintf(err, len, "events takes no value");
			return -EINVAL;
		}
		o->events = true;
	} else if (!strcmp(name, "loss-timeout")) {
		if (bn_parse_duration(val, 1000000000ULL, &o->loss_timeout_ns) ||
		    o->loss_timeout_ns < 1000000ULL || o->loss_timeout_ns > 3600000000000ULL) {
			snprintf(err, len, "invalid loss-timeout '%.32s': want 1ms..1h", val);
			return -EINVAL;
		}
	} else if (!strcmp(name, "buffer")) {
		if (bn_parse_size(val, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1))) {
			snprintf(err, len, "invalid buffer '%.32s': want a power of 2, 4K..1G",
				 val);
			return -EINVAL;
		}
		o->buffer = v;
	} else if (!strcmp(name, "rule")) {
		return rule_parse(o, val, err, len);
	} else if (!strcmp(name, "sample")) {
		if (strncmp(val, "1/", 2) || bn_parse_u64(val + 2, 1, 1 << 20, &v)) {
			snprintf(err, len, "invalid sample '%.32s': want 1/N, N 1..1048576", val);
			return -EINVAL;
		}
		o->sample_n = v;
	} else if (!strcmp(name, "top")) {
		if (bn_parse_u64(val, 0, 100, &v)) {
			snprintf(err, len, "invalid top '%.32s': want 0..100", val);
			return -EINVAL;
		}
		o->top = v;
	} else if (!strcmp(name, "track")) {
		if (bn_parse_u64(val, 64, 1 << 24, &v)) {
			snprintf(err, len, "invalid track '%.32s': want 64..16777216", val);
			return -EINVAL;
		}
		o->track = v;
	} else {
		snprintf(err, len, "unknown directive '%.32s'", name);
		return -EINVAL;
	}
	return 0;
}

/* One line: "name [value]"; a '#' outside the value starts a comment. */
static int config_line(struct tr_opts *o, char *line, char *err, size_t len)
{
	char *name, *val, *end, *hash;

	hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	name = line + strspn(line, " \t\r\n");
	if (!*name)
		return 0;
	val = name + strcspn(name, " \t\r\n");
	if (*val)
		*val++ = '\0';
	val += strspn(val, " \t");
	end = val + strlen(val);
	while (end > val && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return tr_opt_set(o, name, val, err, len);
}

int tr_config_load(struct tr_opts *o, const char *path, char *err, size_t len)
{
	char line[2048], msg[256];
	int fd, lineno = 0, ret = 0;
	struct stat st;
	FILE *f;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, len, "cannot read config %.200s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
		snprintf(err, len, "cannot read config %.200s: not a regular file under 1M",
			 path);
		close(fd);
		return -EINVAL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, len, "%.200s:%d: line too long", path, lineno);
			ret = -EINVAL;
			break;
		}
		if (config_line(o, line, msg, sizeof(msg))) {
			snprintf(err, len, "%.200s:%d: %s", path, lineno, msg);
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* Find a netns file whose inode is @ino: /run/netns/<*> or /proc/<pid>/ns/net. */
static int netns_by_inode(uint64_t ino, char *path, size_t len)
{
	const char *dirs[] = { "/run/netns", "/proc" };
	struct dirent *de;
	struct stat st;
	unsigned int i;
	DIR *d;

	for (i = 0; i < 2; i++) {
		d = opendir(dirs[i]);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (i == 1 && !isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(path, len, i ? "/proc/%s/ns/net" : "/run/netns/%s", de->d_name);
			if (!stat(path, &st) && st.st_ino == ino) {
				closedir(d);
				return 0;
			}
		}
		closedir(d);
	}
	return -ENOENT;
}

int tr_netns_resolve(const char *spec, char *path, size_t len, uint32_t *ino)
{
	struct stat st;
	uint64_t v;

	if (!bn_parse_u64(spec, 1, UINT32_MAX, &v)) {
		if (netns_by_inode(v, path, len))
			return -ENOENT;
	} else if (spec[0] == '/') {
		snprintf(path, len, "%s", spec);
	} else {
		if (strchr(spec, '/'))
			return -EINVAL;
		snprintf(path, len, "/run/netns/%s", spec);
	}
	if (stat(path, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/* ifindex of @dev in the netns of file @nspath (NULL: the current one). */
static int dev_resolve(const char *nspath, const char *dev)
{
	int self = -1, idx, err;

	if (nspath && (err = bn_netns_enter(nspath, &self)))
		return err;
	idx = if_nametoindex(dev);
	if (!idx)
		idx = -ENODEV;
	err = bn_netns_leave(&self);
	return err ? err : idx;
}

int tr_points_resolve(struct tr_opts *o, char *err, size_t len)
{
	char path[300];
	struct stat st;
	int i, idx, ret;

	ret = tr_fn_resolve(o, err, len);
	if (ret)
		return ret;
	for (i = 0; i < o->npoints; i++) {
		struct tr_point_cfg *pc = &o->points[i];
		bool ns = pc->netns[0];

		if (ns && tr_netns_resolve(pc->netns, path, sizeof(path), &pc->p.netns)) {
			snprintf(err, len, "point %s: no netns '%.200s'", pc->name, pc->netns);
			return -ENOENT;
		}
		if (!pc->dev[0])
			continue;
		idx = dev_resolve(ns ? path : NULL, pc->dev);
		if (idx < 0) {
			snprintf(err, len, "point %s: no device '%s' in %s%.200s", pc->name,
				 pc->dev, ns ? "netns " : "the current netns", ns ? pc->netns : "");
			return -ENODEV;
		}
		pc->p.ifindex = idx;
		if (!ns) {	/* an ifindex means something in one netns only */
			if (stat("/proc/self/ns/net", &st))
				return -errno;
			pc->p.netns = st.st_ino;
		}
	}
	return 0;
}
