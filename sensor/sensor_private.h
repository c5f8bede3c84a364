/*
 * sensor_private.h: struct sensor, the process-wide state, shared by sensor.c
 * (the services and session finishing) and sensor_stats.c (its counters, the
 * metrics and the exit summary). Private to those two files: include it from
 * nowhere else; everyone else goes through sensor.h.
 */
#ifndef TLSOBS_SENSOR_PRIVATE_H
#define TLSOBS_SENSOR_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "outputs/event_context.h"
#include "outputs/json_writer.h"
#include "outputs/output.h"
#include "outputs/policy_event.h"
#include "sensor/app/flow_record.h"
#include "sensor/config/settings.h"
#include "sensor/sensor.h"

/*
 * Everything here is shared by the process (the workers step shares it between
 * workers): the running settings (reloaded in place), outputs, rules, state,
 * GeoIP, event numbering and the counters of finished sessions. What one
 * worker owns (flows, defrag, nDPI, records, packet-path counters) is in
 * struct worker; today there is one, `worker`.
 */
struct sensor {
	struct sensor_settings settings;
	struct mail_ports ports; /* from settings (not reloadable): read by every worker */
	/* owned: the packet path, one worker or several (sensor/workers/worker_pool.h); their sessions are
	 * finished here in packet-time order (session_order), the same for one worker as for N */
	struct worker *workers[SETTINGS_MAX_WORKERS];
	unsigned nworkers;
	struct sensor_settings *worker_settings; /* the workers' copy: flow and defrag memcaps shared out */
	struct worker_pool *pool;
	struct session_order *order;
	struct sealed_opened *finishing; /* the session being finished, opened from its sealed copy */
	uint64_t now_us;                 /* the finisher's packet clock: what every worker has passed */
	int cpus[SETTINGS_MAX_WORKERS];
	struct output *const *outputs;
	size_t noutputs;
	struct rules_engine *rules;
	struct tls_inspector
	    *tls_inspector; /* the workers use it under inspector_lock (read), reload swaps it */
	pthread_rwlock_t inspector_lock;
	struct capture *capture; /* borrowed, for its counters */
	uint64_t packets_seen;   /* inline: packets since the start, for the output polls */
	uint64_t next_stats_us;  /* packet time of the next tlsobs.stats event, 0 until the first packet */
	struct json_writer json;
	struct event_context event_ctx;
	char hostname[256];
	uint64_t run_nonce;
	uint64_t stats_seq;
	struct sensor_stats stats; /* the shared counters; the workers' are added in collect_stats */
	struct state_db *state;    /* NULL without state_db */
	struct state_sync *sync;   /* idem */
	uint64_t next_state_flush_us;
	/* policy: relaxations ended before relax_checked_us were dealt with; 0 until the first packet */
	uint64_t relax_checked_us;
	uint64_t policy_seq;
	const struct policy_source *reload_source; /* set during sensor_reload_audited: audit the change */
	bool policy_owned;                         /* settings.policy came from a reload: ours to free */
	struct geoip *geo;                         /* owned; NULL: no enrichment */
	uint64_t next_geoip_check_us;              /* wall clock */
	struct history_feed *history;              /* owned; NULL unless detection.history.shared */
};

/* The wall clock (event.created, metrics), in microseconds. */
static inline uint64_t sensor_wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The stats event's counters now (final: the last event); the workers' summed with the shared ones. */
void sensor_stats_fill_counters(struct sensor *s, struct sensor_counters *c, bool final);

#endif
