# tlsobs: the two commands of the README, and a few more for developers.
#   make demo   install what is missing, build, run the sensor on a bundled capture
#   make test   install what is missing, build, run the whole test suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
SECONDS    ?= 60
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSOBS_WERROR=ON

.PHONY: all deps build asan-build tsan-build demo test test-asan test-tsan fuzz bench format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# The whole suite, in the plain build and again under AddressSanitizer + UBSan, then the ThreadSanitizer
# leg (tests/tsan/: the threaded drivers and the integration tests that run threads, no unit tests).
test: build asan-build tsan-build
	@scripts/run-tests.sh $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

test-asan: asan-build
	@scripts/run-tests.sh $(ASAN_BUILD)

test-tsan: tsan-build
	@scripts/run-tests.sh $(TSAN_BUILD)

asan-build: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTLSOBS_WERROR=ON -DTLSOBS_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

tsan-build: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTLSOBS_WERROR=ON -DTLSOBS_TSAN=ON
	cmake --build $(TSAN_BUILD) -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSOBS_FUZZ=ON -DTLSOBS_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD) $(SECONDS)

bench: build
	@bench/throughput.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
