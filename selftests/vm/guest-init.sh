#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the selftests VM after switch_root (see selftests/vm/init): set up
# the usual mounts, then run the selftests named in /vmtest/config (or a shell
# with -s), write their TAP to /vmtest/tap.log and the exit status to
# /vmtest/rc, and power off. The host (selftests/vmtest.sh) reads both.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux} LANG=C.UTF-8
export BPFNET_VM=1

# PID 1 must never exit, and while the kernel powers off the 9p root (every
# binary of the host, bash's own pages included) goes away: wait in the static
# busybox that init copied into the tmpfs, or spin in the shell if even that fails.
poweroff_now()
{
	sync
	shopt -s execfail
	echo o > /proc/sysrq-trigger
	exec /usr/local/vmtest/busybox sleep 600
	while :; do :; done
}

mnt()
{
	mkdir -p "$3"
	mount -t "$1" "$2" "$3" ${4:+-o "$4"} || echo "vmtest: cannot mount $1 on $3" >&2
}

# VMTEST_REPO, VMTEST_MODE, VMTEST_TESTS, VMTEST_KSFT_TIMEOUT
# shellcheck source=/dev/null
. /vmtest/config

# Fresh /run and /tmp, unless the repository lives there (a clone in /tmp):
# then the overlay's copy stays, writable all the same.
under()
{
	case "$VMTEST_REPO/" in
	"$1"/*) return 0 ;;
	esac
	return 1
}

mnt proc proc /proc
mnt sysfs sysfs /sys
under /run || mnt tmpfs tmpfs /run mode=0755
under /tmp || mnt tmpfs tmpfs /tmp mode=1777
mnt devpts devpts /dev/pts gid=5,mode=620,ptmxmode=666
mnt tmpfs tmpfs /dev/shm mode=1777
mnt debugfs debugfs /sys/kernel/debug
mnt tracefs tracefs /sys/kernel/tracing
mnt bpf bpf /sys/fs/bpf mode=0700
mnt cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/lock /var/tmp /run/netns
[ -L /var/run ] || { rm -rf /var/run && ln -s /run /var/run; }
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr

hostname bpfnet-vm
echo 1 > /proc/sys/kernel/sysrq
ip link set lo up
# libcrc32c (nf_conntrack's dependency) asks the crypto API for "crc32c",
# which it only finds if the generic implementation is already loaded.
modprobe -q crc32c_generic
# A modest memlock limit would break pre-5.11 style loaders; be generous.
ulimit -l unlimited

# The boot time tells how fast this emulated CPU is today (about 6 s when
# the host is idle): a slow CI run shows it here.
read -r up _ < /proc/uptime
echo "vmtest: guest up, kernel $(uname -r), $(nproc) CPUs, booted in ${up}s"
cd "$VMTEST_REPO" || { echo "vmtest: no $VMTEST_REPO in the guest" >&2; poweroff_now; }

if [ "$VMTEST_MODE" = shell ]; then
	echo "vmtest: interactive shell in $VMTEST_REPO (BPFNET_VM=1); exit to power off"
	setsid -c bash -i </dev/ttyS0 >/dev/ttyS0 2>&1
	poweroff_now
fi

# The kernel's text symbols, for vmtest.sh to name where the vCPUs of a frozen
# guest are: the same every boot (nokaslr), so written once per kernel.
[ -s "$VMTEST_KDIR/kallsyms-$VMTEST_KVER" ] || grep -E '^[0-9a-f]+ [tT] ' /proc/kallsyms > /vmtest/kallsyms

# Proof of life for the host (vmtest.sh): a frozen guest stops touching it.
while :; do
	cut -d' ' -f1 /proc/uptime > /vmtest/heartbeat
	sleep 10
done &

export KSFT_TIMEOUT=$VMTEST_KSFT_TIMEOUT
# shellcheck disable=SC2086
./selftests/run_tests.sh $VMTEST_TESTS 2>&1 | tee /vmtest/tap.log
echo "${PIPESTATUS[0]}" > /vmtest/rc
poweroff_now
