// SPDX-License-Identifier: GPL-2.0
/*
 * samples.c - netcost --breakdown: stack samples from the mmapable array or
 * the ring buffer, symbolized, counted by category, and folded for --folded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <bpf/libbpf.h>

#include "internal.h"

#define IP_CACHE	8192		/* entries, a power of two */
#define KSYMS_STALL_MS	8000		/* /proc/kallsyms read without progress */
#define KSYMS_TRIES	3

/*
 * A read of /proc/kallsyms can stall in the kernel while other BPF programs
 * load and unload: bounded by KSYMS_STALL_MS without progress, tried again
 * from the start with a fresh reader.
 */
static int load_ksyms(struct bn_ksyms *ks)
{
	int err, i;

	for (i = 0; i < KSYMS_TRIES; i++) {
		err = bn_ksyms_load(ks, "/proc/kallsyms", KSYMS_STALL_MS);
		if (err != -ETIMEDOUT || bn_stop)
			break;
		bn_warn("reading /proc/kallsyms made no progress for %d s, %s",
			KSYMS_STALL_MS / 1000, i + 1 < KSYMS_TRIES ? "trying again" : "giving up");
	}
	if (err == -EPERM)
		bn_err("cannot read kernel symbols from /proc/kallsyms: addresses hidden "
		       "(kptr_restrict; missing capability CAP_SYSLOG)");
	else if (err == -ETIMEDOUT)
		bn_err("cannot read kernel symbols from /proc/kallsyms: no progress for %d s, "
		       "%d times", KSYMS_STALL_MS / 1000, KSYMS_TRIES);
	else if (err)
		bn_err("cannot read kernel symbols from /proc/kallsyms: %s", strerror(-err));
	return err;
}

int nc_samples_init(struct nc_samples *s, const struct nc_opts *o, int nr_cpus)
{
	int err;

	s->nr_cpus = nr_cpus;
	s->slots = o->slots;
	s->folded_path = o->folded;
	/* opened now, so that a bad path fails before the run */
	if (o->folded) {
		s->folded_f = fopen(o->folded, "we");
		if (!s->folded_f) {
			err = -errno;
			bn_err("cannot write %s: %s", o->folded, strerror(-err));
			return err;
		}
	}
	s->ipc = calloc(IP_CACHE, sizeof(*s->ipc));
	if (!s->ipc)
		return -ENOMEM;
	return load_ksyms(&s->ksyms);
}

/*
 * JITed BPF functions with their exact ranges, from the programs' own info,
 * re-read when the set of loaded programs changes: programs loaded after
 * /proc/kallsyms was read are named too, and no address resolves to a
 * program that is gone.
 */
void nc_samples_refresh_syms(struct nc_samples *s)
{
	uint64_t h = bn_bpf_ids_hash();
	size_t n;

	if (h == s->bpf_ids_hash)
		return;
	if (bn_ksyms_load_bpf(&s->ksyms, &n)) {
		bn_dbg("cannot record BPF program symbols: out of memory");
		return;
	}
	/* the cache points into the old table */
	memset(s->ipc, 0, IP_CACHE * sizeof(*s->ipc));
	s->bpf_ids_hash = h;
	bn_dbg("%zu JITed BPF functions", n);
}

/*
 * Symbol and category of a sampled address. Stacks repeat the same few
 * thousand addresses: each is looked up in the symbol tables and matched
 * against the category rules once, not in every sample.
 */
static const struct nc_ip_ent *ip_lookup(struct nc_samples *s, uint64_t ip)
{
	struct nc_ip_ent *e = &s->ipc[(ip * 0x9e3779b97f4a7c15ULL) >> 51 & (IP_CACHE - 1)];

	if (e->ip == ip && ip)
		return e;
	e->ip = ip;
	e->sym = bn_ksyms_find(&s->ksyms, ip);
	nc_frame_class(e->sym ? e->sym->name : NULL, e->sym ? e->sym->module : NULL,
		       &e->frame);
	return e;
}

