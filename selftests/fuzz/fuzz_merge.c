// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_merge - libFuzzer target for tracer-merge's reader (tracer/mread.c):
 * the input is two hosts' JSON Lines, split at the first NUL byte (none:
 * the same bytes twice). Every line is read, the packets joined and the
 * offsets estimated; what was taken must be consistent: every event's
 * packet has a slot with a sighting on its host, counts add up, and an
 * estimate's bounds hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

static void no_report(void *ctx, const struct mg_host *h, uint64_t line, const char *why)
{
	if (!why || !*why || !line)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t la = nul ? (size_t)(nul - data) : size;
	const uint8_t *b = nul ? nul + 1 : data;
	size_t lb = nul ? size - la - 1 : size;
	static struct mg m;
	FILE *fa, *fb;
	size_t i;
	int h;

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
	for (i = 0; i < m.nev; i++) {
		const struct mg_ev *e = &m.ev[i];
		const struct mg_seen *s = mg_seen(&m, e->id);

		if (!s || e->host > 1 || e->pt >= m.hosts[e->host].npoints)
			abort();
		if (!e->drop && (!s[e->host].n || e->ts < s[e->host].first_ts ||
				 e->ts > s[e->host].last_ts))
			abort();
	}
	if (!mg_estimate(&m, &h)) {
		const struct mg_host *x = &m.hosts[1];

		if (x->packets_ab + x->packets_ba == 0)
			abort();
		if (x->est == MG_EST_MID && (!x->packets_ab || !x->packets_ba))
			abort();
	}
done:
	mg_free(&m);
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return 0;
}
