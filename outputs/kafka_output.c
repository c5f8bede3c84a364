/*
 * kafka_output.c: events to Kafka topics through librdkafka (the only file that uses it).
 *
 * Flow of one event:
 *
 *   produce ──producev ok──▶ librdkafka queue ──dr ok──▶ delivered
 *      │                          │
 *      │ queue full / error       │ dr error (message.timeout.ms, purge at shutdown)
 *      ▼                          ▼
 *    spool ◀───────────────────────┘
 *      │ replay (poll, when the brokers take messages again)
 *      ▼
 *   producev(opaque = spool id) ──dr ok──▶ spool_ack, delivered
 *                               ──dr error─▶ stays in the spool, spool_rewind once no replay is in flight
 *
 * Counters per topic type keep produced = delivered + spooled + dropped + in_flight: a replayed record is
 * counted in `spooled` (it is still in the spool) until its delivery report, never produced twice. spooled
 * and dropped come from the spool's per-type counts, so drops made inside the spool are attributed exactly.
 *
 * All librdkafka callbacks (delivery reports, errors, logs: log.queue) are served from rd_kafka_poll on the
 * calling thread, so this file needs no locks.
 */
#include "outputs/kafka_output.h"
#include "outputs/logger.h"

#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parsers/civil_time.h"
#include "outputs/spool.h"

enum {
	ERROR_SLOTS = 32,           /* distinct error/log kinds remembered for rate limiting */
	ERROR_REPEAT_US = 60000000, /* a known error is printed again at most once a minute */
	REPLAY_BATCH = 1000,        /* records taken from the spool per poll */
	REPLAY_MAX_OUTQ = 5000,     /* ...only while librdkafka's queue is shorter than this */
	HEALTH_RETRY_US = 5000000,  /* after a failure, try the spool again this long after it */
	KEY_MAX = 256,
	ID_MAX = 128,
	TIME_MAX = 40,
};

static const char default_prefix[] = KAFKA_DEFAULT_TOPIC_PREFIX;
static const char default_spool_dir[] = KAFKA_DEFAULT_SPOOL_DIR;

/* The event types' topics, then the shared history's (opened by kafka_output_history_open only). */
enum { KAFKA_TOPICS = KAFKA_TOPIC_HISTORY + 1 };

_Static_assert((int)KAFKA_TOPICS <= (int)SPOOL_TYPES && KAFKA_TOPICS <= 8,
               "every topic type must fit in a spool record type and the tag's three bits");
_Static_assert(sizeof(uintptr_t) >= 8, "the message opaque carries a 60-bit spool id");

struct error_slot {
	char what[64];
	uint64_t last_us;    /* when last printed */
	uint64_t suppressed; /* occurrences since */
};

/* One message as produced: borrowed pointers. */
struct message {
	unsigned type;
	const char *key, *id, *time, *payload;
	size_t keylen, idlen, timelen, len;
};

