#!/bin/sh
# Segmentation benchmark: floatcast versus scikit-learn in one run, one
# thread each. Usage: tests/bench/segments/run.sh [build-dir] [extra bench.py args]
set -eu
here=$(dirname "$0")
build=${1:-build}
[ $# -gt 0 ] && shift
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec /usr/bin/python3 "$here/bench.py" --bin "$build/bin/bench_segments" \
  --cdnow "$here/../../../../shared/data/cdnow/CDNOW_master.txt" "$@"
