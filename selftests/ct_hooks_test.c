// SPDX-License-Identifier: GPL-2.0
/*
 * ct_hooks_test - fentry, fexit and kprobe programs attached to conntrack
 * functions count exactly the connections the test makes.
 *
 * In a private network namespace (unshare) with an iptables conntrack rule,
 * so that the namespace tracks connections, the test makes N real TCP
 * connections to a listener on 198.18.0.1 and expects N confirms from each of
 * fentry, fexit and kprobe on __nf_conntrack_confirm; then it flushes the
 * table with conntrack -F and expects N deletions from fentry and kprobe on
 * nf_ct_delete. The programs only count entries of this namespace, address
 * and port, so other traffic on the machine does not disturb the counts.
 *
 * Needs kprobes and fentry/fexit: on kernels without them (our 6.18 dev/CI
 * kernel) it SKIPs naming the missing feature; selftests/vmtest.sh runs it
 * on Debian's 6.1 kernel, where it must pass.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>

#include "kselftest_harness.h"
#include <linux/types.h>
#include "common.h"
#include "ct_hooks.skel.h"

#define ADDR		"198.18.0.1"
#define NCONN		25

FIXTURE(ct) {
	struct ct_hooks_bpf *skel;
	int lfd;
	struct sockaddr_in sin;
};

/* Run a shell command in the test's namespace; 0 if it exited 0. */
static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "# command failed (status %d): %s\n", rc, cmd);
	return rc;
}

FIXTURE_SETUP(ct)
{
	static const struct {
		enum bn_hook hook;
		const char *func;
	} need[] = {
		{ BN_HOOK_KPROBE, "__nf_conntrack_confirm" },
		{ BN_HOOK_FENTRY, "__nf_conntrack_confirm" },
		{ BN_HOOK_KPROBE, "nf_ct_delete" },
		{ BN_HOOK_FENTRY, "nf_ct_delete" },
	};
	socklen_t len = sizeof(self->sin);
	struct stat st;
	unsigned int i;
	int err;

	self->lfd = -1;

	/* This child's own netns: gone with it, rule and entries included. */
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	ASSERT_EQ(0, sh("ip link set lo up && ip addr add " ADDR "/32 dev lo"));
	/* A conntrack match makes the namespace track (and loads nf_conntrack). */
	ASSERT_EQ(0, sh("iptables -w -A OUTPUT -m conntrack --ctstate NEW -j ACCEPT"));

	/* main() checked that the kernel has kprobes and fentry: the hook
	 * points themselves must work, or they are the wrong choice. */
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		err = bn_probe_hook(need[i].hook, need[i].func);
		if (err)
			TH_LOG("cannot attach %s to %s: %s", bn_hook_name(need[i].hook),
			       need[i].func, strerror(-err));
		ASSERT_EQ(0, err);
	}

	self->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->lfd);
	self->sin.sin_family = AF_INET;
	ASSERT_EQ(1, inet_pton(AF_INET, ADDR, &self->sin.sin_addr));
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&self->sin, sizeof(self->sin)));
	ASSERT_EQ(0, listen(self->lfd, NCONN));
	ASSERT_EQ(0, getsockname(self->lfd, (struct sockaddr *)&self->sin, &len));

	ASSERT_EQ(0, stat("/proc/self/ns/net", &st));
	self->skel = ct_hooks_bpf__open();
	ASSERT_NE(NULL, self->skel);
	self->skel->rodata->target_netns = st.st_ino;
	self->skel->rodata->target_daddr = self->sin.sin_addr.s_addr;
	self->skel->rodata->target_dport = self->sin.sin_port;
	ASSERT_EQ(0, ct_hooks_bpf__load(self->skel));
	ASSERT_EQ(0, ct_hooks_bpf__attach(self->skel));
}

FIXTURE_TEARDOWN(ct)
{
	ct_hooks_bpf__destroy(self->skel);
	if (self->lfd >= 0)
		close(self->lfd);
}

/* One full TCP connection: connect, accept, a byte each way, close. */
static int one_conn(int lfd, const struct sockaddr_in *sin)
{
	int cfd, afd = -1, ret = -1;
	char c = 'x';

	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0)
		return -1;
	if (connect(cfd, (const struct sockaddr *)sin, sizeof(*sin)))
		goto out;
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		goto out;
	if (write(cfd, &c, 1) != 1 || read(afd, &c, 1) != 1)
		goto out;
	if (write(afd, &c, 1) != 1 || read(cfd, &c, 1) != 1)
		goto out;
	ret = 0;
out:
	if (afd >= 0)
		close(afd);
	close(cfd);
	return ret;
}

TEST_F(ct, counts_match_connections)
{
	struct ct_hooks_bpf__bss *bss;
	int i;

	bss = self->skel->bss;
	for (i = 0; i < NCONN; i++)
		ASSERT_EQ(0, one_conn(self->lfd, &self->sin));

	TH_LOG("%d connections: confirm fentry %llu fexit %llu kprobe %llu",
	       NCONN, (unsigned long long)bss->fentry_confirm,
	       (unsigned long long)bss->fexit_confirm_accept,
	       (unsigned long long)bss->kprobe_confirm);
	/* Each connection is confirmed exactly once, by its SYN. */
	EXPECT_EQ(NCONN, bss->fentry_confirm);
	EXPECT_EQ(NCONN, bss->fexit_confirm_accept);
	EXPECT_EQ(NCONN, bss->kprobe_confirm);
	EXPECT_EQ(0, bss->fentry_delete);
	EXPECT_EQ(0, bss->kprobe_delete);

	/* Flushing the table removes each of them exactly once. */
	ASSERT_EQ(0, sh("conntrack -F >/dev/null 2>&1"));
	TH_LOG("after conntrack -F: delete fentry %llu kprobe %llu",
	       (unsigned long long)bss->fentry_delete, (unsigned long long)bss->kprobe_delete);
	EXPECT_EQ(NCONN, bss->fentry_delete);
	EXPECT_EQ(NCONN, bss->kprobe_delete);
	/* Nothing new was confirmed by the flush. */
	EXPECT_EQ(NCONN, bss->fentry_confirm);
	EXPECT_EQ(NCONN, bss->kprobe_confirm);
}

/*
 * The 6.1 harness exits 0 when every test SKIPs and runs the test body after
 * a SKIP() in the setup, so the features are checked here, before it runs.
 */
int main(int argc, char **argv)
{
	static const enum bn_hook hooks[] = { BN_HOOK_KPROBE, BN_HOOK_FENTRY };
	char why[160] = "";
	unsigned int i;
	int err;

	if (geteuid())
		snprintf(why, sizeof(why), "needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)");
	for (i = 0; !why[0] && i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		err = bn_probe_hook(hooks[i], NULL);
		if (err)
			snprintf(why, sizeof(why), "%s programs cannot attach on this kernel "
				 "(%s); selftests/vmtest.sh runs this test on one that can",
				 bn_hook_name(hooks[i]), strerror(-err));
	}
	if (why[0]) {
		ksft_print_header();
		ksft_exit_skip("%s\n", why);
	}
	return test_harness_run(argc, argv);
}
