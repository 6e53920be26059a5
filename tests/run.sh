#!/usr/bin/env bash
# tests/run.sh: every floatcast test, from a fresh Debian 12 machine.
#
# Installs what is missing, then builds and runs ctest three times:
#   build/       native Release (-O2): core, CLI, gateway, integration
#   build-asan/  Debug + AddressSanitizer + UndefinedBehaviorSanitizer
#   build-wasm/  Emscripten: the core tests under node, the WASM API, the page
# and prints one closing "N passed, N failed" line over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/deps.sh
fc_deps test

# playwright-core drives Debian's chromium for the Treasury page tests; axe-core checks accessibility.
if [ -f tests/wasm/package.json ] && { [ ! -d tests/wasm/node_modules/playwright-core ] \
  || [ ! -d tests/wasm/node_modules/axe-core ]; }; then
  echo "== npm install (tests/wasm)"
  (cd tests/wasm && { npm ci --no-audit --no-fund --silent || npm install --no-audit --no-fund --silent; })
fi
# The OpenAPI checker of the gateway suites' answers: an OpenAPI 3.1 validator and Ajv (lock pinned).
if [ ! -d tests/gateway/openapi/node_modules/ajv ] \
  || [ ! -d tests/gateway/openapi/node_modules/@seriousme/openapi-schema-validator ]; then
  echo "== npm ci (tests/gateway/openapi)"
  (cd tests/gateway/openapi && npm ci --no-audit --no-fund --silent)
fi

jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0
total_fail=0
status=0

run_suite() { # name, build dir, cmake args...
  local name=$1 dir=$2
  shift 2
  echo "== $name: configure + build ($dir)"
  "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j"$jobs" >"$dir.build.log" 2>&1 || { tail -50 "$dir.build.log"; return 1; }
  echo "== $name: ctest"
  local out rc=0
  out=$(cd "$dir" && ctest --output-on-failure --no-tests=error -j"$jobs" 2>&1) || rc=$?
  echo "$out" | grep -Ev '^ *Start ' || true
  local line n_total n_fail
  line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' | tail -1)
  if [ -n "$line" ]; then
    n_fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
    n_total=$(echo "$line" | sed -E 's/.* tests failed out of ([0-9]+).*/\1/')
    total_pass=$((total_pass + n_total - n_fail))
    total_fail=$((total_fail + n_fail))
  else
    total_fail=$((total_fail + 1))
  fi
  return $rc
}

run_suite native build cmake -S . -B build -DCMAKE_BUILD_TYPE=Release || status=1
run_suite asan build-asan cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFC_SANITIZE=ON || status=1
run_suite wasm build-wasm emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" \
  -DFC_NATIVE_CLI="$PWD/build/bin/floatcast" || status=1

echo
echo "all suites: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ] || status=1
exit $status
