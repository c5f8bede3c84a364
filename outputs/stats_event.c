/*
 * stats_event.c: writes the `tlsobs.stats` event from the sensor's counters (stats_event.h), the same
 * numbers as the exit summary. Owns nothing.
 */
#include "outputs/stats_event.h"

#include "outputs/event_common.h"

static void write_flows(struct json_writer *w, const struct sensor_counters *c)
{
	json_key(w, "flows");
	json_object_begin(w);
	json_field_uint(w, "created", c->flows_created);
	json_field_uint(w, "active", c->flows_active);
	json_field_uint(w, "closed", c->flows_closed);
	json_field_uint(w, "timed_out", c->flows_timed_out);
	json_field_uint(w, "evicted", c->flows_evicted);
	json_field_uint(w, "refused", c->flows_refused);
	json_field_bool(w, "emergency", c->emergency);
	json_field_uint(w, "emergency_entered", c->emergency_entered);
	json_field_uint(w, "emergency_left", c->emergency_left);
	json_field_uint(w, "memory_used", c->memcap_used);
	json_field_uint(w, "memory_peak", c->memcap_peak);
	json_field_uint(w, "peak_active", c->flows_peak_active);
	const struct stats_flows_evicted_by *e = &c->flows_evicted_by;
	json_key(w, "evicted_by");
	json_object_begin(w);
	json_field_uint(w, "closed", e->closed);
	json_field_uint(w, "half_open", e->half_open);
	json_field_uint(w, "silent", e->silent);
	json_field_uint(w, "server_only", e->server_only);
	json_field_uint(w, "client_spoke", e->client_spoke);
	json_field_uint(w, "session", e->session);
	json_field_uint(w, "source_budget", e->source_budget);
	json_object_end(w);
	json_object_end(w);
}

static void write_packets(struct json_writer *w, const struct sensor_counters *c)
{
	json_field_uint(w, "packets", c->packets);
	json_field_uint(w, "bytes", c->bytes);
	json_field_uint(w, "tcp_segments", c->tcp_segments);
	json_key(w, "skipped");
	json_object_begin(w);
	json_field_uint(w, "not_ip", c->not_ip);
	json_field_uint(w, "not_tcp", c->not_tcp);
	json_field_uint(w, "other_ports", c->other_ports);
	json_field_uint(w, "stray_segments", c->stray_segments);
	json_object_end(w);
	json_key(w, "decode_anomalies");
	json_object_begin(w);
	for (unsigned i = 0; i < c->anomaly_count; i++)
		json_field_uint(w, c->anomalies[i].name, c->anomalies[i].count);
	json_object_end(w);
	if (c->live) {
		json_key(w, "capture");
		json_object_begin(w);
		json_field_uint(w, "received", c->capture_received);
		json_field_uint(w, "kernel_dropped", c->capture_dropped);
		json_field_uint(w, "interface_dropped", c->capture_if_dropped);
		json_object_end(w);
	}
}

static void write_defrag(struct json_writer *w, const struct sensor_counters *c)
{
	json_key(w, "defrag");
	json_object_begin(w);
	json_field_uint(w, "fragments", c->defrag_fragments);
	json_field_uint(w, "reassembled", c->defrag_reassembled);
	json_field_uint(w, "timeouts", c->defrag_timeouts);
	json_field_uint(w, "overlaps", c->defrag_overlaps);
	json_field_uint(w, "invalid", c->defrag_invalid);
	json_key(w, "gave_up");
	json_object_begin(w);
	json_field_uint(w, "memcap", c->defrag_gave_up_memcap);
	json_field_uint(w, "too_many_fragments", c->defrag_gave_up_too_many_fragments);
	json_field_uint(w, "too_large", c->defrag_gave_up_too_large);
	json_field_uint(w, "snaplen", c->defrag_gave_up_snaplen);
	json_object_end(w);
	json_field_uint(w, "active", c->defrag_active);
	json_field_uint(w, "memory_used", c->defrag_memory_used);
	json_field_uint(w, "memory_peak", c->defrag_memory_peak);
	json_object_end(w);
}

