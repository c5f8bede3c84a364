/*
 * sensor.c: the process-wide services behind the packet path: the settings in
 * force (and their reload, with its policy audit), the outputs, the rules
 * engine, the TLS inspector, GeoIP, the state database and its sync; each
 * session a worker hands over is finished here (certificate checks, direction
 * and geo, rules, state, events out); stats events and housekeeping. The
 * counters behind stats events, metrics and the exit summary are gathered in
 * sensor_stats.c; struct sensor is in sensor_private.h, for the two of them.
 *
 * Owns the shared state (struct sensor) and, today, its one worker (worker.c:
 * the per-worker packet path). sensor_packet and sensor_tick are the facade
 * main.c drives: the worker's packet path, then the shared housekeeping.
 */
#include "sensor/sensor.h"
#include "sensor/sensor_private.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "outputs/alert_event.h"
#include "outputs/json_writer.h"
#include "outputs/logger.h"
#include "outputs/certificate_event.h"
#include "outputs/policy_event.h"
#include "outputs/session_event.h"
#include "outputs/stats_event.h"
#include "rules/ip_network.h"
#include "rules/rules_engine.h"
#include "rules/session.h"
#include "sensor/app/cert_cache.h"
#include "sensor/app/geoip.h"
#include "sensor/app/issuer_cache.h"
#include "sensor/state/state_db.h"
#include "sensor/state/state_sync.h"
#include "sensor/history_feed.h"
#include "sensor/worker.h"
#include "sensor/app/tls_inspect.h"
#include "sensor/workers/sealed_session.h"
#include "sensor/workers/session_order.h"
#include "sensor/workers/worker_pool.h"

#include "version.h"

enum {
	SENSOR_JSON_MAX_STRING = 4096,
	SENSOR_POLL_EVERY = 1024, /* packets between two output polls (Kafka delivery reports) */
};
#define SENSOR_STATE_FLUSH_US 1000000u /* packet time between two writes to the state database */
#define SENSOR_GEOIP_CHECK_US 5000000u /* wall time between two looks for replaced GeoIP files */

static bool is_internal(const struct sensor *s, const struct ip_addr *a)
{
	for (size_t i = 0; i < s->settings.n_internal_networks; i++)
		if (ip_network_contains(&s->settings.internal_networks[i], a))
			return true;
	return false;
}

/*
 * Hands the event in s->json to every output. The partitioning key is the session's partner domain
 * where one is known, else its server address; sess NULL: no key (stats).
 */
static void emit(struct sensor *s, const struct session *sess)
{
	if (json_writer_failed(&s->json)) {
		s->stats.events_dropped++;
		return;
	}
	char key[DOMAIN_NAME_MAX + 2] = "";
	if (sess && sess->partner)
		snprintf(key, sizeof key, "%s", sess->partner->domain);
	else if (sess)
		ip_addr_format(&sess->server.ip, key, sizeof key);
	/* type, id and time_us: the event's kind, event.id and @timestamp as its writer recorded them. */
	struct output_event ev = {.type = s->json.doc.type,
	                          .key = sess ? key : NULL,
	                          .id = s->json.doc.id[0] ? s->json.doc.id : NULL,
	                          .time_us = s->json.doc.time_us,
	                          .json = s->json.buf,
	                          .len = s->json.len};
	unsigned delivered = 0;
	for (size_t i = 0; i < s->noutputs; i++)
		if (output_write(s->outputs[i], &ev) == 0)
			delivered++;
	if (delivered == 0)
		s->stats.events_dropped++;
}

static void start_relaxations(struct sensor *s, uint64_t now_us);

/*
 * A partner's relaxed_until that packet time has just passed (after the last
 * check, at or before now): enforcement is back by itself, and an event says
 * so. The time reached goes to the state database; after an event it is saved
 * at once, so that no restart reports the same end twice.
 */
