/*
 * sensor_stats.c: the sensor's counters as the process sees them: every
 * worker's summed with the shared ones (sensor_stats), the tlsobs.stats
 * event's counters (sensor_stats_fill_counters, for sensor.c's stats events),
 * the metrics endpoint's snapshot (sensor_metrics) and the exit summary
 * (sensor_print_summary).
 *
 * Owns nothing: it reads struct sensor (sensor_private.h) and the workers'
 * snapshots, and never moves the stats sequence (sensor.c does, per event).
 */
#include "sensor/sensor.h"
#include "sensor/sensor_private.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "outputs/stats_event.h"
#include "rules/rules_engine.h"
#include "sensor/app/cert_cache.h"
#include "sensor/app/geoip.h"
#include "sensor/app/issuer_cache.h"
#include "sensor/app/tls_inspect.h"
#include "sensor/history_feed.h"
#include "sensor/state/state_db.h"
#include "sensor/state/state_sync.h"
#include "sensor/worker.h"
#include "sensor/workers/worker_pool.h"

static void fill_defrag_counters(const struct defrag_stats *ds, struct sensor_counters *c)
{
	c->defrag_fragments = ds->fragments;
	c->defrag_reassembled = ds->reassembled;
	c->defrag_timeouts = ds->timeouts;
	c->defrag_overlaps = ds->overlaps;
	c->defrag_invalid = ds->invalid;
	c->defrag_gave_up_memcap = ds->gave_up_memcap;
	c->defrag_gave_up_too_many_fragments = ds->gave_up_too_many_fragments;
	c->defrag_gave_up_too_large = ds->gave_up_too_large;
	c->defrag_gave_up_snaplen = ds->gave_up_snaplen;
	c->defrag_active = ds->active;
	c->defrag_memory_used = ds->memory_used;
	c->defrag_memory_peak = ds->memory_peak;
}

/* dst += src, counter by counter: the workers' counter structs are uint64_t only. */
static void add_counters(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst, v;
	const unsigned char *p = src;
	for (size_t i = 0; i + sizeof v <= size; i += sizeof v) {
		memcpy(&v, p + i, sizeof v);
		d[i / sizeof v] += v;
	}
}

/* Every worker's snapshot, summed (peaks too: an upper bound of the process's peak). */
static void sum_workers(const struct sensor *s, struct worker_snapshot *sum)
{
	_Static_assert(sizeof(struct worker_stats) % 8 == 0 && sizeof(struct flow_record_stats) % 8 == 0 &&
	                   sizeof(struct flow_table_stats) % 8 == 0 && sizeof(struct memcap) % 8 == 0 &&
	                   sizeof(struct defrag_stats) % 8 == 0 && sizeof(struct classify_stats) % 8 == 0,
	               "worker counters are uint64_t only");
	memset(sum, 0, sizeof *sum);
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker_pool_lane_stats ls;
		worker_pool_lane_stats(s->pool, i, &ls);
		const struct worker_snapshot *w = &ls.snap;
		add_counters(&sum->stats, &w->stats, sizeof w->stats);
		add_counters(&sum->records, &w->records, sizeof w->records);
		add_counters(&sum->flows, &w->flows, sizeof w->flows);
		add_counters(&sum->memcap, &w->memcap, sizeof w->memcap);
		add_counters(&sum->defrag, &w->defrag, sizeof w->defrag);
		add_counters(&sum->classify, &w->classify, sizeof w->classify);
		sum->emergency = sum->emergency || w->emergency;
		sum->classified = sum->classified || w->classified;
		sum->now_us = w->now_us > sum->now_us ? w->now_us : sum->now_us;
	}
}

/* The shared counters with the workers' added: the process's view (sensor_stats, events, summary). */
static void collect_stats(const struct sensor *s, struct sensor_stats *out)
{
	struct worker_snapshot sum;
	sum_workers(s, &sum);
	const struct worker_stats *w = &sum.stats;
	const struct flow_record_stats *r = &sum.records;
	*out = s->stats;
	out->packets = w->packets;
	out->bytes = w->bytes;
	memcpy(out->decode, w->decode, sizeof out->decode);
	out->other_ports = w->other_ports;
	out->stray_segments = w->stray_segments;
	out->sessions_unanswered = w->sessions_unanswered;
	out->gaps = w->gaps;
	out->gap_bytes = w->gap_bytes;
	out->flows_not_mail = w->flows_not_mail;
	out->dump_errors = r->dump_errors;
	out->parser_memcap_stops = r->parser_memcap_stops;
	_Static_assert(sizeof out->classified == sizeof r->classified, "one counter per verdict");
	memcpy(out->classified, r->classified, sizeof out->classified);
	out->hold_overflows = r->hold_overflows;
}

