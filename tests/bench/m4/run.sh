#!/bin/bash
# M4 Hourly benchmark: floatcast models and R's forecast package in one run,
# printed side by side. Usage (from the repository root, after building):
#   tests/bench/m4/run.sh [BUILD_DIR] [SHARED_DIR]
# floatcast: all 414 series (h 48) and the every-52nd subset; R: snaive and
# thetaf on all series, ets and auto.arima on the subset. OWA uses Naive2
# computed by floatcast on the same series (it reproduces the M4 figures).
set -eo pipefail
B=${1:-build}
D=${2:-../shared}/data/m4-hourly
OUT=${OUT:-$B/m4-bench}
mkdir -p "$OUT"
MODELS="naive2 snaive theta otheta ets arima mstl@24,168 mstl@24,168+log weighted@24,168 ensemble@24,168+nocal ensemble@24,168 ensemble@24,168+arima"
echo "== floatcast, all 414 series (2 worker threads)"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --per-series "$OUT/fc_all.csv" $MODELS | tee "$OUT/fc_all.txt"
echo "== floatcast, every 52nd series, 1 thread"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --every 52 --threads 1 --per-series "$OUT/fc_sub.csv" \
  naive2 snaive theta ets arima ensemble@24,168 ensemble@24,168+arima | tee "$OUT/fc_sub.txt"
echo "== R forecast package"
t0=$(date +%s)
Rscript "$(dirname "$0")/r_forecast.R" "$D/train.csv" "$D/test.csv" 52 "$OUT/r.csv"
echo "R total wall seconds: $(( $(date +%s) - t0 ))"
python3 "$(dirname "$0")/table.py" "$OUT/fc_all.csv" "$OUT/fc_sub.csv" "$OUT/r.csv" "$OUT/fc_all.txt" "$OUT/fc_sub.txt"
