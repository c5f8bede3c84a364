/*
 * tls_rules.c: the TLS rules of one session and the per-server history behind
 * tls_interception_suspected (tls_rules.h). Owns that history, bounded and aged in packet time.
 */
#include "rules/tls_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/tls_ciphers.h"
#include "rules/history.h"

enum { TLS_RULES_JA3_PAIRS = 8, TLS_EXT_ENCRYPT_THEN_MAC = 22 };

/*
 * What one server showed in earlier sessions, each fact with the last session
 * that showed it: an alert names the session its comparison was made with.
 */
struct server_tls_facts {
	uint16_t best_version; /* highest version negotiated */
	char version_session_id[SESSION_ID_LEN];
	bool valid_certificate_seen;
	char certificate_sha256[65]; /* the last certificate that validated */
	char issuer[X509_NAME_MAX];
	char certificate_session_id[SESSION_ID_LEN];
	struct {
		char ja3[TLS_JA3_HASH_LEN + 1], ja3s[TLS_JA3_HASH_LEN + 1];
		char session_id[SESSION_ID_LEN];
		uint64_t us;            /* packet time of session_id */
	} answers[TLS_RULES_JA3_PAIRS]; /* client fingerprint -> server answer, round robin */
	unsigned next_answer;
	uint64_t version_us, certificate_us; /* packet times of version_session_id, certificate_session_id */
};

struct tls_rules {
	struct history *servers;
};

struct tls_rules *tls_rules_new(size_t max_servers, uint64_t ttl_us)
{
	struct tls_rules *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->servers = history_new(max_servers, ttl_us, sizeof(struct server_tls_facts));
	if (!r->servers) {
		free(r);
		return NULL;
	}
	return r;
}

void tls_rules_free(struct tls_rules *r)
{
	if (!r)
		return;
	history_free(r->servers);
	free(r);
}

struct history *tls_rules_history(struct tls_rules *r)
{
	return r->servers;
}

static const char *version_name(uint16_t v)
{
	const char *n = tls_version_str(v);
	return n ? n : "unknown";
}

static void server_name(const struct session *s, char *out, size_t len)
{
	char ip[64];
	ip_addr_format(&s->server.ip, ip, sizeof ip);
	snprintf(out, len, s->server.ip.family == 6 ? "[%s]:%u" : "%s:%u", ip, s->server.port);
}

static void rule_version(struct session *s, const struct tls_observation *t, const char *server)
{
	if (t->version >= TLS_VERSION_1_2 || t->version == 0)
		return;
	struct alert *a = alert_list_add(&s->alerts, RULE_TLS_VERSION_OBSOLETE);
	if (!a)
		return;
	const char *proto = t->version >= TLS_VERSION_1_0 ? "TLS" : "SSL";
	alert_set_reason(a, "%s negotiated %s %s, which is obsolete (RFC 8996)", server, proto,
	                 version_name(t->version));
	char line[64];
	snprintf(line, sizeof line, "ServerHello version 0x%04X", t->version);
	alert_add_evidence(a, line, strlen(line));
}

static bool server_chose_extension(const struct tls_observation *t, uint16_t type)
{
	for (unsigned i = 0; i < t->sh.extension_count; i++)
		if (t->sh.extensions[i] == type)
			return true;
	return false;
}

static void rule_cipher(struct session *s, const struct tls_observation *t, const char *server)
{
	if (t->version < TLS_VERSION_SSL3)
		return; /* an SSLv2 SERVER-HELLO chooses no cipher (the client does, later): nothing to judge
		         */
	bool cbc = false;
	bool weak = tls_cipher_weak(t->cipher, &cbc);
	bool cbc_without_etm =
	    cbc && t->version < TLS_VERSION_1_3 && !server_chose_extension(t, TLS_EXT_ENCRYPT_THEN_MAC);
	if (!weak && !cbc_without_etm)
		return;
	struct alert *a = alert_list_add(&s->alerts, RULE_TLS_CIPHER_WEAK);
	if (!a)
		return;
	const char *name = tls_cipher_name(t->cipher);
	char code[16];
	snprintf(code, sizeof code, "0x%04X", t->cipher);
	if (weak) {
		alert_set_reason(a, "%s negotiated the weak cipher suite %s", server, name ? name : code);
	} else {
		a->severity = 3; /* CBC with MAC-then-encrypt: padding-oracle prone, not broken outright */
		alert_set_reason(a, "%s negotiated the CBC suite %s without encrypt-then-MAC (RFC 7366)",
		                 server, name ? name : code);
	}
	char line[160];
	snprintf(line, sizeof line, "ServerHello cipher %s %s", code, name ? name : "(unregistered)");
	alert_add_evidence(a, line, strlen(line));
}