/*
 * The capture's counters. With worker threads each capture is read on its own
 * thread (libpcap's counters are not to be read beside it): the live workers'
 * copies, summed (worker_pool_capture_stats); files: the capture's own once
 * the reader is done (the summary), nothing while it runs. Live, the capture
 * given to sensor_set_capture is worker 0's: the others are counted through
 * their workers.
 */
static void read_capture_stats(const struct sensor *s, struct capture_stats *cs)
{
	memset(cs, 0, sizeof *cs);
	if (!worker_pool_threaded(s->pool))
		capture_stats(s->capture, cs);
	else if (capture_is_live(s->capture))
		worker_pool_capture_stats(s->pool, cs); /* the last ones after the join */
	else if (!worker_pool_running(s->pool))
		capture_stats(s->capture, cs);
}

/* tlsobs.stats.workers[]: each worker's share. */
static void fill_worker_counters(const struct sensor *s, struct sensor_counters *c)
{
	_Static_assert((int)STATS_MAX_WORKERS >= (int)SETTINGS_MAX_WORKERS, "a stats entry per worker");
	c->worker_count = s->nworkers;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker_pool_lane_stats ls;
		worker_pool_lane_stats(s->pool, i, &ls);
		c->workers[i] = (struct stats_worker){.packets = ls.snap.stats.packets,
		                                      .bytes = ls.snap.stats.bytes,
		                                      .flows_active = ls.snap.flows.active,
		                                      .sessions = ls.sessions,
		                                      .queue_full_waits = ls.queue.full_waits};
	}
}

