# native-kernels/kernels.mk - CUDA kernels -> PTX resources. Included by the top Makefile.
#   make kernels        compile native-kernels/*.cu to src/main/resources/sleb/kernels/NAME.ptx
#                       (committed, so the jar carries them) and print ptxas resource usage
#   make kernels-check  recompile into a temp dir and fail if a committed PTX is stale
# PTX is emitted for compute_80 and its .version lowered to PTX_VERSION so that CUDA 12.x drivers
# JIT it too (docs/cuda.md explains why); ptxas checks the rewritten file for sm_80 and sm_90.
NVCC ?= nvcc
PTX_VERSION ?= 8.0
KERNEL_DIR := native-kernels
KERNEL_OUT := src/main/resources/sleb/kernels
KERNEL_SRC := $(sort $(wildcard $(KERNEL_DIR)/*.cu))
KERNEL_PTX := $(patsubst $(KERNEL_DIR)/%.cu,$(KERNEL_OUT)/%.ptx,$(KERNEL_SRC))
KERNEL_ENV := NVCC=$(NVCC) PTX_VERSION=$(PTX_VERSION)

.PHONY: kernels kernels-report kernels-check

kernels: $(KERNEL_PTX) kernels-report

$(KERNEL_OUT)/%.ptx: $(KERNEL_DIR)/%.cu $(KERNEL_DIR)/common.cuh $(KERNEL_DIR)/ptx.sh
	@echo "nvcc $< -> $@"
	@$(KERNEL_ENV) $(KERNEL_DIR)/ptx.sh build $< $@

kernels-report: $(KERNEL_PTX)
	@echo "ptxas resource usage (PTX .version $(PTX_VERSION); smem = static shared bytes, dynamic not included):"
	@$(KERNEL_ENV) $(KERNEL_DIR)/ptx.sh report $(KERNEL_PTX)

kernels-check:
	@command -v $(NVCC) >/dev/null || { echo "kernels-check: $(NVCC) not found; cannot rebuild the PTX" >&2; exit 1; }
	@tmp=$$(mktemp -d); stale=0; \
	for src in $(KERNEL_SRC); do \
	  n=$$(basename $$src .cu); \
	  $(KERNEL_ENV) $(KERNEL_DIR)/ptx.sh build $$src $$tmp/$$n.ptx || { stale=1; continue; }; \
	  if [ ! -f $(KERNEL_OUT)/$$n.ptx ]; then echo "missing: $(KERNEL_OUT)/$$n.ptx"; stale=1; \
	  elif ! diff -q -I '^//' $$tmp/$$n.ptx $(KERNEL_OUT)/$$n.ptx >/dev/null; then echo "stale: $(KERNEL_OUT)/$$n.ptx"; stale=1; fi; \
	done; \
	for p in $(KERNEL_OUT)/*.ptx; do [ -f $(KERNEL_DIR)/$$(basename $$p .ptx).cu ] || { echo "orphan: $$p"; stale=1; }; done; \
	rm -rf $$tmp; \
	if [ $$stale = 1 ]; then echo "kernels-check: run 'make kernels' and commit the PTX" >&2; exit 1; fi; \
	echo "kernels-check: $(words $(KERNEL_SRC)) PTX files are up to date"