/* Evidence lines are formatted whole, then cut (and flagged) by alert_add_evidence. */
enum { LINE_MAX = 2 * X509_NAME_MAX };

static void add_certificate_evidence(struct alert *a, const struct session_certificate *c)
{
	char line[LINE_MAX];
	if (c->parsed) {
		snprintf(line, sizeof line, "subject: %s", c->leaf.subject);
		alert_add_evidence(a, line, strlen(line));
		snprintf(line, sizeof line, "issuer: %s", c->leaf.issuer);
		alert_add_evidence(a, line, strlen(line));
	}
	if (c->chain_count) {
		snprintf(line, sizeof line, "sha256: %s", c->chain_sha256[0]);
		alert_add_evidence(a, line, strlen(line));
	}
	if (c->name[0]) {
		snprintf(line, sizeof line, "expected name: %s (from %s)", c->name,
		         session_name_source_str(c->name_source));
		alert_add_evidence(a, line, strlen(line));
	}
}

static void rule_certificate(struct session *s, const char *server)
{
	const struct session_certificate *c = &s->certificate;
	if (!c->validated || c->status == X509_STATUS_OK || c->status == X509_STATUS_NOT_VISIBLE)
		return;
	struct alert *a = alert_list_add(&s->alerts, RULE_TLS_CERTIFICATE_INVALID);
	if (!a)
		return;
	alert_set_reason(a, "the certificate of %s did not validate: %s", server, x509_status_str(c->status));
	add_certificate_evidence(a, c);
}

/* The slot holding the server's earlier answer to ja3, or -1. */
static int ja3_answer_slot(const struct server_tls_facts *f, const char *ja3)
{
	for (int i = 0; i < TLS_RULES_JA3_PAIRS; i++)
		if (f->answers[i].ja3[0] && strcmp(f->answers[i].ja3, ja3) == 0)
			return i;
	return -1;
}

static uint16_t client_max_version(const struct tls_observation *t)
{
	uint16_t best = t->ch.version;
	for (unsigned i = 0; i < t->ch.supported_version_count && i < TLS_MAX_VALUES; i++) {
		uint16_t v = t->ch.supported_versions[i];
		if (!tls_is_grease(v) && v > best)
			best = v;
	}
	return best;
}

/* tls_interception_suspected: the cause, in words, and the earlier session compared with; NULL when nothing
 * points at interception. */
static const char *interception_cause(const struct session *s, const struct server_tls_facts *f, char *detail,
                                      size_t len, const char **earlier)
{
	const struct tls_observation *t = s->tls;
	const struct session_certificate *c = &s->certificate;
	bool invalid = c->validated && c->status != X509_STATUS_OK && c->status != X509_STATUS_NOT_VISIBLE;
	if (f->valid_certificate_seen && invalid && c->chain_count &&
	    strcmp(c->chain_sha256[0], f->certificate_sha256) != 0) {
		bool issuer_changed = c->parsed && strcmp(c->leaf.issuer, f->issuer) != 0;
		snprintf(detail, len, "was %s, issued by %s", f->certificate_sha256, f->issuer);
		*earlier = f->certificate_session_id;
		return issuer_changed ? "the certificate and its issuer changed to ones that do not validate"
		                      : "the certificate changed to one that does not validate";
	}
	/* Only a client that offered the better version was downgraded; an older client just asks for less.
	 */
	if (f->best_version && t->version && t->version < f->best_version &&
	    client_max_version(t) >= f->best_version) {
		snprintf(detail, len, "TLS %s now, TLS %s before", version_name(t->version),
		         version_name(f->best_version));
		*earlier = f->version_session_id;
		return "the negotiated version fell below what this server negotiated before";
	}
	/* A resumed handshake answers with other extensions by design: not comparable. */
	int slot = s->fingerprints.ja3[0] && !t->resumed ? ja3_answer_slot(f, s->fingerprints.ja3) : -1;
	const char *before = slot >= 0 ? f->answers[slot].ja3s : NULL;
	if (before && s->fingerprints.ja3s[0] && strcmp(before, s->fingerprints.ja3s) != 0) {
		snprintf(detail, len, "JA3 %s got JA3S %s before, %s now", s->fingerprints.ja3, before,
		         s->fingerprints.ja3s);
		*earlier = f->answers[slot].session_id;
		return "the same client software now gets another server answer";
	}
	return NULL;
}