static void check_relaxations(struct sensor *s, uint64_t now_us)
{
	if (!s->relax_checked_us) {
		if (now_us)
			start_relaxations(s, now_us);
		return;
	}
	if (now_us <= s->relax_checked_us)
		return;
	const struct policy *pol = &s->settings.policy;
	unsigned ended = 0;
	for (size_t i = 0; i < pol->n_partners; i++) {
		const struct partner_policy *p = &pol->partners[i];
		if (p->relaxed_until_us <= s->relax_checked_us || p->relaxed_until_us > now_us)
			continue;
		char run_id[SESSION_ID_LEN];
		session_id_make(run_id, s->run_nonce, 0);
		policy_event_write_relaxation_ended(&s->json, p, run_id, ++s->policy_seq, &s->event_ctx,
		                                    sensor_wall_clock_us());
		emit(s, NULL);
		ended++;
	}
	s->relax_checked_us = now_us;
	if (s->sync) {
		state_sync_set_relaxations_checked(s->sync, now_us, ended > 0);
		if (ended)
			state_sync_flush(s->sync, now_us);
	}
}

/*
 * At the first packet. Without a state database, relaxations are dealt with
 * from here on: one that ended before was never seen running. With one, from
 * the packet time the last run reached: a relaxation that ended while the
 * sensor was stopped is reported now, once (issue 16). A saved time ahead of
 * this packet (an older capture replayed) is kept: nothing before it again.
 */
static void start_relaxations(struct sensor *s, uint64_t now_us)
{
	uint64_t saved = s->sync ? state_sync_relaxations_checked(s->sync) : 0;
	if (saved && saved < now_us) {
		s->relax_checked_us = saved;
		check_relaxations(s, now_us);
		return;
	}
	s->relax_checked_us = saved > now_us ? saved : now_us;
	if (s->sync)
		state_sync_set_relaxations_checked(s->sync, s->relax_checked_us, false);
}

static void copy_geo(struct session_geo *g, const struct geoip_result *r)
{
	_Static_assert(sizeof g->country_iso_code >= sizeof r->country_iso_code, "geo sizes");
	_Static_assert(sizeof g->country_name >= sizeof r->country_name, "geo sizes");
	_Static_assert(sizeof g->as_organization >= sizeof r->as_organization, "geo sizes");
	*g = (struct session_geo){.present = r->found,
	                          .has_location = r->has_location,
	                          .latitude = r->latitude,
	                          .longitude = r->longitude,
	                          .has_as = r->has_as,
	                          .as_number = r->as_number};
	memcpy(g->country_iso_code, r->country_iso_code, sizeof r->country_iso_code);
	memcpy(g->country_name, r->country_name, sizeof r->country_name);
	memcpy(g->city_name, r->city_name, sizeof r->city_name);
	memcpy(g->as_organization, r->as_organization, sizeof r->as_organization);
}

/*
 * Where the session's sides sit: network.direction (ECS values) when
 * internal_networks are set, and the geo and AS of the remote side: the one
 * outside internal_networks, both when that cannot be told (no
 * internal_networks, or neither side inside). Looked up once per flow, here,
 * and shared by the session and its alerts.
 */
static void place_session(struct sensor *s, struct session *sess)
{
	bool client_in = is_internal(s, &sess->client.ip), server_in = is_internal(s, &sess->server.ip);
	if (s->settings.n_internal_networks > 0)
		sess->direction = client_in
		                      ? (server_in ? SESSION_DIRECTION_INTERNAL : SESSION_DIRECTION_OUTBOUND)
		                      : (server_in ? SESSION_DIRECTION_INBOUND : SESSION_DIRECTION_EXTERNAL);
	if (!s->geo)
		return;
	struct geoip_result r;
	if (!client_in && geoip_lookup(s->geo, &sess->client.ip, &r))
		copy_geo(&sess->client_geo, &r);
	if (!server_in && geoip_lookup(s->geo, &sess->server.ip, &r))
		copy_geo(&sess->server_geo, &r);
}

/* capture.all_flows: a flow that is not mail, and what nDPI made of it; no mail rules. */
static void report_other(struct sensor *s, struct session *sess)
{
	place_session(s, sess);
	session_event_write(&s->json, sess, &s->event_ctx, sensor_wall_clock_us());
	emit(s, sess);
	s->stats.sessions_reported++;
	s->stats.sessions_not_mail++;
}

/* The session event, then one alert event per alert, then the certificate's first sighting. */
static void report_events(struct sensor *s, struct session *sess)
{
	uint64_t created = sensor_wall_clock_us();
	session_event_write(&s->json, sess, &s->event_ctx, created);
	emit(s, sess);
	for (unsigned i = 0; i < sess->alerts.count; i++) {
		alert_event_write(&s->json, sess, &sess->alerts.items[i], &s->event_ctx, created);
		emit(s, sess);
	}
	bool first = false;
	const struct cert_sighting *c = rules_engine_cert_sighting(s->rules, &first);
	if (c && first) {
		certificate_event_write(&s->json, sess, c, &s->event_ctx, created);
		emit(s, sess);
	}
}

