#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_fuzz.sh - every libFuzzer target of selftests/fuzz/ for a few seconds
# (FUZZ_CHECK_SECONDS, default 5) on its committed seed corpus; `make fuzz`
# runs them longer. Host stage only: `make check` builds them (fuzz-build).

source "$(dirname "$0")/lib.sh"

secs=${FUZZ_CHECK_SECONDS:-5}
out=$("$SELFTESTS_DIR/fuzz/run.sh" "$secs" 2>&1)
rc=$?
while IFS= read -r line; do
	case $line in
	*": ok, "*)	log_ok "$line" ;;
	*FAILED*)	log_fail "$line" ;;
	*)		log_info "$line" ;;
	esac
done <<< "$out"
[ "$rc" = 0 ] || log_fail "fuzz run exit $rc"
exit $RET
