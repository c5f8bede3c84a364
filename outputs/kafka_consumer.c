/*
 * kafka_consumer.c: one topic read whole through librdkafka (kafka_consumer.h).
 *
 * Start: metadata (how many partitions; the call that fails when no broker answers), the high watermark
 * of each partition (the end this reading aims at), the start offsets (beginning, or offsets_for_times),
 * then one explicit assignment of every partition. librdkafka's consumer wants a group.id even then, but
 * with assign() (never subscribe()) it joins no group and nothing is committed: no other reader can take
 * partitions away from this one, and readers with the same group.id do not disturb each other.
 *
 * Every librdkafka callback is served from rd_kafka_consumer_poll on the calling thread: no locks.
 */
#include "outputs/kafka_consumer.h"
#include "outputs/logger.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	DEFAULT_TIMEOUT_MS = 10000,
	MAX_PARTITIONS = 4096,
	ERROR_MAX = 512,
	POLL_SLICE_MS = 100,     /* read_to_end's wait per poll */
	POLL_BATCH = 10000,      /* events handled by one kafka_consumer_poll at most */
	METADATA_SLICE_MS = 100, /* the set-up's metadata wait between two questions to cancel() */
};

struct partition_state {
	int64_t end;  /* high watermark at start: the reading is done up to here */
	int64_t next; /* the next offset to read (the start offset until a message came) */
	bool at_end;
};

struct kafka_consumer {
	rd_kafka_t *rk;
	char *topic;
	struct partition_state *parts;
	uint32_t nparts, nat_end;
	uint64_t messages, errors, time_lookup_fallbacks;
	char error[ERROR_MAX];
};

/*
 * The output's properties a consumer takes: how to reach and authenticate to the brokers. Producer
 * tuning (linger.ms, compression, acks...) would only draw librdkafka's "producer property ignored".
 */
static bool connection_property(const char *name)
{
	static const char *const prefixes[] = {
	    "security.",  "sasl.",       "ssl.",        "ssl_",      "socket.",
	    "broker.",    "client.",     "api.version", "metadata.", "debug",
	    "reconnect.", "enable.ssl.", "resolve.",    "retry.",    "connections.max.idle"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* Connection failures come back as errors from the calls below; debug only when it was asked for. */
	if (level >= 7)
		logger_log(LOGGER_DEBUG, "kafka", "%s: %s", fac, buf);
}

static rd_kafka_conf_t *make_conf(const struct kafka_consumer_settings *s, char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char why[256];
	struct {
		const char *name, *value;
	} fixed[] = {
	    {"bootstrap.servers", s->brokers},
	    {"enable.partition.eof", "true"},
	    {"enable.auto.commit", "false"},
	    {"enable.auto.offset.store", "false"},
	    {"auto.offset.reset", "earliest"},
	    {"log.connection.close", "false"},
	    {"group.id", "tlsobs.reader"},
	    /* The prefetch queue: librdkafka's defaults (100000 messages per partition, 64 MiB) would make a
	     * reader of a long period hold tens of MiB it does not need (measured: 110 MB for 190,000 events
	     * on 32 partitions, 32 MB with these). */
	    {"queued.min.messages", "1000"},
	    {"queued.max.messages.kbytes", "8192"},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (rd_kafka_conf_set(conf, fixed[i].name, fixed[i].value, why, sizeof why) !=
		    RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "kafka: %s: %s", fixed[i].name, why);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	for (unsigned i = 0; s->properties && i < s->nproperties; i++) {
		const struct kafka_property *p = &s->properties[i];
		if (!connection_property(p->name))
			continue;
		if (rd_kafka_conf_set(conf, p->name, p->value, why, sizeof why) != RD_KAFKA_CONF_OK) {
			snprintf(err, errlen, "kafka.properties.%s: %s", p->name, why);
			rd_kafka_conf_destroy(conf);
			return NULL;
		}
	}
	rd_kafka_conf_set_log_cb(conf, on_log);
	return conf;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* All topics' metadata within timeout_ms; with a cancel function, in slices of METADATA_SLICE_MS between
 * which it is asked (librdkafka goes on connecting meanwhile). */
static rd_kafka_resp_err_t fetch_metadata(struct kafka_consumer *c, const struct kafka_consumer_settings *s,
                                          int timeout_ms, const struct rd_kafka_metadata **md)
{
	if (!s->cancel)
		return rd_kafka_metadata(c->rk, 1, NULL, md, timeout_ms);
	uint64_t start = monotonic_ms(), deadline = start + (uint64_t)timeout_ms;
	for (;;) {
		uint64_t now = monotonic_ms();
		int slice = deadline - now < METADATA_SLICE_MS ? (int)(deadline - now) : METADATA_SLICE_MS;
		rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 1, NULL, md, slice > 0 ? slice : 1);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR || monotonic_ms() >= deadline || s->cancel(s->cancel_ctx))
			return e;
		uint64_t took = monotonic_ms() - now;
		if (took < (uint64_t)slice) { /* failed at once (connection refused): not a busy loop */
			struct timespec rest = {0, (long)((uint64_t)slice - took) * 1000000L};
			nanosleep(&rest, NULL);
		}
	}
}

/*
 * The number of partitions of the topic, from the brokers' metadata: 0, or -1 (said in err). All topics
 * are asked for: a request naming the topic could have the cluster create it (auto.create.topics.enable),
 * and a reader must not create what it reads.
 */
static int read_metadata(struct kafka_consumer *c, const struct kafka_consumer_settings *s, int timeout_ms,
                         enum kafka_consumer_failure *failure, char *err, size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = fetch_metadata(c, s, timeout_ms, &md);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "kafka: brokers %s did not answer within %d ms: %s", s->brokers,
		         timeout_ms, rd_kafka_err2str(e));
		*failure = KAFKA_CONSUMER_UNREACHABLE;
		return -1;
	}
	*failure = KAFKA_CONSUMER_FAILED;
	const struct rd_kafka_metadata_topic *t = NULL;
	for (int i = 0; i < md->topic_cnt && !t; i++)
		if (strcmp(md->topics[i].topic, c->topic) == 0)
			t = &md->topics[i];
	int rc = -1;
	if (!t) {
		snprintf(err, errlen, "kafka: topic %s does not exist on %s", c->topic, s->brokers);
		*failure = KAFKA_CONSUMER_NO_TOPIC;
	} else if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(err, errlen, "kafka: topic %s: %s", c->topic, rd_kafka_err2str(t->err));
	else if (t->partition_cnt <= 0 || t->partition_cnt > MAX_PARTITIONS)
		snprintf(err, errlen, "kafka: topic %s: %d partitions (1..%d)", c->topic, t->partition_cnt,
		         MAX_PARTITIONS);
	else {
		c->nparts = (uint32_t)t->partition_cnt;
		rc = 0;
	}
	rd_kafka_metadata_destroy(md);
	return rc;
}

