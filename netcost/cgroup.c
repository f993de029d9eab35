// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup.c - netcost --cgroups: socket time per cgroup, from the cgroups map
 * (key: cgroup id), with each cgroup's path found once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>

#include "internal.h"

#define MAX_CG		4096
#define MAX_DEPTH	64

int nc_cgroups_init(struct nc_cgroups *c, int map_fd)
{
	c->map_fd = map_fd;
	c->ents = calloc(MAX_CG, sizeof(*c->ents));
	return c->ents ? 0 : -ENOMEM;
}

/* Where cgroup v2 is mounted (the first mount), "" if nowhere. */
static const char *cg_root(struct nc_cgroups *c)
{
	char line[4096], mnt[4096], *sep;
	FILE *f;

	if (c->root_done)
		return c->root;
	c->root_done = true;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return c->root;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint options... - fstype source ... */
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(c->root, sizeof(c->root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return c->root;
}

/*
 * Find the directory with inode @ino below @dfd (on device @dev, not
 * crossing mounts or following links); its path relative to the root is
 * appended to @path (@len bytes, @off used). Returns true if found.
 */
static bool cg_find(int dfd, dev_t dev, uint64_t ino, char *path, size_t len, size_t off,
		    int depth)
{
	struct dirent *de;
	struct stat st;
	bool found = false;
	DIR *d;
	int fd;

	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	while (!found && (de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || st.st_dev != dev)
			continue;
		if (snprintf(path + off, len - off, "/%s", de->d_name) >= (int)(len - off))
			continue;
		if ((uint64_t)st.st_ino == ino)
			found = true;
		else if (depth < MAX_DEPTH) {
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
				    O_NOFOLLOW);
			if (fd >= 0)
				found = cg_find(fd, dev, ino, path, len, off + strlen(path + off),
						depth + 1);
		}
	}
	closedir(d);
	if (!found)
		path[off] = '\0';
	return found;
}

/* cgroup v2: a cgroup's id is its directory's inode number. */
static char *cg_path(struct nc_cgroups *c, uint64_t id)
{
	const char *root = cg_root(c);
	char path[4096] = "";
	struct stat st;
	int fd;

	if (!root[0])
		goto by_id;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		goto by_id;
	if (fstat(fd, &st)) {
		close(fd);
		goto by_id;
	}
	if ((uint64_t)st.st_ino == id)
		return strdup("/");
	if (cg_find(fd, st.st_dev, id, path, sizeof(path), 0, 1))
		return strdup(path);
by_id:
	snprintf(path, sizeof(path), "id:%" PRIu64, id);
	return strdup(path);
}

static struct nc_cg_ent *cg_get(struct nc_cgroups *c, uint64_t id)
{
	struct nc_cg_ent *e;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->ents[i].id == id)
			return &c->ents[i];
	if (c->n == MAX_CG)
		return NULL;
	e = &c->ents[c->n++];
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->path = cg_path(c, id);
	return e;
}

void nc_cgroups_read(struct nc_cgroups *c)
{
	uint64_t key, next, *pkey = NULL;
	struct nc_cg_ent *e;
	struct nc_cg v;
	int i, k;

	for (i = 0; i < c->n; i++) {
		memset(c->ents[i].d, 0, sizeof(c->ents[i].d));
		memset(c->ents[i].dops, 0, sizeof(c->ents[i].dops));
	}
	while (!bpf_map_get_next_key(c->map_fd, pkey, &next)) {
		key = next;
		pkey = &key;
		if (bpf_map_lookup_elem(c->map_fd, &key, &v))
			continue;
		e = cg_get(c, key);
		if (!e)
			continue;
		for (k = 0; k < 2; k++) {
			e->d[k] = v.ns[k] - e->ns[k];
			e->sum[k] += e->d[k];
			e->ns[k] = v.ns[k];
			e->dops[k] = v.ops[k] - e->ops[k];
			e->sumops[k] += e->dops[k];
			e->ops[k] = v.ops[k];
		}
	}
}

static int cg_cmp_d(const void *a, const void *b)
{
	const struct nc_cg_ent *x = a, *y = b;
	uint64_t sx = x->d[0] + x->d[1], sy = y->d[0] + y->d[1];

	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

static int cg_cmp_sum(const void *a, const void *b)
{
	const struct nc_cg_ent *x = a, *y = b;
	uint64_t sx = x->sum[0] + x->sum[1], sy = y->sum[0] + y->sum[1];

	return sx < sy ? 1 : sx > sy ? -1 : 0;
}

void nc_cgroups_sort(struct nc_cgroups *c, bool whole_run)
{
	qsort(c->ents, c->n, sizeof(*c->ents), whole_run ? cg_cmp_sum : cg_cmp_d);
}

void nc_cgroups_free(struct nc_cgroups *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		free(c->ents[i].path);
	free(c->ents);
	memset(c, 0, sizeof(*c));
}
