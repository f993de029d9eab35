// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_parse - libFuzzer target for common/'s parsers of untrusted text:
 * numbers, durations, sizes, CPU lists, addresses, prefixes, listen
 * addresses, and the JSON and Prometheus escapers. The input is one string;
 * every parser gets it, and what a parser accepts must print back sanely.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[BN_PREFIXSTRLEN], *out = NULL;
	struct bn_prefix pfx;
	struct bn_cpuset set;
	struct bn_listen l;
	struct bn_addr a;
	uint64_t u;
	int64_t i;
	size_t len;
	FILE *f;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	bn_parse_u64(s, 0, UINT64_MAX, &u);
	bn_parse_s64(s, INT64_MIN, INT64_MAX, &i);
	bn_parse_decimal(s, &u);
	bn_parse_duration(s, 1000000000ULL, &u);
	bn_parse_size(s, &u);
	bn_parse_cpulist(s, BN_MAX_CPUS, &set);
	if (!bn_parse_addr(s, &a))
		bn_addr_str(a.family, a.addr, buf, sizeof(buf));
	if (!bn_parse_prefix(s, &pfx)) {
		bn_prefix_str(&pfx, buf, sizeof(buf));
		if (!bn_prefix_match(&pfx, &pfx.addr))
			abort();	/* a prefix contains its own address */
	}
	if (!bn_parse_listen(s, &l) && strlen(l.str) >= sizeof(l.str))
		abort();
	f = open_memstream(&out, &len);
	if (f) {
		bn_json_escape(f, s);
		bn_prom_label(f, s);
		fclose(f);
		free(out);
	}
	free(s);
	return 0;
}
