#!/usr/bin/env bash
# End-to-end tests of the aigc program: every subcommand on real files, exit
# codes and error messages on bad input, and same-seed determinism across
# thread counts. Run by ctest: cli_test.sh AIGC_BINARY TESTDATA_DIR SHARED_DATA_DIR
set -u
aigc=$1
data=$2
shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# expect_ok NAME CMD... : exit 0
expect_ok() { local name=$1; shift; if "$@" > "$tmp/out" 2> "$tmp/err"; then ok; else bad "$name (exit $?)"; cat "$tmp/err"; fi; }
# expect_error NAME PATTERN CMD... : non-zero exit and stderr matching PATTERN
expect_error() {
  local name=$1 pattern=$2; shift 2
  if "$@" > "$tmp/out" 2> "$tmp/err"; then bad "$name: exit 0, expected an error"; return; fi
  if grep -q -E "$pattern" "$tmp/err"; then ok; else bad "$name: stderr does not match '$pattern'"; cat "$tmp/err"; fi
}

model=$data/llm/llama.gguf

# inspect: real vocabularies, our models, safetensors, and bad files
if [ -d "$shared/vocab" ]; then
  for f in "$shared"/vocab/*.gguf; do
    expect_ok "inspect $(basename "$f")" "$aigc" inspect "$f"
    grep -q "tokenizer.ggml.tokens" "$tmp/out" || bad "inspect $(basename "$f"): no token list shown"
  done
else
  echo "skipping the shared vocabularies: $shared/vocab is absent"
fi
expect_ok "inspect llama" "$aigc" inspect "$model"
grep -q "blk.0.attn_q.weight" "$tmp/out" || bad "inspect llama: tensor table missing"
for f in "$(dirname "$0")"/../../fuzz/seeds/safetensors/*.safetensors; do
  expect_ok "inspect $(basename "$f")" "$aigc" inspect "$f"
done
head -c 100 /dev/urandom > "$tmp/garbage.bin"
expect_error "inspect garbage" "aigc: .*garbage.bin" "$aigc" inspect "$tmp/garbage.bin"
head -c 3000 "$model" > "$tmp/truncated.gguf"
expect_error "inspect truncated gguf" "aigc: .*truncated.gguf" "$aigc" inspect "$tmp/truncated.gguf"
expect_error "inspect missing" "No such file" "$aigc" inspect "$tmp/none.gguf"

# text: greedy, seeded sampling identical across thread counts, JSON schema
expect_ok "text greedy" "$aigc" text -m "$model" -p "hello" -n 6 --temp 0
"$aigc" text -m "$model" -p "abc" -n 12 --temp 0.9 --seed 7 -t 1 > "$tmp/t1" 2> /dev/null
"$aigc" text -m "$model" -p "abc" -n 12 --temp 0.9 --seed 7 -t 2 > "$tmp/t2" 2> /dev/null
if cmp -s "$tmp/t1" "$tmp/t2" && [ -s "$tmp/t1" ]; then ok; else bad "same seed, 1 vs 2 threads: different text"; fi
cat > "$tmp/schema.json" <<'JSON'
{"type": "object", "properties": {"id": {"type": "integer"}, "ok": {"type": "boolean"}}, "required": ["id", "ok"]}
JSON
expect_ok "text --json-schema" "$aigc" text -m "$model" -p "x" -n 80 --seed 3 --json-schema "$tmp/schema.json"
if python3 -c 'import json,sys; v=json.loads(open(sys.argv[1]).read()); assert isinstance(v["id"], int) and isinstance(v["ok"], bool)' "$tmp/out"; then ok; else bad "json-schema output does not validate: $(cat "$tmp/out")"; fi
expect_error "text without model" "model" env AIGC_MODELS_DIR="$tmp/no-models" "$aigc" text -p "hi"
expect_error "text bad logit bias" "logit-bias" "$aigc" text -m "$model" -p "hi" --logit-bias "abc"
expect_error "text invalid utf-8" "byte" "$aigc" text -m "$model" -p "$(printf 'ok\xff')"
echo '{"type": "string", "pattern": "a+"}' > "$tmp/unsupported.json"
expect_error "text unsupported schema" "pattern" "$aigc" text -m "$model" -p "hi" --json-schema "$tmp/unsupported.json"
expect_error "text prompt over context" "truncate" "$aigc" text -m "$model" -p "$(head -c 400 /dev/zero | tr '\0' 'a')" -c 16

# chat: a scripted conversation with /reset; a model without a template is refused
printf '{%% for m in messages %%}<|{{ m.role }}|>{{ m.content }}\n{%% endfor %%}{%% if add_generation_prompt %%}<|assistant|>{%% endif %%}' > "$tmp/chat.jinja"
printf 'hello\n/reset\nagain\n/exit\n' > "$tmp/chat.in"
if "$aigc" chat -m "$model" --chat-template "$tmp/chat.jinja" -n 4 --temp 0 --system "be brief" < "$tmp/chat.in" > "$tmp/out" 2> "$tmp/err" \
   && grep -q "conversation cleared" "$tmp/err" && [ "$(wc -l < "$tmp/out")" -eq 2 ]; then ok; else bad "chat: scripted conversation"; cat "$tmp/err"; fi
expect_error "chat without template" "chat-template" "$aigc" chat -m "$model"
printf '{%% for m in messages %%}{{ m.content | nosuchfilter }}{%% endfor %%}' > "$tmp/bad.jinja"
echo hi > "$tmp/hi.in"
"$aigc" chat -m "$model" --chat-template "$tmp/bad.jinja" -n 2 < "$tmp/hi.in" > /dev/null 2> "$tmp/err"
grep -q "nosuchfilter" "$tmp/err" && ok || bad "chat: unsupported template construct not named: $(cat "$tmp/err")"

# tokenize with Stable Diffusion's CLIP tokenizer (the original merges file)
if [ -f "$shared/clip/bpe_simple_vocab_16e6.txt.gz" ]; then
  expect_ok "tokenize --clip-vocab" "$aigc" tokenize --clip-vocab "$shared/clip/bpe_simple_vocab_16e6.txt.gz" -p "a photo of a cat"
  # the expected ids are the first case of ../shared/data/clip/tokenizer_cases.json
  [ "$(cat "$tmp/out")" = "320 1125 539 320 2368" ] && ok || bad "CLIP ids: $(cat "$tmp/out")"
else
  echo "skipping CLIP tokenize: $shared/clip is absent"
fi
expect_error "tokenize without model" "MODEL" "$aigc" tokenize -p "hi"

# tokenize, perplexity, quantize
expect_ok "tokenize" "$aigc" tokenize -m "$model" -p "hi"
grep -q -E '^[0-9]+( [0-9]+)*$' "$tmp/out" || bad "tokenize: not a line of ids: $(cat "$tmp/out")"
head -c 3000 /dev/urandom | base64 > "$tmp/text.txt"
expect_ok "perplexity" "$aigc" perplexity -m "$model" -f "$tmp/text.txt" -c 32
grep -q "perplexity: " "$tmp/out" || bad "perplexity: no figure printed"
expect_ok "quantize Q8_0" "$aigc" quantize "$model" "$tmp/q8.gguf" Q8_0
expect_ok "inspect quantized" "$aigc" inspect "$tmp/q8.gguf"
grep -q "Q8_0" "$tmp/out" || bad "quantized model has no Q8_0 tensors"
expect_ok "text on quantized" "$aigc" text -m "$tmp/q8.gguf" -p "hello" -n 4 --temp 0
expect_error "quantize bad type" "not a weight type" "$aigc" quantize "$model" "$tmp/x.gguf" Q9_9

# the README's main job: the generated demo model loads and generates, also under a JSON schema
root=$(cd "$(dirname "$0")/../.." && pwd)
if /usr/bin/python3 "$root/tools/reference/make_demo_model.py" "$tmp/demo.gguf" > /dev/null; then ok; else bad "make_demo_model.py failed"; fi
expect_ok "text on the demo model" "$aigc" text -m "$tmp/demo.gguf" -p "The quarterly report shows" -n 8 --seed 42
expect_ok "json on the demo model" "$aigc" text -m "$tmp/demo.gguf" -p "JSON:" -n 100 --seed 7 --json-schema "$tmp/schema.json"

# bench and info
expect_ok "bench kernels --quick" "$aigc" bench kernels --quick
expect_ok "info" "$aigc" info
# AIGC_ISA caps the kernels' instruction set for the whole program (checked against the
# references at every ISA by the unit tests; here the flag's plumbing and its error)
for isa in scalar avx2; do
  expect_ok "info with AIGC_ISA=$isa" env AIGC_ISA=$isa "$aigc" info
  grep -q "kernels use: $isa" "$tmp/out" || bad "AIGC_ISA=$isa: info does not report it: $(cat "$tmp/out")"
  expect_ok "text with AIGC_ISA=$isa" env AIGC_ISA=$isa "$aigc" text -m "$model" -p "hello" -n 6 --temp 0
done
expect_error "bad AIGC_ISA" "AIGC_ISA=sse9 names no instruction set" env AIGC_ISA=sse9 "$aigc" info
expect_error "unknown subcommand" "" "$aigc" frobnicate

# the shipped default text model (models/text): used when -m is not given, found through
# AIGC_MODELS_DIR or next to the program (<exe dir>/../models); its text reads as its corpus's English
models_dir=$(cd "$(dirname "$0")/../../models" && pwd)
if [ -f "$models_dir/text/aigc-kjv-3m-q8_0.gguf" ]; then
  expect_ok "text, default model" env AIGC_MODELS_DIR="$models_dir" "$aigc" text -p "And God said" -n 24 --temp 0
  grep -q -w -E "the|and|of|unto|LORD" "$tmp/out" || bad "text, default model: no English of the corpus: $(cat "$tmp/out")"
  expect_ok "chat, default model" env AIGC_MODELS_DIR="$models_dir" sh -c \
    'echo "In the beginning God created the heaven and the earth." | "$0" chat -n 32 --temp 0' "$aigc"
  grep -q -w -E "the|and|of|unto|LORD" "$tmp/out" || bad "chat, default model: no English of the corpus: $(cat "$tmp/out")"
  if [ -f "$(dirname "$aigc")/../models/text/aigc-kjv-3m-q8_0.gguf" ]; then
    expect_ok "text, default model next to the program" env -u AIGC_MODELS_DIR "$aigc" text -p "And" -n 4
  fi
  expect_ok "perplexity, default model" "$aigc" perplexity -m "$models_dir/text/aigc-kjv-3m-q8_0.gguf" \
    -f "$(dirname "$0")/../../models/README.md" -c 64
else
  echo "skipping the default text model: $models_dir/text/aigc-kjv-3m-q8_0.gguf is absent"
fi
expect_error "text, no default model" "default text model was not found.*AIGC_MODELS_DIR" \
  env AIGC_MODELS_DIR="$tmp/no-models" "$aigc" text -p "x" -n 1
expect_error "chat, no default model" "default text model was not found" \
  env AIGC_MODELS_DIR="$tmp/no-models" "$aigc" chat -n 1

# image: the tiny random SD checkpoint of tools/reference/image/sd_ref.py (64x48 images, 2 steps)
sddir=$data/image/sd
sd=$sddir/sd_tiny.safetensors
vocab=$shared/clip/bpe_simple_vocab_16e6.txt.gz
if [ -f "$sd" ] && [ -f "$vocab" ]; then
  any() { "$aigc" image -m "$sd" --clip-vocab "$vocab" --steps 2 "$@"; }
  img() { any -W 64 -H 48 "$@"; }
  expect_ok "image txt2img" img -p "a red star" -n "blurry" --seed 5 -o "$tmp/a.png" -t 1
  [ "$(cat "$tmp/out")" = "$tmp/a.png" ] || bad "image: stdout is not the written path: $(cat "$tmp/out")"
  head -c 8 "$tmp/a.png" | od -An -c | grep -q "P   N   G" || bad "image: $tmp/a.png is not a PNG"
  expect_ok "image, 2 threads" img -p "a red star" -n "blurry" --seed 5 -o "$tmp/a2.png" -t 2
  cmp -s "$tmp/a.png" "$tmp/a2.png" && ok || bad "image: same seed, 1 vs 2 threads: different PNG bytes"
  expect_ok "image --from" "$aigc" image -m "$sd" --clip-vocab "$vocab" --from "$tmp/a.png" -o "$tmp/from.png"
  cmp -s "$tmp/a.png" "$tmp/from.png" && ok || bad "image --from: the regenerated PNG differs"
  grep -a -q "Steps: 2, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 64x48, Model: sd_tiny" "$tmp/a.png" \
    && ok || bad "image: no web-UI parameters in the PNG"
  expect_ok "image --batch 2" img -p "a red star" -n "blurry" --seed 5 --batch 2 -o "$tmp/b.png"
  [ -f "$tmp/b-1.png" ] && [ -f "$tmp/b-2.png" ] && ok || bad "image --batch 2: b-1.png, b-2.png not written"
  cmp -s "$tmp/a.png" "$tmp/b-1.png" && ok || bad "image --batch: item 1 differs from the single image of the same seed"
  cmp -s "$tmp/b-1.png" "$tmp/b-2.png" && bad "image --batch: items 1 and 2 are the same" || ok
  expect_ok "image --noise" img -p "x" --sampler dpmpp_2m_karras --noise "$data/image/sd/noise.npy" -o "$tmp/n1.png" --seed 1
  expect_ok "image img2img" img -p "x" --init-image "$tmp/a.png" --strength 0.5 --seed 2 -o "$tmp/i.png"
  expect_ok "image inpaint" img -p "x" --init-image "$tmp/a.png" --mask "$tmp/from.png" --seed 2 -o "$tmp/m.png"
  # Schedule type and Clip skip are written as the web UI writes them and read back by --from
  expect_ok "image karras, clip skip 2" img -p "a red star" --sampler euler --scheduler karras --clip-skip 2 --seed 6 -o "$tmp/k.png"
  grep -a -q "Sampler: Euler, Schedule type: Karras, CFG scale: 7, Seed: 6, Size: 64x48, Model: sd_tiny, Clip skip: 2" "$tmp/k.png" \
    && ok || bad "image: Schedule type / Clip skip not in the PNG parameters"
  expect_ok "image --from karras, clip skip 2" "$aigc" image -m "$sd" --clip-vocab "$vocab" --from "$tmp/k.png" -o "$tmp/k2.png"
  cmp -s "$tmp/k.png" "$tmp/k2.png" && ok || bad "image --from: Schedule type / Clip skip not regenerated"
  # a web UI's PNG (A1111 1.9 names: the scheduler apart from the sampler)
  /usr/bin/python3 - "$tmp/k.png" "$tmp/webui.png" "$tmp/webui_auto.png" <<'PY'
import sys
from PIL import Image, PngImagePlugin
for path, schedule in ((sys.argv[2], "Karras"), (sys.argv[3], "Automatic")):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"a red star\nSteps: 2, Sampler: DPM++ 2M, Schedule type: {schedule}, CFG scale: 5, "
                  "Seed: 9, Size: 64x48, Model hash: 0123456789, Model: other, Clip skip: 2, Version: v1.9.4")
    Image.open(sys.argv[1]).save(path, pnginfo=info)
PY
  expect_ok "image --from a web UI PNG" "$aigc" image -m "$sd" --clip-vocab "$vocab" --from "$tmp/webui.png" -o "$tmp/w.png"
  grep -a -q "Steps: 2, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5, Seed: 9, Size: 64x48, Model: sd_tiny, Clip skip: 2" \
    "$tmp/w.png" && ok || bad "image --from a web UI PNG: sampler, schedule type or clip skip not taken"
  expect_ok "image --from a web UI PNG, Schedule type: Automatic" "$aigc" image -m "$sd" --clip-vocab "$vocab" \
    --from "$tmp/webui_auto.png" -o "$tmp/wa.png"
  grep -a -q "Steps: 2, Sampler: DPM++ 2M, CFG scale: 5, Seed: 9" "$tmp/wa.png" && ok ||
    bad "image --from a web UI PNG: Schedule type: Automatic did not give the sampler's own schedule"
  expect_ok "image heun, karras, cfg 1, clip skip 2, tiled VAE" img -p "(x:1.2)" --sampler heun --scheduler karras \
    --cfg 1 --clip-skip 2 --vae-tile 4 --seed 3 -o "$tmp/h.png"
  expect_ok "image 64x32" any -W 64 -H 32 -p "x" -o "$tmp/s.png"
  expect_error "image width not a multiple of 8" "width 60 is not a positive multiple of 8" any -p "x" -W 60 -H 48 -o "$tmp/x.png"
  expect_error "image height not a multiple of 8" "height 44 is not a positive multiple of 8" any -p "x" -W 64 -H 44 -o "$tmp/x.png"
  expect_error "image beyond the maximum" "above the maximum" any -p "x" -W 4096 -H 48 -o "$tmp/x.png"
  expect_error "image unknown sampler" "sampler.*euler" img -p "x" --sampler frobnicate -o "$tmp/x.png"
  expect_error "image unknown scheduler" "scheduler" img -p "x" --scheduler linear -o "$tmp/x.png"
  expect_error "image mask size" "mask is 64x32" img -p "x" --init-image "$tmp/a.png" --mask "$tmp/s.png" -o "$tmp/x.png"
  expect_error "image init size" "init image is 64x32" img -p "x" --init-image "$tmp/s.png" -o "$tmp/x.png"
  head -c 100 "$tmp/a.png" > "$tmp/trunc.png"
  expect_error "image truncated init image" "trunc.png" img -p "x" --init-image "$tmp/trunc.png" -o "$tmp/x.png"
  cp "$tmp/a.png" "$tmp/crc.png"
  printf 'XXXX' | dd of="$tmp/crc.png" bs=1 seek=40 conv=notrunc 2> /dev/null
  expect_error "image corrupt PNG mask" "crc.png" img -p "x" --init-image "$tmp/a.png" --mask "$tmp/crc.png" -o "$tmp/x.png"
  /usr/bin/python3 -c 'import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2], quality=90)' "$tmp/a.png" "$tmp/a.jpg"
  expect_ok "image JPEG init image" img -p "x" --init-image "$tmp/a.jpg" --strength 0.5 -o "$tmp/j.png"
  head -c 400 "$tmp/a.jpg" > "$tmp/trunc.jpg"
  expect_error "image truncated JPEG init image" "trunc.jpg" img -p "x" --init-image "$tmp/trunc.jpg" -o "$tmp/x.png"
  expect_error "image missing model" "none.safetensors" "$aigc" image -m "$tmp/none.safetensors" -p "x" -o "$tmp/x.png"
  expect_error "image without tokenizer" "clip-vocab" "$aigc" image -m "$sd" -p "x" -W 64 -H 48 -o "$tmp/x.png"
  expect_error "image bad noise shape" "noise" any -p "x" -W 64 -H 64 --noise "$data/image/sd/noise.npy" -o "$tmp/x.png"
  expect_error "image missing lora" "nolora" img -p "x" --lora "$tmp/nolora.safetensors:0.5" -o "$tmp/x.png"
  expect_error "image lora matching nothing" "lora_foreign.safetensors: none of its 6 keys names a UNet or text encoder weight" \
    img -p "x" --lora "$sddir/lora_foreign.safetensors:0.8" -o "$tmp/foreign.png"
  [ -f "$tmp/foreign.png" ] && bad "image lora matching nothing: an image was written" || ok
  expect_ok "image lora partly matching" img -p "x" --lora "$sddir/lora_partial.safetensors:0.8" -o "$tmp/l.png"
  grep -q "warning: .*lora_partial.safetensors: 1 module merged, 3 keys match no weight of the model (e.g. lora_unet_label_emb_0_0" \
    "$tmp/err" && ok || bad "image lora partly matching: no warning with the counts: $(cat "$tmp/err")"
  # the 9-channel UNet of an inpainting checkpoint (pipeline_test.cpp compares it with PyTorch)
  expect_ok "image inpaint, 9-channel model" "$aigc" image -m "$sddir/sd_inpaint_tiny.safetensors" --clip-vocab "$vocab" \
    --steps 2 -W 64 -H 48 -p "x" --init-image "$sddir/inpaint_init.png" --mask "$sddir/inpaint_mask.png" -o "$tmp/m9.png"
  expect_ok "bench image --quick" "$aigc" bench image -m "$sd" --quick
  grep -q "of the FLOP ceiling" "$tmp/out" || bad "bench image: no ceiling fraction: $(cat "$tmp/out")"
else
  echo "skipping aigc image: $sd or $vocab is absent"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
