/*
 * test_kafka_consumer.c: the topic reader against librdkafka's mock cluster, in process but over loopback
 * TCP: every partition read to its end, a start by timestamp, the end while new messages arrive, and clear
 * errors for an unreachable broker and a missing topic.
 */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outputs/kafka_consumer.h"

enum { PARTITIONS = 3, PER_PARTITION = 20, BASE_MS = 1700000000000 };

static rd_kafka_t *host; /* hosts the mock cluster */
static rd_kafka_mock_cluster_t *cluster;
static rd_kafka_t *producer;

static void setup(void)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
	host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	cr_assert_not_null(host, "%s", err);
	cluster = rd_kafka_mock_cluster_new(host, 3);
	cr_assert_not_null(cluster);
	cr_assert_eq(rd_kafka_mock_topic_create(cluster, "fleet.session", PARTITIONS, 3),
	             RD_KAFKA_RESP_ERR_NO_ERROR);
	cr_assert_eq(rd_kafka_mock_topic_create(cluster, "fleet.empty", 2, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(cluster), err,
	                  sizeof err);
	rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err); /* quiet while the brokers are down */
	producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	cr_assert_not_null(producer, "%s", err);
}

static void teardown(void)
{
	rd_kafka_destroy(producer);
	rd_kafka_mock_cluster_destroy(cluster);
	rd_kafka_destroy(host);
}

TestSuite(kafka_consumer, .init = setup, .fini = teardown, .timeout = 60);

