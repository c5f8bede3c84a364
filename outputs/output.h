/*
 * output.h: destinations for finished events, chosen with -o.
 *
 *   json:-                      one JSON object per line on standard output (the default)
 *   json:PATH                   the same, appended to a file
 *   kafka:HOST:PORT[,HOST:PORT] Kafka topics, one per event type (kafka_output.h)
 *
 * output_open parses the spec and opens the destination (a constructor: the
 * caller frees with output_close). Writes never block the capture path: a file
 * line is written whole with write(2) (no stdio buffer) or not at all, Kafka
 * queues or spools. json:PATH is opened O_APPEND|O_NOFOLLOW|O_CLOEXEC, mode
 * 0640: a symbolic link at the path is refused.
 */
#ifndef TLSOBS_OUTPUT_H
#define TLSOBS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outputs/event_type.h"

struct output;
struct json_writer;
struct kafka_settings;
struct kafka_output;

struct output_event {
	enum event_type type; /* the writer's json_writer.doc.type: picks the Kafka topic */
	const char *key;  /* partitioning key (the partner domain, else the server address), may be NULL */
	const char *id;   /* event.id, for CloudEvents headers; may be NULL */
	uint64_t time_us; /* @timestamp, for CloudEvents headers */
	const char *json; /* one complete JSON object, no newline */
	size_t len;
};

/* NULL with a one-line message in err on a bad spec or a destination that cannot be opened.
 * `kafka` configures kafka: outputs (defaults when NULL). */
struct output *output_open(const char *spec, const struct kafka_settings *kafka, char *err, size_t errlen);
/* 0, or -1 when the event could not be written or queued anywhere (counted). */
int output_write(struct output *o, const struct output_event *ev);
/*
 * SIGHUP: json:PATH is opened again by its path, so after logrotate renamed the file new lines go to a new
 * one; the old descriptor is closed only once the new one is open. Other outputs: nothing to do. 0, or -1
 * with err (the old file is kept).
 */
int output_reopen(struct output *o, char *err, size_t errlen);
/* An errno that ends the run (EPIPE: the reader of standard output went away), or 0. */
int output_fatal(const struct output *o);
/* Lets an asynchronous output serve its callbacks; cheap, call often. */
void output_poll(struct output *o);
const char *output_spec(const struct output *o);
/* The Kafka output behind a kafka: spec (for its counters), or NULL. */
const struct kafka_output *output_kafka(const struct output *o);
/* The same, to produce through (the shared history's documents, kafka_output_produce_history). */
struct kafka_output *output_kafka_producer(struct output *o);
/* Events written (queued, for Kafka) and failed so far. */
void output_counts(const struct output *o, uint64_t *written, uint64_t *failed);
/* Counters: lines for the exit summary, and a JSON object for tlsobs.stats (written under key `name`). */
void output_print_stats(const struct output *o, FILE *out);
void output_stats_json(const struct output *o, struct json_writer *w);
/* Flushes (Kafka: up to shutdown_timeout_ms, spooling the rest) and closes; prints the final counters to
 * `summary` when not NULL. NULL is a no-op. Returns -1 if events were lost (not written, or dropped). */
int output_close(struct output *o, FILE *summary);

#endif
