/*
 * test_kafka_output.c: the Kafka output against librdkafka's mock cluster, in process but over loopback TCP:
 * delivery, spooling on failure, replay on recovery, and produced = delivered + spooled + dropped + in_flight
 * at every step.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outputs/kafka_output.h"
#include "outputs/spool.h"

/* ---- helpers ---- */

static char dir[256];
static rd_kafka_t *host; /* hosts the mock cluster */
static rd_kafka_mock_cluster_t *cluster;

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/tlsobs-kafka-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
	host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	cr_assert_not_null(host, "%s", err);
	cluster = rd_kafka_mock_cluster_new(host, 3);
	cr_assert_not_null(cluster);
	static const char *const names[] = {"tlsobs.session", "tlsobs.alert", "tlsobs.certificate",
	                                    "tlsobs.stats"};
	for (int i = 0; i < 4; i++)
		cr_assert_eq(rd_kafka_mock_topic_create(cluster, names[i], 2, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	rd_kafka_mock_cluster_destroy(cluster);
	rd_kafka_destroy(host);
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(kafka_output, .init = setup, .fini = teardown, .timeout = 60);

static void all_brokers(bool up)
{
	for (int b = 1; b <= 3; b++)
		cr_assert_eq(up ? rd_kafka_mock_broker_set_up(cluster, b)
		                : rd_kafka_mock_broker_set_down(cluster, b),
		             RD_KAFKA_RESP_ERR_NO_ERROR);
}

static struct kafka_settings settings(void)
{
	struct kafka_settings s = {0};
	snprintf(s.spool_dir, sizeof s.spool_dir, "%s/spool", dir);
	s.shutdown_timeout_ms = 5000;
	return s;
}

static void add_property(struct kafka_settings *s, const char *name, const char *value)
{
	snprintf(s->properties[s->nproperties].name, sizeof s->properties[0].name, "%s", name);
	snprintf(s->properties[s->nproperties].value, sizeof s->properties[0].value, "%s", value);
	s->nproperties++;
}

static struct kafka_output *open_output(const struct kafka_settings *s)
{
	char err[512] = "";
	struct kafka_output *k =
	    kafka_output_new(rd_kafka_mock_cluster_bootstraps(cluster), s, err, sizeof err);
	cr_assert_not_null(k, "kafka_output_new: %s", err);
	return k;
}

static void produce(struct kafka_output *k, enum event_type type, int n)
{
	const char *dataset = event_type_dataset(type);
	for (int i = 0; i < n; i++) {
		char json[128];
		int len =
		    snprintf(json, sizeof json, "{\"event\":{\"dataset\":\"%s\",\"n\":%d}}", dataset, i);
		struct output_event ev = {type, "198.51.100.25", NULL, 1700000000000000ull,
		                          json, (size_t)len};
		cr_assert_eq(kafka_output_produce(k, &ev), 0);
	}
}

static void assert_reconciles(const struct kafka_output *k)
{
	for (unsigned t = 0; t < KAFKA_TOPIC_TYPES; t++) {
		const struct kafka_topic_stats *st = kafka_output_topic_stats(k, t);
		cr_assert_eq(st->produced, st->delivered + st->spooled + st->dropped + st->in_flight,
		             "%s: %lu produced != %lu delivered + %lu spooled + %lu dropped + %lu in flight",
		             kafka_output_topic_name(k, t), (unsigned long)st->produced,
		             (unsigned long)st->delivered, (unsigned long)st->spooled,
		             (unsigned long)st->dropped, (unsigned long)st->in_flight);
	}
}

/* Polls (checking the invariant each time) until field `what` of topic type t reaches n, or 20 s pass. */
static void poll_until(struct kafka_output *k, unsigned t, size_t offset, uint64_t n)
{
	for (int i = 0; i < 2000; i++) {
		kafka_output_poll(k);
		assert_reconciles(k);
		const uint64_t *v = (const uint64_t *)((const char *)kafka_output_topic_stats(k, t) + offset);
		if (*v >= n)
			return;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	cr_assert_fail("%s: counter at offset %zu never reached %lu", kafka_output_topic_name(k, t), offset,
	               (unsigned long)n);
}

#define field(name) offsetof(struct kafka_topic_stats, name)

/* ---- tests ---- */

Test(kafka_output, delivers_each_event_to_the_topic_of_its_type)
{
	struct kafka_settings s = settings();
	struct kafka_output *k = open_output(&s);
	cr_assert_str_eq(kafka_output_topic_name(k, 0), "tlsobs.session");
	cr_assert_str_eq(kafka_output_topic_name(k, 3), "tlsobs.stats");
	produce(k, EVENT_TYPE_SESSION, 20);
	produce(k, EVENT_TYPE_ALERT, 5);
	cr_assert_eq(kafka_output_flush(k), 0, "nothing lost");
	cr_assert_eq(kafka_output_topic_stats(k, 0)->delivered, 20);
	cr_assert_eq(kafka_output_topic_stats(k, 1)->delivered, 5);
	cr_assert_eq(kafka_output_topic_stats(k, 2)->produced, 0);
	assert_reconciles(k);
	kafka_output_free(k);
}

Test(kafka_output, spools_events_that_time_out_and_replays_them_when_the_brokers_return)
{
	struct kafka_settings s = settings();
	add_property(&s, "message.timeout.ms", "500");
	struct kafka_output *k = open_output(&s);
	all_brokers(false);
	produce(k, EVENT_TYPE_SESSION, 10);
	poll_until(k, 0, field(spooled), 10);
	cr_assert_eq(kafka_output_topic_stats(k, 0)->failed, 10);
	cr_assert_eq(kafka_output_topic_stats(k, 0)->in_flight, 0);
	all_brokers(true);
	poll_until(k, 0, field(delivered), 10);
	cr_assert_eq(kafka_output_topic_stats(k, 0)->spooled, 0, "a delivered replay leaves the spool");
	cr_assert_geq(kafka_output_topic_stats(k, 0)->replayed, 10);
	cr_assert_eq(kafka_output_topic_stats(k, 0)->produced, 10, "a replay is not produced twice");
	cr_assert_eq(kafka_output_flush(k), 0);
	kafka_output_free(k);
}

Test(kafka_output, keeps_spooled_events_for_the_next_run_when_the_brokers_stay_away)
{
	struct kafka_settings s = settings();
	add_property(&s, "message.timeout.ms", "300");
	s.shutdown_timeout_ms = 1000;
	struct kafka_output *k = open_output(&s);
	all_brokers(false);
	produce(k, EVENT_TYPE_ALERT, 4);
	cr_assert_eq(kafka_output_flush(k), 0, "spooled is not lost");
	cr_assert_eq(kafka_output_topic_stats(k, 1)->spooled, 4);
	assert_reconciles(k);
	kafka_output_free(k);
	all_brokers(true);
	k = open_output(&s);
	cr_assert_eq(kafka_output_topic_stats(k, 1)->produced, 4,
	             "recovered events count as handed to this run");
	cr_assert_eq(kafka_output_flush(k), 0);
	cr_assert_eq(kafka_output_topic_stats(k, 1)->delivered, 4);
	cr_assert_eq(kafka_output_topic_stats(k, 1)->spooled, 0);
	kafka_output_free(k);
}

Test(kafka_output, counts_the_events_a_full_spool_drops_per_topic)
{
	struct kafka_settings s = settings();
	add_property(&s, "message.timeout.ms", "300");
	s.spool_max_bytes = 1000; /* about ten of these events */
	s.shutdown_timeout_ms = 500;
	struct kafka_output *k = open_output(&s);
	all_brokers(false);
	produce(k, EVENT_TYPE_SESSION, 30);
	uint64_t lost = kafka_output_flush(k);
	const struct kafka_topic_stats *st = kafka_output_topic_stats(k, 0);
	cr_assert_gt(st->dropped, 0);
	cr_assert_gt(st->spooled, 0);
	cr_assert_eq(st->dropped + st->spooled, 30);
	cr_assert_eq(lost, st->dropped, "flush returns what was lost");
	assert_reconciles(k);
	kafka_output_free(k);
}

Test(kafka_output, refuses_to_turn_idempotence_off)
{
	struct kafka_settings s = settings();
	add_property(&s, "enable.idempotence", "false");
	char err[512] = "";
	cr_assert_null(kafka_output_new("127.0.0.1:1", &s, err, sizeof err));
	cr_assert(strstr(err, "enable.idempotence") != NULL, "%s", err);
}

Test(kafka_output, refuses_an_unknown_librdkafka_property_with_its_name)
{
	struct kafka_settings s = settings();
	add_property(&s, "no.such.property", "1");
	char err[512] = "";
	cr_assert_null(kafka_output_new("127.0.0.1:1", &s, err, sizeof err));
	cr_assert(strstr(err, "no.such.property") != NULL, "%s", err);
}

Test(kafka_output, starts_without_error_when_no_broker_is_reachable)
{
	struct kafka_settings s = settings();
	snprintf(s.topic_prefix, sizeof s.topic_prefix, "lab.");
	char err[512] = "";
	struct kafka_output *k = kafka_output_new("127.0.0.1:1", &s, err, sizeof err);
	cr_assert_not_null(k, "%s", err);
	cr_assert_str_eq(kafka_output_topic_name(k, 2), "lab.certificate");
	kafka_output_free(k);
}

Test(kafka_output, refuses_an_event_of_no_known_type)
{
	struct kafka_settings s = settings();
	struct kafka_output *k = open_output(&s);
	struct output_event ev = {EVENT_TYPE_COUNT, NULL, NULL, 0, "{}", 2};
	cr_assert_eq(kafka_output_produce(k, &ev), -1);
	cr_assert_eq(kafka_output_flush(k), 1, "and counts it lost");
	kafka_output_free(k);
}

Test(kafka_output, cuts_a_key_over_256_bytes_and_counts_it_in_the_stats)
{
	struct kafka_settings s = settings();
	struct kafka_output *k = open_output(&s);
	char key[300];
	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	struct output_event ev = {EVENT_TYPE_SESSION, key, NULL, 1700000000000000ull, "{}", 2};
	cr_assert_eq(kafka_output_produce(k, &ev), 0);
	key[256] = '\0'; /* exactly the most a key keeps: not cut */
	cr_assert_eq(kafka_output_produce(k, &ev), 0);
	cr_assert_eq(kafka_output_flush(k), 0, "the events still go");
	struct json_writer w;
	json_writer_init(&w, 0);
	kafka_output_stats_json(k, &w);
	cr_assert(memmem(w.buf, w.len, "\"keys_truncated\":1}", 19), "%.*s", (int)w.len, w.buf);
	json_writer_release(&w);
	char *summary = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&summary, &len);
	kafka_output_print_stats(k, out);
	fclose(out);
	cr_assert(strstr(summary, "tlsobs: kafka: 1 message keys cut at 256 bytes\n"), "%s", summary);
	free(summary);
	kafka_output_free(k);
}
