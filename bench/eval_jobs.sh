#!/usr/bin/env bash
# Speed-up of `hiitpi eval --jobs N` when the pose tracks must be computed (nothing cached).
# Usage (from the repo root): bench/eval_jobs.sh [JOBS] [ROUNDS]
# Four short clips of ../shared/data/clips.csv (about 1200 frames); each run gets a fresh,
# empty HIITPI_CACHE_DIR, and --jobs 1 and --jobs JOBS alternate so machine-load drift hits both.
set -euo pipefail
JOBS=${1:-2}
ROUNDS=${2:-2}
SHARED=${HIITPI_SHARED_DIR:-../shared}
PY=${PY:-.venv/bin/python}
WORK=$(mktemp -d -t hiitpi-eval-jobs-XXXX)
trap 'rm -rf "$WORK"' EXIT
CLIPS='^(push_up__venkat__1|jumping_jacks__ahmedlila__1|push_up__kaiakol__1|squat_jump__amila__1)\.mp4,'
{ head -1 "$SHARED/data/clips.csv"; grep -E "$CLIPS" "$SHARED/data/clips.csv"; } > "$WORK/four.csv"

run() {  # $1 = jobs, $2 = label; prints "label seconds"
  local cache="$WORK/cache-$2"
  rm -rf "$cache"
  local t0 t1
  t0=$(date +%s.%N)
  HIITPI_CACHE_DIR="$cache" "$PY" -m hiitpi eval "$WORK/four.csv" \
    --clips-dir "$SHARED/data/clips" --jobs "$1" --json > "$WORK/out-$2.json"
  t1=$(date +%s.%N)
  echo "$2 $(echo "$t1 - $t0" | bc)"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  run 1 "jobs1-round$r"
  run "$JOBS" "jobs$JOBS-round$r"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# the counts must not depend on --jobs
for f in "$WORK"/out-*.json; do
  "$PY" -c 'import json,sys; print(sys.argv[1].rsplit("/",1)[1], json.load(open(sys.argv[1]))["overall"])' "$f"
done
