#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh [TEST...] - run selftests, print KTAP/TAP 13, end with one line
# "N passed, N failed, N skipped". Default: every TEST_PROGS and TEST_GEN_PROGS
# entry of selftests/Makefile. TEST:CASE[,CASE...] runs only those cases of a
# shell test (its run_cases arguments). Exit 4 is a SKIP, 124 a TIMEOUT (a failure).
# KSFT_TIMEOUT overrides the per-test timeout of selftests/settings.

cd "$(dirname "$0")" || exit 1

timeout_s=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
timeout_s=${KSFT_TIMEOUT:-${timeout_s:-300}}

if [ $# -gt 0 ]; then
	tests=("$@")
else
	read -r -a tests <<< "$(make -s print-tests)"
fi

passed=0
failed=0
skipped=0
n=0
# each test's output, to repeat its [FAIL] lines beside its "not ok" and at
# the end (CI shows only part of a long log)
out=$(mktemp) || exit 1
fails=$(mktemp) || exit 1
trap 'rm -f "$out" "$fails"' EXIT

echo "TAP version 13"
echo "1..${#tests[@]}"
for spec in "${tests[@]}"; do
	n=$((n + 1))
	t=${spec%%:*}
	cases=()
	[ "$t" != "$spec" ] && IFS=, read -r -a cases <<< "${spec#*:}"
	name="selftests: bpfnet: $spec"
	echo "# $name"
	if [ ! -x "./$t" ]; then
		echo "# $t: not found or not executable (run make)"
		echo "not ok $n $name"
		failed=$((failed + 1))
		continue
	fi
	start=$(date +%s)
	timeout --foreground -k 10 "$timeout_s" "./$t" "${cases[@]}" 2>&1 | sed -u 's/^/# /' |
		tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" != 0 ] && [ "$rc" != 4 ]; then
		grep -F '[FAIL]' "$out" | tail -20 | sed "s|^# |# $t: |" | tee -a "$fails"
	fi
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)
		echo "ok $n $name # ${secs}s"
		passed=$((passed + 1))
		;;
	4)
		echo "ok $n $name # SKIP"
		skipped=$((skipped + 1))
		;;
	124|137)
		echo "not ok $n $name # TIMEOUT $timeout_s seconds"
		failed=$((failed + 1))
		;;
	*)
		echo "not ok $n $name # exit=$rc"
		failed=$((failed + 1))
		;;
	esac
done
if [ -s "$fails" ]; then
	echo "# failed checks:"
	cat "$fails"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