/*
 * On the session's worker, before it is sealed: fingerprints and the certificate chain (the costliest
 * per-session step that reads no history; its caches take their own locks). The read lock keeps a reload's
 * new CA store (sensor_reload) from freeing the inspector under a worker.
 */
static void inspect_in_worker(void *ctx, struct session *sess, bool mail)
{
	struct sensor *s = ctx;
	if (!mail)
		return;
	pthread_rwlock_rdlock(&s->inspector_lock);
	tls_inspect_session(s->tls_inspector, sess);
	pthread_rwlock_unlock(&s->inspector_lock);
}

/* A mail session (its certificates checked by its worker): sides placed, rules run, state kept, events out.
 */
static void report_mail(struct sensor *s, struct session *sess)
{
	/* tls_inspect_session ran in the session's worker (inspect_in_worker) */
	place_session(s, sess);
	uint64_t at_us = rules_engine_now_us(sess);
	check_relaxations(s, at_us);
	rules_engine_evaluate(s->rules, sess);
	if (s->history)
		history_feed_session(s->history, sess);
	if (s->sync)
		state_sync_session(s->sync, sess, at_us);
	report_events(s, sess);
	s->stats.alerts += sess->alerts.count;
	s->stats.sessions_reported++;
	if ((unsigned)sess->starttls_result < METRICS_STARTTLS_RESULTS)
		s->stats.sessions_by_result[sess->starttls_result]++;
}

/*
 * A worker's flow ended with a session (worker_session_fn): finished here,
 * where the rules, state and outputs are. Its events carry the interface its
 * flow was first seen on (observer.ingress.interface.name).
 */
static void finish_session(void *ctx, struct session *sess, bool mail, const char *ingress)
{
	struct sensor *s = ctx;
	s->event_ctx.ingress_interface = ingress;
	if (mail)
		report_mail(s, sess);
	else
		report_other(s, sess);
	s->event_ctx.ingress_interface = NULL;
}

/* The sessions whose turn has come (session_order.h), finished one by one, in packet-time order. */
static void release_sessions(struct sensor *s)
{
	struct sealed_session *ss;
	while ((ss = session_order_pop(s->order)) != NULL) {
		sealed_session_open(ss, s->finishing);
		finish_session(s, &s->finishing->sess, sealed_session_mail(ss), sealed_session_ingress(ss));
		sealed_session_free(ss);
	}
}

/* What the workers published goes into the order; what is due is finished. wait_ms: for news. */
static bool drain(struct sensor *s, unsigned wait_ms)
{
	bool all_ended = worker_pool_collect(s->pool, s->order, wait_ms);
	uint64_t clock = worker_pool_clock(s->pool);
	if (clock > s->now_us)
		s->now_us = clock;
	release_sessions(s);
	return all_ended;
}

/* The state database, and what the rules engine saved there on an earlier run. */
static int open_state(struct sensor *s, const char *path, char *err, size_t errlen)
{
	char why[512];
	s->state = state_db_open(path, why, sizeof why);
	if (!s->state) {
		snprintf(err, errlen, "state_db: %s", why);
		return -1;
	}
	state_db_set_day_cap(s->state, s->settings.coverage_max_domains_per_day);
	s->sync = state_sync_new(s->state, s->rules, s->settings.rules.history_ttl_us);
	if (!s->sync) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	state_sync_set_policy(s->sync, &s->settings.policy); /* the same address across reloads */
	if (state_sync_restore(s->sync, why, sizeof why) != 0) {
		snprintf(err, errlen, "state_db %s: %s", path, why);
		return -1;
	}
	return 0;
}

/* detection.history.shared: after the state database, so that the fleet's later facts win over the cache. A
 * feed that does not open leaves the local history (history_feed.h). */
static void open_history_feed(struct sensor *s)
{
	struct kafka_output *k = NULL;
	for (size_t i = 0; i < s->noutputs && !k; i++)
		k = output_kafka_producer(s->outputs[i]);
	char err[1024] = "no kafka: output";
	if (s->settings.history_share.shared &&
	    (!k ||
	     !(s->history = history_feed_open(s->rules, k, &s->settings.history_share,
	                                      s->settings.sensor_name, &s->settings.kafka, err, sizeof err))))
		logger_log(LOGGER_ERROR, "history",
		           "detection.history.shared: %s: going on with the local history", err);
}

