/*
 * ascii.c: the ASCII text helpers of ascii.h. Owns nothing.
 */
#include "parsers/ascii.h"

#include <string.h>
#include <strings.h>

bool ascii_contains_nocase(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(text + i, needle, n) == 0)
			return true;
	return false;
}
