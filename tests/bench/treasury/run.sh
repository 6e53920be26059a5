#!/bin/bash
# Hourly treasury-outflow benchmark: floatcast models and R's forecast
# package and prophet on the same series in one run, side by side.
# Usage (from the repository root, after building):
#   tests/bench/treasury/run.sh [BUILD_DIR] [TENANTS] [DAYS] [EVERY]
# prep.py writes TENANTS (default 25) demo tenants x 4 currencies of hourly
# outflows, DAYS (default 42) of history each, the last 48 hours held out,
# in M4 format; m4_bench and the M4 benchmark's R scripts score them (h 48,
# MASE scale: seasonal naive at lag 24). floatcast: every model on all
# series (2 worker threads) and on the subset 1, 1+EVERY, ... (default 13:
# 8 series, 2 per currency) single-threaded. R: snaive, thetaf, ets and
# prophet on all series, auto.arima (~1-2 min per series) on the subset.
set -eo pipefail
. "$(dirname "$0")/../../../.ci/deps.sh"
fc_deps bench r-cran-forecast r-cran-prophet bc   # the peers, run in the same job
B=${1:-build}
TENANTS=${2:-25}
DAYS=${3:-42}
EVERY=${4:-13}
OUT=${OUT:-$B/treasury-bench}
here=$(dirname "$0")
m4=$here/../m4
load() { echo "[$(date -u +%FT%TZ)] load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
python3 "$here/prep.py" "$B/bin/floatcast" "$OUT" "$TENANTS" "$DAYS"
echo "== $(( $(wc -l < "$OUT/train.csv") - 1 )) series, $DAYS days of hourly outflows each (see $OUT/series.csv)"
# weighted@24,168+arima+neural+top=7+pow=5+choose is `floatcast forecast --model ensemble-neural`.
MODELS="naive2 snaive theta ets cal:ets arima cal:arima mstl@24,168 mstl@24,168+log prophet@24,168
  cal:prophet@24,168 ensemble@24,168+nocal ensemble@24,168 ensemble@24,168+arima ensemble@24,168+prophet
  neural ensemble@24,168+arima+neural weighted@24,168+arima+neural+top=7+pow=5+choose"
SUBMODELS="naive2 snaive theta ets arima prophet@24,168 ensemble@24,168 ensemble@24,168+arima"
load; echo "== floatcast, all series (2 worker threads)"
"$B/bin/m4_bench" "$OUT/train.csv" "$OUT/test.csv" --per-series "$OUT/fc_all.csv" $MODELS | tee "$OUT/fc_all.txt"
load; echo "== floatcast, series 1, 1+${EVERY}, 1+2*${EVERY}, ... (1 thread)"
"$B/bin/m4_bench" "$OUT/train.csv" "$OUT/test.csv" --every "$EVERY" --threads 1 --per-series "$OUT/fc_sub.csv" \
  $SUBMODELS | tee "$OUT/fc_sub.txt"
load; echo "== R forecast (snaive, thetaf, ets: all; auto.arima: series 1, 1+${EVERY}, ...)"
t0=$(date +%s)
Rscript "$m4/r_forecast.R" "$OUT/train.csv" "$OUT/test.csv" "$EVERY" "$OUT/r.csv" 1
echo "R forecast total wall seconds: $(( $(date +%s) - t0 ))"
load; echo "== R prophet, all series"
t0=$(date +%s)
Rscript "$m4/r_prophet.R" "$OUT/train.csv" "$OUT/test.csv" 1 "$OUT/r_prophet.csv" 2>/dev/null
echo "R prophet total wall seconds: $(( $(date +%s) - t0 ))"
load
python3 "$m4/table.py" "$OUT/fc_all.csv" "$OUT/fc_sub.csv" "$OUT/r.csv" "$OUT/fc_all.txt" "$OUT/fc_sub.txt" \
  "$OUT/r_prophet.csv"