static void take_sample(struct nc_samples *s, const struct nc_sample *smp)
{
	const struct bn_ksym *syms[NC_MAX_STACK];
	struct nc_frame frames[NC_MAX_STACK];
	char buf[NC_MAX_STACK * 64 + 32];
	const struct nc_ip_ent *e;
	int i, n = smp->nr, cat;
	size_t off;

	if (smp->kind >= NC_NR_KINDS)
		return;
	if (n < 0)
		n = 0;
	if (n > NC_MAX_STACK)
		n = NC_MAX_STACK;
	for (i = 0; i < n; i++) {
		e = ip_lookup(s, smp->ips[i]);
		syms[i] = e->sym;
		frames[i] = e->frame;
		if (!e->sym)
			s->unsymbolized++;
	}
	cat = nc_stack_cat_frames(frames, n);
	s->cat[smp->kind][cat]++;
	if (!s->folded_path)
		return;
	off = snprintf(buf, sizeof(buf), "%s", nc_kind_names[smp->kind]);
	for (i = n - 1; i >= 0 && off < sizeof(buf) - 64; i--)
		off += snprintf(buf + off, sizeof(buf) - off, ";%s",
				syms[i] ? syms[i]->name : "[unknown]");
	if (nc_folded_add(&s->folded, buf, 1))
		s->folded_drops++;
}

static int rb_sample(void *ctx, void *data, size_t len)
{
	if (len >= sizeof(struct nc_sample))
		take_sample(ctx, data);
	return 0;
}

int nc_samples_open(struct nc_samples *s, struct netcost_bpf *skel, enum nc_sampler sampler)
{
	size_t n;
	int err;

	s->skel = skel;
	if (sampler == NC_SAMPLER_ARRAY) {
		n = 2 * (size_t)s->nr_cpus * s->slots * sizeof(struct nc_sample);
		s->arr = mmap(NULL, n, PROT_READ, MAP_SHARED, bpf_map__fd(skel->maps.samples), 0);
		if (s->arr == MAP_FAILED) {
			s->arr = NULL;
			err = -errno;
			bn_err("cannot mmap the sample array: %s", strerror(-err));
			return err;
		}
		s->arr_len = n;
	} else if (sampler == NC_SAMPLER_RINGBUF) {
		s->rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), rb_sample, s, NULL);
		if (!s->rb) {
			err = -errno;
			bn_err("cannot create the ring buffer reader: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

/*
 * Read the buffer BPF stopped writing one drain period ago (no program can
 * still be in it), empty it, and make it the active one.
 */
static void drain_array(struct nc_samples *s)
{
	struct netcost_bpf__bss *bss = s->skel->bss;
	uint32_t idle = !(__atomic_load_n(&bss->active, __ATOMIC_ACQUIRE) & 1);
	const struct nc_sample *base;
	uint32_t h, i;
	int cpu;

	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		h = __atomic_load_n(&bss->head[idle][cpu], __ATOMIC_ACQUIRE);
		if (h > s->slots)
			h = s->slots;
		base = &s->arr[((size_t)idle * s->nr_cpus + cpu) * s->slots];
		for (i = 0; i < h; i++)
			take_sample(s, &base[i]);
		__atomic_store_n(&bss->head[idle][cpu], 0, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&bss->active, idle, __ATOMIC_RELEASE);
}

void nc_samples_drain(struct nc_samples *s)
{
	if (s->rb)
		ring_buffer__consume(s->rb);
	if (s->arr)
		drain_array(s);
}

void nc_samples_drain_all(struct nc_samples *s)
{
	struct timespec ts = { 0, 2000000 };

	if (s->rb) {
		ring_buffer__consume(s->rb);
		return;
	}
	if (!s->arr)
		return;		/* no breakdown, or --sampler none */
	drain_array(s);
	nanosleep(&ts, NULL);
	drain_array(s);
}

void nc_samples_next_interval(struct nc_samples *s)
{
	int k, c;

	for (k = 0; k < NC_NR_KINDS; k++)
		for (c = 0; c < NC_CAT_NR; c++) {
			s->cat_sum[k][c] += s->cat[k][c];
			s->cat[k][c] = 0;
		}
}

int nc_samples_write_folded(struct nc_samples *s)
{
	FILE *f = s->folded_f;
	int err;

	s->folded_f = NULL;
	if (s->folded_drops)
		bn_warn("%" PRIu64 " stack samples not in %s: out of memory", s->folded_drops,
			s->folded_path);
	err = nc_folded_write(&s->folded, f);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		bn_err("cannot write %s: %s", s->folded_path, strerror(-err));
	return err;
}

void nc_samples_free(struct nc_samples *s)
{
	ring_buffer__free(s->rb);
	if (s->arr)
		munmap(s->arr, s->arr_len);
	bn_ksyms_free(&s->ksyms);
	free(s->ipc);
	nc_folded_free(&s->folded);
	if (s->folded_f)
		fclose(s->folded_f);
	memset(s, 0, sizeof(*s));
}
