/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - which programs of elephant.bpf.c see conntrack: fentry or
 * kprobe on the conntrack functions, or tc with the conntrack lookup kfunc;
 * probing, loading and attaching them.
 */
#ifndef ELEPHANT_BACKEND_H
#define ELEPHANT_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "elephant.h"

enum el_bk { EL_BK_AUTO, EL_BK_FENTRY, EL_BK_KPROBE, EL_BK_TC, EL_BK_MAX };
extern const char *const el_bk_names[EL_BK_MAX];

struct elephant_bpf;

struct el_backend {
	struct elephant_bpf *skel;
	enum el_bk kind;		/* the one that loaded */
	uint32_t ct_opts_sz;		/* 16: bpf_ct_opts has ct_zone_id, else 12 */
};

/*
 * Load and attach backend @want (EL_BK_AUTO: the first that works of
 * fentry, kprobe, tc) with thresholds @th and a flow table of @max_flows.
 * The tc program is loaded, not attached (tc.c does). Says on stderr what
 * failed; 0 or a negative errno.
 */
int bk_start(struct el_backend *b, enum el_bk want, const struct el_thresh *th,
	     uint32_t max_flows);
void bk_close(struct el_backend *b);
/* --backends: a table of the backends and whether they work here. */
int bk_list(void);
/*
 * Conntrack per family in this netns: at @start, warn for each family it
 * does not track and note it in @inactive ([0] IPv4, [1] IPv6); later, say
 * once when such a family becomes tracked.
 */
void bk_ct_check(bool inactive[2], bool start);

#endif /* ELEPHANT_BACKEND_H */
