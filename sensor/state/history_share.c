/*
 * history_share.c: the shared history's documents (history_share.h): from a session to the documents it
 * publishes, from a document to a merge. Owns its counters and a JSON writer for the documents.
 *
 * A document (version 1), one flat JSON object; the facts absent when the history holds none:
 *   {"v":1,"kind":"server","observer":"span-a","time_us":T,"server_ip":"198.51.100.25","server_port":25,
 *    "starttls_us":T,"starttls_session":"S..."}
 *    "tls_version":772,"tls_version_us":T,"tls_version_session":"S...","cert_sha256":"..","cert_issuer":"..",
 *    "cert_us":T,"cert_session":"S...","ja3":["..",..],"ja3s":["..",..],"ja3_us":[T,..],"ja3_session":[..]}
 *   {"v":1,"kind":"pair",...,"client_ip":"203.0.113.7","ehlo_us":T,"ehlo_session":"S...",
 *    "failed_end_us":T,"failed_session":"S...","failed_rule":"tls_handshake_failed"}
 * Key: "198.51.100.25:25" ("[2001:db8::25]:25"), a pair's followed by " 203.0.113.7".
 */
#include "sensor/state/history_share.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/json_scan.h"

enum { DOC_MAX_STRING = X509_NAME_MAX, STRING_MAX = X509_NAME_MAX }; /* the issuer is the longest */

struct history_share {
	struct rules_engine *engine;
	const char *name;
	uint64_t max_skew_us;
	history_share_publish_fn publish;
	void *ctx;
	bool catching_up;
	struct json_writer json;
	struct history_share_stats stats;
};

struct history_share *history_share_new(struct rules_engine *engine, const char *sensor_name,
                                        uint64_t max_clock_skew_us, history_share_publish_fn publish,
                                        void *ctx)
{
	struct history_share *hs = calloc(1, sizeof *hs);
	if (!hs)
		return NULL;
	hs->engine = engine;
	hs->name = sensor_name;
	hs->max_skew_us = max_clock_skew_us;
	hs->publish = publish;
	hs->ctx = ctx;
	json_writer_init(&hs->json, DOC_MAX_STRING);
	return hs;
}

void history_share_free(struct history_share *hs)
{
	if (!hs)
		return;
	json_writer_release(&hs->json);
	free(hs);
}

void history_share_set_catching_up(struct history_share *hs, bool catching_up)
{
	hs->catching_up = catching_up;
}

const struct history_share_stats *history_share_stats(const struct history_share *hs)
{
	return &hs->stats;
}

/* ---- encode ---- */

static void field_ip(struct json_writer *w, const char *key, const struct ip_addr *ip)
{
	char text[48];
	json_field_cstring(w, key, ip_addr_format(ip, text, sizeof text));
}

static void make_key(const struct history_share_update *u, char key[HISTORY_SHARE_KEY_MAX])
{
	char server[48], client[48] = "";
	ip_addr_format(&u->server, server, sizeof server);
	if (u->kind == HISTORY_SHARE_PAIR)
		ip_addr_format(&u->client, client, sizeof client);
	snprintf(key, HISTORY_SHARE_KEY_MAX, "%s%s%s:%u%s%s", u->server.family == 6 ? "[" : "", server,
	         u->server.family == 6 ? "]" : "", (unsigned)u->port, client[0] ? " " : "", client);
}

static void string_array(struct json_writer *w, const char *key, const struct tls_server_share *t,
                         size_t offset)
{
	json_key(w, key);
	json_array_begin(w);
	for (unsigned i = 0; i < t->n_answers && i < TLS_SHARE_ANSWERS; i++)
		json_cstring(w, (const char *)&t->answers[i] + offset);
	json_array_end(w);
}