void sensor_stats_fill_counters(struct sensor *s, struct sensor_counters *c, bool final)
{
	struct worker_snapshot sum;
	sum_workers(s, &sum);
	const struct flow_table_stats *ft = &sum.flows;
	const struct memcap *mc = &sum.memcap;
	struct sensor_stats all;
	collect_stats(s, &all);
	const struct sensor_stats *st = &all;
	memset(c, 0, sizeof *c);
	c->time_us = s->now_us;
	session_id_make(c->run_id, s->run_nonce, 0);
	c->seq = s->stats_seq + 1; /* emit_stats moves stats_seq: a metrics snapshot is no event */
	c->final = final;
	c->packets = st->packets;
	c->bytes = st->bytes;
	c->tcp_segments = st->decode[DECODE_OK];
	c->not_ip = st->decode[DECODE_NOT_IP];
	c->not_tcp = st->decode[DECODE_NOT_TCP];
	c->other_ports = st->other_ports;
	c->stray_segments = st->stray_segments;
	_Static_assert((int)DECODE_RESULT_COUNT <= (int)STATS_MAX_NAMED,
	               "tlsobs.stats.decode_anomalies must have room for every reason");
	for (int r = 0; r < DECODE_RESULT_COUNT && c->anomaly_count < STATS_MAX_NAMED; r++)
		if (decode_result_is_anomaly((enum decode_result)r) && st->decode[r])
			c->anomalies[c->anomaly_count++] = (struct stats_named_count){
			    decode_result_str((enum decode_result)r), st->decode[r]};
	c->flows_created = ft->created;
	c->flows_active = ft->active;
	c->flows_closed = ft->closed;
	c->flows_timed_out = ft->timed_out;
	c->flows_evicted = ft->evicted;
	c->flows_refused = ft->refused;
	c->emergency_entered = ft->emergency_entered;
	c->emergency_left = ft->emergency_left;
	c->emergency = sum.emergency;
	c->memcap_used = mc->used;
	c->memcap_peak = mc->peak;
	c->flows_peak_active = ft->peak_active;
	c->flows_evicted_by =
	    (struct stats_flows_evicted_by){.closed = ft->evicted_by[FLOW_CLASS_CLOSED],
	                                    .half_open = ft->evicted_by[FLOW_CLASS_HALF_OPEN],
	                                    .silent = ft->evicted_by[FLOW_CLASS_SILENT],
	                                    .server_only = ft->evicted_by[FLOW_CLASS_SERVER_ONLY],
	                                    .client_spoke = ft->evicted_by[FLOW_CLASS_CLIENT],
	                                    .session = ft->evicted_by[FLOW_CLASS_SESSION],
	                                    .source_budget = ft->evicted_source_budget};
	c->sessions_reported = st->sessions_reported;
	c->sessions_unanswered = st->sessions_unanswered;
	c->events_dropped = st->events_dropped;
	c->gaps = st->gaps;
	c->gap_bytes = st->gap_bytes;
	fill_defrag_counters(&sum.defrag, c);
	memcpy(c->alerts, rules_engine_stats(s->rules)->alerts, sizeof c->alerts);
	const struct rules_stats *rs = rules_engine_stats(s->rules);
	c->certificates_known = rs->certificates_known;
	c->history_servers = rs->history_servers;
	c->history_pairs = rs->history_pairs;
	c->history_tls_servers = rs->history_tls_servers;
	c->history_evicted = rs->history_evicted;
	c->history_expired = rs->history_expired;
	struct cert_cache_stats cc;
	tls_inspector_cache_stats(s->tls_inspector, &cc);
	c->cert_cache_entries = cc.entries;
	c->cert_cache_memory_used = cc.bytes;
	c->cert_cache_hits = cc.hits;
	c->cert_cache_misses = cc.misses;
	c->cert_cache_evicted = cc.evictions;
	struct issuer_cache_stats ic;
	tls_inspector_issuer_stats(s->tls_inspector, &ic);
	c->issuer_cache_entries = ic.entries;
	c->issuer_cache_memory_used = ic.bytes;
	c->issuer_cache_hits = ic.hits;
	c->issuer_cache_misses = ic.misses;
	c->issuer_cache_evicted = ic.evictions;
	c->history_servers_bytes = rs->history_servers_bytes;
	c->history_pairs_bytes = rs->history_pairs_bytes;
	c->history_tls_servers_bytes = rs->history_tls_servers_bytes;
	c->history_certificates_bytes = rs->certificates_bytes;
	c->history_bytes = rs->history_bytes;
	c->history_memcap = rs->history_memcap;
	c->history_memcap_evicted = rs->history_memcap_evicted;
	fill_worker_counters(s, c);
	if (s->capture && capture_is_live(s->capture)) {
		struct capture_stats cs;
		read_capture_stats(s, &cs);
		c->live = true;
		c->capture_received = cs.received;
		c->capture_dropped = cs.dropped;
		c->capture_if_dropped = cs.if_dropped;
	}
	if (s->history)
		history_feed_fill_counters(s->history, &c->history_shared);
}

void sensor_metrics(struct sensor *s, struct metrics_snapshot *m)
{
	memset(m, 0, sizeof *m);
	sensor_stats_fill_counters(s, &m->c, false);
	memcpy(m->sessions_by_result, s->stats.sessions_by_result, sizeof m->sessions_by_result);
	m->sessions_not_mail = s->stats.sessions_not_mail;
	m->reloads_ok = s->stats.reloads;
	m->reloads_failed = s->stats.reload_failures;
	if (s->sync)
		m->state_db_errors = state_sync_stats(s->sync)->flush_errors;
	for (size_t i = 0; i < s->noutputs; i++)
		metrics_add_output(m, s->outputs[i]);
	m->published_us = sensor_wall_clock_us();
}

struct sensor_stats sensor_stats(const struct sensor *s)
{
	struct sensor_stats all;
	collect_stats(s, &all);
	return all;
}

