/*
 * sensor.h: the sensor as main.c drives it: packets in (through its worker's
 * packet path, sensor/worker.h), session, alert, certificate, policy and stats
 * events out, and the process-wide services between (rules, state, GeoIP,
 * reload with its audit, metrics, summary).
 *
 * Owns its worker and the shared services; borrows the outputs (the caller
 * opens and closes them). Time is packet time: flows expire as the capture's
 * clock advances, or on sensor_tick() with the wall clock in live capture.
 */
#ifndef TLSOBS_SENSOR_H
#define TLSOBS_SENSOR_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "outputs/metrics.h"
#include "outputs/output.h"
#include "outputs/policy_event.h"
#include "parsers/packet_decode.h"
#include "sensor/capture/capture.h"
#include "sensor/flow/flow.h"
#include "sensor/config/settings.h"

/*
 * The process's counters. From packets through flows_not_mail (but alerts,
 * sessions_reported and events_dropped) and dump_errors, parser_memcap_stops,
 * classified and hold_overflows are counted per worker (worker.h,
 * flow_record.h) and summed; the rest by the shared services.
 */
struct sensor_stats {
	uint64_t packets, bytes;
	uint64_t decode[DECODE_RESULT_COUNT];
	uint64_t other_ports;    /* TCP not touching a mail port */
	uint64_t stray_segments; /* no flow, and neither SYN nor payload: the tail of a flow we did not see */
	uint64_t sessions_reported, sessions_unanswered;
	uint64_t alerts;
	uint64_t gaps, gap_bytes;
	uint64_t events_dropped; /* could not be serialised or written anywhere */
	uint64_t dump_errors;
	uint64_t reloads;             /* sensor_reload calls that took effect */
	uint64_t parser_memcap_stops; /* flows whose parsing stopped because the memcap had no room */
	uint64_t classified[4];       /* nDPI verdicts by enum classify_verdict: -, smtp, smtps, other */
	uint64_t hold_overflows;      /* flows off the mail ports whose first bytes outgrew the hold */
	uint64_t flows_not_mail;      /* flows nDPI found to be no mail (no session event unless all_flows) */
	uint64_t
	    sessions_by_result[METRICS_STARTTLS_RESULTS]; /* mail sessions reported, by starttls.result */
	uint64_t sessions_not_mail; /* capture.all_flows: sessions reported for flows that are not mail */
	uint64_t reload_failures;   /* SIGHUP reloads that were refused (sensor_note_reload_failure) */
};

struct sensor;

/*
 * `dump_dir` (may be NULL) enables --dump-streams. Outputs are borrowed, and so are the policy's
 * partners in settings (they must outlive the sensor). NULL with a message in err.
 */
struct sensor *sensor_new(const struct sensor_settings *settings, struct output *const *outputs,
                          size_t noutputs, const char *dump_dir, char *err, size_t errlen);
void sensor_packet(struct sensor *s, const struct capture_packet *p);
void sensor_tick(struct sensor *s, uint64_t now_us);
/*
 * SIGHUP: applies a new configuration's policy (partners, MTA-STS, TLSA),
 * internal_networks, tls.ca_file and stats.interval to the running sensor,
 * keeping its flows, sessions in progress and history. Takes next->policy
 * (left empty). Other settings (ports, flow and stream limits, Kafka,
 * state_db, detection) need a restart. 0, or -1 with err and nothing changed.
 */
int sensor_reload(struct sensor *s, struct sensor_settings *next, char *err, size_t errlen);
/*
 * The policy audit trail (tlsobs.policy, policy_event.h): sensor_reload with a
 * policy_reloaded event listing each partner added, removed or changed (or a
 * reload_failed event when it fails); the event at start (policy_loaded: every
 * partner added); a reload whose configuration did not load (why: one line).
 * src is borrowed for the call.
 */
int sensor_reload_audited(struct sensor *s, struct sensor_settings *next, const struct policy_source *src,
                          char *err, size_t errlen);
void sensor_audit_policy_loaded(struct sensor *s, const struct policy_source *src);
void sensor_audit_reload_failed(struct sensor *s, const struct policy_source *src, const char *why);
/* GeoIP/ASN enrichment of every session and alert (sensor/app/geoip.h); takes ownership of g (NULL: none). */
struct geoip;
void sensor_set_geoip(struct sensor *s, struct geoip *g);
/* The capture whose counters (kernel drops, files) go into stats events and the summary (borrowed). */
void sensor_set_capture(struct sensor *s, struct capture *c);
/* The last tlsobs.stats event (final: true), after sensor_finish and before the outputs close. */
void sensor_emit_final_stats(struct sensor *s);
/* SIGUSR1: a tlsobs.stats event now (final: false) and the same counters as one log line (notice, "stats").
 */
void sensor_emit_stats(struct sensor *s);
/* A reload refused before it reached sensor_reload (counted for tlsobs_config_reloads_total). */
void sensor_note_reload_failure(struct sensor *s);
/* The counters as the metrics endpoint serves them (does not move the stats sequence). */
void sensor_metrics(struct sensor *s, struct metrics_snapshot *m);
/*
 * capture.workers: how many packet workers the sensor runs. With one, main.c
 * drives it packet by packet (sensor_packet, sensor_tick). With more,
 * sensor_run_workers runs the capture on the reader and worker threads
 * (sensor/workers/worker_pool.h: files, ncaps 1), or each worker on its own
 * live capture (ncaps == the workers: one socket of every interface's fanout
 * group each, capture_options.fanout_workers), and finishes their sessions on the calling
 * thread, in packet-time order, until the capture ends (or *stop, checked
 * between; then the flows end with FLOW_CLOSE_SHUTDOWN). between(ctx) runs on
 * the calling thread several times a second: signals, reloads, metrics.
 * Returns capture_run's result (0, or -1 when a source failed or the threads
 * could not start). Call only after the privilege drop and seccomp: the
 * threads inherit both.
 */
unsigned sensor_workers(const struct sensor *s);
int sensor_run_workers(struct sensor *s, struct capture *const *caps, size_t ncaps,
                       volatile sig_atomic_t *stop, void (*between)(void *ctx), void *ctx);
/* Ends every open flow with `reason` and emits their sessions. */
void sensor_finish(struct sensor *s, enum flow_close_reason reason);
struct sensor_stats sensor_stats(const struct sensor *s);
/* The exit summary: packets, anomalies by reason, flows, evictions, gaps, capture drops. */
void sensor_print_summary(const struct sensor *s, FILE *out);
void sensor_free(struct sensor *s);

#endif