static void rule_interception(struct session *s, const struct server_tls_facts *f, const char *server)
{
	char detail[LINE_MAX] = "";
	const char *earlier = "";
	const char *cause = f ? interception_cause(s, f, detail, sizeof detail, &earlier) : NULL;
	if (!cause)
		return;
	struct alert *a = alert_list_add(&s->alerts, RULE_TLS_INTERCEPTION_SUSPECTED);
	if (!a)
		return;
	alert_set_reason(a, "%s: %s, as a TLS-intercepting middlebox would cause", server, cause);
	alert_add_evidence(a, detail, strlen(detail));
	char line[LINE_MAX];
	snprintf(line, sizeof line, "earlier session %s", earlier);
	alert_add_evidence(a, line, strlen(line));
	add_certificate_evidence(a, &s->certificate);
	snprintf(a->related_session_id, sizeof a->related_session_id, "%s", earlier);
}

static void remember(struct server_tls_facts *f, const struct session *s, uint64_t now)
{
	const struct tls_observation *t = s->tls;
	const struct session_certificate *c = &s->certificate;
	if (t->version && t->version >= f->best_version) {
		f->best_version = t->version;
		f->version_us = now;
		snprintf(f->version_session_id, sizeof f->version_session_id, "%s", s->id);
	}
	if (c->validated && c->status == X509_STATUS_OK && c->chain_count) {
		f->valid_certificate_seen = true;
		f->certificate_us = now;
		snprintf(f->certificate_sha256, sizeof f->certificate_sha256, "%s", c->chain_sha256[0]);
		snprintf(f->issuer, sizeof f->issuer, "%s", c->parsed ? c->leaf.issuer : "");
		snprintf(f->certificate_session_id, sizeof f->certificate_session_id, "%s", s->id);
	}
	if (t->resumed || !s->fingerprints.ja3[0] || !s->fingerprints.ja3s[0])
		return;
	int slot = ja3_answer_slot(f, s->fingerprints.ja3);
	if (slot < 0) {
		slot = (int)(f->next_answer++ % TLS_RULES_JA3_PAIRS);
		snprintf(f->answers[slot].ja3, sizeof f->answers[slot].ja3, "%s", s->fingerprints.ja3);
		snprintf(f->answers[slot].ja3s, sizeof f->answers[slot].ja3s, "%s", s->fingerprints.ja3s);
	}
	if (strcmp(f->answers[slot].ja3s, s->fingerprints.ja3s) ==
	    0) { /* the pair seen again, not another answer */
		snprintf(f->answers[slot].session_id, sizeof f->answers[slot].session_id, "%s", s->id);
		f->answers[slot].us = now;
	}
}

void tls_rules_evaluate(struct tls_rules *r, struct session *s)
{
	const struct tls_observation *t = s->tls;
	if (!t || !t->server_hello_seen)
		return;
	char server[80];
	server_name(s, server, sizeof server);
	rule_version(s, t, server);
	rule_cipher(s, t, server);
	rule_certificate(s, server);
	uint64_t now = s->end_us > s->start_us ? s->end_us : s->start_us;
	struct history_key k = history_key_ip(&s->server.ip);
	rule_interception(s, history_find(r->servers, &k, now), server);
	/* Only a handshake the server completed teaches what it normally does. */
	struct server_tls_facts *f =
	    t->outcome == TLS_OUTCOME_ESTABLISHED ? history_touch(r->servers, &k, now) : NULL;
	if (f)
		remember(f, s, now);
}

/* ---- history sharing (tls_rules.h) ---- */

bool tls_rules_server_share(struct tls_rules *r, const struct ip_addr *server, uint64_t now_us,
                            struct tls_server_share *out)
{
	struct history_key k = history_key_ip(server);
	const struct server_tls_facts *f = history_find(r->servers, &k, now_us);
	memset(out, 0, sizeof *out);
	if (!f)
		return false;
	out->best_version = f->best_version;
	out->version_us = f->version_us;
	memcpy(out->version_session_id, f->version_session_id, SESSION_ID_LEN);
	out->valid_certificate_seen = f->valid_certificate_seen;
	out->certificate_us = f->certificate_us;
	memcpy(out->certificate_sha256, f->certificate_sha256, sizeof out->certificate_sha256);
	memcpy(out->issuer, f->issuer, sizeof out->issuer);
	memcpy(out->certificate_session_id, f->certificate_session_id, SESSION_ID_LEN);
	for (int i = 0; i < TLS_RULES_JA3_PAIRS; i++) {
		if (!f->answers[i].ja3[0])
			continue;
		struct tls_answer_share *a = &out->answers[out->n_answers++];
		memcpy(a->ja3, f->answers[i].ja3, sizeof a->ja3);
		memcpy(a->ja3s, f->answers[i].ja3s, sizeof a->ja3s);
		memcpy(a->session_id, f->answers[i].session_id, SESSION_ID_LEN);
		a->us = f->answers[i].us;
	}
	return true;
}

