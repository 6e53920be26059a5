# deps.sh: installs the Debian packages floatcast needs, only those missing.
# Sourced by gateway/run.sh and tests/run.sh; `fc_deps build|test`.
fc_deps() {
  local want=(build-essential cmake pkg-config git libuv1-dev libjansson-dev node-llhttp
              libsqlite3-dev sqlite3 python3 emscripten binaryen)
  if [ "${1:-}" = test ]; then
    want+=(chromium)
  fi
  command -v node >/dev/null 2>&1 || want+=(nodejs npm)
  command -v npm >/dev/null 2>&1 || want+=(npm)
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
