/*
 * report_event.c: a session event's JSON back into the notes state_sync.c made of the session
 * (report_event.h). The notes are made by the same rules as there: attribution (partner, first
 * recipient domain, server address), failure types, and tlsrpt_session_classify() on a session rebuilt
 * from the event's fields, so that the policy decides sts/tlsa/no-policy-found as it did at the sensor.
 */
#include "sensor/report/report_event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/civil_time.h"
#include "parsers/json_scan.h"
#include "parsers/tls.h"
#include "parsers/x509.h"
#include "rules/session.h"
#include "rules/tlsrpt.h"

/* ---- decoding ---- */

/* Copies a string value into dst[cap]; a cut is counted. */
static void take(struct report_event *e, char *dst, size_t cap, const struct json_scan_value *v)
{
	if (v->type != JSON_SCAN_STRING)
		return;
	size_t n = v->len < cap ? v->len : cap - 1;
	if (n < v->len || v->truncated)
		e->cut++;
	memcpy(dst, v->text, n);
	dst[n] = '\0';
}

static int digits_at(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* RFC 3339 UTC as the events write it: "2026-11-28T16:29:30.729543Z" (fraction optional). 0: unreadable. */
static uint64_t parse_time_us(const char *s, size_t len)
{
	int64_t y, mo, d, h, mi, se, us = 0;
	if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[len - 1] != 'Z' || digits_at(s, 4, &y) || digits_at(s + 5, 2, &mo) || digits_at(s + 8, 2, &d) ||
	    digits_at(s + 11, 2, &h) || digits_at(s + 14, 2, &mi) || digits_at(s + 17, 2, &se))
		return 0;
	if (len > 20) { /* ".f" to ".ffffff" */
		size_t nf = len - 21;
		int64_t f;
		if (s[19] != '.' || nf == 0 || nf > 6 || digits_at(s + 20, nf, &f))
			return 0;
		us = f;
		for (size_t i = nf; i < 6; i++)
			us *= 10;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return 0;
	int64_t days = civil_days_from_date(y, (unsigned)mo, (unsigned)d);
	return (uint64_t)(((days * 24 + h) * 60 + mi) * 60 + se) * 1000000u + (uint64_t)us;
}

static bool path_is(const struct json_scan_value *v, const char *path)
{
	return strcmp(v->path, path) == 0;
}

static void take_dataset(struct report_event *e, const struct json_scan_value *v)
{
	e->session = v->type == JSON_SCAN_STRING && strcmp(v->text, "tlsobs.session") == 0;
}

static void take_protocol(struct report_event *e, const struct json_scan_value *v)
{
	if (v->type == JSON_SCAN_STRING && (strcmp(v->text, "smtp") == 0 || strcmp(v->text, "tls") == 0))
		e->mail = true;
}

/* The smtp fields (below tlsobs.smtp.); "starttls.result" among them. */
static void take_smtp(struct report_event *e, const char *rest, const struct json_scan_value *v)
{
	e->smtp = e->mail = true;
	if (strcmp(rest, "banner") == 0)
		take(e, e->banner, sizeof e->banner, v);
	else if (strcmp(rest, "ehlo_greeting") == 0)
		take(e, e->ehlo_greeting, sizeof e->ehlo_greeting, v);
	else if (strcmp(rest, "rcpt_to_domains") == 0 && v->in_array) {
		if (v->index == 0)
			take(e, e->rcpt_domain, sizeof e->rcpt_domain, v);
		e->rcpt_domains++;
	} else if (strcmp(rest, "data_in_clear") == 0)
		e->data_in_clear = v->type == JSON_SCAN_TRUE;
	else if (strcmp(rest, "content_protection.messages") == 0 && v->type == JSON_SCAN_NUMBER)
		e->messages = strtoull(v->text, NULL, 10);
	else if (strcmp(rest, "content_protection.unprotected") == 0 && v->type == JSON_SCAN_NUMBER)
		e->unprotected = strtoull(v->text, NULL, 10);
	else if (strcmp(rest, "starttls.result") == 0)
		take(e, e->starttls_result, sizeof e->starttls_result, v);
}

/* The leaf certificate's fields (below tls.server.). */
static void take_certificate(struct report_event *e, const char *rest, const struct json_scan_value *v)
{
	if (strcmp(rest, "hash.sha256") == 0)
		take(e, e->cert_sha256, sizeof e->cert_sha256, v);
	else if (strcmp(rest, "subject") == 0)
		take(e, e->cert_subject, sizeof e->cert_subject, v);
	else if (strcmp(rest, "issuer") == 0)
		take(e, e->cert_issuer, sizeof e->cert_issuer, v);
	else if (strcmp(rest, "not_after") == 0 && v->type == JSON_SCAN_STRING)
		e->cert_not_after = (int64_t)(parse_time_us(v->text, v->len) / 1000000u);
	else if (strcmp(rest, "x509.alternative_names") == 0 && v->in_array && v->type == JSON_SCAN_STRING) {
		/* joined as state_sync joins them, cut at the cap on a whole name */
		size_t used = strlen(e->cert_sans), need = v->len + (used ? 1 : 0);
		if (used + need >= sizeof e->cert_sans) {
			e->cut++;
			return;
		}
		snprintf(e->cert_sans + used, sizeof e->cert_sans - used, "%s%s", used ? "," : "", v->text);
	}
}

static int on_value(void *ctx, const struct json_scan_value *v)
{
	struct report_event *e = ctx;
	const char *p = v->path;
	if (path_is(v, "event.dataset"))
		take_dataset(e, v);
	else if (path_is(v, "event.start") && v->type == JSON_SCAN_STRING)
		e->start_us = parse_time_us(v->text, v->len);
	else if (path_is(v, "event.end") && v->type == JSON_SCAN_STRING)
		e->end_us = parse_time_us(v->text, v->len);
	else if (path_is(v, "source.ip"))
		take(e, e->client_ip, sizeof e->client_ip, v);
	else if (path_is(v, "destination.ip"))
		take(e, e->server_ip, sizeof e->server_ip, v);
	else if (path_is(v, "destination.port") && v->type == JSON_SCAN_NUMBER)
		e->server_port = (uint16_t)strtoul(v->text, NULL, 10);
	else if (path_is(v, "network.direction"))
		take(e, e->direction, sizeof e->direction, v);
	else if (path_is(v, "network.protocol"))
		take_protocol(e, v);
	else if (path_is(v, "tlsobs.partner.domain"))
		take(e, e->partner, sizeof e->partner, v);
	else if (strncmp(p, "tlsobs.smtp.", 12) == 0)
		take_smtp(e, p + 12, v);
	else if (path_is(v, "tlsobs.tls.outcome"))
		take(e, e->tls_outcome, sizeof e->tls_outcome, v);
	else if (path_is(v, "tlsobs.tls.validation.status"))
		take(e, e->x509_status, sizeof e->x509_status, v);
	else if (path_is(v, "tlsobs.dane.status"))
		take(e, e->dane_status, sizeof e->dane_status, v);
	else if (path_is(v, "tls.version"))
		take(e, e->tls_version, sizeof e->tls_version, v);
	else if (path_is(v, "tls.client.server_name"))
		take(e, e->sni, sizeof e->sni, v);
	else if (strncmp(p, "tls.server.", 11) == 0)
		take_certificate(e, p + 11, v);
	return 0;
}

enum report_event_result report_event_decode(const uint8_t *data, size_t len, struct report_event *out)
{
	memset(out, 0, sizeof *out);
	if (json_scan(data, len, on_value, out) != JSON_SCAN_OK)
		return REPORT_EVENT_MALFORMED;
	if (!out->session || !out->mail)
		return REPORT_EVENT_SKIPPED;
	if (!out->start_us || !out->server_ip[0])
		return REPORT_EVENT_MALFORMED;
	return REPORT_EVENT_SESSION;
}

uint64_t report_event_time_us(const struct report_event *e)
{
	return e->end_us > e->start_us ? e->end_us : e->start_us; /* rules_engine_now_us */
}

/* ---- notes, as state_sync.c makes them ---- */

struct report_event_notes {
	const struct policy *policy;
	/* A session rebuilt from the event, with only what tlsrpt_session_classify() reads. */
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
	struct partner_policy partner;
};

struct report_event_notes *report_event_notes_new(const struct policy *p)
{
	struct report_event_notes *n = calloc(1, sizeof *n);
	if (n)
		n->policy = p;
	return n;
}

void report_event_notes_free(struct report_event_notes *n)
{
	free(n);
}

/* Cut at the cap, as state_sync copies: every source here is NUL-terminated. */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	n = n < cap ? n : cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The enum value whose *_str() is text, from first to last; -1 when none is. */
static int enum_of(const char *text, const char *(*str)(int), int first, int last)
{
	for (int v = first; text[0] && v <= last; v++) {
		const char *s = str(v);
		if (s && strcmp(s, text) == 0)
			return v;
	}
	return -1;
}

static const char *starttls_str(int v)
{
	return starttls_result_str((enum starttls_result)v);
}
static const char *outcome_str(int v)
{
	return tls_outcome_str((enum tls_outcome)v);
}
static const char *x509_str(int v)
{
	return x509_status_str((enum x509_status)v);
}
static const char *dane_str(int v)
{
	return session_dane_status_str((enum session_dane_status)v);
}

/*
 * The session's STARTTLS result. An event without tlsobs.smtp (a mail flow on another implicit-TLS port)
 * does not say it: TLS from the first byte when TLS was seen, else not decided.
 */
static enum starttls_result starttls_of(const struct report_event *e)
{
	int r = enum_of(e->starttls_result, starttls_str, STARTTLS_UPGRADED, STARTTLS_CLEARTEXT_ON_TLS_PORT);
	if (r >= 0)
		return (enum starttls_result)r;
	return e->tls_outcome[0] ? STARTTLS_IMPLICIT_TLS : STARTTLS_INCOMPLETE;
}

/* No tlsobs.tls: no TLS observation (TLS_OUTCOME_NONE stands for it). */
static enum tls_outcome outcome_of(const struct report_event *e)
{
	int o = enum_of(e->tls_outcome, outcome_str, TLS_OUTCOME_NONE, TLS_OUTCOME_GAP);
	return o >= 0 ? (enum tls_outcome)o : TLS_OUTCOME_NONE;
}

/* state_sync.c failure_of(), on the event. */
static const char *failure_of(const struct report_event *e)
{
	enum starttls_result r = starttls_of(e);
	enum tls_outcome o = outcome_of(e);
	switch (r) {
	case STARTTLS_UPGRADED:
	case STARTTLS_IMPLICIT_TLS:
		if (o != TLS_OUTCOME_NONE && o != TLS_OUTCOME_ESTABLISHED && o != TLS_OUTCOME_GAP &&
		    o != TLS_OUTCOME_IN_PROGRESS)
			return o == TLS_OUTCOME_ALERT    ? "tls_alert"
			       : o == TLS_OUTCOME_CLOSED ? "tls_closed"
			                                 : "tls_not_tls";
		return NULL;
	case STARTTLS_INCOMPLETE:
		return NULL;
	default:
		return starttls_result_str(r);
	}
}

/* state_sync.c note_partner() with attribute(). */
static void note_partner(const struct report_event *e, uint64_t at_us, struct state_db *db)
{
	struct state_partner_note n = {.time_us = at_us};
	if (e->partner[0]) {
		n.kind = STATE_ATTR_PARTNER;
		copy(n.partner, sizeof n.partner, e->partner);
	} else if (e->rcpt_domains > 0) {
		const char *at = strrchr(e->rcpt_domain, '@');
		n.kind = STATE_ATTR_DOMAIN;
		copy(n.partner, sizeof n.partner, at ? at + 1 : e->rcpt_domain);
	} else {
		n.kind = STATE_ATTR_UNATTRIBUTED;
		copy(n.partner, sizeof n.partner, e->server_ip);
	}
	n.messages_clear = (uint32_t)e->messages;
	n.messages_protected = e->unprotected <= e->messages ? (uint32_t)(e->messages - e->unprotected) : 0;
	n.encrypted = outcome_of(e) == TLS_OUTCOME_ESTABLISHED;
	n.cleartext = e->data_in_clear;
	if (n.encrypted)
		copy(n.tls_version, sizeof n.tls_version, e->tls_version);
	copy(n.failure, sizeof n.failure, failure_of(e));
	state_db_note_partner_session(db, &n);
}

/* state_sync.c note_certificate(): first seen when the session began. */
static void note_certificate(const struct report_event *e, struct state_db *db)
{
	struct state_cert_note n = {
	    .not_after = e->cert_not_after, .time_us = e->start_us, .server_port = e->server_port};
	copy(n.sha256, sizeof n.sha256, e->cert_sha256);
	copy(n.subject, sizeof n.subject, e->cert_subject);
	copy(n.issuer, sizeof n.issuer, e->cert_issuer);
	copy(n.sans, sizeof n.sans, e->cert_sans);
	copy(n.server_ip, sizeof n.server_ip, e->server_ip);
	copy(n.partner, sizeof n.partner, e->partner);
	state_db_note_certificate(db, &n);
}

static void parse_ip(const char *text, struct ip_addr *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, text, out->bytes) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, text, out->bytes) == 1)
		out->family = 6;
}

