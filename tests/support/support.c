#include "test_support.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *test_source_path(const char *relative)
{
	static char path[4096];
	const char *top = getenv("TLSOBS_SOURCE_DIR");
	snprintf(path, sizeof path, "%s/%s", top ? top : ".", relative);
	return path;
}

uint8_t *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0) {
		fclose(f);
		return NULL;
	}
	long size = ftell(f);
	rewind(f);
	uint8_t *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
	if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*len = (size_t)size;
	return buf;
}

uint64_t test_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- a strict RFC 8259 checker for whole documents ---- */

enum { JSON_CHECK_DEPTH = 64, JSON_CHECK_KEYS = 256 };

struct json_check {
	const char *p, *end;
	const char *error;
	size_t at;
	const char *start;
};

static bool check_fail(struct json_check *c, const char *why)
{
	if (!c->error) {
		c->error = why;
		c->at = (size_t)(c->p - c->start);
	}
	return false;
}

static void check_space(struct json_check *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool check_literal(struct json_check *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return check_fail(c, "unknown literal");
	c->p += n;
	return true;
}

/* Length of the UTF-8 sequence at s (RFC 3629: shortest form, no surrogates, at most U+10FFFF), or 0. */
static size_t check_utf8(const unsigned char *s, size_t left)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || s[0] > 0xf4 || left < n)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

static bool check_string(struct json_check *c)
{
	if (c->p >= c->end || *c->p != '"')
		return check_fail(c, "expected a string");
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		unsigned char b = (unsigned char)*c->p;
		if (b < 0x20)
			return check_fail(c, "unescaped control character in a string");
		if (b == '\\') {
			c->p++;
			if (c->p >= c->end)
				return check_fail(c, "truncated escape");
			if (*c->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (c->p + i >= c->end || !isxdigit((unsigned char)c->p[i]))
						return check_fail(c, "bad \\u escape");
				c->p += 5;
			} else if (strchr("\"\\/bfnrt", *c->p) && *c->p) {
				c->p++;
			} else {
				return check_fail(c, "bad escape");
			}
			continue;
		}
		size_t n = check_utf8((const unsigned char *)c->p, (size_t)(c->end - c->p));
		if (n == 0)
			return check_fail(c, "invalid UTF-8 in a string");
		c->p += n;
	}
	if (c->p >= c->end)
		return check_fail(c, "unterminated string");
	c->p++;
	return true;
}

static bool check_digits(struct json_check *c)
{
	if (c->p >= c->end || !isdigit((unsigned char)*c->p))
		return check_fail(c, "expected a digit");
	while (c->p < c->end && isdigit((unsigned char)*c->p))
		c->p++;
	return true;
}

static bool check_number(struct json_check *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (c->p < c->end && *c->p == '0')
		c->p++;
	else if (!check_digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!check_digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!check_digits(c))
			return false;
	}
	return true;
}

static bool check_value(struct json_check *c, unsigned depth);

static bool check_object(struct json_check *c, unsigned depth)
{
	struct {
		const char *p;
		size_t len;
	} keys[JSON_CHECK_KEYS];
	unsigned nkeys = 0;
	c->p++; /* '{' */
	check_space(c);
	if (c->p < c->end && *c->p == '}') {
		c->p++;
		return true;
	}
	for (;;) {
		check_space(c);
		const char *key = c->p;
		if (!check_string(c))
			return false;
		size_t len = (size_t)(c->p - key);
		for (unsigned i = 0; i < nkeys; i++)
			if (keys[i].len == len && memcmp(keys[i].p, key, len) == 0) {
				c->p = key;
				return check_fail(c, "duplicate key in an object");
			}
		if (nkeys == JSON_CHECK_KEYS)
			return check_fail(c, "too many keys for the checker");
		keys[nkeys].p = key;
		keys[nkeys++].len = len;
		check_space(c);
		if (c->p >= c->end || *c->p != ':')
			return check_fail(c, "expected ':'");
		c->p++;
		if (!check_value(c, depth + 1))
			return false;
		check_space(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return true;
		}
		return check_fail(c, "expected ',' or '}'");
	}
}

static bool check_array(struct json_check *c, unsigned depth)
{
	c->p++; /* '[' */
	check_space(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return true;
	}
	for (;;) {
		if (!check_value(c, depth + 1))
			return false;
		check_space(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			return true;
		}
		return check_fail(c, "expected ',' or ']'");
	}
}

static bool check_value(struct json_check *c, unsigned depth)
{
	if (depth > JSON_CHECK_DEPTH)
		return check_fail(c, "nested too deep");
	check_space(c);
	if (c->p >= c->end)
		return check_fail(c, "expected a value");
	switch (*c->p) {
	case '{':
		return check_object(c, depth);
	case '[':
		return check_array(c, depth);
	case '"':
		return check_string(c);
	case 't':
		return check_literal(c, "true");
	case 'f':
		return check_literal(c, "false");
	case 'n':
		return check_literal(c, "null");
	default:
		if (*c->p == '-' || isdigit((unsigned char)*c->p))
			return check_number(c);
		return check_fail(c, "unexpected character");
	}
}

bool test_json_valid(const char *json, size_t len, char *err, size_t errlen)
{
	struct json_check c = {.p = json, .end = json + len, .start = json};
	bool ok = check_value(&c, 0);
	if (ok) {
		check_space(&c);
		if (c.p != c.end)
			ok = check_fail(&c, "text after the document");
	}
	if (!ok && err && errlen)
		snprintf(err, errlen, "%s at byte %zu", c.error, c.at);
	return ok;
}
