#!/usr/bin/env bash
# describe_bench.sh - what `tfrun PLAN --describe` costs as a whole process: wall time and peak
# resident memory (docs/BENCHMARKS.md, "Plan open (issue 13)").
#
#   tools/bench/describe_bench.sh --make-plans TFC DIR   # DIR/{minilm,gpt2,minilm-real}.plan
#   tools/bench/describe_bench.sh [--runs N] TFRUN PLAN...
#
# --make-plans writes the plans of the figures with the compiler TFC: the MiniLM and GPT-2 small
# geometries with random weights (tools/bench/make_bench_model.py; no tokenizer) and, when
# build/models/all-MiniLM-L6-v2 exists (tools/get_minilm.sh), the real MiniLM with its WordPiece
# tokenizer.
#
# For each plan (and for `tfrun --help`, the process floor: no plan opened): 2 warm-up runs, then
# N runs (default 20) timed with bash's $EPOCHREALTIME around the whole process (fork, exec,
# dynamic loading, main, exit), and 5 runs under /usr/bin/time for the max RSS. Prints one row
# per plan: median, min and max wall ms, the mean CPU time of N more runs (perf stat's
# task-clock: what the process costs whatever else the machine is doing; the wall time on a busy
# machine adds the waits for a core), and the median max RSS in MB. Output goes to /dev/null;
# a failing run stops the script. Run it on a quiet machine: the figures are milliseconds.
set -euo pipefail
if [ "${1:-}" = "--make-plans" ]; then
  [ $# -eq 3 ] || { echo "usage: describe_bench.sh --make-plans TFC DIR" >&2; exit 2; }
  tfc=$(realpath "$2") dir=$3 root=$(cd "$(dirname "$0")/../.." && pwd)
  mkdir -p "$dir"
  for geometry in minilm gpt2; do
    /usr/bin/python3 "$root/tools/bench/make_bench_model.py" "$geometry" "$dir/$geometry.fbs"
    "$tfc" compile "$dir/$geometry.fbs" -o "$dir/$geometry.plan"
    rm -f "$dir/$geometry.fbs"
  done
  if [ -d "$root/build/models/all-MiniLM-L6-v2" ]; then
    "$tfc" compile "$root/build/models/all-MiniLM-L6-v2" -o "$dir/minilm-real.plan"
  fi
  ls -l "$dir"/*.plan
  exit 0
fi
runs=20
if [ "${1:-}" = "--runs" ]; then runs=$2; shift 2; fi
if [ $# -lt 2 ]; then
  echo "usage: describe_bench.sh [--runs N] TFRUN PLAN..." >&2
  exit 2
fi
tfrun=$1
shift

# cpuMs ARGS...: the mean task-clock (CPU ms) of `runs` runs, from `perf stat` ("n/a" without
# a working perf): what the process costs whatever else the machine is doing, where the wall time
# of a busy machine adds the waits for a core. (bash's `times` is tick-sampled: useless here.)
cpuMs() {
  local out
  if out=$(perf stat -r "$runs" -x, -e task-clock "$tfrun" "$@" 2>&1 > /dev/null); then
    awk -F, '$3 == "task-clock" {printf "%.1f", $1; found = 1} END {if (!found) printf "n/a"}' \
      <<< "$out"
  else
    printf 'n/a'
  fi
}

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
  printf '| %s | %s | %s | %s | %s | %s |\n' "$label" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(head -1 <<< "$sorted" | xargs printf "%.1f")" \
    "$(tail -1 <<< "$sorted" | xargs printf "%.1f")" \
    "$(cpuMs "$@")" \
    "$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.1f", $1 / 1024}')"
}

echo "tfrun: $tfrun; $runs runs each; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| what | wall ms median | min | max | CPU ms (perf task-clock, mean) | max RSS MB (median of 5) |"
echo "|---|---:|---:|---:|---:|---:|"
measure "tfrun --help (no plan)" --help
for plan in "$@"; do
  size=$(stat -c %s "$plan" | awk '{printf "%.0f", $1 / 1e6}')
  measure "$(basename "$plan") ($size MB) --describe" "$plan" --describe
done
