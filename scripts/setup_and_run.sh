#!/usr/bin/env bash
# The README's first command: installs what is needed, builds aigc, and runs
# the main job on the project's shipped default text model (models/text: a
# small demonstration LLaMA trained on the King James Bible by
# scripts/train_default_models; `aigc text` and `aigc chat` use it when no -m
# is given), then two images from the shipped default image model
# (models/image/aigc-shapes: a small Stable Diffusion 1.x-layout model trained
# on generated scenes of shapes; `aigc image` uses it when no -m is given).
# Its outputs go to out/. A generated random-weight model then shows
# quantization from F16.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh release
mkdir -p out
aigc=./build-release/aigc
model=models/text/aigc-kjv-3m-q8_0.gguf
echo; echo "== aigc inspect $model (the shipped demonstration model)"
$aigc inspect "$model" > out/inspect.txt   # the whole table; the first lines here
head -32 out/inspect.txt
echo; echo "== aigc text (no -m: the shipped model)"
$aigc text -p "And God said" -n 60 --seed 42 | tee out/text.txt
echo; echo "== aigc chat (one turn, its chat template)"
echo "In the beginning God created the heaven and the earth." | $aigc chat -n 60 --seed 42 | tee out/chat.txt
echo; echo "== aigc text --json-schema (the output always parses and validates)"
cat > out/schema.json <<'JSON'
{"type": "object",
 "properties": {"king": {"type": "string", "maxLength": 20}, "years": {"type": "integer"},
                "righteous": {"type": "boolean"}},
 "required": ["king", "years", "righteous"]}
JSON
$aigc text -p "The king of Israel, as JSON:" -n 120 --seed 7 --json-schema out/schema.json | tee out/king.json
echo; echo "== aigc image (no -m: the shipped demonstration model, 64x64)"
$aigc image -p "a large red star on a blue background, center" --seed 1 -o out/red_star.png
$aigc image -p "a small yellow circle on a purple background, top left" --seed 2 -o out/yellow_circle.png
echo "images: $(pwd)/out/red_star.png $(pwd)/out/yellow_circle.png"
echo; echo "== aigc quantize F16 -> Q8_0 (a generated model with random weights)"
/usr/bin/python3 tools/reference/make_demo_model.py out/demo-llama.gguf
$aigc quantize out/demo-llama.gguf out/demo-llama-q8_0.gguf Q8_0
echo; echo "== aigc bench kernels --quick"
$aigc bench kernels --quick
echo
echo "aigc is built:  $aigc --help"
echo "outputs:        $(pwd)/out/ (text.txt, chat.txt, king.json, red_star.png, yellow_circle.png, demo-llama-q8_0.gguf)"
echo "real models:    $aigc text -m YOUR-MODEL.gguf -p \"...\"   (llama, qwen2, qwen3 GGUF files; see README.md)"
echo "                $aigc image -m SD15-CHECKPOINT.safetensors --clip-vocab bpe_simple_vocab_16e6.txt.gz -p \"...\""