/* The mail ports every worker reads: the SMTP ports, the implicit-TLS ports, and SMTP's among the latter. */
static void init_ports(struct mail_ports *mp, const struct sensor_settings *settings)
{
	static const uint16_t smtps[] = {SETTINGS_SMTPS_PORT};
	mail_ports_add(mp->service, settings->smtp_ports, settings->n_smtp_ports);
	mail_ports_add(mp->service, settings->implicit_tls_ports, settings->n_implicit_tls_ports);
	mail_ports_add(mp->implicit_tls, settings->implicit_tls_ports, settings->n_implicit_tls_ports);
	mail_ports_add(mp->smtps, smtps, sizeof smtps / sizeof smtps[0]);
}

static void init_events(struct sensor *s)
{
	json_writer_init(&s->json, SENSOR_JSON_MAX_STRING);
	if (gethostname(s->hostname, sizeof s->hostname - 1) != 0)
		snprintf(s->hostname, sizeof s->hostname, "unknown");
	s->event_ctx = (struct event_context){s->hostname,
	                                      TLSOBS_VERSION,
	                                      s->settings.sensor_name,
	                                      s->settings.runbook_base,
	                                      NULL,
	                                      s->settings.client_ciphers};
}

/*
 * The workers (capture.workers): each gets its share of flow.memcap,
 * flow.hash_size and defrag.memcap, so that N workers hold what one did; one
 * worker runs inline, several on their threads (worker_pool_start).
 */
/* One extra worker, built on a short-lived thread of its own (build_workers). */
struct worker_build {
	struct sensor *s;
	const char *dump_dir;
	unsigned index;
	pthread_t thread;
	bool started;
	char err[256];
};

static void *build_worker(void *arg)
{
	struct worker_build *b = arg;
	struct sensor *s = b->s;
	s->workers[b->index] =
	    worker_new_beside(s->worker_settings, &s->ports, b->dump_dir, s->run_nonce, worker_pool_session,
	                      worker_pool_lane(s->pool, b->index), b->err, sizeof b->err);
	return NULL;
}

/*
 * Attributes that start a thread on any CPU but this thread's: a new thread is put beside its creator and
 * waits there for milliseconds while another CPU idles (seen with nDPI's start-up, which is all CPU). false:
 * no other CPU to go to (or no way to tell).
 */
static bool elsewhere(pthread_attr_t *attr)
{
	int here = sched_getcpu();
	cpu_set_t set;
	if (here < 0 || sched_getaffinity(0, sizeof set, &set) != 0 || !CPU_ISSET(here, &set) ||
	    CPU_COUNT(&set) < 2)
		return false;
	CPU_CLR(here, &set);
	if (pthread_attr_init(attr) != 0)
		return false;
	if (pthread_attr_setaffinity_np(attr, sizeof set, &set) != 0) {
		pthread_attr_destroy(attr);
		return false;
	}
	return true;
}

/*
 * Worker 0 on this thread, the others each on a thread that ends when its worker is built: nDPI's start-up
 * (~17 ms a module) side by side rather than one after another. These threads end before any privilege
 * drop; one that cannot start builds its worker here. s->workers[i] NULL: that one failed (err says why).
 */
static int build_workers(struct sensor *s, unsigned n, const char *dump_dir, char *err, size_t errlen)
{
	struct worker_build builds[SETTINGS_MAX_WORKERS];
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with this thread */
	pthread_attr_t attr;
	bool away = elsewhere(&attr);
	for (unsigned i = 1; i < n; i++) {
		builds[i] = (struct worker_build){.s = s, .dump_dir = dump_dir, .index = i};
		builds[i].started =
		    pthread_create(&builds[i].thread, away ? &attr : NULL, build_worker, &builds[i]) == 0;
	}
	if (away)
		pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	s->workers[0] = worker_new(s->worker_settings, &s->ports, dump_dir, s->run_nonce, worker_pool_session,
	                           worker_pool_lane(s->pool, 0), err, errlen);
	int rc = s->workers[0] ? 0 : -1;
	for (unsigned i = 1; i < n; i++) {
		if (builds[i].started)
			pthread_join(builds[i].thread, NULL);
		else
			build_worker(&builds[i]);
		if (!s->workers[i] && rc == 0) {
			snprintf(err, errlen, "%s", builds[i].err);
			rc = -1;
		}
	}
	return rc;
}

