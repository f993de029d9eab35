// SPDX-License-Identifier: GPL-2.0
/*
 * fpoints.c - fentry:FUNC and kprobe:FUNC points: find the function in
 * /proc/kallsyms (its address and module), its first struct sk_buff *
 * argument in its BTF (vmlinux's or its module's), and attach to it.
 *
 * An fentry program's target is fixed when it is loaded, so each function
 * traced by fentry gets an object of its own, opened from the same ELF bytes
 * as the skeleton: only its fentry program loads, with `fn` (the function's
 * address and skb position) set in its .rodata and every other map the
 * skeleton's (reused by fd). The skeleton's one kprobe program serves every
 * kprobe point: the BPF side tells them by bpf_get_func_ip().
 * fentry:FUNC falls back to a kprobe where fentry cannot load or attach.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>

#include "state.h"

#define KSYMS_STALL_MS	8000	/* /proc/kallsyms read without progress */
#define KPROBE_PMU	"/sys/bus/event_source/devices/kprobe"

struct tr_fn {
	struct bpf_object *objs[TR_MAX_POINTS];	/* fentry instances */
	struct bpf_link *links[TR_MAX_POINTS];
	int nobjs, nlinks;
};

/* The kernel's ENOTSUPP (524) is not in libc's table. */
static const char *err_str(int err)
{
	return err == -524 ? "not supported by the kernel (ENOTSUPP)" : strerror(-err);
}

static bool is_fn(int hook)
{
	return hook == TR_HOOK_FENTRY || hook == TR_HOOK_KPROBE;
}

static const struct btf_type *skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The position of @func's first struct sk_buff * argument; -ENOENT, -ENOMSG. */
static int btf_skb_arg(const struct btf *btf, const char *func)
{
	const struct btf_type *t, *p;
	const struct btf_param *prm;
	int id, i;

	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_func_proto(t))
		return -ENOMSG;
	prm = btf_params(t);
	for (i = 0; i < btf_vlen(t); i++) {
		p = skip_mods(btf, prm[i].type);
		if (!p || !btf_is_ptr(p))
			continue;
		p = skip_mods(btf, p->type);
		if (p && btf_is_struct(p) && !strcmp(btf__name_by_offset(btf, p->name_off), "sk_buff"))
			return i;
	}
	return -ENOMSG;
}

/* @func's address and module (NULL: vmlinux); the number of text symbols of that name. */
static int func_addr(const struct bn_ksyms *ks, const char *func, __u64 *addr,
		     const char **module)
{
	size_t i;
	int n = 0;

	for (i = 0; i < ks->n; i++) {
		if (strcmp(ks->syms[i].name, func))
			continue;
		if (!n++) {
			*addr = ks->syms[i].addr;
			*module = ks->syms[i].module;
		}
	}
	return n;
}

/* @pc's function: where it is (kallsyms), then its skb argument (its BTF). */
static int fn_resolve_one(struct tr_point_cfg *pc, const struct bn_ksyms *ks, struct btf *vmlinux,
			  char *err, size_t len)
{
	const char *mod = NULL;
	struct btf *btf = vmlinux;
	char path[300];
	int n, arg;

	n = func_addr(ks, pc->func, &pc->p.ip, &mod);
	if (n != 1) {
		snprintf(err, len, "point %s: %s %s", pc->name, pc->func, n ?
			 "is ambiguous: several functions of that name in /proc/kallsyms" :
			 "is not a function of the running kernel");
		return -ENOENT;
	}
	if (mod) {
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", mod);
		btf = btf__parse_split(path, vmlinux);
	}
	arg = btf ? btf_skb_arg(btf, pc->func) : -ENOENT;
	if (btf != vmlinux)
		btf__free(btf);
	if (arg == -ENOENT)
		snprintf(err, len, "point %s: %s is not in the BTF of %s", pc->name, pc->func,
			 mod ? mod : "vmlinux");
	else if (arg < 0)
		snprintf(err, len, "point %s: %s has no struct sk_buff * argument", pc->name,
			 pc->func);
	else if (arg >= TR_FN_ARGS)
		snprintf(err, len, "point %s: the skb is argument %d of %s: at most %d is "
			 "supported", pc->name, arg + 1, pc->func, TR_FN_ARGS);
	if (arg < 0 || arg >= TR_FN_ARGS)
		return arg < 0 ? arg : -ENOTSUP;
	pc->p.arg = arg;
	return 0;
}

