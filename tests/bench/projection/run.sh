#!/bin/sh
# Projection scale benchmark: 1M transfers, 1,000 streams, H=96 (and 720).
# Usage: tests/bench/projection/run.sh [build dir, default build]
B=${1:-build}
cmake --build "$B" --target bench_projection -j2 >/dev/null || exit 1
"$B/bin/bench_projection" 1000000 1000 96
"$B/bin/bench_projection" 1000000 1000 720