/* tlsobs.stats.history_shared: the fleet's shared history (detection.history.shared), when it is on. */
static void write_history_shared(struct json_writer *w, const struct stats_history_shared *h)
{
	if (!h->on)
		return;
	json_key(w, "history_shared");
	json_object_begin(w);
	json_field_uint(w, "published", h->published);
	json_field_uint(w, "publish_errors", h->publish_errors);
	json_field_uint(w, "received", h->received);
	json_field_uint(w, "merged", h->merged);
	json_field_uint(w, "ignored_own", h->ignored_own);
	json_field_uint(w, "skew_exceeded", h->skew_exceeded);
	json_field_uint(w, "errors", h->errors);
	json_field_uint(w, "lag", h->lag);
	json_field_uint(w, "consumer_errors", h->consumer_errors);
	json_field_bool(w, "consumer_connected", h->consumer_connected);
	json_field_uint(w, "consumer_retries", h->consumer_retries);
	json_field_uint(w, "handover_waits", h->handover_waits);
	json_key(w, "startup");
	json_object_begin(w);
	json_field_uint(w, "wait_ms", h->startup_wait_ms);
	json_field_uint(w, "read", h->startup_read);
	json_field_bool(w, "complete", h->startup_complete);
	json_object_end(w);
	json_object_end(w);
}
static void write_findings(struct json_writer *w, const struct sensor_counters *c)
{
	json_key(w, "sessions");
	json_object_begin(w);
	json_field_uint(w, "reported", c->sessions_reported);
	json_field_uint(w, "unanswered", c->sessions_unanswered);
	json_object_end(w);
	json_key(w, "reassembly");
	json_object_begin(w);
	json_field_uint(w, "gaps", c->gaps);
	json_field_uint(w, "gap_bytes", c->gap_bytes);
	json_object_end(w);
	json_key(w, "alerts");
	json_object_begin(w);
	for (int r = 0; r < RULE_COUNT; r++)
		if (c->alerts[r])
			json_field_uint(w, rule_info((enum rule_code)r)->name, c->alerts[r]);
	json_object_end(w);
	json_field_uint(w, "certificates_known", c->certificates_known);
	json_key(w, "history");
	json_object_begin(w);
	json_field_uint(w, "servers", c->history_servers);
	json_field_uint(w, "pairs", c->history_pairs);
	json_field_uint(w, "tls_servers", c->history_tls_servers);
	json_field_uint(w, "evicted", c->history_evicted);
	json_field_uint(w, "expired", c->history_expired);
	json_field_uint(w, "servers_bytes", c->history_servers_bytes);
	json_field_uint(w, "pairs_bytes", c->history_pairs_bytes);
	json_field_uint(w, "tls_servers_bytes", c->history_tls_servers_bytes);
	json_field_uint(w, "certificates_bytes", c->history_certificates_bytes);
	json_field_uint(w, "bytes", c->history_bytes);
	json_field_uint(w, "memcap", c->history_memcap);
	json_field_uint(w, "memcap_evicted", c->history_memcap_evicted);
	json_object_end(w);
	write_history_shared(w, &c->history_shared);
	json_key(w, "certificate_cache");
	json_object_begin(w);
	json_field_uint(w, "entries", c->cert_cache_entries);
	json_field_uint(w, "memory_used", c->cert_cache_memory_used);
	json_field_uint(w, "hits", c->cert_cache_hits);
	json_field_uint(w, "misses", c->cert_cache_misses);
	json_field_uint(w, "evicted", c->cert_cache_evicted);
	json_key(w, "intermediates");
	json_object_begin(w);
	json_field_uint(w, "entries", c->issuer_cache_entries);
	json_field_uint(w, "memory_used", c->issuer_cache_memory_used);
	json_field_uint(w, "hits", c->issuer_cache_hits);
	json_field_uint(w, "misses", c->issuer_cache_misses);
	json_field_uint(w, "evicted", c->issuer_cache_evicted);
	json_object_end(w);
	json_object_end(w);
	json_field_uint(w, "events_dropped", c->events_dropped);
}

/* Per worker: what it was given, holds and handed over, and the reader's waits for it. */
static void write_workers(struct json_writer *w, const struct sensor_counters *c)
{
	json_key(w, "workers");
	json_array_begin(w);
	for (unsigned i = 0; i < c->worker_count && i < STATS_MAX_WORKERS; i++) {
		const struct stats_worker *k = &c->workers[i];
		json_object_begin(w);
		json_field_uint(w, "id", i);
		json_field_uint(w, "packets", k->packets);
		json_field_uint(w, "bytes", k->bytes);
		json_field_uint(w, "flows_active", k->flows_active);
		json_field_uint(w, "sessions", k->sessions);
		json_field_uint(w, "queue_full_waits", k->queue_full_waits);
		json_object_end(w);
	}
	json_array_end(w);
}

void stats_event_write(struct json_writer *w, const struct sensor_counters *c, struct output *const *outputs,
                       size_t noutputs, const struct event_context *ctx, uint64_t created_us)
{
	static const char *const category[] = {"network", NULL}, *const type[] = {"info", NULL};
	char id[EVENT_ID_LEN];
	event_id_make(id, c->run_id, 'm', c->seq);
	event_begin(
	    w, ctx,
	    &(struct event_header){EVENT_TYPE_STATS, "metric", category, type, id, c->time_us, created_us});
	json_object_end(w);
	event_tlsobs_begin(w);
	json_key(w, "stats");
	json_object_begin(w);
	json_field_bool(w, "final", c->final);
	write_packets(w, c);
	write_flows(w, c);
	write_defrag(w, c);
	write_findings(w, c);
	write_workers(w, c);
	json_key(w, "outputs");
	json_array_begin(w);
	for (size_t i = 0; i < noutputs; i++)
		output_stats_json(outputs[i], w);
	json_array_end(w);
	json_object_end(w);
	event_end(w);
}
