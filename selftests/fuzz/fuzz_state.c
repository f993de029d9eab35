// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_state - libFuzzer target for elephant's --state file reader
 * (elephant/footprint.c: fp_state_load). The input is the file. What loads
 * must hold only valid workload names and, written back with
 * fp_state_save() and read again, give the same workloads and numbers.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "common.h"
#include "footprint.h"

static char dir[] = "/tmp/fuzz_state.XXXXXX", saved[64];

static void cleanup(void)
{
	unlink(saved);
	rmdir(dir);
}

static void check_same(const struct el_fp *a, const struct el_fp *b)
{
	int i;

	if (a->n != b->n)
		abort();
	for (i = 0; i < a->n; i++) {
		if (!el_name_valid(a->w[i].name) || strcmp(a->w[i].name, b->w[i].name) ||
		    a->w[i].last_elephant_s != b->w[i].last_elephant_s ||
		    a->w[i].elephants_total != b->w[i].elephants_total ||
		    a->w[i].bytes_total != b->w[i].bytes_total)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct el_fp fp = {}, again = {};
	char path[64];
	int fd, line, err;

	if (!saved[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(saved, sizeof(saved), "%s/state", dir);
		atexit(cleanup);
	}
	fd = memfd_create("state", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err = fp_state_load(&fp, path, &line);
	if (err) {
		/* malformed: a line number within the input */
		if (err == -EINVAL && (line < 1 || (size_t)line > size + 1))
			abort();
		goto out;
	}
	if (fp_state_save(&fp, saved))
		abort();
	if (fp_state_load(&again, saved, &line))
		abort();
	check_same(&fp, &again);
out:
	fp_free(&fp);
	fp_free(&again);
	close(fd);
	return 0;
}
