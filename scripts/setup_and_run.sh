#!/usr/bin/env bash
# The README's first command: installs what is needed, builds aigc, and runs
# the main job. Until the text and image models exist, the main job is:
# generate a small random LLaMA-layout GGUF model, inspect it, and measure
# this machine's kernel performance briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh release
mkdir -p out
/usr/bin/python3 tools/reference/make_demo_model.py out/demo-llama.gguf
./build-release/aigc inspect out/demo-llama.gguf
./build-release/aigc bench kernels --quick
echo
echo "aigc is built: ./build-release/aigc --help"
echo "demo model:    $(pwd)/out/demo-llama.gguf"
