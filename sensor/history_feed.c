/*
 * history_feed.c: the shared history between history_share.c and Kafka (history_feed.h). Owns the
 * history_share (main thread), the reader thread tlsobs-history with its consumer, and the hand-over queue
 * between them; borrows the Kafka output it publishes through.
 *
 * The reader thread does everything that can block on the brokers: the consumer's set-up (metadata, end
 * offsets, assignment), the topic's create/check once the brokers answer (kafka_output_history_check, on
 * the output's handle, whose admin calls are thread-safe) and the polls, retried with a bounded back-off
 * while the brokers are out of reach. Its waits see a stop within ~100-200 ms, but for the create/check
 * (at most ADMIN_TIMEOUT_MS, when brokers answer metadata but not CreateTopics). It hands each document to
 * the main thread through history_handover (waiting while that is full: Kafka keeps what is not read yet) and
 * says how it stands through `status`, under `lock`. Nothing else is shared: the history, its stats and the
 * start-up figures are the main thread's.
 */
#include "sensor/history_feed.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outputs/kafka_consumer.h"
#include "outputs/logger.h"
#include "sensor/history_handover.h"
#include "sensor/timed_wait.h"

enum {
	READ_POLL_MS = 200,         /* one poll of the reader: how soon it sees a stop */
	STARTUP_WAIT_MS = 100,      /* one wait of the start-up read */
	ADMIN_TIMEOUT_MS = 5000,    /* topic creation and description */
	METADATA_TIMEOUT_MS = 5000, /* the consumer's metadata, per attempt */
	RETRY_FIRST_MS = 1000,      /* the back-off between set-up attempts: doubling from this... */
	RETRY_MAX_MS = 30000,       /* ...up to this */
	POLL_BATCH = 1000,          /* documents merged per housekeeping call, at most */
	HANDOVER_DOCS = 4096,       /* the hand-over queue's bounds */
	HANDOVER_BYTES = 8u << 20,
};

/* The reader's news, under history_feed.lock. */
struct reader_status {
	bool connected;   /* its consumer is set up */
	bool at_end;      /* ...and has read the topic up to the end offsets taken when it was */
	bool refused;     /* the broker refused the topic: the reader has ended */
	bool stop;        /* the main thread's: end now */
	uint64_t retries; /* set-up attempts that failed */
	int64_t lag;
	uint64_t consumer_errors;
	char why[512]; /* the last set-up failure, or the refusal */
};

struct history_feed {
	struct history_share *share;
	struct kafka_output *kafka; /* borrowed */
	struct history_handover *handover;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* the reader's back-off ends early on a stop */
	struct reader_status status;
	/* The reader's own (copied at open: a reload may change the settings). */
	char *brokers, *topic;
	struct kafka_property *properties;
	unsigned nproperties, partitions;
	uint64_t retention_ms;
	bool checked, warned; /* the topic created or checked once; its warning said */
	/* The main thread's. */
	uint64_t now_us; /* of the poll under way: the clock the skew is measured against */
	bool was_connected, was_at_end, stopped_publishing;
	struct history_feed_stats stats;
};

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct reader_status read_status(struct history_feed *f)
{
	pthread_mutex_lock(&f->lock);
	struct reader_status st = f->status;
	pthread_mutex_unlock(&f->lock);
	return st;
}

static bool stopping(struct history_feed *f)
{
	pthread_mutex_lock(&f->lock);
	bool stop = f->status.stop;
	pthread_mutex_unlock(&f->lock);
	return stop;
}

static int publish(void *ctx, const char *key, size_t key_len, const char *doc, size_t len)
{
	struct history_feed *f = ctx;
	if (f->stopped_publishing)
		return -1;
	return kafka_output_produce_history(f->kafka, key, key_len, doc, len);
}

/* --- The reader thread --- */

