/*
 * history_feed.c: the shared history between history_share.c and Kafka (history_feed.h). Owns the
 * history_share and the topic's consumer; borrows the Kafka output it publishes through.
 */
#include "sensor/history_feed.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "outputs/kafka_consumer.h"
#include "outputs/logger.h"

enum {
	STARTUP_POLL_MS = 100,       /* one wait of the start-up read */
	ADMIN_TIMEOUT_MS = 5000,     /* topic creation and description */
	METADATA_TIMEOUT_MS = 10000, /* the consumer's metadata */
	POLL_BATCH = 1000,           /* documents merged per housekeeping call, at most */
};

struct history_feed {
	struct history_share *share;
	struct kafka_consumer *consumer;
	struct kafka_output *kafka; /* borrowed */
	uint64_t now_us;            /* of the poll under way: the clock the skew is measured against */
	unsigned batch;             /* documents handed over by the poll under way */
	struct history_feed_stats stats;
};

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int publish(void *ctx, const char *key, size_t key_len, const char *doc, size_t len)
{
	struct history_feed *f = ctx;
	return kafka_output_produce_history(f->kafka, key, key_len, doc, len);
}

static int take(void *ctx, const struct kafka_consumer_message *m)
{
	struct history_feed *f = ctx;
	history_share_receive(f->share, m->value, m->value ? m->len : 0, f->now_us);
	return ++f->batch >= POLL_BATCH; /* leave the rest for the next housekeeping */
}

/* Until the topic's end or the timeout: the fleet's memory before the first packet. */
static void read_at_start(struct history_feed *f, const struct settings_history_share *hs, const char *topic,
                          uint64_t start)
{
	uint64_t limit = hs->startup_timeout_us;
	history_share_set_catching_up(f->share, true);
	while (!kafka_consumer_at_end(f->consumer) && clock_us(CLOCK_MONOTONIC) - start < limit) {
		f->now_us = clock_us(CLOCK_REALTIME);
		f->batch = 0;
		if (kafka_consumer_poll(f->consumer, STARTUP_POLL_MS, take, f) < 0) {
			logger_log(LOGGER_ERROR, "history", "%s: %s", topic,
			           kafka_consumer_error(f->consumer));
			break;
		}
	}
	history_share_set_catching_up(f->share, false);
	f->stats.startup_wait_ms = (clock_us(CLOCK_MONOTONIC) - start) / 1000u;
	f->stats.startup_complete = kafka_consumer_at_end(f->consumer);
	const struct history_share_stats *st = history_share_stats(f->share);
	f->stats.startup_read = st->received;
	struct kafka_consumer_stats cs;
	kafka_consumer_get_stats(f->consumer, &cs);
	if (f->stats.startup_complete)
		logger_log(LOGGER_NOTICE, "history",
		           "%s read to its end in %" PRIu64 " ms: %" PRIu64 " updates, %" PRIu64
		           " merged, %" PRIu64 " errors",
		           topic, f->stats.startup_wait_ms, st->received, st->merged, st->errors);
	else
		logger_log(LOGGER_WARNING, "history",
		           "%s not read to its end within %" PRIu64
		           " ms (detection.history.startup_timeout): %" PRIu64 " updates read, %" PRId64
		           " left, read on while capturing",
		           topic, f->stats.startup_wait_ms, st->received, cs.lag);
}

