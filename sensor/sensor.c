#include "sensor/sensor.h"

#include <inttypes.h>
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
#include "parsers/pcapng.h"
#include "rules/ip_network.h"
#include "rules/rules_engine.h"
#include "rules/session.h"
#include "sensor/app/classify.h"
#include "sensor/flow/defrag.h"
#include "sensor/flow/flow_consumer.h"
#include "sensor/flow/flow_table.h"
#include "sensor/app/flow_session.h"
#include "sensor/app/geoip.h"
#include "sensor/app/mail_session.h"
#include "sensor/state/state_db.h"
#include "sensor/state/state_sync.h"
#include "sensor/flow/stream_dump.h"
#include "sensor/flow/stream_hold.h"
#include "sensor/app/tls_inspect.h"
#include "sensor/flow/tcp_tracker.h"

#include "version.h"

enum {
	SENSOR_JSON_MAX_STRING = 4096,
	SENSOR_POLL_EVERY = 1024, /* packets between two output polls (Kafka delivery reports) */
};
#define SENSOR_STATE_FLUSH_US 1000000u /* packet time between two writes to the state database */
#define SENSOR_GEOIP_CHECK_US 5000000u /* wall time between two looks for replaced GeoIP files */

struct sensor {
	struct sensor_settings settings;
	uint8_t service_port[65536 / 8];      /* bitmap: SMTP and implicit-TLS ports */
	uint8_t implicit_tls_port[65536 / 8]; /* bitmap: TLS from the first byte */
	struct flow_table *flows;
	struct defrag *defrag; /* IP fragments until their datagram is whole */
	struct flow_consumer consumer;
	struct output *const *outputs;
	size_t noutputs;
	const char *dump_dir;
	struct rules_engine *rules;
	struct tls_inspector *tls_inspector;
	struct capture *capture; /* borrowed, for its counters */
	uint64_t next_stats_us;  /* packet time of the next tlsobs.stats event, 0 until the first packet */
	struct session *scratch; /* the session being finished: one at a time, too large for the stack */
	struct json_writer json;
	struct event_context event_ctx;
	char hostname[256];
	uint64_t run_nonce;
	uint64_t stats_seq;
	uint64_t now_us;              /* the latest packet time seen */
	const char *packet_interface; /* the packet being handled: its capture interface, NULL unknown */
	struct sensor_stats stats;
	struct state_db *state;  /* NULL without state_db */
	struct state_sync *sync; /* idem */
	uint64_t next_state_flush_us;
	/* policy: relaxations ended before relax_checked_us were dealt with; 0 until the first packet */
	uint64_t relax_checked_us;
	uint64_t policy_seq;
	const struct policy_source *reload_source; /* set during sensor_reload_audited: audit the change */
	bool policy_owned;                         /* settings.policy came from a reload: ours to free */
	struct geoip *geo;                         /* owned; NULL: no enrichment */
	struct classifier *classifier; /* nDPI; NULL when it could not be built (no classification) */
	uint64_t next_geoip_check_us;  /* wall clock */
};

/* What the sensor keeps per flow, beside the flow itself. */
struct flow_record {
	struct sensor *sensor;
	struct stream_dump *dump;
	struct mail_session *mail; /* created at the first payload byte, so half-open floods cost nothing */
	bool mail_failed;
	uint64_t charged;    /* bytes of this record and its parsers charged to the flow memcap */
	bool memcap_stopped; /* parsing stopped: the memcap had no room for the parsers' memory */
	bool ending;         /* in flow_ended: no more charging (the table must not evict under it) */
	/* Classification (nDPI). A flow on a configured port is mail by its port and classified only for
	 * network.application and risks; any other flow (capture.any_port) is mail only if nDPI says so,
	 * and its first bytes wait in `held` until it does. */
	bool by_port;
	bool implicit_tls;
	struct classify_flow *cls; /* from the first payload until nDPI is done with the flow */
	bool cls_started;          /* cls was made (a SYN flood costs no nDPI state) */
	enum classify_verdict verdict;
	char app[CLASSIFY_PROTOCOL_MAX];
	const char *risks[CLASSIFY_MAX_RISKS];
	size_t n_risks;
	struct stream_hold held;
	char ingress[PCAPNG_NAME_MAX]; /* the interface of the flow's first packet ("" unknown) */
};

static bool port_in(const uint8_t *bitmap, uint16_t port)
{
	return bitmap[port / 8] & (1u << (port % 8));
}

static bool is_service_port(const struct sensor *s, uint16_t port)
{
	return port_in(s->service_port, port);
}

