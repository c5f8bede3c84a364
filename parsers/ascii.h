/*
 * ascii.h: ASCII text helpers that more than one layer needs on length-bounded (not NUL-terminated)
 * text: the case-insensitive search the STARTTLS evidence and the HTML report's asset check both do.
 */
#ifndef TLSOBS_ASCII_H
#define TLSOBS_ASCII_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the len bytes at text hold needle (NUL-terminated), ASCII letters compared without case. An
 * empty needle is in any text. Reads no byte of text past len. */
bool ascii_contains_nocase(const char *text, size_t len, const char *needle);

#endif
