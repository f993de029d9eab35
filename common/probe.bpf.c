// SPDX-License-Identifier: GPL-2.0
/* probe.bpf.c - one trivial program per hook type, for bn_probe_hook(). */
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe")
int probe_kprobe(struct pt_regs *ctx)
{
	return 0;
}

SEC("fentry")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("tp_btf")
int BPF_PROG(probe_tp_btf)
{
	return 0;
}

/* loads only where the verifier allows loads through an skb's data pointer */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(probe_tp_mem, struct sk_buff *skb)
{
	unsigned char *d = skb->data;

	return d[12] == 0xff;
}

SEC("tc")
int probe_tc(struct __sk_buff *skb)
{
	return 0;	/* TC_ACT_OK */
}

SEC("xdp")
int probe_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
