#!/usr/bin/env bash
# tests/busy.sh: the whole suite on a busy machine.
#
# Runs `bash tests/run.sh` (native, ASan+UBSan and WASM builds, ctest each)
# RUNS times in a row (3 unless RUNS is set) while two CPU-bound processes
# (`sha256sum /dev/zero`) run beside it, as on CI's shared two-core
# machine. Prints each run's closing line and a final verdict; exits 1 if
# any run failed. The load is killed by its PIDs when the script ends,
# fails or is interrupted. Each run's full output goes to
# build-busy/run<N>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
logdir=build-busy
mkdir -p "$logdir"

hogs=()
suite=""
cleanup() {
  local pid
  # A run still going (interrupted): its own session, so its process
  # group (ctest, the gateways, node) goes with it.
  if [ -n "$suite" ]; then
    kill -TERM -- "-$suite" 2>/dev/null
    wait "$suite" 2>/dev/null
  fi
  for pid in "${hogs[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  hogs=()
}
trap cleanup EXIT
trap 'echo "busy.sh: interrupted" >&2; exit 130' INT TERM HUP

for _ in 1 2; do
  sha256sum /dev/zero >/dev/null &
  hogs+=($!)
done
echo "busy.sh: load: sha256sum /dev/zero, PIDs ${hogs[*]}; $runs runs of tests/run.sh"

failed=0
summary=()
for n in $(seq 1 "$runs"); do
  log="$logdir/run$n.log"
  start=$(date +%s)
  # In the background and waited for, so a signal reaches the trap now
  # rather than when the run ends.
  setsid bash tests/run.sh >"$log" 2>&1 &
  suite=$!
  wait "$suite"
  rc=$?
  suite=""
  secs=$(($(date +%s) - start))
  closing=$(grep -E '^all suites: ' "$log" | tail -1)
  [ -n "$closing" ] || closing="(no closing line; see $log)"
  line="run $n: $closing (exit $rc, ${secs}s)"
  echo "$line"
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    # ctest's list of failed tests, each under the suite it ran in.
    awk '/^== [a-z]+: ctest/ { suite = $2 }
         /^[[:space:]]*[0-9]+ - .*\((Failed|Timeout|SEGFAULT|Subprocess aborted|Not Run|Exception)/ {
           sub(/^[[:space:]]*/, ""); print "    " suite " " $0 }' "$log"
  fi
  summary+=("$line")
done

echo
if [ $failed -eq 0 ]; then
  echo "busy.sh: verdict: PASS, $runs of $runs runs passed beside two CPU-bound processes"
else
  echo "busy.sh: verdict: FAIL, $failed of $runs runs failed (logs in $logdir/)"
fi
[ $failed -eq 0 ]
