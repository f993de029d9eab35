#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmtest.sh - run the selftests inside a qemu VM on Debian's stock 6.1 kernel,
# where kprobes and fentry/fexit work (they do not on our 6.18 dev/CI kernel).
#
# The guest runs the binaries built on the host: the host's root is shared
# read-only over virtio-9p with a tmpfs overlay on top, results come back over
# a second, writable 9p share. TCG only (no KVM here), 2 vCPUs, 2 GiB.
#
# Prints the guest's console (TAP included) prefixed with "vm| ", then one
# line "N passed, N failed, N skipped". Exit status 1 on any test failure,
# guest panic, boot failure or timeout; 2 on usage errors.

set -u

usage()
{
	cat <<EOF
usage: $0 [-t TEST]... [-s] [-T SECONDS] [-k SECONDS] [TEST...]

Boot Debian's 6.1 kernel under qemu (TCG) and run selftests in it.

  -t, --test TEST        run TEST (a name from selftests/Makefile); repeatable.
                         Default: all of TEST_PROGS, TEST_GEN_PROGS, TEST_VM_ONLY
  -s, --shell            interactive shell in the VM instead (Ctrl-a x quits qemu)
  -T, --timeout SECONDS  bound on the whole VM run (default $TOTAL_TIMEOUT)
  -k, --ksft-timeout SECONDS
                         per-test timeout inside the VM (default $KSFT_TIMEOUT_VM)
  -h, --help             this help

Environment: OUTPUT (default .output), VMTEST_SMP (2), VMTEST_MEM (2G).

Examples:
  $0                          # every selftest in the VM
  $0 -t ct_hooks_test         # one test
  $0 -s                       # debug: a shell in the VM, BPFNET_VM=1 set
EOF
}

die()
{
	echo "vmtest: $*" >&2
	exit 1
}

TOTAL_TIMEOUT=3000
KSFT_TIMEOUT_VM=900
MODE=run
TESTS=()

while [ $# -gt 0 ]; do
	case "$1" in
	-t|--test)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		TESTS+=("$2"); shift 2 ;;
	-s|--shell)
		MODE=shell; shift ;;
	-T|--timeout)
		[ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] ||
			{ echo "vmtest: --timeout needs a positive number of seconds" >&2; exit 2; }
		TOTAL_TIMEOUT=$2; shift 2 ;;
	-k|--ksft-timeout)
		[ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] ||
			{ echo "vmtest: --ksft-timeout needs a positive number of seconds" >&2; exit 2; }
		KSFT_TIMEOUT_VM=$2; shift 2 ;;
	-h|--help)
		usage; exit 0 ;;
	-*)
		echo "vmtest: unknown option $1" >&2; usage >&2; exit 2 ;;
	*)
		TESTS+=("$1"); shift ;;
	esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd) || die "cannot find the repository"
cd "$REPO" || die "cannot cd to $REPO"
OUTPUT=${OUTPUT:-.output}
VMDIR=$(mkdir -p "$OUTPUT/vm" && cd "$OUTPUT/vm" && pwd) || die "cannot create $OUTPUT/vm"
RUN=$VMDIR/run
QEMU=qemu-system-x86_64

[ "$(id -u)" = 0 ] || die "must run as root (the guest reads the host's root over 9p)"

if [ ! -e "$VMDIR/kernel/.complete" ] || ! command -v "$QEMU" >/dev/null ||
   ! command -v busybox >/dev/null; then
	OUTPUT=$OUTPUT ./selftests/deps.sh vm || die "cannot fetch the VM's kernel and qemu"
fi
KDIR=$(cd "$VMDIR/kernel" && pwd -P) || die "no guest kernel in $VMDIR/kernel"
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$VMLINUZ" ] || die "no vmlinuz in $KDIR/boot"
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR=$KDIR/lib/modules/$KVER
[ -f "$MODDIR/modules.dep" ] || die "no modules.dep in $MODDIR (rerun selftests/deps.sh vm)"

