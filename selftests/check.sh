#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - what `make check` runs: the selftests on the running kernel, then
# a VM stage per kernel of VM_KERNELS (default "6.1 6.12", pins in
# selftests/vm/fetch.sh): the first runs every selftest (in two guests at
# once), each other one the tests that prove loading and attaching
# (TEST_VM_QUICK in selftests/Makefile).
# Each stage prints its own "N passed, N failed, N skipped" line; the last line
# totals all stages. BPFNET_NO_VM=1 skips the VM stages, BPFNET_NO_HOST=1 the
# host stage.

cd "$(dirname "$0")" || exit 1

total() { sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$1" | tail -n 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log

P=0 F=0 S=0
# failed_checks STAGE: keep the stage's [FAIL] lines and "not ok" lines, repeated
# at the end of the whole run (CI shows only part of a long log).
failed_checks()
{
	grep -E '^(vm\| )?(not ok |# \[FAIL\])' "$log" | sed "s/^/# $1: /" >> "$tmp/fails"
}

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

if [ "${BPFNET_NO_HOST:-0}" != 1 ]; then
	echo "# stage 1: host kernel $(uname -r)"
	start=$(date +%s)
	./run_tests.sh | tee "$log"
	add_stage "${PIPESTATUS[0]}"
	failed_checks "stage 1"
	echo "# stage 1 took $(( $(date +%s) - start ))s"
fi

# The VM stages: guests of their own (single-threaded TCG, one host CPU each),
# VM_JOBS (default 2) at a time; the first kernel's full run is split over two
# guests (TEST_VM_SECOND). Each guest's output is kept and printed whole, in
# order, once all have ended.
vm_stages()
{
	local first quick k i n=1 running=0 desc=() args=() logs=()

	read -r -a quick <<< "$(make -s print-vm-quick)"
	for k in ${VM_KERNELS:-6.1 6.12}; do
		if [ -z "${first:-}" ]; then
			first=$k
			desc+=("VM, kernel $k, every selftest (1 of 2): $(make -s print-vm-first)")
			args+=("-K $k $(make -s print-vm-first)")
			desc+=("VM, kernel $k, every selftest (2 of 2): $(make -s print-vm-second)")
			args+=("-K $k $(make -s print-vm-second)")
		else
			desc+=("VM, kernel $k, load and attach: ${quick[*]}")
			args+=("-K $k -T 1800 ${quick[*]}")
		fi
	done
	for i in "${!args[@]}"; do
		if [ "$running" -ge "${VM_JOBS:-2}" ]; then
			wait -n
			running=$((running - 1))
		fi
		logs[i]=$tmp/vm$i.log
		echo "# VM stage $((i + 1)) started: ${desc[i]}"
		# shellcheck disable=SC2086
		( cd .. && ./selftests/vmtest.sh ${args[i]} > "${logs[i]}" 2>&1
		  echo $? > "${logs[i]}.rc" ) &
		running=$((running + 1))
	done
	wait
	for i in "${!args[@]}"; do
		n=$((n + 1))
		echo "# stage $n: ${desc[i]}"
		cat "${logs[i]}"
		cp "${logs[i]}" "$log"
		add_stage "$(cat "${logs[i]}.rc" 2>/dev/null || echo 1)"
		failed_checks "stage $n"
	done
}

if [ "${BPFNET_NO_VM:-0}" != 1 ] && [ -x ./vmtest.sh ]; then
	start=$(date +%s)
	vm_stages
	echo "# VM stages took $(( $(date +%s) - start ))s"
fi

if [ -s "$tmp/fails" ]; then
	echo "# every failure of every stage:"
	cat "$tmp/fails"
fi
echo "# total: all stages"
echo "$P passed, $F failed, $S skipped"
[ "$F" -eq 0 ]
