#!/usr/bin/env bash
# Rebuilds the project's default (demonstration) models from Debian packages
# alone, on the CPU, deterministically, and writes them into models/.
#
# usage: scripts/train_default_models/run.sh [PART...]     PART: text, image (default: all parts)
# environment: WORK_DIR (default <repo>/build-models): corpus, tokenizer,
# checkpoints (an interrupted training resumes from its last checkpoint;
# delete WORK_DIR to start over). AIGC (default <repo>/build-release/aigc):
# the program the image part's prompt-adherence check runs, when it exists.
#
# text: King James Bible -> byte-level BPE tokenizer (4096 tokens) -> LLaMA
#   of 3.1 M parameters (batches of 8 x 256 tokens, one thread) ->
#   models/text/aigc-kjv-3m-q8_0.gguf and its test reference (.reference.json,
#   from evaluate_text_model.py), figures in models/README.md. The full
#   700-step schedule; on an idle core a step takes about 1 s.
#
# image: 20,000 generated 64x64 scenes of shapes with captions and 10,000
#   uncaptioned random-colour scenes (shapes.py) -> CLIP BPE tokenizer of
#   the captions' words -> VAE (two threads), then UNet + CLIP text encoder
#   and the decoder's fine-tuning side by side (train_image_model.py) -> the
#   diffusers folder
#   models/image/aigc-shapes/ -> the prompt-adherence check on 100 held-out
#   prompts through `aigc image` (check_image_prompts.py), figures in
#   models/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${WORK_DIR:-$root/build-models}
py=/usr/bin/python3
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(text image)

step() {  # step NAME COMMAND...: runs and times one step
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  "$@"
  echo "== $name: $((SECONDS - start)) s"
}

train_text() {
  local w=$work/text out=$root/models/text
  mkdir -p "$w" "$out"
  step "text: corpus" "$here/prepare_corpus.sh" "$w/corpus"
  [ -f "$w/tokenizer.json" ] ||
    step "text: tokenizer" "$py" "$here/train_tokenizer.py" "$w/corpus/kjv_train.txt" "$w/tokenizer.json" --vocab-size 4096
  step "text: training" "$py" "$here/train_text_model.py" "$w/corpus/kjv_train.txt" "$w/corpus/kjv_heldout.txt" \
    "$w/tokenizer.json" "$w/model"
  step "text: GGUF" "$py" "$here/export_text_gguf.py" "$w/model/checkpoint.pt" "$w/tokenizer.json" \
    "$out/aigc-kjv-3m-q8_0.gguf"
  step "text: evaluation" "$py" "$here/evaluate_text_model.py" "$w/model/checkpoint.pt" "$w/tokenizer.json" \
    "$w/corpus/kjv_train.txt" "$w/corpus/kjv_heldout.txt" "$out/aigc-kjv-3m-q8_0.reference.json"
}

train_unet_and_decoder() {
  nice -n 5 "$py" "$here/train_image_model.py" "$1" --part decoder > "$1/decoder.out" 2>&1 &
  local decoder=$!
  nice -n 5 "$py" "$here/train_image_model.py" "$1" --part unet
  wait "$decoder" || { echo "image: the decoder's training failed (see $1/decoder.out)" >&2; return 1; }
}

train_image() {
  local w=$work/image out=$root/models/image/aigc-shapes aigc=${AIGC:-$root/build-release/aigc}
  mkdir -p "$w"
  # The VAE on both cores; then the UNet + text encoder and the decoder's fine-tuning, one core each.
  step "image: data, VAE, latents" nice -n 5 "$py" "$here/train_image_model.py" "$w" --part vae --threads 2
  step "image: UNet and decoder" train_unet_and_decoder "$w"
  step "image: export" "$py" "$here/export_image_model.py" "$w" "$out"
  if [ -x "$aigc" ]; then
    step "image: prompt-adherence check" "$py" "$here/check_image_prompts.py" "$aigc" --model "$out" --count 100 \
      --out "$w/check" --json "$w/check.json" || echo "image: below the prompt-adherence thresholds (see $w/check.json)"
  else
    echo "image: $aigc not found; build it and run $here/check_image_prompts.py $aigc --model $out"
  fi
}

for part in "${parts[@]}"; do
  case $part in
    text) train_text ;;
    image) train_image ;;
    *) echo "run.sh: unknown part '$part' (known: text, image)" >&2; exit 2 ;;
  esac
done
echo "run.sh: done in $SECONDS s; models in $root/models"
