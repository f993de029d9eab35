// SPDX-License-Identifier: GPL-2.0
/*
 * sched_expo.c - elephant-sched's parsers of what it is fed: elephant's
 * /metrics in the Prometheus text format, and the Prometheus HTTP API's
 * instant-query answers. Both are untrusted: every length is bounded, every
 * error names where it is.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "extender.h"

const char *const sched_metric_names[SM_NR] = {
	[SM_NODE_ELEPHANTS] = "elephant_node_elephants",
	[SM_NODE_HEAVY] = "elephant_node_heavy_workloads",
	[SM_WL_ELEPHANTS] = "elephant_workload_elephants",
	[SM_WL_MICE] = "elephant_workload_mice",
	[SM_WL_HEAVY] = "elephant_workload_heavy",
	[SM_WL_LAST] = "elephant_workload_last_elephant_seconds",
};

int sched_metric_index(const char *name, size_t len)
{
	int i;

	for (i = 0; i < SM_NR; i++)
		if (strlen(sched_metric_names[i]) == len &&
		    !memcmp(sched_metric_names[i], name, len))
			return i;
	return -1;
}

/* ---- text format ---- */

#define LABEL_MAX	(2 * SCHED_NAME_MAX + 2)

struct line {
	const char *p, *end;
	char node[LABEL_MAX], workload[LABEL_MAX];
	bool has_node, has_workload;
};

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

static void skip_blank(struct line *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t'))
		l->p++;
}

/* A quoted label value with \\, \" and \n escapes into @buf. */
static const char *label_value(struct line *l, char *buf, size_t len)
{
	size_t n = 0;
	char c;

	if (l->p >= l->end || *l->p != '"')
		return "want '\"' before a label value";
	for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
		c = *l->p;
		if (c == '\\') {
			if (++l->p >= l->end)
				break;
			c = *l->p == 'n' ? '\n' : *l->p;
			if (*l->p != 'n' && *l->p != '\\' && *l->p != '"')
				return "bad escape in a label value";
		}
		if (c == '\0')
			return "NUL byte in a label value";
		if (n + 1 >= len)
			return "label value too long";
		buf[n++] = c;
	}
	if (l->p >= l->end)
		return "unterminated label value";
	l->p++;
	buf[n] = '\0';
	return NULL;
}

static const char *labels(struct line *l)
{
	char scratch[LABEL_MAX], *dst;
	const char *name, *msg;
	size_t nl;

	l->p++;	/* '{' */
	for (;;) {
		skip_blank(l);
		if (l->p < l->end && *l->p == '}') {
			l->p++;
			return NULL;
		}
		name = l->p;
		while (l->p < l->end && name_char(*l->p, l->p == name))
			l->p++;
		nl = l->p - name;
		if (!nl)
			return "want a label name";
		skip_blank(l);
		if (l->p >= l->end || *l->p != '=')
			return "want '=' after a label name";
		l->p++;
		skip_blank(l);
		dst = scratch;
		if (nl == 4 && !memcmp(name, "node", 4)) {
			dst = l->node;
			l->has_node = true;
		} else if (nl == 8 && !memcmp(name, "workload", 8)) {
			dst = l->workload;
			l->has_workload = true;
		}
		msg = label_value(l, dst, LABEL_MAX);
		if (msg)
			return msg;
		skip_blank(l);
		if (l->p < l->end && *l->p == ',')
			l->p++;
		else if (l->p >= l->end || *l->p != '}')
			return "want ',' or '}' after a label";
	}
}

/* Length of the token at l->p: up to a blank or the end of the line. */
static size_t token(const struct line *l)
{
	const char *q = l->p;

	while (q < l->end && *q != ' ' && *q != '\t')
		q++;
	return q - l->p;
}

/* A sample value (a float, NaN, +Inf or -Inf), then an optional timestamp. */
static const char *sample_value(struct line *l, double *v)
{
	char buf[64], *e;
	size_t n, i;

	skip_blank(l);
	n = token(l);
	if (!n || n >= sizeof(buf))
		return "want a sample value";
	memcpy(buf, l->p, n);
	buf[n] = '\0';
	*v = strtod(buf, &e);
	if (*e)
		return "bad sample value";
	l->p += n;
	skip_blank(l);
	n = token(l);
	for (i = 0; i < n; i++)	/* timestamp in ms: checked, not used */
		if (!(l->p[i] >= '0' && l->p[i] <= '9') && !(i == 0 && l->p[i] == '-'))
			return "bad timestamp";
	l->p += n;
	skip_blank(l);
	if (l->p < l->end)
		return "trailing data after the sample";
	return NULL;
}