/* The summary's packet path: packets, what was skipped, decode anomalies, flows, sessions, fragments. */
static void print_packet_path(const struct sensor *s, const struct sensor_stats *st, FILE *out)
{
	struct worker_snapshot sum;
	sum_workers(s, &sum);
	const struct flow_table_stats *ft = &sum.flows;
	fprintf(out, "tlsobs: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " TCP segments\n",
	        st->packets, st->bytes, st->decode[DECODE_OK]);
	fprintf(out,
	        "tlsobs: skipped: %" PRIu64 " not IP, %" PRIu64 " not TCP, %" PRIu64 " other ports, %" PRIu64
	        " stray segments\n",
	        st->decode[DECODE_NOT_IP], st->decode[DECODE_NOT_TCP], st->other_ports, st->stray_segments);
	uint64_t anomalies = 0;
	for (int r = 0; r < DECODE_RESULT_COUNT; r++)
		if (decode_result_is_anomaly((enum decode_result)r))
			anomalies += st->decode[r];
	fprintf(out, "tlsobs: decode anomalies: %" PRIu64, anomalies);
	for (int r = 0; r < DECODE_RESULT_COUNT; r++)
		if (decode_result_is_anomaly((enum decode_result)r) && st->decode[r])
			fprintf(out, ", %s %" PRIu64, decode_result_str((enum decode_result)r),
			        st->decode[r]);
	fputc('\n', out);
	fprintf(out,
	        "tlsobs: flows: %" PRIu64 " created, %" PRIu64 " closed, %" PRIu64 " timed out, %" PRIu64
	        " evicted, %" PRIu64 " refused (memcap), peak %" PRIu64
	        " at once, emergency mode entered %" PRIu64 " left %" PRIu64 "\n",
	        ft->created, ft->closed, ft->timed_out, ft->evicted, ft->refused, ft->peak_active,
	        ft->emergency_entered, ft->emergency_left);
	if (ft->evicted) {
		fprintf(out, "tlsobs: flows evicted by reason:");
		for (int c = 0; c < FLOW_CLASS_COUNT; c++)
			fprintf(out, " %s %" PRIu64 ",", flow_class_str((enum flow_class)c),
			        ft->evicted_by[c]);
		fprintf(out, " source_budget %" PRIu64 "\n", ft->evicted_source_budget);
	}
	fprintf(out,
	        "tlsobs: sessions: %" PRIu64 " reported, %" PRIu64 " unanswered; reassembly gaps: %" PRIu64
	        " (%" PRIu64 " bytes); events dropped: %" PRIu64 "\n",
	        st->sessions_reported, st->sessions_unanswered, st->gaps, st->gap_bytes, st->events_dropped);
	fprintf(out, "tlsobs: alerts: %" PRIu64 "\n", st->alerts);
	const struct defrag_stats *fs = &sum.defrag;
	if (fs->fragments)
		fprintf(out,
		        "tlsobs: fragments: %" PRIu64 " in, %" PRIu64 " datagrams reassembled, %" PRIu64
		        " timed out, %" PRIu64 " overlaps with conflicting bytes, %" PRIu64
		        " invalid; given up: %" PRIu64 " memcap, %" PRIu64 " too many fragments, %" PRIu64
		        " too large, %" PRIu64 " cut by the snap length; peak memory %" PRIu64 "\n",
		        fs->fragments, fs->reassembled, fs->timeouts, fs->overlaps, fs->invalid,
		        fs->gave_up_memcap, fs->gave_up_too_many_fragments, fs->gave_up_too_large,
		        fs->gave_up_snaplen, fs->memory_peak);
}

