/*
 * json_scan.c: the JSON scanner of json_scan.h (RFC 8259). Recursive descent over a reader; the
 * recursion is bounded by JSON_SCAN_DEPTH_MAX. The grammar, from RFC 8259 2-7:
 *
 *   value  = object / array / string / number / "true" / "false" / "null"
 *   object = "{" [ string ":" value *( "," string ":" value ) ] "}"
 *   array  = "[" [ value *( "," value ) ] "]"
 *   number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
 *   string = '"' *( unescaped / "\" ( '"' / "\" / "/" / b / f / n / r / t / uXXXX ) ) '"'
 */
#include "parsers/json_scan.h"

#include <string.h>

#include "parsers/reader.h"
#include "parsers/utf8.h"

struct scanner {
	struct reader r;
	json_scan_fn fn;
	void *ctx;
	enum json_scan_result result; /* sticky: the first error wins */
	unsigned depth;
	char path[JSON_SCAN_PATH_MAX];
	size_t path_len;
	char value[JSON_SCAN_VALUE_MAX];
};

const char *json_scan_result_str(enum json_scan_result r)
{
	switch (r) {
	case JSON_SCAN_OK:
		return "ok";
	case JSON_SCAN_MALFORMED:
		return "malformed";
	case JSON_SCAN_TOO_DEEP:
		return "too_deep";
	case JSON_SCAN_STOPPED:
		return "stopped";
	}
	return "unknown";
}

static bool failed(const struct scanner *sc)
{
	return sc->result != JSON_SCAN_OK;
}

static void fail(struct scanner *sc, enum json_scan_result why)
{
	if (sc->result == JSON_SCAN_OK)
		sc->result = why;
}

