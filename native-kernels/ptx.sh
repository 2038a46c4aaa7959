#!/usr/bin/env bash
# ptx.sh - helpers for native-kernels/kernels.mk.
#   ptx.sh build SRC.cu OUT.ptx   compile to PTX for compute_80, lower the .version directive to
#                                 $PTX_VERSION (see docs/cuda.md) and check that ptxas accepts the
#                                 result for every arch in $PTX_VERIFY_ARCHS
#   ptx.sh report OUT.ptx...      ptxas resource usage per kernel and arch, as a table
set -euo pipefail
NVCC=${NVCC:-nvcc}
PTXAS=${PTXAS:-ptxas}
PTX_ARCH=${PTX_ARCH:-compute_80}
PTX_VERSION=${PTX_VERSION:-8.0}
PTX_VERIFY_ARCHS=${PTX_VERIFY_ARCHS:-sm_80 sm_90}

case "$1" in
build)
    src=$2 out=$3
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    "$NVCC" -std=c++17 -O3 -arch="$PTX_ARCH" -ptx -o "$tmp/raw.ptx" "$src"
    grep -q '^\.version ' "$tmp/raw.ptx" || { echo "$src: no .version line in nvcc output" >&2; exit 1; }
    sed -E "s/^\.version [0-9]+\.[0-9]+\$/.version $PTX_VERSION/" "$tmp/raw.ptx" > "$tmp/out.ptx"
    for a in $PTX_VERIFY_ARCHS; do
        "$PTXAS" -arch="$a" -o "$tmp/$a.cubin" "$tmp/out.ptx" ||
            { echo "$src: ptxas $a rejects the PTX at .version $PTX_VERSION" >&2; exit 1; }
    done
    mkdir -p "$(dirname "$out")"
    cp "$tmp/out.ptx" "$out"
    ;;
report)
    shift
    printf '%-7s %-28s %5s %7s %9s %7s %7s\n' arch kernel regs smem_B stack_B spillS spillL
    for a in $PTX_VERIFY_ARCHS; do
        for f in "$@"; do
            "$PTXAS" -v -arch="$a" -o /dev/null "$f" 2>&1 | awk -v arch="$a" '
                /Compiling entry function/ { if (k != "") emit(); k = $0; sub(/.*function \047/, "", k); sub(/\047.*/, "", k); smem = 0 }
                /bytes stack frame/ { stack = $1; spS = $5; spL = $9 }
                /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "registers,") regs = $i; if ($(i+1) == "bytes" && $(i+2) ~ /^smem/) smem = $i } }
                function emit() { printf "%-7s %-28s %5s %7s %9s %7s %7s\n", arch, k, regs, smem, stack, spS, spL }
                END { if (k != "") emit() }'
        done
    done
    ;;
*)
    echo "usage: $0 build SRC OUT | report PTX..." >&2; exit 2 ;;
esac
