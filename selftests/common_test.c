// SPDX-License-Identifier: GPL-2.0
/* common_test - every parser and writer of common/: valid, invalid, limits. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "common.h"

TEST(parse_u64)
{
	uint64_t v;

	ASSERT_EQ(0, bn_parse_u64("0", 0, 10, &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(0, bn_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
	EXPECT_EQ(UINT64_MAX, v);
	ASSERT_EQ(0, bn_parse_u64("0x1f", 0, 100, &v));
	EXPECT_EQ(31, v);
	EXPECT_EQ(-ERANGE, bn_parse_u64("18446744073709551616", 0, UINT64_MAX, &v));
	EXPECT_EQ(-ERANGE, bn_parse_u64("11", 0, 10, &v));
	EXPECT_EQ(-ERANGE, bn_parse_u64("4", 5, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64("", 0, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64("-1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64(" 1", 0, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64("1 ", 0, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64("1x", 0, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64("0x", 0, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_u64(NULL, 0, 10, &v));
}

TEST(parse_s64)
{
	int64_t v;

	ASSERT_EQ(0, bn_parse_s64("-5", -10, 10, &v));
	EXPECT_EQ(-5, v);
	ASSERT_EQ(0, bn_parse_s64("+7", -10, 10, &v));
	EXPECT_EQ(7, v);
	ASSERT_EQ(0, bn_parse_s64("-9223372036854775808", INT64_MIN, INT64_MAX, &v));
	EXPECT_EQ(INT64_MIN, v);
	EXPECT_EQ(-ERANGE, bn_parse_s64("9223372036854775808", INT64_MIN, INT64_MAX, &v));
	EXPECT_EQ(-ERANGE, bn_parse_s64("-11", -10, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_s64("--1", -10, 10, &v));
	EXPECT_EQ(-EINVAL, bn_parse_s64("-", -10, 10, &v));
}

TEST(parse_decimal)
{
	uint64_t v;

	ASSERT_EQ(0, bn_parse_decimal("1.5", &v));
	EXPECT_EQ(1500000000ULL, v);
	ASSERT_EQ(0, bn_parse_decimal("0.000000001", &v));
	EXPECT_EQ(1, v);
	EXPECT_EQ(-EINVAL, bn_parse_decimal("0.0000000001", &v));
	EXPECT_EQ(-EINVAL, bn_parse_decimal("1.", &v));
	EXPECT_EQ(-EINVAL, bn_parse_decimal(".5", &v));
	EXPECT_EQ(-ERANGE, bn_parse_decimal("18446744074", &v));
}

TEST(parse_duration)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "250ns", 250 }, { "10us", 10000 }, { "500ms", 500000000ULL },
		{ "2s", 2000000000ULL }, { "1m", 60000000000ULL }, { "1h", 3600000000000ULL },
		{ "1.5s", 1500000000ULL }, { "3", 3000000000ULL }, { "0.25", 250000000ULL },
		{ "0.5ms", 500000ULL },
	};
	static const char *const bad[] = {
		"", "s", "5x", "5 s", "-1s", "1.s", "5sec", "1e3", "0.1ns",
	};
	uint64_t v;
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ASSERT_EQ(0, bn_parse_duration(ok[i].s, 1000000000ULL, &v)) TH_LOG("%s", ok[i].s);
		EXPECT_EQ(ok[i].ns, v) TH_LOG("%s", ok[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_NE(0, bn_parse_duration(bad[i], 1000000000ULL, &v)) TH_LOG("%s", bad[i]);
	/* zero is not a duration; overflow is out of range */
	EXPECT_EQ(-ERANGE, bn_parse_duration("0", 1000000000ULL, &v));
	EXPECT_EQ(-ERANGE, bn_parse_duration("6000000h", 1000000000ULL, &v));
	/* a bare number takes the caller's unit */
	ASSERT_EQ(0, bn_parse_duration("7", 1000, &v));
	EXPECT_EQ(7000, v);
}