static void encode_tls(struct json_writer *w, const struct tls_server_share *t)
{
	if (t->best_version) {
		json_field_uint(w, "tls_version", t->best_version);
		json_field_uint(w, "tls_version_us", t->version_us);
		json_field_cstring(w, "tls_version_session", t->version_session_id);
	}
	if (t->valid_certificate_seen) {
		json_field_cstring(w, "cert_sha256", t->certificate_sha256);
		json_field_cstring(w, "cert_issuer", t->issuer);
		json_field_uint(w, "cert_us", t->certificate_us);
		json_field_cstring(w, "cert_session", t->certificate_session_id);
	}
	if (!t->n_answers)
		return;
	string_array(w, "ja3", t, offsetof(struct tls_answer_share, ja3));
	string_array(w, "ja3s", t, offsetof(struct tls_answer_share, ja3s));
	string_array(w, "ja3_session", t, offsetof(struct tls_answer_share, session_id));
	json_key(w, "ja3_us");
	json_array_begin(w);
	for (unsigned i = 0; i < t->n_answers && i < TLS_SHARE_ANSWERS; i++)
		json_uint(w, t->answers[i].us);
	json_array_end(w);
}

void history_share_encode(struct json_writer *w, const struct history_share_update *u,
                          char key[HISTORY_SHARE_KEY_MAX])
{
	json_writer_reset(w);
	json_object_begin(w);
	json_field_uint(w, "v", HISTORY_SHARE_VERSION);
	json_field_cstring(w, "kind", u->kind == HISTORY_SHARE_PAIR ? "pair" : "server");
	json_field_cstring(w, "observer", u->observer);
	json_field_uint(w, "time_us", u->time_us);
	field_ip(w, "server_ip", &u->server);
	json_field_uint(w, "server_port", u->port);
	if (u->kind == HISTORY_SHARE_SERVER && u->server_facts.starttls) {
		json_field_uint(w, "starttls_us", u->server_facts.starttls_us);
		json_field_cstring(w, "starttls_session", u->server_facts.starttls_session_id);
	}
	if (u->kind == HISTORY_SHARE_SERVER)
		encode_tls(w, &u->tls_facts);
	if (u->kind == HISTORY_SHARE_PAIR) {
		const struct starttls_pair_share *p = &u->pair_facts;
		field_ip(w, "client_ip", &u->client);
		if (p->ehlo_used) {
			json_field_uint(w, "ehlo_us", p->ehlo_us);
			json_field_cstring(w, "ehlo_session", p->ehlo_session_id);
		}
		if (p->failed) {
			json_field_uint(w, "failed_end_us", p->failed_end_us);
			json_field_cstring(w, "failed_session", p->failed_session_id);
			json_field_cstring(w, "failed_rule", rule_info(p->failed_rule)->name);
		}
	}
	json_object_end(w);
	make_key(u, key);
}

/* ---- decode ---- */

enum field {
	F_V,
	F_KIND,
	F_OBSERVER,
	F_TIME,
	F_SERVER_IP,
	F_SERVER_PORT,
	F_CLIENT_IP,
	F_STARTTLS_US,
	F_STARTTLS_SESSION,
	F_EHLO_US,
	F_EHLO_SESSION,
	F_FAILED_END_US,
	F_FAILED_SESSION,
	F_FAILED_RULE,
	F_TLS_VERSION,
	F_TLS_VERSION_US,
	F_TLS_VERSION_SESSION,
	F_CERT_SHA256,
	F_CERT_ISSUER,
	F_CERT_US,
	F_CERT_SESSION,
	F_COUNT
};

/* The JA3 answers: parallel arrays, one element per client fingerprint. */
enum answer_field { A_JA3, A_JA3S, A_SESSION, A_US, A_COUNT };
static const char *const answer_fields[A_COUNT] = {"ja3", "ja3s", "ja3_session", "ja3_us"};

