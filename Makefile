# tlsobs: the two commands of the README, and a few more for developers.
#   make demo   install what is missing, build, run the sensor on a bundled capture
#   make test   install what is missing, build, run the whole test suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
SECONDS    ?= 60
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSOBS_WERROR=ON

.PHONY: all deps build asan-build demo test test-asan fuzz bench format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

# The whole suite, in the plain build and again under AddressSanitizer + UBSan.
test: build asan-build
	@scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

test-asan: asan-build
	@scripts/run-tests.sh $(ASAN_BUILD)

asan-build: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTLSOBS_WERROR=ON -DTLSOBS_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSOBS_FUZZ=ON -DTLSOBS_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD) $(SECONDS)

bench: build
	@bench/throughput.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