struct history_feed *history_feed_open(struct rules_engine *engine, struct kafka_output *k,
                                       const struct settings_history_share *hs, const char *sensor_name,
                                       const struct kafka_settings *kafka, char *err, size_t errlen)
{
	const char *warning = NULL;
	if (kafka_output_history_open(k, hs->topic_partitions, hs->retention_us / 1000u, ADMIN_TIMEOUT_MS,
	                              &warning, err, errlen) != 0)
		return NULL;
	const char *topic = kafka_output_topic_name(k, KAFKA_TOPIC_HISTORY);
	if (warning)
		logger_log(LOGGER_WARNING, "history", "%s: %s", topic, warning);
	struct history_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->kafka = k;
	f->share = history_share_new(engine, sensor_name, hs->max_clock_skew_us, publish, f);
	struct kafka_consumer_settings cs = {.brokers = kafka_output_brokers(k),
	                                     .topic = topic,
	                                     .properties = kafka->properties,
	                                     .nproperties = kafka->nproperties,
	                                     .timeout_ms = METADATA_TIMEOUT_MS};
	if (!f->share) {
		snprintf(err, errlen, "out of memory");
		history_feed_free(f);
		return NULL;
	}
	/* The wait counts the consumer's connection. Brokers out of reach are an outage, not a refusal: the
	 * updates this sensor publishes wait in the spool, but it merges nothing until it is restarted. */
	uint64_t start = clock_us(CLOCK_MONOTONIC);
	if (hs->startup_timeout_us / 1000u < cs.timeout_ms)
		cs.timeout_ms = hs->startup_timeout_us / 1000u ? hs->startup_timeout_us / 1000u : 1;
	char why[512] = "out of memory";
	f->consumer = kafka_consumer_new(&cs, why, sizeof why);
	if (f->consumer) {
		read_at_start(f, hs, topic, start);
		return f;
	}
	f->stats.startup_wait_ms = (clock_us(CLOCK_MONOTONIC) - start) / 1000u;
	logger_log(LOGGER_ERROR, "history",
	           "%s not read after %" PRIu64
	           " ms: %s: publishing only (through the spool), merging nothing from "
	           "the fleet until restarted",
	           topic, f->stats.startup_wait_ms, why);
	return f;
}

void history_feed_free(struct history_feed *f)
{
	if (!f)
		return;
	kafka_consumer_free(f->consumer);
	history_share_free(f->share);
	free(f);
}

void history_feed_session(struct history_feed *f, const struct session *s)
{
	history_share_session(f->share, s);
}

void history_feed_poll(struct history_feed *f, uint64_t packet_now_us)
{
	uint64_t wall = clock_us(CLOCK_REALTIME);
	f->now_us = packet_now_us > wall ? packet_now_us : wall;
	f->batch = 0;
	if (f->consumer && kafka_consumer_poll(f->consumer, 0, take, f) < 0)
		f->stats.consumer_errors++;
}

void history_feed_get_stats(const struct history_feed *f, struct history_feed_stats *out)
{
	*out = f->stats;
	out->share = *history_share_stats(f->share);
	if (!f->consumer)
		return;
	struct kafka_consumer_stats cs;
	kafka_consumer_get_stats(f->consumer, &cs);
	out->lag = cs.lag;
	out->consumer_errors += cs.errors;
}

const char *history_feed_topic(const struct history_feed *f)
{
	return kafka_output_topic_name(f->kafka, KAFKA_TOPIC_HISTORY);
}

void history_feed_fill_counters(const struct history_feed *f, struct stats_history_shared *out)
{
	struct history_feed_stats st;
	history_feed_get_stats(f, &st);
	*out = (struct stats_history_shared){.on = true,
	                                     .published = st.share.published,
	                                     .publish_errors = st.share.publish_errors,
	                                     .received = st.share.received,
	                                     .merged = st.share.merged,
	                                     .ignored_own = st.share.ignored_own,
	                                     .skew_exceeded = st.share.skew_exceeded,
	                                     .errors = st.share.errors,
	                                     .startup_wait_ms = st.startup_wait_ms,
	                                     .startup_read = st.startup_read,
	                                     .lag = st.lag > 0 ? (uint64_t)st.lag : 0,
	                                     .consumer_errors = st.consumer_errors,
	                                     .startup_complete = st.startup_complete};
}

void history_feed_print_summary(const struct history_feed *f, FILE *out)
{
	struct history_feed_stats st;
	history_feed_get_stats(f, &st);
	fprintf(out,
	        "tlsobs: shared history %s: %" PRIu64 " published (%" PRIu64 " refused), %" PRIu64
	        " received, %" PRIu64 " merged, %" PRIu64 " own ignored, %" PRIu64
	        " beyond the clock skew, %" PRIu64 " errors; start-up read %s in %" PRIu64 " ms (%" PRIu64
	        " updates)\n",
	        history_feed_topic(f), st.share.published, st.share.publish_errors, st.share.received,
	        st.share.merged, st.share.ignored_own, st.share.skew_exceeded, st.share.errors,
	        st.startup_complete ? "complete" : "incomplete", st.startup_wait_ms, st.startup_read);
}
