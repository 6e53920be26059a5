# deps.sh: installs the Debian packages floatcast needs, only those missing.
# Sourced by gateway/run.sh, tests/run.sh and the benchmark drivers;
# `fc_deps build|test` or `fc_deps bench PACKAGE...` (a benchmark's peers).
fc_deps() {
  local want=(build-essential cmake pkg-config git python3)
  if [ "${1:-}" = bench ]; then
    want+=("${@:2}") # a native core build needs nothing more
  else
    want+=(libuv1-dev libjansson-dev node-llhttp libsqlite3-dev sqlite3 emscripten binaryen)
    # https:// webhooks (OpenSSL), and its CLI: the tests make their throw-away CA with it.
    want+=(libssl-dev openssl)
    # The gateway's PostgreSQL engine (built when libpq is found) and the
    # server its *_pg test suites start.
    want+=(libpq-dev postgresql)
    # Limits shared by several nodes (hiredis and its libuv loop), and the
    # servers the multi-node test starts: Redis and nginx in front.
    want+=(libhiredis-dev redis-server nginx-light)
    # The zone files tenants' time zones are read from (gateway/tz.c), and
    # that the tests' Python zoneinfo checks them against.
    want+=(tzdata)
  fi
  if [ "${1:-}" = test ]; then
    want+=(chromium)
    # tests/check_format.sh: changed C lines against .clang-format.
    want+=(clang-format)
  fi
  if [ "${1:-}" != bench ]; then
    command -v node >/dev/null 2>&1 || want+=(nodejs npm)
    command -v npm >/dev/null 2>&1 || want+=(npm)
  fi
  local missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Emscripten 3.1.6 needs Debian's node modules (acorn) on the module path.
  export NODE_PATH=/usr/share/nodejs
}
