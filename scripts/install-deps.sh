#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, test and run its demo.
# Idempotent: when everything is present it only runs dpkg-query and returns in well under a second.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries
  libboost-dev libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libssl-dev libsqlite3-dev sqlite3 libcli11-dev
  # tests and tools
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-numpy python3-sklearn python3-scipy python3-jsonschema python3-yaml
  curl wrk clang libclang-rt-14-dev ccache
  # transaction flow: hosted XGBoost models (C API, find_package needs both) and the demo model's training
  libxgboost-dev xgboost python3-xgboost
  # metrics: promtool (rule tests, exposition checks) and a real Prometheus server for tests
  prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