static const struct {
	const char *name;
	enum json_scan_type type;
} fields[F_COUNT] = {
    [F_V] = {"v", JSON_SCAN_NUMBER},
    [F_KIND] = {"kind", JSON_SCAN_STRING},
    [F_OBSERVER] = {"observer", JSON_SCAN_STRING},
    [F_TIME] = {"time_us", JSON_SCAN_NUMBER},
    [F_SERVER_IP] = {"server_ip", JSON_SCAN_STRING},
    [F_SERVER_PORT] = {"server_port", JSON_SCAN_NUMBER},
    [F_CLIENT_IP] = {"client_ip", JSON_SCAN_STRING},
    [F_STARTTLS_US] = {"starttls_us", JSON_SCAN_NUMBER},
    [F_STARTTLS_SESSION] = {"starttls_session", JSON_SCAN_STRING},
    [F_EHLO_US] = {"ehlo_us", JSON_SCAN_NUMBER},
    [F_EHLO_SESSION] = {"ehlo_session", JSON_SCAN_STRING},
    [F_FAILED_END_US] = {"failed_end_us", JSON_SCAN_NUMBER},
    [F_FAILED_SESSION] = {"failed_session", JSON_SCAN_STRING},
    [F_FAILED_RULE] = {"failed_rule", JSON_SCAN_STRING},
    [F_TLS_VERSION] = {"tls_version", JSON_SCAN_NUMBER},
    [F_TLS_VERSION_US] = {"tls_version_us", JSON_SCAN_NUMBER},
    [F_TLS_VERSION_SESSION] = {"tls_version_session", JSON_SCAN_STRING},
    [F_CERT_SHA256] = {"cert_sha256", JSON_SCAN_STRING},
    [F_CERT_ISSUER] = {"cert_issuer", JSON_SCAN_STRING},
    [F_CERT_US] = {"cert_us", JSON_SCAN_NUMBER},
    [F_CERT_SESSION] = {"cert_session", JSON_SCAN_STRING},
};

/*
 * What the document held, field by field. Members of no known name are skipped, and so is anything nested
 * (a later minor version may add either); a known name twice, of the wrong type, too long, or a number that
 * is not a whole number within 64 bits makes the document bad.
 */
struct seen {
	bool has[F_COUNT];
	const char *bad; /* the first reason, static */
	uint64_t u[F_COUNT];
	char s[F_COUNT][STRING_MAX];
	unsigned answers[A_COUNT]; /* elements of each answer array */
	struct tls_answer_share answer[TLS_SHARE_ANSWERS];
};

/* A JSON number that is a whole number within 64 bits: digits only (RFC 8259 6, no sign, fraction or
 * exponent). */
