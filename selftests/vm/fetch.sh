#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch.sh - fetch and cache what selftests/vmtest.sh boots: qemu and
# busybox-static from Debian (installed), and Debian's stock 6.1 kernel
# (downloaded, unpacked into $OUTPUT/vm, never installed on the host).
# Called by `selftests/deps.sh vm` (and so `make deps`); idempotent.
set -e

# The pinned guest kernel, package=version as apt-get takes it. The tree
# lands in $OUTPUT/vm/<package>_<version>, and $OUTPUT/vm/kernel points at it.
VM_KERNEL=linux-image-6.1.0-56-amd64=6.1.192-2
VM_KERNEL_PKG=${VM_KERNEL%%=*}
VM_KERNEL_VERSION=${VM_KERNEL#*=}

OUTPUT=${OUTPUT:-.output}
VMDIR=$OUTPUT/vm
name=${VM_KERNEL_PKG}_$VM_KERNEL_VERSION
kver=${VM_KERNEL_PKG#linux-image-}

need_pkgs()
{
	missing=
	for p in qemu-system-x86 busybox-static; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "vm: missing packages (run as root to install):$missing" >&2
		exit 1
	fi
	echo "vm: installing$missing" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >/dev/null
}

fetch_kernel()
{
	dir=$VMDIR/$name
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir" "$VMDIR/dl"
		mkdir -p "$VMDIR/dl"
		chmod 755 "$VMDIR/dl"
		echo "vm: downloading $VM_KERNEL" >&2
		if ! (cd "$VMDIR/dl" && apt-get download -qq -o APT::Sandbox::User=root "$VM_KERNEL"); then
			apt-get update -qq
			(cd "$VMDIR/dl" && apt-get download -qq -o APT::Sandbox::User=root "$VM_KERNEL")
		fi
		dpkg-deb -x "$VMDIR"/dl/*.deb "$dir"
		# dpkg-deb -x runs no maintainer scripts: make modules.dep and
		# modules.alias for busybox modprobe here.
		busybox depmod -b "$dir" "$kver"
		rm -rf "$VMDIR/dl"
		touch "$dir/.complete"
	fi
	ln -sfn "$name" "$VMDIR/kernel"
	# Trees of earlier pins (400 MB each) go.
	for old in "$VMDIR"/linux-image-*; do
		[ "$old" = "$dir" ] || rm -rf "$old"
	done
}

need_pkgs
mkdir -p "$VMDIR"
# Runs from the shared tree may start together: one fetch at a time.
exec 9>"$VMDIR/.fetch.lock"
flock 9
fetch_kernel
