#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_sanitizers.sh - the C selftests and a short real run of every tool,
# built with AddressSanitizer and UBSan (`make SAN=1`, which `make check`
# builds before the tests). Any sanitizer report fails the test. Host stage
# only (TEST_HOST_ONLY): the VM stage runs the normal build.

source "$(dirname "$0")/lib.sh"

SAN_BIN=$TOP_DIR/.output/san/bin
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=66
export LSAN_OPTIONS=suppressions=$SELFTESTS_DIR/lsan.supp

require_root
trap cleanup EXIT
make_tmp test_sanitizers

if [ ! -d "$SAN_BIN/selftests" ]; then
	log_fail "no sanitizer build in $SAN_BIN: run make SAN=1"
	exit $ksft_fail
fi

# san_ok NAME LOG: no sanitizer report in LOG.
san_ok()
{
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$2"; then
		log_fail "$1: sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:' "$2")"
		sed 's/^/# /' "$2" | head -40
		return 1
	fi
	return 0
}

case_ctests()
{
	local t rc

	for t in $(make -s -C "$SELFTESTS_DIR" print-gen-progs); do
		"$SAN_BIN/selftests/$t" >"$TMP/$t.log" 2>&1
		rc=$?
		san_ok "$t" "$TMP/$t.log" || continue
		# 4: the whole test skipped (no root, no kernel feature)
		if [ "$rc" = 0 ]; then
			log_ok "$t under ASan/UBSan ($(grep -m1 -E '^# PASSED' "$TMP/$t.log"))"
		elif [ "$rc" = 4 ]; then
			log_ok "$t under ASan/UBSan: skipped ($(grep -m1 -i 'skip' "$TMP/$t.log"))"
		else
			log_fail "$t under ASan/UBSan: exit $rc"
			grep -E '^#.*(FAIL|Expected)' "$TMP/$t.log" | head -10
		fi
	done
}

CASES=(ctests)
run_cases "$@"
exit $RET
