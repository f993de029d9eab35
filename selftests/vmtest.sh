#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmtest.sh - run the selftests inside a qemu VM on one of Debian's stock
# kernels (6.1 by default, 6.12 with -K 6.12; the pins are in
# selftests/vm/fetch.sh), where kprobes and fentry/fexit work (they do not on
# our 6.18 dev/CI kernel).
#
# The guest runs the binaries built on the host: the host's root is shared
# read-only over virtio-9p with a tmpfs overlay on top (selftests/vm/init),
# and a second, writable 9p share carries the run's config in and the TAP
# output and exit status out (selftests/vm/guest-init.sh). TCG only (no KVM
# here), 2 vCPUs, 2 GiB. The kernel, qemu and busybox come from
# selftests/vm/fetch.sh (`make deps`), cached in $OUTPUT/vm.
#
# Prints the guest's console (TAP included) prefixed with "vm| ", then one
# line "N passed, N failed, N skipped". Exit status 1 on any test failure,
# guest panic, boot failure or timeout, 2 on usage errors; qemu is stopped on
# every exit path.

set -u

TOTAL_TIMEOUT=${VMTEST_TIMEOUT:-3600}
KSFT_TIMEOUT_VM=${VMTEST_KSFT_TIMEOUT:-900}
STALL=${VMTEST_STALL:-300}
MODE=run
TESTS=()
VMK=6.1

usage()
{
	cat <<EOF
usage: $0 [-K KERNEL] [-t TEST]... [-s] [-T SECONDS] [-k SECONDS] [TEST...]

Boot one of Debian's kernels under qemu (TCG) and run selftests in it.

  -K, --kernel KERNEL    the pinned kernel to boot: 6.1 (default) or 6.12
                         (selftests/vm/fetch.sh lists the pins)
  -t, --test TEST        run TEST (a name from selftests/Makefile); repeatable.
                         Default: TEST_PROGS and TEST_GEN_PROGS but TEST_HOST_ONLY,
                         and TEST_VM_ONLY.
                         TEST:CASE[,CASE] runs only those cases of a shell test
  -s, --shell            interactive shell in the VM instead, in the repository
                         with BPFNET_VM=1 (exit or Ctrl-a x ends it)
  -T, --timeout SECONDS  bound on the whole VM run, boot included
                         (default $TOTAL_TIMEOUT, env VMTEST_TIMEOUT)
  -k, --ksft-timeout SECONDS
                         per-test timeout inside the VM
                         (default $KSFT_TIMEOUT_VM, env VMTEST_KSFT_TIMEOUT)
  -h, --help             this help

Environment: OUTPUT (default .output), VMTEST_SMP (2), VMTEST_MEM (2G),
VMTEST_TCG_THREAD (single: both vCPUs on one host thread; multi is faster but
can freeze the guest, see below).
Run as root, after make (the guest runs the binaries built on the host).

Examples:
  $0                          # every selftest in the VM
  $0 -t ct_hooks_test         # one test
  $0 -K 6.12 bpf_load_test     # on Debian's 6.12
  $0 -s                       # debug: a shell in the VM
EOF
}

die()
{
	echo "vmtest: $*" >&2
	exit 1
}

need_secs()
{
	[[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] ||
		{ echo "vmtest: $1 needs a number of seconds (1-999999), not '$2'" >&2; exit 2; }
}

while [ $# -gt 0 ]; do
	case "$1" in
	-t|--test)
		[ $# -ge 2 ] || { echo "vmtest: $1 needs a test name" >&2; exit 2; }
		TESTS+=("$2"); shift 2 ;;
	-K|--kernel)
		[[ "${2:-}" =~ ^[0-9]+\.[0-9]+$ ]] ||
			{ echo "vmtest: $1 needs a kernel like 6.1 or 6.12, not '${2:-}'" >&2; exit 2; }
		VMK=$2; shift 2 ;;
	-s|--shell)
		MODE=shell; shift ;;
	-T|--timeout)
		need_secs "$1" "${2:-}"; TOTAL_TIMEOUT=$2; shift 2 ;;
	-k|--ksft-timeout)
		need_secs "$1" "${2:-}"; KSFT_TIMEOUT_VM=$2; shift 2 ;;
	-h|--help)
		usage; exit 0 ;;
	-*)
		echo "vmtest: unknown option $1" >&2; usage >&2; exit 2 ;;
	*)
		TESTS+=("$1"); shift ;;
	esac
