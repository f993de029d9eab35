#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - what `make bench` runs: every selftests/bench/*.sh, one after the
# other. Each prints its own result lines (ratios against a baseline measured
# in the same run, absolute figures beside them). Benchmarks never fail the
# build: a benchmark that breaks is reported and the next one runs.

cd "$(dirname "$0")" || exit 0
for b in *.sh; do
	[ "$b" = run.sh ] && continue
	echo "# bench: $b"
	if ! timeout 1200 "./$b"; then
		echo "# bench: $b did not complete (exit $?)"
	fi
done
exit 0
