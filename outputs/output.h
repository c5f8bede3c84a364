/*
 * output.h: destinations for finished events, chosen with -o.
 *
 *   json:-      one JSON object per line on standard output (the default)
 *   json:PATH   the same, appended to a file
 *
 * output_open parses the spec and opens the destination (a constructor: the
 * caller frees with output_close). Writes never block the capture path for
 * long: files are buffered and flushed after each event.
 */
#ifndef TLSOBS_OUTPUT_H
#define TLSOBS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct output;

struct output_event {
	const char *dataset; /* "tlsobs.session", ... : picks the Kafka topic later */
	const char *key;     /* partitioning key (server address), may be NULL */
	const char *json;    /* one complete JSON object, no newline */
	size_t len;
};

struct output_stats {
	uint64_t written;
	uint64_t failed;
};

/* NULL with a one-line message in err on a bad spec or an unopenable file. */
struct output *output_open(const char *spec, char *err, size_t errlen);
/* 0, or -1 when the event could not be written (counted). */
int output_write(struct output *o, const struct output_event *ev);
const struct output_stats *output_stats(const struct output *o);
const char *output_spec(const struct output *o);
/* Flushes and closes; NULL is a no-op. Returns -1 if buffered events could not be written. */
int output_close(struct output *o);

#endif