done
need_secs --timeout "$TOTAL_TIMEOUT"
need_secs --ksft-timeout "$KSFT_TIMEOUT_VM"

REPO=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the repository"
cd "$REPO" || die "cannot cd to $REPO"
OUTPUT=${OUTPUT:-.output}
QEMU=qemu-system-x86_64

[ "$(id -u)" = 0 ] || die "must run as root (the guest reads the host's root over 9p)"
mkdir -p "$OUTPUT/vm" || die "cannot create $OUTPUT/vm"
VMDIR=$(cd "$OUTPUT/vm" && pwd)

if [ ! -e "$VMDIR/kernel-$VMK/.complete" ] || ! command -v "$QEMU" >/dev/null ||
   ! command -v busybox >/dev/null; then
	OUTPUT=$OUTPUT ./selftests/vm/fetch.sh "$VMK" || die "cannot fetch kernel $VMK and qemu"
fi
KDIR=$(cd "$VMDIR/kernel-$VMK" && pwd -P) || die "no guest kernel in $VMDIR/kernel-$VMK"
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$VMLINUZ" ] || die "no vmlinuz in $KDIR/boot"
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR=$KDIR/lib/modules/$KVER
[ -f "$MODDIR/modules.dep" ] || die "no modules.dep in $MODDIR (rerun selftests/deps.sh vm)"