/* offsets_for_times for every partition at time_ms, answers (offset, or -1: none at or after) in out. */
static rd_kafka_resp_err_t offsets_at(struct kafka_consumer *c, int64_t time_ms, int timeout_ms, int64_t *out)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)c->nparts);
	for (uint32_t p = 0; p < c->nparts; p++) /* the timestamp goes in the offset field (KIP-79) */
		rd_kafka_topic_partition_list_add(list, c->topic, (int32_t)p)->offset = time_ms;
	rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(c->rk, list, timeout_ms);
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; i++)
		if (list->elems[i].partition >= 0 && (uint32_t)list->elems[i].partition < c->nparts)
			out[list->elems[i].partition] = list->elems[i].err ? -1 : list->elems[i].offset;
	rd_kafka_topic_partition_list_destroy(list);
	return e;
}

/*
 * Start offsets by time. A partition that answers "none at or after" although it holds messages is asked
 * again for time 0, which every message passes: a broker that answers -1 to that too cannot look up by
 * time (librdkafka's mock cluster), and the partition is read from its beginning (counted).
 */
static int start_at_time(struct kafka_consumer *c, int64_t start_ms, int timeout_ms, char *err, size_t errlen)
{
	int64_t *at = calloc(c->nparts, sizeof *at), *probe = calloc(c->nparts, sizeof *probe);
	rd_kafka_resp_err_t e =
	    at && probe ? offsets_at(c, start_ms, timeout_ms, at) : RD_KAFKA_RESP_ERR__NOENT;
	bool ask_again = false;
	for (uint32_t p = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && p < c->nparts; p++)
		ask_again |= at[p] < 0 && c->parts[p].next < c->parts[p].end;
	if (ask_again && e == RD_KAFKA_RESP_ERR_NO_ERROR)
		e = offsets_at(c, 0, timeout_ms, probe);
	for (uint32_t p = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && p < c->nparts; p++) {
		struct partition_state *ps = &c->parts[p];
		if (at[p] >= 0)
			ps->next = at[p] < ps->end ? at[p] : ps->end;
		else if (ps->next < ps->end && probe[p] < 0)
			c->time_lookup_fallbacks++; /* from the beginning: the caller filters by time */
		else
			ps->next = ps->end; /* nothing at or after start_ms */
	}
	free(at);
	free(probe);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "kafka: topic %s: offsets for time %lld: %s", c->topic,
		         (long long)start_ms, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

/* End offsets (high watermarks) now, and the start offsets: 0, or -1 (said in err). */
static int read_offsets(struct kafka_consumer *c, int64_t start_ms, int timeout_ms, char *err, size_t errlen)
{
	for (uint32_t p = 0; p < c->nparts; p++) {
		int64_t lo, hi;
		rd_kafka_resp_err_t e =
		    rd_kafka_query_watermark_offsets(c->rk, c->topic, (int32_t)p, &lo, &hi, timeout_ms);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
			snprintf(err, errlen, "kafka: topic %s partition %u: end offset: %s", c->topic, p,
			         rd_kafka_err2str(e));
			return -1;
		}
		c->parts[p] = (struct partition_state){.end = hi, .next = lo};
	}
	return start_ms > 0 ? start_at_time(c, start_ms, timeout_ms, err, errlen) : 0;
}

