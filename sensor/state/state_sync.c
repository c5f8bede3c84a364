/* state_sync.c: from sessions and the rules engine to the state database. */
#include "sensor/state/state_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outputs/logger.h"

#include "parsers/smtp.h"
#include "parsers/tls_ciphers.h"
#include "rules/policy.h"
#include "rules/tlsrpt.h"

#define PRUNE_EVERY_US (600ull * 1000000u) /* ten minutes of packet time */
/* The relaxations' row: not a rules table, so neither restored into the engine nor pruned. */
#define RELAXATIONS_TABLE "sensor.relaxations.v1"
#define RELAXATIONS_KEY "checked"

struct state_sync {
	struct state_db *db;
	struct rules_engine *engine;
	const struct policy *policy; /* borrowed: TLS-RPT notes */
	uint64_t ttl_us;
	struct rules_export_cursor saved; /* what the database already holds */
	struct rules_export_cursor pending;
	uint64_t now_us;        /* of the flush under way */
	uint64_t batch_records; /* engine records written by the flush under way */
	uint64_t next_inventory_prune_us;
	struct state_sync_stats stats;
	uint64_t errors_logged_us; /* monotonic: failing flushes are logged at most once a minute */
	uint64_t errors_since_log;
	uint64_t relax_saved_us, relax_pending_us; /* relaxations dealt with: in the database, to save */
	bool relax_urgent; /* save relax_pending_us at the next flush, alone if need be */
};

/* A failing flush, logged the first time and then once a minute with the count in between. */
static void log_flush_error(struct state_sync *ss)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	ss->errors_since_log++;
	if (ss->errors_logged_us && now - ss->errors_logged_us < 60000000u)
		return;
	logger_log(LOGGER_ERROR, "state_db", "flush failed (%llu times since last reported): %s",
	           (unsigned long long)ss->errors_since_log, state_db_error(ss->db));
	ss->errors_logged_us = now;
	ss->errors_since_log = 0;
}

struct state_sync *state_sync_new(struct state_db *db, struct rules_engine *engine, uint64_t history_ttl_us)
{
	struct state_sync *ss = calloc(1, sizeof *ss);
	if (!ss)
		return NULL;
	ss->db = db;
	ss->engine = engine;
	ss->ttl_us = history_ttl_us;
	return ss;
}

void state_sync_free(struct state_sync *ss)
{
	free(ss);
}

void state_sync_set_policy(struct state_sync *ss, const struct policy *p)
{
	ss->policy = p;
}

const struct state_sync_stats *state_sync_stats(const struct state_sync *ss)
{
	return &ss->stats;
}

struct restore_ctx {
	struct state_sync *ss;
	enum rules_table table;
};

static int restore_one(void *ctx, const uint8_t *key, size_t key_len, uint64_t seen_us, const void *record,
                       size_t record_len)
{
	struct restore_ctx *r = ctx;
	if (rules_engine_restore(r->ss->engine, r->table, key, key_len, seen_us, record, record_len))
		r->ss->stats.restored++;
	else
		r->ss->stats.restore_skipped++;
	return 0;
}

/* The saved time is in seen_us; the record repeats it (a row needs one) and is not read. */
static int restore_relaxations(void *ctx, const uint8_t *key, size_t key_len, uint64_t seen_us,
                               const void *record, size_t record_len)
{
	struct state_sync *ss = ctx;
	(void)record;
	(void)record_len;
	if (key_len == strlen(RELAXATIONS_KEY) && memcmp(key, RELAXATIONS_KEY, key_len) == 0)
		ss->relax_saved_us = ss->relax_pending_us = seen_us;
	return 0;
}