static uint64_t wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Charged to the memcap like the flow itself: a SYN flood's flows cost their records too. */
static void *record_open(void *ctx, struct flow *f)
{
	struct sensor *s = ctx;
	if (!flow_table_reserve(s->flows, sizeof(struct flow_record), f, s->now_us))
		return NULL; /* the flow is still counted; no session can come of it */
	struct flow_record *r = calloc(1, sizeof *r);
	if (!r)
		memcap_release(flow_table_memcap(s->flows), sizeof *r);
	if (r) {
		r->charged = sizeof *r;
		r->sensor = s;
		if (s->dump_dir)
			r->dump = stream_dump_new(s->dump_dir);
		r->by_port = is_service_port(s, f->server.port) || is_service_port(s, f->client.port);
		r->implicit_tls = port_in(s->implicit_tls_port, f->server.port);
		if (s->packet_interface)
			snprintf(r->ingress, sizeof r->ingress, "%s", s->packet_interface);
		if (!s->classifier && !r->by_port)
			r->verdict = CLASSIFY_OTHER; /* nothing can tell: not ours */
	}
	return r;
}

/* A flow's SMTP/TLS parsers are ours to feed: by its port, or by nDPI's verdict. */
static bool is_mail(const struct flow_record *r)
{
	return r->by_port || classify_verdict_is_mail(r->verdict);
}

static struct mail_session *mail_of(struct flow_record *r)
{
	if (!r->mail && !r->mail_failed) {
		r->mail = mail_session_new(r->implicit_tls, &r->sensor->settings.smtp);
		r->mail_failed = r->mail == NULL;
	}
	return r->mail;
}

/*
 * The parsers allocate as the flow goes (line buffers, handshake assembly,
 * certificate copies); their bytes are charged to the same memcap as flows and
 * segments, after the fact, making room as a new flow would (emergency mode,
 * then evicting the cheapest other flows: half-open ones first, so a SYN flood
 * does not starve real sessions). A flow for which no room can be made stops
 * being parsed and takes no more (its session says so in
 * tlsobs.limits.parser_memcap); what it holds is freed when the flow ends.
 */
static bool charge_parsers(struct flow_record *r, const struct flow *f)
{
	if (r->ending)
		return true; /* freed in a moment, and the table is busy ending this flow */
	struct memcap *mc = flow_table_memcap(r->sensor->flows);
	uint64_t now = sizeof *r + mail_session_memory(r->mail) + stream_hold_memory(&r->held) +
	               (r->cls ? classify_flow_size() : 0);
	if (now < r->charged) {
		memcap_release(mc, r->charged - now);
		r->charged = now;
	} else if (now > r->charged) {
		if (!flow_table_reserve(r->sensor->flows, now - r->charged, f, r->sensor->now_us)) {
			r->memcap_stopped = true;
			r->sensor->stats.parser_memcap_stops++;
			if (r->mail)
				mail_session_cut(r->mail);
			return false;
		}
		r->charged = now;
	}
	return true;
}

static enum stream_verdict record_data(void *state, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                       size_t n)
{
	struct flow_record *r = state;
	if (!r)
		return STREAM_DONE;
	if (r->dump && stream_dump_write(r->dump, f, dir, p, n) != 0) {
		/* Count, and stop dumping this flow rather than write a file with holes. */
		r->sensor->stats.dump_errors++;
		stream_dump_free(r->dump);
		r->dump = NULL;
	}
	if (r->memcap_stopped)
		return r->dump ? STREAM_CONTINUE : STREAM_DONE;
	if (!is_mail(r)) {
		if (r->verdict != CLASSIFY_PENDING)
			return r->dump ? STREAM_CONTINUE : STREAM_DONE; /* not mail: no parser wants it */
		bool overflowed = r->held.overflow;
		if (!stream_hold_add(&r->held, dir, p, n) && !overflowed)
			r->sensor->stats.hold_overflows++; /* once per flow */
		return charge_parsers(r, f) ? STREAM_CONTINUE : STREAM_DONE;
	}
	struct mail_session *m = mail_of(r);
	enum stream_verdict v = m ? mail_session_data(m, dir, p, n) : STREAM_DONE;
	if (m && !charge_parsers(r, f))
		v = STREAM_DONE;
	/* Dumping wants every byte; otherwise a decided handshake ends reassembly. */
	return r->dump ? STREAM_CONTINUE : v;
}

static enum stream_verdict record_gap(void *state, struct flow *f, enum flow_dir dir, uint64_t n)
{
	struct flow_record *r = state;
	if (r && r->mail)
		mail_session_gap(r->mail, dir, n);
	else if (r && !is_mail(r) && r->verdict == CLASSIFY_PENDING)
		r->held.overflow = true; /* held bytes with a hole cannot be replayed as a stream */
	return STREAM_CONTINUE;
}

/* ---- classification ---- */

_Static_assert(CLASSIFY_VERDICT_COUNT == sizeof(((struct sensor_stats *)0)->classified) / sizeof(uint64_t),
               "one counter per verdict");

