/* test_support.h: small helpers shared by the unit tests. */
#ifndef TLSOBS_TEST_SUPPORT_H
#define TLSOBS_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Absolute path of a file in the source tree (TLSOBS_SOURCE_DIR, set by ctest), in a static buffer. */
const char *test_source_path(const char *relative);

/* Reads a whole file into a malloc'd buffer (caller frees); NULL when unreadable. */
uint8_t *test_read_file(const char *path, size_t *len);

/* Deterministic pseudo-random numbers for split-feed tests (xorshift64*). */
uint64_t test_rand(uint64_t *state);

/*
 * Whether json[0..len) is exactly one RFC 8259 value: strict grammar, strings in
 * valid UTF-8 without raw control characters, and no key twice in one object.
 * On failure, a one-line reason with the byte offset goes to err (when not NULL).
 */
bool test_json_valid(const char *json, size_t len, char *err, size_t errlen);

#endif
