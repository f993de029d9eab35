// SPDX-License-Identifier: GPL-2.0
/*
 * probe.c - can this kernel attach a program of a given hook type?
 *
 * Each probe opens the probe skeleton with only one program enabled, loads
 * it and, for the tracing hooks, attaches it to the requested target and
 * detaches at once. That answers what tools need to know for --backend auto:
 * "kprobes compiled out" and "fentry refused" both show up as errors here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "probe.skel.h"

static const char *const hook_names[BN_HOOK_MAX] = {
	[BN_HOOK_KPROBE] = "kprobe",
	[BN_HOOK_FENTRY] = "fentry",
	[BN_HOOK_TP_BTF] = "tp_btf",
	[BN_HOOK_TC] = "tc",
	[BN_HOOK_XDP] = "xdp",
	[BN_HOOK_TP_MEM] = "tp_btf reading skb->data",
};

const char *bn_hook_name(enum bn_hook hook)
{
	return hook < BN_HOOK_MAX ? hook_names[hook] : "?";
}

static struct bpf_program *hook_prog(struct probe_bpf *skel, enum bn_hook hook)
{
	switch (hook) {
	case BN_HOOK_KPROBE:
		return skel->progs.probe_kprobe;
	case BN_HOOK_FENTRY:
		return skel->progs.probe_fentry;
	case BN_HOOK_TP_BTF:
		return skel->progs.probe_tp_btf;
	case BN_HOOK_TC:
		return skel->progs.probe_tc;
	case BN_HOOK_XDP:
		return skel->progs.probe_xdp;
	case BN_HOOK_TP_MEM:
		return skel->progs.probe_tp_mem;
	default:
		return NULL;
	}
}

int bn_probe_hook(enum bn_hook hook, const char *func)
{
	libbpf_print_fn_t old_print;
	struct bpf_program *prog, *want;
	struct bpf_link *link = NULL;
	struct probe_bpf *skel;
	int err;

	if (hook >= BN_HOOK_MAX)
		return -EINVAL;
	if (!func)
		func = hook == BN_HOOK_TP_BTF ? "sched_switch" : "vfs_read";

	/* A failing probe is an answer, not an error: keep libbpf quiet. */
	old_print = libbpf_set_print(NULL);
	skel = probe_bpf__open();
	if (!skel) {
		err = -errno;
		goto out;
	}
	want = hook_prog(skel, hook);
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == want);

	if (hook == BN_HOOK_FENTRY || hook == BN_HOOK_TP_BTF) {
		err = bpf_program__set_attach_target(want, 0, func);
		if (err)
			goto out;
	}
	err = probe_bpf__load(skel);
	if (err)
		goto out;

	switch (hook) {
	case BN_HOOK_KPROBE:
		link = bpf_program__attach_kprobe(want, false, func);
		break;
	case BN_HOOK_FENTRY:
	case BN_HOOK_TP_BTF:
		link = bpf_program__attach(want);
		break;
	default:
		break;
	}
	if (hook <= BN_HOOK_TP_BTF && !link)
		err = -errno ? -errno : -EINVAL;
out:
	bpf_link__destroy(link);
	probe_bpf__destroy(skel);
	libbpf_set_print(old_print);
	if (err > 0)
		err = -err;
	return err;
}

bool bn_ksym_exists(const char *func)
{
	static const char *const files[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
		"/proc/kallsyms",
	};
	size_t flen = strlen(func);
	char line[512];
	unsigned int i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		bool kallsyms = i == 2;
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *name = line;

			if (kallsyms) {
				/* "ffffffff81000000 T name [module]" */
				name = strchr(line, ' ');
				if (!name || !(name = strchr(name + 1, ' ')))
					continue;
				name++;
			}
			if (!strncmp(name, func, flen) &&
			    (name[flen] == '\n' || name[flen] == ' ' || name[flen] == '\t' ||
			     name[flen] == '\0')) {
				fclose(f);
				return true;
			}
		}
		fclose(f);
		return false;
	}
	return false;
}
