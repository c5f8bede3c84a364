/*
 * rules_engine.c: what a finished session means, and in which order the rules
 * decide it.
 *
 * Per session, in the order sessions end:
 *   1. the partner of the policy the session belongs to;
 *   2. the STARTTLS result, exactly one (starttls_rules.c), or
 *      cleartext_on_tls_port when the server greeted in clear on an
 *      implicit-TLS port;
 *   3. the rules: the STARTTLS rules (starttls_rules.c) on a session that can
 *      be judged, the clear-text exposure rules kept here (auth_in_clear,
 *      requiretls_in_clear, cleartext_on_tls_port), then the TLS, policy and
 *      certificate rules; every alert is counted once, after all ran;
 *   4. the history updates this session makes, after its own rules ran, so a
 *      session is never compared with itself.
 * The engine also owns the settings' defaults and the persistence of every
 * rule set's history. The parsers decode; nothing here looks at wire bytes
 * beyond copying them into evidence.
 *
 * Choice where the design left room: auth_in_clear never fires for EXTERNAL,
 * even if an observation says so: EXTERNAL carries no secret (RFC 4422
 * appendix A).
 */
#include "rules/rules_engine.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/protocol_sniff.h"
#include "rules/cert_rules.h"
#include "rules/history.h"
#include "rules/policy_rules.h"
#include "rules/starttls_rules.h"
#include "rules/tls_rules.h"

#define US_PER_S 1000000ull
#define DEFAULT_FALLBACK_WINDOW_US (RULES_DEFAULT_FALLBACK_WINDOW_S * US_PER_S)
#define DEFAULT_HISTORY_TTL_US (RULES_DEFAULT_HISTORY_TTL_S * US_PER_S)
#define DEFAULT_HISTORY_MAX RULES_DEFAULT_HISTORY_MAX
#define MAX_CERTIFICATES 100000

static const unsigned default_expiry_alert_days[] = RULES_DEFAULT_EXPIRY_ALERT_DAYS;

enum {
	ENDPOINT_MAX = 64, /* "[v6 address]:port" */
};

struct rules_engine {
	struct rules_settings set;
	struct rules_stats stats;
	struct starttls_rules *starttls;
	struct tls_rules *tls;
	struct cert_rules *certs;
	struct history_memcap *memcap; /* shared by the four tables; freed after them */
};

/* One evaluation: the session, its observations and the names its reasons use. */
struct eval {
	struct session *s;
	const struct smtp_observation *m; /* NULL when no SMTP was seen */
	const struct tls_observation *t;  /* NULL when no TLS was seen */
	uint64_t now_us;                  /* the session's end in packet time */
	char server[ENDPOINT_MAX];        /* "198.51.100.25:25" */
	char client[ENDPOINT_MAX];        /* "203.0.113.7" */
};

/* ---- engine ---- */

static struct history *table_of(struct rules_engine *e, enum rules_table t);
static void sync_history_stats(struct rules_engine *e);

struct rules_engine *rules_engine_new(const struct rules_settings *s)
{
	struct rules_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	if (s)
		e->set = *s;
	if (!e->set.fallback_window_us)
		e->set.fallback_window_us = DEFAULT_FALLBACK_WINDOW_US;
	if (!e->set.history_ttl_us)
		e->set.history_ttl_us = DEFAULT_HISTORY_TTL_US;
	if (!e->set.history_max_servers)
		e->set.history_max_servers = DEFAULT_HISTORY_MAX;
	if (!e->set.history_max_pairs)
		e->set.history_max_pairs = DEFAULT_HISTORY_MAX;
	e->starttls = starttls_rules_new(e->set.history_max_servers, e->set.history_max_pairs,
	                                 e->set.history_ttl_us, e->set.fallback_window_us);
	e->tls = tls_rules_new(e->set.history_max_servers, e->set.history_ttl_us);
	if (!e->set.n_expiry_alert_days) {
		memcpy(e->set.expiry_alert_days, default_expiry_alert_days, sizeof default_expiry_alert_days);
		e->set.n_expiry_alert_days =
		    sizeof default_expiry_alert_days / sizeof default_expiry_alert_days[0];
	}
	e->certs = cert_rules_new(MAX_CERTIFICATES, e->set.history_ttl_us, e->set.expiry_alert_days,
	                          e->set.n_expiry_alert_days);
	if (!e->set.history_memcap)
		e->set.history_memcap = RULES_DEFAULT_HISTORY_MEMCAP;
	e->memcap = history_memcap_new(e->set.history_memcap);
	if (!e->starttls || !e->tls || !e->certs || !e->memcap) {
		rules_engine_free(e);
		return NULL;
	}
	for (int t = 0; t < RULES_TABLE_COUNT; t++)
		history_memcap_attach(e->memcap, table_of(e, (enum rules_table)t));
	sync_history_stats(e);
	return e;
}

