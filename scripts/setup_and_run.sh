#!/usr/bin/env bash
# The README's first command: installs what is needed, builds aigc, and runs
# the main job on a model the project generates. Until the project's trained
# default models ship, that model has random weights: the job shows the
# whole path (GGUF loading, tokenizer, chat template, generation, the JSON
# schema constraint, quantization) but its text is noise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh release
mkdir -p out
aigc=./build-release/aigc
model=out/demo-llama.gguf
/usr/bin/python3 tools/reference/make_demo_model.py "$model"
echo; echo "== aigc inspect $model"
$aigc inspect "$model" | head -40
echo; echo "== aigc text (random weights: expect noise)"
$aigc text -m "$model" -p "The quarterly report shows" -n 24 --seed 42 | tee out/demo-text.txt
echo; echo "== aigc text --json-schema (the output always parses and validates)"
cat > out/demo-schema.json <<'JSON'
{"type": "object",
 "properties": {"product": {"type": "string", "maxLength": 20}, "price": {"type": "number"},
                "in_stock": {"type": "boolean"}},
 "required": ["product", "price", "in_stock"]}
JSON
$aigc text -m "$model" -p "Describe the product as JSON:" -n 120 --seed 7 --json-schema out/demo-schema.json \
  | tee out/demo-product.json
echo; echo "== aigc quantize to Q8_0"
$aigc quantize "$model" out/demo-llama-q8_0.gguf Q8_0
echo; echo "== aigc bench kernels --quick"
$aigc bench kernels --quick
echo
echo "aigc is built:  $aigc --help"
echo "outputs:        $(pwd)/out/ (demo-llama.gguf, demo-llama-q8_0.gguf, demo-text.txt, demo-product.json)"
