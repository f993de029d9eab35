// SPDX-License-Identifier: GPL-2.0
/*
 * filter.c - a pcap-filter expression, run in the kernel: libpcap compiles
 * it to classic BPF (for an Ethernet frame), this file translates that to
 * eBPF and writes it over the slot the BPF programs keep for it (see
 * run_filter() in tracer.bpf.c) before they are loaded.
 *
 * The translated code runs on the innermost packet behind a made-up
 * Ethernet header, copied to a map value: r1 points at it (the first
 * TR_FBUF bytes, the scratch words M[], then the frame's real length), r2
 * holds the length of what was copied; A is
 * r3, X is r4, r5 is scratch; r0 is the verdict (non-zero: follow). The code
 * ends by falling into the instruction after it. Classic BPF loads past the
 * packet's end reject it, as in the kernel's and libpcap's interpreters;
 * a load past the TR_FBUF bytes kept cannot be answered and is refused at
 * translation. Jumps are forward only in classic BPF, so nothing loops.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "state.h"
#include "pcap.h"

#define R0 BPF_REG_0
#define RBUF BPF_REG_1
#define RLEN BPF_REG_2
#define RA BPF_REG_3
#define RX BPF_REG_4
#define RT BPF_REG_5

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), \
	.src_reg = (s), .off = (o), .imm = (i) })

struct xlate {
	struct bpf_insn *out;	/* NULL: only count */
	int n, max;
	int *start;		/* eBPF index of each classic instruction, and of the end */
	int ret0;		/* index of the "reject" block */
	int ret0_uses;		/* jumps to it: without any, no block (unreachable) */
	bool has_ret0;
	char *err;
	size_t errlen;
};

static void emit(struct xlate *x, struct bpf_insn i)
{
	if (x->out && x->n < x->max)
		x->out[x->n] = i;
	x->n++;
}

/* A jump from the next emitted instruction to eBPF index @to. */
static void emit_jmp(struct xlate *x, uint8_t code, uint8_t dst, uint8_t src, int to, int32_t imm)
{
	if (to == x->ret0)
		x->ret0_uses++;
	emit(x, INSN(code, dst, src, x->out ? to - (x->n + 1) : 0, imm));
}

static int bpf_size(int size, int *bytes)
{
	switch (size) {
	case BPF_W: *bytes = 4; return BPF_W;
	case BPF_H: *bytes = 2; return BPF_H;
	case BPF_B: *bytes = 1; return BPF_B;
	}
	return -1;
}

/* dst = packet[k] (or packet[X + k] if @ind), big-endian, bounds checked. */
static int emit_load(struct xlate *x, uint8_t dst, int size, uint32_t k, bool ind)
{
	int bytes, sz = bpf_size(size, &bytes);

	if (sz < 0)
		return -EINVAL;
	if (!ind) {
		if ((uint64_t)k + bytes > TR_FBUF) {
			snprintf(x->err, x->errlen, "filter reads byte %u: only the first %d "
				 "bytes of a packet are kept", k, TR_FBUF);
			return -E2BIG;
		}
		emit_jmp(x, BPF_JMP | BPF_JLT | BPF_K, RLEN, 0, x->ret0, k + bytes);
		emit(x, INSN(BPF_LDX | sz | BPF_MEM, dst, RBUF, k, 0));
	} else {
		if (k > TR_FBUF) {
			snprintf(x->err, x->errlen, "filter reads byte %u: only the first %d "
				 "bytes of a packet are kept", k, TR_FBUF);
			return -E2BIG;
		}
		emit(x, INSN(BPF_ALU64 | BPF_MOV | BPF_X, RT, RX, 0, 0));
		emit(x, INSN(BPF_ALU64 | BPF_ADD | BPF_K, RT, 0, 0, k));
		emit_jmp(x, BPF_JMP | BPF_JGT | BPF_K, RT, 0, x->ret0, TR_FBUF - bytes);
		emit(x, INSN(BPF_ALU64 | BPF_MOV | BPF_X, R0, RT, 0, 0));
		emit(x, INSN(BPF_ALU64 | BPF_ADD | BPF_K, R0, 0, 0, bytes));
		emit_jmp(x, BPF_JMP | BPF_JGT | BPF_X, R0, RLEN, x->ret0, 0);
		emit(x, INSN(BPF_ALU64 | BPF_ADD | BPF_X, RT, RBUF, 0, 0));
		emit(x, INSN(BPF_LDX | sz | BPF_MEM, dst, RT, 0, 0));
	}
	if (bytes > 1)
		emit(x, INSN(BPF_ALU | BPF_END | BPF_TO_BE, dst, 0, 0, bytes * 8));
	return 0;
}