void rules_engine_free(struct rules_engine *e)
{
	if (!e)
		return;
	starttls_rules_free(e->starttls);
	tls_rules_free(e->tls);
	cert_rules_free(e->certs);
	history_memcap_free(e->memcap);
	free(e);
}

const struct rules_stats *rules_engine_stats(const struct rules_engine *e)
{
	return &e->stats;
}

const struct cert_sighting *rules_engine_cert_sighting(const struct rules_engine *e, bool *first)
{
	return cert_rules_last_sighting(e->certs, first);
}

/* ---- small helpers ---- */

static void format_endpoint(char out[ENDPOINT_MAX], const struct session_endpoint *ep, bool with_port)
{
	char ip[48];
	ip_addr_format(&ep->ip, ip, sizeof ip);
	if (!with_port)
		snprintf(out, ENDPOINT_MAX, "%s", ip);
	else if (ep->ip.family == 6)
		snprintf(out, ENDPOINT_MAX, "[%s]:%u", ip, (unsigned)ep->port);
	else
		snprintf(out, ENDPOINT_MAX, "%s:%u", ip, (unsigned)ep->port);
}

/* ---- evidence ---- */

static struct alert *raise_alert(struct eval *v, enum rule_code code)
{
	return alert_list_add(&v->s->alerts, code);
}

/* ---- per-session rules ---- */

static bool auth_mechanism_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* auth_in_clear: credentials crossed in clear. Evidence names the mechanism only, never the AUTH line. */
static void rule_auth_in_clear(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!m->auth_in_clear || strcasecmp(m->auth_mechanism, "EXTERNAL") == 0)
		return;
	struct alert *a = raise_alert(v, RULE_AUTH_IN_CLEAR);
	if (!a)
		return;
	/* SASL mechanism names are at most 20 of [A-Z0-9-_] (RFC 4422 3.1): keep exactly that much. */
	char mech[21];
	size_t n = 0;
	for (const char *p = m->auth_mechanism; *p && n < sizeof mech - 1 && auth_mechanism_char(*p); p++)
		mech[n++] = (char)toupper((unsigned char)*p);
	mech[n] = '\0';
	alert_set_reason(a,
	                 "client %s authenticated to %s with AUTH %s in clear text: the credentials crossed "
	                 "unencrypted",
	                 v->client, v->server, n ? mech : "(unknown mechanism)");
	alert_add_evidencef(a, "AUTH%s%s", n ? " " : "", mech);
}

/* requiretls_in_clear: a MAIL FROM that demanded TLS (RFC 8689) crossed in clear. */
static void rule_requiretls_in_clear(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!m->requiretls_in_clear)
		return;
	struct alert *a = raise_alert(v, RULE_REQUIRETLS_IN_CLEAR);
	if (!a)
		return;
	alert_set_reason(
	    a,
	    "client %s sent a MAIL FROM with REQUIRETLS to %s in clear text: the sender required "
	    "TLS for this message (RFC 8689)",
	    v->client, v->server);
	alert_add_evidence(a, m->mail_from_line, strlen(m->mail_from_line));
}

/*
 * The client's first clear-text line: whole for a greeting (EHLO/HELO), else
 * its verb only, as its arguments may hold an address or a credential.
 */
static void add_first_command(struct alert *a, const uint8_t *b, size_t len)
{
	size_t n = 0;
	while (n < len && n < TLS_EVIDENCE_MAX && b[n] != '\r' && b[n] != '\n')
		n++;
	bool greeting = n >= 5 && (strncasecmp((const char *)b, "EHLO ", 5) == 0 ||
	                           strncasecmp((const char *)b, "HELO ", 5) == 0);
	if (!greeting) {
		size_t verb = 0;
		while (verb < n && b[verb] != ' ')
			verb++;
		n = verb;
	}
	alert_add_printable(a, b, n);
}

/*
 * cleartext_on_tls_port: the server greeted in clear on a port where TLS comes
 * first (RFC 8314 3.3: no clear text on an implicit-TLS port). Its evidence is
 * the greeting and what the client sent first: a TLS ClientHello (the client
 * expected TLS and got none) or clear-text SMTP (then the STARTTLS rules judge
 * the rest of the conversation as well).
 */
