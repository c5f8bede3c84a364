# shellcheck shell=bash
# bench/lib.sh - sourced by the bench scripts (flood, linear, soak): the sensor under test.
# The caller defines ROOT, die() and note().

# bench_tlsobs DIR: sets BUILD_DIR (DIR made absolute; relative to ROOT when it does not exist yet),
# TLSOBS and BUILD_TYPE, building tlsobs there (RelWithDebInfo) when the binary is missing.
bench_tlsobs() {
	BUILD_DIR=$1
	if [[ $BUILD_DIR != /* ]]; then
		if [[ -d $BUILD_DIR ]]; then BUILD_DIR=$(cd "$BUILD_DIR" && pwd); else BUILD_DIR=$ROOT/$BUILD_DIR; fi
	fi
	TLSOBS=$BUILD_DIR/tlsobs
	if [[ ! -x $TLSOBS ]]; then
		command -v cmake >/dev/null 2>&1 || die "cmake not found"
		note "building tlsobs in $BUILD_DIR (RelWithDebInfo)"
		[[ -f $BUILD_DIR/CMakeCache.txt ]] ||
			cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
		cmake --build "$BUILD_DIR" -j"$(nproc)" --target tlsobs >/dev/null || die "tlsobs build failed"
	fi
	# shellcheck disable=SC2034 # read by the callers
	BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
}
