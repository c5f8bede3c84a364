/* json_writer.c: RFC 8259 output with RFC 3629 UTF-8 validation. */
#include "outputs/json_writer.h"

#include <inttypes.h>
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

static bool reserve(struct json_writer *w, size_t n)
{
	if (w->failed)
		return false;
	if (w->cap - w->len > n)
		return true;
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

static void put(struct json_writer *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Comma before a value or key, unless it directly follows its key. */
static void separate(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0 && w->need_comma[w->depth - 1])
		put(w, ",", 1);
	if (w->depth > 0)
		w->need_comma[w->depth - 1] = true;
}

static void open_container(struct json_writer *w, char c)
{
	separate(w);
	put(w, &c, 1);
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
	put(w, &c, 1);
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

void json_key(struct json_writer *w, const char *key)
{
	separate(w);
	put(w, "\"", 1);
	put(w, key, strlen(key));
	put(w, "\":", 2);
	w->after_key = true;
}

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
	put(w, "\"", 1);
	size_t i = 0;
	while (i < limit && !w->failed) {
		uint8_t c = p[i];
		size_t n = utf8_decode(p + i, len - i, NULL);
		if (n > 1 && i + n > limit)
			break; /* do not cut a character in two */
		if (n == 0) {
			put(w, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
			i++;
		} else if (n > 1) {
			put(w, s + i, n);
			i += n;
		} else if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			put(w, esc, 2);
			i++;
		} else if (c < 0x20 || c == 0x7F) {
			char esc[8];
			int m = snprintf(esc, sizeof esc, "\\u%04x", c);
			put(w, esc, (size_t)m);
			i++;
		} else {
			put(w, s + i, 1);
			i++;
		}
	}
	put(w, "\"", 1);
}

void json_cstring(struct json_writer *w, const char *s)
{
	json_string(w, s, strlen(s));
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRIu64, v);
	separate(w);
	put(w, num, (size_t)n);
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
	char num[24];
	int n = snprintf(num, sizeof num, "%" PRId64, v);
	separate(w);
	put(w, num, (size_t)n);
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
	char text[64];
	json_cstring(w, ip_addr_format(a, text, sizeof text));
}

void json_time_us(struct json_writer *w, uint64_t us)
{
	char text[CIVIL_TIME_TEXT_MAX];
	if (civil_time_rfc3339_us(text, sizeof text, us) == 0)
		json_null(w);
	else
		json_cstring(w, text);
}

void json_field_cstring(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_cstring(w, s);
}

void json_field_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}

void json_field_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
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