static void replay_held(void *ctx, enum flow_dir dir, const uint8_t *p, size_t n)
{
	struct flow_record *r = ctx;
	struct mail_session *m = mail_of(r);
	if (m)
		mail_session_data(m, dir, p, n);
}

/* Keeps what the session event needs from nDPI; the flow's nDPI state may go after this. */
static void keep_classification(struct flow_record *r)
{
	snprintf(r->app, sizeof r->app, "%s", classify_flow_protocol(r->cls));
	r->n_risks = classify_flow_risks(r->cls, r->risks, CLASSIFY_MAX_RISKS);
}

/*
 * nDPI decided. Mail found off the configured ports gets parsers now, fed what
 * was held; a hold that overflowed or had a hole leaves a gap at its start, so
 * the STARTTLS verdict is incomplete rather than wrong. Anything else stops
 * here: no reassembly, no parsers, no event unless capture.all_flows.
 */
static void classification_decided(struct sensor *s, struct flow *f, struct flow_record *r,
                                   enum classify_verdict v)
{
	r->verdict = v;
	keep_classification(r);
	s->stats.classified[v]++;
	if (r->by_port)
		return;
	if (classify_verdict_is_mail(v)) {
		r->implicit_tls = v == CLASSIFY_MAIL_SMTPS;
		if (r->held.overflow && mail_of(r))
			mail_session_cut(r->mail); /* the start is missing */
		stream_hold_replay(&r->held, replay_held, r);
	} else if (!r->dump) {
		f->consumer_done = true;
	}
	stream_hold_release(&r->held);
	charge_parsers(r, f);
}

/* One packet of a flow still being classified, before its payload reaches the parsers. */
static void classify_step(struct sensor *s, struct flow *f, enum flow_dir dir, const struct decoded_packet *p,
                          uint64_t ts_us)
{
	struct flow_record *r = f->consumer_state;
	if (!r || !s->classifier || r->memcap_stopped)
		return;
	if (!r->cls_started && p->payload_len > 0) {
		r->cls_started = true;
		r->cls = classify_flow_new(s->classifier);
		if (r->cls && !charge_parsers(r, f)) {
			classify_flow_free(r->cls);
			r->cls = NULL;
		}
		if (!r->cls && !r->by_port)
			r->verdict = CLASSIFY_OTHER;
	}
	if (!r->cls)
		return;
	enum classify_verdict v =
	    classify_packet(s->classifier, r->cls, p->ip, p->ip_len, ts_us, dir == FLOW_TO_SERVER);
	if (v != CLASSIFY_PENDING && r->verdict == CLASSIFY_PENDING)
		classification_decided(s, f, r, v);
	if (classify_flow_done(r->cls)) {
		keep_classification(r); /* risks found after the decision */
		classify_flow_free(r->cls);
		r->cls = NULL;
	}
}

/* The flow ended: a verdict now if still pending, and nDPI's state goes. */
static void classification_end(struct sensor *s, struct flow *f, struct flow_record *r)
{
	if (!r->cls)
		return;
	if (r->verdict == CLASSIFY_PENDING)
		classification_decided(s, f, r, classify_finish(s->classifier, r->cls));
	else
		keep_classification(r);
	classify_flow_free(r->cls);
	r->cls = NULL;
}

static void copy_stream_counters(struct session_stream_counters *c, const struct tcp_stream *st)
{
	c->delivered = st->delivered;
	c->gaps = st->gaps;
	c->gap_bytes = st->gap_bytes;
	c->retransmitted_bytes = st->retransmitted_bytes;
	c->overlap_conflicts = st->overlap_conflicts;
	c->out_of_window = st->out_of_window;
	c->ooo_cap_hits = st->ooo_cap_hits;
	c->memcap_drops = st->memcap_drops;
	c->depth_reached = st->depth_reached;
}

static bool is_internal(const struct sensor *s, const struct ip_addr *a)
{
	for (size_t i = 0; i < s->settings.n_internal_networks; i++)
		if (ip_network_contains(&s->settings.internal_networks[i], a))
			return true;
	return false;
}

/* network.direction (ECS values) from where client and server sit; none when no internal_networks are set. */
static enum session_direction direction_of(const struct sensor *s, const struct ip_addr *client,
                                           const struct ip_addr *server)
{
	if (s->settings.n_internal_networks == 0)
		return SESSION_DIRECTION_NONE;
	bool c = is_internal(s, client), v = is_internal(s, server);
	return c ? (v ? SESSION_DIRECTION_INTERNAL : SESSION_DIRECTION_OUTBOUND)
	         : (v ? SESSION_DIRECTION_INBOUND : SESSION_DIRECTION_EXTERNAL);
}

