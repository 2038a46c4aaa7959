#!/usr/bin/env bash
# The main job on the default small model: evaluate stories260K on WikiText-2.
set -euo pipefail
shared="${1:-../shared}"
model="$shared/models/stories260K/stories260K.bin"
if [ ! -f "$model" ]; then
  echo "demo: $model not found. Put the stories260K llama2.c checkpoint and tok512.bin under $shared/models/stories260K/ (from karpathy/tinyllamas) or run 'make demo SHARED=/path/to/shared'." >&2
  exit 2
fi
bin/sleb eval --model "$model" --tokenizer "$shared/models/stories260K/tok512.bin" \
  --data wikitext2="$shared/data/wikitext-2-raw/wiki.test.raw" --seqlen 512 --no-bos
