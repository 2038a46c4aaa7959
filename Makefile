# SLEB-J build entry points. `make help` lists them.
SHARED ?= ../shared
MVN ?= mvn -B -q
SLEB := bin/sleb

include native-kernels/kernels.mk
include native-kernels/emu.mk
include native-kernels/dist.mk

.PHONY: help build test demo bench bench-peer clean

help:
	@echo "make build   - compile and package target/sleb-j.jar (+ target/lib), launcher bin/sleb"
	@echo "make test    - run the test suite (tests needing $(SHARED) skip when it is absent)"
	@echo "make kernels-emu - run every CUDA kernel on the CPU emulator against double references (g++ only)"
	@echo "make demo    - build, then run the main job on the default small model from $(SHARED)"
	@echo "make bench   - build, then time the stories110m shape on the CPU (dense vs 20% pruned), rows into docs/benchmarks.md"
	@echo "make bench-peer - build, then SLEB-J against llama.cpp side by side on the same weights (needs $(SHARED)/tools/llama.cpp,"
	@echo "                  $(SHARED)/data/wikitext-2-raw and python3 with numpy; ~15 min, plus ~10 once to build llama.cpp)"

build:
	@# a fresh target/lib: copy-dependencies never deletes jars that left the dependency tree
	rm -rf target/lib
	$(MVN) -DskipTests package

# The emulated-GPU tests need target/kernels-emu/libsleb-emu.so (g++ only); without it they skip, saying so.
test:
	-@$(MAKE) --no-print-directory kernels-emu-lib
	mvn -B -Dsleb.shared=$(abspath $(SHARED)) test

demo: build
	@bash scripts/demo.sh "$(SHARED)"

bench: build
	@bash scripts/bench.sh

bench-peer: build
	@bash scripts/bench-peer.sh "$(SHARED)"

clean:
	$(MVN) clean
