/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tc.h - the tc backend's attachments and conntrack zones, and the run file
 * that lets the next start undo what a killed elephant left: its tc
 * filters and the conntrack sysctls it changed.
 */
#ifndef ELEPHANT_TC_H
#define ELEPHANT_TC_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "elephant.h"

#define EL_MAX_TC	1024

struct el_tc_att {
	int ifindex;
	char name[IF_NAMESIZE];
	bool created;			/* we created the clsact qdisc */
};

struct el_tc {
	/* set by the caller: the program, the zones map, what to attach to */
	int prog_fd;
	int zones_fd;
	uint32_t ct_opts_sz;		/* 16: lookups in any zone */
	const char (*ifaces)[IF_NAMESIZE];	/* only these, if nifaces > 0 */
	int nifaces;
	/* this netns (cookie, 0 if the kernel has none, and inode) */
	uint64_t ns_cookie, ns_ino;
	char key[32];			/* "netns<cookie>", else "ino<inode>" */
	/* the lock held for the whole run, the run file and what it records */
	char lock_file[128], run_file[128];
	int lock_fd;
	bool locked;
	bool run_warned;
	char acct_orig[16], events_orig[16];
	bool acct_set, events_set;
	struct el_tc_att att[EL_MAX_TC];
	int natt;
	/* conntrack zones the program looks flows up in */
	unsigned int zones[EL_MAX_ZONES];
	int nzones;
	bool zone_warned;
};

/*
 * Take the lock of this netns (inode @netns_ino; keyed by its cookie where
 * the kernel has one) for the whole run and undo what a killed elephant
 * recorded in its run file. -EBUSY if another elephant runs here; every
 * error is said on stderr.
 */
int tc_run_open(struct el_tc *t, uint64_t netns_ino);
/* Turn conntrack accounting and events on, recorded; 0 or a negative errno. */
int tc_sysctls_set(struct el_tc *t);
/* Restore the sysctls, remove the run file, release the lock. */
void tc_run_close(struct el_tc *t);

/* Attach to every wanted interface not attached yet; forget vanished ones. */
int tc_sync(struct el_tc *t, bool initial);
void tc_detach_all(struct el_tc *t);
/* Have the program look flows up in conntrack zone @zone too. */
void tc_zone_learn(struct el_tc *t, unsigned int zone);

#endif /* ELEPHANT_TC_H */
