// SPDX-License-Identifier: GPL-2.0
/*
 * pcap.c - libpcap's compiler, for an Ethernet frame: a pcap-filter
 * expression to classic BPF (as tcpdump would run it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

#include "pcap.h"

int tr_pcap_compile(const char *expr, struct sock_filter **prog, int *n, char *err,
		    size_t len)
{
	struct bpf_program bp;
	pcap_t *p;
	size_t i;

	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		snprintf(err, len, "cannot compile filter: out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(p, &bp, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, len, "invalid filter '%.64s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	*prog = calloc(bp.bf_len ? bp.bf_len : 1, sizeof(**prog));
	if (!*prog) {
		pcap_freecode(&bp);
		pcap_close(p);
		return -ENOMEM;
	}
	for (i = 0; i < bp.bf_len; i++) {
		(*prog)[i].code = bp.bf_insns[i].code;
		(*prog)[i].jt = bp.bf_insns[i].jt;
		(*prog)[i].jf = bp.bf_insns[i].jf;
		(*prog)[i].k = bp.bf_insns[i].k;
	}
	*n = bp.bf_len;
	pcap_freecode(&bp);
	pcap_close(p);
	return 0;
}

unsigned int tr_pcap_run(const struct sock_filter *prog, int n, const uint8_t *pkt,
			 uint32_t wirelen, uint32_t buflen)
{
	struct bpf_insn *v = calloc(n, sizeof(*v));
	unsigned int ret;
	int i;

	if (!v)
		return 0;
	for (i = 0; i < n; i++)
		v[i] = (struct bpf_insn){ prog[i].code, prog[i].jt, prog[i].jf, prog[i].k };
	ret = bpf_filter(v, pkt, wirelen, buflen);
	free(v);
	return ret;
}