static int xlate_ld(struct xlate *x, uint16_t code, uint32_t k, uint8_t dst)
{
	switch (BPF_MODE(code)) {
	case BPF_ABS:
		return emit_load(x, dst, BPF_SIZE(code), k, false);
	case BPF_IND:
		return emit_load(x, dst, BPF_SIZE(code), k, true);
	case BPF_LEN:	/* the frame's real length, kept after M[] */
		emit(x, INSN(BPF_LDX | BPF_W | BPF_MEM, dst, RBUF, TR_FBUF + 4 * TR_FMEM, 0));
		return 0;
	case BPF_IMM:
		emit(x, INSN(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, k));
		return 0;
	case BPF_MEM:
		if (k >= TR_FMEM)
			return -EINVAL;
		emit(x, INSN(BPF_LDX | BPF_W | BPF_MEM, dst, RBUF, TR_FBUF + 4 * k, 0));
		return 0;
	case BPF_MSH:
		if (dst != RX || BPF_SIZE(code) != BPF_B)
			return -EINVAL;
		if (emit_load(x, RX, BPF_B, k, false))
			return -E2BIG;
		emit(x, INSN(BPF_ALU | BPF_AND | BPF_K, RX, 0, 0, 0xf));
		emit(x, INSN(BPF_ALU | BPF_LSH | BPF_K, RX, 0, 0, 2));
		return 0;
	}
	return -EINVAL;
}

static int xlate_alu(struct xlate *x, uint16_t code, uint32_t k)
{
	int op = BPF_OP(code);
	bool src_x = BPF_SRC(code) == BPF_X;

	if (op == BPF_NEG) {
		emit(x, INSN(BPF_ALU | BPF_NEG, RA, 0, 0, 0));
		return 0;
	}
	if (op != BPF_ADD && op != BPF_SUB && op != BPF_MUL && op != BPF_DIV &&
	    op != BPF_OR && op != BPF_AND && op != BPF_LSH && op != BPF_RSH &&
	    op != BPF_MOD && op != BPF_XOR)
		return -EINVAL;
	if ((op == BPF_DIV || op == BPF_MOD) && (src_x || k == 0)) {
		/* classic BPF rejects the packet on a division by zero */
		if (src_x)
			emit_jmp(x, BPF_JMP32 | BPF_JEQ | BPF_K, RX, 0, x->ret0, 0);
		else
			emit_jmp(x, BPF_JMP | BPF_JA, 0, 0, x->ret0, 0);
	}
	if (src_x)
		emit(x, INSN(BPF_ALU | op | BPF_X, RA, RX, 0, 0));
	else
		emit(x, INSN(BPF_ALU | op | BPF_K, RA, 0, 0, k));
	return 0;
}

static int xlate_jmp(struct xlate *x, int pc, const struct sock_filter *f, int n)
{
	int op = BPF_OP(f->code), t = pc + 1 + f->jt, e = pc + 1 + f->jf;
	uint8_t src = BPF_SRC(f->code) == BPF_X ? RX : 0;
	uint8_t code = BPF_JMP32 | BPF_SRC(f->code);

	if (op == BPF_JA) {
		if ((uint64_t)pc + 1 + f->k >= (uint64_t)n)
			return -EINVAL;
		emit_jmp(x, BPF_JMP | BPF_JA, 0, 0, x->start[pc + 1 + f->k], 0);
		return 0;
	}
	if (t >= n || e >= n)
		return -EINVAL;
	switch (op) {
	case BPF_JEQ: code |= BPF_JEQ; break;
	case BPF_JGT: code |= BPF_JGT; break;
	case BPF_JGE: code |= BPF_JGE; break;
	case BPF_JSET: code |= BPF_JSET; break;
	default: return -EINVAL;
	}
	emit_jmp(x, code, RA, src, x->start[t], src ? 0 : (int32_t)f->k);
	if (e != pc + 1)
		emit_jmp(x, BPF_JMP | BPF_JA, 0, 0, x->start[e], 0);
	return 0;
}

