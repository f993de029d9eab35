// SPDX-License-Identifier: GPL-2.0
/*
 * backend.c - probe, load and attach elephant's fentry, kprobe or tc
 * programs through the skeleton.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "backend.h"
#include "nl.h"
#include "elephant.skel.h"

const char *const el_bk_names[EL_BK_MAX] = { "auto", "fentry", "kprobe", "tc" };

/*
 * Look @name up in the kernel's BTF: vmlinux, then nf_conntrack's module BTF
 * (a module on most distributions). Returns the type's size (0 for
 * functions) or a negative errno when it is not there.
 */
static int kernel_btf_find(const char *name, int kind)
{
	struct btf *vml, *mod = NULL;
	const struct btf_type *t;
	int id, ret = -ENOENT;

	vml = btf__load_vmlinux_btf();
	if (!vml)
		return -ENOENT;
	id = btf__find_by_name_kind(vml, name, kind);
	if (id > 0) {
		t = btf__type_by_id(vml, id);
		ret = kind == BTF_KIND_STRUCT ? (int)t->size : 0;
		goto out;
	}
	mod = btf__load_module_btf("nf_conntrack", vml);
	if (!mod)
		goto out;
	id = btf__find_by_name_kind(mod, name, kind);
	if (id > 0) {
		t = btf__type_by_id(mod, id);
		ret = kind == BTF_KIND_STRUCT ? (int)t->size : 0;
	}
out:
	btf__free(mod);
	btf__free(vml);
	return ret;
}

/* 16 when bpf_ct_opts has ct_zone_id (lookups in any zone), else 12. */
static uint32_t ct_opts_size(void)
{
	return kernel_btf_find("bpf_ct_opts", BTF_KIND_STRUCT) >= 16 ? 16 : 12;
}

/* Load only the programs of backend @bk. */
/* The inode of elephant's own netns (0 if it cannot be read: then every netns). */
static uint32_t netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

static void set_autoload(struct elephant_bpf *skel, enum el_bk bk)
{
	struct bpf_program *kp[] = { skel->progs.kp_confirm, skel->progs.kp_events,
				     skel->progs.kp_refresh, skel->progs.kp_delete };
	struct bpf_program *fe[] = { skel->progs.fe_confirm, skel->progs.fe_events,
				     skel->progs.fe_refresh, skel->progs.fe_delete };
	unsigned int i;

	for (i = 0; i < sizeof(kp) / sizeof(kp[0]); i++) {
		bpf_program__set_autoload(kp[i], bk == EL_BK_KPROBE);
		bpf_program__set_autoload(fe[i], bk == EL_BK_FENTRY);
	}
	bpf_program__set_autoload(skel->progs.el_tc_ingress, bk == EL_BK_TC);
}

void bk_close(struct el_backend *b)
{
	/* detaches the skeleton's links too */
	elephant_bpf__destroy(b->skel);
	b->skel = NULL;
}

/* Load and attach one backend; 0, or a negative errno with *why set. */
static int bk_open(struct el_backend *b, enum el_bk bk, const struct el_thresh *th,
		   uint32_t max_flows, const char **why)
{
	struct elephant_bpf *skel;
	int err;

	skel = elephant_bpf__open();
	if (!skel) {
		*why = "cannot open the BPF object";
		return -errno;
	}
	b->skel = skel;
	skel->rodata->min_bytes = th->min_bytes;
	skel->rodata->min_duration_ns = th->min_duration_ns;
	skel->rodata->min_rate_bps = th->min_rate_bps;
	b->ct_opts_sz = ct_opts_size();
	skel->rodata->ct_opts_sz = b->ct_opts_sz;
	skel->rodata->netns_ino = netns_ino();
	bpf_map__set_max_entries(skel->maps.flows, max_flows);
	bpf_map__set_max_entries(skel->maps.pending, max_flows);
	bpf_map__set_max_entries(skel->maps.tuple_cache, max_flows);
	set_autoload(skel, bk);
	err = elephant_bpf__load(skel);
	if (err) {
		*why = "the kernel refused to load the programs";
		goto fail;
	}
	if (bk == EL_BK_TC)
		return 0;
	err = elephant_bpf__attach(skel);
	if (err) {
		*why = "cannot attach";
		goto fail;
	}
	return 0;
fail:
	bk_close(b);
	return err ? err : -EINVAL;
}

