#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what building, testing and benchmarking bpfnet need.
#   deps.sh all    packages, the kselftest headers and the VM assets
#   deps.sh pkgs   Debian packages only (apt-get, quiet, idempotent)
#   deps.sh ksft   kselftest_harness.h + kselftest.h into $OUTPUT/ksft
#   deps.sh vm     the VM stage's kernel, busybox and qemu (selftests/vmtest.sh)
set -e
OUTPUT=${OUTPUT:-.output}

# build
PKGS="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev"
PKGS="$PKGS libclang-rt-14-dev"	# make SAN=1 with clang, libFuzzer (make fuzz)
# tests and demo
PKGS="$PKGS iproute2 iputils-ping iptables conntrack ethtool socat netcat-openbsd tcpdump"
PKGS="$PKGS iperf3 xz-utils procps strace"
PKGS="$PKGS jq gnuplot-nox"	# rss: tests, plots
PKGS="$PKGS libpcap0.8-dev"	# tracer: pcap-filter expressions (pcap_compile)
PKGS="$PKGS libbpf-tools linux-perf"	# netcost: bench peer (softirqs); bench: timer cost (perf)
PKGS="$PKGS curl prometheus"	# elephant: /metrics scraped by curl and a real prometheus
PKGS="$PKGS libjansson-dev libcurl4-openssl-dev"	# elephant-sched: JSON, HTTP client
# VM stage
PKGS="$PKGS qemu-system-x86 busybox-static"

KSFT_PKG=linux-source-6.1

apt_updated=
apt_update()
{
	[ -n "$apt_updated" ] && return 0
	apt_updated=1
	apt-get update -qq
}

missing_pkgs()
{
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			echo "$p"
	done
}

deps_pkgs()
{
	missing=$(missing_pkgs $PKGS)
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages (run as root to install):" $missing >&2
		exit 1
	fi
	echo "deps: installing" $missing >&2
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >/dev/null
}

# The kselftest harness headers, out of Debian's kernel source package,
# without installing it: download the .deb, pull two files, drop the .deb.
deps_ksft()
{
	dir=$OUTPUT/ksft
	[ -f "$dir/kselftest_harness.h" ] && [ -f "$dir/kselftest.h" ] && return 0
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/dl.XXXXXX")
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	echo "deps: fetching the kselftest harness from $KSFT_PKG (a 140 MB download, two headers kept)" >&2
	(cd "$tmp" && apt-get download -qq "$KSFT_PKG" 2>/dev/null) ||
		{ apt_update && (cd "$tmp" && apt-get download -qq "$KSFT_PKG" 2>/dev/null); }
	deb=$(ls "$tmp"/*.deb)
	src=linux-source-6.1/tools/testing/selftests
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.1.tar.xz |
		tar -xJ -C "$tmp" "$src/kselftest_harness.h" "$src/kselftest.h"
	mv "$tmp/$src/kselftest.h" "$tmp/$src/kselftest_harness.h" "$dir/"
	rm -rf "$tmp"
	trap - EXIT
}

deps_vm()
{
	# The VM stage's assets (owned by selftests/vmtest.sh's author).
	if [ -x selftests/vm/fetch.sh ]; then
		OUTPUT=$OUTPUT selftests/vm/fetch.sh
	fi
}

case "${1:-all}" in
pkgs)	deps_pkgs ;;
ksft)	deps_ksft ;;
vm)	deps_vm ;;
all)	deps_pkgs; deps_ksft; deps_vm ;;
*)	echo "usage: $0 [all|pkgs|ksft|vm]" >&2; exit 2 ;;
esac
