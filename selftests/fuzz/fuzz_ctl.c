// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ctl - libFuzzer target for the messages rss's control socket takes
 * (rss --swap's request): the input is one message as the server receives
 * it. A message that parses must format back to text that parses to the
 * same spec.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "rss.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[CTL_MAX], text[CTL_MAX];
	struct policy_spec a, b;

	if (size >= sizeof(buf))	/* the server refuses those unread */
		return 0;
	memcpy(buf, data, size);
	if (ctl_msg_parse(buf, size, &a))
		return 0;
	if (a.policy < -1 || a.policy >= RSS_NR_POLICIES || a.min_cpus < 0 ||
	    a.min_cpus > RSS_MAX_GROUP || strlen(a.cpus) >= sizeof(a.cpus) ||
	    strlen(a.long_cpus) >= sizeof(a.long_cpus))
		abort();
	ctl_msg_format(&a, text, sizeof(text));
	if (ctl_msg_parse(text, strlen(text), &b) || a.policy != b.policy ||
	    a.min_cpus != b.min_cpus || strcmp(a.cpus, b.cpus) || strcmp(a.long_cpus, b.long_cpus))
		abort();
	return 0;
}