int bk_start(struct el_backend *b, enum el_bk want, const struct el_thresh *th,
	     uint32_t max_flows)
{
	static const enum el_bk order[] = { EL_BK_FENTRY, EL_BK_KPROBE, EL_BK_TC };
	const char *why = "";
	unsigned int i;
	int err = -EINVAL;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (want != EL_BK_AUTO && want != order[i])
			continue;
		err = bk_open(b, order[i], th, max_flows, &why);
		if (!err) {
			b->kind = order[i];
			return 0;
		}
		if (want == EL_BK_AUTO)
			bn_info("backend %s: %s: %s", el_bk_names[order[i]], why,
				strerror(-err));
	}
	if (want == EL_BK_AUTO)
		bn_err("no backend works on this kernel (fentry, kprobe, tc; -v says why)");
	else
		bn_err("backend %s: %s: %s", el_bk_names[want], why, strerror(-err));
	return err;
}

int bk_list(void)
{
	bool inactive[2] = {};
	static const char *const funcs[] = { "__nf_conntrack_confirm",
		"nf_ct_deliver_cached_events", "__nf_ct_refresh_acct", "nf_ct_delete" };
	unsigned int i;
	int err;

	printf("%-7s %-6s %s\n", "BACKEND", "WORKS", "DETAIL");
	for (i = 0; i < 2; i++) {
		enum bn_hook h = i ? BN_HOOK_KPROBE : BN_HOOK_FENTRY;
		unsigned int k;

		for (k = 0; k < 4; k++) {
			err = bn_probe_hook(h, funcs[k]);
			if (err)
				break;
		}
		if (err)
			printf("%-7s %-6s %s on %s: %s\n", bn_hook_name(h), "no", bn_hook_name(h),
			       funcs[k], strerror(-err));
		else
			printf("%-7s %-6s %s\n", bn_hook_name(h), "yes", "all four hooks attach");
	}
	err = bn_probe_hook(BN_HOOK_TC, NULL);
	if (!err && kernel_btf_find("bpf_skb_ct_lookup", BTF_KIND_FUNC) < 0)
		err = -ENOENT;
	if (err)
		printf("%-7s %-6s %s\n", "tc", "no", err == -ENOENT ?
		       "no bpf_skb_ct_lookup kfunc" : strerror(-err));
	else
		printf("%-7s %-6s %s\n", "tc", "yes", ct_opts_size() >= 16 ?
		       "conntrack zones looked up" : "zone 0 only (no bpf_ct_opts.ct_zone_id)");
	bk_ct_check(inactive, true);
	return 0;
}

void bk_ct_check(bool inactive[2], bool start)
{
	static const int family[2] = { AF_INET, AF_INET6 };
	static const char *const name[2] = { "IPv4", "IPv6" };
	int i, act;

	for (i = 0; i < 2; i++) {
		if (!start && !inactive[i])
			continue;
		act = ctnl_active(family[i]);
		if (act == 0 && start) {
			inactive[i] = true;
			bn_warn("conntrack is not active for %s in this network namespace (no rule "
				"asks for it): its flows are not seen until one does", name[i]);
		} else if (act == 1 && inactive[i]) {
			inactive[i] = false;
			fprintf(stderr, "%s: conntrack is now active for %s in this network "
				"namespace\n", bn_prog(), name[i]);
		} else if (act < 0 && start) {
			bn_dbg("cannot tell whether conntrack is active for %s: %s", name[i],
			       strerror(-act));
		}
	}
}
