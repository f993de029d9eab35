// SPDX-License-Identifier: GPL-2.0
/*
 * plot.c - rss-client's figures: p99 queuing delay of each policy and class
 * against the achieved rate, from this run or from earlier --csv files,
 * drawn by gnuplot. Data and titles from a CSV file are untrusted: see
 * plot_write().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include <sys/wait.h>
#include "rss-client.h"

#define MAX_SERIES	(2 * MAX_FILES * RSS_NR_CLASSES)

struct series {
	char policy[32];
	int class;
	int n;
	double x[MAX_STEPS], y[MAX_STEPS];
};

int plot_init(struct plot *p)
{
	p->n = 0;
	p->series = calloc(MAX_SERIES, sizeof(*p->series));
	return p->series ? 0 : -ENOMEM;
}

void plot_free(struct plot *p)
{
	free(p->series);
	p->series = NULL;
	p->n = 0;
}

void plot_add(struct plot *p, const char *policy, int class, double x, double y)
{
	struct series *se = NULL;
	int i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->series[i].policy, policy) && p->series[i].class == class)
			se = &p->series[i];
	if (!se) {
		if (p->n >= MAX_SERIES)
			return;
		se = &p->series[p->n++];
		snprintf(se->policy, sizeof(se->policy), "%s", policy);
		se->class = class;
	}
	if (se->n < MAX_STEPS && !isnan(y)) {
		se->x[se->n] = x;
		se->y[se->n] = y;
		se->n++;
	}
}

int plot_load_csv(struct plot *p, const char *path)
{
	char line[1024], *tok, *save;
	int col_pol = -1, col_cls = -1, col_x = -1, col_y = -1, i, c;
	char pol[32] = "", cls[16] = "";
	double x = NAN, y = NAN;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		bn_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		bn_err("cannot plot %s: empty file", path);
		return -EINVAL;
	}
	line[strcspn(line, "\r\n")] = 0;
	for (i = 0, tok = strtok_r(line, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
		if (!strcmp(tok, "policy"))
			col_pol = i;
		else if (!strcmp(tok, "class"))
			col_cls = i;
		else if (!strcmp(tok, "total_rps"))
			col_x = i;
		else if (!strcmp(tok, "queue_p99_us"))
			col_y = i;
	}
	if (col_pol < 0 || col_cls < 0 || col_x < 0 || col_y < 0) {
		fclose(f);
		bn_err("cannot plot %s: not an rss-client --csv file", path);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;

		line[strcspn(line, "\r\n")] = 0;
		for (i = 0; s; i++) {
			e = strchr(s, ',');
			if (e)
				*e = 0;
			if (i == col_pol)
				snprintf(pol, sizeof(pol), "%.31s", s);
			else if (i == col_cls)
				snprintf(cls, sizeof(cls), "%.15s", s);
			else if (i == col_x)
				x = *s ? strtod(s, NULL) : NAN;
			else if (i == col_y)
				y = *s ? strtod(s, NULL) : NAN;
			s = e ? e + 1 : NULL;
		}
		for (c = 0; c < RSS_NR_CLASSES; c++)
			if (!strcmp(cls, class_names[c]))
				plot_add(p, pol, c, x, y);
	}
	fclose(f);
	return 0;
}

/*
 * A title for gnuplot: "POLICY CLASS" with every character outside a safe set
 * replaced by '?', so that it can stand between single quotes whatever the
 * CSV file or --policy said (no quote, backquote, newline, macro or escape).
 */
static void gp_title(char *dst, size_t len, const char *policy, const char *cls)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789 ._:+-";
	size_t i;

	snprintf(dst, len, "%s %s", policy, cls);
	for (i = 0; dst[i]; i++)
		if (!strchr(safe, dst[i]))
			dst[i] = '?';
}