/* Message i goes to partition i % PARTITIONS with timestamp BASE_MS + i seconds, value "m<i>", key "k<i>". */
static void produce(int from, int to)
{
	for (int i = from; i < to; i++) {
		char key[16], value[16];
		int kl = snprintf(key, sizeof key, "k%d", i), vl = snprintf(value, sizeof value, "m%d", i);
		cr_assert_eq(rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("fleet.session"),
		                               RD_KAFKA_V_PARTITION(i % PARTITIONS),
		                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                               RD_KAFKA_V_KEY(key, kl), RD_KAFKA_V_VALUE(value, vl),
		                               RD_KAFKA_V_TIMESTAMP((int64_t)BASE_MS + 1000 * (int64_t)i),
		                               RD_KAFKA_V_END),
		             RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	cr_assert_eq(rd_kafka_flush(producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

struct seen {
	bool got[4 * PARTITIONS * PER_PARTITION];
	int count, stop_after;
	bool bad;
};

static int collect(void *ctx, const struct kafka_consumer_message *m)
{
	struct seen *s = ctx;
	char value[16] = "", key[16] = "";
	memcpy(value, m->value, m->len < 15 ? m->len : 15);
	memcpy(key, m->key, m->key_len < 15 ? m->key_len : 15);
	int i = (int)strtol(value + 1, NULL, 10);
	/* Each message as produced: its key, partition and timestamp match its number. */
	char want_key[16];
	snprintf(want_key, sizeof want_key, "k%d", i);
	if (i < 0 || i >= (int)(sizeof s->got) || strcmp(key, want_key) != 0 ||
	    m->partition != i % PARTITIONS || m->timestamp_ms != (int64_t)BASE_MS + 1000 * (int64_t)i ||
	    s->got[i])
		s->bad = true;
	else
		s->got[i] = true;
	s->count++;
	return s->stop_after && s->count >= s->stop_after;
}

static struct kafka_consumer *open_topic(const char *topic, int64_t start_ms)
{
	char err[512] = "";
	struct kafka_consumer_settings cs = {.brokers = rd_kafka_mock_cluster_bootstraps(cluster),
	                                     .topic = topic,
	                                     .start_ms = start_ms,
	                                     .timeout_ms = 10000};
	struct kafka_consumer *c = kafka_consumer_new(&cs, err, sizeof err);
	cr_assert_not_null(c, "%s", err);
	return c;
}

Test(kafka_consumer, reads_every_message_of_every_partition_once_up_to_the_end)
{
	int n = PARTITIONS * PER_PARTITION;
	produce(0, n);
	struct kafka_consumer *c = open_topic("fleet.session", 0);
	struct seen s = {0};
	cr_assert_eq(kafka_consumer_read_to_end(c, 10000, collect, &s), 0, "%s", kafka_consumer_error(c));
	cr_assert(kafka_consumer_at_end(c));
	cr_assert_not(s.bad);
	cr_assert_eq(s.count, n);
	for (int i = 0; i < n; i++)
		cr_assert(s.got[i], "message %d missing", i);
	struct kafka_consumer_stats st;
	kafka_consumer_get_stats(c, &st);
	cr_assert_eq(st.messages, (uint64_t)n);
	cr_assert_eq(st.lag, 0);
	cr_assert_eq(st.partitions, PARTITIONS);
	kafka_consumer_free(c);
}

/* librdkafka's mock cluster cannot look up offsets by time: there the consumer reads from the beginning and
 * says so; a real cluster starts each partition at its first message at or after the time. Either way every
 * message from the start time on is read. */
Test(kafka_consumer, reads_every_message_from_the_start_time_on_in_every_partition)
{
	int n = PARTITIONS * PER_PARTITION, first = 25;
	produce(0, n);
	struct kafka_consumer *c = open_topic("fleet.session", (int64_t)BASE_MS + 1000 * first);
	struct seen s = {0};
	cr_assert_eq(kafka_consumer_read_to_end(c, 10000, collect, &s), 0, "%s", kafka_consumer_error(c));
	cr_assert_not(s.bad);
	struct kafka_consumer_stats st;
	kafka_consumer_get_stats(c, &st);
	for (int i = first; i < n; i++)
		cr_assert(s.got[i], "message %d", i);
	if (st.time_lookup_fallbacks == 0)
		cr_assert_eq(s.count, n - first, "%d", s.count);
	else
		cr_assert_eq(s.count, n, "%d", s.count);
	cr_assert_leq(st.time_lookup_fallbacks, PARTITIONS);
	kafka_consumer_free(c);
}

Test(kafka_consumer, a_start_time_after_the_last_message_reads_nothing_newer)
{
	produce(0, 9);
	struct kafka_consumer *c = open_topic("fleet.session", (int64_t)BASE_MS + 1000 * 1000);
	struct seen s = {0};
	cr_assert_eq(kafka_consumer_read_to_end(c, 1000, collect, &s), 0);
	struct kafka_consumer_stats st;
	kafka_consumer_get_stats(c, &st);
	cr_assert_eq(s.count, st.time_lookup_fallbacks ? 9 : 0);
	cr_assert(kafka_consumer_at_end(c));
	kafka_consumer_free(c);
}

Test(kafka_consumer, an_empty_topic_is_at_its_end_and_reading_it_returns_nothing)
{
	struct kafka_consumer *c = open_topic("fleet.empty", 0);
	cr_assert(kafka_consumer_at_end(c));
	struct seen s = {0};
	cr_assert_eq(kafka_consumer_read_to_end(c, 1000, collect, &s), 0);
	cr_assert_eq(s.count, 0);
	kafka_consumer_free(c);
}

Test(kafka_consumer, the_end_is_the_one_taken_at_start_and_polling_on_delivers_what_came_later)
{
	int n = PARTITIONS * PER_PARTITION;
	produce(0, n);
	struct kafka_consumer *c = open_topic("fleet.session", 0);
	produce(n, 2 * n); /* after the end offsets were taken */
	struct seen s = {0};
	cr_assert_eq(kafka_consumer_read_to_end(c, 10000, collect, &s), 0, "%s", kafka_consumer_error(c));
	cr_assert(s.count >= n && s.count <= 2 * n, "%d", s.count); /* the end was reached at n, or later */
	for (int tries = 0; tries < 100 && s.count < 2 * n; tries++)
		cr_assert_geq(kafka_consumer_poll(c, 100, collect, &s), 0);
	cr_assert_eq(s.count, 2 * n);
	cr_assert_not(s.bad);
	kafka_consumer_free(c);
}

Test(kafka_consumer, the_callback_stops_the_reading_and_the_rest_stays_for_the_next_poll)
{
	int n = PARTITIONS * PER_PARTITION;
	produce(0, n);
	struct kafka_consumer *c = open_topic("fleet.session", 0);
	struct seen s = {.stop_after = 7};
	cr_assert_eq(kafka_consumer_read_to_end(c, 10000, collect, &s), 0);
	cr_assert_eq(s.count, 7);
	cr_assert_not(kafka_consumer_at_end(c));
	struct kafka_consumer_stats st;
	kafka_consumer_get_stats(c, &st);
	cr_assert_gt(st.lag, 0);
	s.stop_after = 0;
	cr_assert_eq(kafka_consumer_read_to_end(c, 10000, collect, &s), 0);
	cr_assert_eq(s.count, n);
	cr_assert_not(s.bad);
	kafka_consumer_free(c);
}

Test(kafka_consumer, says_which_topic_is_missing)
{
	char err[512] = "";
	struct kafka_consumer_settings cs = {.brokers = rd_kafka_mock_cluster_bootstraps(cluster),
	                                     .topic = "fleet.nothing",
	                                     .timeout_ms = 5000};
	cr_assert_null(kafka_consumer_new(&cs, err, sizeof err));
	cr_assert(strstr(err, "fleet.nothing"), "%s", err);
}

Test(kafka_consumer, an_unreachable_broker_is_an_error_after_the_timeout)
{
	char err[512] = "";
	/* Port 1 on loopback: nobody listens there (connection refused at once, then retried). */
	struct kafka_consumer_settings cs = {
	    .brokers = "127.0.0.1:1", .topic = "fleet.session", .timeout_ms = 1500};
	cr_assert_null(kafka_consumer_new(&cs, err, sizeof err));
	cr_assert(strstr(err, "127.0.0.1:1") && strstr(err, "1500 ms"), "%s", err);
}

static bool cancel_on_third(void *ctx)
{
	return ++*(int *)ctx >= 3;
}

/* The shared history's reader retries on UNREACHABLE, creates the topic on NO_TOPIC, and must stop at once on
 * exit: the metadata wait asks cancel() between slices. */
Test(kafka_consumer, says_why_it_failed_and_gives_up_when_cancelled)
{
	char err[512] = "";
	enum kafka_consumer_failure why = 0;
	struct kafka_consumer_settings cs = {.brokers = rd_kafka_mock_cluster_bootstraps(cluster),
	                                     .topic = "fleet.nothing",
	                                     .timeout_ms = 5000};
	cr_assert_null(kafka_consumer_open(&cs, &why, err, sizeof err));
	cr_assert_eq(why, KAFKA_CONSUMER_NO_TOPIC, "%s", err);
	int asked = 0;
	cs = (struct kafka_consumer_settings){.brokers = "127.0.0.1:1",
	                                      .topic = "fleet.session",
	                                      .timeout_ms = 20000,
	                                      .cancel = cancel_on_third,
	                                      .cancel_ctx = &asked};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_null(kafka_consumer_open(&cs, &why, err, sizeof err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	cr_assert_eq(why, KAFKA_CONSUMER_UNREACHABLE, "%s", err);
	cr_assert_eq(asked, 3);
	cr_assert_lt(ms, 5000.0, "gave up after three slices, not the 20 s timeout (%.0f ms)", ms);
	cr_assert_geq(ms, 150.0, "the slices were waited, not spun (%.0f ms)", ms);
	cs.cancel = NULL;
	cs.brokers = rd_kafka_mock_cluster_bootstraps(cluster);
	struct kafka_consumer *c = kafka_consumer_open(&cs, &why, err, sizeof err);
	cr_assert_not_null(c, "%s", err);
	kafka_consumer_free(c);
}

Test(kafka_consumer, takes_the_connection_properties_and_refuses_a_bad_one_by_name)
{
	char err[512] = "";
	struct kafka_property props[2] = {{"linger.ms", "5"}, {"security.protocol", "carrier-pigeon"}};
	struct kafka_consumer_settings cs = {.brokers = rd_kafka_mock_cluster_bootstraps(cluster),
	                                     .topic = "fleet.session",
	                                     .properties = props,
	                                     .nproperties = 2};
	cr_assert_null(kafka_consumer_new(&cs, err, sizeof err));
	cr_assert(strstr(err, "security.protocol"), "%s", err);
	/* A producer's tuning is left out, not an error. */
	cs.nproperties = 1;
	struct kafka_consumer *c = kafka_consumer_new(&cs, err, sizeof err);
	cr_assert_not_null(c, "%s", err);
	kafka_consumer_free(c);
}

/* Fetches that keep failing (the brokers answer metadata and offsets, never a fetch): the reading ends with
 * an error after the stall time; once fetches work again the same consumer reads on to the end. */
Test(kafka_consumer, a_reading_that_stalls_ends_with_an_error_after_the_stall_time)
{
	enum { API_FETCH = 1, ERRORS = 100000 }; /* Kafka protocol ApiKey 1 */
	int n = PARTITIONS * PER_PARTITION;
	produce(0, n);
	rd_kafka_resp_err_t errs[64];
	for (int i = 0; i < 64; i++)
		errs[i] = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
	for (int i = 0; i < ERRORS / 64; i++)
		rd_kafka_mock_push_request_errors_array(cluster, API_FETCH, 64, errs);
	struct kafka_consumer *c = open_topic("fleet.session", 0);
	struct seen s = {0};
	cr_assert_eq(kafka_consumer_read_to_end(c, 1500, collect, &s), -1);
	cr_assert(strstr(kafka_consumer_error(c), "nothing read for 1500 ms"), "%s", kafka_consumer_error(c));
	cr_assert(strstr(kafka_consumer_error(c), "60 messages still due"), "%s", kafka_consumer_error(c));
	cr_assert_eq(s.count, 0);
	rd_kafka_mock_clear_request_errors(cluster, API_FETCH);
	cr_assert_eq(kafka_consumer_read_to_end(c, 20000, collect, &s), 0, "%s", kafka_consumer_error(c));
	cr_assert_eq(s.count, n);
	cr_assert_not(s.bad);
	kafka_consumer_free(c);
}
