/*
 * domain_pattern.h: host names and the one wildcard rule of RFC 8461 4.1.
 *
 * A name is valid when it is RFC 1123 2.1 LDH: labels of 1..63 letters, digits
 * and hyphens, neither starting nor ending with a hyphen, at most 253 bytes in
 * all. One trailing dot (an absolute name) is allowed and not counted. IDNs
 * must already be A-labels ("xn--..."); a U-label is not LDH, so it is invalid
 * and matches nothing.
 *
 * A pattern is a valid name, or "*." followed by one: the wildcard stands for
 * exactly one left-most label, so "*.example.com" matches "mx.example.com" but
 * neither "a.b.example.com" nor "example.com". Comparison is ASCII
 * case-insensitive and ignores one trailing dot on either side. An invalid
 * pattern or name never matches.
 *
 * Strings are NUL-terminated and borrowed; no more than 256 bytes of either is
 * read, so a long unterminated-looking name costs nothing. NULL is invalid.
 */
#ifndef TLSOBS_DOMAIN_PATTERN_H
#define TLSOBS_DOMAIN_PATTERN_H

#include <stdbool.h>

#define DOMAIN_NAME_MAX 253 /* bytes, trailing dot not counted (RFC 1035 2.3.4 less the length octets) */
#define DOMAIN_LABEL_MAX 63

bool domain_name_valid(const char *name);
bool domain_pattern_match(const char *pattern, const char *name);

#endif
