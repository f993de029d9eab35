// SPDX-License-Identifier: GPL-2.0
/*
 * tracer_filter_test - tracer's pcap-filter translation (tracer/filter.c)
 * against libpcap's own interpreter: every expression is compiled by
 * libpcap, translated to eBPF, loaded into the kernel (the verifier must
 * accept it) and run with BPF_PROG_TEST_RUN over crafted packets; its
 * verdict must be bpf_filter()'s on the same bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "kselftest_harness.h"
#include "../tracer/pcap.h"

#define TR_FBUF		256	/* tracer.h's, which needs vmlinux types */
#define TR_FMEM		16
int tr_filter_xlate(const struct sock_filter *prog, int n, struct bpf_insn *out, int max,
		    int *outn, char *err, size_t len);

#define VAL_SIZE (TR_FBUF + 4 * TR_FMEM + 8)	/* frame, M[], then its length */
#define MAX_INSNS 4096

static struct bpf_insn I(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				   .imm = imm };
}

/*
 * A socket filter around the translated code: look up the frame in @map_fd,
 * r1 = frame, r2 = its length (bounded), run the code, return r0 != 0.
 */
static int load_filter(const char *expr, int map_fd, char *err, size_t errlen)
{
	static struct bpf_insn prog[MAX_INSNS + 32];
	struct sock_filter *cb;
	int n = 0, nx, ncb, fd;

	if (tr_pcap_compile(expr, &cb, &ncb, err, errlen))
		return -1;
	prog[n++] = I(0x62, 10, 0, -4, 0);		/* *(u32 *)(r10 - 4) = 0 */
	prog[n++] = I(0xbf, 2, 10, 0, 0);		/* r2 = r10 */
	prog[n++] = I(0x07, 2, 0, 0, -4);		/* r2 += -4 */
	prog[n++] = I(0x18, 1, 1, 0, map_fd);		/* r1 = map (ld_imm64) */
	prog[n++] = I(0, 0, 0, 0, 0);
	prog[n++] = I(0x85, 0, 0, 0, 1);		/* call map_lookup_elem */
	prog[n++] = I(0x55, 0, 0, 2, 0);		/* if r0 != 0 goto +2 */
	prog[n++] = I(0xb7, 0, 0, 0, 0);		/* r0 = 0 */
	prog[n++] = I(0x95, 0, 0, 0, 0);		/* exit */
	prog[n++] = I(0xbf, 1, 0, 0, 0);		/* r1 = r0 */
	prog[n++] = I(0x61, 2, 1, TR_FBUF + 4 * TR_FMEM, 0);	/* r2 = len */
	prog[n++] = I(0xa5, 2, 0, 2, TR_FBUF + 1);	/* if r2 < 257 goto +2 */
	prog[n++] = I(0xb7, 0, 0, 0, 0);
	prog[n++] = I(0x95, 0, 0, 0, 0);
	if (tr_filter_xlate(cb, ncb, prog + n, MAX_INSNS, &nx, err, errlen)) {
		free(cb);
		return -1;
	}
	free(cb);
	n += nx;
	prog[n++] = I(0x95, 0, 0, 0, 0);		/* exit */
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log, .log_size = sizeof(log));

	log[0] = '\0';
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "trf", "GPL", prog, n, &lo);
	if (fd < 0 && bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "trf", "GPL", prog, n,
				    (lo.log_level = 1, &lo)) < 0) {
		const char *tail = strlen(log) > 600 ? log + strlen(log) - 600 : log;

		snprintf(err, errlen, "verifier refused %d insns: %.200s", n, tail);
	}
	return fd;
}

/* libpcap's verdict on @pkt */
static int pcap_verdict(const char *expr, const uint8_t *pkt, uint32_t len)
{
	struct sock_filter *cb;
	char err[1024];
	int n, v;

	if (tr_pcap_compile(expr, &cb, &n, err, sizeof(err)))
		return -1;
	v = tr_pcap_run(cb, n, pkt, len, len) != 0;
	free(cb);
	return v;
}

static int kernel_verdict(int prog_fd, int map_fd, const uint8_t *pkt, uint32_t len)
{
	uint8_t val[VAL_SIZE] = {}, data[64] = {};
	uint32_t key = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = sizeof(data));

	memcpy(val, pkt, len);
	memcpy(val + TR_FBUF + 4 * TR_FMEM, &len, 4);
	if (bpf_map_update_elem(map_fd, &key, val, 0) || bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	return o.retval != 0;
}

