/*
 * history_feed.h: the shared history's transport (issue 20, detection.history.shared): history_share.h's
 * documents out through the Kafka output (its queue and spool: an outage spools, the capture never waits)
 * and in from the compacted topic <kafka.topic_prefix>history through a consumer of its own that reads every
 * partition (outputs/kafka_consumer.h: no consumer group).
 *
 * Everything that can block on the brokers runs on a thread of the feed's own, tlsobs-history: the topic's
 * create/check, the consumer's set-up (metadata, end offsets, every partition assigned) and its polls. While
 * the brokers are out of reach it retries the set-up, waiting 1 s, then twice as long each time up to 30 s
 * (consumer_retries counts the failed attempts); a broker that refuses the topic ends it (no retry:
 * publishing and merging stop, logged). It hands the documents to the main thread through a bounded queue
 * (history_handover.h), and pauses reading while that is full: Kafka keeps what is not read yet.
 *
 * history_feed_open starts the thread, then waits until it has read the topic to its end (at most
 * detection.history.startup_timeout; a log line says how long it took, or that it gave up, and the stats
 * keep both), merging as the documents come, so that a new or restarted sensor starts with the fleet's
 * memory. After the timeout the reading goes on in the background. Brokers out of reach at start are an
 * outage, not a refusal: the sensor publishes (its updates wait in the spool) and runs on its local
 * history; once they answer, the thread reads the topic from the beginning (a late join) and the
 * housekeeping merges it, with the start-up read's rule for this sensor's own records (those of the
 * backlog are its memory, later ones echoes). A broker refusing the topic at start is an error of
 * history_feed_open (the sensor goes on with its local history).
 *
 * Threads: the history is the main thread's (the one that runs the rules engine): history_feed_poll is
 * called from its housekeeping and never waits for Kafka; history_feed_free stops the reader (within ~200 ms
 * while it polls, waits or asks for metadata; a topic create/check under way, which only runs once the
 * brokers answer, is waited for: at most ~6 s, from brokers that do not answer admin requests).
 */
#ifndef TLSOBS_HISTORY_FEED_H
#define TLSOBS_HISTORY_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include <stdio.h>

#include "outputs/kafka_output.h"
#include "outputs/stats_event.h"
#include "rules/rules_engine.h"
#include "rules/session.h"
#include "sensor/config/settings.h"
#include "sensor/state/history_share.h"

struct history_feed_stats {
	struct history_share_stats share;
	uint64_t startup_wait_ms;  /* how long the start-up read took (or waited before giving up) */
	uint64_t startup_read;     /* documents read by it */
	bool startup_complete;     /* it reached the topic's end */
	int64_t lag;               /* documents not yet read up to the end offsets taken at start */
	uint64_t consumer_errors;  /* transient consumer errors (broker down: librdkafka retries) */
	bool consumer_connected;   /* the reader's consumer is set up */
	uint64_t consumer_retries; /* its set-up attempts that failed (brokers out of reach, topic missing) */
	uint64_t handover_waits;   /* times it paused reading: the hand-over queue was full */
};

struct history_feed;

/* Borrows engine, k, sensor_name (observer of what it publishes) and kafka (kafka.properties: the
 * consumer connects as the output does) for its life. NULL with a one-line reason in err. */
struct history_feed *history_feed_open(struct rules_engine *engine, struct kafka_output *k,
                                       const struct settings_history_share *hs, const char *sensor_name,
                                       const struct kafka_settings *kafka, char *err, size_t errlen);
void history_feed_free(struct history_feed *f);
/* After rules_engine_evaluate(s). */
void history_feed_session(struct history_feed *f, const struct session *s);
/* Merges what arrived since the last call; packet_now_us: the sensor's packet clock (0 before a packet). */
void history_feed_poll(struct history_feed *f, uint64_t packet_now_us);
void history_feed_get_stats(const struct history_feed *f, struct history_feed_stats *out);
/* For tlsobs.stats (history_shared) and the exit summary. */
void history_feed_fill_counters(const struct history_feed *f, struct stats_history_shared *out);
void history_feed_print_summary(const struct history_feed *f, FILE *out);
/* The topic's name. */
const char *history_feed_topic(const struct history_feed *f);

#endif
