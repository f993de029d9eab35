// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_merge - libFuzzer target for tracer-merge's reader and offset estimate
 * (tracer/mread.c). Two kinds of input:
 *
 * - text: two hosts' JSON Lines, split at the first NUL byte (none: the same
 *   bytes twice);
 * - packed (first byte '!'): a skew of host b's clock (4 bytes, us), then 4
 *   bytes per line: host, drop, point (of 4, hooks tx, rx, tcp-retrans, rxq),
 *   packet id (of 16), time (24 bits, us). Made into JSON Lines here, so
 *   nearly every input reaches the estimate: packets crossing both ways, one
 *   way, with bounds that overlap, hooks that tell or not.
 *
 * Every line is read, the packets joined and the offsets estimated; what was
 * taken must be consistent: counts add up, every packet's entries make its
 * sightings, and an estimate holds its invariants: it lies between the
 * lowest and the highest bound any shared packet gives, the uncertainty does
 * not wrap, the bounds' overlap is twice the uncertainty, a midpoint has
 * packets both ways and a one-way bound packets one way only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

#define BASE_NS		1764600000000000000LL

static void no_report(void *ctx, const struct mg_host *h, uint64_t line, const char *why)
{
	if (!why || !*why || !line)
		abort();
}

/* A packed input as two hosts' JSON Lines in @a and @b (memstreams). */
static void unpack(const uint8_t *d, size_t n, FILE *a, FILE *b)
{
	static const char *const hooks[] = { "tx", "rx", "tcp-retrans", "rxq" };
	int32_t skew_us;
	size_t i;

	if (n < 5)
		return;
	memcpy(&skew_us, d + 1, 4);
	for (i = 5; i + 4 <= n; i += 4) {
		int host = d[i] & 1, drop = d[i] >> 1 & 1, pt = d[i] >> 2 & 3;
		uint64_t id = 0x1000 + (d[i] >> 4);
		int64_t us = d[i + 1] | d[i + 2] << 8 | d[i + 3] << 16;
		int64_t ts = BASE_NS + us * 1000 + (host ? (int64_t)skew_us * 1000 : 0);
		FILE *f = host ? b : a;

		fprintf(f, "{\"type\":\"%s\",\"host\":\"host%c\",\"ts_ns\":%lld,"
			"\"pkt\":\"%016llx\",\"point\":\"%c%d\"", drop ? "drop" : "event",
			host ? 'B' : 'A', (long long)ts, (unsigned long long)id,
			host ? 'b' : 'a', drop ? 9 : pt);
		if (!drop)
			fprintf(f, ",\"hook\":\"%s\"", hooks[pt]);
		fputs("}\n", f);
	}
}

/* The entries sorted by id: each packet's sightings, and the bounds' range. */
static void check_packets(const struct mg *m, int64_t *umin, int64_t *wmax, uint64_t *both)
{
	struct mg_seen s[MG_MAX_HOSTS];
	uint64_t n[2] = {};
	size_t k, i, next;
	int h;

	*umin = INT64_MAX;
	*wmax = INT64_MIN;
	*both = 0;
	for (k = 0; k < m->nev; k = next) {
		next = mg_packet(m, k, s);
		if (next <= k || next > m->nev)
			abort();
		for (i = k; i < next; i++) {
			const struct mg_ev *e = &m->ev[i];

			if (e->id != m->ev[k].id || e->host > 1 ||
			    e->pt >= m->hosts[e->host].npoints)
				abort();
			if (!e->drop && (!s[e->host].n || e->ts < s[e->host].first_ts ||
					 e->ts > s[e->host].last_ts))
				abort();
			if (e->drop && !s[e->host].dropped)
				abort();
			n[e->host] += !e->drop;
		}
		if (next < m->nev && m->ev[next].id <= m->ev[k].id)
			abort();
		if (s[0].n && s[1].n) {
			uint64_t span = (s[0].last_ts - s[0].first_ts) +
					(s[1].last_ts - s[1].first_ts);
			int64_t u = (int64_t)(s[1].first_ts - s[0].last_ts);

			if (span > MG_MAX_SPAN_NS)
				continue;
			(*both)++;
			if (u < *umin)
				*umin = u;
			if (u + (int64_t)span > *wmax)
				*wmax = u + (int64_t)span;
		}
	}
	for (h = 0; h < 2; h++)
		if (n[h] != m->hosts[h].events)
			abort();
}

