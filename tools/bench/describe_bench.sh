#!/usr/bin/env bash
# describe_bench.sh - what `tfrun PLAN --describe` costs as a whole process: wall time and peak
# resident memory (docs/BENCHMARKS.md, "Plan open (issue 13)").
#
#   tools/bench/describe_bench.sh [--runs N] TFRUN PLAN...
#
# For each plan (and for `tfrun --help`, the process floor: no plan opened): 2 warm-up runs, then
# N runs (default 20) timed with bash's $EPOCHREALTIME around the whole process (fork, exec,
# dynamic loading, main, exit), and 5 runs under /usr/bin/time for the max RSS. Prints one row
# per plan: median, min and max wall ms, and the median max RSS in MB. Output goes to /dev/null;
# a failing run stops the script. Run it on a quiet machine: the figures are milliseconds.
set -euo pipefail
runs=20
if [ "${1:-}" = "--runs" ]; then runs=$2; shift 2; fi
if [ $# -lt 2 ]; then
  echo "usage: describe_bench.sh [--runs N] TFRUN PLAN..." >&2
  exit 2
fi
tfrun=$1
shift

median() { sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.1f", m}'; }

# measure LABEL ARGS...: one table row.
measure() {
  local label=$1
  shift
  local walls=() t0 t1 i
  for i in 1 2; do "$tfrun" "$@" > /dev/null; done
  for ((i = 0; i < runs; i++)); do
    t0=$EPOCHREALTIME
    "$tfrun" "$@" > /dev/null
    t1=$EPOCHREALTIME
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) * 1000}')")
  done
  local rss=()
  for i in 1 2 3 4 5; do
    rss+=("$( { /usr/bin/time -f '%M' "$tfrun" "$@" > /dev/null; } 2>&1 | tail -1)")
  done
  local sorted
  sorted=$(printf '%s\n' "${walls[@]}" | sort -n)
  printf '| %s | %s | %s | %s | %s |\n' "$label" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(head -1 <<< "$sorted" | xargs printf "%.1f")" "$(tail -1 <<< "$sorted" | xargs printf "%.1f")" \
    "$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.1f", $1 / 1024}')"
}

echo "tfrun: $tfrun; $runs runs each; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| what | wall ms median | min | max | max RSS MB (median of 5) |"
echo "|---|---:|---:|---:|---:|"
measure "tfrun --help (no plan)" --help
for plan in "$@"; do
  size=$(stat -c %s "$plan" | awk '{printf "%.0f", $1 / 1e6}')
  measure "$(basename "$plan") ($size MB) --describe" "$plan" --describe
done
