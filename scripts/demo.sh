#!/usr/bin/env bash
# The main job on the default small model: choose blocks of stories260K to remove with SLEB, calibrated on
# WikiText-2 validation text, and report WikiText-2 test perplexity (first 64 windows of 512 tokens) and
# zero-shot accuracy (PIQA, ARC-Easy; first 200 questions each) before and after.
set -euo pipefail
shared="${1:-../shared}"
model="$shared/models/stories260K/stories260K.bin"
if [ ! -f "$model" ]; then
  echo "demo: $model not found. Put the stories260K llama2.c checkpoint and tok512.bin under $shared/models/stories260K/ (from karpathy/tinyllamas) or run 'make demo SHARED=/path/to/shared'." >&2
  exit 2
fi
out="${DEMO_OUT:-target/demo}"
rm -rf "$out"
mkdir -p "$out"
bin/sleb prune --model "$model" --tokenizer "$shared/models/stories260K/tok512.bin" \
  --calib "$shared/data/wikitext-2-raw/wiki.valid.raw" --calib-sampling contiguous --nsamples 32 --seqlen 512 --no-bos \
  --num-remove-blocks 2 --eval wikitext2="$shared/data/wikitext-2-raw/wiki.test.raw" --eval-max-windows 64 \
  --zeroshot piqa,arc_easy --zeroshot-dir "$shared/data/zeroshot" --zeroshot-limit 200 \
  --out "$out/run.json" --export "$out/stories260K-pruned"
echo "demo: run file $out/run.json, chart $out/run.png, pruned model $out/stories260K-pruned/"
