/*
 * metrics.c: Prometheus text exposition of the sensor's counters (metrics.h).
 *
 * Names follow the Prometheus conventions: a tlsobs_ prefix, base units,
 * _total on counters, _bytes on sizes, labels for what one counter splits
 * into (result, rule, topic and state). Every family has its # HELP and
 * # TYPE, and every series of a family is written together, as promtool
 * check metrics asks.
 */
#include "outputs/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/alert.h"

enum { METRICS_RENDER_CAP = 256 * 1024 };

struct metrics_board {
	pthread_mutex_t lock; /* guards snap */
	struct metrics_snapshot snap;
	char version[64];
};

struct sink {
	char *buf;
	size_t cap, len;
	bool full;
};

static void put(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct sink *s, const char *fmt, ...)
{
	if (s->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->cap - s->len) {
		s->full = true;
		return;
	}
	s->len += (size_t)n;
}

static void family(struct sink *s, const char *name, const char *type, const char *help)
{
	put(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct sink *s, const char *name, const char *type, const char *help, uint64_t v)
{
	family(s, name, type, help);
	put(s, "%s %" PRIu64 "\n", name, v);
}

/* A label value as the exposition format wants it: backslash, quote and newline escaped. */
static void label_value(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 3 < cap; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n') {
			out[o++] = '\\';
			out[o++] = *in == '\n' ? 'n' : *in;
		} else {
			out[o++] = *in;
		}
	}
	out[o] = '\0';
}

static void render_sessions(struct sink *s, const struct metrics_snapshot *m)
{
	family(s, "tlsobs_sessions_total", "counter", "Sessions reported, by tlsobs.smtp.starttls.result.");
	for (int r = 0; r < METRICS_STARTTLS_RESULTS; r++)
		put(s, "tlsobs_sessions_total{result=\"%s\"} %" PRIu64 "\n",
		    starttls_result_str((enum starttls_result)r), m->sessions_by_result[r]);
	put(s, "tlsobs_sessions_total{result=\"not_mail\"} %" PRIu64 "\n", m->sessions_not_mail);
	one(s, "tlsobs_sessions_unanswered_total", "counter",
	    "Flows that ended without an answer from the server.", m->c.sessions_unanswered);
	family(s, "tlsobs_alerts_total", "counter", "Alerts raised, by rule.name.");
	for (int r = 0; r < RULE_COUNT; r++)
		put(s, "tlsobs_alerts_total{rule=\"%s\"} %" PRIu64 "\n", rule_info((enum rule_code)r)->name,
		    m->c.alerts[r]);
}

static void render_capture(struct sink *s, const struct metrics_snapshot *m)
{
	const struct sensor_counters *c = &m->c;
	one(s, "tlsobs_packets_total", "counter", "Packets read from the capture.", c->packets);
	one(s, "tlsobs_bytes_total", "counter", "Bytes of the packets read from the capture.", c->bytes);
	one(s, "tlsobs_capture_received_total", "counter", "Packets the kernel passed to the capture (live).",
	    c->capture_received);
	one(s, "tlsobs_capture_kernel_drops_total", "counter",
	    "Packets the kernel dropped for lack of buffer space (live capture).", c->capture_dropped);
	one(s, "tlsobs_capture_interface_drops_total", "counter",
	    "Packets the interface or driver dropped (live).", c->capture_if_dropped);
	family(s, "tlsobs_decode_anomalies_total", "counter",
	       "Packets that could not be decoded, by reason.");
	for (unsigned i = 0; i < c->anomaly_count; i++)
		put(s, "tlsobs_decode_anomalies_total{reason=\"%s\"} %" PRIu64 "\n", c->anomalies[i].name,
		    c->anomalies[i].count);
	one(s, "tlsobs_flow_memory_bytes", "gauge", "Bytes charged to flow.memcap now.", c->memcap_used);
	one(s, "tlsobs_flows_active", "gauge", "Flows in the flow table now.", c->flows_active);
	one(s, "tlsobs_flows_created_total", "counter", "Flows created.", c->flows_created);
	one(s, "tlsobs_flows_evicted_total", "counter", "Flows evicted to make room under flow.memcap.",
	    c->flows_evicted);
	one(s, "tlsobs_flows_refused_total", "counter", "Flows not created: no room under flow.memcap.",
	    c->flows_refused);
	one(s, "tlsobs_emergency_mode", "gauge", "1 while the flow table runs with its emergency timeouts.",
	    c->emergency ? 1 : 0);
	one(s, "tlsobs_reassembly_gaps_total", "counter", "Holes in reassembled streams.", c->gaps);
}

