/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcap.h - compile a pcap-filter expression to classic BPF. Kept apart
 * from the eBPF headers: libpcap's struct bpf_insn is the classic one.
 */
#ifndef TRACER_PCAP_H
#define TRACER_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

/* @expr for an Ethernet frame; *@prog malloc()ed. 0 or -EINVAL with @err set. */
int tr_pcap_compile(const char *expr, struct sock_filter **prog, int *n, char *err,
		    size_t len);

/* libpcap's interpreter on @pkt: what tcpdump would say (tests compare to it). */
unsigned int tr_pcap_run(const struct sock_filter *prog, int n, const uint8_t *pkt,
			 uint32_t wirelen, uint32_t buflen);

#endif /* TRACER_PCAP_H */