/* Each message into the hand-over queue; waits there while it is full, and stops the poll on a close. */
static int hand_over(void *ctx, const struct kafka_consumer_message *m)
{
	struct history_feed *f = ctx;
	return history_handover_push(f->handover, m->value, m->value ? m->len : 0, m->catching_up) != 0;
}

/* The back-off's wait: false when a stop came during it. */
static bool back_off(struct history_feed *f, unsigned ms)
{
	struct timespec until = timed_wait_deadline(ms);
	pthread_mutex_lock(&f->lock);
	int rc = 0;
	while (!f->status.stop && rc == 0)
		rc = pthread_cond_timedwait(&f->wake, &f->lock, &until);
	bool go_on = !f->status.stop;
	pthread_mutex_unlock(&f->lock);
	return go_on;
}

static bool cancelled(void *ctx)
{
	return stopping(ctx);
}

static struct kafka_consumer *open_consumer(struct history_feed *f, enum kafka_consumer_failure *failure,
                                            char *why, size_t whylen)
{
	struct kafka_consumer_settings cs = {.brokers = f->brokers,
	                                     .topic = f->topic,
	                                     .properties = f->properties,
	                                     .nproperties = f->nproperties,
	                                     .timeout_ms = METADATA_TIMEOUT_MS,
	                                     .cancel = cancelled,
	                                     .cancel_ctx = f};
	return kafka_consumer_open(&cs, failure, why, whylen);
}

/*
 * One set-up attempt. The consumer first: its metadata is the question whether any broker answers, asked in
 * slices that see a stop, so that nothing longer waits while they are out of reach. Once they answer, the
 * topic is created (the consumer found none: then the consumer again) or checked, until that has been done
 * once. The consumer, or NULL: *refused when the broker refused the topic (no retry), else the brokers did
 * not answer or the topic is not there yet (retried). The reason in why.
 */
static struct kafka_consumer *set_up(struct history_feed *f, bool *refused, char *why, size_t whylen)
{
	*refused = false;
	enum kafka_consumer_failure failure = KAFKA_CONSUMER_FAILED;
	struct kafka_consumer *c = open_consumer(f, &failure, why, whylen);
	if (f->checked || (!c && failure != KAFKA_CONSUMER_NO_TOPIC))
		return c;
	const char *warning = NULL;
	char refusal[512] = "";
	if (kafka_output_history_check(f->kafka, f->partitions, f->retention_ms, ADMIN_TIMEOUT_MS, &warning,
	                               refusal, sizeof refusal) != 0) {
		snprintf(why, whylen, "%s", refusal);
		*refused = true;
		kafka_consumer_free(c);
		return NULL;
	}
	if (warning && !f->warned) /* answered metadata, not CreateTopics: said once */
		logger_log(LOGGER_WARNING, "history", "%s: %s", f->topic, warning);
	f->warned |= warning != NULL;
	if (!c)
		c = open_consumer(f, &failure, why, whylen);
	f->checked = c != NULL;
	return c;
}

/* Until set up, stopped or refused: the consumer or NULL. Each failure counted, the back-off bounded. */
static struct kafka_consumer *connect_with_retries(struct history_feed *f)
{
	bool refused = false;
	unsigned wait_ms = RETRY_FIRST_MS;
	for (;;) {
		char why[512] = "out of memory";
		struct kafka_consumer *c = set_up(f, &refused, why, sizeof why);
		if (!c && stopping(f)) /* cancelled: no failure to count or say */
			return NULL;
		pthread_mutex_lock(&f->lock);
		snprintf(f->status.why, sizeof f->status.why, "%s", c ? "" : why);
		f->status.connected = c != NULL;
		f->status.refused = refused;
		f->status.retries += !c && !refused;
		uint64_t retries = f->status.retries;
		pthread_mutex_unlock(&f->lock);
		history_handover_kick(f->handover);
		if (c || refused)
			return c;
		if (retries == 1) /* once: an outage is not news every 30 s (consumer_retries counts them) */
			logger_log(
			    LOGGER_WARNING, "history",
			    "%s: the reader could not set up its consumer: %s: retried after %u ms, then "
			    "twice as long each time up to %u ms",
			    f->topic, why, wait_ms, (unsigned)RETRY_MAX_MS);
		else
			logger_log(LOGGER_DEBUG, "history",
			           "%s: attempt %" PRIu64 " failed: %s; again in %u ms", f->topic, retries,
			           why, wait_ms);
		if (!back_off(f, wait_ms))
			return NULL;
		wait_ms = wait_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : wait_ms * 2;
	}
}

