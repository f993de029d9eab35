/* SPDX-License-Identifier: GPL-2.0 */
/*
 * footprint.h - the data collector's side of elephant: labels, workloads,
 * their heavy/light footprint and the --state file that keeps what was
 * learned across restarts.
 */
#ifndef ELEPHANT_FOOTPRINT_H
#define ELEPHANT_FOOTPRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#define EL_NAME_MAX	64
#define EL_NODE_MAX	254	/* a node name: up to 253 characters */

enum el_label_kind {
	EL_LABEL_ZONE,
	EL_LABEL_IFACE,
};

struct el_label {
	enum el_label_kind kind;
	unsigned int zone;
	char iface[IF_NAMESIZE];
	char name[EL_NAME_MAX];
};

/* "zone:N=NAME" (N 0..65535) or "iface:IFNAME=NAME"; 0 or -EINVAL. */
int el_label_parse(const char *s, struct el_label *l);
/* A workload name: 1..63 characters of [A-Za-z0-9._:@/-]. */
bool el_name_valid(const char *s);
/* A node name as Kubernetes takes it: up to 253 of letters, digits, . and -. */
bool el_node_valid(const char *s);

struct el_workload {
	char name[EL_NAME_MAX];
	uint64_t netns_ino;		/* 0 unknown */
	char netns_name[EL_NAME_MAX];	/* "" unknown */
	/* learned, persisted */
	uint64_t elephants_total;
	uint64_t bytes_total;
	uint64_t last_elephant_s;	/* unix time of the last elephant seen, 0 never */
	/* this interval */
	unsigned int elephants;		/* active elephant flows */
	unsigned int mice;		/* active other flows */
	uint64_t bytes;			/* bytes carried in the interval */
};

struct el_fp {
	struct el_workload *w;
	int n, cap;
	bool dirty;			/* learned state changed since the last save
					 * (a workload, its bytes or an elephant) */
};

/* Index of workload @name, created if new; -ENOMEM. */
int fp_get(struct el_fp *fp, const char *name);
/* heavy: an active elephant, or one seen within @window_s of @now_s */
bool fp_heavy(const struct el_workload *w, uint64_t now_s, uint64_t window_s);
/* Count @bytes carried by workload @idx (this interval and in all). */
void fp_bytes(struct el_fp *fp, int idx, uint64_t bytes);
/* Note an elephant of workload @idx at @now_s. */
void fp_elephant(struct el_fp *fp, int idx, uint64_t now_s);
void fp_reset_interval(struct el_fp *fp);
void fp_free(struct el_fp *fp);

/*
 * --state FILE: one line per workload,
 *   "workload NAME last_elephant=UNIX elephants=N bytes=N"
 * after a "# elephant state v1" line. A missing file is an empty state;
 * a malformed one is -EINVAL (with the line number in *@line), and so is
 * anything but a regular file (*@line 0), never read.
 */
int fp_state_load(struct el_fp *fp, const char *path, int *line);
/* Written to a new temporary file, then renamed over @path (bn_wfile_*). */
int fp_state_save(struct el_fp *fp, const char *path);

#endif /* ELEPHANT_FOOTPRINT_H */