if [ "$MODE" = run ] && [ ${#TESTS[@]} -eq 0 ]; then
	read -r -a TESTS < <(make -s --no-print-directory -C selftests -f Makefile \
		--eval 'vmtest-list: ; @echo $(TEST_PROGS) $(TEST_GEN_PROGS) $(TEST_VM_ONLY)' \
		vmtest-list)
	[ ${#TESTS[@]} -gt 0 ] || die "no tests listed in selftests/Makefile"
fi

# ---- initramfs: busybox, selftests/vm/init and the modules to mount 9p ----
build_initramfs()
{
	local stage=$VMDIR/initramfs m dep

	rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib/modules/$KVER" || return 1
	cp "$(command -v busybox)" "$stage/bin/busybox" || return 1
	cp selftests/vm/init "$stage/init" && chmod 755 "$stage/init" || return 1
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		dep=$(grep -E "(^|/)$m\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep") ||
			{ echo "vmtest: module $m not in $MODDIR/modules.dep" >&2; return 1; }
		for f in ${dep/:/}; do
			mkdir -p "$stage/lib/modules/$KVER/$(dirname "$f")"
			cp "$MODDIR/$f" "$stage/lib/modules/$KVER/$f" || return 1
		done
	done
	busybox depmod -b "$stage" "$KVER" || return 1
	(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 \
		> "$VMDIR/initramfs.cpio.gz" || return 1
	rm -rf "$stage"
}
build_initramfs || die "cannot build the initramfs"

# ---- the run's share: config in, TAP and exit status out ----
rm -rf "$RUN" && mkdir -p "$RUN" || die "cannot create $RUN"
q()
{
	printf "'%s'" "${1//\'/\'\\\'\'}"
}
{
	echo "VMTEST_REPO=$(q "$REPO")"
	echo "VMTEST_MODULES=$(q "$MODDIR")"
	echo "VMTEST_KVER=$(q "$KVER")"
	echo "VMTEST_MODE=$MODE"
	echo "VMTEST_KSFT_TIMEOUT=$KSFT_TIMEOUT_VM"
	echo "VMTEST_TESTS=$(q "${TESTS[*]}")"
} > "$RUN/config"

QEMU_ARGS=(
	-accel tcg,thread=multi -cpu max -smp "${VMTEST_SMP:-2}" -m "${VMTEST_MEM:-2G}"
	-nodefaults -no-reboot -display none
	-kernel "$VMLINUZ" -initrd "$VMDIR/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 oops=panic quiet loglevel=4 mitigations=off"
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vmtest,path=$RUN,security_model=none"
	-device virtio-9p-pci,fsdev=vmtest,mount_tag=vmtest
	-pidfile "$RUN/qemu.pid"
)

cleanup()
{
	local pid

	pid=$(cat "$RUN/qemu.pid" 2>/dev/null)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		sleep 1
		kill -9 "$pid" 2>/dev/null
	fi
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$MODE" = shell ]; then
	echo "vmtest: booting $KVER (TCG); Ctrl-a x quits qemu" >&2
	"$QEMU" "${QEMU_ARGS[@]}" -serial mon:stdio
	exit $?
fi

echo "vmtest: booting $KVER under qemu TCG; tests: ${TESTS[*]}" >&2
start=$(date +%s)
# qemu's console goes to console.log and, prefixed, to our stdout.
{
	timeout -k 10 "$TOTAL_TIMEOUT" "$QEMU" "${QEMU_ARGS[@]}" -serial stdio </dev/null
	echo $? > "$RUN/qemu.rc"
} 2>&1 | tee "$RUN/console.log" | sed -u 's/\r$//; s/^/vm| /'
elapsed=$(( $(date +%s) - start ))
qrc=$(cat "$RUN/qemu.rc" 2>/dev/null || echo 1)

passed=0 failed=0 skipped=0 problem=
summary='^([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
last=$(tail -n1 "$RUN/tap.log" 2>/dev/null | tr -d '\r')
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	problem="timeout: the VM ran longer than ${TOTAL_TIMEOUT}s"
elif grep -q 'Kernel panic' "$RUN/console.log"; then
	problem="guest kernel panic (see $RUN/console.log)"
elif [ ! -f "$RUN/rc" ]; then
	problem="the guest stopped before the tests finished (qemu exit $qrc)"
elif ! [[ "$last" =~ $summary ]]; then
	problem="no summary line from the guest's run_tests.sh"
fi

if [[ "$last" =~ $summary ]]; then
	passed=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]} skipped=${BASH_REMATCH[3]}
elif [ -f "$RUN/tap.log" ]; then
	# Interrupted: count what finished.
	skipped=$(grep -cE '^ok .*# *SKIP' "$RUN/tap.log")
	passed=$(( $(grep -cE '^ok ' "$RUN/tap.log") - skipped ))
	failed=$(grep -cE '^not ok ' "$RUN/tap.log")
fi

rc=0
if [ -n "$problem" ]; then
	echo "vmtest: $problem" >&2
	failed=$((failed + 1))
	rc=1
elif [ "$(cat "$RUN/rc")" != 0 ] || [ "$failed" != 0 ]; then
	rc=1
fi
echo "vmtest: VM stage took ${elapsed}s" >&2
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