static void rule_cleartext_on_tls_port(struct eval *v)
{
	const struct session *s = v->s;
	if (!s->cleartext_on_tls_port)
		return;
	struct alert *a = raise_alert(v, RULE_CLEARTEXT_ON_TLS_PORT);
	if (!a)
		return;
	bool hello =
	    protocol_sniff_client_hello(s->client_first_bytes, s->client_first_len) == PROTOCOL_SNIFF_YES;
	const char *then = s->client_first_len == 0 ? "sent nothing"
	                   : hello                  ? "sent a TLS ClientHello: it expected TLS and got none"
	                                            : "went on in clear text";
	alert_set_reason(a, "%s is an implicit-TLS port but the server greeted in clear text; the client %s",
	                 v->server, then);
	if (v->m && v->m->banner[0])
		alert_add_evidence(a, v->m->banner, strlen(v->m->banner));
	if (s->client_first_len == 0)
		alert_add_evidencef(a, "the client sent no byte");
	else if (hello) /* record and handshake headers and the version: the random and suites prove nothing
	                   more */
		alert_add_printable(a, s->client_first_bytes,
		                    s->client_first_len < 11 ? s->client_first_len : 11);
	else
		add_first_command(a, s->client_first_bytes, s->client_first_len);
}

/* ---- evaluation ---- */

static void sync_history_stats(struct rules_engine *e)
{
	const struct history_stats *hs = history_stats(starttls_rules_servers(e->starttls)),
	                           *hp = history_stats(starttls_rules_pairs(e->starttls)),
	                           *ht = history_stats(tls_rules_history(e->tls));
	e->stats.history_servers = hs->entries;
	e->stats.history_pairs = hp->entries;
	e->stats.history_tls_servers = ht->entries;
	e->stats.history_evicted = hs->evicted + hp->evicted + ht->evicted;
	e->stats.history_expired = hs->expired + hp->expired + ht->expired;
	e->stats.certificates_known = cert_rules_certificates(e->certs);
	e->stats.history_servers_bytes = hs->bytes;
	e->stats.history_pairs_bytes = hp->bytes;
	e->stats.history_tls_servers_bytes = ht->bytes;
	e->stats.certificates_bytes = history_stats(cert_rules_history(e->certs))->bytes;
	const struct history_memcap_stats *m = history_memcap_stats(e->memcap);
	e->stats.history_bytes = m->used;
	e->stats.history_memcap = m->cap;
	e->stats.history_memcap_evicted = m->evicted;
}

uint64_t rules_engine_now_us(const struct session *s)
{
	return s->end_us > s->start_us ? s->end_us : s->start_us;
}

void rules_engine_evaluate(struct rules_engine *e, struct session *s)
{
	struct eval v = {.s = s, .m = s->smtp, .t = s->tls};
	v.now_us = rules_engine_now_us(s);
	format_endpoint(v.server, &s->server, true);
	format_endpoint(v.client, &s->client, false);
	e->stats.sessions++;
	unsigned before = s->alerts.count; /* every rule's alerts are counted once, after all ran */
	policy_attribute_session(e->set.policy, s);

	/* A clear-text greeting on an implicit-TLS port is the session's result; the SMTP that followed
	 * is judged on the STARTTLS rules all the same, by what its own result would be. */
	enum starttls_result r = starttls_rules_result(s);
	s->starttls_result = s->cleartext_on_tls_port ? STARTTLS_CLEARTEXT_ON_TLS_PORT : r;
	rule_cleartext_on_tls_port(&v);
	/* Implicit TLS has no clear-text SMTP; an incomplete session cannot be judged on the STARTTLS rules.
	 */
	struct starttls_failure failure = {0};
	if (v.m && r != STARTTLS_INCOMPLETE && r != STARTTLS_IMPLICIT_TLS) {
		struct starttls_names names = {.server = v.server, .client = v.client};
		starttls_rules_evaluate(e->starttls, s, r, &names, v.now_us, &failure);
	}
	if (v.m) {
		rule_auth_in_clear(&v);
		rule_requiretls_in_clear(&v);
	}
	tls_rules_evaluate(e->tls, s);
	policy_rules_evaluate(s, v.now_us);
	policy_rules_evaluate_mta_sts_dane(e->set.policy, s);
	policy_rules_raise_severity(s);
	cert_rules_evaluate(e->certs, s);
	for (unsigned i = before; i < s->alerts.count; i++)
		e->stats.alerts[s->alerts.items[i].rule->code]++;
	starttls_rules_learn(e->starttls, s, &failure, v.now_us);
	sync_history_stats(e);
}

/* ---- persistence ---- */

/* Bump a table's version whenever its record struct changes: old rows are then left alone, not misread. */
static const char *const table_names[RULES_TABLE_COUNT] = {
    [RULES_TABLE_SMTP_SERVERS] = "smtp_servers.v1",
    [RULES_TABLE_SMTP_PAIRS] = "smtp_pairs.v1",
    [RULES_TABLE_TLS_SERVERS] = "tls_servers.v2",
    [RULES_TABLE_CERTIFICATES] = "certificates.v1",
};

