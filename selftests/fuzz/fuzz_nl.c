// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_nl - libFuzzer target for elephant's netlink attribute parsing
 * (elephant/nl.c): the input is what a netlink socket returns, a run of
 * messages. Each goes to the ctnetlink event parser and to the rtnetlink
 * link, address and netns id dump callbacks, as elephant's loops do. What
 * they keep must be sane: a TCP/UDP tuple of one family, names terminated
 * within their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* the static parsers and callbacks too (tc.c: the tc filter dump's) */
#include "../../elephant/nl.c"
#include "../../common/tc.c"

static void check_links(const struct links_ctx *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (strnlen(c->links[i].name, IF_NAMESIZE) == IF_NAMESIZE ||
		    strnlen(c->links[i].kind, sizeof(c->links[i].kind)) ==
		    sizeof(c->links[i].kind))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct links_ctx links = {};
	const struct nlmsghdr *nh;
	struct ct_msg m;
	int n = size, nsid = -1, filters = 0;
	void *buf;

	if (size > BN_NL_BUF)
		return 0;
	/* a socket's buffer is aligned; the parsers may rely on that */
	buf = aligned_alloc(8, size ? (size + 7) / 8 * 8 : 8);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (nh = buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
		if (ctnl_parse(nh, &m) == 1) {
			if ((m.key.t.family != AF_INET && m.key.t.family != AF_INET6) ||
			    (m.key.t.proto != IPPROTO_TCP && m.key.t.proto != IPPROTO_UDP))
				abort();
		}
		if (link_cb(nh, &links) || addr_cb(nh, &links) || nsid_cb(nh, &nsid))
			break;
		filter_cb(nh, &filters);
	}
	check_links(&links);
	free(links.links);
	free(buf);
	return 0;
}
