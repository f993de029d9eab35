// SPDX-License-Identifier: GPL-2.0
/*
 * file.c - files a tool reads and writes on a shared host: written through a
 * new temporary file (O_EXCL|O_NOFOLLOW) renamed over the target, so a link
 * planted by another user is replaced, never followed, and a reader sees the
 * old file or the new one, never half of one; read only if regular.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common.h"

int bn_wfile_open(struct bn_wfile *w, const char *path, mode_t mode)
{
	struct stat st;
	int fd, i;

	memset(w, 0, sizeof(*w));
	if (!path || !*path || strlen(path) + 24 >= sizeof(w->tmp))
		return -ENAMETOOLONG;
	/* a directory, FIFO or device is not a file to replace */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return -EINVAL;
	for (i = 0; i < 100; i++) {
		snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%d.%08x", path, (int)getpid(),
			 (unsigned int)random());
		fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;
	w->f = fdopen(fd, "w");
	if (!w->f) {
		int err = -errno;

		close(fd);
		unlink(w->tmp);
		return err;
	}
	snprintf(w->path, sizeof(w->path), "%s", path);
	return 0;
}

int bn_wfile_commit(struct bn_wfile *w)
{
	int err = 0;

	if (!w->f)
		return -EBADF;
	if (fflush(w->f) || ferror(w->f) || fsync(fileno(w->f)))
		err = -(errno ? errno : EIO);
	if (fclose(w->f) && !err)
		err = -errno;
	w->f = NULL;
	if (!err && rename(w->tmp, w->path))
		err = -errno;
	if (err)
		unlink(w->tmp);
	return err;
}

void bn_wfile_abort(struct bn_wfile *w)
{
	if (!w->f)
		return;
	fclose(w->f);
	w->f = NULL;
	unlink(w->tmp);
}

int bn_rfile_open(const char *path, FILE **out)
{
	struct stat st;
	int fd, fl;

	/* O_NONBLOCK: a FIFO must not hang the open; cleared once it is a file */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	*out = fdopen(fd, "r");
	if (!*out) {
		int err = -errno;

		close(fd);
		return err;
	}
	return 0;
}