static void mark_end(struct kafka_consumer *c, uint32_t p)
{
	if (!c->parts[p].at_end) {
		c->parts[p].at_end = true;
		c->nat_end++;
	}
}

static int assign_all(struct kafka_consumer *c, char *err, size_t errlen)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)c->nparts);
	for (uint32_t p = 0; p < c->nparts; p++) {
		rd_kafka_topic_partition_list_add(list, c->topic, (int32_t)p)->offset = c->parts[p].next;
		if (c->parts[p].next >= c->parts[p].end)
			mark_end(c, p);
	}
	rd_kafka_resp_err_t e = rd_kafka_assign(c->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "kafka: topic %s: assign: %s", c->topic, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

struct kafka_consumer *kafka_consumer_new(const struct kafka_consumer_settings *s, char *err, size_t errlen)
{
	return kafka_consumer_open(s, NULL, err, errlen);
}

struct kafka_consumer *kafka_consumer_open(const struct kafka_consumer_settings *s,
                                           enum kafka_consumer_failure *failure, char *err, size_t errlen)
{
	enum kafka_consumer_failure ignored;
	if (!failure)
		failure = &ignored;
	*failure = KAFKA_CONSUMER_FAILED;
	if (!s->brokers || !s->brokers[0] || !s->topic || !s->topic[0]) {
		snprintf(err, errlen, "kafka: no brokers or no topic to read");
		return NULL;
	}
	int timeout_ms = s->timeout_ms && s->timeout_ms < 3600000 ? (int)s->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct kafka_consumer *c = calloc(1, sizeof *c);
	rd_kafka_conf_t *conf = c ? make_conf(s, err, errlen) : NULL;
	if (!conf) {
		if (!c)
			snprintf(err, errlen, "kafka: out of memory");
		free(c);
		return NULL;
	}
	char why[256];
	c->topic = strdup(s->topic);
	c->rk = c->topic ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why) : NULL;
	if (!c->rk) {
		snprintf(err, errlen, "kafka: consumer: %s", c->topic ? why : "out of memory");
		rd_kafka_conf_destroy(conf);
		kafka_consumer_free(c);
		return NULL;
	}
	if (read_metadata(c, s, timeout_ms, failure, err, errlen) != 0 ||
	    !(c->parts = calloc(c->nparts, sizeof *c->parts)) ||
	    read_offsets(c, s->start_ms, timeout_ms, err, errlen) != 0 || assign_all(c, err, errlen) != 0) {
		if (c->nparts && !c->parts)
			snprintf(err, errlen, "kafka: out of memory");
		kafka_consumer_free(c);
		return NULL;
	}
	return c;
}

/* An error event from the poll: 1 when it ends the reading, 0 when librdkafka retries on its own. */
static int on_error_event(struct kafka_consumer *c, const rd_kafka_message_t *m)
{
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (m->partition >= 0 && (uint32_t)m->partition < c->nparts)
			mark_end(c, (uint32_t)m->partition);
		return 0;
	}
	char fatal[256];
	if (rd_kafka_fatal_error(c->rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(c->error, sizeof c->error, "kafka: topic %s: %s", c->topic, fatal);
		return 1;
	}
	if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
	    m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
	    m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
		snprintf(c->error, sizeof c->error, "kafka: topic %s: %s", c->topic,
		         rd_kafka_err2str(m->err));
		return 1;
	}
	c->errors++;
	return 0;
}

