// SPDX-License-Identifier: GPL-2.0
/*
 * plot.c - rss-client's figures: p99 queuing delay of each policy and class
 * against the achieved rate, from this run or from earlier --csv files,
 * drawn by gnuplot.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int plot_write(const struct plot *p, const char *png)
{
	char data[] = "/tmp/rss-plot.XXXXXX";
	FILE *f, *g;
	int fd, i, k, st;

	if (!p->n) {
		bn_err("cannot plot: no data");
		return -EINVAL;
	}
	fd = mkstemp(data);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		bn_err("cannot plot: temporary file: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < p->n; i++) {
		fprintf(f, "# %s %s\n", p->series[i].policy, class_names[p->series[i].class]);
		for (k = 0; k < p->series[i].n; k++)
			fprintf(f, "%.1f %.3f\n", p->series[i].x[k], p->series[i].y[k]);
		fprintf(f, "\n\n");
	}
	fclose(f);
	g = popen("gnuplot", "w");
	if (!g) {
		bn_err("cannot plot: gnuplot: %s", strerror(errno));
		unlink(data);
		return -errno;
	}
	fprintf(g, "set terminal pngcairo size 1000,650\nset output '%s'\n", png);
	fprintf(g, "set title 'p99 queuing delay against achieved rate'\n"
		"set xlabel 'achieved rate, all classes (requests/s)'\n"
		"set ylabel 'p99 queuing delay (us)'\n"
		"set logscale y\nset grid\nset key top left\nplot ");
	for (i = 0; i < p->n; i++)
		fprintf(g, "%s'%s' index %d with linespoints title '%s %s'", i ? ", " : "", data, i,
			p->series[i].policy, class_names[p->series[i].class]);
	fprintf(g, "\n");
	st = pclose(g);
	unlink(data);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		bn_err("cannot plot %s: gnuplot failed (is gnuplot installed? make deps)", png);
		return -EIO;
	}
	fprintf(stderr, "%s: plot written to %s\n", bn_prog(), png);
	return 0;
}
