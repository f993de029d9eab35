// SPDX-License-Identifier: GPL-2.0
/*
 * elephant_state_test - elephant's labels, workload footprint and --state
 * file: label syntax and limits, heavy/light against the window, a state
 * file that round-trips, survives a crash mid-write (tmp + rename) and
 * rejects malformed lines with their number.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <linux/types.h>

#include "kselftest_harness.h"
#include "../elephant/elephant.h"
#include "../elephant/footprint.c"

#define SEC_NS 1000000000ULL

TEST(rate)
{
	EXPECT_EQ(0, el_rate_bps(1000, 999999));
	/* 125 bytes in 1 s: 1000 bit/s, exact below the old 1000 bit/s granularity */
	EXPECT_EQ(1000, el_rate_bps(125, SEC_NS));
	EXPECT_EQ(999, el_rate_bps(12487500, 100000 * SEC_NS));
	/* 10 GB in 8 s: 10 Gbit/s */
	EXPECT_EQ(10000000000ULL, el_rate_bps(10000000000ULL, 8 * SEC_NS));
	/* huge byte counts neither wrap nor divide by zero */
	EXPECT_EQ(8000000000000000000ULL, el_rate_bps(1000000000000000000ULL, SEC_NS));
	EXPECT_EQ(~0ULL, el_rate_bps(~0ULL, SEC_NS));
}

TEST(thresholds)
{
	struct el_flow f = { .first_ns = 10 * SEC_NS, .bytes = { 6 << 20, 4 << 20 } };
	__u64 mb10 = 10 << 20;

	/* both tests must hold */
	EXPECT_EQ(EL_R_BYTES | EL_R_DURATION, el_thresholds(&f, 15 * SEC_NS, mb10, 5 * SEC_NS, 0));
	EXPECT_EQ(0, el_thresholds(&f, 15 * SEC_NS - 1, mb10, 5 * SEC_NS, 0));
	EXPECT_EQ(0, el_thresholds(&f, 15 * SEC_NS, mb10 + 1, 5 * SEC_NS, 0));
	/* a clock before first_ns is no elephant */
	EXPECT_EQ(0, el_thresholds(&f, SEC_NS, 0, 0, 0));
	/* 10 MiB in 5 s = 16777216 bit/s */
	EXPECT_EQ(EL_R_BYTES | EL_R_DURATION | EL_R_RATE,
		  el_thresholds(&f, 15 * SEC_NS, mb10, 5 * SEC_NS, 16777216));
	EXPECT_EQ(0, el_thresholds(&f, 15 * SEC_NS, mb10, 5 * SEC_NS, 16777217));
	/* a rate below 1000 bit/s is still a test */
	f.bytes[0] = 60;
	f.bytes[1] = 0;
	EXPECT_EQ(0, el_thresholds(&f, 11 * SEC_NS, 1, 0, 481));
	EXPECT_NE(0, el_thresholds(&f, 11 * SEC_NS, 1, 0, 480));
	/* the rate needs a second of life */
	EXPECT_EQ(0, el_thresholds(&f, 10 * SEC_NS + SEC_NS / 2, 1, 0, 1));
}