static int start_workers(struct sensor *s, const char *dump_dir, char *err, size_t errlen)
{
	unsigned n = settings_workers(&s->settings);
	struct sensor_settings *ws = s->worker_settings = malloc(sizeof *ws);
	s->finishing = malloc(sizeof *s->finishing);
	s->order = session_order_new(n);
	if (!ws || !s->finishing || !s->order)
		return -1;
	*ws = s->settings;
	ws->flow.memcap /= n;
	ws->flow.hash_size = ws->flow.hash_size / n > 1024 ? ws->flow.hash_size / n : 1024;
	ws->defrag.memcap /= n;
	struct worker_pool_options po = {.workers = n,
	                                 .threads = n > 1,
	                                 .decode = &ws->decode,
	                                 .prepare = inspect_in_worker,
	                                 .prepare_ctx = s};
	po.n_cpu_affinity = settings_cpu_affinity(&s->settings, s->cpus);
	po.cpu_affinity = s->cpus;
	if (!(s->pool = worker_pool_new(&po)))
		return -1;
	int rc = build_workers(s, n, dump_dir, err, errlen);
	for (unsigned i = 0; i < n && s->workers[i]; i++) {
		s->nworkers = i + 1;
		worker_pool_attach(s->pool, i, s->workers[i]);
	}
	for (unsigned i = s->nworkers; i < n; i++)
		worker_free(s->workers[i]); /* after a gap: freed here, as sensor_free frees only the first
		                               nworkers */
	return rc;
}

struct sensor *sensor_new(const struct sensor_settings *settings, struct output *const *outputs,
                          size_t noutputs, const char *dump_dir, char *err, size_t errlen)
{
	struct sensor *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_rwlock_init(&s->inspector_lock, NULL);
	s->tls_inspector = tls_inspector_new(settings->ca_file[0] ? settings->ca_file : NULL,
	                                     settings->certificate_cache_entries, err, errlen);
	if (!s->tls_inspector) {
		free(s);
		return NULL;
	}
	s->settings = *settings;
	s->outputs = outputs;
	s->noutputs = noutputs;
	init_ports(&s->ports, settings);
	if (getrandom(&s->run_nonce, sizeof s->run_nonce, 0) != sizeof s->run_nonce)
		s->run_nonce = sensor_wall_clock_us() ^ (uint64_t)getpid() << 32;
	/* The engine borrows the policy from our copy of the settings; its partners stay the caller's. */
	struct rules_settings rules = s->settings.rules;
	rules.policy = &s->settings.policy;
	s->rules = rules_engine_new(&rules);
	if (!s->rules || start_workers(s, dump_dir, err, errlen) != 0) {
		snprintf(err, errlen, "out of memory (flow.memcap and flow.hash_size)");
		sensor_free(s);
		return NULL;
	}
	if (settings->state_db[0] && open_state(s, settings->state_db, err, errlen) != 0) {
		sensor_free(s);
		return NULL;
	}
	init_events(s);
	open_history_feed(s);
	return s;
}

static void emit_stats(struct sensor *s, bool final)
{
	struct sensor_counters c;
	sensor_stats_fill_counters(s, &c, final);
	s->stats_seq++;
	stats_event_write(&s->json, &c, s->outputs, s->noutputs, &s->event_ctx, sensor_wall_clock_us());
	emit(s, NULL);
}

/* Output polling and periodic stats, both driven by packet time (and by ticks in live capture). */
static void housekeeping(struct sensor *s)
{
	uint64_t now_us = s->now_us;
	for (size_t i = 0; i < s->noutputs; i++)
		output_poll(s->outputs[i]);
	if (s->history)
		history_feed_poll(s->history, now_us);
	check_relaxations(s, now_us);
	uint64_t wall = sensor_wall_clock_us();
	if (s->geo && wall >= s->next_geoip_check_us) {
		char err[600];
		if (geoip_check_reload(s->geo, err, sizeof err) < 0)
			logger_log(LOGGER_WARNING, "geoip", "%s", err);
		s->next_geoip_check_us = wall + SENSOR_GEOIP_CHECK_US;
	}
	if (s->sync && now_us >= s->next_state_flush_us) {
		state_sync_flush(s->sync, now_us);
		s->next_state_flush_us = now_us + SENSOR_STATE_FLUSH_US;
	}
	uint64_t interval = s->settings.stats_interval_us;
	if (!interval || !now_us) /* no packet time yet (the workers' first batches are on their way) */
		return;
	if (!s->next_stats_us)
		s->next_stats_us = now_us + interval;
	if (now_us >= s->next_stats_us) {
		emit_stats(s, false);
		s->next_stats_us = now_us + interval;
	}
}

