// SPDX-License-Identifier: GPL-2.0
/*
 * ctlmsg.c - the policy names and the text of rss's control messages (ctl.c
 * sends and receives them): "policy=P\ncpus=LIST\nlong_cpus=LIST\nmin_cpus=N\n",
 * an empty value meaning "keep what runs". No BPF here: the fuzz target
 * (selftests/fuzz/fuzz_ctl.c) links this file alone.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "rss.h"
#include "server.h"

const char *const policy_names[RSS_NR_POLICIES] = {
	[RSS_POL_RR] = "rr",
	[RSS_POL_SPLIT] = "split",
	[RSS_POL_DYNAMIC] = "dynamic",
	[RSS_POL_HASH] = "hash",
	[RSS_POL_JSQ] = "jsq",
	[RSS_POL_P2C] = "p2c",
};

void ctl_msg_format(const struct policy_spec *sp, char *buf, size_t len)
{
	snprintf(buf, len, "policy=%s\ncpus=%s\nlong_cpus=%s\nmin_cpus=%d\n",
		 sp->policy >= 0 && sp->policy < RSS_NR_POLICIES ? policy_names[sp->policy] : "",
		 sp->cpus, sp->long_cpus, sp->min_cpus);
}

/* Copy the value @v into @dst of @size bytes; -EINVAL if it does not fit. */
static int take_list(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -EINVAL;	/* cut, it would be another list */
	strcpy(dst, v);
	return 0;
}

int ctl_msg_parse(char *buf, size_t n, struct policy_spec *sp)
{
	char *line, *save = NULL, *v;
	uint64_t num;

	memset(sp, 0, sizeof(*sp));
	sp->policy = -1;
	/* the text is all of the message: a NUL would hide the rest */
	if (memchr(buf, 0, n))
		return -EINVAL;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		v = strchr(line, '=');
		if (!v)
			return -EINVAL;
		*v++ = 0;
		if (!strcmp(line, "policy")) {
			if (*v)
				sp->policy = bn_name_index(v, policy_names, RSS_NR_POLICIES);
			if (*v && sp->policy < 0)
				return -EINVAL;
		} else if (!strcmp(line, "cpus")) {
			if (take_list(sp->cpus, sizeof(sp->cpus), v))
				return -EINVAL;
		} else if (!strcmp(line, "long_cpus")) {
			if (take_list(sp->long_cpus, sizeof(sp->long_cpus), v))
				return -EINVAL;
		} else if (!strcmp(line, "min_cpus")) {
			if (bn_parse_u64(v, 0, RSS_MAX_GROUP, &num))
				return -EINVAL;
			sp->min_cpus = num;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}
