/*
 * json_writer.c: RFC 8259 output with RFC 3629 UTF-8 validation. Every event
 * goes through here, so the common cases have fast paths: plain-ASCII runs
 * copied whole, numbers and codes formatted without printf, and each second of
 * a timestamp formatted once (struct json_time_cache).
 */
#include "outputs/json_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/civil_time.h"
#include "parsers/packet_decode.h"
#include "parsers/utf8.h"

void json_writer_init(struct json_writer *w, size_t max_string)
{
	memset(w, 0, sizeof *w);
	w->max_string = max_string;
	w->doc.type = EVENT_TYPE_COUNT;
}

void json_writer_reset(struct json_writer *w)
{
	w->len = 0;
	w->failed = false;
	w->depth = 0;
	w->after_key = false;
	memset(w->need_comma, 0, sizeof w->need_comma);
	memset(&w->doc, 0, sizeof w->doc);
	w->doc.type = EVENT_TYPE_COUNT; /* no kind until event_begin names one */
}

void json_writer_release(struct json_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

bool json_writer_failed(const struct json_writer *w)
{
	return w->failed;
}

/* Room for n more bytes and the NUL after them. */
static bool grow(struct json_writer *w, size_t n)
{
	if (w->failed)
		return false;
	size_t cap = w->cap ? w->cap : 1024;
	while (cap - w->len <= n)
		cap *= 2;
	char *grown = realloc(w->buf, cap);
	if (!grown) {
		w->failed = true;
		return false;
	}
	w->buf = grown;
	w->cap = cap;
	return true;
}

/* Inline, as put() and put_char(): every byte of every event goes through them. */
static inline bool reserve(struct json_writer *w, size_t n)
{
	if (!w->failed && w->cap - w->len > n)
		return true;
	return grow(w, n);
}

/* Most copies are keys and short values: up to 16 bytes in two overlapping moves, not a call to memcpy. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	} else {
		memcpy(d, s, n);
	}
}

static inline void put(struct json_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	copy_bytes(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static inline void put_char(struct json_writer *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/*
 * Bytes a JSON string carries as they are (RFC 8259 7): printable ASCII but
 * the quotation mark and the reverse solidus. DEL is escaped too, as before.
 */
static const uint8_t plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00..0x0F: control characters */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10..0x1F: control characters */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20..0x2F: '"' at 0x22 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30..0x3F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40..0x4F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50..0x5F: '\\' at 0x5C */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60..0x6F */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70..0x7F: DEL at 0x7F */
                                                    /* 0x80..0xFF: 0, UTF-8 is checked */
};

/* True when none of the 8 bytes in x needs more than a copy: no control character, '"', '\\', DEL or
 * byte over 0x7F. Each test is the "has a zero byte" trick (exact as to whether any byte matches). */
static inline bool plain_word(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);
	uint64_t bad =
	    ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d) | x;
	return (bad & high) == 0;
}

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";

/* Comma before a value or key, unless it directly follows its key. */
static inline void separate(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->need_comma[w->depth - 1])
		put_char(w, ',');
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = true;
}

static void open_container(struct json_writer *w, char c)
{
	separate(w);
	put_char(w, c);
	if (w->depth >= JSON_MAX_DEPTH) {
		w->failed = true; /* our own bug: no event nests this deep */
		return;
	}
	w->need_comma[w->depth++] = false;
}

static void close_container(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	put_char(w, c);
}

void json_object_begin(struct json_writer *w)
{
	open_container(w, '{');
}

void json_object_end(struct json_writer *w)
{
	close_container(w, '}');
}

void json_array_begin(struct json_writer *w)
{
	open_container(w, '[');
}

void json_array_end(struct json_writer *w)
{
	close_container(w, ']');
}

void json_key_n(struct json_writer *w, const char *key, size_t n)
{
	separate(w);
	if (!reserve(w, n + 3))
		return;
	char *out = w->buf + w->len;
	out[0] = '"';
	copy_bytes(out + 1, key, n);
	out[n + 1] = '"';
	out[n + 2] = ':';
	out[n + 3] = '\0';
	w->len += n + 3;
	w->after_key = true;
}

/*
 * The byte at p[i] is not plain ASCII: writes its escape, the whole UTF-8
 * character it starts, or U+FFFD. Returns the bytes consumed, 0 to stop.
 */
static size_t string_special(struct json_writer *w, const uint8_t *p, size_t i, size_t len, size_t limit)
{
	uint8_t c = p[i];
	if (c < 0x80) {
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			put(w, esc, 2);
		} else { /* control character or DEL */
			char esc[6] = {'\\', 'u', '0', '0', hex_lower[c >> 4], hex_lower[c & 0xF]};
			put(w, esc, sizeof esc);
		}
		return 1;
	}
	size_t n = utf8_decode(p + i, len - i, NULL);
	if (n == 0) {
		put(w, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
		return 1;
	}
	if (i + n > limit)
		return 0; /* do not cut a character in two */
	put(w, (const char *)p + i, n);
	return n;
}

/*
 * Plain ASCII is copied as it is judged, into room reserved for the whole
 * string; only the bytes that are not plain leave that loop. The UTF-8 check
 * sees the bytes past the cut (len, not limit), so that a character the cut
 * would split is left out whole.
 */