void sensor_packet(struct sensor *s, const struct capture_packet *cp)
{
	if (!s->relax_checked_us)
		start_relaxations(s, cp->ts_us);
	worker_pool_packet(s->pool, cp);
	drain(s, 0);
	if (++s->packets_seen % SENSOR_POLL_EVERY == 0)
		housekeeping(s);
}

unsigned sensor_workers(const struct sensor *s)
{
	return s->nworkers;
}

int sensor_run_workers(struct sensor *s, struct capture *const *caps, size_t ncaps,
                       volatile sig_atomic_t *stop, void (*between)(void *ctx), void *ctx)
{
	char err[256];
	int started = ncaps == s->nworkers && ncaps > 1
	                  ? worker_pool_start_live(s->pool, caps, err, sizeof err)
	                  : worker_pool_start(s->pool, caps[0], err, sizeof err);
	if (started != 0) {
		logger_log(LOGGER_ERROR, "workers", "%s", err);
		while (!drain(s, 100))
			continue;
		return -1;
	}
	for (bool done = false; !done;) {
		between(ctx);
		if (*stop)
			worker_pool_stop(s->pool);
		done = drain(s, POOL_COLLECT_MS);
		if (!s->relax_checked_us && s->now_us)
			start_relaxations(s, s->now_us);
		housekeeping(s);
	}
	return worker_pool_join(s->pool);
}

void sensor_tick(struct sensor *s, uint64_t now_us)
{
	worker_pool_tick(s->pool, now_us);
	drain(s, 0);
	housekeeping(s);
}

/* The tlsobs.policy audit event (policy_event.h), written at once: @timestamp is the wall clock. */
static void audit_policy(struct sensor *s, enum policy_audit_action action, const struct policy *old,
                         const struct policy *next, const struct policy_source *src, const char *failure)
{
	char run_id[SESSION_ID_LEN];
	session_id_make(run_id, s->run_nonce, 0);
	policy_event_write_audit(&s->json, action, old, next, src, failure, run_id, ++s->policy_seq,
	                         &s->event_ctx, sensor_wall_clock_us());
	emit(s, NULL);
}

void sensor_audit_policy_loaded(struct sensor *s, const struct policy_source *src)
{
	audit_policy(s, POLICY_AUDIT_LOADED, NULL, &s->settings.policy, src, NULL);
}

void sensor_audit_reload_failed(struct sensor *s, const struct policy_source *src, const char *why)
{
	audit_policy(s, POLICY_AUDIT_RELOAD_FAILED, &s->settings.policy, &s->settings.policy, src, why);
}

int sensor_reload_audited(struct sensor *s, struct sensor_settings *next, const struct policy_source *src,
                          char *err, size_t errlen)
{
	s->reload_source = src;
	int rc = sensor_reload(s, next, err, errlen);
	s->reload_source = NULL;
	if (rc != 0)
		sensor_audit_reload_failed(s, src, err);
	return rc;
}