static bool whole_number(const char *text, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(text[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* An element of one of the answer arrays, in order, each of its type and size. */
static const char *take_answer(struct seen *d, enum answer_field f, const struct json_scan_value *v)
{
	if (v->index != d->answers[f] || v->index >= TLS_SHARE_ANSWERS)
		return "answers";
	struct tls_answer_share *a = &d->answer[d->answers[f]++];
	if (f == A_US)
		return v->type == JSON_SCAN_NUMBER && whole_number(v->text, v->len, &a->us) ? NULL
		                                                                            : "answers";
	char *dst = f == A_JA3 ? a->ja3 : f == A_JA3S ? a->ja3s : a->session_id;
	size_t cap = f == A_SESSION ? SESSION_ID_LEN : TLS_JA3_HASH_LEN + 1;
	if (v->type != JSON_SCAN_STRING || v->truncated || v->len >= cap)
		return "answers";
	memcpy(dst, v->text, v->len + 1);
	return NULL;
}

static int take_member(void *ctx, const struct json_scan_value *v)
{
	struct seen *d = ctx;
	if (memchr(v->path, '.', v->path_len))
		return 0;
	if (v->in_array) {
		for (int f = 0; f < A_COUNT; f++)
			if (strcmp(v->path, answer_fields[f]) == 0)
				d->bad = take_answer(d, (enum answer_field)f, v);
		return d->bad != NULL;
	}
	for (int f = 0; f < F_COUNT; f++) {
		if (strcmp(v->path, fields[f].name) != 0)
			continue;
		if (d->has[f])
			d->bad = "repeated";
		else if (v->type != fields[f].type)
			d->bad = "type";
		else if (v->type == JSON_SCAN_NUMBER && !whole_number(v->text, v->len, &d->u[f]))
			d->bad = "number";
		else if (v->type == JSON_SCAN_STRING && (v->truncated || v->len >= sizeof d->s[f]))
			d->bad = "too_long";
		else if (v->type == JSON_SCAN_STRING)
			memcpy(d->s[f], v->text, v->len + 1);
		d->has[f] = true;
		return d->bad != NULL;
	}
	return 0;
}

static bool parse_ip(const char *text, struct ip_addr *ip)
{
	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, text, ip->bytes) == 1)
		ip->family = 4;
	else if (inet_pton(AF_INET6, text, ip->bytes) == 1)
		ip->family = 6;
	return ip->family != 0;
}

/* A session id as session_id_make writes it: "S" and base-32 characters, within SESSION_ID_LEN. */
static bool take_session(const struct seen *d, enum field f, char out[SESSION_ID_LEN])
{
	size_t n = strlen(d->s[f]);
	if (!d->has[f] || n == 0 || n >= SESSION_ID_LEN)
		return false;
	memcpy(out, d->s[f], n + 1);
	return true;
}

/* The STARTTLS failures cleartext_fallback refers to (starttls_rules.h). */
static bool failure_rule(const char *name, enum rule_code *out)
{
	static const enum rule_code failures[] = {RULE_STARTTLS_REFUSED, RULE_NO_TLS_AFTER_STARTTLS,
	                                          RULE_TLS_HANDSHAKE_FAILED};
	for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++)
		if (strcmp(rule_info(failures[i])->name, name) == 0) {
			*out = failures[i];
			return true;
		}
	return false;
}

static const char *decode_tls(const struct seen *d, struct tls_server_share *t)
{
	if (d->has[F_TLS_VERSION]) {
		if (d->u[F_TLS_VERSION] == 0 || d->u[F_TLS_VERSION] > 0xFFFF || !d->has[F_TLS_VERSION_US] ||
		    !take_session(d, F_TLS_VERSION_SESSION, t->version_session_id))
			return "tls_version";
		t->best_version = (uint16_t)d->u[F_TLS_VERSION];
		t->version_us = d->u[F_TLS_VERSION_US];
	}
	if (d->has[F_CERT_SHA256]) {
		if (strlen(d->s[F_CERT_SHA256]) >= sizeof t->certificate_sha256 || !d->has[F_CERT_US] ||
		    !take_session(d, F_CERT_SESSION, t->certificate_session_id))
			return "cert";
		t->valid_certificate_seen = true;
		t->certificate_us = d->u[F_CERT_US];
		memcpy(t->certificate_sha256, d->s[F_CERT_SHA256], strlen(d->s[F_CERT_SHA256]) + 1);
		memcpy(t->issuer, d->s[F_CERT_ISSUER], strlen(d->s[F_CERT_ISSUER]) + 1);
	}
	unsigned n = d->answers[A_JA3];
	for (int f = 1; f < A_COUNT; f++)
		if (d->answers[f] != n)
			return "answers";
	for (unsigned i = 0; i < n; i++)
		if (!d->answer[i].ja3[0] || !d->answer[i].ja3s[0] || !d->answer[i].session_id[0])
			return "answers";
	memcpy(t->answers, d->answer, sizeof t->answers);
	t->n_answers = n;
	return NULL;
}