static void publish_position(struct history_feed *f, struct kafka_consumer *c, bool *at_end)
{
	struct kafka_consumer_stats cs;
	kafka_consumer_get_stats(c, &cs);
	bool end = kafka_consumer_at_end(c);
	pthread_mutex_lock(&f->lock);
	f->status.lag = cs.lag;
	f->status.consumer_errors = cs.errors;
	f->status.at_end = end;
	pthread_mutex_unlock(&f->lock);
	if (end != *at_end)
		history_handover_kick(f->handover);
	*at_end = end;
}

/* Reads until stopped; a reading that an error ends is set up again from the beginning (merges are
 * idempotent: what is read twice changes nothing). */
static void *reader_main(void *arg)
{
	struct history_feed *f = arg;
	pthread_setname_np(pthread_self(), "tlsobs-history");
	while (!stopping(f)) {
		struct kafka_consumer *c = connect_with_retries(f);
		if (!c)
			break;
		bool at_end = false;
		publish_position(f, c, &at_end);
		long n = 0;
		while (n >= 0 && !stopping(f)) {
			n = kafka_consumer_poll(c, READ_POLL_MS, hand_over, f);
			publish_position(f, c, &at_end);
		}
		if (n < 0 && !stopping(f))
			logger_log(LOGGER_ERROR, "history", "%s: %s: setting the reader up again in %u ms",
			           f->topic, kafka_consumer_error(c), (unsigned)RETRY_MAX_MS);
		kafka_consumer_free(c);
		pthread_mutex_lock(&f->lock);
		f->status.connected = f->status.at_end = false;
		pthread_mutex_unlock(&f->lock);
		/* An error that ends a reading (the topic deleted, a fatal client error) is no outage that a
		 * second's wait cures: not again at once, which would repeat it (and its log line) in a loop.
		 */
		if (n < 0 && !back_off(f, RETRY_MAX_MS))
			break;
	}
	return NULL;
}

/* --- The main thread --- */

static void merge_one(void *ctx, const uint8_t *doc, size_t len, bool catching_up)
{
	struct history_feed *f = ctx;
	/* The backlog of the topic holds this sensor's records from before this start: its memory; what
	 * comes after is an echo of what it just published (history_share.h). */
	history_share_set_catching_up(f->share, catching_up);
	history_share_receive(f->share, doc, len, f->now_us);
	history_share_set_catching_up(f->share, false);
}

/* What the reader's news mean for the main thread: said once each, in the log. */
static void note_news(struct history_feed *f, const struct reader_status *st)
{
	if (st->refused && !f->stopped_publishing) {
		f->stopped_publishing = true;
		logger_log(LOGGER_ERROR, "history",
		           "detection.history.shared: %s: publishing and merging stop: going on with the "
		           "local history",
		           st->why);
	}
	if (st->connected && !f->was_connected)
		logger_log(LOGGER_NOTICE, "history",
		           "%s: the brokers answer after %" PRIu64
		           " failed attempts: reading the fleet's history from the beginning",
		           f->topic, st->retries);
	if (st->at_end && !f->was_at_end && !f->stats.startup_complete)
		logger_log(LOGGER_NOTICE, "history",
		           "%s read to its end, after the start: %" PRIu64 " updates read in all, %" PRIu64
		           " merged",
		           f->topic, history_share_stats(f->share)->received,
		           history_share_stats(f->share)->merged);
	f->was_connected = st->connected;
	f->was_at_end = st->at_end;
}

