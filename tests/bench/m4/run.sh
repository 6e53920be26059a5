#!/bin/bash
# M4 Hourly benchmark: floatcast models and R's forecast package (and R
# prophet) in one run, printed side by side. Usage (from the repository
# root, after building):
#   tests/bench/m4/run.sh [BUILD_DIR] [SHARED_DIR] [EVERY]
# floatcast: every model on all 414 series (h 48, 2 worker threads) and the
# subset H1, H(1+EVERY), ... (default EVERY 52: 8 series) single-threaded;
# R: snaive and thetaf on all series, ets, auto.arima (~1-2 min per series)
# and prophet on the subset. OWA uses Naive2 computed by floatcast on the
# same series (it reproduces the M4 figures). The load average is printed
# before each phase because the machine is shared. Outputs in $OUT.
set -eo pipefail
. "$(dirname "$0")/../../../.ci/deps.sh"
fc_deps bench r-cran-forecast r-cran-prophet bc   # the peers, run in the same job
B=${1:-build}
D=${2:-../shared}/data/m4-hourly
EVERY=${3:-52}
OUT=${OUT:-$B/m4-bench}
here=$(dirname "$0")
mkdir -p "$OUT"
load() { echo "[$(date -u +%FT%TZ)] load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }
# weighted@24,168+arima+neural+top=7+pow=5+choose is `floatcast forecast --model ensemble-neural`
# (forecaster.c): the ensemble-arima members and the net, 1/MASE^5 weights or the best member per series.
MODELS="naive2 snaive theta otheta ets cal:ets arima cal:arima mstl@24,168 mstl@24,168+log
  prophet@24,168 cal:prophet@24,168 weighted@24,168 ensemble@24,168+nocal ensemble@24,168+plaincal
  ensemble@24,168 ensemble@24,168+arima+plaincal ensemble@24,168+arima ensemble@24,168+prophet
  neural weighted@24,168+arima+neural+top=7+pow=5+choose"
SUBMODELS="naive2 snaive theta ets arima prophet@24,168 ensemble@24,168 ensemble@24,168+arima"
load; echo "== floatcast, all 414 series (2 worker threads)"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --per-series "$OUT/fc_all.csv" $MODELS | tee "$OUT/fc_all.txt"
load; echo "== floatcast calibration choice on validation windows (last 48 h of each TRAINING series; the test is not read)"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --validate naive2 ensemble@24,168+plaincal ensemble@24,168 \
  ensemble@24,168+arima+plaincal ensemble@24,168+arima+narrow=0.8 ensemble@24,168+arima \
  ensemble@24,168+arima+narrow=0.6 ensemble@24,168+arima+narrow=0.5 | tee "$OUT/fc_validate.txt"
load; echo "== floatcast, series 1, 1+${EVERY}, 1+2*${EVERY}, ... (1 thread)"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --every "$EVERY" --threads 1 --per-series "$OUT/fc_sub.csv" \
  $SUBMODELS | tee "$OUT/fc_sub.txt"
load; echo "== R forecast package (snaive, thetaf: all; ets, auto.arima: series 1, 1+${EVERY}, ...)"
t0=$(date +%s)
Rscript "$here/r_forecast.R" "$D/train.csv" "$D/test.csv" "$EVERY" "$OUT/r.csv"
echo "R forecast total wall seconds: $(( $(date +%s) - t0 ))"
load; echo "== R prophet, series 1, 1+${EVERY}, ..."
t0=$(date +%s)
Rscript "$here/r_prophet.R" "$D/train.csv" "$D/test.csv" "$EVERY" "$OUT/r_prophet.csv" 2>/dev/null
echo "R prophet total wall seconds: $(( $(date +%s) - t0 ))"
load
python3 "$here/table.py" "$OUT/fc_all.csv" "$OUT/fc_sub.csv" "$OUT/r.csv" "$OUT/fc_all.txt" "$OUT/fc_sub.txt" \
  "$OUT/r_prophet.csv"
