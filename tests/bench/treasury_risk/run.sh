#!/bin/bash
# Treasury depletion-risk benchmark: rule, gbdt, ml, a bootstrap baseline
# and the oracle on worlds from a known process, in one run and one table.
# Usage (from the repository root):
#   tests/bench/treasury_risk/run.sh [--split test|validation] [--tenants N] [--build DIR] [--out DIR]
# Defaults: --split test, 120 tenants, build dir `build`, a temporary out dir
# (kept, its path printed). Episode caps (environment): EP_TENANTS=20 tenants
# per regime re-projected hourly for rule/ml/baseline/oracle; gbdt on the
# first GBDT_EP_TENANTS=4 of them every GBDT_EVERY=6 hours. METHODS=rule,gbdt,ml.
# The report is printed and written to OUT/report.md (docs/benchmarks.md
# takes it as is).
set -eo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
SPLIT=test TENANTS=120 B=build OUT=
while [ $# -gt 0 ]; do
  case "$1" in
    --split) SPLIT=$2; shift 2 ;;
    --tenants) TENANTS=$2; shift 2 ;;
    --build) B=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: $0 [--split test|validation] [--tenants N] [--build DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
EP_TENANTS=${EP_TENANTS:-20}
GBDT_EP_TENANTS=${GBDT_EP_TENANTS:-4}
GBDT_EVERY=${GBDT_EVERY:-6}
METHODS=${METHODS:-rule,gbdt,ml}
# Debian's python3 with python3-numpy (a pyenv python3 on PATH may lack it).
PY=${PY:-/usr/bin/python3}
. "$root/.ci/deps.sh"
fc_deps bench python3-numpy
cd "$root"
[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" --target bench_risk -j2 >/dev/null
OUT=${OUT:-$(mktemp -d /tmp/treasury_risk.XXXXXX)}
mkdir -p "$OUT"
t_all=$(date +%s)
stage() { echo "== [$(( $(date +%s) - t_all )) s, load $(cut -d' ' -f1 /proc/loadavg)] $*"; }

stage "generating $TENANTS $SPLIT worlds and their oracle into $OUT/worlds"
rm -rf "$OUT/worlds" "$OUT/jobs"
"$PY" "$here/gen.py" --split "$SPLIT" --tenants "$TENANTS" --out "$OUT/worlds" --jobs 2
"$PY" "$here/jobs.py" "$OUT/worlds" "$OUT/jobs" --ep-tenants "$EP_TENANTS" --gbdt-ep-tenants "$GBDT_EP_TENANTS" \
  --gbdt-every "$GBDT_EVERY" --methods "$METHODS"

stage "bench_risk ($METHODS), 2 processes"
"$B/bin/bench_risk" "$OUT/jobs/driver.0.tsv" > "$OUT/jobs/driver.0.jsonl" 2> "$OUT/jobs/driver.0.err" &
p0=$!
"$B/bin/bench_risk" "$OUT/jobs/driver.1.tsv" > "$OUT/jobs/driver.1.jsonl" 2> "$OUT/jobs/driver.1.err" &
p1=$!
wait $p0 && wait $p1 || { cat "$OUT"/jobs/driver.*.err >&2; exit 1; }
sort -u "$OUT"/jobs/driver.*.err

stage "baseline, 2 processes"
"$PY" "$here/baseline.py" "$OUT/jobs/baseline.tsv" "$OUT/jobs/baseline.jsonl" --jobs 2

stage "scoring"
"$PY" "$here/score.py" "$OUT/worlds" "$OUT"/jobs/driver.*.jsonl "$OUT/jobs/baseline.jsonl" --md "$OUT/report.md"
stage "done: $OUT/report.md (worlds and raw answers in $OUT)"