void json_string(struct json_writer *w, const char *s, size_t len)
{
	separate(w);
	const uint8_t *p = (const uint8_t *)s;
	size_t limit = len;
	if (w->max_string && limit > w->max_string) {
		limit = w->max_string;
		w->strings_truncated++;
		w->doc.strings_truncated++;
	}
	put_char(w, '"');
	size_t i = 0;
	while (i < limit && reserve(w, limit - i)) {
		char *out = w->buf + w->len, *start = out;
		for (uint64_t x; limit - i >= 8; i += 8, out += 8) {
			memcpy(&x, p + i, 8);
			if (!plain_word(x))
				break;
			memcpy(out, &x, 8);
		}
		while (i < limit && plain_byte[p[i]])
			*out++ = (char)p[i++];
		w->len += (size_t)(out - start);
		if (i == limit)
			break;
		size_t n = string_special(w, p, i, len, limit);
		if (n == 0)
			break;
		i += n;
	}
	put_char(w, '"');
}

void json_cstring(struct json_writer *w, const char *s)
{
	json_string(w, s, strlen(s));
}

size_t json_format_uint(char out[JSON_UINT_TEXT_MAX], uint64_t v)
{
	char digits[20];
	size_t n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = digits[n - 1 - i];
	out[n] = '\0';
	return n;
}

size_t json_format_hex16(char out[JSON_HEX16_TEXT_MAX], uint16_t v)
{
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < 4; i++)
		out[2 + i] = hex_upper[(v >> (12 - 4 * i)) & 0xF];
	out[6] = '\0';
	return 6;
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char num[JSON_UINT_TEXT_MAX];
	size_t n = json_format_uint(num, v);
	separate(w);
	put(w, num, n);
}

void json_fixed(struct json_writer *w, double v, int decimals)
{
	if (!isfinite(v) || fabs(v) > 1e15) {
		json_null(w);
		return;
	}
	char num[40];
	int n = snprintf(num, sizeof num, "%.*f", decimals < 0 ? 0 : decimals > 9 ? 9 : decimals, v);
	separate(w);
	put(w, num, (size_t)n);
}

void json_int(struct json_writer *w, int64_t v)
{
	char num[JSON_UINT_TEXT_MAX + 1];
	/* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	num[0] = '-';
	size_t n = json_format_uint(num + 1, mag);
	separate(w);
	if (v < 0)
		put(w, num, n + 1);
	else
		put(w, num + 1, n);
}

void json_bool(struct json_writer *w, bool v)
{
	separate(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json_writer *w)
{
	separate(w);
	put(w, "null", 4);
}

void json_ip(struct json_writer *w, const struct ip_addr *a)
{
	char text[64]; /* ip_addr_format writes IPv4 without printf (packet_decode.c) */
	json_cstring(w, ip_addr_format(a, text, sizeof text));
}

/*
 * An event's times fall in a few seconds (packet time, the wall clock for
 * event.created, a certificate's validity): each second's "YYYY-MM-DDTHH:MM:SS"
 * is formatted once and kept in a small cache, replaced round robin. Any second
 * may come back, later or earlier: a hit is decided by the second alone.
 */
static const char *second_text(struct json_writer *w, uint64_t sec, size_t *n)
{
	struct json_time_cache *c = &w->time_cache;
	for (unsigned i = 0; i < JSON_TIME_CACHE; i++)
		if (c->slot[i].len && c->slot[i].sec == sec) {
			c->hits++;
			*n = c->slot[i].len;
			return c->slot[i].text;
		}
	char text[CIVIL_TIME_TEXT_MAX];
	size_t len = sec <= INT64_MAX ? civil_time_rfc3339(text, sizeof text, (int64_t)sec) : 0;
	if (len < 2)
		return NULL; /* out of range: no text */
	struct json_time_slot *slot = &c->slot[c->next];
	c->next = (c->next + 1) % JSON_TIME_CACHE;
	slot->sec = sec;
	slot->len = len - 1; /* without the 'Z' */
	memcpy(slot->text, text, slot->len);
	c->misses++;
	*n = slot->len;
	return slot->text;
}

void json_time_us(struct json_writer *w, uint64_t us)
{
	size_t n = 0;
	const char *date = second_text(w, us / 1000000u, &n);
	if (!date) {
		json_null(w);
		return;
	}
	/* The same text civil_time_rfc3339_us writes: the second, then ".uuuuuuZ". */
	char text[CIVIL_TIME_TEXT_MAX + 8];
	memcpy(text, date, n);
	uint32_t frac = (uint32_t)(us % 1000000u);
	text[n] = '.';
	for (int i = 6; i >= 1; i--) {
		text[n + (size_t)i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	text[n + 7] = 'Z';
	json_string(w, text, n + 8);
}

size_t json_array_cap(struct json_writer *w, const char *name, size_t have, uint64_t dropped_before)
{
	size_t n = have < JSON_MAX_ARRAY ? have : JSON_MAX_ARRAY;
	uint64_t dropped = dropped_before + (have - n);
	if (dropped == 0)
		return n;
	for (unsigned i = 0; i < w->doc.cut_count; i++)
		if (strcmp(w->doc.cuts[i].name, name) == 0) {
			w->doc.cuts[i].dropped += dropped;
			return n;
		}
	if (w->doc.cut_count < JSON_MAX_CUTS)
		w->doc.cuts[w->doc.cut_count++] = (struct json_cut){name, dropped};
	else
		w->doc.cuts_unnamed += dropped;
	return n;
}
