/* test_support.h: small helpers shared by the unit tests. */
#ifndef TLSOBS_TEST_SUPPORT_H
#define TLSOBS_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Absolute path of a file in the source tree (TLSOBS_SOURCE_DIR, set by ctest), in a static buffer. */
const char *test_source_path(const char *relative);

/* Reads a whole file into a malloc'd buffer (caller frees); NULL when unreadable. */
uint8_t *test_read_file(const char *path, size_t *len);

/* Deterministic pseudo-random numbers for split-feed tests (xorshift64*). */
uint64_t test_rand(uint64_t *state);

#endif
