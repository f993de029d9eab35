# SPDX-License-Identifier: GPL-2.0
#
# bpfnet: build every tool, its BPF object and skeleton, the common library
# and the selftests. Adding a tool is adding its name to TOOLS; a tool with a
# second user-space binary lists it in <tool>_EXTRA (built from <tool>/<name>.c),
# and extra sources of the main binary in <tool>_SRCS.

# Tools are added here once they build: elephant rss netcost
TOOLS := rss elephant netcost tracer
rss_EXTRA := rss-client
rss_SRCS := rss/policy.c rss/ctl.c rss/ctlmsg.c rss/calib.c rss/kthread.c rss/stats.c rss/veth.c
elephant_SRCS := elephant/nl.c elephant/footprint.c elephant/attrib.c elephant/backend.c \
	elephant/flows.c elephant/output.c elephant/tc.c
netcost_SRCS := netcost/category.c netcost/hooks.c netcost/samples.c netcost/cgroup.c netcost/snap.c \
	netcost/report.c
rss-client_SRCS := rss/load.c rss/model.c rss/plot.c rss/results.c
elephant_EXTRA := elephant-sched
elephant-sched_SRCS := elephant/sched_api.c elephant/sched_expo.c elephant/sched_snap.c \
	elephant/sched_policy.c elephant/sched_out.c elephant/sched_source.c
%/elephant-sched: LDLIBS += -ljansson -lcurl
%/elephant_sched_test: LDLIBS += -ljansson
tracer_SRCS := tracer/config.c tracer/filter.c tracer/pcap.c tracer/events.c tracer/report.c \
	       tracer/perfetto.c tracer/flows.c tracer/fpoints.c tracer/stamp.c
tracer_EXTRA := tracer-merge
tracer-merge_SRCS := tracer/mread.c tracer/perfetto.c
%/tracer-merge: LDLIBS += -ljansson

OUTPUT ?= .output
KSFT_DIR := $(OUTPUT)/ksft

# make SAN=1: the same tree with AddressSanitizer and UBSan, objects in
# .output/san and binaries under .output/san/bin/ (the normal build is left
# as it is; the kselftest headers are the normal tree's).
ifeq ($(SAN),1)
OUTPUT := .output/san
KSFT_DIR := .output/ksft
BIN_DIR := $(OUTPUT)/bin/
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined
endif
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
BINDIR := $(PREFIX)/sbin

VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ifdef VMLINUX_H
VMLINUX_H_GIVEN := 1
else
VMLINUX_H := $(OUTPUT)/vmlinux.h
endif

ifeq ($(V),1)
Q :=
msg =
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

CFLAGS ?= -g -O2
CFLAGS += $(SAN_FLAGS)
LDFLAGS += $(SAN_FLAGS)
CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
	  -Icommon -I$(OUTPUT) $(LIBBPF_CFLAGS)
LDLIBS += $(LIBBPF_LIBS) -lm -lpthread

# clang -target bpf does not search the system include dirs; add them the
# way the kernel's tools/bpf Makefiles do.
CLANG_SYS_INCLUDES = $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
# BPF_EXTRA_CFLAGS: benchmark builds only (selftests/bench/tracer.sh's floor).
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
	      -Icommon -I$(OUTPUT) $(LIBBPF_CFLAGS) $(BPF_EXTRA_CFLAGS)

BINS := $(addprefix $(BIN_DIR),$(foreach t,$(TOOLS),$(t)/$(t) $(addprefix $(t)/,$($(t)_EXTRA))))

# A build program that is missing is named, with the fix, in one line.
need = command -v $(1) >/dev/null 2>&1 || { echo "bpfnet: $(1) not found: run 'make deps' (as root) to install $(2)" >&2; exit 1; }
LIBBPF_FOUND := $(shell $(PKG_CONFIG) --exists libbpf 2>/dev/null && echo yes)

# Selftest lists (TEST_PROGS, TEST_GEN_PROGS, TEST_BPF) live in selftests/Makefile.
BPFNET_TOP := 1
include selftests/Makefile
TEST_BINS := $(addprefix $(BIN_DIR)selftests/,$(TEST_GEN_PROGS) $(BENCH_GEN_PROGS))