/* One classic instruction at @pc. */
static int xlate_one(struct xlate *x, const struct sock_filter *prog, int pc, int n)
{
	const struct sock_filter *f = &prog[pc];
	int end = x->start[n] + x->has_ret0;	/* past the reject block */

	switch (BPF_CLASS(f->code)) {
	case BPF_LD:
		return xlate_ld(x, f->code, f->k, RA);
	case BPF_LDX:
		return xlate_ld(x, f->code, f->k, RX);
	case BPF_ST:
	case BPF_STX:
		if (f->k >= TR_FMEM)
			return -EINVAL;
		emit(x, INSN(BPF_STX | BPF_W | BPF_MEM, RBUF,
			     BPF_CLASS(f->code) == BPF_ST ? RA : RX, TR_FBUF + 4 * f->k, 0));
		return 0;
	case BPF_ALU:
		return xlate_alu(x, f->code, f->k);
	case BPF_JMP:
		return xlate_jmp(x, pc, f, n) ? -EINVAL : 0;
	case BPF_RET:
		if (BPF_RVAL(f->code) == BPF_K)
			emit(x, INSN(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, f->k));
		else if (BPF_RVAL(f->code) == BPF_A)
			emit(x, INSN(BPF_ALU | BPF_MOV | BPF_X, R0, RA, 0, 0));
		else
			return -EINVAL;
		emit_jmp(x, BPF_JMP | BPF_JA, 0, 0, end, 0);
		return 0;
	case BPF_MISC:
		if (BPF_MISCOP(f->code) == BPF_TAX)
			emit(x, INSN(BPF_ALU | BPF_MOV | BPF_X, RX, RA, 0, 0));
		else if (BPF_MISCOP(f->code) == BPF_TXA)
			emit(x, INSN(BPF_ALU | BPF_MOV | BPF_X, RA, RX, 0, 0));
		else
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

static int xlate_pass(struct xlate *x, const struct sock_filter *prog, int n)
{
	int pc, err;

	x->n = 0;
	emit(x, INSN(BPF_ALU | BPF_MOV | BPF_K, RA, 0, 0, 0));
	emit(x, INSN(BPF_ALU | BPF_MOV | BPF_K, RX, 0, 0, 0));
	for (pc = 0; pc < n; pc++) {
		x->start[pc] = x->n;
		err = xlate_one(x, prog, pc, n);
		if (err) {
			if (err != -E2BIG)
				snprintf(x->err, x->errlen, "cannot translate filter "
					 "instruction %d (code 0x%x)", pc, prog[pc].code);
			return err;
		}
	}
	x->start[n] = x->n;
	if (x->has_ret0)
		emit(x, INSN(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 0));
	return 0;
}

int tr_filter_xlate(const struct sock_filter *prog, int n, struct bpf_insn *out, int max,
		    int *outn, char *err, size_t len)
{
	struct xlate x = { .err = err, .errlen = len };
	int ret;

	if (n <= 0 || n > 4096) {
		snprintf(err, len, "filter has %d instructions", n);
		return -EINVAL;
	}
	x.start = calloc(n + 1, sizeof(*x.start));
	if (!x.start)
		return -ENOMEM;
	x.ret0 = -1;
	x.has_ret0 = true;
	ret = xlate_pass(&x, prog, n);		/* sizes, and whether anything rejects */
	if (ret)
		goto out;
	x.has_ret0 = x.ret0_uses > 0;
	x.ret0 = x.has_ret0 ? x.start[n] : -1;
	if (x.n > max) {
		snprintf(err, len, "filter too long: %d eBPF instructions, room for %d", x.n, max);
		ret = -E2BIG;
		goto out;
	}
	x.out = out;
	x.max = max;
	ret = xlate_pass(&x, prog, n);		/* code, with the jumps */
	*outn = x.n;
out:
	free(x.start);
	return ret;
}

int tr_filter_compile(const char *expr, struct bpf_insn *out, int max, int *n,
		      char *err, size_t len)
{
	struct sock_filter *prog;
	int nprog, ret;

	ret = tr_pcap_compile(expr, &prog, &nprog, err, len);
	if (ret)
		return ret;
	ret = tr_filter_xlate(prog, nprog, out, max, n, err, len);
	free(prog);
	return ret;
}

/*
 * Write @f (@n instructions) into the slot of @prog, ending where the slot
 * ends. Returns 1 if written, 0 if @prog has no slot, or a negative errno.
 */
int tr_filter_patch(struct bpf_program *prog, const struct bpf_insn *f, int n)
{
	const struct bpf_insn *in = bpf_program__insns(prog);
	size_t cnt = bpf_program__insn_cnt(prog), i, m;
	struct bpf_insn *new;
	int ret;

	for (m = 0; m < cnt; m++)
		if (in[m].code == (BPF_ALU64 | BPF_MOV | BPF_K) && in[m].dst_reg == 0 &&
		    in[m].imm == TR_SLOT_MAGIC)
			break;
	if (m == cnt)
		return 0;	/* this program runs no filter */
	if (m + TR_SLOT_LEN > cnt || n > TR_SLOT_LEN - 1)
		return -E2BIG;
	for (i = m + 1; i < m + TR_SLOT_LEN; i++)
		if (in[i].code != (BPF_ALU64 | BPF_MOV | BPF_K) || in[i].imm != 1)
			return -EINVAL;		/* not the slot we wrote */
	new = malloc(cnt * sizeof(*new));
	if (!new)
		return -ENOMEM;
	memcpy(new, in, cnt * sizeof(*new));
	memcpy(new + m + TR_SLOT_LEN - n, f, n * sizeof(*f));
	ret = bpf_program__set_insns(prog, new, cnt);
	free(new);
	return ret ? ret : 1;
}
