# native-kernels/emu.mk - the CUDA kernels on the CPU. Included by the top Makefile.
#   make kernels-emu   compile native-kernels/*.cu with g++ against the emulator in native-kernels/emu/
#                      (no GPU, no nvcc) and check every kernel against double-precision references
# docs/kernel-emulator.md describes the emulator. Output goes to target/kernels-emu/.
EMU_CXX ?= g++
EMU_CXXFLAGS ?= -std=c++17 -O2 -Wall -Wno-unknown-pragmas
# UBSan on the kernels when the toolchain has it: bounds of fixed-size arrays (static __shared__ ones
# included), integer overflow, misaligned access. The first report ends the run. Probed once, on use.
EMU_UBSAN_PROBE = $(shell echo 'int main(){}' | $(EMU_CXX) -fsanitize=undefined -x c++ - -o /dev/null 2>/dev/null && \
                    echo -fsanitize=undefined -fno-sanitize-recover=undefined)
EMU_UBSAN ?= $(eval EMU_UBSAN := $(EMU_UBSAN_PROBE))$(EMU_UBSAN)
EMU_DIR := native-kernels/emu
EMU_KERNEL_DIR ?= native-kernels
EMU_OUT ?= target/kernels-emu
EMU_KERNELS := $(sort $(wildcard $(EMU_KERNEL_DIR)/*.cu))
EMU_KSRC := $(patsubst $(EMU_KERNEL_DIR)/%.cu,$(EMU_OUT)/src/%.cpp,$(EMU_KERNELS))
EMU_KOBJ := $(patsubst $(EMU_KERNEL_DIR)/%.cu,$(EMU_OUT)/kernels/%.o,$(EMU_KERNELS))
EMU_TOBJ := $(patsubst $(EMU_DIR)/%.cpp,$(EMU_OUT)/emu/%.o,$(sort $(wildcard $(EMU_DIR)/*.cpp)))

.PHONY: kernels-emu kernels-emu-lib
.SECONDARY: $(EMU_KSRC)

# The arguments are the kernels the objects define; the test fails if one of them has no check.
kernels-emu: $(EMU_OUT)/kernel-test $(EMU_OUT)/libsleb-emu.so
	@$< $$(nm -g --defined-only $(EMU_KOBJ) | awk '$$2 == "T" && $$3 !~ /^_Z/ { print $$3 }' | sort -u)

$(EMU_OUT)/kernel-test: $(EMU_KOBJ) $(EMU_TOBJ)
	@echo "link $@"
	@$(EMU_CXX) $(EMU_UBSAN) -o $@ $^

# `extern __shared__ T name[];` has no C++ equivalent: rewrite it to a pointer to the launch's dynamic
# shared memory. The #line keeps diagnostics pointing at the .cu file.
$(EMU_OUT)/src/%.cpp: $(EMU_KERNEL_DIR)/%.cu
	@mkdir -p $(@D)
	@{ echo '#line 1 "$<"'; sed -E 's/extern[[:space:]]+__shared__[[:space:]]+(.*[^[:space:]])[[:space:]]+([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*\[\][[:space:]]*;/EMU_DYNAMIC_SHARED(\1, \2);/' $<; } > $@

# One kernel file as C++ (add -c SRC -o OBJ). kernels.h is force-included too: a prototype that disagrees
# with its kernel does not compile.
EMU_COMPILE_KERNEL = $(EMU_CXX) $(EMU_CXXFLAGS) -MMD -MP -I$(EMU_KERNEL_DIR) -I$(EMU_DIR)/include \
  -include $(EMU_DIR)/include/emu.h -include $(EMU_DIR)/kernels.h

$(EMU_OUT)/kernels/%.o: $(EMU_OUT)/src/%.cpp
	@mkdir -p $(@D)
	@echo "g++ $(EMU_KERNEL_DIR)/$*.cu -> $@"
	@$(EMU_COMPILE_KERNEL) $(EMU_UBSAN) -c $< -o $@

# -fPIC: runtime.o also goes into libsleb-emu.so.
$(EMU_OUT)/emu/%.o: $(EMU_DIR)/%.cpp
	@mkdir -p $(@D)
	@echo "g++ $< -> $@"
	@$(EMU_CXX) $(EMU_CXXFLAGS) -fPIC -MMD -MP -I$(EMU_DIR)/include -c $< -o $@

-include $(wildcard $(EMU_OUT)/kernels/*.d $(EMU_OUT)/emu/*.d)

# libsleb-emu.so: the kernels, the emulator and a JNI face (emu/jni/emu_jni.cpp), so that the Java CUDA
# backend can run on the CPU as an emulated device (sleb.backend.cuda.EmuNative; docs/kernel-emulator.md).
# The kernels as position-independent objects of their own, without UBSan (its runtime does not belong inside a JVM).
EMU_JAVA_HOME ?= $(shell dirname $$(dirname $$(readlink -f $$(command -v javac) 2>/dev/null)) 2>/dev/null)
EMU_PIC_KOBJ := $(patsubst $(EMU_KERNEL_DIR)/%.cu,$(EMU_OUT)/pic/%.o,$(EMU_KERNELS))

kernels-emu-lib: $(EMU_OUT)/libsleb-emu.so

$(EMU_OUT)/libsleb-emu.so: $(EMU_PIC_KOBJ) $(EMU_OUT)/emu/runtime.o $(EMU_OUT)/pic/emu_jni.o
	@echo "link $@"
	@$(EMU_CXX) -shared -o $@ $^

$(EMU_OUT)/pic/%.o: $(EMU_OUT)/src/%.cpp
	@mkdir -p $(@D)
	@echo "g++ -fPIC $(EMU_KERNEL_DIR)/$*.cu -> $@"
	@$(EMU_COMPILE_KERNEL) -fPIC -c $< -o $@

$(EMU_OUT)/pic/emu_jni.o: $(EMU_DIR)/jni/emu_jni.cpp
	@mkdir -p $(@D)
	@[ -f "$(EMU_JAVA_HOME)/include/jni.h" ] || { echo "kernels-emu-lib: jni.h not found under EMU_JAVA_HOME=$(EMU_JAVA_HOME); set it to a JDK" >&2; exit 1; }
	@$(EMU_CXX) $(EMU_CXXFLAGS) -fPIC -MMD -MP -I$(EMU_DIR)/include -I$(EMU_JAVA_HOME)/include -I$(EMU_JAVA_HOME)/include/linux -c $< -o $@

-include $(wildcard $(EMU_OUT)/pic/*.d)