LIBCOMMON := $(OUTPUT)/libcommon.a
COMMON_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(filter-out %.bpf.c,$(wildcard common/*.c)))

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all $(TOOLS) selftests deps ksft check vmtest bench demo install clean \
	fuzz fuzz-build \
	FORCE

all: $(BINS) selftests

$(foreach t,$(TOOLS),$(eval $(t): $(addprefix $(BIN_DIR),$(t)/$(t) $(addprefix $(t)/,$($(t)_EXTRA)))))

# The C selftests need the kselftest headers, which only `make deps` (and so
# `make check`) downloads: a plain `make` never goes to the network.
ifneq ($(wildcard $(KSFT_DIR)/kselftest_harness.h),)
selftests: $(TEST_BINS)
else
selftests:
	@echo "bpfnet: C selftests not built: no kselftest headers in $(KSFT_DIR); 'make deps' or 'make check' fetches them (from Debian's linux-source-6.1, a 140 MB download)" >&2
endif

# ---- vmlinux.h ----
ifndef VMLINUX_H_GIVEN
$(VMLINUX_H):
	$(Q)if [ ! -r "$(VMLINUX_BTF)" ]; then \
		echo "bpfnet: no kernel BTF at $(VMLINUX_BTF): set VMLINUX_BTF=<file with BTF> or VMLINUX_H=<vmlinux.h>" >&2; \
		exit 1; fi
	$(Q)$(call need,$(BPFTOOL),bpftool)
	$(Q)mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@
else
$(VMLINUX_H):
	$(Q)echo "bpfnet: VMLINUX_H=$(VMLINUX_H) does not exist" >&2; exit 1
endif

# ---- BPF objects and skeletons: <dir>/<name>.bpf.c -> .output/<dir>/<name>.skel.h ----
$(OUTPUT)/%.bpf.o: %.bpf.c $(VMLINUX_H) $(wildcard common/*.bpf.h) common/flow.h
	$(call msg,BPF,$@)
	$(Q)$(call need,$(CLANG),clang and llvm)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I$(<D) -include $(VMLINUX_H) $(CLANG_SYS_INCLUDES) \
		-c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(call need,$(BPFTOOL),bpftool)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# ---- user space ----
$(OUTPUT)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)$(call need,$(CC),gcc)
	$(Q)[ -n "$(LIBBPF_FOUND)" ] || { echo "bpfnet: libbpf not found by $(PKG_CONFIG): run 'make deps' (as root) to install pkg-config and libbpf-dev" >&2; exit 1; }
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I$(<D) -I$(OUTPUT)/$(<D) -MMD -MP -c $< -o $@

# Objects of a directory with BPF programs need that directory's skeletons
# first (and the C selftests those listed in TEST_BPF).
user_objs = $(patsubst %.c,$(OUTPUT)/%.o,$(filter-out %.bpf.c,$(wildcard $(1)/*.c)))
$(foreach d,$(TOOLS) common,$(eval $(call user_objs,$(d)): \
	$(patsubst %.bpf.c,$(OUTPUT)/%.skel.h,$(wildcard $(d)/*.bpf.c))))
$(call user_objs,selftests) $(call user_objs,selftests/bench): \
	$(patsubst %,$(OUTPUT)/selftests/%.skel.h,$(TEST_BPF))

$(LIBCOMMON): $(COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

define tool_bin
$(BIN_DIR)$(1)/$(2): $(OUTPUT)/$(1)/$(2).o $(patsubst %.c,$(OUTPUT)/%.o,$($(2)_SRCS)) $(LIBCOMMON)
	$$(call msg,BINARY,$$@)
	$(Q)mkdir -p $$(@D)
	$(Q)$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach t,$(TOOLS),$(foreach b,$(t) $($(t)_EXTRA),$(eval $(call tool_bin,$(t),$(b)))))
# libpcap compiles tracer's --filter expressions (pkg-config where it has a .pc)
PCAP_LIBS := $(shell $(PKG_CONFIG) --libs libpcap 2>/dev/null || echo -lpcap)
$(BIN_DIR)tracer/tracer: LDLIBS += $(PCAP_LIBS)
$(BIN_DIR)selftests/tracer_filter_test: $(OUTPUT)/tracer/filter.o $(OUTPUT)/tracer/pcap.o
$(BIN_DIR)selftests/tracer_filter_test: LDLIBS += $(PCAP_LIBS)
$(OUTPUT)/selftests/tracer_expire_test.o: $(OUTPUT)/tracer/tracer.skel.h
$(OUTPUT)/selftests/tracer_expire_test.o: CFLAGS += -I$(OUTPUT)/tracer
fuzz_tracer_SRCS := tracer/config.c tracer/filter.c tracer/pcap.c tracer/fpoints.c common/kallsyms.c
$(OUTPUT)/fuzz/fuzz_tracer: LIBBPF_LIBS += $(PCAP_LIBS)

# C selftests build against the kselftest harness from linux-source-6.1.
$(OUTPUT)/selftests/%.o: CFLAGS += -I$(KSFT_DIR) -I$(OUTPUT)/selftests/progs \
	-Wno-sign-compare -Wno-format-overflow
$(call user_objs,selftests) $(call user_objs,selftests/bench): | $(KSFT_DIR)/kselftest_harness.h
$(BIN_DIR)selftests/%: $(OUTPUT)/selftests/%.o $(LIBCOMMON)
	$(call msg,BINARY,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(KSFT_DIR)/kselftest_harness.h:
	$(Q)echo "bpfnet: no $@: 'make deps' fetches the kselftest headers" >&2; exit 1

# ---- fuzzing: libFuzzer targets in selftests/fuzz/, built with clang ----
# fuzz_<name>.c links the common parsers and its fuzz_<name>_SRCS.
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_TARGETS := $(patsubst selftests/fuzz/%.c,%,$(wildcard selftests/fuzz/fuzz_*.c))
FUZZ_COMMON := common/common.c common/cli.c common/output.c common/http.c common/loop.c \
	common/file.c
FUZZ_SECONDS ?= 600
fuzz_csv_SRCS := rss/plot.c rss/model.c
fuzz_kallsyms_SRCS := common/kallsyms.c
fuzz_state_SRCS := elephant/footprint.c
fuzz_nl_SRCS := common/nl.c
fuzz_ctl_SRCS := rss/ctlmsg.c
fuzz_sched_SRCS := elephant/sched_api.c elephant/sched_expo.c elephant/sched_snap.c \
	elephant/sched_policy.c
fuzz_sched_LDLIBS := -ljansson
fuzz_merge_SRCS := tracer/mread.c
fuzz_merge_LDLIBS := -ljansson
$(FUZZ_DIR)/fuzz_merge: $(fuzz_merge_SRCS) tracer/merge.h
$(FUZZ_DIR)/fuzz_sched: $(fuzz_sched_SRCS) elephant/extender.h
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -std=gnu11 -D_GNU_SOURCE -Icommon -I$(OUTPUT) $(LIBBPF_CFLAGS)

$(FUZZ_DIR)/%: selftests/fuzz/%.c $(FUZZ_COMMON) $(wildcard common/*.h)
	$(call msg,FUZZ,$@)
	$(Q)$(call need,$(CLANG),clang and llvm)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(addprefix -I,$(sort $(dir $($*_SRCS)))) $< $(FUZZ_COMMON) \
		$($*_SRCS) $(LIBBPF_LIBS) $($*_LDLIBS) -lm -o $@

fuzz-build: $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))

fuzz: deps fuzz-build
	$(Q)FUZZ_DIR=$(FUZZ_DIR) ./selftests/fuzz/run.sh $(FUZZ_SECONDS)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)

# ---- dependencies, tests, benchmarks, demo ----
deps:
	$(Q)OUTPUT=$(OUTPUT) ./selftests/deps.sh all

check: deps
	$(Q)$(MAKE) all
	$(Q)$(MAKE) SAN=1 all
	$(Q)$(MAKE) fuzz-build
	$(Q)./selftests/check.sh

vmtest: deps
	$(Q)$(MAKE) all
	$(Q)./selftests/vmtest.sh

bench: deps
	$(Q)$(MAKE) all
	$(Q)./selftests/bench/run.sh

demo: deps
	$(Q)$(MAKE) all
	$(Q)./selftests/demo.sh

install: $(BINS)
	$(Q)install -d $(DESTDIR)$(BINDIR)
	$(Q)for b in $(BINS); do install -m 0755 $$b $(DESTDIR)$(BINDIR)/; done

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT)/*.o $(OUTPUT)/*.a $(OUTPUT)/vmlinux.h \
		$(addprefix $(OUTPUT)/,common $(TOOLS) selftests) $(BINS) $(TEST_BINS)
