// SPDX-License-Identifier: GPL-2.0
/*
 * ct_hooks.bpf.c - the BPF side of ct_hooks_test: fentry, fexit and kprobe
 * programs on two out-of-line conntrack functions, counting only the entries
 * of the test's own connections (its netns, TCP, its address and port):
 *
 *   __nf_conntrack_confirm(skb)  once per new connection, when its first
 *                                packet leaves POSTROUTING
 *   nf_ct_delete(ct, portid, report)
 *                                once per entry removed, e.g. by a flush
 *
 * nf_conntrack is a module on Debian's kernels: libbpf finds both functions
 * in its BTF (fentry/fexit) and in kallsyms (kprobe).
 */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define NF_ACCEPT	1
#define NFCT_PTRMASK	(~7UL)
#define PROTO_TCP	6

/* set by the test before load */
const volatile __u32 target_netns;	/* inode of the test's netns */
const volatile __u32 target_daddr;	/* IPv4, network order */
const volatile __u16 target_dport;	/* network order */

__u64 fentry_confirm;
__u64 fexit_confirm_accept;
__u64 kprobe_confirm;
__u64 fentry_delete;
__u64 kprobe_delete;

/* Whether @ct tracks one of the test's connections (original direction). */
static __always_inline bool ours(const struct nf_conn *ct)
{
	if (!ct)
		return false;
	if (BPF_CORE_READ(ct, ct_net.net, ns.inum) != target_netns)
		return false;
	if (BPF_CORE_READ(ct, tuplehash[0].tuple.dst.protonum) != PROTO_TCP)
		return false;
	return BPF_CORE_READ(ct, tuplehash[0].tuple.dst.u3.ip) == target_daddr &&
	       BPF_CORE_READ(ct, tuplehash[0].tuple.dst.u.tcp.port) == target_dport;
}

static __always_inline const struct nf_conn *skb_ct(const struct sk_buff *skb)
{
	return (const struct nf_conn *)(BPF_CORE_READ(skb, _nfct) & NFCT_PTRMASK);
}

SEC("fentry/__nf_conntrack_confirm")
int BPF_PROG(on_confirm_fentry, struct sk_buff *skb)
{
	if (ours(skb_ct(skb)))
		__sync_fetch_and_add(&fentry_confirm, 1);
	return 0;
}

SEC("fexit/__nf_conntrack_confirm")
int BPF_PROG(on_confirm_fexit, struct sk_buff *skb, int ret)
{
	if (ret == NF_ACCEPT && ours(skb_ct(skb)))
		__sync_fetch_and_add(&fexit_confirm_accept, 1);
	return 0;
}

SEC("kprobe/__nf_conntrack_confirm")
int BPF_KPROBE(on_confirm_kprobe, struct sk_buff *skb)
{
	if (ours(skb_ct(skb)))
		__sync_fetch_and_add(&kprobe_confirm, 1);
	return 0;
}

SEC("fentry/nf_ct_delete")
int BPF_PROG(on_delete_fentry, struct nf_conn *ct)
{
	if (ours(ct))
		__sync_fetch_and_add(&fentry_delete, 1);
	return 0;
}

SEC("kprobe/nf_ct_delete")
int BPF_KPROBE(on_delete_kprobe, struct nf_conn *ct)
{
	if (ours(ct))
		__sync_fetch_and_add(&kprobe_delete, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
