#!/usr/bin/env bash
# Installs every Debian 12 package aigc.cpp needs to build, test, fuzz and run
# its Python references. Idempotent: does nothing when all are present.
# Runs apt-get as root (directly, or through sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev libomp-dev          # libFuzzer builds
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and micro-benchmarks
  nlohmann-json3-dev libpcre2-dev libcli11-dev # JSON, Unicode regex, CLI
  zlib1g-dev                                   # gzip (CLIP merges file), PNG deflate
  python3 python3-numpy python3-torch python3-jinja2  # references (/usr/bin/python3)
  python3-pil                                  # PNG/JPEG test images for the image decoders
  bible-kjv-text bible-kjv                     # default text model corpus (KJV) and the `bible` program that dumps it
  hyperfine                                    # whole-command benchmarks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install_deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
