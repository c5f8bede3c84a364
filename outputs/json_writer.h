/*
 * json_writer.h: builds one JSON document in a growable buffer.
 *
 * Always valid JSON: strings from the wire are escaped, invalid UTF-8 becomes
 * U+FFFD, control characters \u00XX, and a string longer than max_string bytes
 * is cut at a character boundary (counted in strings_truncated). Commas are
 * placed by the writer. If memory runs out the writer fails (json_writer_failed)
 * and the document must be dropped.
 */
#ifndef TLSOBS_JSON_WRITER_H
#define TLSOBS_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { JSON_MAX_DEPTH = 32 };

struct ip_addr;

struct json_writer {
	char *buf;
	size_t len, cap;
	size_t max_string;
	bool failed;
	unsigned depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
	uint64_t strings_truncated;
};

void json_writer_init(struct json_writer *w, size_t max_string);
void json_writer_reset(struct json_writer *w); /* empties the buffer, keeps its memory */
void json_writer_release(struct json_writer *w);
bool json_writer_failed(const struct json_writer *w);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
/* Keys are our own ASCII names, written as given. */
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s, size_t len);
void json_cstring(struct json_writer *w, const char *s);
void json_uint(struct json_writer *w, uint64_t v);
void json_int(struct json_writer *w, int64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
void json_ip(struct json_writer *w, const struct ip_addr *a);
/* RFC 3339 UTC with microseconds: "2026-11-28T15:44:02.123456Z". */
void json_time_us(struct json_writer *w, uint64_t us);

/* Key and value in one call, for the common case. */
void json_field_cstring(struct json_writer *w, const char *key, const char *s);
void json_field_uint(struct json_writer *w, const char *key, uint64_t v);
void json_field_bool(struct json_writer *w, const char *key, bool v);

#endif
