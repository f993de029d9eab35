// SPDX-License-Identifier: GPL-2.0
/*
 * footprint.c - labels, workload footprint and the --state file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "footprint.h"

bool el_name_valid(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n >= EL_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._:@/-", c)))
			return false;
	}
	return true;
}

bool el_node_valid(const char *s)
{
	return bn_node_name_valid(s);
}

int el_label_parse(const char *s, struct el_label *l)
{
	const char *eq, *what;
	uint64_t zone;
	char buf[32];
	size_t len;

	memset(l, 0, sizeof(*l));
	eq = strchr(s, '=');
	if (!eq || !el_name_valid(eq + 1))
		return -EINVAL;
	if (!strncmp(s, "zone:", 5)) {
		what = s + 5;
		len = eq - what;
		if (!len || len >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, what, len);
		buf[len] = '\0';
		if (bn_parse_u64(buf, 0, 65535, &zone))
			return -EINVAL;
		l->kind = EL_LABEL_ZONE;
		l->zone = zone;
	} else if (!strncmp(s, "iface:", 6)) {
		what = s + 6;
		len = eq - what;
		if (!len || len >= IF_NAMESIZE)
			return -EINVAL;
		l->kind = EL_LABEL_IFACE;
		memcpy(l->iface, what, len);
	} else {
		return -EINVAL;
	}
	strcpy(l->name, eq + 1);
	return 0;
}

int fp_get(struct el_fp *fp, const char *name)
{
	struct el_workload *w;
	int i;

	for (i = 0; i < fp->n; i++)
		if (!strcmp(fp->w[i].name, name))
			return i;
	if (fp->n == fp->cap) {
		int cap = fp->cap ? fp->cap * 2 : 16;

		w = realloc(fp->w, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		fp->w = w;
		fp->cap = cap;
	}
	w = &fp->w[fp->n];
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	fp->dirty = true;
	return fp->n++;
}

void fp_bytes(struct el_fp *fp, int idx, uint64_t bytes)
{
	if (!bytes)
		return;
	fp->w[idx].bytes += bytes;
	fp->w[idx].bytes_total += bytes;
	fp->dirty = true;
}

bool fp_heavy(const struct el_workload *w, uint64_t now_s, uint64_t window_s)
{
	if (w->elephants)
		return true;
	if (!w->last_elephant_s)
		return false;
	/* a time ahead of the clock counts as now; no overflow near UINT64_MAX */
	return now_s < w->last_elephant_s || now_s - w->last_elephant_s < window_s;
}

void fp_elephant(struct el_fp *fp, int idx, uint64_t now_s)
{
	fp->w[idx].elephants_total++;
	fp->w[idx].last_elephant_s = now_s;
	fp->dirty = true;
}

void fp_reset_interval(struct el_fp *fp)
{
	int i;

	for (i = 0; i < fp->n; i++) {
		fp->w[i].elephants = 0;
		fp->w[i].mice = 0;
		fp->w[i].bytes = 0;
	}
}

void fp_free(struct el_fp *fp)
{
	free(fp->w);
	memset(fp, 0, sizeof(*fp));
}

int fp_state_load(struct el_fp *fp, const char *path, int *line)
{
	char buf[512], name[EL_NAME_MAX + 1], num[3][21];
	uint64_t last, eleph, bytes;
	int n = 0, idx, err;
	FILE *f;

	*line = 0;
	/* -EINVAL with *line 0: not a regular file (a FIFO never hangs here) */
	err = bn_rfile_open(path, &f);
	if (err)
		return err == -ENOENT ? 0 : err;
	while (fgets(buf, sizeof(buf), f)) {
		char extra;

		n++;
		if (!strchr(buf, '\n') && !feof(f)) {
			err = -EINVAL;
			break;
		}
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		/* digits only: %SCNu64 would take "-1" and wrap overflows silently */
		if (sscanf(buf, "workload %64s last_elephant=%20[0-9] elephants=%20[0-9] "
			   "bytes=%20[0-9] %c", name, num[0], num[1], num[2], &extra) != 4 ||
		    !el_name_valid(name) || bn_parse_u64(num[0], 0, UINT64_MAX, &last) ||
		    bn_parse_u64(num[1], 0, UINT64_MAX, &eleph) ||
		    bn_parse_u64(num[2], 0, UINT64_MAX, &bytes)) {
			err = -EINVAL;
			break;
		}
		idx = fp_get(fp, name);
		if (idx < 0) {
			err = idx;
			break;
		}
		fp->w[idx].last_elephant_s = last;
		fp->w[idx].elephants_total = eleph;
		fp->w[idx].bytes_total = bytes;
	}
	if (err)
		*line = n;
	else if (ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

int fp_state_save(struct el_fp *fp, const char *path)
{
	struct bn_wfile w;
	int i, err;

	/*
	 * A new temporary file renamed over @path: a crash never leaves half a
	 * file, and a link planted beside or at @path is never written through.
	 */
	err = bn_wfile_open(&w, path, 0644);
	if (err)
		return err;
	fprintf(w.f, "# elephant state v1: workload footprints learned by elephant\n");
	for (i = 0; i < fp->n; i++) {
		const struct el_workload *wl = &fp->w[i];

		fprintf(w.f, "workload %s last_elephant=%" PRIu64 " elephants=%" PRIu64
			" bytes=%" PRIu64 "\n", wl->name, wl->last_elephant_s,
			wl->elephants_total, wl->bytes_total);
	}
	err = bn_wfile_commit(&w);
	if (!err)
		fp->dirty = false;
	return err;
}
