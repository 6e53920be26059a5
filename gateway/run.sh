#!/usr/bin/env bash
# gateway/run.sh: build everything and serve the Treasury page and the API
# on 127.0.0.1:8080 from an embedded SQLite database seeded with the demo
# tenant. Installs missing Debian packages first. Ctrl-C stops it. The
# gateway prints a fresh demo partner key ("demo key (tenant demo, tier
# pro): fc_...") for Authorization: Bearer; set FLOATCAST_ADMIN_KEY to use
# the admin endpoints.
#   FC_LISTEN=127.0.0.1:9090 FC_DB=/tmp/fc.db bash gateway/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/deps.sh
fc_deps build

jobs=$(nproc 2>/dev/null || echo 2)
echo "== building the WASM module (web/floatcast_core.wasm)"
emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node;--no-experimental-fetch" >build-wasm.configure.log 2>&1 \
  || { cat build-wasm.configure.log; exit 1; }
cmake --build build-wasm -j"$jobs" --target floatcast_wasm >build-wasm.build.log 2>&1 \
  || { tail -40 build-wasm.build.log; exit 1; }
echo "== building the gateway and CLI (build/bin)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >build.configure.log 2>&1 || { cat build.configure.log; exit 1; }
cmake --build build -j"$jobs" --target floatcast-gateway floatcast >build.build.log 2>&1 \
  || { tail -40 build.build.log; exit 1; }

listen=${FC_LISTEN:-127.0.0.1:8080}
db=${FC_DB:-var/floatcast.db}
mkdir -p "$(dirname "$db")"
echo "== floatcast gateway on http://$listen/"
echo "   open http://$listen/ and sign in with the demo key printed below (fc_...): the page then"
echo "   projects the demo tenant's live data; database $db, demo tenant seeded on first start; Ctrl-C to stop"
exec build/bin/floatcast-gateway --listen "$listen" --db "$db" --web web --seed-demo