/* A new file @name in the directory @dirfd, never one that is there. */
static FILE *create_at(int dirfd, const char *name)
{
	FILE *f;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int close_file(FILE *f)
{
	int err = ferror(f) ? -EIO : 0;

	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* The series as gnuplot data blocks, one index each. */
static int write_data(const struct plot *p, int dirfd)
{
	FILE *f = create_at(dirfd, "data");
	int i, k;

	if (!f)
		return -errno;
	for (i = 0; i < p->n; i++) {
		for (k = 0; k < p->series[i].n; k++)
			fprintf(f, "%.1f %.3f\n", p->series[i].x[k], p->series[i].y[k]);
		fprintf(f, "\n\n");
	}
	return close_file(f);
}

/*
 * The script: fixed text and the titles of gp_title(); it reads "data" in
 * its working directory and writes the PNG to its standard output.
 */
static int write_script(const struct plot *p, int dirfd)
{
	FILE *f = create_at(dirfd, "script");
	char title[64];
	int i;

	if (!f)
		return -errno;
	fprintf(f, "set terminal pngcairo noenhanced size 1000,650\n"
		"set title 'p99 queuing delay against achieved rate'\n"
		"set xlabel 'achieved rate, all classes (requests/s)'\n"
		"set ylabel 'p99 queuing delay (us)'\n"
		"set logscale y\nset grid\nset key top left\nplot ");
	for (i = 0; i < p->n; i++) {
		gp_title(title, sizeof(title), p->series[i].policy,
			 class_names[p->series[i].class]);
		fprintf(f, "%s'data' index %d with linespoints title '%s'", i ? ", " : "", i,
			title);
	}
	fprintf(f, "\n");
	return close_file(f);
}

/* gnuplot script in @dir, its PNG into @out_fd: 0, or -errno / -EIO. */
static int run_gnuplot(const char *dir, int out_fd)
{
	char *argv[] = { "gnuplot", "script", NULL };
	posix_spawn_file_actions_t fa;
	int err, st;
	pid_t pid;

	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	err = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (!err)
		err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!err)
		err = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -err;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

/* A new file next to @path to write it into and rename: its fd, or -errno. */
static int open_output(const char *path, char *tmp, size_t len)
{
	int fd, i;

	for (i = 0; i < 100; i++) {
		if (snprintf(tmp, len, "%s.%d.%llu.tmp", path, (int)getpid(),
			     (unsigned long long)(bn_now_ns() % 1000000007ULL)) >= (int)len)
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/*
 * Draw the series into @png. Nothing from the data or the path becomes part
 * of a command: gnuplot runs in a private directory with fixed file names,
 * and its PNG on stdout goes to a new temporary file renamed to @png.
 */
int plot_write(const struct plot *p, const char *png)
{
	char dir[] = "/tmp/rss-plot.XXXXXX", tmp[4096];
	int dirfd, out = -1, err;

	if (!p->n) {
		bn_err("cannot plot: no data");
		return -EINVAL;
	}
	if (!mkdtemp(dir)) {
		bn_err("cannot plot: temporary directory: %s", strerror(errno));
		return -errno;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = dirfd < 0 ? -errno : write_data(p, dirfd);
	if (!err)
		err = write_script(p, dirfd);
	if (err) {
		bn_err("cannot plot: temporary files in %s: %s", dir, strerror(-err));
		goto cleanup;
	}
	out = open_output(png, tmp, sizeof(tmp));
	if (out < 0) {
		err = out;
		bn_err("cannot write %s: %s", png, strerror(-err));
		goto cleanup;
	}
	err = run_gnuplot(dir, out);
	if (!err && fsync(out))
		err = -errno;
	if (close(out) && !err)
		err = -errno;
	if (!err && rename(tmp, png))
		err = -errno;
	if (err) {
		unlink(tmp);
		if (err == -EIO || err == -ENOENT)
			bn_err("cannot plot %s: gnuplot failed (is gnuplot installed? make deps)", png);
		else
			bn_err("cannot write %s: %s", png, strerror(-err));
	}
cleanup:
	if (dirfd >= 0) {
		unlinkat(dirfd, "data", 0);
		unlinkat(dirfd, "script", 0);
		close(dirfd);
	}
	rmdir(dir);
	if (!err)
		fprintf(stderr, "%s: plot written to %s\n", bn_prog(), png);
	return err;
}
