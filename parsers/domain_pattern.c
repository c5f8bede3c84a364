/*
 * domain_pattern.c: LDH host names (RFC 1123 2.1) and the left-most-label
 * wildcard of RFC 8461 4.1, shared by MTA-STS and the partner policy.
 *
 * Names are walked through a reader over at most DOMAIN_NAME_MAX + 2 bytes:
 * enough to see that a longer name is too long, without trusting its NUL.
 */
#include "parsers/domain_pattern.h"

#include "parsers/reader.h"

#include <stddef.h>
#include <string.h>

/* Longest string looked at: the name, a trailing dot, and one byte to see it is too long. */
#define NAME_SCAN (DOMAIN_NAME_MAX + 2)

static bool is_let_dig(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* A name as a slice without its one optional trailing dot; {NULL, 0} when NULL. */
struct name_slice {
	const char *p;
	size_t len;
};

static struct name_slice name_slice_of(const char *name)
{
	struct name_slice s = {name, 0};
	if (name == NULL)
		return s;
	s.len = strnlen(name, NAME_SCAN);
	if (s.len > 0 && name[s.len - 1] == '.')
		s.len--;
	return s;
}

/* RFC 1123 2.1 labels over the slice; the trailing dot is already gone. */
static bool slice_valid(struct name_slice s)
{
	if (s.p == NULL || s.len == 0 || s.len > DOMAIN_NAME_MAX)
		return false;
	struct reader r = reader_make(s.p, s.len);
	size_t label = 0;
	int prev = '.';
	while (reader_left(&r) > 0) {
		int c = reader_u8(&r);
		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if (is_let_dig(c) || (c == '-' && label > 0)) {
			if (++label > DOMAIN_LABEL_MAX)
				return false;
		} else {
			return false;
		}
		prev = c;
	}
	return label > 0 && prev != '-';
}

static bool slice_equal_nocase(struct name_slice a, struct name_slice b)
{
	if (a.len != b.len)
		return false;
	struct reader ra = reader_make(a.p, a.len), rb = reader_make(b.p, b.len);
	while (reader_left(&ra) > 0)
		if (ascii_lower(reader_u8(&ra)) != ascii_lower(reader_u8(&rb)))
			return false;
	return true;
}

bool domain_name_valid(const char *name)
{
	return slice_valid(name_slice_of(name));
}

bool domain_pattern_match(const char *pattern, const char *name)
{
	struct name_slice n = name_slice_of(name);
	if (pattern == NULL || !slice_valid(n))
		return false;
	if (pattern[0] != '*')
		return slice_valid(name_slice_of(pattern)) && slice_equal_nocase(name_slice_of(pattern), n);
	if (pattern[1] != '.')
		return false;
	struct name_slice base = name_slice_of(pattern + 2);
	if (!slice_valid(base))
		return false;
	/* RFC 8461 4.1: the wildcard is exactly the left-most label of the name. */
	const char *dot = memchr(n.p, '.', n.len);
	if (dot == NULL)
		return false;
	struct name_slice rest = {dot + 1, n.len - (size_t)(dot + 1 - n.p)};
	return slice_equal_nocase(base, rest);
}