static void skip_ws(struct scanner *sc)
{
	int c;
	while ((c = reader_peek(&sc->r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		reader_u8(&sc->r);
}

/* Consumes c (after whitespace) or fails. */
static bool expect(struct scanner *sc, int c)
{
	skip_ws(sc);
	if (reader_peek(&sc->r) != c) {
		fail(sc, JSON_SCAN_MALFORMED);
		return false;
	}
	reader_u8(&sc->r);
	return true;
}

/* Appends a code point as UTF-8 if it fits whole; else marks the text cut. */
static void put_cp(char *out, size_t cap, size_t *n, bool *cut, uint32_t cp)
{
	uint8_t b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		k = 4;
	}
	if (*cut || *n + k >= cap) {
		*cut = true;
		return;
	}
	memcpy(out + *n, b, k);
	*n += k;
}

/* Four hex digits of a \u escape; -1 when they are not. */
static int32_t hex4(struct scanner *sc)
{
	const uint8_t *h = reader_bytes(&sc->r, 4);
	if (!h)
		return -1;
	int32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int c = h[i], d = c >= '0' && c <= '9'   ? c - '0'
		                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
		                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                                         : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* After "\u": one escaped code point, a surrogate pair joined (RFC 8259 7); a lone surrogate is U+FFFD. */
static uint32_t unicode_escape(struct scanner *sc)
{
	int32_t hi = hex4(sc);
	if (hi < 0) {
		fail(sc, JSON_SCAN_MALFORMED);
		return 0;
	}
	if (hi < 0xD800 || hi > 0xDFFF)
		return (uint32_t)hi;
	if (hi > 0xDBFF)
		return 0xFFFD;
	const uint8_t *next = reader_left(&sc->r) >= 6 ? sc->r.p : NULL;
	if (!next || next[0] != '\\' || next[1] != 'u')
		return 0xFFFD;
	struct reader save = sc->r;
	reader_skip(&sc->r, 2);
	int32_t lo = hex4(sc);
	if (lo < 0xDC00 || lo > 0xDFFF) {
		sc->r = save; /* not a low surrogate: it is read as its own escape */
		return 0xFFFD;
	}
	return 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
}

static uint32_t simple_escape(struct scanner *sc, int c)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		return (uint32_t)c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'u':
		return unicode_escape(sc);
	}
	fail(sc, JSON_SCAN_MALFORMED);
	return 0;
}

/* A string (the opening quote is next) into out[cap], NUL-terminated; *cut when it did not fit. */
static size_t read_string(struct scanner *sc, char *out, size_t cap, bool *cut)
{
	size_t n = 0;
	*cut = false;
	if (!expect(sc, '"'))
		return 0;
	while (!failed(sc)) {
		int c = reader_peek(&sc->r);
		if (c < 0 || c < 0x20) { /* the end of input, or a control character (RFC 8259 7) */
			fail(sc, JSON_SCAN_MALFORMED);
			break;
		}
		if (c == '"') {
			reader_u8(&sc->r);
			break;
		}
		uint32_t cp;
		if (c == '\\') {
			reader_u8(&sc->r);
			int e = reader_peek(&sc->r);
			if (e < 0) {
				fail(sc, JSON_SCAN_MALFORMED);
				break;
			}
			reader_u8(&sc->r);
			cp = simple_escape(sc, e);
		} else {
			size_t k = utf8_decode(sc->r.p, reader_left(&sc->r), &cp);
			if (k == 0) {
				fail(sc, JSON_SCAN_MALFORMED);
				break;
			}
			reader_skip(&sc->r, k);
		}
		if (!failed(sc))
			put_cp(out, cap, &n, cut, cp);
	}
	out[n] = '\0';
	return n;
}

static size_t digits(struct scanner *sc)
{
	size_t n = 0;
	int c;
	while ((c = reader_peek(&sc->r)) >= '0' && c <= '9') {
		reader_u8(&sc->r);
		n++;
	}
	return n;
}

/* A number as written, checked against the grammar above. */
static void read_number(struct scanner *sc, const uint8_t **start, size_t *len)
{
	*start = sc->r.p;
	size_t before = reader_left(&sc->r);
	if (reader_peek(&sc->r) == '-')
		reader_u8(&sc->r);
	int first = reader_peek(&sc->r);
	size_t n = digits(sc);
	bool ok = n > 0 && !(first == '0' && n > 1);
	if (ok && reader_peek(&sc->r) == '.') {
		reader_u8(&sc->r);
		ok = digits(sc) > 0;
	}
	if (ok && (reader_peek(&sc->r) == 'e' || reader_peek(&sc->r) == 'E')) {
		reader_u8(&sc->r);
		if (reader_peek(&sc->r) == '+' || reader_peek(&sc->r) == '-')
			reader_u8(&sc->r);
		ok = digits(sc) > 0;
	}
	if (!ok)
		fail(sc, JSON_SCAN_MALFORMED);
	*len = before - reader_left(&sc->r);
}

static void emit(struct scanner *sc, enum json_scan_type type, const char *text, size_t len, bool cut,
                 bool in_array, size_t index)
{
	if (failed(sc))
		return;
	struct json_scan_value v = {.path = sc->path,
	                            .path_len = sc->path_len,
	                            .type = type,
	                            .text = text,
	                            .len = len,
	                            .truncated = cut,
	                            .in_array = in_array,
	                            .index = index};
	if (sc->fn(sc->ctx, &v))
		fail(sc, JSON_SCAN_STOPPED);
}

static void scan_value(struct scanner *sc, bool in_array, size_t index);

static bool literal(struct scanner *sc, const char *word)
{
	size_t n = strlen(word);
	const uint8_t *p = reader_bytes(&sc->r, n);
	if (!p || memcmp(p, word, n) != 0) {
		fail(sc, JSON_SCAN_MALFORMED);
		return false;
	}
	return true;
}

/* Pushes ".key" (or "key" at the top) on the path; false when it would not fit. */
static bool push_key(struct scanner *sc, const char *key, size_t n, size_t *saved)
{
	*saved = sc->path_len;
	size_t dot = sc->path_len ? 1 : 0;
	if (sc->path_len + dot + n >= sizeof sc->path) {
		fail(sc, JSON_SCAN_TOO_DEEP);
		return false;
	}
	if (dot)
		sc->path[sc->path_len++] = '.';
	memcpy(sc->path + sc->path_len, key, n);
	sc->path_len += n;
	sc->path[sc->path_len] = '\0';
	return true;
}

static void scan_object(struct scanner *sc)
{
	reader_u8(&sc->r); /* { */
	skip_ws(sc);
	if (reader_peek(&sc->r) == '}') {
		reader_u8(&sc->r);
		return;
	}
	char key[JSON_SCAN_PATH_MAX];
	while (!failed(sc)) {
		bool cut;
		size_t n = read_string(sc, key, sizeof key, &cut), saved;
		if (failed(sc) || !expect(sc, ':'))
			return;
		if (cut) {
			fail(sc, JSON_SCAN_TOO_DEEP);
			return;
		}
		if (!push_key(sc, key, n, &saved))
			return;
		scan_value(sc, false, 0);
		sc->path_len = saved;
		sc->path[saved] = '\0';
		skip_ws(sc);
		int c = reader_peek(&sc->r);
		reader_u8(&sc->r);
		if (c == '}')
			return;
		if (c != ',')
			fail(sc, JSON_SCAN_MALFORMED);
	}
}

static void scan_array(struct scanner *sc)
{
	reader_u8(&sc->r); /* [ */
	skip_ws(sc);
	if (reader_peek(&sc->r) == ']') {
		reader_u8(&sc->r);
		return;
	}
	for (size_t i = 0; !failed(sc); i++) {
		scan_value(sc, true, i);
		skip_ws(sc);
		int c = reader_peek(&sc->r);
		reader_u8(&sc->r);
		if (c == ']')
			return;
		if (c != ',')
			fail(sc, JSON_SCAN_MALFORMED);
	}
}

static void scan_value(struct scanner *sc, bool in_array, size_t index)
{
	skip_ws(sc);
	int c = reader_peek(&sc->r);
	if (c == '{' || c == '[') {
		if (sc->depth >= JSON_SCAN_DEPTH_MAX) {
			fail(sc, JSON_SCAN_TOO_DEEP);
			return;
		}
		sc->depth++;
		if (c == '{')
			scan_object(sc);
		else
			scan_array(sc);
		sc->depth--;
	} else if (c == '"') {
		bool cut;
		size_t n = read_string(sc, sc->value, sizeof sc->value, &cut);
		emit(sc, JSON_SCAN_STRING, sc->value, n, cut, in_array, index);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		const uint8_t *start;
		size_t n;
		read_number(sc, &start, &n);
		n = n < sizeof sc->value ? n : sizeof sc->value - 1;
		memcpy(sc->value, start, n);
		sc->value[n] = '\0';
		emit(sc, JSON_SCAN_NUMBER, sc->value, n, false, in_array, index);
	} else if (c == 't' && literal(sc, "true")) {
		emit(sc, JSON_SCAN_TRUE, "true", 4, false, in_array, index);
	} else if (c == 'f' && literal(sc, "false")) {
		emit(sc, JSON_SCAN_FALSE, "false", 5, false, in_array, index);
	} else if (c == 'n' && literal(sc, "null")) {
		emit(sc, JSON_SCAN_NULL, "null", 4, false, in_array, index);
	} else {
		fail(sc, JSON_SCAN_MALFORMED);
	}
}

enum json_scan_result json_scan(const uint8_t *data, size_t len, json_scan_fn fn, void *ctx)
{
	struct scanner *sc = &(struct scanner){0};
	sc->r = reader_make(data, len);
	sc->fn = fn;
	sc->ctx = ctx;
	scan_value(sc, false, 0);
	skip_ws(sc);
	if (!failed(sc) && reader_left(&sc->r) > 0) /* one value per text (RFC 8259 2) */
		fail(sc, JSON_SCAN_MALFORMED);
	return sc->result;
}