/* The session tlsrpt_session_classify() reads: smtp greeting and recipients, TLS, partner, DANE, cert. */
static const struct session *rebuild(struct report_event_notes *n, const struct report_event *e)
{
	struct session *s = &n->s;
	s->smtp = e->smtp ? &n->m : NULL;
	copy(n->m.banner, sizeof n->m.banner, e->banner);
	n->m.caps.seen = e->ehlo_greeting[0] != '\0';
	snprintf(n->m.caps.raw, sizeof n->m.caps.raw, "250 %s", e->ehlo_greeting);
	n->m.rcpt_domain_count = e->rcpt_domains ? 1 : 0; /* only the first is read */
	copy(n->m.rcpt_domains[0], sizeof n->m.rcpt_domains[0], e->rcpt_domain);
	n->t.outcome = outcome_of(e);
	s->tls = n->t.outcome != TLS_OUTCOME_NONE ? &n->t : NULL;
	n->t.client_hello_seen = e->sni[0] != '\0';
	copy(n->t.ch.sni, sizeof n->t.ch.sni, e->sni);
	copy(n->partner.domain, sizeof n->partner.domain, e->partner);
	s->partner = e->partner[0] ? &n->partner : NULL;
	parse_ip(e->server_ip, &s->server.ip);
	parse_ip(e->client_ip, &s->client.ip);
	int d = enum_of(e->dane_status, dane_str, SESSION_DANE_MATCH, SESSION_DANE_NOT_VERIFIABLE);
	s->dane_status = d >= 0 ? (enum session_dane_status)d : SESSION_DANE_NONE;
	s->starttls_result = starttls_of(e);
	int x = enum_of(e->x509_status, x509_str, X509_STATUS_OK, X509_STATUS_NOT_VISIBLE);
	s->certificate.validated = x >= 0;
	s->certificate.status = x >= 0 ? (enum x509_status)x : X509_STATUS_OK;
	s->direction = SESSION_DIRECTION_OUTBOUND;
	return s;
}

