#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fetch.sh - fetch and cache what selftests/vmtest.sh boots: qemu and
# busybox-static from Debian (installed), and Debian's stock kernels
# (downloaded, unpacked into $OUTPUT/vm, never installed on the host).
# Called by `selftests/deps.sh vm` (and so `make deps`); idempotent.
#
#   fetch.sh [NAME...]   the pinned kernels NAME (default: $VM_KERNELS, else all)
set -e

# The pinned guest kernels: NAME=package=version, as apt-get download takes
# package=version. Each tree lands in $OUTPUT/vm/<package>_<version>, and
# $OUTPUT/vm/kernel-NAME points at it. Adding a kernel is adding a line here
# (and its NAME to VM_KERNELS for make check).
PINS="
6.1=linux-image-6.1.0-56-amd64=6.1.192-2
6.12=linux-image-6.12.117+deb12-amd64=6.12.117-1~deb12u1
"

OUTPUT=${OUTPUT:-.output}
VMDIR=$OUTPUT/vm

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

# fetch_kernel NAME: download and unpack the pin NAME, point kernel-NAME at it.
fetch_kernel()
{
	pin=$(printf '%s\n' $PINS | grep "^$1=") ||
		{ echo "vm: no pinned kernel '$1' (pins: $(printf '%s\n' $PINS | cut -d= -f1 | tr '\n' ' '))" >&2; exit 1; }
	pkgver=${pin#*=}
	pkg=${pkgver%%=*}
	ver=${pkgver#*=}
	name=${pkg}_$ver
	kver=${pkg#linux-image-}
	dir=$VMDIR/$name
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir" "$VMDIR/dl"
		mkdir -p "$VMDIR/dl"
		chmod 755 "$VMDIR/dl"
		echo "vm: downloading $pkgver (about 100 MB, unpacked to 400-600 MB)" >&2
		if ! (cd "$VMDIR/dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkgver"); then
			apt-get update -qq
			(cd "$VMDIR/dl" && apt-get download -qq -o APT::Sandbox::User=root "$pkgver")
		fi
		dpkg-deb -x "$VMDIR"/dl/*.deb "$dir"
		# 6.12's modules are xz-compressed; busybox's insmod hands the
		# file to init_module as it is ("Invalid ELF header magic").
		find "$dir/lib/modules" -name '*.ko.xz' -print0 | xargs -0 -r -n 200 xz -d
		# dpkg-deb -x runs no maintainer scripts: make modules.dep and
		# modules.alias for busybox modprobe here.
		busybox depmod -b "$dir" "$kver"
		rm -rf "$VMDIR/dl"
		touch "$dir/.complete"
	fi
	ln -sfn "$name" "$VMDIR/kernel-$1"
}

need_pkgs
mkdir -p "$VMDIR"
# Runs from the shared tree may start together: one fetch at a time.
exec 9>"$VMDIR/.fetch.lock"
flock 9
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2086
	set -- ${VM_KERNELS:-$(printf '%s\n' $PINS | cut -d= -f1)}
fi
for k in "$@"; do
	fetch_kernel "$k"
done
# Trees of earlier pins (400 MB each) go; so does the old single link.
rm -f "$VMDIR/kernel"
for old in "$VMDIR"/linux-image-*; do
	[ -e "$old" ] || continue
	printf '%s\n' $PINS | sed 's/=\([^=]*\)=/=\1_/' | cut -d= -f2 |
		grep -qxF "${old##*/}" || rm -rf "$old"
done
