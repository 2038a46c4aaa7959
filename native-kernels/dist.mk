# native-kernels/dist.mk - a self-contained dist/ for a GPU host without a JDK or Maven.
#   make dist       dist/{bin/sleb, runtime/ (jlink), lib/sleb-j.jar, lib/lib/*.jar, test-lib/, Makefile}
#   make gpu-check  runs the CUDA tests and the benchmark from dist/ (the same as `cd dist && make gpu-check`)
# lib/lib/ because the jar's manifest Class-Path is lib/*.jar relative to the jar (bin/sleb runs lib/sleb-j.jar).
DIST ?= dist
JAVA_HOME_DIST ?= $(shell dirname $$(dirname $$(readlink -f $$(command -v javac))))
JLINK ?= $(JAVA_HOME_DIST)/bin/jlink
JDEPS ?= $(JAVA_HOME_DIST)/bin/jdeps
# Found by jdeps (java.base, java.compiler, java.desktop, java.logging) plus what is used reflectively or
# by options: the Vector API, sun.misc.Unsafe, JMX/ParallelGC, XML (TestNG).
DIST_MODULES_EXTRA := jdk.incubator.vector,jdk.unsupported,java.management,java.xml
# jdeps also names java.scripting (TestNG's optional script support); left out to stay under the limit.
DIST_MODULES_DROP := java.scripting
DIST_LIMIT_MIB := 64
# Debian's libjvm.so is not stripped (23 MB); strip native symbols when objcopy is there.
JLINK_STRIP_NATIVE := $(if $(shell command -v objcopy),--strip-native-debug-symbols=objcopy=$(shell command -v objcopy))

.PHONY: dist gpu-check

