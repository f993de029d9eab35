// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms.c - kernel text symbols from /proc/kallsyms, and the JITed BPF
 * functions with their exact ranges, for symbolizing sampled stacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "common.h"

#define STR_BLOCK (1 << 20)

static char *ks_strdup(struct bn_ksyms *ks, const char *s, size_t *left, char **cur)
{
	size_t len = strlen(s) + 1;
	char **blocks, *p;

	if (len > *left) {
		blocks = realloc(ks->blocks, (ks->nblocks + 1) * sizeof(*blocks));
		if (!blocks)
			return NULL;
		ks->blocks = blocks;
		p = malloc(STR_BLOCK);
		if (!p)
			return NULL;
		ks->blocks[ks->nblocks++] = p;
		*cur = p;
		*left = STR_BLOCK;
	}
	p = *cur;
	memcpy(p, s, len);
	*cur += len;
	*left -= len;
	return p;
}

struct ksyms_parse {
	size_t cap, left;
	char *cur;
	const char *last_mod;
	bool nonzero;
};

static int sym_cmp(const void *a, const void *b)
{
	const struct bn_ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

/* One line of /proc/kallsyms: keep text symbols. */
static int ksyms_line(struct bn_ksyms *ks, struct ksyms_parse *p, const char *line)
{
	char name[256], mod[128], type;
	unsigned long long addr;
	struct bn_ksym *s;
	int n;

	mod[0] = '\0';
	n = sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod);
	if (n < 3)
		return 0;
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	if (addr)
		p->nonzero = true;
	if (ks->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 65536;
		s = realloc(ks->syms, p->cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		ks->syms = s;
	}
	s = &ks->syms[ks->n];
	s->addr = addr;
	s->name = ks_strdup(ks, name, &p->left, &p->cur);
	s->module = NULL;
	if (mod[0]) {
		if (!p->last_mod || strcmp(p->last_mod, mod))
			p->last_mod = ks_strdup(ks, mod, &p->left, &p->cur);
		s->module = p->last_mod;
	}
	if (!s->name || (mod[0] && !s->module))
		return -ENOMEM;
	ks->n++;
	return 0;
}

/*
 * The child: copy @fd to @out with large reads (each read() of a seq_file
 * restarts its walk at the saved position). Exit status: 0 or errno.
 */
static void ksyms_child(int fd, int out)
{
	static char buf[1 << 18];
	ssize_t n, w, off;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			_exit(errno & 0xff ? errno & 0xff : EIO);
		if (!n)
			_exit(0);
		for (off = 0; off < n; off += w) {
			w = write(out, buf + off, n - off);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				_exit(EPIPE);
		}
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The parent's side of the pipe from the reader child. */
struct ksyms_reader {
	int fd;
	pid_t pid;
	char *buf;
	size_t len, cap;
};

/* Start a child that copies @path into a pipe. */
static int reader_start(struct ksyms_reader *r, const char *path)
{
	int fd, pipefd[2], err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r->cap = 1 << 18;
	r->len = 0;
	r->buf = malloc(r->cap + 1);
	if (!r->buf) {
		err = -ENOMEM;
		goto err_fd;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		err = -errno;
		goto err_buf;
	}
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		goto err_buf;
	}
	if (!r->pid) {
		close(pipefd[0]);
		ksyms_child(fd, pipefd[1]);
	}
	close(fd);
	close(pipefd[1]);
	r->fd = pipefd[0];
	return 0;
err_buf:
	free(r->buf);
	r->buf = NULL;
err_fd:
	close(fd);
	return err;
}

/* Parse the complete lines of what has been read; keep the rest. */
static int reader_lines(struct ksyms_reader *r, struct bn_ksyms *ks, struct ksyms_parse *p)
{
	char *line, *nl;
	int err = 0;

	r->buf[r->len] = '\0';
	for (line = r->buf; !err && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		err = ksyms_line(ks, p, line);
	}
	r->len -= line - r->buf;
	memmove(r->buf, line, r->len);
	if (r->len == r->cap)		/* no line is this long: drop it */
		r->len = 0;
	return err;
}

/* Read and parse until EOF; -ETIMEDOUT after @stall_ms without a byte. */
static int reader_run(struct ksyms_reader *r, struct bn_ksyms *ks, struct ksyms_parse *p,
		      int stall_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	int64_t deadline = mono_ms() + stall_ms, left;
	ssize_t n;
	int err;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			continue;
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		deadline = mono_ms() + stall_ms;
		if (!n) {
			if (!r->len)
				return 0;
			r->buf[r->len] = '\0';	/* a last line without a newline */
			return ksyms_line(ks, p, r->buf);
		}
		r->len += n;
		err = reader_lines(r, ks, p);
		if (err)
			return err;
	}
}

/* Close the pipe and reap the child; @err: how reading went. */
static int reader_stop(struct ksyms_reader *r, int err)
{
	int status;

	close(r->fd);
	free(r->buf);
	if (err) {
		kill(r->pid, SIGKILL);
		/* a child stuck in the kernel cannot be waited for: leave it */
		waitpid(r->pid, &status, WNOHANG);
		return err;
	}
	if (waitpid(r->pid, &status, 0) != r->pid)
		return -errno;
	if (!WIFEXITED(status))
		return -EINTR;		/* killed by a signal */
	return -WEXITSTATUS(status);
}