int tr_fn_resolve(struct tr_opts *o, char *err, size_t len)
{
	struct bn_ksyms ks = {};
	struct btf *btf = NULL;
	int i, ret = 0;

	for (i = 0; i < o->npoints && !ret; i++) {
		struct tr_point_cfg *pc = &o->points[i];

		if (!is_fn(pc->p.hook))
			continue;
		if (!btf && !(btf = btf__load_vmlinux_btf())) {
			ret = -errno;
			snprintf(err, len, "point %s: no kernel BTF to find %s in: %s", pc->name,
				 pc->func, strerror(-ret));
			break;
		}
		if (!ks.n && (ret = bn_ksyms_load(&ks, "/proc/kallsyms", KSYMS_STALL_MS))) {
			snprintf(err, len, "point %s: cannot read /proc/kallsyms: %s", pc->name,
				 strerror(-ret));
			break;
		}
		ret = fn_resolve_one(pc, &ks, btf, err, len);
	}
	bn_ksyms_free(&ks);
	btf__free(btf);
	return ret;
}

/* The skeleton loads no fentry program (see fentry_attach()), and the kprobe one if needed. */
void tr_fn_prepare(const struct tr_opts *o, struct bpf_object *obj)
{
	struct bpf_program *prog;
	bool used = false;
	int i;

	for (i = 0; i < o->npoints; i++)
		used |= is_fn(o->points[i].p.hook);
	prog = bpf_object__find_program_by_name(obj, "tr_fe");
	if (prog)
		bpf_program__set_autoload(prog, false);
	prog = bpf_object__find_program_by_name(obj, "tr_kp");
	if (prog)
		bpf_program__set_autoload(prog, used);
}

/* Share @main's maps with @obj but .rodata: @main's, with fn = @fi. */
static int share_maps(struct bpf_object *main, struct bpf_object *obj, size_t fn_off,
		      const struct tr_fn_inst *fi)
{
	struct bpf_map *map, *m;
	const void *init;
	size_t sz;
	char *buf;
	int ret;

	bpf_object__for_each_map(map, obj) {
		m = bpf_object__find_map_by_name(main, bpf_map__name(map));
		if (!m)
			return -ENOENT;
		/* .rodata is the instance's own (fn); any other map is shared */
		if (!bpf_map__is_internal(map) || !strstr(bpf_map__name(map), ".rodata")) {
			ret = bpf_map__reuse_fd(map, bpf_map__fd(m));
			if (ret)
				return ret;
			continue;
		}
		init = bpf_map__initial_value(m, &sz);
		if (!init)
			return -ENOENT;
		buf = malloc(sz);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, init, sz);
		if (fn_off + sizeof(*fi) <= sz)
			memcpy(buf + fn_off, fi, sizeof(*fi));
		ret = bpf_map__set_initial_value(map, buf, sz);
		free(buf);
		if (ret)
			return ret;
	}
	return 0;
}

/* Load and attach an fentry program for point @pc in an object of its own. */
static int fentry_attach(struct tr_fn *fn, const struct tr_opts *o, const struct tr_point_cfg *pc,
			 struct bpf_object *main, const void *elf, size_t elf_sz, size_t fn_off)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = bpf_object__name(main));
	struct tr_fn_inst fi = { .ip = pc->p.ip, .arg = pc->p.arg };
	struct bpf_program *prog, *fe = NULL;
	struct bpf_object *obj;
	struct bpf_link *link;
	int ret;

	obj = bpf_object__open_mem(elf, elf_sz, &oo);
	if (!obj)
		return -errno;
	fn->objs[fn->nobjs++] = obj;
	bpf_object__for_each_program(prog, obj) {
		bool it = !strcmp(bpf_program__name(prog), "tr_fe");

		bpf_program__set_autoload(prog, it);
		if (it)
			fe = prog;
	}
	if (!fe)
		return -ENOENT;
	ret = bpf_program__set_attach_target(fe, 0, pc->func);
	if (!ret)
		ret = share_maps(main, obj, fn_off, &fi);
	if (!ret && o->filter[0])
		ret = tr_filter_patch(fe, o->fcode, o->nfcode);
	if (ret < 0)
		return ret;
	ret = bpf_object__load(obj);
	if (ret)
		return ret;
	link = bpf_program__attach(fe);
	if (!link)
		return -errno;
	fn->links[fn->nlinks++] = link;
	return 0;
}

