/*
 * metrics.h: the sensor's counters for Prometheus: a snapshot the packet
 * thread publishes, and its rendering in the text exposition format 0.0.4.
 *
 * Threads: the packet thread fills a struct metrics_snapshot from its own
 * structures and hands it to metrics_board_publish (about once a second of
 * wall time); the HTTP thread only ever calls metrics_board_render. The
 * board's mutex guards one copy of the snapshot and is held for a memcpy,
 * never across I/O or a library call, so a slow scraper never holds up capture.
 */
#ifndef TLSOBS_METRICS_H
#define TLSOBS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "outputs/kafka_output.h"
#include "outputs/stats_event.h"
#include "rules/session.h"

enum { METRICS_STARTTLS_RESULTS = STARTTLS_INCOMPLETE + 1, METRICS_MAX_KAFKA = 4, METRICS_MAX_FILES = 8 };

struct metrics_kafka {
	char topics[KAFKA_TOPIC_TYPES][160];
	struct kafka_topic_stats stats[KAFKA_TOPIC_TYPES];
	uint64_t spool_bytes;
};

struct metrics_file_output {
	char spec[256];
	uint64_t written, failed;
};

struct metrics_snapshot {
	struct sensor_counters c; /* as in tlsobs.stats */
	uint64_t sessions_by_result[METRICS_STARTTLS_RESULTS];
	uint64_t sessions_not_mail; /* capture.all_flows: reported flows that were not mail */
	uint64_t state_db_errors;
	uint64_t reloads_ok, reloads_failed;
	struct metrics_kafka kafka[METRICS_MAX_KAFKA];
	unsigned nkafka;
	struct metrics_file_output files[METRICS_MAX_FILES];
	unsigned nfiles;
	uint64_t published_us; /* wall clock of the snapshot */
};

/* Adds an output's counters: a kafka: output's topics and spool, a json: output's lines (beyond the caps:
 * skipped). */
void metrics_add_output(struct metrics_snapshot *m, const struct output *o);
/* Renders the snapshot; `version` goes into tlsobs_build_info. The length, or -1 when cap is too small. */
long metrics_render(const struct metrics_snapshot *m, const char *version, char *buf, size_t cap);

struct metrics_board;
struct metrics_board *metrics_board_new(const char *version);
void metrics_board_free(struct metrics_board *b);
/* Packet thread: replaces the published snapshot (copied). */
void metrics_board_publish(struct metrics_board *b, const struct metrics_snapshot *m);
/* HTTP thread: the latest snapshot rendered into a new malloc'd string (caller frees), *len set; NULL on OOM.
 */
char *metrics_board_render(struct metrics_board *b, size_t *len);

#endif
