/*
 * kafka_consumer.h: reads one Kafka topic whole, every partition, for the fleet's readers (the reports
 * from Kafka, the shared history). One of the two files that use librdkafka (with kafka_output.c).
 *
 * Every partition of the topic is assigned explicitly: no consumer group, no group split, no committed
 * offsets, so each reader sees everything and a second reader changes nothing for the first. Reading
 * starts at the beginning, or at the first message whose timestamp is >= start_ms (the broker's
 * offsets-for-times, KIP-79). The start is a lower bound, not a filter: producers' timestamps need not grow
 * with the offset, and a broker that cannot look up by time has its partitions read from the beginning
 * (counted), so a caller that wants a period checks each message's timestamp. The end is the high watermark
 * of each partition taken at start: once every partition has been read up to it (or reported its end),
 * kafka_consumer_at_end() is true. Polling on after that goes on delivering new messages (a live reader).
 *
 * Errors are one-line messages, never a crash or an exit: a broker that cannot be reached fails
 * kafka_consumer_new after timeout_ms; a topic that does not exist fails it at once.
 *
 * Not thread-safe: one thread owns a consumer. Ownership: kafka_consumer_new copies what it needs.
 */
#ifndef TLSOBS_KAFKA_CONSUMER_H
#define TLSOBS_KAFKA_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/kafka_output.h"

struct kafka_consumer_settings {
	const char *brokers; /* "host:port[,host:port...]" */
	const char *topic;
	/* kafka.properties.* as the Kafka output has them: only the connection's (security.*, sasl.*, ssl.*,
	 * socket.*, client.id, ...) are taken, producer tuning is left out. Borrowed during _new. */
	const struct kafka_property *properties;
	unsigned nproperties;
	int64_t start_ms;    /* <= 0: from the beginning; else the first message at or after this time */
	uint64_t timeout_ms; /* metadata, watermarks, offsets for times; 0: 10 s */
	/* Optional: asked every 100 ms while the set-up waits for the brokers' metadata; true gives up at
	 * once (a reader thread told to stop). Called on the thread of kafka_consumer_new. */
	bool (*cancel)(void *ctx);
	void *cancel_ctx;
};

/* Why kafka_consumer_open failed. */
enum kafka_consumer_failure {
	KAFKA_CONSUMER_UNREACHABLE = 1, /* no broker answered the metadata within timeout_ms (or cancelled) */
	KAFKA_CONSUMER_NO_TOPIC,        /* the brokers answered: no such topic */
	KAFKA_CONSUMER_FAILED,          /* anything else: a setting, the topic's state, an offset, memory */
};

/* One message, borrowed for the duration of the callback. key may be NULL (key_len 0). */
struct kafka_consumer_message {
	const void *key, *value;
	size_t key_len, len;
	int64_t timestamp_ms; /* -1 when the message has none */
	int32_t partition;
	int64_t offset;
	bool catching_up; /* before its partition's end offset taken at start (the backlog, not news) */
};
/* Return non-zero to stop the poll (the message counts as read). */
typedef int (*kafka_consumer_fn)(void *ctx, const struct kafka_consumer_message *m);

struct kafka_consumer_stats {
	uint64_t messages; /* delivered to the callback */
	uint64_t errors;   /* transient errors seen while polling (broker down, retried by librdkafka) */
	int64_t lag;       /* messages left up to the end offsets taken at start (0 at the end) */
	uint64_t
	    time_lookup_fallbacks; /* partitions read from the beginning: the broker cannot look up by time */
	uint32_t partitions;       /* of the topic */
};

struct kafka_consumer;

/* NULL with a one-line reason in err: bad setting, unreachable brokers (after timeout_ms), no such topic. */
struct kafka_consumer *kafka_consumer_new(const struct kafka_consumer_settings *s, char *err, size_t errlen);
/* The same, with why it failed in *failure (when not NULL). */
struct kafka_consumer *kafka_consumer_open(const struct kafka_consumer_settings *s,
                                           enum kafka_consumer_failure *failure, char *err, size_t errlen);
/*
 * Waits up to timeout_ms for messages and hands each to fn until fn returns non-zero, nothing more is
 * there right now, or 10000 messages and events were handled (then call again). Returns the number of
 * messages handed over, or -1 on an error that ends the reading (a fatal client error, the topic or a
 * partition gone), with the reason in kafka_consumer_error().
 */
long kafka_consumer_poll(struct kafka_consumer *c, int timeout_ms, kafka_consumer_fn fn, void *ctx);
/* Every partition read up to its end offset taken at start. */
bool kafka_consumer_at_end(const struct kafka_consumer *c);
/*
 * Polls until kafka_consumer_at_end() or fn stops it. 0; or -1 with the reason in kafka_consumer_error()
 * when an error ends the reading or nothing arrived for stall_ms while messages were still due.
 */
int kafka_consumer_read_to_end(struct kafka_consumer *c, uint64_t stall_ms, kafka_consumer_fn fn, void *ctx);
void kafka_consumer_get_stats(const struct kafka_consumer *c, struct kafka_consumer_stats *out);
const char *kafka_consumer_error(const struct kafka_consumer *c);
/* NULL is a no-op. */
void kafka_consumer_free(struct kafka_consumer *c);

#endif
