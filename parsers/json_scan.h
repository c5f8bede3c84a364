/*
 * json_scan.h: one JSON text (RFC 8259) read once, front to back, handing every scalar to a callback
 * with the dotted path of object keys that leads to it ("tlsobs.smtp.starttls.result"). For reading
 * our own events back (the reports from Kafka): bytes from a topic are untrusted input, so the
 * scanner is bounded everywhere and never reads past the buffer.
 *
 * Arrays add nothing to the path: an element is handed over with the path of the array and its
 * index. Objects inside arrays are walked alike (their scalars carry the array's path + their keys).
 * Strings are unescaped (\uXXXX to UTF-8, a lone surrogate to U+FFFD) into a buffer of
 * JSON_SCAN_VALUE_MAX bytes; a longer string is cut there, at a character boundary, and says so
 * (truncated). A path longer than JSON_SCAN_PATH_MAX, or nesting deeper than JSON_SCAN_DEPTH_MAX,
 * ends the scan (JSON_SCAN_TOO_DEEP): our events stay well inside both.
 *
 * Grammar errors (a control character in a string, a bad escape, a number that is not one, a
 * missing comma, text after the value, bytes that are not UTF-8 inside a string) end the scan with
 * JSON_SCAN_MALFORMED; what was handed over before stays handed over.
 */
#ifndef TLSOBS_JSON_SCAN_H
#define TLSOBS_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { JSON_SCAN_PATH_MAX = 256, JSON_SCAN_VALUE_MAX = 4096, JSON_SCAN_DEPTH_MAX = 32 };

enum json_scan_type { JSON_SCAN_STRING, JSON_SCAN_NUMBER, JSON_SCAN_TRUE, JSON_SCAN_FALSE, JSON_SCAN_NULL };

enum json_scan_result {
	JSON_SCAN_OK,
	JSON_SCAN_MALFORMED,
	JSON_SCAN_TOO_DEEP, /* nesting or path past their caps */
	JSON_SCAN_STOPPED,  /* the callback asked to stop */
};
const char *json_scan_result_str(enum json_scan_result r); /* "ok", "malformed", "too_deep", "stopped" */

/* One scalar: borrowed for the duration of the callback. text is NUL-terminated (len excludes it). */
struct json_scan_value {
	const char *path;
	size_t path_len;
	enum json_scan_type type;
	const char *text; /* a string unescaped, a number as written, "true"/"false"/"null" */
	size_t len;
	bool truncated; /* a string cut at JSON_SCAN_VALUE_MAX - 1 bytes */
	bool in_array;  /* the innermost container is an array */
	size_t index;   /* then: the element's index */
};
/* Return non-zero to stop the scan (JSON_SCAN_STOPPED). */
typedef int (*json_scan_fn)(void *ctx, const struct json_scan_value *v);

enum json_scan_result json_scan(const uint8_t *data, size_t len, json_scan_fn fn, void *ctx);

#endif
