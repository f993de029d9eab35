// SPDX-License-Identifier: GPL-2.0
/*
 * sched_api.c - elephant-sched's wire format: the kube-scheduler extender
 * protocol (k8s.io/kube-scheduler/extender/v1). Requests are ExtenderArgs
 * {Pod, Nodes, NodeNames}; answers ExtenderFilterResult {Nodes, NodeNames,
 * FailedNodes, FailedAndUnresolvableNodes, Error} and HostPriorityList
 * [{Host, Score}]. The Go types have no JSON tags and Go matches keys
 * case-insensitively (Unicode simple folding: the Kelvin sign is a 'k', the
 * long s an 's'), the last matching key winning; the same here, for the
 * struct fields of ExtenderArgs, Pod, ObjectMeta and NodeList. Label and
 * annotation keys are map keys: exact.
 */
#include <errno.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "extender.h"

/* Go's case folding of a key against an ASCII field name. */
static bool go_fold_eq(const char *key, const char *field)
{
	char f;

	for (; *field; field++) {
		f = *field >= 'A' && *field <= 'Z' ? *field + 32 : *field;
		if (f == 'k' && !strncmp(key, "\xe2\x84\xaa", 3)) {	/* U+212A KELVIN SIGN */
			key += 3;
			continue;
		}
		if (f == 's' && !strncmp(key, "\xc5\xbf", 2)) {	/* U+017F LONG S */
			key += 2;
			continue;
		}
		if ((*key >= 'A' && *key <= 'Z' ? *key + 32 : *key) != f)
			return false;
		key++;
	}
	return !*key;
}

/* The value of struct field @field of @obj as Go decodes it, or NULL. */
static json_t *go_field(json_t *obj, const char *field)
{
	json_t *v, *found = NULL;
	const char *k;

	json_object_foreach(obj, k, v)
		if (go_fold_eq(k, field))
			found = v;
	return json_is_null(found) ? NULL : found;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	default: return "a boolean";
	}
}

struct perr {
	char *buf;
	size_t len;
};

static int want(struct perr *e, const char *path, const char *what, const json_t *got)
{
	snprintf(e->buf, e->len, "%s: want %s, got %s", path, what, type_name(got));
	return -EINVAL;
}

/* An optional string field: NULL if absent or null. */
static int str_field(struct perr *e, json_t *obj, const char *field, const char *path,
		     const char **out)
{
	json_t *v = go_field(obj, field);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return want(e, path, "a string", v);
	*out = json_string_value(v);
	return 0;
}

/* map[string]string: every value a string (or null, Go's ""). */
static int str_map(struct perr *e, json_t *m, const char *path)
{
	const char *k;
	json_t *v;

	if (!m)
		return 0;
	if (!json_is_object(m))
		return want(e, path, "an object", m);
	json_object_foreach(m, k, v)
		if (!json_is_string(v) && !json_is_null(v)) {
			snprintf(e->buf, e->len, "%s[\"%.64s\"]: want a string, got %s", path, k,
				 type_name(v));
			return -EINVAL;
		}
	return 0;
}

static int parse_pod(struct perr *e, json_t *podj, const struct sched_cfg *cfg,
		     struct sched_pod *pod)
{
	json_t *meta, *labels, *ann;
	int err, i;

	if (!json_is_object(podj))
		return want(e, "ExtenderArgs.Pod", "an object", podj);
	meta = go_field(podj, "metadata");
	if (!meta)
		return 0;
	if (!json_is_object(meta))
		return want(e, "Pod.metadata", "an object", meta);
	err = str_field(e, meta, "name", "Pod.metadata.name", &pod->name);
	err = err ?: str_field(e, meta, "namespace", "Pod.metadata.namespace", &pod->ns);
	labels = go_field(meta, "labels");
	ann = go_field(meta, "annotations");
	err = err ?: str_map(e, labels, "Pod.metadata.labels");
	err = err ?: str_map(e, ann, "Pod.metadata.annotations");
	if (err)
		return err;
	pod->footprint = json_string_value(json_object_get(ann, "bpfnet.io/footprint"));
	for (i = 0; i < cfg->nlabels; i++)
		pod->label_vals[i] = json_string_value(json_object_get(labels, cfg->labels[i]));
	return 0;
}

static int parse_names(struct perr *e, json_t *arr, struct sched_args *a)
{
	size_t i, n;
	json_t *v;

	if (!json_is_array(arr))
		return want(e, "ExtenderArgs.NodeNames", "an array of strings", arr);
	n = json_array_size(arr);
	a->names = calloc(n ? n : 1, sizeof(*a->names));
	if (!a->names)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) && !json_is_null(v)) {
			snprintf(e->buf, e->len, "NodeNames[%zu]: want a string, got %s", i,
				 type_name(v));
			return -EINVAL;
		}
		a->names[i] = json_is_string(v) ? json_string_value(v) : "";
	}
	a->nnames = n;
	a->has_names = true;
	return 0;
}