static void fill_session(struct sensor *s, struct session *sess, const struct flow *f,
                         enum flow_close_reason reason)
{
	memset(sess, 0, sizeof *sess);
	session_id_make(sess->id, s->run_nonce, f->id);
	const struct flow_side *c = &f->side[FLOW_TO_SERVER], *v = &f->side[FLOW_TO_CLIENT];
	sess->client = (struct session_endpoint){f->client.ip, f->client.port, c->bytes, c->packets};
	sess->server = (struct session_endpoint){f->server.ip, f->server.port, v->bytes, v->packets};
	sess->start_us = f->first_us;
	sess->end_us = f->last_us;
	sess->close_reason = flow_session_close_reason(tcp_tracker_close_reason(f, reason));
	sess->role_source = flow_session_role_source(f->role_source);
	sess->direction = direction_of(s, &f->client.ip, &f->server.ip);
	sess->encap = f->encap;
	copy_stream_counters(&sess->to_server, &c->stream);
	copy_stream_counters(&sess->to_client, &v->stream);
}

/*
 * Hands the event in s->json to every output. The partitioning key is the session's partner domain
 * where one is known, else its server address; sess NULL: no key (stats).
 */
static void emit(struct sensor *s, const char *dataset, const struct session *sess)
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
	/* id and time_us: event.id and @timestamp as the event's writer recorded them (event_begin). */
	struct output_event ev = {.dataset = dataset,
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

/* network.protocol: what the flow carries (the event writes it in lowercase, as ECS has it). */
static enum session_protocol protocol_of(const struct sensor *s, const struct flow *f,
                                         const struct flow_record *r)
{
	if (r && !is_mail(r)) /* capture.all_flows: nDPI's name (other_protocol) */
		return SESSION_PROTOCOL_OTHER;
	if (r && !r->by_port)
		return SESSION_PROTOCOL_SMTP; /* nDPI found SMTP, or SMTP over TLS */
	/* 465 is SMTP over TLS; other implicit-TLS ports (443 in tests) carry plain TLS as far as we know. */
	bool implicit = port_in(s->implicit_tls_port, f->server.port);
	return implicit && f->server.port != 465 ? SESSION_PROTOCOL_TLS : SESSION_PROTOCOL_SMTP;
}

/*
 * A partner's relaxed_until that packet time has just passed (after the last
 * check, at or before now): enforcement is back by itself, and an event says
 * so. A relaxation that ended before the first packet was never seen running.
 */
static void check_relaxations(struct sensor *s, uint64_t now_us)
{
	if (!s->relax_checked_us) {
		s->relax_checked_us = now_us;
		return;
	}
	if (now_us <= s->relax_checked_us)
		return;
	const struct policy *pol = &s->settings.policy;
	for (size_t i = 0; i < pol->n_partners; i++) {
		const struct partner_policy *p = &pol->partners[i];
		if (p->relaxed_until_us <= s->relax_checked_us || p->relaxed_until_us > now_us)
			continue;
		char run_id[SESSION_ID_LEN];
		session_id_make(run_id, s->run_nonce, 0);
		policy_event_write_relaxation_ended(&s->json, p, run_id, ++s->policy_seq, &s->event_ctx,
		                                    wall_clock_us());
		emit(s, "tlsobs.policy", NULL);
	}
	s->relax_checked_us = now_us;
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
 * Geo and AS of the remote side: the one outside internal_networks, both when
 * that cannot be told (no internal_networks, or neither side inside). Looked up
 * once per flow, here, and shared by the session and its alerts.
 */
static void enrich_session(struct sensor *s, struct session *sess)
{
	if (!s->geo)
		return;
	bool client_in = is_internal(s, &sess->client.ip), server_in = is_internal(s, &sess->server.ip);
	struct geoip_result r;
	if (!client_in && geoip_lookup(s->geo, &sess->client.ip, &r))
		copy_geo(&sess->client_geo, &r);
	if (!server_in && geoip_lookup(s->geo, &sess->server.ip, &r))
		copy_geo(&sess->server_geo, &r);
}

/* The session event, then one alert event per alert, all from the same session record. */
static void report_session_events(struct sensor *s, const struct flow *f, struct flow_record *r,
                                  enum flow_close_reason reason);
/* The session's events carry the interface its flow was first seen on (observer.ingress.interface.name). */
static void report_session(struct sensor *s, const struct flow *f, struct flow_record *r,
                           enum flow_close_reason reason)
{
	s->event_ctx.ingress_interface = r && r->ingress[0] ? r->ingress : NULL;
	report_session_events(s, f, r, reason);
	s->event_ctx.ingress_interface = NULL;
}

static void report_session_events(struct sensor *s, const struct flow *f, struct flow_record *r,
                                  enum flow_close_reason reason)
{
	struct session *sess = s->scratch;
	fill_session(s, sess, f, reason);
	if (r && r->verdict != CLASSIFY_PENDING) {
		sess->application = r->app;
		sess->application_risks = r->risks;
		sess->n_application_risks = r->n_risks;
	}
	sess->protocol = protocol_of(s, f, r);
	if (sess->protocol == SESSION_PROTOCOL_OTHER) /* "unknown" when nDPI had no name */
		sess->other_protocol = r->app[0] ? r->app : "unknown";
	if (r && !is_mail(r)) { /* capture.all_flows: the flow, and what nDPI made of it; no mail rules */
		enrich_session(s, sess);
		session_event_write(&s->json, sess, &s->event_ctx, wall_clock_us());
		emit(s, "tlsobs.session", sess);
		s->stats.sessions_reported++;
		s->stats.sessions_not_mail++;
		return;
	}
	sess->implicit_tls = r ? r->implicit_tls : port_in(s->implicit_tls_port, f->server.port);
	if (r && r->mail && reason == FLOW_CLOSE_EVICTED)
		mail_session_cut(r->mail); /* cut off to make room, not ended by its peers */
	if (r && r->mail) {
		/* Only the peers end a handshake: the end of the capture or a timeout leaves it undecided. */
		bool rst = f->side[0].rst || f->side[1].rst;
		if (rst || f->side[0].fin || f->side[1].fin)
			mail_session_end(r->mail, rst);
		else
			mail_session_stop(r->mail);
		mail_session_fill(r->mail, sess);
	}
	sess->parser_memcap_stopped = r && r->memcap_stopped;
	tls_inspect_session(s->tls_inspector, sess);
	enrich_session(s, sess);
	uint64_t at_us = sess->end_us > sess->start_us ? sess->end_us : sess->start_us; /* the rules' "now" */
	check_relaxations(s, at_us);
	rules_engine_evaluate(s->rules, sess);
	if (s->sync)
		state_sync_session(s->sync, sess, at_us);
	uint64_t created = wall_clock_us();
	session_event_write(&s->json, sess, &s->event_ctx, created);
	emit(s, "tlsobs.session", sess);
	for (unsigned i = 0; i < sess->alerts.count; i++) {
		alert_event_write(&s->json, sess, &sess->alerts.items[i], &s->event_ctx, created);
		emit(s, "tlsobs.alert", sess);
	}
	s->stats.alerts += sess->alerts.count;
	s->stats.sessions_reported++;
	if ((unsigned)sess->starttls_result < METRICS_STARTTLS_RESULTS)
		s->stats.sessions_by_result[sess->starttls_result]++;
	bool first = false;
	const struct cert_sighting *c = rules_engine_cert_sighting(s->rules, &first);
	if (c && first) {
		certificate_event_write(&s->json, sess, c, &s->event_ctx, created);
		emit(s, "tlsobs.certificate", sess);
	}
}

/* flow_table's end hook: last bytes out, then the session and its alerts. */
static void flow_ended(void *ctx, struct flow *f, enum flow_close_reason reason)
{
	struct sensor *s = ctx;
	struct flow_record *r = f->consumer_state;
	if (r)
		r->ending = true;
	tcp_tracker_flush(f);
	for (int d = 0; d < 2; d++) {
		s->stats.gaps += f->side[d].stream.gaps;
		s->stats.gap_bytes += f->side[d].stream.gap_bytes;
	}
	if (r)
		classification_end(s, f, r);
	if (r && !is_mail(r) && !s->settings.all_flows)
		s->stats.flows_not_mail++;
	else if (tcp_tracker_answered(f))
		report_session(s, f, r, reason);
	else
		s->stats.sessions_unanswered++;
	if (r) {
		stream_dump_free(r->dump);
		stream_hold_release(&r->held);
		mail_session_free(r->mail);
		memcap_release(flow_table_memcap(s->flows), r->charged);
		free(r);
	}
	f->consumer_state = NULL;
}

static void mark_ports(uint8_t *bitmap, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bitmap[ports[i] / 8] |= (uint8_t)(1u << (ports[i] % 8));
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

struct sensor *sensor_new(const struct sensor_settings *settings, struct output *const *outputs,
                          size_t noutputs, const char *dump_dir, char *err, size_t errlen)
{
	struct sensor *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->tls_inspector = tls_inspector_new(settings->ca_file[0] ? settings->ca_file : NULL, err, errlen);
	if (!s->tls_inspector) {
		free(s);
		return NULL;
	}
	s->settings = *settings;
	s->outputs = outputs;
	s->noutputs = noutputs;
	s->dump_dir = dump_dir;
	mark_ports(s->service_port, settings->smtp_ports, settings->n_smtp_ports);
	mark_ports(s->service_port, settings->implicit_tls_ports, settings->n_implicit_tls_ports);
	mark_ports(s->implicit_tls_port, settings->implicit_tls_ports, settings->n_implicit_tls_ports);
	s->consumer = (struct flow_consumer){record_open, record_data, record_gap, s};
	s->flows = flow_table_new(&settings->flow, flow_ended, s);
	s->defrag = defrag_new(&settings->defrag);
	/* The engine borrows the policy from our copy of the settings; its partners stay the caller's. */
	struct rules_settings rules = settings->rules;
	rules.policy = &s->settings.policy;
	s->rules = rules_engine_new(&rules);
	s->scratch = malloc(sizeof *s->scratch);
	/* Without it flows are still followed by port. Every dissector only when all_flows names them all. */
	s->classifier = settings->all_flows ? classifier_new_all() : classifier_new();
	if (!s->flows || !s->defrag || !s->rules || !s->scratch) {
		snprintf(err, errlen, "out of memory (flow.memcap and flow.hash_size)");
		sensor_free(s);
		return NULL;
	}
	if (settings->state_db[0] && open_state(s, settings->state_db, err, errlen) != 0) {
		sensor_free(s);
		return NULL;
	}
	json_writer_init(&s->json, SENSOR_JSON_MAX_STRING);
	if (gethostname(s->hostname, sizeof s->hostname - 1) != 0)
		snprintf(s->hostname, sizeof s->hostname, "unknown");
	s->event_ctx = (struct event_context){s->hostname, TLSOBS_VERSION, s->settings.sensor_name,
	                                      s->settings.runbook_base, NULL};
	if (getrandom(&s->run_nonce, sizeof s->run_nonce, 0) != sizeof s->run_nonce)
		s->run_nonce = wall_clock_us() ^ (uint64_t)getpid() << 32;
	return s;
}

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

static void fill_counters(struct sensor *s, struct sensor_counters *c, bool final)
{
	const struct flow_table_stats *ft = flow_table_stats(s->flows);
	const struct memcap *mc = flow_table_memcap(s->flows);
	const struct sensor_stats *st = &s->stats;
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
	c->emergency = flow_table_in_emergency(s->flows);
	c->memcap_used = mc->used;
	c->memcap_peak = mc->peak;
	c->sessions_reported = st->sessions_reported;
	c->sessions_unanswered = st->sessions_unanswered;
	c->events_dropped = st->events_dropped;
	c->gaps = st->gaps;
	c->gap_bytes = st->gap_bytes;
	fill_defrag_counters(defrag_stats(s->defrag), c);
	memcpy(c->alerts, rules_engine_stats(s->rules)->alerts, sizeof c->alerts);
	const struct rules_stats *rs = rules_engine_stats(s->rules);
	c->certificates_known = rs->certificates_known;
	c->history_servers = rs->history_servers;
	c->history_pairs = rs->history_pairs;
	c->history_tls_servers = rs->history_tls_servers;
	c->history_evicted = rs->history_evicted;
	c->history_expired = rs->history_expired;
	if (s->capture && capture_is_live(s->capture)) {
		struct capture_stats cs;
		capture_stats(s->capture, &cs);
		c->live = true;
		c->capture_received = cs.received;
		c->capture_dropped = cs.dropped;
		c->capture_if_dropped = cs.if_dropped;
	}
}

static void emit_stats(struct sensor *s, bool final)
{
	struct sensor_counters c;
	fill_counters(s, &c, final);
	s->stats_seq++;
	stats_event_write(&s->json, &c, s->outputs, s->noutputs, &s->event_ctx, wall_clock_us());
	emit(s, "tlsobs.stats", NULL);
}

/* Output polling and periodic stats, both driven by packet time (and by ticks in live capture). */
static void housekeeping(struct sensor *s)
{
	for (size_t i = 0; i < s->noutputs; i++)
		output_poll(s->outputs[i]);
	check_relaxations(s, s->now_us);
	uint64_t wall = wall_clock_us();
	if (s->geo && wall >= s->next_geoip_check_us) {
		char err[600];
		if (geoip_check_reload(s->geo, err, sizeof err) < 0)
			logger_log(LOGGER_WARNING, "geoip", "%s", err);
		s->next_geoip_check_us = wall + SENSOR_GEOIP_CHECK_US;
	}
	if (s->sync && s->now_us >= s->next_state_flush_us) {
		state_sync_flush(s->sync, s->now_us);
		s->next_state_flush_us = s->now_us + SENSOR_STATE_FLUSH_US;
	}
	uint64_t interval = s->settings.stats_interval_us;
	if (!interval)
		return;
	if (!s->next_stats_us)
		s->next_stats_us = s->now_us + interval;
	if (s->now_us >= s->next_stats_us) {
		emit_stats(s, false);
		s->next_stats_us = s->now_us + interval;
	}
}

/* A TCP segment, from a packet or a reassembled datagram: its flow, classification and stream. */
static void handle_segment(struct sensor *s, const struct decoded_packet *p, uint32_t wire_len,
                           uint64_t ts_us)
{
	enum flow_dir dir;
	struct flow *f = flow_table_find(s->flows, p, &dir);
	/* A new SYN on a closed flow (FIN or RST seen) is the next connection on the same ports. */
	if (f && f->state == FLOW_STATE_CLOSED && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		flow_table_end(s->flows, f, FLOW_CLOSE_FIN);
		f = NULL;
	}
	bool dst_service = is_service_port(s, p->dport), src_service = is_service_port(s, p->sport);
	if (!f && !dst_service && !src_service && !s->settings.any_port) {
		s->stats.other_ports++;
	} else if (!f && !(p->tcp_flags & TCP_SYN) && p->payload_wire_len == 0) {
		s->stats.stray_segments++;
	} else {
		if (!f && (f = flow_table_create(s->flows, p, dst_service, src_service, ts_us, &dir)))
			tcp_tracker_attach(f, &s->consumer);
		if (f) {
			classify_step(s, f, dir, p, ts_us);
			tcp_tracker_segment(s->flows, f, dir, p, wire_len, ts_us);
		}
	}
}

/*
 * A fragment goes to reassembly; a datagram made whole is decoded again from
 * its IP header, with its first fragment's link facts, and counted like a
 * packet's decode (a reassembled TCP segment is one of tcp_segments).
 */
static void handle_fragment(struct sensor *s, const struct decoded_packet *p, const struct capture_packet *cp)
{
	struct defrag_datagram dg;
	if (defrag_add(s->defrag, p, cp->len, s->now_us, &dg) != DEFRAG_COMPLETE)
		return;
	struct decoded_packet whole = dg.link;
	enum decode_result r = packet_decode_ip(dg.family, dg.bytes, dg.len, &s->settings.decode, &whole);
	s->stats.decode[r]++;
	/* The bytes its fragments took on the wire: what network.bytes counts. */
	uint32_t wire = dg.wire_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)dg.wire_bytes;
	if (r == DECODE_OK)
		handle_segment(s, &whole, wire, cp->ts_us);
}

void sensor_packet(struct sensor *s, const struct capture_packet *cp)
{
	s->stats.packets++;
	s->stats.bytes += cp->len;
	s->packet_interface = cp->interface;
	if (cp->ts_us > s->now_us)
		s->now_us = cp->ts_us;
	if (!s->relax_checked_us)
		s->relax_checked_us = cp->ts_us;
	struct decoded_packet p;
	enum decode_result r = packet_decode(cp->linktype, cp->data, cp->caplen, &s->settings.decode, &p);
	s->stats.decode[r]++;
	/* Expire first: a packet must not land in a flow that has already timed out (a reused port pair). */
	flow_table_expire(s->flows, s->now_us);
	defrag_expire(s->defrag, s->now_us);
	if (r == DECODE_OK)
		handle_segment(s, &p, cp->len, cp->ts_us);
	else if (r == DECODE_IPV4_FRAGMENT || r == DECODE_IPV6_FRAGMENT)
		handle_fragment(s, &p, cp);
	if (s->stats.packets % SENSOR_POLL_EVERY == 0)
		housekeeping(s);
}

void sensor_tick(struct sensor *s, uint64_t now_us)
{
	if (now_us > s->now_us)
		s->now_us = now_us;
	flow_table_expire(s->flows, s->now_us);
	defrag_expire(s->defrag, s->now_us);
	housekeeping(s);
}

/* The tlsobs.policy audit event (policy_event.h), written at once: @timestamp is the wall clock. */
static void audit_policy(struct sensor *s, enum policy_audit_action action, const struct policy *old,
                         const struct policy *next, const struct policy_source *src, const char *failure)
{
	char run_id[SESSION_ID_LEN];
	session_id_make(run_id, s->run_nonce, 0);
	policy_event_write_audit(&s->json, action, old, next, src, failure, run_id, ++s->policy_seq,
	                         &s->event_ctx, wall_clock_us());
	emit(s, "tlsobs.policy", NULL);
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
		inspector = tls_inspector_new(next->ca_file[0] ? next->ca_file : NULL, err, errlen);
		if (!inspector)
			return -1;
	}
	/* Nothing can fail from here: the running configuration changes all at once or not at all. */
	if (s->reload_source)
		audit_policy(s, POLICY_AUDIT_RELOADED, &s->settings.policy, &next->policy, s->reload_source,
		             NULL);
	if (inspector) {
		tls_inspector_free(s->tls_inspector);
		s->tls_inspector = inspector;
		snprintf(s->settings.ca_file, sizeof s->settings.ca_file, "%s", next->ca_file);
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
	s->next_stats_us = 0;
	s->stats.reloads++;
	return 0;
}

void sensor_set_geoip(struct sensor *s, struct geoip *g)
{
	geoip_free(s->geo);
	s->geo = g;
	s->next_geoip_check_us = wall_clock_us() + SENSOR_GEOIP_CHECK_US;
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
	fill_counters(s, &c, false);
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

void sensor_metrics(struct sensor *s, struct metrics_snapshot *m)
{
	memset(m, 0, sizeof *m);
	fill_counters(s, &m->c, false);
	memcpy(m->sessions_by_result, s->stats.sessions_by_result, sizeof m->sessions_by_result);
	m->sessions_not_mail = s->stats.sessions_not_mail;
	m->reloads_ok = s->stats.reloads;
	m->reloads_failed = s->stats.reload_failures;
	if (s->sync)
		m->state_db_errors = state_sync_stats(s->sync)->flush_errors;
	for (size_t i = 0; i < s->noutputs; i++)
		metrics_add_output(m, s->outputs[i]);
	m->published_us = wall_clock_us();
}

void sensor_finish(struct sensor *s, enum flow_close_reason reason)
{
	flow_table_end_all(s->flows, reason);
	check_relaxations(s, s->now_us);
	if (s->sync)
		state_sync_flush(s->sync, s->now_us);
}

const struct sensor_stats *sensor_stats(const struct sensor *s)
{
	return &s->stats;
}

void sensor_print_summary(const struct sensor *s, FILE *out)
{
	struct capture_stats capture_counters = {0}, *cs = &capture_counters;
	bool live = s->capture && capture_is_live(s->capture);
	if (s->capture)
		capture_stats(s->capture, cs);
	const struct flow_table_stats *ft = flow_table_stats(s->flows);
	const struct sensor_stats *st = &s->stats;
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
	fprintf(out,
	        "tlsobs: sessions: %" PRIu64 " reported, %" PRIu64 " unanswered; reassembly gaps: %" PRIu64
	        " (%" PRIu64 " bytes); events dropped: %" PRIu64 "\n",
	        st->sessions_reported, st->sessions_unanswered, st->gaps, st->gap_bytes, st->events_dropped);
	fprintf(out, "tlsobs: alerts: %" PRIu64 "\n", st->alerts);
	const struct defrag_stats *fs = defrag_stats(s->defrag);
	if (fs->fragments)
		fprintf(out,
		        "tlsobs: fragments: %" PRIu64 " in, %" PRIu64 " datagrams reassembled, %" PRIu64
		        " timed out, %" PRIu64 " overlaps with conflicting bytes, %" PRIu64
		        " invalid; given up: %" PRIu64 " memcap, %" PRIu64 " too many fragments, %" PRIu64
		        " too large, %" PRIu64 " cut by the snap length; peak memory %" PRIu64 "\n",
		        fs->fragments, fs->reassembled, fs->timeouts, fs->overlaps, fs->invalid,
		        fs->gave_up_memcap, fs->gave_up_too_many_fragments, fs->gave_up_too_large,
		        fs->gave_up_snaplen, fs->memory_peak);
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
	if (s->classifier) {
		const struct classify_stats *ns = classifier_stats(s->classifier);
		fprintf(out,
		        "tlsobs: nDPI: %" PRIu64 " packets inspected; flows: %" PRIu64 " smtp, %" PRIu64
		        " smtps, %" PRIu64 " other (%" PRIu64 " given up on), %" PRIu64
		        " not mail and not reported, %" PRIu64 " whose first bytes outgrew the hold\n",
		        ns->packets, st->classified[CLASSIFY_MAIL_SMTP], st->classified[CLASSIFY_MAIL_SMTPS],
		        st->classified[CLASSIFY_OTHER], ns->giveups, st->flows_not_mail, st->hold_overflows);
	}
	if (st->parser_memcap_stops)
		fprintf(out, "tlsobs: flows whose parsing stopped at the memcap: %" PRIu64 "\n",
		        st->parser_memcap_stops);
	if (st->reloads)
		fprintf(out, "tlsobs: configuration reloaded %" PRIu64 " times\n", st->reloads);
	if (st->dump_errors)
		fprintf(out, "tlsobs: --dump-streams: %" PRIu64 " flows could not be written\n",
		        st->dump_errors);
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

void sensor_free(struct sensor *s)
{
	if (!s)
		return;
	flow_table_free(s->flows, FLOW_CLOSE_SHUTDOWN);
	defrag_free(s->defrag);
	classifier_free(s->classifier); /* after the flows: theirs point back at it */
	geoip_free(s->geo);
	state_sync_free(s->sync);
	state_db_close(s->state);
	if (s->policy_owned)
		policy_clear(&s->settings.policy);
	rules_engine_free(s->rules);
	tls_inspector_free(s->tls_inspector);
	free(s->scratch);
	json_writer_release(&s->json);
	free(s);
}
