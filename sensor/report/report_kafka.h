/*
 * report_kafka.h: the reports' input read from Kafka (`tlsobs report ... --kafka BROKERS`) instead of one
 * sensor's state database: every sensor's session events of the period, from <topic_prefix>session,
 * turned into the notes each sensor made of them (report_event.h) and written into a state database of
 * the report's own, in a private temporary directory. The reports then read it through the very queries
 * they use on a sensor's state_db: same formats, same per-day cap on names (coverage.max_domains_per_day)
 * with the same overflow rows. Its size is bounded by names and days (and certificates), never by
 * sessions; the events stream through one at a time.
 *
 * The session events are enough: each carries the certificate its session showed (the certificate topic
 * only has each sensor's first sighting). The topic is read from the offsets for the period's start, less
 * REPORT_KAFKA_SKEW_S (an event is produced after its session ended, by a sensor whose clock may be a bit
 * off), to the end offsets taken at start; each session counts when the time of its end lies in the period.
 */
#ifndef TLSOBS_REPORT_KAFKA_H
#define TLSOBS_REPORT_KAFKA_H

#include <stdint.h>
#include <stdio.h>

#include "sensor/config/settings.h"
#include "sensor/state/state_db.h"

enum {
	REPORT_KAFKA_SKEW_S = 3600,      /* read from this much before the period's start */
	REPORT_KAFKA_CONNECT_MS = 10000, /* metadata and offsets: an unreachable cluster fails after this */
	REPORT_KAFKA_STALL_MS = 30000,   /* messages due but none arriving for this long: an error */
};

struct report_kafka_stats {
	uint64_t messages;   /* read from the topic */
	uint64_t sessions;   /* mail session events of the period, counted */
	uint64_t outside;    /* mail session events outside the period */
	uint64_t skipped;    /* other events, flows that are not mail */
	uint64_t malformed;  /* not a readable event (report_event.h) */
	uint64_t fields_cut; /* fields cut at their cap */
	uint64_t tlsrpt_undecided;
	uint64_t notes_lost; /* notes the database refused (a write error): the reports miss them */
};

struct report_kafka;

/*
 * Reads the session topic named by settings (kafka.topic_prefix, kafka.properties for the connection)
 * for the sessions that ended in [since_s, until_s) (0: open) into a new temporary state database. NULL
 * with a one-line reason on err (brokers unreachable, topic missing, a stall, a write error).
 */
struct report_kafka *report_kafka_load(const char *brokers, const struct sensor_settings *settings,
                                       int64_t since_s, int64_t until_s, FILE *err);
/* The database to query (owned by rk). */
struct state_db *report_kafka_db(const struct report_kafka *rk);
const struct report_kafka_stats *report_kafka_stats(const struct report_kafka *rk);
/* Closes and removes the temporary database. NULL is a no-op. */
void report_kafka_free(struct report_kafka *rk);

#endif
