#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh SECONDS [TARGET...] - run each libFuzzer target of selftests/fuzz/
# (default: all built in $FUZZ_DIR) for SECONDS on its committed seed corpus
# (corpus/<name>, read only: new inputs go to a scratch directory). A crash,
# a sanitizer report or a timeout fails the run; the input that caused it is
# kept in $FUZZ_DIR/artifacts. Prints one line per target.

here=$(cd "$(dirname "$0")" && pwd) || exit 1
FUZZ_DIR=$(cd "${FUZZ_DIR:-$here/../../.output/fuzz}" 2>/dev/null && pwd) ||
	{ echo "fuzz: no fuzz build: run make fuzz-build" >&2; exit 1; }
cd "$here" || exit 1
secs=${1:-60}
shift
[[ "$secs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: SECONDS must be a positive number" >&2; exit 2; }
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(cd "$FUZZ_DIR" && ls fuzz_* 2>/dev/null))
[ ${#targets[@]} -eq 0 ] && { echo "fuzz: no targets in $FUZZ_DIR" >&2; exit 1; }

export LSAN_OPTIONS=suppressions=$PWD/../lsan.supp
mkdir -p "$FUZZ_DIR/artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail=0
for t in "${targets[@]}"; do
	name=${t#fuzz_}
	mkdir -p "$scratch/$name"
	if "$FUZZ_DIR/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	   -artifact_prefix="$FUZZ_DIR/artifacts/$name-" "$scratch/$name" "corpus/$name" \
	   >"$scratch/$name.log" 2>&1; then
		echo "fuzz: $t: ok, $(grep -oE '#[0-9]+' "$scratch/$name.log" | tail -n1 | tr -d '#') runs in ${secs}s"
	else
		echo "fuzz: $t: FAILED, input kept in $FUZZ_DIR/artifacts/$name-*"
		grep -E 'ERROR|runtime error|==[0-9]+==|Test unit written' "$scratch/$name.log" | head -8
		fail=1
	fi
done
exit $fail