if [ "$MODE" = run ] && [ ${#TESTS[@]} -eq 0 ]; then
	read -r -a TESTS < <(make -s --no-print-directory -C selftests print-vm-tests)
	[ ${#TESTS[@]} -gt 0 ] || die "no tests listed in selftests/Makefile"
fi

# One directory per run, so that runs from the shared tree do not collide:
# the initramfs, qemu's pid and console log, and the guest's share. Failed
# runs keep theirs for a day.
find "$VMDIR" -maxdepth 1 -name 'run.*' -type d -mmin +1440 -exec rm -rf {} + 2>/dev/null
RUN=$(mktemp -d "$VMDIR/run.XXXXXX") || die "cannot create a run directory in $VMDIR"
SHARE=$RUN/share
mkdir -p "$SHARE"
KEEP_RUN=0

cleanup()
{
	local pid

	pid=$(cat "$RUN/qemu.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		sleep 1
		kill -9 "$pid" 2>/dev/null
	fi
	if [ "$KEEP_RUN" = 1 ]; then
		echo "vmtest: console log and results kept in $RUN" >&2
	else
		rm -rf "$RUN"
	fi
	return 0
}
trap cleanup EXIT
trap 'KEEP_RUN=1; exit 130' INT
trap 'KEEP_RUN=1; exit 143' TERM
trap 'KEEP_RUN=1; exit 129' HUP

# Where the vCPUs of a frozen guest are, from qemu's monitor: each one's
# instruction pointer named with the guest kernel's text symbols (the same
# every boot with nokaslr; Debian's System.map is a stub, so the first guest
# writes them out of /proc/kallsyms), then an NMI, which the guest answers
# (unknown_nmi_panic), if it still can, with a panic and a backtrace.
dump_vcpus()
{
	local map=$KDIR/kallsyms-$KVER regs

	[ -s "$map" ] || map=$SHARE/kallsyms

	regs=$(printf 'info registers -a\n' |
		timeout 10 socat -t 3 - "UNIX-CONNECT:$RUN/monitor.sock" 2>/dev/null | tr -d '\r')
	grep -oE '^CPU#[0-9]+|RIP=[0-9a-f]+' <<< "$regs" | paste -d' ' - - |
	while read -r cpu rip; do
		rip=${rip#RIP=}
		echo "vmtest: $cpu at $rip $(awk -v rip="$rip" '
			("" $1) <= ("" rip) && ("" $1) > ("" best) { best = $1; sym = $3 }
			END { print (sym != "" && rip ~ /^ffffffff/) ? sym : "(not kernel text)" }
			' "$map" 2>/dev/null)"
	done
	printf 'nmi\n' | timeout 10 socat -t 1 - "UNIX-CONNECT:$RUN/monitor.sock" >/dev/null 2>&1
	sleep 5
}

# ---- initramfs: busybox, selftests/vm/init and the modules to mount 9p ----
build_initramfs()
{
	local stage=$RUN/initramfs m dep f

	mkdir -p "$stage/bin" "$stage/lib/modules/$KVER" || return 1
	cp "$(command -v busybox)" "$stage/bin/busybox" || return 1
	cp selftests/vm/init "$stage/init" && chmod 755 "$stage/init" || return 1
	cp "$MODDIR/modules.builtin" "$stage/lib/modules/$KVER/" || return 1
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		# built in on some kernels (virtio_pci on 6.12): nothing to copy
		grep -qE "(^|/)$m\.ko$" "$MODDIR/modules.builtin" && continue
		dep=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep") ||
			{ echo "vmtest: module $m not in $MODDIR/modules.dep" >&2; return 1; }
		for f in ${dep/:/}; do
			mkdir -p "$stage/lib/modules/$KVER/$(dirname "$f")"
			cp "$MODDIR/$f" "$stage/lib/modules/$KVER/$f" || return 1
		done
	done
	busybox depmod -b "$stage" "$KVER" || return 1
	(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 \
		> "$RUN/initramfs.cpio.gz" || return 1
	rm -rf "$stage"
}
build_initramfs || die "cannot build the initramfs"

# ---- the run's config, read by the guest (init and guest-init.sh) ----
q()
{
	printf "'%s'" "${1//\'/\'\\\'\'}"
}
{
	echo "VMTEST_REPO=$(q "$REPO")"
	echo "VMTEST_KDIR=$(q "$KDIR")"
	echo "VMTEST_MODULES=$(q "$MODDIR")"
	echo "VMTEST_KVER=$(q "$KVER")"
	echo "VMTEST_MODE=$MODE"
	echo "VMTEST_KSFT_TIMEOUT=$KSFT_TIMEOUT_VM"
	echo "VMTEST_TESTS=$(q "${TESTS[*]}")"
} > "$SHARE/config"

# Single-threaded TCG: the vCPUs take turns on one host thread. With
# thread=multi (one host thread per vCPU) qemu 7.2 can leave a vCPU running a
# stale translation of kernel text that another vCPU has just patched: seen
# here as a guest frozen in text_poke_bp() (a tracepoint or fentry link
# released), one vCPU waiting for the other in smp_call_function_many_cond()
# while the other loops asm_exc_int3 -> kprobe_int3_handler() -> __schedule():
# the int3 is gone from memory, so the handler backs up to re-run the
# original instruction, and the stale translation hits the int3 again, with
# interrupts off, for ever (2 of 3 full runs of the 6.1 stage froze in
# test_netcost.sh). One thread means a write to kernel text invalidates every
# translation of it before any vCPU runs again.
QEMU_ARGS=(
	-accel "tcg,thread=${VMTEST_TCG_THREAD:-single}" -cpu max -smp "${VMTEST_SMP:-2}" -m "${VMTEST_MEM:-2G}"
	-nodefaults -no-reboot -display none
	-kernel "$VMLINUZ" -initrd "$RUN/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 oops=panic unknown_nmi_panic nokaslr quiet loglevel=4 mitigations=off"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vmtest,path=$SHARE,security_model=none"
	-device virtio-9p-pci,fsdev=vmtest,mount_tag=vmtest
	-pidfile "$RUN/qemu.pid"
	-monitor "unix:$RUN/monitor.sock,server=on,wait=off"
)

if [ "$MODE" = shell ]; then
	echo "vmtest: booting $KVER under qemu TCG; exit the shell or Ctrl-a x to quit" >&2
	"$QEMU" "${QEMU_ARGS[@]}" -serial mon:stdio
	exit $?
fi

echo "vmtest: booting $KVER"
echo "vmtest: qemu TCG, timeout ${TOTAL_TIMEOUT}s; tests: ${TESTS[*]}" >&2
start=$(date +%s)
# qemu's console goes to console.log and, prefixed, to our stdout. In the
# background, so that the INT/TERM traps run at once (bash defers them while
# a foreground pipeline runs); they exit, and cleanup stops qemu.
{
	timeout -k 10 "$TOTAL_TIMEOUT" "$QEMU" "${QEMU_ARGS[@]}" -serial stdio </dev/null
	echo $? > "$RUN/qemu.rc"
} 2>&1 | tee "$RUN/console.log" | sed -u 's/\r$//; s/^/vm| /' &
job=$!
# The guest touches /vmtest/heartbeat every 10 s (guest-init.sh). A guest
# that stops touching it for STALL seconds is frozen, whatever the tests'
# own timeouts say: show where its vCPUs are and stop it.
stalled=0
while kill -0 "$job" 2>/dev/null; do
	sleep 5 &
	wait $!
	[ -f "$RUN/qemu.rc" ] && break
	hb=$(stat -c %Y "$SHARE/heartbeat" 2>/dev/null || echo "$start")
	if [ $(( $(date +%s) - hb )) -gt "$STALL" ]; then
		stalled=1
		dump_vcpus > "$RUN/stall.txt" 2>&1
		kill "$(cat "$RUN/qemu.pid" 2>/dev/null)" 2>/dev/null
		break
	fi
done
wait "$job"
elapsed=$(( $(date +%s) - start ))
[ -s "$SHARE/kallsyms" ] && [ ! -s "$KDIR/kallsyms-$KVER" ] && mv "$SHARE/kallsyms" "$KDIR/kallsyms-$KVER"
qrc=$(cat "$RUN/qemu.rc" 2>/dev/null || echo 1)

# After a timeout or crash, say where the run was, in few enough lines to
# show in the tail of a CI log: the boot time (the emulated CPU's speed), each
# finished test with its result and time, and the test that was running.
report_progress()
{
	local line cur= boot used=0

	boot=$(sed -n 's/.*booted in \([0-9]*\).*/\1/p' "$RUN/console.log" | head -n1)
	echo "vmtest: guest booted in ${boot:-?}s (about 6s on an idle host)"
	[ -f "$SHARE/tap.log" ] || return 0
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"# selftests: bpfnet: "*)
			cur=${line#"# selftests: bpfnet: "} ;;
		"ok "*|"not ok "*)
			echo "vmtest:   $line"
			cur=
			[[ "$line" =~ \#\ ([0-9]+)s$ ]] && used=$((used + BASH_REMATCH[1])) ;;
		esac
	done < "$SHARE/tap.log"
	[ -z "$cur" ] ||
		echo "vmtest:   $cur was running, for about $((elapsed - ${boot:-0} - used))s"
}

passed=0 failed=0 skipped=0 problem=
summary='^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
last=$(tail -n1 "$SHARE/tap.log" 2>/dev/null | tr -d '\r')
if [ "$stalled" = 1 ]; then
	problem="the guest made no progress for ${STALL}s (no heartbeat): frozen"
elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	problem="timeout: the VM ran longer than ${TOTAL_TIMEOUT}s"
elif grep -q 'Kernel panic' "$RUN/console.log"; then
	problem="guest kernel panic"
elif ! grep -q '^vmtest: guest up' "$RUN/console.log"; then
	problem="the guest did not boot (qemu exit $qrc)"
elif [ ! -f "$SHARE/rc" ]; then
	problem="the guest stopped before the tests finished (qemu exit $qrc)"
elif ! [[ "$last" =~ $summary ]]; then
	problem="no summary line from the guest's run_tests.sh"
fi

if [[ "$last" =~ $summary ]]; then
	passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[3]}
elif [ -f "$SHARE/tap.log" ]; then
	# Cut short: count the tests that finished.
	skipped=$(grep -cE '^ok .*# *SKIP' "$SHARE/tap.log")
	passed=$(( $(grep -cE '^ok ' "$SHARE/tap.log") - skipped ))
	failed=$(grep -cE '^not ok ' "$SHARE/tap.log")
fi

rc=0
if [ -n "$problem" ]; then
	echo "vmtest: $problem" >&2
	report_progress >&2
	[ "$stalled" = 1 ] && cat "$RUN/stall.txt" >&2
	failed=$((failed + 1))
	rc=1
elif [ "$(cat "$SHARE/rc")" != 0 ] || [ "$failed" != 0 ]; then
	rc=1
fi
[ "$rc" = 0 ] || KEEP_RUN=1
echo "vmtest: VM stage ($KVER) took ${elapsed}s" >&2
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