static const char *decode_facts(const struct seen *d, struct history_share_update *u)
{
	if (u->kind == HISTORY_SHARE_SERVER) {
		struct starttls_server_share *f = &u->server_facts;
		f->starttls = d->has[F_STARTTLS_US];
		f->starttls_us = d->u[F_STARTTLS_US];
		if (f->starttls && !take_session(d, F_STARTTLS_SESSION, f->starttls_session_id))
			return "starttls_session";
		return decode_tls(d, &u->tls_facts);
	}
	struct starttls_pair_share *p = &u->pair_facts;
	if (!d->has[F_CLIENT_IP] || !parse_ip(d->s[F_CLIENT_IP], &u->client))
		return "client_ip";
	p->ehlo_used = d->has[F_EHLO_US];
	p->ehlo_us = d->u[F_EHLO_US];
	if (p->ehlo_used && !take_session(d, F_EHLO_SESSION, p->ehlo_session_id))
		return "ehlo_session";
	p->failed = d->has[F_FAILED_END_US];
	p->failed_end_us = d->u[F_FAILED_END_US];
	if (p->failed && !take_session(d, F_FAILED_SESSION, p->failed_session_id))
		return "failed_session";
	if (p->failed && (!d->has[F_FAILED_RULE] || !failure_rule(d->s[F_FAILED_RULE], &p->failed_rule)))
		return "failed_rule";
	return NULL;
}

static const char *decode_seen(const struct seen *d, struct history_share_update *u)
{
	if (d->bad)
		return d->bad;
	if (!d->has[F_V] || d->u[F_V] != HISTORY_SHARE_VERSION)
		return "version";
	if (d->has[F_KIND] && strcmp(d->s[F_KIND], "server") == 0)
		u->kind = HISTORY_SHARE_SERVER;
	else if (d->has[F_KIND] && strcmp(d->s[F_KIND], "pair") == 0)
		u->kind = HISTORY_SHARE_PAIR;
	else
		return "kind";
	if (!d->has[F_OBSERVER] || !d->s[F_OBSERVER][0])
		return "observer";
	size_t observer_len = strlen(d->s[F_OBSERVER]);
	if (observer_len >= sizeof u->observer)
		return "too_long";
	memcpy(u->observer, d->s[F_OBSERVER], observer_len + 1);
	if (!d->has[F_TIME])
		return "time_us";
	u->time_us = d->u[F_TIME];
	if (!d->has[F_SERVER_IP] || !parse_ip(d->s[F_SERVER_IP], &u->server))
		return "server_ip";
	if (!d->has[F_SERVER_PORT] || d->u[F_SERVER_PORT] == 0 || d->u[F_SERVER_PORT] > 65535)
		return "server_port";
	u->port = (uint16_t)d->u[F_SERVER_PORT];
	return decode_facts(d, u);
}

int history_share_decode(const uint8_t *doc, size_t len, struct history_share_update *u, const char **why)
{
	struct seen *d = calloc(1, sizeof *d); /* 3.5 KiB: off the stack of the finisher */
	memset(u, 0, sizeof *u);
	if (!d) {
		*why = "no_memory";
		return -1;
	}
	enum json_scan_result r = json_scan(doc, len, take_member, d);
	*why = r != JSON_SCAN_OK && r != JSON_SCAN_STOPPED ? json_scan_result_str(r) : decode_seen(d, u);
	free(d);
	return *why ? -1 : 0;
}

/* ---- publish and merge ---- */

static void publish(struct history_share *hs, const struct history_share_update *u)
{
	char key[HISTORY_SHARE_KEY_MAX];
	history_share_encode(&hs->json, u, key);
	hs->stats.published++;
	if (json_writer_failed(&hs->json) ||
	    hs->publish(hs->ctx, key, strlen(key), hs->json.buf, hs->json.len) != 0)
		hs->stats.publish_errors++;
}

static bool tls_set_by(const struct tls_server_share *t, const char *id)
{
	bool set = strcmp(t->version_session_id, id) == 0 || strcmp(t->certificate_session_id, id) == 0;
	for (unsigned i = 0; i < t->n_answers && !set; i++)
		set = strcmp(t->answers[i].session_id, id) == 0;
	return set;
}

