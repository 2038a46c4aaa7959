#!/usr/bin/env bash
# `make bench`: CPU speed of the stories110m shape (synthetic f32 weights), dense and 20%-pruned
# (ceil(0.2 x 12) = 3 blocks), appending rows to docs/benchmarks.md. JSON and PNG charts go to target/bench/.
# Budget: under 10 minutes on a 2-core machine, so the paper's protocols are shortened where noted.
set -euo pipefail
threads="${BENCH_THREADS:-$(nproc)}"
md="${BENCH_MD:-docs/benchmarks.md}"
out=target/bench
mkdir -p "$out"
common=(--device cpu --synthetic stories110m --dtype f32 --remove-last-ratio 0.2 --threads "$threads" --md "$md")
run() { echo "+ bin/sleb bench $*" >&2; bin/sleb bench "$@"; }
# llama-bench pp512 equivalent: one 512-token prompt, logits of the last position only
run "${common[@]}" --mode prompt --prompt-len 512 --iters 10 --warmup 2 --out "$out/pp512.json"
# llama-bench tg128 equivalent: batch 1, 128 single-token steps (the 1-token prefill is part of the timed iteration;
# the decode-only column excludes it)
run "${common[@]}" --mode generate --batch 1 --prompt-len 1 --gen-len 128 --iters 5 --warmup 1 --out "$out/tg128.json"
# the paper's prompt protocol (batch 1 x 2048) with 3 iterations instead of 50
run "${common[@]}" --mode prompt --iters 3 --warmup 1 --out "$out/prompt2048.json"
# the paper's generation protocol (batch 64, prompt 64) shortened to 32 new tokens (paper: 128) and 2 iterations (paper: 10)
run "${common[@]}" --mode generate --gen-len 32 --iters 2 --warmup 1 --out "$out/generate-b64-g32.json"
echo "rows appended to $md; JSON and charts in $out/" >&2