static int kprobe_attach(struct tr_fn *fn, const struct tr_point_cfg *pc, struct bpf_object *main)
{
	struct bpf_program *prog;
	struct bpf_link *link;

	prog = bpf_object__find_program_by_name(main, "tr_kp");
	if (!prog)
		return -ENOENT;
	link = bpf_program__attach_kprobe(prog, false, pc->func);
	if (!link)
		return -errno;
	fn->links[fn->nlinks++] = link;
	return 0;
}

/* Attach @pc's function (the first point that names it) by fentry or a kprobe. */
static int fn_attach_one(struct tr_fn *fn, struct tr_opts *o, struct tr_point_cfg *pc,
			 struct bpf_object *main, const void *elf, size_t elf_sz, size_t fn_off)
{
	bool fentry = true, pmu;
	int i, fe_err = 0, kp_err;

	for (i = 0; i < o->npoints; i++)
		if (!strcmp(o->points[i].func, pc->func) && o->points[i].p.hook == TR_HOOK_KPROBE)
			fentry = false;	/* a function is attached once: kprobe if one asks */
	if (fentry) {
		fe_err = fentry_attach(fn, o, pc, main, elf, elf_sz, fn_off);
		if (!fe_err) {
			pc->via = TR_HOOK_FENTRY;
			return 0;
		}
	}
	kp_err = kprobe_attach(fn, pc, main);
	if (!kp_err) {
		pc->via = TR_HOOK_KPROBE;
		if (fentry)
			bn_info("point %s: %s attached by a kprobe: fentry failed: %s", pc->name,
				pc->func, err_str(fe_err));
		return 0;
	}
	pmu = !access(KPROBE_PMU, F_OK);
	if (!pmu && fentry)
		bn_err("point %s: cannot trace %s: the kernel lacks kprobes and fentry (fentry: %s)",
		       pc->name, pc->func, err_str(fe_err));
	else if (!pmu)
		bn_err("point %s: cannot trace %s: the kernel lacks kprobes", pc->name, pc->func);
	else if (fentry)
		bn_err("point %s: cannot trace %s: fentry: %s, kprobe: %s", pc->name, pc->func,
		       err_str(fe_err), err_str(kp_err));
	else
		bn_err("point %s: cannot attach a kprobe to %s: %s", pc->name, pc->func,
		       err_str(kp_err));
	return pmu ? kp_err : -EOPNOTSUPP;
}

int tr_fn_attach(struct tr_opts *o, struct bpf_object *obj, const void *elf, size_t elf_sz,
		 size_t fn_off, struct tr_fn **out)
{
	struct tr_fn *fn;
	int i, j, ret;

	*out = fn = calloc(1, sizeof(*fn));
	if (!fn)
		return -ENOMEM;
	for (i = 0; i < o->npoints; i++) {
		struct tr_point_cfg *pc = &o->points[i];

		pc->via = 0;
		if (!is_fn(pc->p.hook))
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(o->points[j].func, pc->func))
				break;
		if (j < i) {	/* attached for an earlier point */
			pc->via = o->points[j].via;
			continue;
		}
		ret = fn_attach_one(fn, o, pc, obj, elf, elf_sz, fn_off);
		if (ret)
			return ret;
	}
	return 0;
}

void tr_fn_destroy(struct tr_fn *fn)
{
	int i;

	if (!fn)
		return;
	for (i = 0; i < fn->nlinks; i++)
		bpf_link__destroy(fn->links[i]);
	for (i = 0; i < fn->nobjs; i++)
		bpf_object__close(fn->objs[i]);
	free(fn);
}