/* state_sync.c note_tlsrpt(): false when TLS-RPT cannot count the session (undecided). */
static bool note_tlsrpt(struct report_event_notes *n, const struct report_event *e, uint64_t at_us,
                        struct state_db *db)
{
	struct tlsrpt_session t;
	tlsrpt_session_classify(n->policy, rebuild(n, e), &t);
	if (t.verdict == TLSRPT_UNDECIDED)
		return false;
	struct state_tlsrpt_note note = {.time_us = at_us, .success = t.verdict == TLSRPT_SUCCESS};
	copy(note.policy_domain, sizeof note.policy_domain, t.policy_domain);
	copy(note.policy_type, sizeof note.policy_type, t.policy_type);
	copy(note.mx_host, sizeof note.mx_host, t.mx_host);
	if (!note.success) {
		copy(note.result_type, sizeof note.result_type, t.result_type);
		copy(note.reason_code, sizeof note.reason_code, t.reason_code);
		copy(note.sending_ip, sizeof note.sending_ip, e->client_ip);
		copy(note.receiving_ip, sizeof note.receiving_ip, e->server_ip);
		copy(note.receiving_mx_hostname, sizeof note.receiving_mx_hostname, t.receiving_mx_hostname);
		copy(note.receiving_mx_helo, sizeof note.receiving_mx_helo, t.receiving_mx_helo);
	}
	state_db_note_tlsrpt(db, &note);
	return true;
}

bool report_event_notes_queue(struct report_event_notes *n, const struct report_event *e, struct state_db *db)
{
	uint64_t at_us = report_event_time_us(e);
	if (e->cert_sha256[0])
		note_certificate(e, db);
	note_partner(e, at_us, db);
	if (strcmp(e->direction, "outbound") == 0)
		return note_tlsrpt(n, e, at_us, db);
	return true;
}
