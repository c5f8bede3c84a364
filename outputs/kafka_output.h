/*
 * kafka_output.h: events to Kafka (with kafka_consumer.c, its reading side, the only files that use
 * librdkafka).
 *
 * -o kafka:HOST:PORT[,HOST:PORT...] plus the `kafka` config section. One topic
 * per event type: topic_prefix + "session" | "alert" | "certificate" | "stats" |
 * "policy" (prefix "tlsobs." by default). The message key is the output_event
 * key (the partner domain where one is known, else the server address), so one
 * partner's events stay in one partition, in order. The producer is idempotent, acks=all, lz4; every
 * librdkafka property can be passed through (kafka.properties.*), except that
 * enable.idempotence cannot be turned off.
 *
 * Never blocks the capture path: when librdkafka's queue is full, or a message
 * fails for good (message.timeout.ms), the event goes to the disk spool
 * (spool.h), which is replayed oldest first once the brokers take messages
 * again. When the spool is full its oldest events are dropped, and counted.
 * At every moment: produced = delivered + spooled + dropped + in_flight.
 *
 * Ownership: kafka_output_new copies what it needs from the settings.
 */
#ifndef TLSOBS_KAFKA_OUTPUT_H
#define TLSOBS_KAFKA_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "outputs/event_type.h"
#include "outputs/json_writer.h"
#include "outputs/output.h"
#include "outputs/private_dir.h"

enum { KAFKA_MAX_PROPERTIES = 64, KAFKA_TOPIC_TYPES = EVENT_TYPE_COUNT }; /* topics by enum event_type */
/* The shared history's topic (kafka_output_history_open), after the event types; not an event type. */
enum { KAFKA_TOPIC_HISTORY = KAFKA_TOPIC_TYPES };

struct kafka_property {
	char name[128];
	char value[512];
};

/* The defaults of kafka_settings, named once: the output takes them for an empty or zero field, and the
 * sensor's settings table gives them to kafka.*. */
#define KAFKA_DEFAULT_TOPIC_PREFIX "tlsobs."
#define KAFKA_DEFAULT_SPOOL_DIR "/var/lib/tlsobs/spool"
#define KAFKA_DEFAULT_SPOOL_MAX_BYTES (1ull << 30)
#define KAFKA_DEFAULT_SHUTDOWN_TIMEOUT_MS 10000

struct kafka_settings {
	char topic_prefix[128];       /* "": KAFKA_DEFAULT_TOPIC_PREFIX */
	char spool_dir[4096];         /* "": KAFKA_DEFAULT_SPOOL_DIR */
	uint64_t spool_max_bytes;     /* 0: KAFKA_DEFAULT_SPOOL_MAX_BYTES */
	uint64_t shutdown_timeout_ms; /* 0: KAFKA_DEFAULT_SHUTDOWN_TIMEOUT_MS */
	bool cloudevents;             /* CloudEvents binary-mode headers ce_id, ce_type, ce_source, ce_time */
	struct kafka_property properties[KAFKA_MAX_PROPERTIES];
	unsigned nproperties;
	struct private_dir_owner spool_owner; /* not configuration: the -u/-g user, who writes the spool */
};

/* Per event type ("session", "alert", "certificate", "stats"). */
struct kafka_topic_stats {
	uint64_t produced;  /* events handed to the output */
	uint64_t delivered; /* acknowledged by the brokers (acks=all) */
	uint64_t failed;    /* delivery reports with an error (then spooled) */
	uint64_t spooled;   /* currently in the spool */
	uint64_t replayed;  /* taken from the spool and produced again */
	uint64_t dropped;   /* lost: the spool was full, or could not be written */
	uint64_t in_flight; /* in librdkafka's queue, not yet reported */
};

struct kafka_output;

/* brokers: "host:port[,host:port...]". NULL with a one-line message on a bad setting or an unusable spool
 * dir. An unreachable broker is not an error: events wait in the queue or the spool. */
struct kafka_output *kafka_output_new(const char *brokers, const struct kafka_settings *s, char *err,
                                      size_t errlen);
/* Never blocks. 0 when queued or spooled, -1 when the event was dropped (counted). */
int kafka_output_produce(struct kafka_output *k, const struct output_event *ev);
/* Serves delivery reports and replays the spool when the brokers are back. Cheap; call often. */
void kafka_output_poll(struct kafka_output *k);
/* Flushes for up to shutdown_timeout_ms and spools what is still in flight (the output stays readable for its
 * counters). Returns the events dropped over the output's life (0: nothing lost). */
uint64_t kafka_output_flush(struct kafka_output *k);
/* NULL is a no-op. */
void kafka_output_free(struct kafka_output *k);
/* Asks librdkafka whether it takes `name` = `value` (a throwaway configuration): 0, or -1 with its reason in
 * err (an unknown or misspelled property, a value out of range). Used by the settings check (-T and start).
 */
int kafka_output_check_property(const char *name, const char *value, char *err, size_t errlen);
const struct kafka_topic_stats *kafka_output_topic_stats(const struct kafka_output *k, unsigned type);
const char *kafka_output_topic_name(const struct kafka_output *k, unsigned type);
/*
 * The shared history (issue 20, detection.history.shared), the compacted topic topic_prefix + "history".
 * kafka_output_history_open: its handle only, no request to the brokers: from then on updates are produced,
 * or spooled, as events are. 0, or -1 with a one-line reason.
 * kafka_output_history_check: creates the topic when missing (cleanup.policy=compact and `partitions`; with
 * a retention_ms, compact,delete and that retention.ms) and checks it when present (its cleanup.policy must
 * include compact), within timeout_ms (blocks: not for the packet path). -1 with a one-line reason when the
 * broker refused, the check failed or the topic is not compacted (then the caller stops publishing). Brokers
 * that do not answer CreateTopics (no such API, no controller as in librdkafka's mock cluster, or none
 * reachable) are no refusal: 0 with the reason in *warning (static text; NULL when none).
 * Threads: _check may run on another thread than the output's owner, at the same time as the output's
 * calls: it uses only the librdkafka handle (whose admin calls are thread-safe) and the topic's name, both
 * fixed from kafka_output_new to kafka_output_free.
 */
int kafka_output_history_open(struct kafka_output *k, char *err, size_t errlen);
int kafka_output_history_check(struct kafka_output *k, unsigned partitions, uint64_t retention_ms,
                               uint64_t timeout_ms, const char **warning, char *err, size_t errlen);
/* One history document under key, through the same queue and spool as the events. Never blocks. 0 when
 * queued or spooled, -1 when dropped (counted) or the topic is not open. */
int kafka_output_produce_history(struct kafka_output *k, const char *key, size_t key_len, const char *doc,
                                 size_t len);
/* What a consumer of the same cluster needs: the bootstrap servers. */
const char *kafka_output_brokers(const struct kafka_output *k);
/* Bytes currently in the disk spool. */
uint64_t kafka_output_spool_bytes(const struct kafka_output *k);
/* The counters as a JSON object (for tlsobs.stats) and as summary lines (for the exit summary). */
void kafka_output_stats_json(const struct kafka_output *k, struct json_writer *w);
void kafka_output_print_stats(const struct kafka_output *k, FILE *out);

#endif