int sensor_reload(struct sensor *s, struct sensor_settings *next, char *err, size_t errlen)
{
	struct tls_inspector *inspector = NULL;
	if (strcmp(next->ca_file, s->settings.ca_file) != 0) {
		inspector = tls_inspector_new(next->ca_file[0] ? next->ca_file : NULL,
		                              s->settings.certificate_cache_entries, err, errlen);
		if (!inspector)
			return -1;
	}
	/* Nothing can fail from here: the running configuration changes all at once or not at all. */
	if (s->reload_source)
		audit_policy(s, POLICY_AUDIT_RELOADED, &s->settings.policy, &next->policy, s->reload_source,
		             NULL);
	if (inspector) { /* its certificate cache starts empty: answers for the old store go with it */
		pthread_rwlock_wrlock(&s->inspector_lock);
		tls_inspector_free(s->tls_inspector);
		s->tls_inspector = inspector;
		pthread_rwlock_unlock(&s->inspector_lock);
		snprintf(s->settings.ca_file, sizeof s->settings.ca_file, "%s", next->ca_file);
	} else {
		tls_inspector_clear_cache(s->tls_inspector); /* a reload starts from fresh answers */
	}
	/* The engine borrows &s->settings.policy: replace what it holds, not where it is. */
	if (s->policy_owned)
		policy_clear(&s->settings.policy);
	s->settings.policy = next->policy;
	memset(&next->policy, 0, sizeof next->policy);
	s->policy_owned = true;
	memcpy(s->settings.internal_networks, next->internal_networks, sizeof next->internal_networks);
	s->settings.n_internal_networks = next->n_internal_networks;
	s->settings.stats_interval_us = next->stats_interval_us;
	memcpy(s->settings.sensor_name, next->sensor_name, sizeof next->sensor_name);
	memcpy(s->settings.runbook_base, next->runbook_base, sizeof next->runbook_base);
	s->settings.client_ciphers = next->client_ciphers;
	s->event_ctx.client_ciphers = next->client_ciphers;
	s->next_stats_us = 0;
	s->stats.reloads++;
	return 0;
}

void sensor_set_geoip(struct sensor *s, struct geoip *g)
{
	geoip_free(s->geo);
	s->geo = g;
	s->next_geoip_check_us = sensor_wall_clock_us() + SENSOR_GEOIP_CHECK_US;
}

void sensor_set_capture(struct sensor *s, struct capture *c)
{
	s->capture = c;
}

void sensor_emit_final_stats(struct sensor *s)
{
	emit_stats(s, true);
}

void sensor_emit_stats(struct sensor *s)
{
	emit_stats(s, false);
	struct sensor_counters c;
	sensor_stats_fill_counters(s, &c, false);
	uint64_t alerts = 0;
	for (int r = 0; r < RULE_COUNT; r++)
		alerts += c.alerts[r];
	logger_log(LOGGER_NOTICE, "stats",
	           "%" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " flows active, %" PRIu64
	           " sessions reported, %" PRIu64 " alerts, %" PRIu64 " events dropped, %" PRIu64
	           " dropped by the kernel, flow memory %" PRIu64 " bytes%s",
	           c.packets, c.bytes, c.flows_active, c.sessions_reported, alerts, c.events_dropped,
	           c.capture_dropped, c.memcap_used, c.emergency ? ", emergency mode" : "");
}

void sensor_note_reload_failure(struct sensor *s)
{
	s->stats.reload_failures++;
}

void sensor_finish(struct sensor *s, enum flow_close_reason reason)
{
	if (!worker_pool_threaded(s->pool))
		worker_pool_finish(s->pool, reason);
	while (!drain(s, 100)) /* threads: the reader ended the workers already */
		continue;
	release_sessions(s);
	uint64_t now_us = s->now_us;
	check_relaxations(s, now_us);
	if (s->sync) {
		if (s->relax_checked_us) /* the time reached, for the next start */
			state_sync_set_relaxations_checked(s->sync, s->relax_checked_us, true);
		state_sync_flush(s->sync, now_us);
	}
}

void sensor_free(struct sensor *s)
{
	if (!s)
		return;
	/* First: the last flows' sessions are finished here (inline; threads ended theirs already). */
	if (s->pool && !worker_pool_threaded(s->pool) && s->nworkers) {
		worker_pool_finish(s->pool, FLOW_CLOSE_SHUTDOWN);
		drain(s, 0);
	}
	worker_pool_join(s->pool);
	for (unsigned i = 0; i < s->nworkers; i++)
		worker_free(s->workers[i]);
	session_order_free(s->order); /* before the pool: its sessions go back to the workers' recyclers */
	worker_pool_free(s->pool);
	free(s->finishing);
	free(s->worker_settings);
	geoip_free(s->geo);
	history_feed_free(s->history);
	state_sync_free(s->sync);
	state_db_close(s->state);
	if (s->policy_owned)
		policy_clear(&s->settings.policy);
	rules_engine_free(s->rules);
	tls_inspector_free(s->tls_inspector);
	pthread_rwlock_destroy(&s->inspector_lock);
	json_writer_release(&s->json);
	free(s);
}
