/*
 * stats_event.h: the `tlsobs.stats` event (event.kind "metric"): the sensor's
 * counters at one moment, written every stats.interval and once at exit. The
 * same numbers as the exit summary, so the two reconcile exactly.
 */
#ifndef TLSOBS_STATS_EVENT_H
#define TLSOBS_STATS_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "outputs/output.h"
#include "rules/alert.h"
#include "rules/session_id.h"

enum { STATS_MAX_NAMED = 48 };   /* at least every decode anomaly (sensor.c asserts it) */
enum { STATS_MAX_WORKERS = 64 }; /* capture.workers at most */

struct stats_named_count {
	const char *name;
	uint64_t count;
};

/* A snapshot of the sensor's counters, filled by the sensor (outputs knows nothing of flows). */
struct sensor_counters {
	uint64_t time_us;            /* packet time of the snapshot */
	char run_id[SESSION_ID_LEN]; /* session_id_make(run_nonce, 0): with seq, event.id */
	uint64_t seq;                /* the snapshot's number in this run */
	bool final;                  /* the last snapshot, at exit */
	uint64_t packets, bytes, tcp_segments;
	uint64_t not_ip, not_tcp, other_ports, stray_segments;
	struct stats_named_count anomalies[STATS_MAX_NAMED]; /* decode anomalies by reason, nonzero only */
	unsigned anomaly_count;
	uint64_t flows_created, flows_active, flows_closed, flows_timed_out, flows_evicted, flows_refused;
	uint64_t emergency_entered, emergency_left;
	bool emergency;
	uint64_t memcap_used, memcap_peak;
	uint64_t flows_peak_active;
	/* evictions by reason (flows.evicted_by): the victim's class, or its source over its budget */
	struct stats_flows_evicted_by {
		uint64_t closed, half_open, silent, server_only, client_spoke, session, source_budget;
	} flows_evicted_by;
	uint64_t sessions_reported, sessions_unanswered, events_dropped;
	uint64_t gaps, gap_bytes;
	/* IP fragment reassembly (sensor/flow/defrag.h) */
	uint64_t defrag_fragments, defrag_reassembled, defrag_timeouts, defrag_overlaps, defrag_invalid;
	uint64_t defrag_gave_up_memcap, defrag_gave_up_too_many_fragments, defrag_gave_up_too_large,
	    defrag_gave_up_snaplen;
	uint64_t defrag_active, defrag_memory_used, defrag_memory_peak;
	uint64_t alerts[RULE_COUNT];
	uint64_t certificates_known;
	uint64_t history_servers, history_pairs, history_tls_servers; /* cross-session memory held now */
	uint64_t history_evicted, history_expired;
	/* the certificate cache (sensor/app/cert_cache.h): held now, and since start */
	uint64_t cert_cache_entries, cert_cache_memory_used, cert_cache_hits, cert_cache_misses,
	    cert_cache_evicted;
	/* its decoded intermediates (sensor/app/issuer_cache.h): held now, and since start */
	uint64_t issuer_cache_entries, issuer_cache_memory_used, issuer_cache_hits, issuer_cache_misses,
	    issuer_cache_evicted;
	/* bytes held now (detection.history.memcap): per table, in all; entries dropped to stay under it */
	uint64_t history_servers_bytes, history_pairs_bytes, history_tls_servers_bytes,
	    history_certificates_bytes;
	uint64_t history_bytes, history_memcap, history_memcap_evicted;
	bool live;
	uint64_t capture_received, capture_dropped, capture_if_dropped;
	/* tlsobs.stats.workers[]: each packet worker (capture.workers), in index order */
	struct stats_worker {
		uint64_t packets, bytes, flows_active, sessions, queue_full_waits;
	} workers[STATS_MAX_WORKERS];
	unsigned worker_count;
	/* detection.history.shared (sensor/state/history_share.h, history_feed.h); written when `on` */
	struct stats_history_shared {
		bool on;
		uint64_t published, publish_errors, received, merged, ignored_own, skew_exceeded, errors;
		uint64_t startup_wait_ms, startup_read, lag, consumer_errors, consumer_retries,
		    handover_waits;
		bool startup_complete, consumer_connected;
	} history_shared;
};

void stats_event_write(struct json_writer *w, const struct sensor_counters *c, struct output *const *outputs,
                       size_t noutputs, const struct event_context *ctx, uint64_t created_us);

#endif
