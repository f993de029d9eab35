#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what `make check` runs: the selftests on the running kernel, then
# the same selftests in a VM on Debian's 6.1 kernel (selftests/vmtest.sh),
# and one last line totalling both stages. BPFNET_NO_VM=1 skips the VM stage.

cd "$(dirname "$0")" || exit 1

total() { sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$1" | tail -n 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "# stage 1: host kernel $(uname -r)"
./run_tests.sh | tee "$log"
read -r p1 f1 s1 <<< "$(total "$log")"
[ -z "$p1" ] && { p1=0; f1=1; s1=0; }

p2=0 f2=0 s2=0
if [ "${BPFNET_NO_VM:-0}" != 1 ] && [ -x ./vmtest.sh ]; then
	echo "# stage 2: VM"
	./vmtest.sh | tee "$log"
	rc=${PIPESTATUS[0]}
	read -r p2 f2 s2 <<< "$(total "$log")"
	if [ -z "$p2" ]; then
		p2=0; f2=1; s2=0
	elif [ "$rc" -ne 0 ] && [ "$f2" -eq 0 ]; then
		f2=1	# the VM itself failed (boot, panic, timeout)
	fi
fi

echo "# total: host and VM stages"
echo "$((p1 + p2)) passed, $((f1 + f2)) failed, $((s1 + s2)) skipped"
[ $((f1 + f2)) -eq 0 ]