/* The summary's services: state database, GeoIP, nDPI, what was given up, reloads. */
static void print_services(const struct sensor *s, const struct sensor_stats *st, FILE *out)
{
	if (s->sync) {
		const struct state_sync_stats *ss = state_sync_stats(s->sync);
		struct state_db_stats ds;
		state_db_get_stats(s->state, &ds);
		fprintf(out,
		        "tlsobs: state_db: %" PRIu64 " records restored (%" PRIu64
		        " of another layout skipped), %" PRIu64 " saved, %" PRIu64 " notes written, %" PRIu64
		        " dropped (queue full), %" PRIu64 " lost; flush errors %" PRIu64 "\n",
		        ss->restored, ss->restore_skipped, ss->records_saved, ds.written, ds.dropped, ds.lost,
		        ss->flush_errors);
		if (ss->tlsrpt_undecided)
			fprintf(out,
			        "tlsobs: tlsrpt: %" PRIu64
			        " outbound sessions left out, TLS undecided (gap or cut)\n",
			        ss->tlsrpt_undecided);
	}
	if (s->geo) {
		struct geoip_stats gs;
		geoip_get_stats(s->geo, &gs);
		fprintf(out,
		        "tlsobs: geoip: %" PRIu64 " lookups, %" PRIu64 " found, %" PRIu64
		        " databases reloaded, %" PRIu64 " reloads failed, %" PRIu64 " lookup errors\n",
		        gs.lookups, gs.found, gs.reloads, gs.reload_failures, gs.lookup_errors);
	}
	struct worker_snapshot sum;
	sum_workers(s, &sum);
	if (sum.classified) {
		const struct classify_stats *ns = &sum.classify;
		fprintf(out,
		        "tlsobs: nDPI: %" PRIu64 " packets inspected; flows: %" PRIu64 " smtp, %" PRIu64
		        " smtps, %" PRIu64 " other (%" PRIu64 " given up on), %" PRIu64
		        " not mail and not reported, %" PRIu64 " whose first bytes outgrew the hold\n",
		        ns->packets, st->classified[CLASSIFY_MAIL_SMTP], st->classified[CLASSIFY_MAIL_SMTPS],
		        st->classified[CLASSIFY_OTHER], ns->giveups, st->flows_not_mail, st->hold_overflows);
	}
	struct cert_cache_stats cc;
	tls_inspector_cache_stats(s->tls_inspector, &cc);
	if (cc.hits + cc.misses)
		fprintf(out,
		        "tlsobs: certificate cache: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
		        " evicted; %" PRIu64 " chains held in %" PRIu64 " bytes\n",
		        cc.hits, cc.misses, cc.evictions, cc.entries, cc.bytes);
	struct issuer_cache_stats ic;
	tls_inspector_issuer_stats(s->tls_inspector, &ic);
	if (ic.hits + ic.misses)
		fprintf(out,
		        "tlsobs: decoded intermediates: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
		        " evicted; %" PRIu64 " held in %" PRIu64 " bytes\n",
		        ic.hits, ic.misses, ic.evictions, ic.entries, ic.bytes);
	const struct rules_stats *rs = rules_engine_stats(s->rules);
	fprintf(out,
	        "tlsobs: history: %" PRIu64 " of %" PRIu64 " bytes (servers %" PRIu64 ", pairs %" PRIu64
	        ", TLS servers %" PRIu64 ", certificates %" PRIu64 "), %" PRIu64 " evicted by the memcap\n",
	        rs->history_bytes, rs->history_memcap, rs->history_servers_bytes, rs->history_pairs_bytes,
	        rs->history_tls_servers_bytes, rs->certificates_bytes, rs->history_memcap_evicted);
	if (s->history)
		history_feed_print_summary(s->history, out);
	if (st->parser_memcap_stops)
		fprintf(out, "tlsobs: flows whose parsing stopped at the memcap: %" PRIu64 "\n",
		        st->parser_memcap_stops);
	if (st->reloads)
		fprintf(out, "tlsobs: configuration reloaded %" PRIu64 " times\n", st->reloads);
	if (st->dump_errors)
		fprintf(out, "tlsobs: --dump-streams: %" PRIu64 " flows could not be written\n",
		        st->dump_errors);
}

/* With several workers: each one's share, and how often the reader waited for it. */
static void print_workers(const struct sensor *s, FILE *out)
{
	if (s->nworkers < 2)
		return;
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker_pool_lane_stats ls;
		worker_pool_lane_stats(s->pool, i, &ls);
		fprintf(out,
		        "tlsobs: worker %u: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
		        " sessions, %" PRIu64 " flows active; the reader waited for it %" PRIu64 " times\n",
		        i, ls.snap.stats.packets, ls.snap.stats.bytes, ls.sessions, ls.snap.flows.active,
		        ls.queue.full_waits);
	}
}

void sensor_print_summary(const struct sensor *s, FILE *out)
{
	struct sensor_stats all;
	collect_stats(s, &all);
	print_packet_path(s, &all, out);
	print_services(s, &all, out);
	print_workers(s, out);
	struct capture_stats capture_counters = {0}, *cs = &capture_counters;
	bool live = s->capture && capture_is_live(s->capture);
	if (s->capture)
		read_capture_stats(s, cs);
	if (live)
		fprintf(out,
		        "tlsobs: capture: %" PRIu64 " received, %" PRIu64 " dropped by the kernel, %" PRIu64
		        " dropped by the interface\n",
		        cs->received, cs->dropped, cs->if_dropped);
	else {
		fprintf(out, "tlsobs: files: %u read, %u failed", cs->files_read, cs->files_failed);
		if (cs->files_skipped)
			fprintf(out, ", %u skipped (not captures)", cs->files_skipped);
		fputc('\n', out);
	}
}