/* Crafted frames: Ethernet + IPv4/IPv6 + ICMP/UDP/TCP, a few variants. */
static uint32_t craft(uint8_t *b, int kind, int var)
{
	uint32_t l3 = 14, l4, len;

	memset(b, 0, TR_FBUF);
	if (kind >= 4) {		/* IPv6 */
		b[12] = 0x86; b[13] = 0xdd;
		b[l3] = 0x60;
		b[l3 + 6] = kind == 4 ? 17 : 58;
		b[l3 + 7] = 64;
		inet_pton(AF_INET6, var & 1 ? "2001:db8::1" : "2001:db8::2", b + l3 + 8);
		inet_pton(AF_INET6, "2001:db8::9", b + l3 + 24);
		l4 = l3 + 40;
		b[l4 + 1] = 7; b[l4 + 2] = 0x14; b[l4 + 3] = var & 2 ? 0x51 : 0x52;
		len = l4 + 8 + 8 * (var & 3);
		b[l3 + 5] = len - l4;
		return len;
	}
	b[12] = 0x08; b[13] = 0x00;
	b[l3] = 0x45;
	b[l3 + 8] = 64;
	b[l3 + 9] = kind == 0 ? 1 : kind == 1 ? 17 : 6;
	inet_pton(AF_INET, var & 1 ? "198.18.1.1" : "198.18.2.1", b + l3 + 12);
	inet_pton(AF_INET, var & 2 ? "198.18.1.2" : "198.18.3.2", b + l3 + 16);
	if (var & 4)
		b[l3 + 6] = 0x20;		/* more fragments */
	l4 = l3 + 20;
	if (kind == 0) {
		b[l4] = var & 1 ? 8 : 0;	/* echo request or reply */
	} else {
		b[l4 + 2] = 0x14; b[l4 + 3] = var & 2 ? 0x51 : 0x50;	/* 5201/5200 */
		b[l4 + 1] = 80;
		if (kind == 2) {
			b[l4 + 12] = 0x50;
			b[l4 + 13] = var & 1 ? 0x02 : 0x10;	/* SYN or ACK */
		}
	}
	len = l4 + (kind == 2 ? 20 : 8) + 40 * (var & 3);
	if (kind == 3)
		len = 30;			/* truncated: loads past the end reject */
	b[l3 + 2] = (len - l3) >> 8;
	b[l3 + 3] = (len - l3) & 0xff;
	return len;
}

static const char *const exprs[] = {
	"icmp",
	"icmp and host 198.18.1.2",
	"udp and dst port 5201",
	"icmp[icmptype] = icmp-echo",
	"ip[2:2] > 60",
	"tcp[tcpflags] & tcp-syn != 0",
	"src net 198.18.1.0/24 or dst host 198.18.3.2",
	"ip6 and udp",
	"icmp6",
	"ip6 src 2001:db8::1",
	"tcp port 80 and (tcp[13] & 0x10) != 0",
	"len > 100",
	"ip[6:2] & 0x1fff = 0 and udp",
	"not ip",
	"udp[8:4] = 0 or portrange 5000-5300",
	"(ip[0] & 0xf) * 4 + 20 < ip[2:2]",
	"ip[2:2] / 2 > 40 and ip[2:2] % 3 = 1",
};

TEST(translated_filters_match_libpcap)
{
	uint8_t pkt[TR_FBUF];
	char err[1024];
	int map_fd, prog_fd, checked = 0, accepted = 0;
	unsigned int e;

	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "trf", 4, VAL_SIZE, 1, NULL);
	if (map_fd < 0)
		SKIP(return, "cannot create a BPF map: %s (needs root)", strerror(errno));
	for (e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		int kind, var;

		prog_fd = load_filter(exprs[e], map_fd, err, sizeof(err));
		ASSERT_GE(prog_fd, 0) TH_LOG("'%s': %s", exprs[e], err);
		for (kind = 0; kind < 6; kind++) {
			for (var = 0; var < 8; var++) {
				uint32_t len = craft(pkt, kind, var);
				int want = pcap_verdict(exprs[e], pkt, len);
				int got = kernel_verdict(prog_fd, map_fd, pkt, len);

				ASSERT_EQ(want, got) TH_LOG("'%s' kind %d var %d", exprs[e],
							    kind, var);
				checked++;
				accepted += got == 1;
			}
		}
		close(prog_fd);
	}
	close(map_fd);
	ASSERT_EQ(checked, (int)(sizeof(exprs) / sizeof(exprs[0])) * 48);
	/* both verdicts are exercised, not just one */
	ASSERT_GT(accepted, checked / 5);
	ASSERT_LT(accepted, checked - checked / 5);
}

TEST(untranslatable_is_an_error)
{
	struct sock_filter back[] = {
		{ 0x28, 0, 0, 12 },		/* ldh [12] */
		{ 0x05, 0, 0, 0xffffffff },	/* ja -1: backward */
		{ 0x06, 0, 0, 0 },
	};
	struct sock_filter far[] = {
		{ 0x30, 0, 0, 400 },		/* ldb [400]: past the bytes kept */
		{ 0x06, 0, 0, 1 },
	};
	struct bpf_insn out[64];
	char err[256] = "";
	int n;

	ASSERT_NE(0, tr_filter_xlate(back, 3, out, 64, &n, err, sizeof(err)));
	ASSERT_NE(0, strlen(err));
	err[0] = '\0';
	ASSERT_NE(0, tr_filter_xlate(far, 2, out, 64, &n, err, sizeof(err)));
	ASSERT_NE(NULL, strstr(err, "400"));
}

TEST_HARNESS_MAIN
