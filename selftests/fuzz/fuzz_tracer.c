// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_tracer - libFuzzer target for tracer's parsers of untrusted text:
 * the config file (through a memfd, as tracer reads it), each directive
 * with the input as its value (points, rules, sample, sizes, durations),
 * and a filter expression through libpcap and the eBPF translator. What
 * is accepted must be consistent: names fit their buffers, rules resolve
 * only to segments of points that exist.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "state.h"

static const char *const directives[] = {
	"point", "filter", "events", "loss-timeout", "buffer", "track", "rule", "sample", "top",
};

static void check(const struct tr_opts *o)
{
	uint64_t rule_ns[TR_MAX_SEGS];
	char err[512];
	int i;

	if (o->npoints > TR_MAX_POINTS || o->nrules > TR_MAX_RULES)
		abort();
	for (i = 0; i < o->npoints; i++)
		if (strlen(o->points[i].name) >= TR_NAME_LEN || o->points[i].p.hook >= TR_HOOK_MAX ||
		    strlen(o->points[i].func) >= TR_FUNC_LEN || !o->points[i].hook[0] ||
		    (o->points[i].p.hook >= TR_HOOK_FENTRY) != !!o->points[i].func[0])
			abort();
	memset(rule_ns, 0, sizeof(rule_ns));
	tr_rules_resolve(o, rule_ns, err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tr_opts o;
	struct bpf_insn code[TR_SLOT_LEN];
	char path[64], err[512], *s;
	unsigned int d;
	int fd, n;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fd = memfd_create("fuzz_tracer", 0);
	if (fd >= 0 && write(fd, data, size) == (ssize_t)size) {
		memset(&o, 0, sizeof(o));
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		tr_config_load(&o, path, err, sizeof(err));
		check(&o);
	}
	if (fd >= 0)
		close(fd);
	memset(&o, 0, sizeof(o));
	for (d = 0; d < sizeof(directives) / sizeof(directives[0]); d++)
		tr_opt_set(&o, directives[d], s, err, sizeof(err));
	check(&o);
	if (size < 256)
		tr_filter_compile(s, code, TR_SLOT_LEN - 1, &n, err, sizeof(err));
	free(s);
	return 0;
}