void history_share_session(struct history_share *hs, const struct session *s)
{
	uint64_t now = rules_engine_now_us(s);
	struct history_share_update u = {.time_us = now, .server = s->server.ip, .port = s->server.port};
	snprintf(u.observer, sizeof u.observer, "%s", hs->name);
	/* Only what this session set: a record another session set was published by that session. */
	bool offer = rules_engine_server_share(hs->engine, &s->server.ip, now, &u.server_facts) &&
	             strcmp(u.server_facts.starttls_session_id, s->id) == 0;
	bool tls = rules_engine_tls_share(hs->engine, &s->server.ip, now, &u.tls_facts) &&
	           tls_set_by(&u.tls_facts, s->id);
	if (offer || tls) {
		u.kind = HISTORY_SHARE_SERVER;
		publish(hs, &u);
	}
	struct starttls_pair_share *p = &u.pair_facts;
	if (rules_engine_pair_share(hs->engine, &s->client.ip, &s->server.ip, now, p) &&
	    ((p->ehlo_used && strcmp(p->ehlo_session_id, s->id) == 0) ||
	     (p->failed && strcmp(p->failed_session_id, s->id) == 0))) {
		u.kind = HISTORY_SHARE_PAIR;
		u.client = s->client.ip;
		publish(hs, &u);
	}
}

static uint64_t latest_fact(const struct history_share_update *u)
{
	uint64_t t = u->time_us;
	const struct starttls_pair_share *p = &u->pair_facts;
	if (u->kind == HISTORY_SHARE_SERVER && u->server_facts.starttls_us > t)
		t = u->server_facts.starttls_us;
	const struct tls_server_share *tls = &u->tls_facts;
	uint64_t times[2 + TLS_SHARE_ANSWERS] = {tls->version_us, tls->certificate_us};
	for (unsigned i = 0; i < tls->n_answers && i < TLS_SHARE_ANSWERS; i++)
		times[2 + i] = tls->answers[i].us;
	for (size_t i = 0; u->kind == HISTORY_SHARE_SERVER && i < sizeof times / sizeof times[0]; i++)
		if (times[i] > t)
			t = times[i];
	if (u->kind == HISTORY_SHARE_PAIR && p->ehlo_us > t)
		t = p->ehlo_us;
	if (u->kind == HISTORY_SHARE_PAIR && p->failed_end_us > t)
		t = p->failed_end_us;
	return t;
}

enum history_share_result history_share_receive(struct history_share *hs, const uint8_t *doc, size_t len,
                                                uint64_t now_us)
{
	struct history_share_update u;
	const char *why;
	hs->stats.received++;
	if (history_share_decode(doc, len, &u, &why) != 0) {
		hs->stats.errors++;
		return HISTORY_SHARE_ERROR;
	}
	if (!hs->catching_up && strcmp(u.observer, hs->name) == 0) {
		hs->stats.ignored_own++;
		return HISTORY_SHARE_OWN;
	}
	/* A fact dated ahead of our clock by more than the bound is dropped, not clamped: clamped, it would
	 * still claim a time nobody observed, and a future-dated failure would open a fallback window. */
	if (hs->max_skew_us && latest_fact(&u) > now_us && latest_fact(&u) - now_us > hs->max_skew_us) {
		hs->stats.skew_exceeded++;
		return HISTORY_SHARE_SKEW;
	}
	bool taken;
	if (u.kind == HISTORY_SHARE_SERVER) {
		taken = rules_engine_merge_server(hs->engine, &u.server, &u.server_facts);
		taken |= rules_engine_merge_tls(hs->engine, &u.server, &u.tls_facts);
	} else {
		taken = rules_engine_merge_pair(hs->engine, &u.client, &u.server, &u.pair_facts);
	}
	if (!taken)
		return HISTORY_SHARE_UNCHANGED;
	hs->stats.merged++;
	return HISTORY_SHARE_MERGED;
}