TEST(label_zone)
{
	struct el_label l;

	ASSERT_EQ(0, el_label_parse("zone:1=web", &l));
	EXPECT_EQ(EL_LABEL_ZONE, l.kind);
	EXPECT_EQ(1, l.zone);
	EXPECT_STREQ("web", l.name);
	ASSERT_EQ(0, el_label_parse("zone:65535=a.b_c-d:e@f/g", &l));
	EXPECT_EQ(65535, l.zone);
	EXPECT_EQ(-EINVAL, el_label_parse("zone:65536=x", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("zone:-1=x", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("zone:=x", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("zone:1x=x", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("zone:1=", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("zone:1", &l));
}

TEST(label_iface)
{
	struct el_label l;

	ASSERT_EQ(0, el_label_parse("iface:veth-db=db", &l));
	EXPECT_EQ(EL_LABEL_IFACE, l.kind);
	EXPECT_STREQ("veth-db", l.iface);
	EXPECT_STREQ("db", l.name);
	EXPECT_EQ(-EINVAL, el_label_parse("iface:=db", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("iface:0123456789abcdef=db", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("pod:x=db", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("iface:eth0=bad name", &l));
	EXPECT_EQ(-EINVAL, el_label_parse("iface:eth0=bad\"q", &l));
}

TEST(name_valid)
{
	char long_name[EL_NAME_MAX + 1];

	EXPECT_TRUE(el_name_valid("bn-c1-123-456"));
	EXPECT_FALSE(el_name_valid(""));
	EXPECT_FALSE(el_name_valid("a b"));
	EXPECT_FALSE(el_name_valid("a\nb"));
	memset(long_name, 'a', EL_NAME_MAX);
	long_name[EL_NAME_MAX] = '\0';
	EXPECT_FALSE(el_name_valid(long_name));
	long_name[EL_NAME_MAX - 1] = '\0';
	EXPECT_TRUE(el_name_valid(long_name));
}

TEST(heavy_window)
{
	struct el_fp fp = {};
	int a, b;

	a = fp_get(&fp, "a");
	b = fp_get(&fp, "b");
	ASSERT_EQ(0, a);
	ASSERT_EQ(1, b);
	EXPECT_EQ(a, fp_get(&fp, "a"));
	/* never an elephant: light */
	EXPECT_FALSE(fp_heavy(&fp.w[a], 1000, 300));
	/* an elephant at t=1000: heavy until t=1300 */
	fp_elephant(&fp, a, 1000);
	EXPECT_TRUE(fp.dirty);
	EXPECT_EQ(1, fp.w[a].elephants_total);
	EXPECT_TRUE(fp_heavy(&fp.w[a], 1000, 300));
	EXPECT_TRUE(fp_heavy(&fp.w[a], 1299, 300));
	EXPECT_FALSE(fp_heavy(&fp.w[a], 1300, 300));
	/* no wrap-around for a huge time from a state file */
	fp.w[a].last_elephant_s = UINT64_MAX - 10;
	EXPECT_TRUE(fp_heavy(&fp.w[a], 1300, 300));
	fp.w[a].last_elephant_s = 1000;
	/* an active elephant is heavy whatever the window */
	fp.w[b].elephants = 1;
	EXPECT_TRUE(fp_heavy(&fp.w[b], 5000, 1));
	fp_reset_interval(&fp);
	EXPECT_EQ(0, fp.w[b].elephants);
	EXPECT_FALSE(fp_heavy(&fp.w[b], 5000, 1));
	fp_free(&fp);
}

FIXTURE(state) {
	char path[64];
};

FIXTURE_SETUP(state)
{
	int fd;

	strcpy(self->path, "/tmp/elephant_state.XXXXXX");
	fd = mkstemp(self->path);
	ASSERT_GE(fd, 0);
	close(fd);
	unlink(self->path);
}

FIXTURE_TEARDOWN(state)
{
	char tmp[80];

	unlink(self->path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", self->path);
	unlink(tmp);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

TEST_F(state, missing_is_empty)
{
	struct el_fp fp = {};
	int line;

	EXPECT_EQ(0, fp_state_load(&fp, self->path, &line));
	EXPECT_EQ(0, fp.n);
}

TEST_F(state, round_trip)
{
	struct el_fp fp = {}, back = {};
	int line, i;

	i = fp_get(&fp, "web");
	fp_elephant(&fp, i, 1795442252);
	fp_elephant(&fp, i, 1795442260);
	fp.w[i].bytes_total = 62633017;
	i = fp_get(&fp, "db");
	fp.w[i].bytes_total = 20324;
	ASSERT_EQ(0, fp_state_save(&fp, self->path));
	EXPECT_FALSE(fp.dirty);
	ASSERT_EQ(0, fp_state_load(&back, self->path, &line));
	ASSERT_EQ(2, back.n);
	EXPECT_STREQ("web", back.w[0].name);
	EXPECT_EQ(1795442260, back.w[0].last_elephant_s);
	EXPECT_EQ(2, back.w[0].elephants_total);
	EXPECT_EQ(62633017, back.w[0].bytes_total);
	EXPECT_STREQ("db", back.w[1].name);
	EXPECT_EQ(0, back.w[1].last_elephant_s);
	/* heavy survives the restart */
	EXPECT_TRUE(fp_heavy(&back.w[0], 1795442260 + 10, 300));
	EXPECT_FALSE(fp_heavy(&back.w[1], 1795442260 + 10, 300));
	fp_free(&fp);
	fp_free(&back);
}

TEST_F(state, stale_tmp_ignored)
{
	struct el_fp fp = {};
	char tmp[80];
	int line;

	/* a crash mid-write leaves PATH.tmp; PATH is still the old, whole file */
	write_file(self->path, "# elephant state v1\n"
		   "workload a last_elephant=5 elephants=1 bytes=10\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", self->path);
	write_file(tmp, "workload a last_el");
	ASSERT_EQ(0, fp_state_load(&fp, self->path, &line));
	ASSERT_EQ(1, fp.n);
	EXPECT_EQ(5, fp.w[0].last_elephant_s);
	fp_free(&fp);
}

TEST_F(state, tmp_symlink_not_followed)
{
	struct el_fp fp = {};
	char tmp[80], victim[80], buf[64] = "";
	FILE *f;

	/* PATH.tmp planted as a symlink: the save must not write through it */
	snprintf(tmp, sizeof(tmp), "%s.tmp", self->path);
	snprintf(victim, sizeof(victim), "%s.victim", self->path);
	write_file(victim, "precious\n");
	ASSERT_EQ(0, symlink(victim, tmp));
	fp_get(&fp, "web");
	ASSERT_EQ(0, fp_state_save(&fp, self->path));
	f = fopen(victim, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("precious\n", buf);
	unlink(victim);
	fp_free(&fp);
}

TEST_F(state, malformed)
{
	static const char *const bad[] = {
		"workload\n",
		"workload a\n",
		"workload a last_elephant=x elephants=1 bytes=1\n",
		"workload a last_elephant=1 elephants=1 bytes=1 extra\n",
		"workload bad!name last_elephant=1 elephants=1 bytes=1\n",
		"node a last_elephant=1 elephants=1 bytes=1\n",
		"workload a last_elephant=1 elephants=-1 bytes=1\n",
		"workload a last_elephant=1 elephants=1 bytes=+1\n",
		"workload a last_elephant=1 elephants=1 bytes=18446744073709551616\n",
		"workload a last_elephant=1 elephants=1 bytes=123456789012345678901\n",
	};
	struct el_fp fp = {};
	unsigned int i;
	int line;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "# elephant state v1\n\n%s", bad[i]);
		write_file(self->path, text);
		EXPECT_EQ(-EINVAL, fp_state_load(&fp, self->path, &line)) {
			TH_LOG("accepted: %s", bad[i]);
		}
		EXPECT_EQ(3, line);
		fp_free(&fp);
	}
}

/* Issue 10.12: --state at a FIFO hung the start, at a directory said EIO. */
TEST_F(state, regular_files_only)
{
	struct el_fp fp = {};
	int line = -1;

	ASSERT_EQ(0, mkfifo(self->path, 0600));
	EXPECT_EQ(-EINVAL, fp_state_load(&fp, self->path, &line));
	EXPECT_EQ(0, line);
	unlink(self->path);
	ASSERT_EQ(0, mkdir(self->path, 0700));
	line = -1;
	EXPECT_EQ(-EINVAL, fp_state_load(&fp, self->path, &line));
	EXPECT_EQ(0, line);
	rmdir(self->path);
	EXPECT_EQ(0, fp.n);
}

/* Issue 10.5: bytes of a workload without elephants are saved too. */
TEST_F(state, bytes_make_it_dirty)
{
	struct el_fp fp = {}, back = {};
	int i, line;

	i = fp_get(&fp, "mice-only");
	EXPECT_TRUE(fp.dirty);
	ASSERT_EQ(0, fp_state_save(&fp, self->path));
	EXPECT_FALSE(fp.dirty);
	fp_bytes(&fp, i, 0);
	EXPECT_FALSE(fp.dirty);
	fp_bytes(&fp, i, 307000);
	EXPECT_TRUE(fp.dirty);
	EXPECT_EQ(307000, fp.w[i].bytes);
	EXPECT_EQ(307000, fp.w[i].bytes_total);
	ASSERT_EQ(0, fp_state_save(&fp, self->path));
	ASSERT_EQ(0, fp_state_load(&back, self->path, &line));
	ASSERT_EQ(1, back.n);
	EXPECT_EQ(307000, back.w[0].bytes_total);
	fp_free(&fp);
	fp_free(&back);
}

TEST_HARNESS_MAIN