/* Merges what is queued, at most max documents. The reader's status as it was before the take. */
static struct reader_status merge_queued(struct history_feed *f, size_t max)
{
	struct reader_status st = read_status(f); /* first: at_end then covers all that is queued */
	history_handover_take(f->handover, max, merge_one, f);
	return st;
}

/* Until the topic's end or the timeout: the fleet's memory before the first packet. The reader's outcome. */
static struct reader_status read_at_start(struct history_feed *f, uint64_t limit_us)
{
	uint64_t start = clock_us(CLOCK_MONOTONIC);
	struct reader_status st;
	for (;;) {
		f->now_us = clock_us(CLOCK_REALTIME);
		st = merge_queued(f, SIZE_MAX);
		if (st.refused || st.at_end || clock_us(CLOCK_MONOTONIC) - start >= limit_us)
			break;
		history_handover_wait(f->handover, STARTUP_WAIT_MS);
	}
	f->stats.startup_wait_ms = (clock_us(CLOCK_MONOTONIC) - start) / 1000u;
	f->stats.startup_complete = st.at_end && !st.refused;
	f->stats.startup_read = history_share_stats(f->share)->received;
	return st;
}

static void log_start(const struct history_feed *f, const struct reader_status *st)
{
	const struct history_share_stats *hs = history_share_stats(f->share);
	if (f->stats.startup_complete)
		logger_log(LOGGER_NOTICE, "history",
		           "%s read to its end in %" PRIu64 " ms: %" PRIu64 " updates, %" PRIu64
		           " merged, %" PRIu64 " errors",
		           f->topic, f->stats.startup_wait_ms, hs->received, hs->merged, hs->errors);
	else if (st->connected)
		logger_log(LOGGER_WARNING, "history",
		           "%s not read to its end within %" PRIu64
		           " ms (detection.history.startup_timeout): %" PRIu64 " updates read, %" PRId64
		           " left, read on while capturing",
		           f->topic, f->stats.startup_wait_ms, hs->received, st->lag);
	else
		logger_log(LOGGER_ERROR, "history",
		           "%s not read after %" PRIu64
		           " ms: %s: publishing (through the spool) and going on with the local history; "
		           "the fleet's is merged once the brokers answer (retried in the background)",
		           f->topic, f->stats.startup_wait_ms, st->why[0] ? st->why : "no answer yet");
}

/* The reader's copies of what it needs (kafka.properties may change at a reload). */
static int copy_settings(struct history_feed *f, const struct settings_history_share *hs,
                         const struct kafka_settings *kafka)
{
	f->brokers = strdup(kafka_output_brokers(f->kafka));
	f->topic = strdup(kafka_output_topic_name(f->kafka, KAFKA_TOPIC_HISTORY));
	f->nproperties = kafka->nproperties;
	f->properties = f->nproperties ? calloc(f->nproperties, sizeof *f->properties) : NULL;
	if (!f->brokers || !f->topic || (f->nproperties && !f->properties))
		return -1;
	if (f->nproperties)
		memcpy(f->properties, kafka->properties, f->nproperties * sizeof *f->properties);
	f->partitions = hs->topic_partitions;
	f->retention_ms = hs->retention_us / 1000u;
	return 0;
}

/* The reader, with every signal blocked: they are the main thread's. */
static int start_reader(struct history_feed *f)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&f->thread, NULL, reader_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	f->started = rc == 0;
	return rc == 0 ? 0 : -1;
}

