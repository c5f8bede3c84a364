/*
 * report_kafka.c: a period of every sensor's session events, from Kafka into a temporary state database
 * (report_kafka.h).
 */
#include "sensor/report/report_kafka.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outputs/kafka_consumer.h"
#include "sensor/report/report_event.h"

struct report_kafka {
	char dir[4096];  /* private (0700), removed at the end */
	char path[4200]; /* dir/fleet.db */
	struct state_db *db;
	struct report_event_notes *notes;
	struct report_event event;
	uint64_t since_us, until_us; /* 0: open */
	struct report_kafka_stats stats;
	bool write_failed;
};

/* One message: a session of the period becomes notes; the queue is written when half full. */
static int on_message(void *ctx, const struct kafka_consumer_message *m)
{
	struct report_kafka *rk = ctx;
	rk->stats.messages++;
	enum report_event_result r = report_event_decode(m->value, m->len, &rk->event);
	rk->stats.fields_cut += rk->event.cut;
	if (r != REPORT_EVENT_SESSION) {
		if (r == REPORT_EVENT_MALFORMED)
			rk->stats.malformed++;
		else
			rk->stats.skipped++;
		return 0;
	}
	uint64_t at = report_event_time_us(&rk->event);
	if ((rk->since_us && at < rk->since_us) || (rk->until_us && at >= rk->until_us)) {
		rk->stats.outside++;
		return 0;
	}
	rk->stats.sessions++;
	if (!report_event_notes_queue(rk->notes, &rk->event, rk->db))
		rk->stats.tlsrpt_undecided++;
	struct state_db_stats st;
	state_db_get_stats(rk->db, &st);
	if (st.queued >= STATE_DB_QUEUE_CAP / 2 && state_db_flush(rk->db) < 0) {
		rk->write_failed = true;
		return 1;
	}
	return 0;
}

static int make_db(struct report_kafka *rk, const struct sensor_settings *settings, FILE *err)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(rk->dir, sizeof rk->dir, "%s/tlsobs-report-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(rk->dir)) {
		fprintf(err, "tlsobs: report: a temporary directory in %s: %s\n",
		        tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
		rk->dir[0] = '\0';
		return -1;
	}
	snprintf(rk->path, sizeof rk->path, "%s/fleet.db", rk->dir);
	char why[512];
	if (!(rk->db = state_db_open(rk->path, why, sizeof why))) {
		fprintf(err, "tlsobs: report: %s\n", why);
		return -1;
	}
	state_db_set_day_cap(rk->db, settings->coverage_max_domains_per_day);
	return 0;
}

static struct kafka_consumer *open_topic(const char *brokers, const struct sensor_settings *settings,
                                         int64_t since_s, FILE *err)
{
	const char *prefix =
	    settings->kafka.topic_prefix[0] ? settings->kafka.topic_prefix : KAFKA_DEFAULT_TOPIC_PREFIX;
	char topic[sizeof settings->kafka.topic_prefix + 16];
	snprintf(topic, sizeof topic, "%ssession", prefix);
	struct kafka_consumer_settings cs = {
	    .brokers = brokers,
	    .topic = topic,
	    .properties = settings->kafka.properties,
	    .nproperties = settings->kafka.nproperties,
	    .start_ms = since_s > REPORT_KAFKA_SKEW_S ? (since_s - REPORT_KAFKA_SKEW_S) * 1000 : 0,
	    .timeout_ms = REPORT_KAFKA_CONNECT_MS,
	};
	char why[600];
	struct kafka_consumer *c = kafka_consumer_new(&cs, why, sizeof why);
	if (!c)
		fprintf(err, "tlsobs: report: %s\n", why);
	return c;
}

struct report_kafka *report_kafka_load(const char *brokers, const struct sensor_settings *settings,
                                       int64_t since_s, int64_t until_s, FILE *err)
{
	struct report_kafka *rk = calloc(1, sizeof *rk);
	if (!rk || !(rk->notes = report_event_notes_new(&settings->policy))) {
		fprintf(err, "tlsobs: report: out of memory\n");
		report_kafka_free(rk);
		return NULL;
	}
	rk->since_us = since_s > 0 ? (uint64_t)since_s * 1000000u : 0;
	rk->until_us = until_s > 0 ? (uint64_t)until_s * 1000000u : 0;
	struct kafka_consumer *c = NULL;
	int rc =
	    make_db(rk, settings, err) == 0 && (c = open_topic(brokers, settings, since_s, err)) ? 0 : -1;
	if (rc == 0 && kafka_consumer_read_to_end(c, REPORT_KAFKA_STALL_MS, on_message, rk) != 0 &&
	    !rk->write_failed) {
		fprintf(err, "tlsobs: report: %s\n", kafka_consumer_error(c));
		rc = -1;
	}
	kafka_consumer_free(c);
	if (rc == 0 && (rk->write_failed || state_db_flush(rk->db) < 0)) {
		fprintf(err, "tlsobs: report: %s: %s\n", rk->path, state_db_error(rk->db));
		rc = -1;
	}
	if (rc != 0) {
		report_kafka_free(rk);
		return NULL;
	}
	struct state_db_stats st;
	state_db_get_stats(rk->db, &st);
	rk->stats.notes_lost = st.dropped + st.lost;
	return rk;
}

struct state_db *report_kafka_db(const struct report_kafka *rk)
{
	return rk->db;
}

const struct report_kafka_stats *report_kafka_stats(const struct report_kafka *rk)
{
	return &rk->stats;
}

void report_kafka_free(struct report_kafka *rk)
{
	if (!rk)
		return;
	state_db_close(rk->db);
	report_event_notes_free(rk->notes);
	if (rk->dir[0]) {
		static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
		for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
			char p[sizeof rk->path + 16];
			snprintf(p, sizeof p, "%s%s", rk->path, suffixes[i]);
			unlink(p);
		}
		rmdir(rk->dir);
	}
	free(rk);
}
