# vigil: the two commands a newcomer runs (`make demo`, `make test`) and a few more.
# Each target installs what is missing (scripts/install-deps.sh) and builds what it needs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
CMAKE_ARGS ?=
CTEST_ARGS ?=
# Unity builds of the libraries (cmake/VigilOptions.cmake): about 40% less compile time for a
# fresh build. UNITY=OFF for a build directory you edit in, where one changed file would
# recompile its whole batch. Read when a build directory is configured.
UNITY      ?= ON

.PHONY: all deps build test demo asan fuzz bench fmt clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/build.ninja: deps CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=$(UNITY) $(CMAKE_ARGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The whole CTest suite except the long soak and fuzz runs (labels soak, fuzz_long).
test: build
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure --timeout 600 -LE 'soak|fuzz_long' $(CTEST_ARGS)

# The product on the embedded store: see README.md. Options: make demo DEMO_ARGS="--scenario fpr_creep".
DEMO_ARGS ?=
demo: build
	./$(BUILD)/src/vigil demo $(DEMO_ARGS)

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, built at -O1 with line tables
# (the sanitizers' usual level: stack traces keep file and line) and only the unit binaries.
SANITIZE_OPT ?= -O1 -g1 -DNDEBUG
asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_SANITIZE=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(SANITIZE_OPT)" -DVIGIL_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=$(UNITY) $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target vigil_unit_tests
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ctest -j $(JOBS) --output-on-failure --timeout 900 -L unit $(CTEST_ARGS)

# The libFuzzer targets built with clang, each run for FUZZ_SECONDS (the short form CI runs).
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 30
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DVIGIL_FUZZ=ON -DVIGIL_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target vigil_fuzz_all
	cd $(FUZZ_BUILD) && ctest --output-on-failure -L '^fuzz$$' $(CTEST_ARGS)

bench: build
	./$(BUILD)/bench/decision_bench --benchmark_min_time=1 --benchmark_repetitions=3

fmt:
	clang-format -i $$(git ls-files 'src/*.cc' 'src/*.h' 'tests/*.cc' 'tests/*.h' 'bench/*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