static int parse_nodes(struct perr *e, json_t *list, struct sched_args *a)
{
	json_t *items, *v, *meta;
	char path[64];
	size_t i, n;
	int err;

	if (!json_is_object(list))
		return want(e, "ExtenderArgs.Nodes", "an object (NodeList)", list);
	a->has_nodes = true;
	items = go_field(list, "items");
	if (items && !json_is_array(items))
		return want(e, "Nodes.items", "an array", items);
	n = items ? json_array_size(items) : 0;
	a->items = items;
	a->item_names = calloc(n ? n : 1, sizeof(*a->item_names));
	if (!a->item_names)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v = json_array_get(items, i);
		a->item_names[i] = "";
		if (json_is_null(v))
			continue;
		snprintf(path, sizeof(path), "Nodes.items[%zu]", i);
		if (!json_is_object(v))
			return want(e, path, "an object", v);
		meta = go_field(v, "metadata");
		if (meta && !json_is_object(meta))
			return want(e, path, "metadata to be an object", meta);
		snprintf(path, sizeof(path), "Nodes.items[%zu].metadata.name", i);
		err = meta ? str_field(e, meta, "name", path, &a->item_names[i]) : 0;
		if (err)
			return err;
		if (!a->item_names[i])
			a->item_names[i] = "";
	}
	a->nitems = n;
	return 0;
}

int sched_args_parse(const char *body, size_t len, const struct sched_cfg *cfg,
		     struct sched_args *a, struct sched_pod *pod, char *err, size_t errlen)
{
	struct perr e = { err, errlen };
	json_t *podj, *names, *nodes;
	json_error_t je;
	int ret;

	memset(a, 0, sizeof(*a));
	memset(pod, 0, sizeof(*pod));
	if (!len) {
		snprintf(err, errlen, "empty body: want an ExtenderArgs JSON object");
		return -EINVAL;
	}
	a->root = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (!a->root) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", je.line, je.column,
			 je.text);
		return -EINVAL;
	}
	if (!json_is_object(a->root))
		return want(&e, "ExtenderArgs", "an object", a->root);
	podj = go_field(a->root, "Pod");
	names = go_field(a->root, "NodeNames");
	nodes = go_field(a->root, "Nodes");
	if (!podj) {
		snprintf(err, errlen, "no Pod in ExtenderArgs");
		return -EINVAL;
	}
	if (!names && !nodes) {
		snprintf(err, errlen, "no nodes in ExtenderArgs: want NodeNames or Nodes");
		return -EINVAL;
	}
	ret = parse_pod(&e, podj, cfg, pod);
	ret = ret ?: names ? parse_names(&e, names, a) : 0;
	ret = ret ?: nodes ? parse_nodes(&e, nodes, a) : 0;
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

void sched_args_free(struct sched_args *a)
{
	free(a->names);
	free(a->item_names);
	json_decref(a->root);
	memset(a, 0, sizeof(*a));
}

/* ---- answers ---- */

void sched_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
		p++;
	if (*p) {	/* something to escape or check: the common escaper */
		bn_json_escape(f, s);
		return;
	}
	fputc('"', f);
	fwrite(s, 1, (const char *)p - s, f);
	fputc('"', f);
}

static int mem_done(FILE *f, char **out, size_t *len)
{
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void failed_map(FILE *f, const struct sched_decision *d)
{
	bool first = true;
	int i;

	fputc('{', f);
	for (i = 0; d && !d->fail_open && i < d->n; i++) {
		if (!d->nodes[i].failed)
			continue;
		fputs(first ? "" : ",", f);
		sched_json_str(f, d->nodes[i].name);
		fputc(':', f);
		sched_json_str(f, d->nodes[i].reason);
		first = false;
	}
	fputc('}', f);
}

static bool passes(const struct sched_decision *d, int i)
{
	return d->fail_open || !d->nodes[i].failed;
}

int sched_answer_filter(const struct sched_args *a, const struct sched_decision *dn,
			const struct sched_decision *di, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	bool first = true;
	int i;

	if (!f)
		return -ENOMEM;
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	fputs("{\"Nodes\":", f);
	if (a->has_nodes) {
		fputs("{\"metadata\":{},\"items\":[", f);
		for (i = 0; i < di->n; i++) {
			if (!passes(di, i))
				continue;
			fputs(first ? "" : ",", f);
			json_dumpf(json_array_get(a->items, i), f,
				   JSON_COMPACT | JSON_ENCODE_ANY);
			first = false;
		}
		fputs("]}", f);
	} else {
		fputs("null", f);
	}
	fputs(",\"NodeNames\":", f);
	if (a->has_names) {
		fputc('[', f);
		for (i = 0, first = true; i < dn->n; i++) {
			if (!passes(dn, i))
				continue;
			fputs(first ? "" : ",", f);
			sched_json_str(f, dn->nodes[i].name);
			first = false;
		}
		fputc(']', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"FailedNodes\":{},\"FailedAndUnresolvableNodes\":", f);
	failed_map(f, a->has_names ? dn : di);
	fputs(",\"Error\":\"\"}\n", f);
	return mem_done(f, out, len);
}

int sched_answer_prioritize(const struct sched_decision *d, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	int i;

	if (!f)
		return -ENOMEM;
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	fputc('[', f);
	for (i = 0; i < d->n; i++) {
		fputs(i ? ",{\"Host\":" : "{\"Host\":", f);
		sched_json_str(f, d->nodes[i].name);
		fprintf(f, ",\"Score\":%d}", d->nodes[i].score);
	}
	fputs("]\n", f);
	return mem_done(f, out, len);
}

int sched_answer_error(const char *msg, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);

	if (!f)
		return -ENOMEM;
	fputs("{\"Error\":", f);
	bn_json_escape(f, msg);
	fputs("}\n", f);
	return mem_done(f, out, len);
}
