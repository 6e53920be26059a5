#!/bin/bash
# M4 Hourly: floatcast's Prophet-style model beside R prophet, one run.
# Usage (from the repository root, after building):
#   tests/bench/m4/run_prophet.sh [BUILD_DIR] [SHARED_DIR] [EVERY]
# floatcast: all 414 series and the subset 1, 1+EVERY, ... (default 13: 32
# series); R prophet (Debian r-cran-prophet, ~1.5 s per series) on the
# subset only. prophet@24,168 = daily (order 4) + weekly (order 3) Fourier
# terms, R prophet's automatic choice for hourly data; "prophet" uses the
# model table's normal bounds from the simulated sd, "prophetq" the
# simulated quantiles (as R), "cal:prophet" conformal bounds;
# ensemble+prophet adds it to the default ensemble.
set -eo pipefail
. "$(dirname "$0")/../../../.ci/deps.sh"
fc_deps bench r-cran-forecast r-cran-prophet bc   # the peers, run in the same job
B=${1:-build}
D=${2:-../shared}/data/m4-hourly
EVERY=${3:-13}
OUT=${OUT:-$B/m4-prophet}
mkdir -p "$OUT"
MODELS="naive2 snaive prophet@24,168 prophetq@24,168 cal:prophet@24,168 ensemble@24,168 ensemble@24,168+prophet"
echo "== floatcast, all 414 series (2 worker threads)"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --per-series "$OUT/fc_all.csv" $MODELS | tee "$OUT/fc_all.txt"
echo "== floatcast, every ${EVERY}th series, 1 thread"
"$B/bin/m4_bench" "$D/train.csv" "$D/test.csv" --every "$EVERY" --threads 1 --per-series "$OUT/fc_sub.csv" \
  $MODELS | tee "$OUT/fc_sub.txt"
echo "== R prophet, every ${EVERY}th series"
t0=$(date +%s)
Rscript "$(dirname "$0")/r_prophet.R" "$D/train.csv" "$D/test.csv" "$EVERY" "$OUT/r.csv" 2>/dev/null
echo "R total wall seconds: $(( $(date +%s) - t0 ))"
python3 "$(dirname "$0")/table.py" "$OUT/fc_all.csv" "$OUT/fc_sub.csv" "$OUT/r.csv" "$OUT/fc_all.txt" "$OUT/fc_sub.txt"