struct kafka_output {
	rd_kafka_t *rk;
	rd_kafka_topic_t *topics[KAFKA_TOPICS]; /* the history's NULL unless opened */
	char topic_names[KAFKA_TOPICS][sizeof(((struct kafka_settings *)0)->topic_prefix) + 16];
	char *brokers;
	char spool_dir[sizeof(((struct kafka_settings *)0)->spool_dir)];
	char source[300]; /* CloudEvents ce_source: tlsobs://<hostname> */
	bool cloudevents;
	uint64_t shutdown_timeout_ms;
	struct spool *spool;
	struct kafka_topic_stats stats[KAFKA_TOPICS];
	uint64_t undropped[KAFKA_TOPICS]; /* replays delivered after the spool had dropped them */
	uint64_t unroutable;              /* events of no known type */
	uint64_t keys_truncated;          /* message keys cut at KEY_MAX bytes (the event still goes) */
	uint64_t replays_in_flight;
	bool need_rewind;
	uint64_t last_success_us, last_failure_us, ce_counter;
	struct error_slot errors[ERROR_SLOTS];
	unsigned nerrors;
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Prints the first occurrence of each kind of error, then at most once a minute with a count; never exits. */
static void note_error(struct kafka_output *k, const char *what, const char *detail)
{
	uint64_t now = now_us();
	struct error_slot *slot = NULL;
	for (unsigned i = 0; i < k->nerrors; i++)
		if (strcmp(k->errors[i].what, what) == 0)
			slot = &k->errors[i];
	if (!slot) {
		unsigned i = k->nerrors < ERROR_SLOTS ? k->nerrors++ : 0;
		if (k->nerrors == ERROR_SLOTS) /* evict the least recently printed */
			for (unsigned j = 1; j < ERROR_SLOTS; j++)
				if (k->errors[j].last_us < k->errors[i].last_us)
					i = j;
		slot = &k->errors[i];
		snprintf(slot->what, sizeof slot->what, "%s", what);
		slot->suppressed = 0;
	} else if (now - slot->last_us < ERROR_REPEAT_US) {
		slot->suppressed++;
		return;
	}
	if (slot->suppressed)
		logger_log(LOGGER_WARNING, "kafka", "%s: %s (%" PRIu64 " more since last reported)", what,
		           detail, slot->suppressed);
	else
		logger_log(LOGGER_WARNING, "kafka", "%s: %s", what, detail);
	slot->last_us = now;
	slot->suppressed = 0;
}

/* The topics in use: the event types', and the history's once opened. */
static unsigned topic_count(const struct kafka_output *k)
{
	return k->topics[KAFKA_TOPIC_HISTORY] ? KAFKA_TOPICS : KAFKA_TOPIC_TYPES;
}

static void sync_spool_counts(struct kafka_output *k)
{
	const struct spool_stats *ss = spool_stats(k->spool);
	for (unsigned t = 0; t < KAFKA_TOPICS; t++) {
		k->stats[t].spooled = ss->records_by_type[t];
		k->stats[t].dropped = ss->dropped_by_type[t] - k->undropped[t];
	}
}

static uintptr_t make_tag(unsigned type, bool replay, uint64_t id)
{
	return (uintptr_t)(id << 4) | (replay ? 8u : 0u) | type;
}

/*
 * The spool's key field holds what a replay needs besides the payload:
 *   'k' key NUL id NUL time    (or '-' in place of 'k' for a message without key)
 */
static size_t pack_meta(char *buf, size_t cap, const struct message *m)
{
	int n =
	    snprintf(buf, cap, "%c%.*s%c%.*s%c%.*s", m->key ? 'k' : '-', (int)m->keylen, m->key ? m->key : "",
	             '\0', (int)m->idlen, m->id ? m->id : "", '\0', (int)m->timelen, m->time ? m->time : "");
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static const char *take_field(const char **p, const char *end, size_t *len)
{
	const char *start = *p;
	const char *nul = memchr(start, '\0', (size_t)(end - start));
	*len = (size_t)((nul ? nul : end) - start);
	*p = nul ? nul + 1 : end;
	return start;
}

static void unpack_meta(struct message *m, const char *meta, size_t len)
{
	const char *p = meta, *end = meta + len;
	bool has_key = len > 0 && meta[0] == 'k';
	if (len > 0)
		p++;
	m->key = take_field(&p, end, &m->keylen);
	if (!has_key)
		m->key = NULL, m->keylen = 0;
	m->id = take_field(&p, end, &m->idlen);
	m->time = take_field(&p, end, &m->timelen);
}

/* 0 when spooled, -1 when the spool dropped it (counted there). */
static int spool_message(struct kafka_output *k, const struct message *m)
{
	char meta[1 + KEY_MAX + ID_MAX + TIME_MAX + 3];
	size_t metalen = pack_meta(meta, sizeof meta, m);
	int rc = spool_append(k->spool, (uint8_t)m->type, meta, metalen, m->payload, m->len);
	sync_spool_counts(k);
	return rc;
}

static rd_kafka_resp_err_t send_message(struct kafka_output *k, const struct message *m, uintptr_t tag)
{
	void *key = (void *)m->key, *value = (void *)m->payload;
	if (!k->cloudevents || m->type == KAFKA_TOPIC_HISTORY) /* history documents are no events */
		return rd_kafka_producev(k->rk, RD_KAFKA_V_RKT(k->topics[m->type]),
		                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                         RD_KAFKA_V_KEY(key, m->keylen), RD_KAFKA_V_VALUE(value, m->len),
		                         RD_KAFKA_V_OPAQUE((void *)tag), RD_KAFKA_V_END);
	const char *type = event_type_dataset((enum event_type)m->type);
	return rd_kafka_producev(
	    k->rk, RD_KAFKA_V_RKT(k->topics[m->type]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_KEY(key, m->keylen), RD_KAFKA_V_VALUE(value, m->len), RD_KAFKA_V_OPAQUE((void *)tag),
	    RD_KAFKA_V_HEADER("ce_specversion", "1.0", 3),
	    RD_KAFKA_V_HEADER("ce_id", m->id ? m->id : "", (ssize_t)m->idlen),
	    RD_KAFKA_V_HEADER("ce_type", type, -1), RD_KAFKA_V_HEADER("ce_source", k->source, -1),
	    RD_KAFKA_V_HEADER("ce_time", m->time ? m->time : "", (ssize_t)m->timelen), RD_KAFKA_V_END);
}

/* Copies header `name` of a reported message into buf (for spooling a failed CloudEvents message). */
static void header_value(const rd_kafka_message_t *rm, const char *name, char *buf, size_t cap,
                         const char **out, size_t *len)
{
	rd_kafka_headers_t *hdrs;
	const void *v;
	size_t n;
	*out = NULL;
	*len = 0;
	if (rd_kafka_message_headers(rm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(hdrs, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR || !v)
		return;
	n = n < cap ? n : cap;
	memcpy(buf, v, n);
	*out = buf;
	*len = n;
}

static void on_failure(struct kafka_output *k, const rd_kafka_message_t *rm, unsigned type, bool replay)
{
	char what[64];
	k->last_failure_us = now_us();
	k->stats[type].failed++;
	snprintf(what, sizeof what, "delivery failed (%s)", rd_kafka_err2name(rm->err));
	note_error(k, what, "events go to the spool");
	if (replay) { /* still in the spool: handed out again after a rewind */
		k->replays_in_flight--;
		k->need_rewind = true;
		return;
	}
	k->stats[type].in_flight--;
	char idbuf[ID_MAX], timebuf[TIME_MAX];
	struct message m = {
	    .type = type, .key = rm->key, .keylen = rm->key_len, .payload = rm->payload, .len = rm->len};
	header_value(rm, "ce_id", idbuf, sizeof idbuf, &m.id, &m.idlen);
	header_value(rm, "ce_time", timebuf, sizeof timebuf, &m.time, &m.timelen);
	spool_message(k, &m);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rm, void *opaque)
{
	struct kafka_output *k = opaque;
	uintptr_t tag = (uintptr_t)rm->_private;
	unsigned type = (unsigned)(tag & 7u);
	bool replay = (tag & 8u) != 0;
	if (type >= KAFKA_TOPICS)
		return;
	if (rm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		on_failure(k, rm, type, replay);
		return;
	}
	k->last_success_us = now_us();
	k->stats[type].delivered++;
	if (!replay) {
		k->stats[type].in_flight--;
		return;
	}
	k->replays_in_flight--;
	if (spool_ack(k->spool, (uint64_t)(tag >> 4)) != 0)
		k->undropped[type]++; /* the spool gave up on it meanwhile, yet it arrived */
	sync_spool_counts(k);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_output *k = opaque;
	/* One broker connection dropping is routine (librdkafka reconnects); _ALL_BROKERS_DOWN says what
	 * matters. */
	if (err == RD_KAFKA_RESP_ERR__TRANSPORT)
		return;
	char what[64];
	snprintf(what, sizeof what, "%s", rd_kafka_err2name((rd_kafka_resp_err_t)err));
	note_error(k, what, reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kafka_output *k = rd_kafka_opaque(rk);
	if (level >= 7) { /* debug was asked for with kafka.properties.debug: all of it */
		logger_log(LOGGER_DEBUG, "kafka", "%s: %s", fac, buf);
		return;
	}
	if (strcmp(fac, "FAIL") == 0) /* a broker connection failing: error_cb reports it too */
		return;
	char what[64];
	snprintf(what, sizeof what, "log %s", fac);
	note_error(k, what, buf);
}

static bool replay_allowed(const struct kafka_output *k)
{
	return k->last_failure_us == 0 || k->last_success_us > k->last_failure_us ||
	       now_us() - k->last_failure_us >= HEALTH_RETRY_US;
}

static void replay(struct kafka_output *k)
{
	if (k->need_rewind && k->replays_in_flight == 0) {
		spool_rewind(k->spool);
		k->need_rewind = false;
	}
	if (k->need_rewind || !replay_allowed(k))
		return;
	for (int i = 0; i < REPLAY_BATCH && rd_kafka_outq_len(k->rk) < REPLAY_MAX_OUTQ; i++) {
		uint64_t id;
		uint8_t type;
		const char *meta;
		size_t metalen;
		struct message m = {0};
		if (spool_next(k->spool, &id, &type, &meta, &metalen, &m.payload, &m.len) != 0)
			break;
		if (type >= KAFKA_TOPICS || !k->topics[type]) {
			/* not ours (another version?), or history spooled by a run that shared it while this
			 * one does not: left out of the counts */
			spool_ack(k->spool, id);
			continue;
		}
		m.type = type;
		unpack_meta(&m, meta, metalen);
		if (send_message(k, &m, make_tag(type, true, id)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			k->need_rewind = true; /* handed out but not queued: give it back */
			break;
		}
		k->replays_in_flight++;
		k->stats[type].replayed++;
	}
}

int kafka_output_produce(struct kafka_output *k, const struct output_event *ev)
{
	unsigned type = (unsigned)ev->type;
	if (type >= KAFKA_TOPIC_TYPES) {
		k->unroutable++;
		return -1;
	}
	char timebuf[TIME_MAX], idbuf[ID_MAX];
	struct message m = {.type = type, .key = ev->key, .payload = ev->json, .len = ev->len};
	m.keylen = m.key ? strnlen(m.key, KEY_MAX) : 0;
	if (m.keylen == KEY_MAX && m.key[KEY_MAX] != '\0')
		k->keys_truncated++;
	if (k->cloudevents) {
		if (ev->id) {
			m.id = ev->id;
		} else { /* ce_id is required: make one unique to this source */
			snprintf(idbuf, sizeof idbuf, "%016" PRIx64 "-%" PRIu64, ev->time_us,
			         ++k->ce_counter);
			m.id = idbuf;
		}
		m.idlen = strnlen(m.id, ID_MAX - 1);
		m.time = timebuf;
		m.timelen = civil_time_rfc3339_us(timebuf, sizeof timebuf, ev->time_us); /* as @timestamp */
	}
	k->stats[type].produced++;
	rd_kafka_resp_err_t err = send_message(k, &m, make_tag(type, false, 0));
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->stats[type].in_flight++;
		return 0;
	}
	char what[64];
	snprintf(what, sizeof what, "produce failed (%s)", rd_kafka_err2name(err));
	note_error(k, what, "events go to the spool");
	return spool_message(k, &m);
}

void kafka_output_poll(struct kafka_output *k)
{
	rd_kafka_poll(k->rk, 0);
	replay(k);
}

static uint64_t total_lost(const struct kafka_output *k)
{
	uint64_t n = k->unroutable;
	for (unsigned t = 0; t < KAFKA_TOPICS; t++)
		n += k->stats[t].dropped + k->stats[t].in_flight;
	return n;
}

uint64_t kafka_output_flush(struct kafka_output *k)
{
	/* Until everything is delivered, spool included (retrying it while the brokers are away), or time is
	 * up: the spool would keep its events, but an operator stopping the sensor expects them sent. */
	uint64_t deadline = now_us() + k->shutdown_timeout_ms * 1000u;
	for (;;) {
		kafka_output_poll(k);
		if ((rd_kafka_outq_len(k->rk) == 0 && spool_stats(k->spool)->records == 0) ||
		    now_us() >= deadline)
			break;
		rd_kafka_poll(k->rk, 20);
	}
	/* What is still queued or in flight comes back as failed delivery reports and goes to the spool. */
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	uint64_t purge_deadline = now_us() + 2000000u;
	while (rd_kafka_outq_len(k->rk) > 0 && now_us() < purge_deadline)
		rd_kafka_poll(k->rk, 10);
	rd_kafka_poll(k->rk, 0);
	sync_spool_counts(k);
	return total_lost(k);
}

static int set_property(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
	char why[512];
	if (rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, errlen, "kafka.properties.%s: %s", name, why);
	return -1;
}

int kafka_output_check_property(const char *name, const char *value, char *err, size_t errlen)
{
	/* librdkafka itself judges: a throwaway configuration takes the property or says why not. */
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char why[512];
	int rc = rd_kafka_conf_set(conf, name, value, why, sizeof why) == RD_KAFKA_CONF_OK ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "%s", why);
	rd_kafka_conf_destroy(conf);
	return rc;
}

static rd_kafka_conf_t *make_conf(struct kafka_output *k, const char *brokers, const struct kafka_settings *s,
                                  char *err, size_t errlen)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	static const char *const fixed[][2] = {
	    {"enable.idempotence", "true"}, {"acks", "all"},       {"compression.type", "lz4"},
	    {"client.id", "tlsobs"},        {"log.queue", "true"},
	};
	if (set_property(conf, "bootstrap.servers", brokers, err, errlen) != 0)
		goto fail;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (set_property(conf, fixed[i][0], fixed[i][1], err, errlen) != 0)
			goto fail;
	for (unsigned i = 0; i < s->nproperties && i < KAFKA_MAX_PROPERTIES; i++) {
		const struct kafka_property *p = &s->properties[i];
		if (strcmp(p->name, "enable.idempotence") == 0 && strcmp(p->value, "true") != 0) {
			snprintf(err, errlen,
			         "kafka.properties.enable.idempotence: cannot be turned off (events would "
			         "be duplicated or reordered on retries)");
			goto fail;
		}
		if (set_property(conf, p->name, p->value, err, errlen) != 0)
			goto fail;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_opaque(conf, k);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

static int open_spool(struct kafka_output *k, const struct kafka_settings *s, char *err, size_t errlen)
{
	uint64_t max = s->spool_max_bytes ? s->spool_max_bytes : KAFKA_DEFAULT_SPOOL_MAX_BYTES;
	/* Sixteen segments or more, so dropping the oldest whole segment loses a small part. */
	uint64_t segment = max / 16;
	if (segment > (uint64_t)64 << 20)
		segment = (uint64_t)64 << 20;
	snprintf(k->spool_dir, sizeof k->spool_dir, "%s", s->spool_dir[0] ? s->spool_dir : default_spool_dir);
	char why[512];
	k->spool =
	    spool_open_owned(k->spool_dir, max, segment ? segment : 1, &s->spool_owner, why, sizeof why);
	if (!k->spool) {
		snprintf(err, errlen, "kafka.spool.dir: %s", why);
		return -1;
	}
	const struct spool_stats *ss = spool_stats(k->spool);
	for (unsigned t = 0; t < KAFKA_TOPICS; t++) /* a previous run's events count as handed to us */
		k->stats[t].produced = ss->recovered_by_type[t];
	sync_spool_counts(k);
	return 0;
}

static int open_topics(struct kafka_output *k, const struct kafka_settings *s, char *err, size_t errlen)
{
	const char *prefix = s->topic_prefix[0] ? s->topic_prefix : default_prefix;
	for (unsigned t = 0; t < KAFKA_TOPIC_TYPES; t++) {
		snprintf(k->topic_names[t], sizeof k->topic_names[t], "%s%s", prefix,
		         event_type_name((enum event_type)t));
		k->topics[t] = rd_kafka_topic_new(k->rk, k->topic_names[t], NULL);
		if (!k->topics[t]) {
			snprintf(err, errlen, "kafka topic %s: %s", k->topic_names[t],
			         rd_kafka_err2str(rd_kafka_last_error()));
			return -1;
		}
	}
	/* The history's name only: its handle comes with kafka_output_history_open. */
	snprintf(k->topic_names[KAFKA_TOPIC_HISTORY], sizeof k->topic_names[KAFKA_TOPIC_HISTORY], "%shistory",
	         prefix);
	return 0;
}

struct kafka_output *kafka_output_new(const char *brokers, const struct kafka_settings *s, char *err,
                                      size_t errlen)
{
	struct kafka_output *k = calloc(1, sizeof *k);
	if (!k || !(k->brokers = strdup(brokers))) {
		snprintf(err, errlen, "kafka: out of memory");
		free(k);
		return NULL;
	}
	k->cloudevents = s->cloudevents;
	k->shutdown_timeout_ms =
	    s->shutdown_timeout_ms ? s->shutdown_timeout_ms : KAFKA_DEFAULT_SHUTDOWN_TIMEOUT_MS;
	char host[256] = "localhost";
	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	snprintf(k->source, sizeof k->source, "tlsobs://%s", host);
	if (open_spool(k, s, err, errlen) != 0)
		goto fail;
	rd_kafka_conf_t *conf = make_conf(k, brokers, s, err, errlen);
	if (!conf)
		goto fail;
	char why[512];
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
	if (!k->rk) {
		rd_kafka_conf_destroy(conf);
		snprintf(err, errlen, "kafka: %s", why);
		goto fail;
	}
	rd_kafka_set_log_queue(k->rk, NULL); /* logs are served by rd_kafka_poll, on our thread */
	if (open_topics(k, s, err, errlen) != 0)
		goto fail;
	return k;
fail:
	kafka_output_free(k);
	return NULL;
}

void kafka_output_free(struct kafka_output *k)
{
	if (!k)
		return;
	for (unsigned t = 0; t < KAFKA_TOPICS; t++)
		if (k->topics[t])
			rd_kafka_topic_destroy(k->topics[t]);
	if (k->rk)
		rd_kafka_destroy(k->rk);
	spool_close(k->spool);
	free(k->brokers);
	free(k);
}

const struct kafka_topic_stats *kafka_output_topic_stats(const struct kafka_output *k, unsigned type)
{
	return type < topic_count(k) ? &k->stats[type] : NULL;
}

const char *kafka_output_topic_name(const struct kafka_output *k, unsigned type)
{
	return type < topic_count(k) ? k->topic_names[type] : NULL;
}

void kafka_output_stats_json(const struct kafka_output *k, struct json_writer *w)
{
	json_object_begin(w);
	json_field_cstring(w, "brokers", k->brokers);
	json_key(w, "topics");
	json_object_begin(w);
	for (unsigned t = 0; t < topic_count(k); t++) {
		const struct kafka_topic_stats *st = &k->stats[t];
		json_key(w, k->topic_names[t]);
		json_object_begin(w);
		json_field_uint(w, "produced", st->produced);
		json_field_uint(w, "delivered", st->delivered);
		json_field_uint(w, "failed", st->failed);
		json_field_uint(w, "spooled", st->spooled);
		json_field_uint(w, "replayed", st->replayed);
		json_field_uint(w, "dropped", st->dropped);
		json_field_uint(w, "in_flight", st->in_flight);
		json_object_end(w);
	}
	json_object_end(w);
	const struct spool_stats *ss = spool_stats(k->spool);
	json_key(w, "spool");
	json_object_begin(w);
	json_field_uint(w, "records", ss->records);
	json_field_uint(w, "bytes", ss->bytes);
	json_field_uint(w, "dropped", ss->dropped);
	json_field_uint(w, "corrupt", ss->corrupt);
	json_field_uint(w, "recovered", ss->recovered);
	json_object_end(w);
	if (k->keys_truncated)
		json_field_uint(w, "keys_truncated", k->keys_truncated);
	json_object_end(w);
}

void kafka_output_print_stats(const struct kafka_output *k, FILE *out)
{
	for (unsigned t = 0; t < topic_count(k); t++) {
		const struct kafka_topic_stats *st = &k->stats[t];
		fprintf(out,
		        "tlsobs: kafka %s: %" PRIu64 " produced, %" PRIu64 " delivered, %" PRIu64
		        " spooled, %" PRIu64 " dropped, %" PRIu64 " in flight (%" PRIu64
		        " failed deliveries, %" PRIu64 " replayed)\n",
		        k->topic_names[t], st->produced, st->delivered, st->spooled, st->dropped,
		        st->in_flight, st->failed, st->replayed);
	}
	const struct spool_stats *ss = spool_stats(k->spool);
	fprintf(out,
	        "tlsobs: kafka spool %s: %" PRIu64 " records, %" PRIu64 " bytes, %" PRIu64
	        " dropped, %" PRIu64 " corrupt, %" PRIu64 " recovered from a previous run\n",
	        k->spool_dir, ss->records, ss->bytes, ss->dropped, ss->corrupt, ss->recovered);
	if (k->unroutable)
		fprintf(out, "tlsobs: kafka: %" PRIu64 " events of an unknown type dropped\n", k->unroutable);
	if (k->keys_truncated)
		fprintf(out, "tlsobs: kafka: %" PRIu64 " message keys cut at %u bytes\n", k->keys_truncated,
		        (unsigned)KEY_MAX);
}

uint64_t kafka_output_spool_bytes(const struct kafka_output *k)
{
	return k->spool ? spool_stats(k->spool)->bytes : 0;
}

const char *kafka_output_brokers(const struct kafka_output *k)
{
	return k->brokers;
}

/* ---- the shared history's topic (issue 20) ---- */

int kafka_output_produce_history(struct kafka_output *k, const char *key, size_t key_len, const char *doc,
                                 size_t len)
{
	if (!k->topics[KAFKA_TOPIC_HISTORY])
		return -1;
	struct message m = {
	    .type = KAFKA_TOPIC_HISTORY, .key = key, .keylen = key_len, .payload = doc, .len = len};
	if (m.keylen > KEY_MAX) { /* the key names a server: cut, it would no longer compact with its own */
		k->keys_truncated++;
		m.keylen = KEY_MAX;
	}
	k->stats[KAFKA_TOPIC_HISTORY].produced++;
	rd_kafka_resp_err_t err = send_message(k, &m, make_tag(KAFKA_TOPIC_HISTORY, false, 0));
	if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		k->stats[KAFKA_TOPIC_HISTORY].in_flight++;
		return 0;
	}
	char what[64];
	snprintf(what, sizeof what, "produce failed (%s)", rd_kafka_err2name(err));
	note_error(k, what, "history updates go to the spool");
	return spool_message(k, &m);
}

/* The result event of an admin request on a temporary queue, or NULL after timeout_ms. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, uint64_t timeout_ms)
{
	return rd_kafka_queue_poll(q, (int)(timeout_ms > INT32_MAX ? INT32_MAX : timeout_ms));
}

/* CreateTopics for the history topic: compacted, with its partitions and retention. The topic's error. */
static rd_kafka_resp_err_t create_history_topic(struct kafka_output *k, unsigned partitions,
                                                uint64_t retention_ms, uint64_t timeout_ms, char *why,
                                                size_t whylen)
{
	const char *topic = k->topic_names[KAFKA_TOPIC_HISTORY];
	char retention[24];
	snprintf(retention, sizeof retention, "%" PRIu64, retention_ms);
	rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, (int)partitions, -1, why, whylen);
	if (!nt)
		return RD_KAFKA_RESP_ERR__INVALID_ARG;
	/* Compacted: the last record of every key is kept. A retention also deletes the records of keys not
	 * updated for that long (compact,delete): servers nobody saw for that long are forgotten. */
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", retention_ms ? "compact,delete" : "compact");
	if (retention_ms)
		rd_kafka_NewTopic_set_config(nt, "retention.ms", retention);
	rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
	rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(k->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_request_timeout(opt, (int)timeout_ms, NULL, 0);
	rd_kafka_CreateTopics(k->rk, &nt, 1, opt, q);
	rd_kafka_event_t *ev = admin_wait(q, timeout_ms + 1000);
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
	snprintf(why, whylen, "no answer within %" PRIu64 " ms", timeout_ms);
	if (ev && rd_kafka_event_error(ev)) {
		err = rd_kafka_event_error(ev);
		snprintf(why, whylen, "%s", rd_kafka_event_error_string(ev));
	} else if (ev) {
		size_t n = 0;
		const rd_kafka_topic_result_t **res =
		    rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		err = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL;
		const char *msg = n ? rd_kafka_topic_result_error_string(res[0]) : NULL;
		snprintf(why, whylen, "%s", msg ? msg : rd_kafka_err2str(err));
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_queue_destroy(q);
	rd_kafka_NewTopic_destroy(nt);
	return err;
}

/* DescribeConfigs: the topic's cleanup.policy into policy[]; the request's or the resource's error. */
static rd_kafka_resp_err_t describe_cleanup_policy(struct kafka_output *k, uint64_t timeout_ms, char *policy,
                                                   size_t cap, char *why, size_t whylen)
{
	rd_kafka_ConfigResource_t *res =
	    rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, k->topic_names[KAFKA_TOPIC_HISTORY]);
	rd_kafka_queue_t *q = rd_kafka_queue_new(k->rk);
	rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(k->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
	rd_kafka_AdminOptions_set_request_timeout(opt, (int)timeout_ms, NULL, 0);
	rd_kafka_DescribeConfigs(k->rk, &res, 1, opt, q);
	rd_kafka_event_t *ev = admin_wait(q, timeout_ms + 1000);
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
	snprintf(why, whylen, "no answer within %" PRIu64 " ms", timeout_ms);
	policy[0] = '\0';
	if (ev && rd_kafka_event_error(ev)) {
		err = rd_kafka_event_error(ev);
		snprintf(why, whylen, "%s", rd_kafka_event_error_string(ev));
	} else if (ev) {
		size_t n = 0, nc = 0;
		const rd_kafka_ConfigResource_t **rs =
		    rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
		err = n ? rd_kafka_ConfigResource_error(rs[0]) : RD_KAFKA_RESP_ERR__FAIL;
		snprintf(why, whylen, "%s", rd_kafka_err2str(err));
		const rd_kafka_ConfigEntry_t **ce =
		    n && !err ? rd_kafka_ConfigResource_configs(rs[0], &nc) : NULL;
		for (size_t i = 0; i < nc; i++)
			if (strcmp(rd_kafka_ConfigEntry_name(ce[i]), "cleanup.policy") == 0)
				snprintf(policy, cap, "%s",
				         rd_kafka_ConfigEntry_value(ce[i]) ? rd_kafka_ConfigEntry_value(ce[i])
				                                           : "");
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_queue_destroy(q);
	rd_kafka_ConfigResource_destroy(res);
	return err;
}

/* Whether the cluster's metadata lists the topic (for brokers that cannot create or describe topics). */
static bool topic_listed(struct kafka_output *k, uint64_t timeout_ms)
{
	rd_kafka_topic_t *t = rd_kafka_topic_new(k->rk, k->topic_names[KAFKA_TOPIC_HISTORY], NULL);
	const struct rd_kafka_metadata *md = NULL;
	bool listed = false;
	if (t && rd_kafka_metadata(k->rk, 0, t, &md, (int)timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
		listed = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
		         md->topics[0].partition_cnt > 0;
	if (md)
		rd_kafka_metadata_destroy(md);
	if (t)
		rd_kafka_topic_destroy(t);
	return listed;
}

/* Created, or there and compacted: 0; unchecked but there: 0 with *warning; else -1 with err. */
static int ensure_history_topic(struct kafka_output *k, unsigned partitions, uint64_t retention_ms,
                                uint64_t timeout_ms, const char **warning, char *err, size_t errlen)
{
	const char *topic = k->topic_names[KAFKA_TOPIC_HISTORY];
	char why[512], policy[128];
	rd_kafka_resp_err_t e =
	    create_history_topic(k, partitions, retention_ms, timeout_ms, why, sizeof why);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	/* No answer is not a refusal: brokers without the admin APIs, or without a controller to send them to
	 * (librdkafka's mock cluster), cannot say; the topic is then taken as it is, if it is there. */
	bool unanswered = e == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || e == RD_KAFKA_RESP_ERR__TIMED_OUT;
	if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
		e = describe_cleanup_policy(k, timeout_ms, policy, sizeof policy, why, sizeof why);
	else if (!unanswered) {
		snprintf(err, errlen, "kafka topic %s: the broker refused to create it: %s (%s)", topic, why,
		         rd_kafka_err2name(e));
		return -1;
	}
	if (unanswered) { /* not refused: updates go out (or wait in the spool) as events do */
		*warning =
		    topic_listed(k, timeout_ms)
		        ? "the brokers did not answer CreateTopics: its cleanup.policy was not checked "
		          "(create it with cleanup.policy=compact)"
		        : "the brokers did not answer (CreateTopics, metadata): the topic was neither "
		          "created nor checked; updates wait in the spool until the brokers take them";
		return 0;
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		snprintf(err, errlen, "kafka topic %s: its configuration could not be read: %s (%s)", topic,
		         why, rd_kafka_err2name(e));
		return -1;
	}
	if (!strstr(policy, "compact")) {
		snprintf(err, errlen,
		         "kafka topic %s: cleanup.policy is \"%s\", not compact: the history would be "
		         "deleted by age "
		         "rather than kept per server; set cleanup.policy=compact",
		         topic, policy);
		return -1;
	}
	return 0;
}

int kafka_output_history_check(struct kafka_output *k, unsigned partitions, uint64_t retention_ms,
                               uint64_t timeout_ms, const char **warning, char *err, size_t errlen)
{
	*warning = NULL;
	return ensure_history_topic(k, partitions, retention_ms, timeout_ms, warning, err, errlen);
}

int kafka_output_history_open(struct kafka_output *k, char *err, size_t errlen)
{
	if (k->topics[KAFKA_TOPIC_HISTORY])
		return 0;
	k->topics[KAFKA_TOPIC_HISTORY] = rd_kafka_topic_new(k->rk, k->topic_names[KAFKA_TOPIC_HISTORY], NULL);
	if (!k->topics[KAFKA_TOPIC_HISTORY]) {
		snprintf(err, errlen, "kafka topic %s: %s", k->topic_names[KAFKA_TOPIC_HISTORY],
		         rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	return 0;
}