static void check_estimate(const struct mg *m, int64_t umin, int64_t wmax, uint64_t both)
{
	const struct mg_host *x = &m->hosts[1];
	int64_t lo, up;

	if (!both || x->packets_ab + x->packets_ba == 0 ||
	    x->packets_ab + x->packets_ba > both)
		abort();
	if (x->uncertainty_ns > INT64_MAX / 2 || x->overlap_ns < 0)
		abort();
	switch (x->est) {
	case MG_EST_MID:
		if (!x->packets_ab || !x->packets_ba)
			abort();
		if (x->overlap_ns && (uint64_t)x->overlap_ns / 2 != x->uncertainty_ns)
			abort();
		break;
	case MG_EST_UPPER:
		if (!x->packets_ab || x->packets_ba || x->uncertainty_ns || x->overlap_ns)
			abort();
		break;
	case MG_EST_LOWER:
		if (x->packets_ab || !x->packets_ba || x->uncertainty_ns || x->overlap_ns)
			abort();
		break;
	default:
		abort();
	}
	/* the bounds come from the packets: within their range (times here are sane) */
	if (umin < -(INT64_MAX / 4) || wmax > INT64_MAX / 4)
		return;
	lo = x->offset_ns - (int64_t)x->uncertainty_ns;
	up = x->offset_ns + (int64_t)x->uncertainty_ns;
	if (lo > up || lo < umin || up > wmax + 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t la = nul ? (size_t)(nul - data) : size;
	const uint8_t *b = nul ? nul + 1 : data;
	size_t lb = nul ? size - la - 1 : size;
	char *pa = NULL, *pb = NULL;
	size_t na = 0, nb = 0;
	static struct mg m;
	FILE *fa = NULL, *fb = NULL;
	int64_t umin, wmax;
	uint64_t both;
	int h, err;

	if (size && data[0] == '!') {
		fa = open_memstream(&pa, &na);
		fb = open_memstream(&pb, &nb);
		if (!fa || !fb)
			goto out;
		unpack(data, size, fa, fb);
		if (fclose(fa) | fclose(fb)) {
			fa = fb = NULL;
			goto out;
		}
		data = (const uint8_t *)pa;
		la = na;
		b = (const uint8_t *)pb;
		lb = nb;
	}
	/* fmemopen wants a non-empty buffer */
	fa = fmemopen((void *)(la ? data : (const uint8_t *)"\n"), la ? la : 1, "r");
	fb = fmemopen((void *)(lb ? b : (const uint8_t *)"\n"), lb ? lb : 1, "r");
	if (!fa || !fb)
		goto out;
	memset(&m, 0, sizeof(m));
	m.bad_line = no_report;
	if (mg_add_host(&m, "a", fa) || mg_add_host(&m, "b", fb))
		abort();
	if (mg_read(&m, 0) || mg_read(&m, 1))
		goto done;
	for (h = 0; h < 2; h++)
		if (m.hosts[h].events + m.hosts[h].drops + m.hosts[h].bad > m.hosts[h].lines)
			abort();
	err = mg_estimate(&m, &h);
	/* sorted by id now, whatever the estimate said */
	check_packets(&m, &umin, &wmax, &both);
	if (!err)
		check_estimate(&m, umin, wmax, both);
	else if (err == -ENODATA && both)
		abort();
done:
	mg_free(&m);
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	free(pa);
	free(pb);
	return 0;
}