struct history_feed *history_feed_open(struct rules_engine *engine, struct kafka_output *k,
                                       const struct settings_history_share *hs, const char *sensor_name,
                                       const struct kafka_settings *kafka, char *err, size_t errlen)
{
	if (kafka_output_history_open(k, err, errlen) != 0)
		return NULL;
	struct history_feed *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->kafka = k;
	pthread_mutex_init(&f->lock, NULL);
	timed_wait_cond_init(&f->wake);
	f->share = history_share_new(engine, sensor_name, hs->max_clock_skew_us, publish, f);
	f->handover = history_handover_new(HANDOVER_DOCS, HANDOVER_BYTES);
	snprintf(err, errlen, "out of memory");
	if (!f->share || !f->handover || copy_settings(f, hs, kafka) != 0 ||
	    (start_reader(f) != 0 && snprintf(err, errlen, "cannot start the reader thread") > 0)) {
		history_feed_free(f);
		return NULL;
	}
	struct reader_status st = read_at_start(f, hs->startup_timeout_us);
	if (st.refused) { /* at start, as before the reader had a thread: no feed at all */
		snprintf(err, errlen, "%s", st.why);
		history_feed_free(f);
		return NULL;
	}
	log_start(f, &st);
	f->was_connected = st.connected;
	f->was_at_end = st.at_end;
	return f;
}

void history_feed_free(struct history_feed *f)
{
	if (!f)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->lock);
		f->status.stop = true;
		pthread_cond_broadcast(&f->wake);
		pthread_mutex_unlock(&f->lock);
		history_handover_close(f->handover); /* a reader waiting for room gives up */
		pthread_join(f->thread, NULL);
	}
	history_handover_free(f->handover);
	history_share_free(f->share);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f->properties);
	free(f->brokers);
	free(f->topic);
	free(f);
}

void history_feed_session(struct history_feed *f, const struct session *s)
{
	if (!f->stopped_publishing)
		history_share_session(f->share, s);
}

void history_feed_poll(struct history_feed *f, uint64_t packet_now_us)
{
	uint64_t wall = clock_us(CLOCK_REALTIME);
	f->now_us = packet_now_us > wall ? packet_now_us : wall;
	struct reader_status st = merge_queued(f, f->stopped_publishing ? 0 : POLL_BATCH);
	note_news(f, &st);
}

void history_feed_get_stats(const struct history_feed *f, struct history_feed_stats *out)
{
	struct history_feed *mf = (struct history_feed *)f; /* for its lock and the queue's: no change */
	struct reader_status st = read_status(mf);
	*out = f->stats;
	out->share = *history_share_stats(f->share);
	out->lag = st.lag;
	out->consumer_errors = st.consumer_errors;
	out->consumer_connected = st.connected;
	out->consumer_retries = st.retries;
	struct history_handover_stats hs;
	history_handover_get_stats(mf->handover, &hs);
	out->handover_waits = hs.full_waits;
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
	                                     .consumer_retries = st.consumer_retries,
	                                     .handover_waits = st.handover_waits,
	                                     .startup_complete = st.startup_complete,
	                                     .consumer_connected = st.consumer_connected};
}

void history_feed_print_summary(const struct history_feed *f, FILE *out)
{
	struct history_feed_stats st;
	history_feed_get_stats(f, &st);
	fprintf(out,
	        "tlsobs: shared history %s: %" PRIu64 " published (%" PRIu64 " refused), %" PRIu64
	        " received, %" PRIu64 " merged, %" PRIu64 " own ignored, %" PRIu64
	        " beyond the clock skew, %" PRIu64 " errors; start-up read %s in %" PRIu64 " ms (%" PRIu64
	        " updates); reader %s after %" PRIu64 " failed attempts\n",
	        history_feed_topic(f), st.share.published, st.share.publish_errors, st.share.received,
	        st.share.merged, st.share.ignored_own, st.share.skew_exceeded, st.share.errors,
	        st.startup_complete ? "complete" : "incomplete", st.startup_wait_ms, st.startup_read,
	        st.consumer_connected ? "connected" : "not connected", st.consumer_retries);
}