const char *rules_table_name(enum rules_table t)
{
	return t < RULES_TABLE_COUNT ? table_names[t] : "unknown";
}

static struct history *table_of(struct rules_engine *e, enum rules_table t)
{
	switch (t) {
	case RULES_TABLE_SMTP_SERVERS:
		return starttls_rules_servers(e->starttls);
	case RULES_TABLE_SMTP_PAIRS:
		return starttls_rules_pairs(e->starttls);
	case RULES_TABLE_TLS_SERVERS:
		return tls_rules_history(e->tls);
	case RULES_TABLE_CERTIFICATES:
		return cert_rules_history(e->certs);
	case RULES_TABLE_COUNT:
		break;
	}
	return NULL;
}

size_t rules_table_capacity(const struct rules_engine *e, enum rules_table t)
{
	switch (t) {
	case RULES_TABLE_SMTP_SERVERS:
	case RULES_TABLE_TLS_SERVERS:
		return e->set.history_max_servers;
	case RULES_TABLE_SMTP_PAIRS:
		return e->set.history_max_pairs;
	case RULES_TABLE_CERTIFICATES:
		return MAX_CERTIFICATES;
	case RULES_TABLE_COUNT:
		break;
	}
	return 0;
}

struct export_ctx {
	enum rules_table table;
	size_t record_len;
	rules_export_fn fn;
	void *ctx;
};

static int export_one(void *ctx, const struct history_key *k, uint64_t seen_us, const void *value)
{
	const struct export_ctx *x = ctx;
	return x->fn(x->ctx, x->table, k->bytes, k->len, seen_us, value, x->record_len);
}

int rules_engine_export(struct rules_engine *e, const struct rules_export_cursor *from,
                        struct rules_export_cursor *to, rules_export_fn fn, void *ctx)
{
	for (int t = 0; t < RULES_TABLE_COUNT; t++) {
		struct history *h = table_of(e, (enum rules_table)t);
		struct export_ctx x = {(enum rules_table)t, history_value_size(h), fn, ctx};
		uint64_t reached = history_seq(h);
		int rc = history_export(h, from->seq[t], export_one, &x);
		if (rc)
			return rc;
		to->seq[t] = reached;
	}
	return 0;
}

void rules_engine_export_point(const struct rules_engine *e, struct rules_export_cursor *now)
{
	for (int t = 0; t < RULES_TABLE_COUNT; t++)
		now->seq[t] = history_seq(table_of((struct rules_engine *)e, (enum rules_table)t));
}

bool rules_engine_restore(struct rules_engine *e, enum rules_table t, const uint8_t *key, size_t key_len,
                          uint64_t seen_us, const void *record, size_t record_len)
{
	struct history *h = t < RULES_TABLE_COUNT ? table_of(e, t) : NULL;
	if (!h || key_len == 0 || key_len > HISTORY_KEY_MAX || record_len != history_value_size(h))
		return false;
	struct history_key k = {.len = (uint8_t)key_len};
	memcpy(k.bytes, key, key_len);
	bool ok = history_restore(h, &k, seen_us, record);
	sync_history_stats(e);
	return ok;
}

/* ---- history sharing (issue 20) ---- */

bool rules_engine_server_share(struct rules_engine *e, const struct ip_addr *server, uint64_t now_us,
                               struct starttls_server_share *out)
{
	return starttls_rules_server_share(e->starttls, server, now_us, out);
}

bool rules_engine_pair_share(struct rules_engine *e, const struct ip_addr *client,
                             const struct ip_addr *server, uint64_t now_us, struct starttls_pair_share *out)
{
	return starttls_rules_pair_share(e->starttls, client, server, now_us, out);
}

bool rules_engine_merge_server(struct rules_engine *e, const struct ip_addr *server,
                               const struct starttls_server_share *in)
{
	bool taken = starttls_rules_merge_server(e->starttls, server, in);
	sync_history_stats(e);
	return taken;
}

bool rules_engine_merge_pair(struct rules_engine *e, const struct ip_addr *client,
                             const struct ip_addr *server, const struct starttls_pair_share *in)
{
	bool taken = starttls_rules_merge_pair(e->starttls, client, server, in);
	sync_history_stats(e);
	return taken;
}

bool rules_engine_tls_share(struct rules_engine *e, const struct ip_addr *server, uint64_t now_us,
                            struct tls_server_share *out)
{
	return tls_rules_server_share(e->tls, server, now_us, out);
}

bool rules_engine_merge_tls(struct rules_engine *e, const struct ip_addr *server,
                            const struct tls_server_share *in)
{
	bool taken = tls_rules_merge_server(e->tls, server, in);
	sync_history_stats(e);
	return taken;
}