/*
 * Read @path in a child process and parse what it sends. A reader of
 * /proc/kallsyms has been seen to spin in the kernel for minutes while BPF
 * programs come and go: the parent gives up after @stall_ms without a byte
 * and kills the child, rather than hang with it.
 */
int bn_ksyms_load(struct bn_ksyms *ks, const char *path, int stall_ms)
{
	struct ksyms_parse p = {};
	struct ksyms_reader r = { .fd = -1 };
	int err;

	memset(ks, 0, sizeof(*ks));
	err = reader_start(&r, path);
	if (err)
		return err;
	err = reader_stop(&r, reader_run(&r, ks, &p, stall_ms));
	if (!err && !ks->n)
		err = -ENOENT;
	else if (!err && !p.nonzero)
		err = -EPERM;
	if (!err)
		qsort(ks->syms, ks->n, sizeof(*ks->syms), sym_cmp);
	else
		bn_ksyms_free(ks);
	return err;
}

static void free_bpf(struct bn_ksyms *ks)
{
	size_t i;

	for (i = 0; i < ks->nbpf; i++)
		free((char *)ks->bpf[i].name);
	free(ks->bpf);
	ks->bpf = NULL;
	ks->nbpf = 0;
}

void bn_ksyms_set_bpf(struct bn_ksyms *ks, struct bn_ksym *syms, size_t n)
{
	free_bpf(ks);
	if (n)
		qsort(syms, n, sizeof(*syms), sym_cmp);
	ks->bpf = syms;
	ks->nbpf = n;
}

/* The last of @n sorted symbols at or below @addr, or NULL. */
static const struct bn_ksym *sym_below(const struct bn_ksym *syms, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n, mid;

	if (!n || addr < syms[0].addr)
		return NULL;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return &syms[lo];
}

const struct bn_ksym *bn_ksyms_find(const struct bn_ksyms *ks, uint64_t addr)
{
	const struct bn_ksym *s;

	/* programs loaded after /proc/kallsyms was read are only here */
	s = sym_below(ks->bpf, ks->nbpf, addr);
	if (s && addr - s->addr < s->size)
		return s;
	s = sym_below(ks->syms, ks->n, addr);
	/* past the last symbol of a region: no function is that long */
	if (!s || addr - s->addr > (1 << 20))
		return NULL;
	return s;
}

void bn_ksyms_free(struct bn_ksyms *ks)
{
	size_t i;

	free_bpf(ks);
	for (i = 0; i < ks->nblocks; i++)
		free(ks->blocks[i]);
	free(ks->blocks);
	free(ks->syms);
	memset(ks, 0, sizeof(*ks));
}

#define MAX_JITED_FUNCS	256

/* Append the JITed functions of program @fd to @syms; 0, or -ENOMEM. */
static int prog_syms(int fd, struct bn_ksym **syms, size_t *n, size_t *cap)
{
	static __u64 addrs[MAX_JITED_FUNCS];
	static __u32 lens[MAX_JITED_FUNCS];
	struct bpf_prog_info info;
	struct bn_ksym *v;
	char name[128];
	__u32 len, i, k;

	memset(&info, 0, sizeof(info));
	info.nr_jited_ksyms = MAX_JITED_FUNCS;
	info.jited_ksyms = (__u64)(unsigned long)addrs;
	info.nr_jited_func_lens = MAX_JITED_FUNCS;
	info.jited_func_lens = (__u64)(unsigned long)lens;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	k = info.nr_jited_ksyms < info.nr_jited_func_lens ? info.nr_jited_ksyms :
	    info.nr_jited_func_lens;
	if (k > MAX_JITED_FUNCS)
		k = MAX_JITED_FUNCS;
	for (i = 0; i < k; i++) {
		if (!addrs[i] || !lens[i])
			continue;	/* addresses hidden */
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			v = realloc(*syms, *cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			*syms = v;
		}
		/* the kernel's own naming: bpf_prog_<tag>_<name> */
		snprintf(name, sizeof(name), "bpf_prog_%02x%02x%02x%02x%02x%02x%02x%02x_%s",
			 info.tag[0], info.tag[1], info.tag[2], info.tag[3], info.tag[4],
			 info.tag[5], info.tag[6], info.tag[7], info.name);
		v = &(*syms)[*n];
		v->name = strdup(name);
		if (!v->name)
			return -ENOMEM;
		v->addr = addrs[i];
		v->size = lens[i];
		v->module = "bpf";
		(*n)++;
	}
	return 0;
}

int bn_ksyms_load_bpf(struct bn_ksyms *ks, size_t *nfuncs)
{
	struct bn_ksym *syms = NULL;
	size_t n = 0, cap = 0;
	__u32 id = 0;
	int fd, err = 0;

	while (!err && !bpf_prog_get_next_id(id, &id)) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;	/* gone meanwhile */
		err = prog_syms(fd, &syms, &n, &cap);
		close(fd);
	}
	if (err) {
		while (n)
			free((char *)syms[--n].name);
		free(syms);
		return err;
	}
	bn_ksyms_set_bpf(ks, syms, n);
	if (nfuncs)
		*nfuncs = n;
	return 0;
}

uint64_t bn_bpf_ids_hash(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	__u32 id = 0;

	while (!bpf_prog_get_next_id(id, &id))
		h = (h ^ id) * 0x100000001b3ULL;
	return h;
}
