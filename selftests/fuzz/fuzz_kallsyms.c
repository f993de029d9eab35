// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_kallsyms - libFuzzer target for common/kallsyms.c's reader: the input
 * is a /proc/kallsyms; every address lookup afterwards must find a symbol
 * at or below it, or none.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct bn_ksym *s;
	struct bn_ksyms ks;
	char path[64];
	size_t i;
	int fd;

	fd = memfd_create("kallsyms", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(&ks, 0, sizeof(ks));
	if (!bn_ksyms_load(&ks, path, 2000)) {
		for (i = 0; i < ks.n; i++) {
			if (i && ks.syms[i].addr < ks.syms[i - 1].addr)
				abort();	/* sorted */
			s = bn_ksyms_find(&ks, ks.syms[i].addr);
			if (!s || s->addr != ks.syms[i].addr)
				abort();
		}
		s = bn_ksyms_find(&ks, ks.n ? ks.syms[0].addr - 1 : 0);
		if (s && ks.n && ks.syms[0].addr && s->addr >= ks.syms[0].addr)
			abort();
	}
	bn_ksyms_free(&ks);
out:
	close(fd);
	return 0;
}