static bool tls_later(uint64_t in_us, const char *in_id, uint64_t have_us, const char *have_id)
{
	return in_us != have_us ? in_us > have_us : strncmp(in_id, have_id, SESSION_ID_LEN) > 0;
}

/* One client fingerprint's answer: a new fingerprint takes a slot (round robin, as a session would); the
 * same answer seen later refreshes its session; another answer for a known fingerprint is not taken: the
 * first answer is what the server normally says, the other is what tls_interception_suspected is about. */
static bool merge_answer(struct server_tls_facts *f, const struct tls_answer_share *a)
{
	if (!a->ja3[0] || !a->ja3s[0])
		return false;
	int slot = ja3_answer_slot(f, a->ja3);
	if (slot < 0) {
		slot = (int)(f->next_answer++ % TLS_RULES_JA3_PAIRS);
		snprintf(f->answers[slot].ja3, sizeof f->answers[slot].ja3, "%s", a->ja3);
		snprintf(f->answers[slot].ja3s, sizeof f->answers[slot].ja3s, "%s", a->ja3s);
	} else if (strcmp(f->answers[slot].ja3s, a->ja3s) != 0 ||
	           !tls_later(a->us, a->session_id, f->answers[slot].us, f->answers[slot].session_id)) {
		return false;
	}
	snprintf(f->answers[slot].session_id, sizeof f->answers[slot].session_id, "%.*s", SESSION_ID_LEN - 1,
	         a->session_id);
	f->answers[slot].us = a->us;
	return true;
}

static uint64_t latest_tls_fact(const struct tls_server_share *in)
{
	uint64_t t = in->version_us > in->certificate_us ? in->version_us : in->certificate_us;
	for (unsigned i = 0; i < in->n_answers && i < TLS_RULES_JA3_PAIRS; i++)
		if (in->answers[i].us > t)
			t = in->answers[i].us;
	return t;
}

bool tls_rules_merge_server(struct tls_rules *r, const struct ip_addr *server,
                            const struct tls_server_share *in)
{
	if (!in->best_version && !in->valid_certificate_seen && !in->n_answers)
		return false;
	struct history_key k = history_key_ip(server);
	uint64_t at = latest_tls_fact(in);
	struct server_tls_facts *f = history_touch(r->servers, &k, at);
	if (!f)
		return false;
	bool taken = false;
	/* the highest version wins (the rule compares with the best the server did); at the same version, the
	 * later session */
	if (in->best_version > f->best_version ||
	    (in->best_version && in->best_version == f->best_version &&
	     tls_later(in->version_us, in->version_session_id, f->version_us, f->version_session_id))) {
		f->best_version = in->best_version;
		f->version_us = in->version_us;
		snprintf(f->version_session_id, SESSION_ID_LEN, "%.*s", SESSION_ID_LEN - 1,
		         in->version_session_id);
		taken = true;
	}
	if (in->valid_certificate_seen &&
	    (!f->valid_certificate_seen || tls_later(in->certificate_us, in->certificate_session_id,
	                                             f->certificate_us, f->certificate_session_id))) {
		f->valid_certificate_seen = true;
		f->certificate_us = in->certificate_us;
		snprintf(f->certificate_sha256, sizeof f->certificate_sha256, "%.*s",
		         (int)sizeof f->certificate_sha256 - 1, in->certificate_sha256);
		snprintf(f->issuer, sizeof f->issuer, "%.*s", (int)sizeof f->issuer - 1, in->issuer);
		snprintf(f->certificate_session_id, SESSION_ID_LEN, "%.*s", SESSION_ID_LEN - 1,
		         in->certificate_session_id);
		taken = true;
	}
	for (unsigned i = 0; i < in->n_answers && i < TLS_RULES_JA3_PAIRS; i++)
		taken |= merge_answer(f, &in->answers[i]);
	return taken;
}