static void render_kafka(struct sink *s, const struct metrics_snapshot *m)
{
	static const char *const states[] = {"produced", "delivered", "failed", "replayed", "dropped"};
	family(s, "tlsobs_kafka_messages_total", "counter",
	       "Kafka messages by topic and state: produced, delivered, failed (then spooled), replayed, "
	       "dropped.");
	for (unsigned k = 0; k < m->nkafka; k++)
		for (unsigned t = 0; t < KAFKA_TOPIC_TYPES; t++) {
			const struct metrics_kafka *mk = &m->kafka[k];
			if (!mk->topics[t][0])
				continue;
			char topic[400];
			label_value(mk->topics[t], topic, sizeof topic);
			const struct kafka_topic_stats *st = &mk->stats[t];
			const uint64_t v[] = {st->produced, st->delivered, st->failed, st->replayed,
			                      st->dropped};
			for (unsigned i = 0; i < sizeof states / sizeof states[0]; i++)
				put(s, "tlsobs_kafka_messages_total{topic=\"%s\",state=\"%s\"} %" PRIu64 "\n",
				    topic, states[i], v[i]);
		}
	uint64_t spool = 0, in_flight = 0;
	for (unsigned k = 0; k < m->nkafka; k++) {
		spool += m->kafka[k].spool_bytes;
		for (unsigned t = 0; t < KAFKA_TOPIC_TYPES; t++)
			in_flight += m->kafka[k].stats[t].in_flight;
	}
	one(s, "tlsobs_kafka_spool_bytes", "gauge", "Bytes in the Kafka disk spool now.", spool);
	one(s, "tlsobs_kafka_in_flight_messages", "gauge",
	    "Messages queued in librdkafka, not yet acknowledged.", in_flight);
}

static void render_outputs(struct sink *s, const struct metrics_snapshot *m)
{
	family(s, "tlsobs_output_events_total", "counter", "Events per json: output, written or failed.");
	for (unsigned i = 0; i < m->nfiles; i++) {
		char spec[800];
		label_value(m->files[i].spec, spec, sizeof spec);
		put(s, "tlsobs_output_events_total{output=\"%s\",result=\"written\"} %" PRIu64 "\n", spec,
		    m->files[i].written);
		put(s, "tlsobs_output_events_total{output=\"%s\",result=\"failed\"} %" PRIu64 "\n", spec,
		    m->files[i].failed);
	}
	one(s, "tlsobs_events_dropped_total", "counter", "Events that no output took.", m->c.events_dropped);
	one(s, "tlsobs_state_db_errors_total", "counter", "State database flushes that failed.",
	    m->state_db_errors);
	family(s, "tlsobs_config_reloads_total", "counter",
	       "SIGHUP reloads of the configuration, by result.");
	put(s, "tlsobs_config_reloads_total{result=\"success\"} %" PRIu64 "\n", m->reloads_ok);
	put(s, "tlsobs_config_reloads_total{result=\"failure\"} %" PRIu64 "\n", m->reloads_failed);
}

void metrics_add_output(struct metrics_snapshot *m, const struct output *o)
{
	const struct kafka_output *k = output_kafka(o);
	if (k && m->nkafka < METRICS_MAX_KAFKA) {
		struct metrics_kafka *mk = &m->kafka[m->nkafka++];
		for (unsigned t = 0; t < KAFKA_TOPIC_TYPES; t++) {
			const char *name = kafka_output_topic_name(k, t);
			snprintf(mk->topics[t], sizeof mk->topics[t], "%s", name ? name : "");
			mk->stats[t] = *kafka_output_topic_stats(k, t);
		}
		mk->spool_bytes = kafka_output_spool_bytes(k);
	} else if (!k && m->nfiles < METRICS_MAX_FILES) {
		struct metrics_file_output *f = &m->files[m->nfiles++];
		snprintf(f->spec, sizeof f->spec, "%s", output_spec(o));
		output_counts(o, &f->written, &f->failed);
	}
}

long metrics_render(const struct metrics_snapshot *m, const char *version, char *buf, size_t cap)
{
	struct sink s = {buf, cap, 0, cap == 0};
	char v[160];
	label_value(version, v, sizeof v);
	family(&s, "tlsobs_build_info", "gauge", "Always 1; the version in a label.");
	put(&s, "tlsobs_build_info{version=\"%s\"} 1\n", v);
	render_capture(&s, m);
	render_sessions(&s, m);
	render_kafka(&s, m);
	render_outputs(&s, m);
	return s.full ? -1 : (long)s.len;
}

struct metrics_board *metrics_board_new(const char *version)
{
	struct metrics_board *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	snprintf(b->version, sizeof b->version, "%s", version);
	return b;
}

void metrics_board_free(struct metrics_board *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b);
}

void metrics_board_publish(struct metrics_board *b, const struct metrics_snapshot *m)
{
	pthread_mutex_lock(&b->lock);
	b->snap = *m;
	pthread_mutex_unlock(&b->lock);
}

char *metrics_board_render(struct metrics_board *b, size_t *len)
{
	struct metrics_snapshot *copy = malloc(sizeof *copy);
	char *buf = malloc(METRICS_RENDER_CAP);
	if (!copy || !buf) {
		free(copy);
		free(buf);
		return NULL;
	}
	pthread_mutex_lock(&b->lock);
	*copy = b->snap;
	pthread_mutex_unlock(&b->lock);
	long n = metrics_render(copy, b->version, buf, METRICS_RENDER_CAP);
	free(copy);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}
