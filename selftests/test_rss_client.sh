#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test_rss_client.sh - rss-client on its own, without a server (test_rss.sh
# runs it against rss): --plot with hostile CSV files and output paths
# (nothing in a CSV file or a path may run as a gnuplot command; the plot
# replaces a planted symlink instead of writing through it), the model's
# figures and records, usage errors, and a run that nothing answers (in a
# namespace of its own: needs root, else skipped): records, ready line,
# SIGINT, exit 1.
#
# Usage: test_rss_client.sh [CASE...]   (default: every case)

source "$(dirname "$0")/lib.sh"

CLIENT=$TOP_DIR/rss/rss-client
CASES=(plot_csv plot_path plot_symlink model usage noreply)

if [ ! -x "$CLIENT" ]; then
	log_fail "rss-client not built (make rss)"
	exit $ksft_fail
fi
require_cmd gnuplot jq
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

# --model: the seed's k_S and the figures of 2 cpus, 1 long (90:10, 6/60 us)
case_model()
{
	local out rr split bad

	out=$("$CLIENT" --model --cpus 2 --long-cpus 1 --mix 90:10 -j 2>"$TMP/model.err")
	rr=$(echo "$out" | jq -r 'select(.policy == "rr" and .class == "short") | .max_rps')
	split=$(echo "$out" | jq -r 'select(.policy == "split" and .class == "long") | .max_rps')
	bad=$(echo "$out" | jq -c 'select((keys_unsorted[0:2] != ["type", "time"]) or
		.type != "model" or (.time | type) != "number")')
	# rr: 2 / (0.9 * 6 + 0.1 * 60) us = 175439/s; split long: 1 / (0.1 * 60 us)
	if [ "$rr" != 175439 ] || [ "$split" != 166667 ] || [ -n "$bad" ]; then
		log_fail "model: rr $rr (want 175439), split long $split (want 166667), bad: $bad"
	elif ! grep -q "more than 0.47 of the cpus" "$TMP/model.err"; then
		log_fail "model: no k_S threshold: $(cat "$TMP/model.err")"
	else
		log_ok "model: rr 175439/s, split long 166667/s, k_S 0.47; records typed and timed"
	fi
}

case_usage()
{
	local c=$CLIENT

	expect_usage_error "unknown option" "$c" --bogus 198.18.1.2
	expect_usage_error "-i out of bounds" "$c" -i 18446744073s 198.18.1.2
	expect_usage_error "-d out of bounds" "$c" -d 18446744073s 198.18.1.2
	expect_usage_error "-i below 1ms" "$c" -i 1ns 198.18.1.2
	expect_usage_error "more than 1000 steps" "$c" -d 5s -i 1ms 198.18.1.2
	expect_usage_error "a step too long for 32-bit ids" "$c" --rate 100000000 -d 1h 198.18.1.2
	expect_usage_error "rate 0" "$c" --rate 0 198.18.1.2
	expect_usage_error "rate garbage" "$c" --rate 10k5 198.18.1.2
	expect_usage_error "mix" "$c" --mix 90 198.18.1.2
	expect_usage_error "ramp" "$c" --ramp 100:10 198.18.1.2
	expect_usage_error "ramp down" "$c" --ramp 100:10:50 198.18.1.2
	expect_usage_error "ramp with -d" "$c" --ramp 100:10:200 -d 5 198.18.1.2
	expect_usage_error "step-duration without ramp" "$c" --step-duration 1 198.18.1.2
	expect_usage_error "unknown policy" "$c" --policy fifo 198.18.1.2
	expect_usage_error "unknown arrival" "$c" --arrival burst 198.18.1.2
	expect_usage_error "server address" "$c" 198.18.1.300
	expect_usage_error "two servers" "$c" 198.18.1.2 198.18.1.3
	expect_usage_error "without server" "$c" --rate 10
	expect_usage_error "json and csv" "$c" -j --csv 198.18.1.2
	expect_usage_error "model without cpus" "$c" --model
	expect_usage_error "from without plot" "$c" --from x.csv
}

# Nothing listens: the records still come (typed, timed, no key named after
# a cpu), the ready line once sending, SIGINT ends the run at once with the
# summary, and the exit status says that nothing answered.
case_noreply()
{
	local ns bad rc start ms

	if [ "$(id -u)" != 0 ]; then
		log_skip "noreply: needs root (a namespace of its own)"
		return
	fi
	setup_ns ns
	if ! tool_start noreply ip netns exec "$ns" "$CLIENT" -j -v --rate 500 -d 60 -i 0.2 \
	     --drain 0.1 127.0.0.1; then
		log_fail "noreply: no ready line"
		return
	fi
	wait_until $((5 * SLOW)) grep -q '"step":1' "$TMP/noreply.out"
	start=$(date +%s%N)
	tool_stop noreply INT
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	bad=$(jq -c 'select((keys_unsorted[0:2] != ["type", "time"]) or
		(.time | type) != "number" or (.type != "step" and .type != "flow") or
		(keys | any(test("^cpu[0-9]"))))' "$TMP/noreply.out")
	if [ $rc != 1 ] || ! grep -q "nothing answered" "$TMP/noreply.err"; then
		log_fail "noreply: exit $rc, want 1 with 'nothing answered': $(cat "$TMP/noreply.err")"
	elif [ $ms -gt $((2000 * SLOW)) ] || ! grep -q "total: " "$TMP/noreply.err"; then
		log_fail "noreply: SIGINT took ${ms} ms, or no summary: $(cat "$TMP/noreply.err")"
	elif [ -n "$bad" ] || ! jq -s -e 'map(select(.type == "step")) | length >= 4 and
		     all(.sent > 0 and .received == 0 and .queue_p99_us == null)' \
		     "$TMP/noreply.out" >/dev/null ||
	     [ "$(jq -c 'select(.type == "flow") | .cpus' "$TMP/noreply.out")" != "[]" ]; then
		log_fail "noreply: records: $bad $(tail -2 "$TMP/noreply.out")"
	else
		log_ok "noreply: step and flow records, SIGINT stopped it in ${ms} ms, exit 1 (nothing answered)"
	fi
}

run_cases "$@"
exit $RET
