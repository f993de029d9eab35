#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what `make check` runs: the selftests on the running kernel, then
# a VM stage per kernel of VM_KERNELS (default "6.1 6.12", pins in
# selftests/vm/fetch.sh): the first runs every selftest, each other one the
# tests that prove loading and attaching (TEST_VM_QUICK in selftests/Makefile).
# Each stage prints its own "N passed, N failed, N skipped" line; the last line
# totals all stages. BPFNET_NO_VM=1 skips the VM stages.

cd "$(dirname "$0")" || exit 1

total() { sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$1" | tail -n 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

P=0 F=0 S=0
add_stage()
{
	local p f s

	read -r p f s <<< "$(total "$log")"
	if [ -z "$p" ]; then
		p=0; f=1; s=0
	elif [ "$1" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# the stage itself failed (VM boot, panic, timeout)
	fi
	P=$((P + p)) F=$((F + f)) S=$((S + s))
}

echo "# stage 1: host kernel $(uname -r)"
start=$(date +%s)
./run_tests.sh | tee "$log"
add_stage "${PIPESTATUS[0]}"
echo "# stage 1 took $(( $(date +%s) - start ))s"

if [ "${BPFNET_NO_VM:-0}" != 1 ] && [ -x ./vmtest.sh ]; then
	read -r -a quick <<< "$(make -s print-vm-quick)"
	n=1 first=1
	for k in ${VM_KERNELS:-6.1 6.12}; do
		n=$((n + 1))
		if [ "$first" = 1 ]; then
			echo "# stage $n: VM, kernel $k, every selftest"
			(cd .. && ./selftests/vmtest.sh -K "$k") | tee "$log"
		else
			echo "# stage $n: VM, kernel $k, load and attach: ${quick[*]}"
			(cd .. && ./selftests/vmtest.sh -K "$k" -T 1800 "${quick[@]}") | tee "$log"
		fi
		add_stage "${PIPESTATUS[0]}"
		first=0
	done
fi

echo "# total: all stages"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
