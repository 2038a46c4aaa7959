#!/usr/bin/env bash
# gpu-check - run from a `make dist` directory on a GPU host (no JDK or Maven needed): the CUDA tests
# through TestNG's command-line runner, then a short benchmark. Bounded to well under 5 minutes.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
java=runtime/bin/java
[ -x "$java" ] || java=java
cp="lib/sleb-j.jar:lib/lib/*:test-lib/*"
opts="--add-modules jdk.incubator.vector -Xmx8g"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "== CUDA tests =="
timeout 240 "$java" $opts -Dsleb.shared=shared -cp "$cp" org.testng.TestNG -d /tmp/sleb-gpu-check-testng \
  -testclass sleb.backend.cuda.PtxResourcesTest,sleb.backend.cuda.CudaHostProtocolTest,sleb.backend.cuda.CudaKernelsTest,sleb.backend.cuda.CudaModelTest,sleb.backend.cuda.CudaStories260KTest,sleb.backend.cuda.CudaOptTest,sleb.backend.cuda.CudaOptProtocolTest,sleb.backend.cuda.CudaOptBenchDryRunTest
tests=$?  # TestNG: 1 = failures, 2 = skips (no usable GPU), 124 = timeout
echo "== benchmark =="
timeout 90 "$java" $opts -cp "$cp" sleb.backend.cuda.CudaBench
bench=$?
echo "tests exit $tests, benchmark exit $bench"
[ $tests = 0 ] && [ $bench = 0 ]
