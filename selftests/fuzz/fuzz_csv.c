// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_csv - libFuzzer target for rss-client's CSV reader (--plot --from
 * FILE), the data another user may hand to root: the input is the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/mman.h>

#include "common.h"
#include "rss-client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plot p;
	char path[64];
	int fd;

	fd = memfd_create("csv", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && !plot_init(&p)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		bn_verbose = -1;
		plot_load_csv(&p, path);
		plot_free(&p);
	}
	close(fd);
	return 0;
}