static const char *expo_line(struct line *l, const char *node, struct sched_samples *out,
			     int *err)
{
	const char *name = l->p, *msg;
	double v;
	size_t nl;
	int m;

	while (l->p < l->end && name_char(*l->p, l->p == name))
		l->p++;
	nl = l->p - name;
	if (!nl)
		return "want a metric name";
	skip_blank(l);
	if (l->p < l->end && *l->p == '{') {
		msg = labels(l);
		if (msg)
			return msg;
	}
	msg = sample_value(l, &v);
	if (msg)
		return msg;
	m = sched_metric_index(name, nl);
	if (m < 0)
		return NULL;
	if (!node && !l->has_node)
		return "no node label";
	if (m >= SM_WL_ELEPHANTS && !l->has_workload)
		return "no workload label";
	*err = sched_samples_add(out, m, node ? node : l->node,
				 m >= SM_WL_ELEPHANTS ? l->workload : NULL, v);
	return *err == -E2BIG ? "too many series" : *err ? "bad node or workload name" : NULL;
}

int sched_expo_parse(const char *text, size_t len, const char *node,
		     struct sched_samples *out, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl, *msg;
	struct line l;
	int lineno = 0, e;
	size_t n;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', end - p);
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		memset(&l, 0, sizeof(l));
		l.p = p;
		l.end = p + n;
		p = nl ? nl + 1 : end;
		if (memchr(l.p, '\0', n)) {
			snprintf(err, errlen, "line %d: NUL byte", lineno);
			return -EINVAL;
		}
		skip_blank(&l);
		if (l.p == l.end || *l.p == '#')
			continue;
		e = 0;
		msg = expo_line(&l, node, out, &e);
		if (msg) {
			snprintf(err, errlen, "line %d: %s", lineno, msg);
			return e ? e : -EINVAL;
		}
	}
	return 0;
}

/* ---- Prometheus HTTP API ---- */

static const char *prom_sample(json_t *r, int metric, struct sched_samples *out, int *err)
{
	json_t *lab = json_object_get(r, "metric"), *val = json_object_get(r, "value");
	const char *name, *node, *wl = NULL, *s;
	double v;
	char *e;
	int m = metric;

	if (!json_is_object(lab) || !json_is_array(val) || json_array_size(val) != 2)
		return "a result without metric or value";
	node = json_string_value(json_object_get(lab, "node"));
	if (!node)
		return NULL;	/* not elephant's: ignored */
	if (m < 0) {
		name = json_string_value(json_object_get(lab, "__name__"));
		m = name ? sched_metric_index(name, strlen(name)) : -1;
		if (m < 0)
			return NULL;
	}
	if (m >= SM_WL_ELEPHANTS && m < SM_NR) {
		wl = json_string_value(json_object_get(lab, "workload"));
		if (!wl)
			return "a workload series without a workload label";
	}
	s = json_string_value(json_array_get(val, 1));
	if (!s)
		return "a value that is not a string";
	v = strtod(s, &e);
	if (*e || e == s)
		return "a value that is not a number";
	*err = sched_samples_add(out, m, node, wl, v);
	return *err == -E2BIG ? "too many series" : *err ? "bad node or workload name" : NULL;
}

int sched_prom_parse(const char *body, size_t len, int metric, struct sched_samples *out,
		     double *eval_s, char *err, size_t errlen)
{
	json_t *root, *data, *res, *r;
	json_error_t je;
	const char *msg = NULL, *st;
	size_t i;
	int e = 0;

	root = json_loadb(body, len, 0, &je);
	if (!root) {
		snprintf(err, errlen, "bad JSON at line %d, column %d: %s", je.line, je.column,
			 je.text);
		return -EINVAL;
	}
	st = json_string_value(json_object_get(root, "status"));
	data = json_object_get(root, "data");
	res = json_object_get(data, "result");
	if (!st || strcmp(st, "success")) {
		snprintf(err, errlen, "query failed: %.200s",
			 json_string_value(json_object_get(root, "error")) ?: "no status");
		e = -EINVAL;
		goto out;
	}
	st = json_string_value(json_object_get(data, "resultType"));
	if (!st || strcmp(st, "vector") || !json_is_array(res)) {
		msg = "want a vector result";
		goto out;
	}
	json_array_foreach(res, i, r) {
		if (!i && eval_s)
			*eval_s = json_number_value(json_array_get(json_object_get(r, "value"), 0));
		msg = prom_sample(r, metric, out, &e);
		if (msg)
			break;
	}
out:
	if (msg) {
		snprintf(err, errlen, "%s", msg);
		e = e ? e : -EINVAL;
	}
	json_decref(root);
	return e;
}