dist: build
	@rm -rf $(DIST) && mkdir -p $(DIST)/bin $(DIST)/lib/lib $(DIST)/test-lib $(DIST)/docs
	rm -rf target/test-deps
	$(MVN) -DskipTests test-compile dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=target/test-deps
	cp target/sleb-j.jar $(DIST)/lib/
	cp target/lib/*.jar $(DIST)/lib/lib/
	@# JCuda natives: linux-x86_64 only
	@rm -f $(DIST)/lib/lib/*-natives-*-windows-* $(DIST)/lib/lib/*-natives-*-apple-* $(DIST)/lib/lib/*-natives-*-linux-aarch64* $(DIST)/lib/lib/*-natives-*-linux-ppc*
	@# jcuda-natives carries libJNvPTXCompiler (24 MB, a static nvPTXCompiler) that we never load: the driver JITs our PTX
	@n=$$(ls $(DIST)/lib/lib/jcuda-natives-*-linux-x86_64.jar); tmp=$$(mktemp -d); (cd $$tmp && jar xf $(CURDIR)/$$n) && \
	  rm -f $$tmp/lib/libJNvPTXCompiler-* && rm $$n && jar cfm $$n $$tmp/META-INF/MANIFEST.MF -C $$tmp lib -C $$tmp META-INF/maven && rm -rf $$tmp
	@# DJL's tokenizers jar and JNA carry natives for every platform: keep linux-x86_64 only
	@for n in $(DIST)/lib/lib/tokenizers-*.jar $(DIST)/lib/lib/jna-*.jar; do \
	  [ -f $$n ] || continue; tmp=$$(mktemp -d); (cd $$tmp && jar xf $(CURDIR)/$$n) && \
	  rm -rf $$tmp/native/lib/win-* $$tmp/native/lib/osx-* $$tmp/native/lib/linux-aarch64 \
	         $$(ls -d $$tmp/com/sun/jna/* 2>/dev/null | grep -v -e linux-x86-64 -e '\.class$$' -e '/internal$$' -e '/ptr$$' -e '/win32$$' -e '/platform$$') && \
	  rm $$n && (cd $$tmp && jar cfm $(CURDIR)/$$n META-INF/MANIFEST.MF $$(ls -A | grep -v '^META-INF$$') $$(ls -d META-INF/* | grep -v MANIFEST.MF)) && rm -rf $$tmp; done
	@for j in target/test-deps/*.jar; do [ -f $(DIST)/lib/lib/$$(basename $$j) ] || cp $$j $(DIST)/test-lib/; done
	jar cf $(DIST)/test-lib/sleb-j-tests.jar -C target/test-classes .
	cp bin/sleb $(DIST)/bin/ && cp native-kernels/gpu-check.sh $(DIST)/bin/gpu-check && chmod +x $(DIST)/bin/*
	cp docs/cuda.md $(DIST)/docs/
	printf 'gpu-check:\n\tbin/gpu-check\n.PHONY: gpu-check\n' > $(DIST)/Makefile
	@mods=$$(for j in $(DIST)/lib/sleb-j.jar $(DIST)/lib/lib/*.jar $(DIST)/test-lib/*.jar; do \
	    $(JDEPS) --print-module-deps --ignore-missing-deps --multi-release 17 $$j 2>/dev/null; done | tr ',' '\n' | grep -v '^$$' | grep -vx '$(DIST_MODULES_DROP)' | sort -u | tr '\n' ','); \
	  mods="$${mods}$(DIST_MODULES_EXTRA)"; echo "jlink modules: $$mods"; \
	  $(JLINK) --add-modules $$mods --strip-debug $(JLINK_STRIP_NATIVE) --no-header-files --no-man-pages --compress=2 --output $(DIST)/runtime
	@# libjvm.so keeps a full symbol table even after the jlink plugin; dynamic symbols survive --strip-unneeded
	@if command -v strip >/dev/null; then find $(DIST)/runtime -name '*.so' -exec strip --strip-unneeded {} +; fi
	@# the few public files CudaStories260KTest needs, for a GPU host without ../shared (never committed: dist/ is ignored)
	@if [ -d $(SHARED)/models/stories260K-hf ]; then \
	  mkdir -p $(DIST)/shared/models/stories260K $(DIST)/shared/data/wikitext-2-raw && \
	  cp $(SHARED)/models/stories260K/tok512.bin $(DIST)/shared/models/stories260K/ && \
	  cp $(SHARED)/models/PROVENANCE.md $(DIST)/shared/models/ && cp $(SHARED)/data/PROVENANCE.md $(DIST)/shared/data/ && \
	  cp -r $(SHARED)/models/stories260K-hf $(SHARED)/models/stories260K-hf-bf16 $(DIST)/shared/models/ && \
	  head -c 150000 $(SHARED)/data/wikitext-2-raw/wiki.test.raw > $(DIST)/shared/data/wikitext-2-raw/wiki.test.raw && \
	  echo "dist/shared: stories260K (hf, hf-bf16, tokenizer) and the first 150 kB of wiki.test.raw from $(SHARED)"; \
	else echo "dist: $(SHARED) not found; CudaStories260KTest will skip on the GPU host"; fi
	@# the OPT fixtures CudaOptTest needs (it also reads the stories260K tokenizer and wiki.test.raw above)
	@if [ -d $(SHARED)/models/opt-tiny ]; then \
	  mkdir -p $(DIST)/shared/models && cp -r $(SHARED)/models/opt-tiny $(DIST)/shared/models/ && \
	  echo "dist/shared: models/opt-tiny (pre-LN, its F16 copy, post-LN with project_in/out) from $(SHARED)"; \
	else echo "dist: $(SHARED)/models/opt-tiny not found; CudaOptTest will skip on the GPU host"; fi
	@# the device machine takes 64 MiB in all: dist plus the working tree that travels with it
	@size=$$(du -sb $(DIST) | cut -f1); tree=$$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1); \
	  total=$$(( (size + tree) / 1048576 )); echo "dist: $$(( size / 1048576 )) MiB ($(DIST)); with the working tree $$total MiB of $(DIST_LIMIT_MIB)"; \
	  if [ $$total -ge $(DIST_LIMIT_MIB) ]; then echo "dist and the working tree are $$total MiB, over the $(DIST_LIMIT_MIB) MiB a device run takes" >&2; exit 1; fi

gpu-check:
	@[ -x $(DIST)/bin/gpu-check ] || { echo "run 'make dist' first" >&2; exit 1; }
	$(MAKE) -C $(DIST) gpu-check
