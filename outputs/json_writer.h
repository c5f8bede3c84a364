/*
 * json_writer.h: builds one JSON document in a growable buffer.
 *
 * Always valid JSON: strings from the wire are escaped, invalid UTF-8 becomes
 * U+FFFD, control characters \u00XX, and a string longer than max_string bytes
 * is cut at a character boundary (counted in strings_truncated). Arrays of
 * wire data hold at most JSON_MAX_ARRAY elements (json_array_cap). Commas are
 * placed by the writer. If memory runs out the writer fails (json_writer_failed)
 * and the document must be dropped.
 *
 * Besides the text, the writer keeps what the current document's readers need
 * without parsing it: what was cut (written as tlsobs.truncated by
 * event_common.h) and the document's event.id, @timestamp and kind (for
 * transport headers and topics). json_writer_reset clears them.
 */
#ifndef TLSOBS_JSON_WRITER_H
#define TLSOBS_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "outputs/event_type.h"

enum {
	JSON_MAX_DEPTH = 32,
	JSON_MAX_ARRAY = 100, /* elements of an array written from wire data */
	JSON_MAX_CUTS = 8,    /* distinct arrays cut in one document that are named; more are counted */
	JSON_DOC_ID_MAX = 48,
	JSON_UINT_TEXT_MAX = 21, /* UINT64_MAX's 20 digits and a NUL */
	JSON_HEX16_TEXT_MAX = 7, /* "0x1301" and a NUL */
	JSON_TIME_CACHE = 4,     /* seconds kept formatted (json_time_us) */
};

struct ip_addr;

struct json_writer {
	char *buf;
	size_t len, cap;
	size_t max_string;
	bool failed;
	unsigned depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
	uint64_t strings_truncated; /* over the writer's life */

	/* "YYYY-MM-DDTHH:MM:SS" of the last few seconds written (kept across documents). */
	struct json_time_cache {
		struct json_time_slot {
			uint64_t sec;
			size_t len; /* 0: empty */
			char text[32];
		} slot[JSON_TIME_CACHE];
		unsigned next; /* the slot replaced next */
		uint64_t hits, misses;
	} time_cache;

	/* The current document (cleared by json_writer_reset). */
	struct json_doc {
		uint64_t strings_truncated;
		struct json_cut {
			const char *name; /* static: the array's dotted field name */
			uint64_t dropped; /* elements left out */
		} cuts[JSON_MAX_CUTS];
		unsigned cut_count;
		uint64_t cuts_unnamed;    /* elements left out of arrays beyond JSON_MAX_CUTS names */
		char id[JSON_DOC_ID_MAX]; /* event.id, "" until set */
		uint64_t time_us;         /* @timestamp */
		enum event_type type;     /* what kind of event (event.dataset); EVENT_TYPE_COUNT: none */
	} doc;
};

void json_writer_init(struct json_writer *w, size_t max_string);
void json_writer_reset(struct json_writer *w); /* empties the buffer, keeps its memory */
void json_writer_release(struct json_writer *w);
bool json_writer_failed(const struct json_writer *w);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
/* Keys are our own ASCII names, written as given. Inline, so that a literal's length is known when
 * compiling. */
void json_key_n(struct json_writer *w, const char *key, size_t len);
static inline void json_key(struct json_writer *w, const char *key)
{
	json_key_n(w, key, strlen(key));
}

void json_string(struct json_writer *w, const char *s, size_t len);
void json_cstring(struct json_writer *w, const char *s);
void json_uint(struct json_writer *w, uint64_t v);
void json_int(struct json_writer *w, int64_t v);
/* A finite number with `decimals` digits after the point (0..9); NaN and infinities become null. */
void json_fixed(struct json_writer *w, double v, int decimals);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
void json_ip(struct json_writer *w, const struct ip_addr *a);
/* RFC 3339 UTC with microseconds: "2026-11-28T15:44:02.123456Z" (the second's text is cached). */
void json_time_us(struct json_writer *w, uint64_t us);

/* Text without printf, for values written as strings: decimal v; returns its length. */
size_t json_format_uint(char out[JSON_UINT_TEXT_MAX], uint64_t v);
/* "0x%04X": "0x1301", "0xC02F"; returns 6. */
size_t json_format_hex16(char out[JSON_HEX16_TEXT_MAX], uint16_t v);

/*
 * For an array of wire data with `have` elements to write, of which the source
 * already left out `dropped_before` (a parser's own cap): returns how many to
 * write (at most JSON_MAX_ARRAY) and records the elements left out in all under
 * `name`, a static string naming the field ("tls.client.supported_ciphers").
 */
size_t json_array_cap(struct json_writer *w, const char *name, size_t have, uint64_t dropped_before);

/* Key and value in one call, for the common case. */
static inline void json_field_cstring(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_cstring(w, s);
}
static inline void json_field_uint(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_uint(w, v);
}
static inline void json_field_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

#endif
