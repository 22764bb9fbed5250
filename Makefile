# Front door: wraps CMake + ninja. See README.md.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
LLVM_ROOT := /usr/lib/llvm-22
CUDA_ROOT ?= /usr/local/cuda

DEB_PACKAGES := libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools lld-22 ccache \
  cmake ninja-build g++ pkg-config python3 \
  libflatbuffers-dev flatbuffers-compiler nlohmann-json3-dev libpcre2-dev \
  libjpeg62-turbo-dev libpng-dev libopenmpi-dev openmpi-bin \
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-dev lld libcpp-httplib-dev libssl-dev

CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
  -DMLIR_DIR=$(LLVM_ROOT)/lib/cmake/mlir \
  -DCMAKE_CUDA_COMPILER=$(CUDA_ROOT)/bin/nvcc \
  -DCMAKE_CUDA_RUNTIME_LIBRARY=Shared \
  -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache

.PHONY: deps configure build check check-sanitize fuzz demo clean format

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all Debian packages present"; fi

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)
	@ln -sf $(BUILD_DIR)/compile_commands.json compile_commands.json

check: deps build
	@# ctest hides why a test skipped: say it for the GPU tests before the summary.
	@if [ -x $(BUILD_DIR)/bin/fathom_cuda_tests ]; then \
	  $(BUILD_DIR)/bin/fathom_cuda_tests --gtest_brief=1 2>&1 | grep -A1 ': Skipped$$' | grep -v -- '--' | \
	  sed 's/^/GPU tests: /' || true; fi
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The sanitizer lane: the whole suite built with ASan + UBSan in a folder of its own (GCC, no
# CUDA). SANITIZE_COMPILER=OFF limits it to the MLIR-free part (runtime, frontend, tools), which
# is what CI runs. Without MPI: OpenMPI's own allocations at exit read as leaks.
SANITIZE_DIR ?= build-sanitize
SANITIZE_COMPILER ?= ON
check-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFATHOM_SANITIZE=ON \
	  -DFATHOM_ENABLE_CUDA=OFF -DFATHOM_ENABLE_COMPILER=$(SANITIZE_COMPILER) -DFATHOM_ENABLE_MPI=OFF
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# Fuzzing (test/fuzz/README.md): the libFuzzer harnesses, built with clang in a folder of their
# own, each run for FUZZ_SECONDS (or 1,000,000 executions) from seeds made from test/reference.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 600
fuzz: deps build
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DFATHOM_FUZZ=ON -DFATHOM_ENABLE_COMPILER=OFF -DFATHOM_ENABLE_CUDA=OFF \
	  -DMLIR_DIR=$(LLVM_ROOT)/lib/cmake/mlir -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld \
	  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fathom-fuzz-safetensors fathom-fuzz-checkpoint \
	  fathom-fuzz-tokenizer fathom-fuzz-chat fathom-fuzz-artifact fathom-fuzz-image
	python3 test/fuzz/make_seeds.py $(FUZZ_DIR)/seeds $(BUILD_DIR)/bin/fathom-compile
	python3 test/fuzz/run_fuzzers.py $(FUZZ_DIR) $(FUZZ_DIR)/seeds $(FUZZ_SECONDS)

# The demo: compile the bundled KJV-trained DeepSeek-V3-architecture model (tools/demo) and let it
# continue a prompt. DEMO_PROMPT="..." make demo for another one.
DEMO_PROMPT ?= In the beginning God
demo: deps build
	@mkdir -p $(BUILD_DIR)/demo
	$(BUILD_DIR)/bin/fathom-compile tools/demo/kjv-v3 -o $(BUILD_DIR)/demo/kjv-v3.fathom --max-seq-len 512 --dtype fp32
	$(BUILD_DIR)/bin/fathom-run $(BUILD_DIR)/demo/kjv-v3.fathom --prompt "$(DEMO_PROMPT)" --max-new-tokens 96 --greedy

format:
	git ls-files '*.cpp' '*.h' '*.cu' '*.cuh' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
