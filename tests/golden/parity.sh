#!/bin/sh
# parity.sh: the native side of the WASM parity goldens in this folder.
#
#   tests/golden/parity.sh FLOATCAST          check: rerun the native CLI on the
#                                             inputs and compare with the goldens
#   tests/golden/parity.sh FLOATCAST --write  regenerate the goldens
#
# FLOATCAST is a native build's floatcast binary. Each golden is exactly what
# the CLI prints; tests/wasm/parity_test.mjs makes the WASM module reproduce
# them (segments and trends byte for byte, forecasts to 1e-9 relative, gbdt bit for bit,
# the WASM-trained model byte for byte). The native ctest wasm_golden_cli runs
# the check, so a change in the core that moves an answer fails there first:
# regenerate with --write and commit the new goldens with that change.
set -eu
cli=$1
mode=${2:-check}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"
"$cli" segment --input seg_txns.csv --k 4 --seed 3 --json > "$tmp/seg_kmeans4.json"
"$cli" segment --input seg_txns.csv --k auto --seed 1 --json > "$tmp/seg_auto.json"
"$cli" segment --input seg_txns.csv --method dbscan --min-pts 4 --json > "$tmp/seg_dbscan.json"
"$cli" trends --input seg_txns.csv --granularity week --partner p1 --from 2024-02-01 \
  --utc-offset -05:00 --json > "$tmp/tr_trends.json"
"$cli" forecast --input ts_hourly.csv --horizon 24 --season 24 > "$tmp/fc_auto.csv"
"$cli" forecast --input ts_hourly.csv --horizon 12 --season 24 --model theta --level 50,90 > "$tmp/fc_theta.csv"
"$cli" backtest --input ts_hourly.csv --horizon 24 --season 24 --model snaive --origins 2 > "$tmp/bt_snaive.csv"
"$cli" forecast --input ts_hourly.csv --horizon 30 --freq hour --model snaive > "$tmp/fc_freq.csv"
"$cli" decompose --input ts_hourly.csv --season 24 --json > "$tmp/dc_mstl.json"
grep -e '^series_id,' -e '^H1,' ts_hourly.csv > "$tmp/h1.csv"
"$cli" forecast --input "$tmp/h1.csv" --horizon 24 --season 24 --model prophet \
  --save-model "$tmp/fc_prophet.model" > "$tmp/fc_prophet.csv"
"$cli" gbdt train --input gbdt_train.csv --target y --output "$tmp/gbdt_model.bin" --rounds 30 \
  --num-leaves 8 --min-data-in-leaf 5 --learning-rate 0.2 --seed 1 --categorical cat 2>/dev/null
"$cli" gbdt predict --model "$tmp/gbdt_model.bin" --input gbdt_test.csv --output "$tmp/gbdt_pred.csv"
status=0
for f in seg_kmeans4.json seg_auto.json seg_dbscan.json tr_trends.json fc_auto.csv fc_theta.csv bt_snaive.csv \
         fc_freq.csv dc_mstl.json fc_prophet.model fc_prophet.csv gbdt_model.bin gbdt_pred.csv; do
  if [ "$mode" = --write ]; then
    cp "$tmp/$f" "$here/$f"
  elif ! cmp -s "$tmp/$f" "$here/$f"; then
    echo "parity.sh: $f is stale: regenerate with tests/golden/parity.sh FLOATCAST --write" >&2
    status=1
  fi
done
exit $status