int state_sync_restore(struct state_sync *ss, char *err, size_t errlen)
{
	if (state_db_history_load(ss->db, RELAXATIONS_TABLE, 1, restore_relaxations, ss) < 0) {
		snprintf(err, errlen, "%s", state_db_error(ss->db));
		return -1;
	}
	for (int t = 0; t < RULES_TABLE_COUNT; t++) {
		struct restore_ctx r = {ss, (enum rules_table)t};
		size_t cap = rules_table_capacity(ss->engine, r.table);
		if (state_db_history_load(ss->db, rules_table_name(r.table), cap, restore_one, &r) < 0) {
			snprintf(err, errlen, "%s", state_db_error(ss->db));
			return -1;
		}
	}
	rules_engine_export_point(ss->engine, &ss->saved);
	return 0;
}

/* ---- notes from a session ---- */

/* Cut at the cap: the database's fields are bounded, and a cut name still identifies. */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strnlen(src, cap - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The MX name the server gave itself: its banner's host, else the name the client asked for. */
static void mx_name(const struct session *s, char *out, size_t cap)
{
	out[0] = '\0';
	if (s->smtp && s->smtp->banner[0] && smtp_greeting_host(s->smtp->banner, out, cap) == 0)
		return;
	out[0] = '\0';
	if (s->tls && s->tls->client_hello_seen)
		copy(out, cap, s->tls->ch.sni);
}

static void note_server(struct state_sync *ss, const struct session *s, uint64_t now_us)
{
	struct state_server_note n = {.port = s->server.port, .time_us = now_us};
	ip_addr_format(&s->server.ip, n.ip, sizeof n.ip);
	mx_name(s, n.mx, sizeof n.mx);
	n.starttls_offered = s->smtp && s->smtp->caps.starttls;
	const struct tls_observation *t = s->tls;
	if (t && t->server_hello_seen) {
		copy(n.tls_version, sizeof n.tls_version, tls_version_str(t->version));
		copy(n.cipher, sizeof n.cipher, tls_cipher_name(t->cipher));
	}
	copy(n.ja3s, sizeof n.ja3s, s->fingerprints.ja3s);
	if (s->certificate.parsed) {
		copy(n.cert_sha256, sizeof n.cert_sha256, s->certificate.leaf.sha256);
		copy(n.cert_issuer, sizeof n.cert_issuer, s->certificate.leaf.issuer);
	}
	state_db_note_server(ss->db, &n);
}

static void note_certificate(struct state_sync *ss, const struct session *s, uint64_t now_us)
{
	const struct x509_info *x = &s->certificate.leaf;
	struct state_cert_note n = {
	    .not_after = x->not_after, .time_us = now_us, .server_port = s->server.port};
	copy(n.sha256, sizeof n.sha256, x->sha256);
	copy(n.subject, sizeof n.subject, x->subject);
	copy(n.issuer, sizeof n.issuer, x->issuer);
	size_t used = 0;
	for (unsigned i = 0; i < x->san_count && used + 1 < sizeof n.sans; i++) {
		int w = snprintf(n.sans + used, sizeof n.sans - used, "%s%s", i ? "," : "", x->san_dns[i]);
		if (w < 0 || (size_t)w >= sizeof n.sans - used)
			break; /* cut at the cap: the list is for people, the fingerprint is the key */
		used += (size_t)w;
	}
	ip_addr_format(&s->server.ip, n.server_ip, sizeof n.server_ip);
	if (s->partner)
		copy(n.partner, sizeof n.partner, s->partner->domain);
	state_db_note_certificate(ss->db, &n);
}

/* Why mail to this partner did not travel encrypted; NULL when it did, or nothing can be said. */
static const char *failure_of(const struct session *s)
{
	switch (s->starttls_result) {
	case STARTTLS_UPGRADED:
	case STARTTLS_IMPLICIT_TLS:
		if (s->tls && s->tls->outcome != TLS_OUTCOME_ESTABLISHED &&
		    s->tls->outcome != TLS_OUTCOME_GAP && s->tls->outcome != TLS_OUTCOME_IN_PROGRESS)
			return s->tls->outcome == TLS_OUTCOME_ALERT    ? "tls_alert"
			       : s->tls->outcome == TLS_OUTCOME_CLOSED ? "tls_closed"
			                                               : "tls_not_tls";
		return NULL;
	case STARTTLS_INCOMPLETE:
		return NULL;
	default:
		return starttls_result_str(s->starttls_result);
	}
}

/*
 * Fair attribution for coverage: the partner; else the first recipient domain seen in clear (its
 * domain part when local parts are kept); else the server address, unattributed. So every session
 * counts somewhere and a share is never computed over the ones that happened to be in clear.
 */
static void attribute(const struct session *s, struct state_partner_note *n)
{
	const struct smtp_observation *m = s->smtp;
	if (s->partner) {
		n->kind = STATE_ATTR_PARTNER;
		copy(n->partner, sizeof n->partner, s->partner->domain);
	} else if (m && m->rcpt_domain_count > 0) {
		const char *at = strrchr(m->rcpt_domains[0], '@');
		n->kind = STATE_ATTR_DOMAIN;
		copy(n->partner, sizeof n->partner, at ? at + 1 : m->rcpt_domains[0]);
	} else {
		n->kind = STATE_ATTR_UNATTRIBUTED;
		ip_addr_format(&s->server.ip, n->partner, sizeof n->partner);
	}
}

static void note_partner(struct state_sync *ss, const struct session *s, uint64_t now_us)
{
	struct state_partner_note n = {.time_us = now_us};
	attribute(s, &n);
	if (s->smtp) {
		const struct smtp_content_protection *cp = &s->smtp->content_protection;
		n.messages_clear = cp->messages;
		n.messages_protected = cp->messages - cp->unprotected;
	}
	const struct tls_observation *t = s->tls;
	n.encrypted = t && t->outcome == TLS_OUTCOME_ESTABLISHED;
	n.cleartext = s->smtp && s->smtp->data_in_clear;
	if (n.encrypted)
		copy(n.tls_version, sizeof n.tls_version, tls_version_str(t->version));
	copy(n.failure, sizeof n.failure, failure_of(s));
	state_db_note_partner_session(ss->db, &n);
}

/* RFC 8460: an outbound session, its policy and verdict; an undecided one is counted apart (stats). */
static void note_tlsrpt(struct state_sync *ss, const struct session *s, uint64_t now_us)
{
	struct tlsrpt_session t;
	tlsrpt_session_classify(ss->policy, s, &t);
	if (t.verdict == TLSRPT_UNDECIDED) {
		ss->stats.tlsrpt_undecided++;
		return;
	}
	struct state_tlsrpt_note n = {.time_us = now_us, .success = t.verdict == TLSRPT_SUCCESS};
	copy(n.policy_domain, sizeof n.policy_domain, t.policy_domain);
	copy(n.policy_type, sizeof n.policy_type, t.policy_type);
	copy(n.mx_host, sizeof n.mx_host, t.mx_host);
	if (!n.success) {
		copy(n.result_type, sizeof n.result_type, t.result_type);
		copy(n.reason_code, sizeof n.reason_code, t.reason_code);
		ip_addr_format(&s->client.ip, n.sending_ip, sizeof n.sending_ip);
		ip_addr_format(&s->server.ip, n.receiving_ip, sizeof n.receiving_ip);
		copy(n.receiving_mx_hostname, sizeof n.receiving_mx_hostname, t.receiving_mx_hostname);
		copy(n.receiving_mx_helo, sizeof n.receiving_mx_helo, t.receiving_mx_helo);
	}
	state_db_note_tlsrpt(ss->db, &n);
}

void state_sync_session(struct state_sync *ss, const struct session *s, uint64_t now_us)
{
	note_server(ss, s, now_us);
	if (s->certificate.parsed) /* first seen as the certificate event says: when the session began */
		note_certificate(ss, s, s->start_us);
	note_partner(ss, s, now_us);
	if (s->direction == SESSION_DIRECTION_OUTBOUND)
		note_tlsrpt(ss, s, now_us);
	struct state_db_stats st;
	state_db_get_stats(ss->db, &st);
	if (st.queued >= STATE_DB_QUEUE_CAP / 2)
		state_sync_flush(ss, now_us);
}

/* ---- flush ---- */

static int save_record(void *ctx, enum rules_table t, const uint8_t *key, size_t key_len, uint64_t seen_us,
                       const void *record, size_t record_len)
{
	struct state_sync *ss = ctx;
	if (state_db_history_put(ss->db, rules_table_name(t), key, key_len, seen_us, record, record_len) < 0)
		return -1;
	ss->batch_records++;
	return 0;
}

/* Inside the flush transaction: the engine records changed since the last save, then the pruning. */
static int batch(void *ctx, struct state_db *db)
{
	struct state_sync *ss = ctx;
	ss->batch_records = 0;
	if (rules_engine_export(ss->engine, &ss->saved, &ss->pending, save_record, ss) != 0)
		return -1;
	if (ss->relax_pending_us != ss->relax_saved_us) {
		uint8_t le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (uint8_t)(ss->relax_pending_us >> (8 * i));
		if (state_db_history_put(db, RELAXATIONS_TABLE, (const uint8_t *)RELAXATIONS_KEY,
		                         strlen(RELAXATIONS_KEY), ss->relax_pending_us, le, sizeof le) < 0)
			return -1;
	}
	if (!ss->ttl_us || ss->now_us <= ss->ttl_us)
		return 0;
	uint64_t before = ss->now_us - ss->ttl_us;
	for (int t = 0; t < RULES_TABLE_COUNT; t++)
		if (state_db_history_prune(db, rules_table_name((enum rules_table)t), before) < 0)
			return -1;
	/* The inventory tables are larger and change slowly: pruned every PRUNE_EVERY_US of packet time. */
	if (ss->now_us >= ss->next_inventory_prune_us) {
		if (state_db_prune_inventory(db, before) < 0)
			return -1;
		ss->next_inventory_prune_us = ss->now_us + PRUNE_EVERY_US;
	}
	return 0;
}

int state_sync_flush(struct state_sync *ss, uint64_t now_us)
{
	ss->now_us = now_us;
	/* Every touch moves a table's sequence: an unmoved point means nothing to save. */
	rules_engine_export_point(ss->engine, &ss->pending);
	bool changed = memcmp(&ss->pending, &ss->saved, sizeof ss->saved) != 0;
	bool relax = ss->relax_pending_us != ss->relax_saved_us;
	uint64_t relax_written = ss->relax_pending_us;
	struct state_db_stats st;
	state_db_get_stats(ss->db, &st);
	/* The relaxations' time alone is no reason for a transaction unless it was asked for (see the
	 * header). */
	if (!changed && st.queued == 0 && !(relax && ss->relax_urgent))
		return 0;
	ss->stats.flushes++;
	if (state_db_flush_with(ss->db, changed || relax ? batch : NULL, ss) < 0) {
		ss->stats.flush_errors++;
		log_flush_error(ss);
		return -1;
	}
	if (changed) {
		ss->saved = ss->pending;
		ss->stats.records_saved += ss->batch_records;
	}
	if (relax) {
		ss->relax_saved_us = relax_written;
		ss->relax_urgent = false;
	}
	return 0;
}

uint64_t state_sync_relaxations_checked(const struct state_sync *ss)
{
	return ss->relax_saved_us;
}

void state_sync_set_relaxations_checked(struct state_sync *ss, uint64_t now_us, bool urgent)
{
	if (now_us > ss->relax_pending_us) /* never back: a clock that steps back must not report twice */
		ss->relax_pending_us = now_us;
	ss->relax_urgent |= urgent;
}