TEST(parse_size)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} ok[] = {
		{ "512", 512 }, { "64K", 65536 }, { "64k", 65536 }, { "10M", 10485760 },
		{ "1G", 1073741824ULL }, { "1T", 1099511627776ULL }, { "1.5K", 1536 },
		{ "100B", 100 }, { "2KiB", 2048 }, { "2KB", 2048 },
	};
	static const char *const bad[] = { "", "K", "1X", "1.5", "1 K", "-1K", "1KK", "1Bi" };
	uint64_t v;
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ASSERT_EQ(0, bn_parse_size(ok[i].s, &v)) TH_LOG("%s", ok[i].s);
		EXPECT_EQ(ok[i].bytes, v) TH_LOG("%s", ok[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_NE(0, bn_parse_size(bad[i], &v)) TH_LOG("%s", bad[i]);
	EXPECT_EQ(-ERANGE, bn_parse_size("20000000T", &v));
}

TEST(parse_cpulist)
{
	struct bn_cpuset set;

	ASSERT_EQ(0, bn_parse_cpulist("0-3,6", 8, &set));
	EXPECT_EQ(5, bn_cpuset_count(&set));
	EXPECT_TRUE(bn_cpuset_has(&set, 0));
	EXPECT_TRUE(bn_cpuset_has(&set, 3));
	EXPECT_FALSE(bn_cpuset_has(&set, 4));
	EXPECT_TRUE(bn_cpuset_has(&set, 6));
	ASSERT_EQ(0, bn_parse_cpulist("7", 8, &set));
	EXPECT_EQ(1, bn_cpuset_count(&set));
	ASSERT_EQ(0, bn_parse_cpulist("0-1023", BN_MAX_CPUS, &set));
	EXPECT_EQ(1024, bn_cpuset_count(&set));
	EXPECT_EQ(-ERANGE, bn_parse_cpulist("8", 8, &set));
	EXPECT_EQ(-ERANGE, bn_parse_cpulist("0-8", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist("3-1", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist("", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist("1,", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist(",1", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist("1-", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist("a", 8, &set));
	EXPECT_EQ(-EINVAL, bn_parse_cpulist("1 2", 8, &set));
}

TEST(addresses)
{
	struct bn_addr a;
	char buf[BN_ADDRSTRLEN];

	ASSERT_EQ(0, bn_parse_addr("198.18.0.1", &a));
	EXPECT_EQ(AF_INET, a.family);
	EXPECT_STREQ("198.18.0.1", bn_addr_str(a.family, a.addr, buf, sizeof(buf)));
	ASSERT_EQ(0, bn_parse_addr("2001:db8::1", &a));
	EXPECT_EQ(AF_INET6, a.family);
	EXPECT_STREQ("2001:db8::1", bn_addr_str(a.family, a.addr, buf, sizeof(buf)));
	ASSERT_EQ(0, bn_parse_addr("2001:DB8:0:0::0:1", &a));
	EXPECT_STREQ("2001:db8::1", bn_addr_str(a.family, a.addr, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, bn_parse_addr("198.18.0.256", &a));
	EXPECT_EQ(-EINVAL, bn_parse_addr("198.18.0", &a));
	EXPECT_EQ(-EINVAL, bn_parse_addr("2001:db8:::1", &a));
	EXPECT_EQ(-EINVAL, bn_parse_addr("", &a));
	EXPECT_EQ(-EINVAL, bn_parse_addr("eth0", &a));
}

TEST(prefixes)
{
	struct bn_prefix p;
	struct bn_addr a;
	char buf[BN_PREFIXSTRLEN];

	ASSERT_EQ(0, bn_parse_prefix("198.19.255.1/15", &p));
	EXPECT_EQ(15, p.len);
	EXPECT_STREQ("198.18.0.0/15", bn_prefix_str(&p, buf, sizeof(buf)));
	ASSERT_EQ(0, bn_parse_addr("198.19.1.1", &a));
	EXPECT_TRUE(bn_prefix_match(&p, &a));
	ASSERT_EQ(0, bn_parse_addr("198.20.0.1", &a));
	EXPECT_FALSE(bn_prefix_match(&p, &a));
	ASSERT_EQ(0, bn_parse_addr("2001:db8::1", &a));
	EXPECT_FALSE(bn_prefix_match(&p, &a));		/* other family */

	ASSERT_EQ(0, bn_parse_prefix("2001:db8:ffff::1/32", &p));
	EXPECT_STREQ("2001:db8::/32", bn_prefix_str(&p, buf, sizeof(buf)));
	EXPECT_TRUE(bn_prefix_match(&p, &a));
	ASSERT_EQ(0, bn_parse_prefix("2001:db8::1", &p));
	EXPECT_EQ(128, p.len);
	ASSERT_EQ(0, bn_parse_prefix("0.0.0.0/0", &p));
	EXPECT_TRUE(bn_prefix_match(&p, &(struct bn_addr){ .family = AF_INET }));
	ASSERT_EQ(0, bn_parse_prefix("198.18.0.1/31", &p));
	EXPECT_STREQ("198.18.0.0/31", bn_prefix_str(&p, buf, sizeof(buf)));

	EXPECT_EQ(-ERANGE, bn_parse_prefix("198.18.0.0/33", &p));
	EXPECT_EQ(-ERANGE, bn_parse_prefix("2001:db8::/129", &p));
	EXPECT_EQ(-EINVAL, bn_parse_prefix("198.18.0.0/", &p));
	EXPECT_EQ(-EINVAL, bn_parse_prefix("198.18.0.0/x", &p));
	EXPECT_EQ(-EINVAL, bn_parse_prefix("198.18.0.0/08", &p));
	EXPECT_EQ(-EINVAL, bn_parse_prefix("/8", &p));
	EXPECT_EQ(-EINVAL, bn_parse_prefix("2001:db8::/32/1", &p));
}

static char *json_of(void (*fill)(struct bn_json *j))
{
	struct bn_json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	bn_json_begin(&j, f);
	fill(&j);
	bn_json_end(&j);
	fclose(f);
	return buf;
}

static void fill_all(struct bn_json *j)
{
	bn_json_str(j, "s", "a\"b\\c\nd\te\x01");
	bn_json_u64(j, "u", UINT64_MAX);
	bn_json_s64(j, "i", -42);
	bn_json_double(j, "d", 1.23456, 2);
	bn_json_double(j, "nan", NAN, 2);
	bn_json_bool(j, "t", true);
	bn_json_null(j, "n");
}

static void fill_none(struct bn_json *j)
{
}

TEST(json_lines)
{
	char *s = json_of(fill_all);

	EXPECT_STREQ("{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\",\"u\":18446744073709551615,"
		     "\"i\":-42,\"d\":1.23,\"nan\":null,\"t\":true,\"n\":null}\n", s);
	free(s);
	s = json_of(fill_none);
	EXPECT_STREQ("{}\n", s);
	free(s);
}

TEST(safe_strings)
{
	char buf[BN_SAFE_LEN(8)], small[6];

	EXPECT_STREQ("plain-text.1", bn_safe_str("plain-text.1", buf, sizeof(buf)));
	EXPECT_STREQ("\\x1b[31m\\x07a\\\\b\\x7f\\xc3\\xa9",
		     bn_safe_str("\x1b[31m\x07" "a\\b\x7f\xc3\xa9", buf, sizeof(buf)));
	/* truncated before an escape that does not fit whole */
	EXPECT_STREQ("ab", bn_safe_str("ab\x1b", small, sizeof(small)));
	EXPECT_STREQ("", bn_safe_str(NULL, small, sizeof(small)));
}

TEST(interfaces)
{
	char name[IF_NAMESIZE];
	int idx = bn_ifindex("lo");

	ASSERT_LT(0, idx);
	ASSERT_EQ(0, bn_ifname(idx, name));
	EXPECT_STREQ("lo", name);
	EXPECT_EQ(-ENODEV, bn_ifindex("bpfnet-none0"));
	EXPECT_EQ(-EINVAL, bn_ifindex("a-name-longer-than-ifnamsiz"));
	EXPECT_EQ(-EINVAL, bn_ifindex(""));
	EXPECT_EQ(-ENODEV, bn_ifname(0, name));
	EXPECT_STREQ("?", name);
}

TEST(node_names)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "node-1.example.com", true }, { "a", true }, { "", false }, { "-a", false },
		{ "a.", false }, { "a_b", false }, { "a b", false },
	};
	char name[BN_NODE_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		EXPECT_EQ(cases[i].ok, bn_node_name_valid(cases[i].s)) TH_LOG("'%s'", cases[i].s);
	memset(name, 'n', sizeof(name));
	name[BN_NODE_MAX] = '\0';
	EXPECT_FALSE(bn_node_name_valid(name));		/* 254 characters */
	name[BN_NODE_MAX - 1] = '\0';
	EXPECT_TRUE(bn_node_name_valid(name));		/* 253 */
}

TEST(sysctl)
{
	char buf[64];

	ASSERT_EQ(0, bn_sysctl_read("kernel/ostype", buf, sizeof(buf)));
	EXPECT_STREQ("Linux", buf);
	EXPECT_EQ(-ENOENT, bn_sysctl_read("net/bpfnet/none", buf, sizeof(buf)));
}

TEST_HARNESS_MAIN