static int deliver(struct kafka_consumer *c, const rd_kafka_message_t *m, kafka_consumer_fn fn, void *ctx)
{
	rd_kafka_timestamp_type_t tstype;
	struct kafka_consumer_message msg = {
	    .key = m->key,
	    .key_len = m->key ? m->key_len : 0,
	    .value = m->payload,
	    .len = m->payload ? m->len : 0,
	    .timestamp_ms = rd_kafka_message_timestamp(m, &tstype),
	    .partition = m->partition,
	    .offset = m->offset,
	};
	if (m->partition >= 0 && (uint32_t)m->partition < c->nparts) {
		struct partition_state *ps = &c->parts[m->partition];
		msg.catching_up = m->offset < ps->end;
		ps->next = m->offset + 1;
		if (ps->next >= ps->end)
			mark_end(c, (uint32_t)m->partition);
	}
	c->messages++;
	return fn(ctx, &msg);
}

long kafka_consumer_poll(struct kafka_consumer *c, int timeout_ms, kafka_consumer_fn fn, void *ctx)
{
	long n = 0;
	/* Only the first wait is timeout_ms; then what is queued, up to POLL_BATCH events, so that one call
	 * ends even while messages keep coming. */
	for (int events = 0; events < POLL_BATCH; events++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, events == 0 ? timeout_ms : 0);
		if (!m)
			return n;
		int stop;
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			stop = on_error_event(c, m);
			rd_kafka_message_destroy(m);
			if (stop)
				return -1;
			continue;
		}
		stop = deliver(c, m, fn, ctx);
		rd_kafka_message_destroy(m);
		n++;
		if (stop)
			return n;
	}
	return n;
}

bool kafka_consumer_at_end(const struct kafka_consumer *c)
{
	return c->nat_end == c->nparts;
}

struct stop_flag {
	kafka_consumer_fn fn;
	void *ctx;
	bool stopped;
};

static int forward(void *ctx, const struct kafka_consumer_message *m)
{
	struct stop_flag *f = ctx;
	if (f->fn(f->ctx, m)) {
		f->stopped = true;
		return 1;
	}
	return 0;
}

int kafka_consumer_read_to_end(struct kafka_consumer *c, uint64_t stall_ms, kafka_consumer_fn fn, void *ctx)
{
	struct stop_flag f = {fn, ctx, false};
	uint64_t last = monotonic_ms();
	uint64_t seen_messages = c->messages;
	while (!kafka_consumer_at_end(c)) {
		long n = kafka_consumer_poll(c, POLL_SLICE_MS, forward, &f);
		if (n < 0)
			return -1;
		if (f.stopped)
			return 0;
		if (c->messages != seen_messages || n > 0) {
			seen_messages = c->messages;
			last = monotonic_ms();
		} else if (monotonic_ms() - last >= stall_ms) {
			struct kafka_consumer_stats st;
			kafka_consumer_get_stats(c, &st);
			snprintf(
			    c->error, sizeof c->error,
			    "kafka: topic %s: nothing read for %llu ms with %lld messages still due (brokers "
			    "down?)",
			    c->topic, (unsigned long long)stall_ms, (long long)st.lag);
			return -1;
		}
	}
	return 0;
}

void kafka_consumer_get_stats(const struct kafka_consumer *c, struct kafka_consumer_stats *out)
{
	*out = (struct kafka_consumer_stats){.messages = c->messages,
	                                     .errors = c->errors,
	                                     .time_lookup_fallbacks = c->time_lookup_fallbacks,
	                                     .partitions = c->nparts};
	for (uint32_t p = 0; p < c->nparts; p++)
		if (!c->parts[p].at_end && c->parts[p].end > c->parts[p].next)
			out->lag += c->parts[p].end - c->parts[p].next;
}

const char *kafka_consumer_error(const struct kafka_consumer *c)
{
	return c->error[0] ? c->error : "no error";
}

void kafka_consumer_free(struct kafka_consumer *c)
{
	if (!c)
		return;
	if (c->rk) {
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	free(c->parts);
	free(c->topic);
	free(c);
}
