#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_build.sh - the build on a machine that lacks things (issue 10.17): a
# missing build program is named in one line with `make deps` as the fix,
# and a plain build never downloads: without the kselftest headers it says
# that `make deps` fetches them. Builds into a private OUTPUT; host stage only.

source "$(dirname "$0")/lib.sh"

trap cleanup EXIT
make_tmp test_build
cd "$TOP_DIR" || exit $ksft_fail

# A BPF object needs clang: the error names it and the fix.
case_no_clang()
{
	make -s OUTPUT="$TMP/o1" CLANG=/nonexistent/clang "$TMP/o1/rss/rss.bpf.o" \
		>"$TMP/o1.out" 2>&1
	if [ $? != 0 ] && grep -q "^bpfnet: /nonexistent/clang not found: run 'make deps'" \
	   "$TMP/o1.out" && ! grep -q 'Error 127' "$TMP/o1.out"; then
		log_ok "no clang: one line naming it and make deps"
	else
		log_fail "no clang: $(head -c 300 "$TMP/o1.out")"
	fi
}

case_no_bpftool()
{
	make -s OUTPUT="$TMP/o2" BPFTOOL=/nonexistent/bpftool "$TMP/o2/vmlinux.h" \
		>"$TMP/o2.out" 2>&1
	if [ $? != 0 ] && grep -q "^bpfnet: /nonexistent/bpftool not found: run 'make deps'" \
	   "$TMP/o2.out"; then
		log_ok "no bpftool: one line naming it and make deps"
	else
		log_fail "no bpftool: $(head -c 300 "$TMP/o2.out")"
	fi
}

# Without the kselftest headers, `make selftests` says where they come from
# and runs nothing that downloads (no apt-get, no dpkg-deb under strace).
case_no_download()
{
	local tr=()

	command -v strace >/dev/null &&
		tr=(strace -f -qq -e trace=execve -o "$TMP/o3.strace")
	"${tr[@]}" make -s OUTPUT="$TMP/o3" selftests >"$TMP/o3.out" 2>&1
	if grep -q "C selftests not built: no kselftest headers.*'make deps' or 'make check' fetches them" \
	   "$TMP/o3.out" && [ ! -e "$TMP/o3/ksft" ]; then
		log_ok "no kselftest headers: make says how to get them, fetches nothing"
	else
		log_fail "no kselftest headers: $(head -c 300 "$TMP/o3.out")"
	fi
	if [ ${#tr[@]} -gt 0 ] && grep -qE 'execve\("[^"]*(apt-get|dpkg-deb|deps\.sh)"' \
	   "$TMP/o3.strace"; then
		log_fail "make selftests ran a download: $(grep -m1 -E 'apt-get|dpkg-deb|deps.sh' \
			"$TMP/o3.strace")"
	fi
}

CASES=(no_clang no_bpftool no_download)
run_cases "$@"
exit $RET
