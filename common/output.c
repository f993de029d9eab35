// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - what every tool prints the same way: JSON Lines records, the
 * text-mode time, the ready line, Prometheus text and per-CPU map sums.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "common.h"

/*
 * Length of the valid UTF-8 sequence at @p (1..4), or 0 if the bytes there
 * are not one (overlong forms, surrogates and code points past U+10FFFF are
 * not valid). @p is NUL-terminated, which ends any sequence early.
 */
static int utf8_seq(const unsigned char *p)
{
	uint32_t cp;
	int n, i;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* ---- JSON Lines ---- */

void bn_json_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	int n;

	fputc('"', f);
	while (*p) {
		const unsigned char *run = p;

		/* the common case: a run of printable ASCII, written at once */
		while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			fwrite(run, 1, p - run, f);
		if (!*p)
			break;
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(f, "\\u%04x", *p);
				break;
			}
			n = utf8_seq(p);
			if (!n) {
				/* not UTF-8: the text \xNN, so the line stays JSON */
				fprintf(f, "\\\\x%02x", *p);
				break;
			}
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', f);
}

void bn_json_begin(struct bn_json *j, FILE *f)
{
	j->f = f;
	j->nfields = 0;
	j->depth = 0;
	fputc('{', f);
}

static void json_key(struct bn_json *j, const char *key)
{
	if (j->nfields++)
		fputc(',', j->f);
	if (!key)
		return;
	bn_json_escape(j->f, key);
	fputc(':', j->f);
}

static void json_push(struct bn_json *j, const char *key, char open)
{
	json_key(j, key);
	fputc(open, j->f);
	if (j->depth < BN_JSON_DEPTH)
		j->outer[j->depth] = j->nfields;
	j->depth++;
	j->nfields = 0;
}

static void json_pop(struct bn_json *j, char close)
{
	fputc(close, j->f);
	if (j->depth > 0 && --j->depth < BN_JSON_DEPTH)
		j->nfields = j->outer[j->depth];
}

void bn_json_arr_begin(struct bn_json *j, const char *key)
{
	json_push(j, key, '[');
}

void bn_json_arr_end(struct bn_json *j)
{
	json_pop(j, ']');
}

void bn_json_obj_begin(struct bn_json *j, const char *key)
{
	json_push(j, key, '{');
}

void bn_json_obj_end(struct bn_json *j)
{
	json_pop(j, '}');
}

void bn_json_str(struct bn_json *j, const char *key, const char *val)
{
	json_key(j, key);
	bn_json_escape(j->f, val);
}

void bn_json_u64(struct bn_json *j, const char *key, uint64_t val)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, val);
}

void bn_json_s64(struct bn_json *j, const char *key, int64_t val)
{
	json_key(j, key);
	fprintf(j->f, "%" PRId64, val);
}

void bn_json_double(struct bn_json *j, const char *key, double val, int prec)
{
	json_key(j, key);
	if (isnan(val) || isinf(val))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.*f", prec, val);
}

void bn_json_bool(struct bn_json *j, const char *key, bool val)
{
	json_key(j, key);
	fputs(val ? "true" : "false", j->f);
}

void bn_json_null(struct bn_json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

void bn_json_end(struct bn_json *j)
{
	while (j->depth > 0)
		json_pop(j, '}');
	fputs("}\n", j->f);
}

/* ---- records ---- */

void bn_rec_begin(struct bn_json *j, FILE *f, const char *type, uint64_t realtime_ns)
{
	bn_json_begin(j, f);
	bn_json_str(j, "type", type);
	json_key(j, "time");
	fprintf(f, "%" PRIu64 ".%06" PRIu64, realtime_ns / (uint64_t)1000000000,
		realtime_ns % (uint64_t)1000000000 / 1000);
}

const char *bn_time_str(uint64_t realtime_ns, char *buf, size_t len)
{
	time_t t = realtime_ns / 1000000000ULL;
	struct tm tm;
	size_t n;

	if (!len)
		return buf;
	if (!localtime_r(&t, &tm) || !(n = strftime(buf, len, "%H:%M:%S", &tm))) {
		snprintf(buf, len, "??:??:??.???");
		return buf;
	}
	snprintf(buf + n, len - n, ".%03" PRIu64, realtime_ns % (uint64_t)1000000000 / 1000000);
	return buf;
}

const char *bn_safe_str(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 0;
	char e[5];
	int k;

	if (!len)
		return buf;
	for (; *p; p++) {
		if (*p == '\\')
			k = snprintf(e, sizeof(e), "\\\\");
		else if (*p >= 0x20 && *p < 0x7f)
			k = snprintf(e, sizeof(e), "%c", *p);
		else
			k = snprintf(e, sizeof(e), "\\x%02x", *p);
		if (n + k >= len)
			break;
		memcpy(buf + n, e, k);
		n += k;
	}
	buf[n] = '\0';
	return buf;
}

void bn_ready(void)
{
	fprintf(stderr, "%s: ready\n", bn_prog());
	fflush(stderr);
}

/* ---- Prometheus text format ---- */

void bn_prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	/* HELP text escapes only the backslash and the line feed */
	for (; *help; help++) {
		if (*help == '\\')
			fputs("\\\\", f);
		else if (*help == '\n')
			fputs("\\n", f);
		else
			fputc(*help, f);
	}
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

void bn_prom_label(FILE *f, const char *val)
{
	const unsigned char *p = (const unsigned char *)(val ? val : "");
	int n;

	while (*p) {
		if (*p == '\\') {
			fputs("\\\\", f);
		} else if (*p == '"') {
			fputs("\\\"", f);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else {
			n = utf8_seq(p);
			if (!n) {
				fputs("\xef\xbf\xbd", f);	/* U+FFFD */
			} else {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			}
		}
		p++;
	}
}

/* ---- per-CPU maps ---- */

int bn_percpu_sum(int map_fd, const void *key, uint64_t *out, size_t nvals)
{
	int ncpu = bn_nr_cpus(), cpu;
	uint64_t *vals;
	size_t i;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu * nvals, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, key, vals)) {
		int err = -errno;

		free(vals);
		return err;
	}
	memset(out, 0, nvals * sizeof(*out));
	for (cpu = 0; cpu < ncpu; cpu++)
		for (i = 0; i < nvals; i++)
			out[i] += vals[(size_t)cpu * nvals + i];
	free(vals);
	return 0;
}
