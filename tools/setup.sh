#!/usr/bin/env bash
# Installs what building and testing meshmeet needs on Debian 12, and nothing
# that is already there. Safe to run again: it is a no-op on a ready machine.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libboost1.81-dev libssl-dev libsqlite3-dev libmaxminddb-dev
  nlohmann-json3-dev doctest-dev
  clang libclang-rt-14-dev   # libFuzzer + ASan/UBSan builds
  emscripten                 # the client core → WebAssembly
  chromium firefox-esr       # browser tests (driven by playwright-core / puppeteer-core)
  fonts-noto-color-emoji     # browser screenshots: reactions and the raised hand drawn as in people's browsers
  sqlite3 openssl            # test helpers: inspect the db, make a TLS cert
  dpkg-dev                   # npm run package: dpkg-shlibdeps for the .deb's Depends
  coturn nftables iproute2   # the network lab (tests/network): TURN, NAT routers, namespaces
  libhiredis-dev redis-server  # --redis: several server processes; the cluster tests start their own redis-server
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
