#!/bin/bash
# CDNOW daily revenue benchmark: floatcast models and R's forecast package
# on the same series in one run, side by side. Daily sum of dollar_value,
# weekly season 7, the last 28 days held out. Usage (repository root):
#   tests/bench/cdnow/run.sh [BUILD_DIR] [SHARED_DIR]
set -eo pipefail
. "$(dirname "$0")/../../../.ci/deps.sh"
fc_deps bench r-cran-forecast r-cran-prophet bc   # the peers, run in the same job
B=${1:-build}
S=${2:-../shared}
H=28
OUT=${OUT:-$B/cdnow-bench}
here=$(dirname "$0")
mkdir -p "$OUT"
python3 "$here/prep.py" "$S/data/cdnow/CDNOW_master.txt" "$OUT/daily.csv"
n=$(( $(wc -l < "$OUT/daily.csv") - 1 ))
head -n $(( n - H + 1 )) "$OUT/daily.csv" > "$OUT/train.csv"
args=()
for m in naive2 snaive theta ets arima mstl auto ensemble-arima neural ensemble-neural; do
  t0=$(date +%s.%N)
  "$B/bin/floatcast" forecast --input "$OUT/train.csv" --horizon $H --season 7 --model $m \
    --threads 2 --output "$OUT/fc_$m.csv"
  args+=("floatcast $m:$OUT/fc_$m.csv:$(echo "$(date +%s.%N) - $t0" | bc | xargs printf %.2f)")
done
Rscript "$here/r_models.R" "$OUT/train.csv" $H 7 "$OUT" > "$OUT/r_secs.txt"
while read -r nm s; do args+=("R $nm:$OUT/r_$nm.csv:$(printf %.2f "$s")"); done < "$OUT/r_secs.txt"
python3 "$here/score.py" "$OUT/daily.csv" $H 7 "${args[@]}"
