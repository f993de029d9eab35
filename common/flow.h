/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow.h - the flow key both sides share (BPF and user space).
 *
 * Include after vmlinux.h in BPF code and after <linux/types.h> in user
 * space. Addresses are in network byte order, IPv4 in the first 4 bytes of
 * the 16-byte field with the rest zero; ports are in host byte order.
 */
#ifndef BPFNET_FLOW_H
#define BPFNET_FLOW_H

struct bn_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;	/* AF_INET (2) or AF_INET6 (10) */
	__u8 proto;	/* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u16 pad;
};

/* Result of bn_parse() (common/parse.bpf.h). */
enum bn_parse_err {
	BN_PARSE_OK = 0,
	BN_PARSE_SHORT = -1,	/* a header runs past data_end */
	BN_PARSE_NOT_IP = -2,	/* not IPv4/IPv6 (ARP, ...) */
	BN_PARSE_BAD = -3,	/* malformed: bad IHL, version, ... */
};

struct bn_pkt {
	struct bn_flow_key key;
	__u16 l3_off;		/* from the start of the frame */
	__u16 l4_off;		/* 0 when there is no TCP/UDP header */
	__u16 l4_len;		/* L4 length from the IP header (UDP/TCP incl. header) */
	__u16 eth_proto;	/* host order, after VLAN tags */
	__u8 frag;		/* IPv4 fragment (non-first fragments carry no ports) */
	__u8 tcp_flags;		/* TCP flags byte when proto is TCP */
};

#endif /* BPFNET_FLOW_H */
