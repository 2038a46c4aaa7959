#!/usr/bin/env bash
# `make bench-peer`: SLEB-J's CPU backend against llama.cpp, side by side on this machine, same weights, same
# threads, runs alternating (llama.cpp, then SLEB-J, per protocol, for PEER_ROUNDS rounds), so load that comes and
# goes hits both tools. Protocols: llama-bench pp512 and tg128 against `sleb bench` (prompt 512, last-position
# logits; generate batch 1, 128 single-token steps from position 0), and llama-perplexity against
# `sleb eval --protocol llamacpp` (same chunks, same scored halves; both perplexities are printed as a check).
# Weights: ../shared/tools/llama.cpp/make-peer-models.sh (random stories110M shape, GGUF f32/f16/bf16).
# llama.cpp: built for this CPU by build-native.sh (~10 minutes once; PEER_BIN=DIR uses another build).
# Results: target/bench-peer/*.json and summary.md; rows appended to $BENCH_MD (default docs/benchmarks.md).
set -euo pipefail
shared="${1:-../shared}"
tools="$shared/tools/llama.cpp"
if [ ! -x "$tools/build-native.sh" ] || [ ! -x "$tools/make-peer-models.sh" ]; then
  echo "bench-peer: skipped: $tools (llama.cpp and its peer-model scripts) not found; set SHARED=DIR to the shared data root" >&2
  exit 0
fi
threads="$(nproc)"   # all cores; `sleb eval` gets the same count through -Dsleb.threads
rounds="${PEER_ROUNDS:-3}"
dtypes="${PEER_DTYPES:-f32 bf16}"
chunks="${PEER_CHUNKS:-8}"
models="${PEER_MODELS:-target/peer-models}"
out=target/bench-peer
wiki="$shared/data/wikitext-2-raw/wiki.test.raw"
for f in "$wiki"; do [ -f "$f" ] || { echo "bench-peer: $f not found (needed for the perplexity protocol)" >&2; exit 2; }; done
missing=0; for dt in $dtypes; do [ -f "$models/rand-$dt.gguf" ] || missing=1; done
if [ "$missing" = 1 ]; then
  echo "bench-peer: writing the peer models into $models (~1.7 GB, a minute or two)" >&2
  "$tools/make-peer-models.sh" "$models" >/dev/null
fi
if [ -n "${PEER_BIN:-}" ]; then bin="$PEER_BIN"; else
  echo "bench-peer: building llama.cpp for this CPU (build-native.sh; ~10 minutes the first time, then reused)" >&2
  bin="$("$tools/build-native.sh" | tail -1)"
fi
for b in llama-bench llama-perplexity; do [ -x "$bin/$b" ] || { echo "bench-peer: $bin/$b not found" >&2; exit 2; }; done
rm -rf "$out" && mkdir -p "$out"
# the commit measured, taken now (the jar was just built from it), not when the summary is written
build="$(python3 scripts/bench_peer_summary.py --print-build)"
sleb=(bin/sleb)
log() { echo "+ $*" >&2; }
# run a command with its stderr kept in a log, shown only when it fails
quiet() { local f="$out/stderr.log"; "$@" 2>"$f" || { tail -20 "$f" >&2; echo "bench-peer: failed: $*" >&2; exit 2; }; }
# the same for a command whose stdout and stderr both go to file $1
logged() { local f="$1"; shift; "$@" >"$f" 2>&1 || { tail -20 "$f" >&2; echo "bench-peer: failed: $* (output in $f)" >&2; exit 2; }; }
for r in $(seq 1 "$rounds"); do
  for dt in $dtypes; do
    m="$models/rand-$dt.gguf"
    log "round $r/$rounds $dt: llama-bench pp512"
    quiet "$bin/llama-bench" -m "$m" -p 512 -n 0 -r 3 -t "$threads" -o json >"$out/llamacpp-$dt-pp512-$r.json"
    log "round $r/$rounds $dt: sleb bench prompt 512"
    quiet "${sleb[@]}" bench --device cpu --threads "$threads" --model "$m" --mode prompt --prompt-len 512 --iters 5 --warmup 2 \
      --quiet --out "$out/sleb-$dt-pp512-$r.json" >/dev/null
    log "round $r/$rounds $dt: llama-bench tg128"
    quiet "$bin/llama-bench" -m "$m" -p 0 -n 128 -r 3 -t "$threads" -o json >"$out/llamacpp-$dt-tg128-$r.json"
    log "round $r/$rounds $dt: sleb bench generate 1 x 128"
    quiet "${sleb[@]}" bench --device cpu --threads "$threads" --model "$m" --mode generate --batch 1 --prompt-len 1 --gen-len 128 \
      --iters 3 --warmup 1 --quiet --out "$out/sleb-$dt-tg128-$r.json" >/dev/null
    log "round $r/$rounds $dt: llama-perplexity -c 512 --chunks $chunks"
    logged "$out/llamacpp-$dt-ppl-$r.txt" "$bin/llama-perplexity" -m "$m" -f "$wiki" -c 512 --chunks "$chunks" -t "$threads" \
      -ctk f32 -ctv f32
    log "round $r/$rounds $dt: sleb eval --protocol llamacpp --seqlen 512 --max-windows $chunks"
    SLEB_JAVA_OPTS="-Xmx16g -Dsleb.threads=$threads" quiet "${sleb[@]}" eval --device cpu --model "$m" --data "wikitext2-raw=$wiki" --protocol llamacpp --seqlen 512 \
      --max-windows "$chunks" --quiet --out "$out/sleb-$dt-ppl-$r.json" >/dev/null
  done
done
python3 scripts/bench_peer_summary.py "$out" --threads "$threads" --rounds "$rounds" --chunks "$chunks" --build "$build" \
  --md "${BENCH_MD:-docs/benchmarks.md}"
