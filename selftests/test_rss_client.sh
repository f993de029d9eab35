#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_rss_client.sh - rss-client on its own (no server, no root needed):
# --plot with hostile CSV files and output paths (nothing in a CSV file or a
# path may run as a gnuplot command; the plot replaces a planted symlink
# instead of writing through it), the model's figures, usage errors.
#
# Usage: test_rss_client.sh [CASE...]   (default: every case)

source "$(dirname "$0")/lib.sh"

CLIENT=$TOP_DIR/rss/rss-client
CASES=(plot_csv plot_path plot_symlink)

if [ ! -x "$CLIENT" ]; then
	log_fail "rss-client not built (make rss)"
	exit $ksft_fail
fi
require_cmd gnuplot
trap cleanup EXIT
make_tmp test_rss_client

HEADER=step,policy,class,offered_rps,achieved_rps,sent,received,lost,total_rps,queue_p50_us,queue_p90_us,queue_p99_us

# csv FILE POLICY: a two-step --csv file of POLICY, both classes
csv()
{
	{
		echo "$HEADER"
		echo "0,$2,short,900,900,900,900,0,1000,3.1,5.2,20.5"
		echo "0,$2,long,100,100,100,100,0,1000,4.1,6.2,80.5"
		echo "1,$2,short,1800,1800,1800,1800,0,2000,3.3,5.9,40.5"
		echo "1,$2,long,200,200,200,200,0,2000,4.3,6.9,160.5"
	} >"$1"
}

is_png()
{
	[ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]
}

# plot NAME ARGS...: rss-client --plot ARGS in the private directory $TMP/NAME,
# where a payload that ran would leave its marker files
plot()
{
	local name=$1

	shift
	mkdir -p "$TMP/$name"
	(cd "$TMP/$name" && "$CLIENT" --plot "$@" >"$TMP/$name.out" 2>"$TMP/$name.err")
}

# no_markers NAME: no payload ran (markers in $TMP/NAME or $TMP)
no_markers()
{
	[ -z "$(find "$TMP" -name 'pwned*' -print -quit)" ]
}

# Policy names that were gnuplot commands in the script before: a quote that
# ends the title, a backquote (command substitution), a macro, a newline-free
# continuation. The plot must be drawn and nothing run.
case_plot_csv()
{
	csv "$TMP/a.csv" "x';system('touch pwned1')#"
	csv "$TMP/b.csv" 'y`touch pwned2`'
	csv "$TMP/c.csv" 'z"@x;!touch pwned3'
	plot csv out.png --from "$TMP/a.csv" --from "$TMP/b.csv" --from "$TMP/c.csv"
	local rc=$?

	if ! no_markers; then
		log_fail "plot csv: a policy name from the CSV ran as a command:" \
			"$(find "$TMP" -name 'pwned*' | tr '\n' ' ')"
	elif [ $rc != 0 ] || ! is_png "$TMP/csv/out.png"; then
		log_fail "plot csv: exit $rc, no PNG: $(head -c 300 "$TMP/csv.err")"
	elif [ -s "$TMP/csv.out" ]; then
		log_fail "plot csv: data on stdout"
	else
		log_ok "plot csv: hostile policy names plotted as titles, nothing run"
	fi
}

# An output path with a quote and a command in it: written at exactly that
# path, nothing run.
case_plot_path()
{
	local out="$TMP/path/a';system('touch pwned4')#.png"

	csv "$TMP/rr.csv" rr
	plot path "$out" --from "$TMP/rr.csv"
	local rc=$?

	if ! no_markers; then
		log_fail "plot path: the output path ran as a command"
	elif [ $rc != 0 ] || ! is_png "$out"; then
		log_fail "plot path: exit $rc, no PNG at the path: $(head -c 300 "$TMP/path.err")"
	elif [ "$(find "$TMP/path" -type f | wc -l)" != 1 ]; then
		log_fail "plot path: files left beside it: $(ls "$TMP/path" | tr '\n' ' ')"
	else
		log_ok "plot path: written to a path with a quote and a command in it, nothing run"
	fi
}

# A symlink planted at the output path: replaced by the plot, its target
# untouched (the PNG is written to a new file and renamed).
case_plot_symlink()
{
	mkdir -p "$TMP/link"
	echo precious >"$TMP/victim"
	ln -s "$TMP/victim" "$TMP/link/out.png"
	csv "$TMP/rr.csv" rr
	plot link "$TMP/link/out.png" --from "$TMP/rr.csv"
	local rc=$?

	if [ "$(cat "$TMP/victim")" != precious ]; then
		log_fail "plot symlink: the symlink's target was written"
	elif [ $rc != 0 ] || ! is_png "$TMP/link/out.png"; then
		log_fail "plot symlink: exit $rc, no PNG in place of the link: $(head -c 300 "$TMP/link.err")"
	else
		log_ok "plot symlink: the planted symlink replaced, its target untouched"
	fi
}

run_cases "$@"
exit $RET
