/*
 * rules_engine.c: what a finished session means for STARTTLS (RFC 3207).
 *
 * Three steps per session, in the order sessions end:
 *   1. the STARTTLS result, exactly one (decide_result);
 *   2. the rules, each a predicate over the session's observations plus, for
 *      H3, H10 and H12, the history of earlier sessions;
 *   3. the history updates this session makes, after its own rules ran, so a
 *      session is never compared with itself.
 * The parsers decode; nothing here looks at wire bytes beyond copying them
 * into evidence.
 *
 * Choices where the design left room:
 *  - H4 fires for any non-220 reply to a real STARTTLS command; a 500/502 to it
 *    also raises H2 (the verb was probably rewritten on its way). A masked verb
 *    ("XXXXXXXX") answered by the server raises H2 alone: the server never saw
 *    a STARTTLS to refuse. The result is "refused" in both cases, as the
 *    client's attempt was.
 *  - 220 then TLS bytes: "upgraded", even when the handshake then fails (H9
 *    says so). A capture gap right after the 220, before any TLS record, is
 *    "incomplete": nothing says TLS followed; so is the end of the capture or a
 *    flow timeout there (the TLS outcome stays "none"). A FIN or RST with no
 *    TLS byte is the peers' doing: H9.
 *  - A HELO exchange counts as finished when the last reply was 250 or a
 *    transaction followed (the observation keeps no HELO reply code).
 *  - auth_in_clear never fires for EXTERNAL, even if an observation says so:
 *    EXTERNAL carries no secret (RFC 4422 appendix A).
 *  - H10 keeps the failure after it fires: every clear-text session of the
 *    pair within the window raises it, each naming the same failed session.
 *  - History facts carry their own times: a server is remembered only once it
 *    advertised STARTTLS (so its TTL ages that fact), a pair by its last EHLO
 *    and its last failure. Sessions that end incomplete still teach history
 *    what they did see (an offer, an EHLO), but record no failure.
 */
#include "rules/rules_engine.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/protocol_sniff.h"
#include "parsers/tls_ciphers.h"
#include "rules/cert_rules.h"
#include "rules/history.h"
#include "rules/policy_rules.h"
#include "rules/tls_rules.h"

#define US_PER_S 1000000ull
#define DEFAULT_FALLBACK_WINDOW_US (15ull * 60 * US_PER_S)
#define DEFAULT_HISTORY_TTL_US (30ull * 24 * 3600 * US_PER_S)
#define DEFAULT_HISTORY_MAX 100000
#define MAX_CERTIFICATES 100000

static const unsigned default_expiry_alert_days[] = {30, 14, 7, 1};

enum {
	EHLO_EVIDENCE_LINES = 16, /* EHLO reply lines kept whole; longer replies keep the lines that prove */
	ENDPOINT_MAX = 64,        /* "[v6 address]:port" */
	DURATION_MAX = 32,
};

/* What a server showed. The entry exists only once it advertised STARTTLS, so the TTL ages that fact. */
struct server_facts {
	uint64_t starttls_us;
	char starttls_session_id[SESSION_ID_LEN];
};

/* What a client showed towards one server. Each fact keeps its own time: the entry is touched by either. */
struct pair_facts {
	bool ehlo_used;
	uint64_t ehlo_us;
	char ehlo_session_id[SESSION_ID_LEN];
	bool failed;
	uint64_t failed_end_us;
	char failed_session_id[SESSION_ID_LEN];
	enum rule_code failed_rule;
};

struct rules_engine {
	struct rules_settings set;
	struct rules_stats stats;
	struct history *servers, *pairs;
	struct tls_rules *tls;
	struct cert_rules *certs;
};

/* One evaluation: the session, its observations and the names its reasons use. */
struct eval {
	struct rules_engine *e;
	struct session *s;
	const struct smtp_observation *m; /* NULL when no SMTP was seen */
	const struct tls_observation *t;  /* NULL when no TLS was seen */
	uint64_t now_us;                  /* the session's end in packet time */
	char server[ENDPOINT_MAX];        /* "198.51.100.25:25" */
	char client[ENDPOINT_MAX];        /* "203.0.113.7" */
	bool failed;                      /* H4, H6 or H9 fired: remembered for H10 */
	enum rule_code failure;
};

/* ---- engine ---- */

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
	e->servers =
	    history_new(e->set.history_max_servers, e->set.history_ttl_us, sizeof(struct server_facts));
	e->pairs = history_new(e->set.history_max_pairs, e->set.history_ttl_us, sizeof(struct pair_facts));
	e->tls = tls_rules_new(e->set.history_max_servers, e->set.history_ttl_us);
	if (!e->set.n_expiry_alert_days) {
		memcpy(e->set.expiry_alert_days, default_expiry_alert_days, sizeof default_expiry_alert_days);
		e->set.n_expiry_alert_days = sizeof default_expiry_alert_days / sizeof default_expiry_alert_days[0];
	}
	e->certs = cert_rules_new(MAX_CERTIFICATES, e->set.history_ttl_us, e->set.expiry_alert_days,
	                          e->set.n_expiry_alert_days);
	if (!e->servers || !e->pairs || !e->tls || !e->certs) {
		rules_engine_free(e);
		return NULL;
	}
	return e;
}

void rules_engine_free(struct rules_engine *e)
{
	if (!e)
		return;
	history_free(e->servers);
	history_free(e->pairs);
	tls_rules_free(e->tls);
	cert_rules_free(e->certs);
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

static const char *alert_name(uint8_t description)
{
	const char *name = tls_alert_name(description);
	return name ? name : "unknown";
}

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

static uint64_t age_us(uint64_t now_us, uint64_t then_us)
{
	return now_us > then_us ? now_us - then_us : 0;
}

/* "42s", "3m12s", "2h5m", "3d4h": how long before, for a reason sentence. */
static const char *format_duration(char out[DURATION_MAX], uint64_t us)
{
	uint64_t s = us / US_PER_S;
	if (s < 60)
		snprintf(out, DURATION_MAX, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, DURATION_MAX, "%" PRIu64 "m%" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, DURATION_MAX, "%" PRIu64 "h%" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(out, DURATION_MAX, "%" PRIu64 "d%" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return out;
}

static bool is_masking_filler(char c)
{
	return c == 'X' || c == 'x' || c == '*';
}

/*
 * A keyword or verb that stands where `want` (eight letters) belongs, masked:
 * filler with at most one trailing letter (Cisco ASA's "XXXXXXXA"), one
 * character repeated, or a same-length mangling within three positions.
 */
static bool looks_masked(const char *word, const char *want)
{
	size_t n = strlen(want);
	if (strlen(word) != n)
		return false;
	size_t filler = 0, same = 0, diff = 0;
	for (size_t i = 0; i < n; i++) {
		filler += is_masking_filler(word[i]);
		same += word[i] == word[0];
		diff += toupper((unsigned char)word[i]) != toupper((unsigned char)want[i]);
	}
	bool filled = filler == n || (filler == n - 1 && isalpha((unsigned char)word[n - 1]));
	return filled || same == n || (diff >= 1 && diff <= 3);
}

static bool capability_masked(const struct smtp_observation *m)
{
	return m->caps.seen && !m->caps.starttls && looks_masked(m->caps.masked_keyword, "STARTTLS");
}

static bool command_masked(const struct smtp_observation *m)
{
	return m->starttls_command_masked && looks_masked(m->masked_command, "STARTTLS");
}

static bool verb_is(const struct smtp_observation *m, const char *verb)
{
	return strcmp(m->helo_verb, verb) == 0;
}

/* ---- the STARTTLS result ---- */

/* Did the greeting finish, so that the STARTTLS decision was made in view? */
static bool greeting_done(const struct smtp_observation *m)
{
	bool helo_answered = verb_is(m, "HELO") && (m->last_reply_code == 250 || m->transactions > 0);
	return m->caps.seen || helo_answered || m->starttls_attempted;
}

static enum starttls_result result_after_starttls(const struct smtp_observation *m,
                                                  const struct tls_observation *t)
{
	if (m->starttls_reply_code == 0)
		return STARTTLS_INCOMPLETE;
	if (m->starttls_reply_code != 220)
		return STARTTLS_REFUSED;
	if (!t || t->outcome == TLS_OUTCOME_NONE)
		return STARTTLS_INCOMPLETE;
	if (t->outcome == TLS_OUTCOME_NOT_TLS)
		return STARTTLS_NO_TLS_AFTER_220;
	if (t->outcome == TLS_OUTCOME_GAP && !t->client_hello_seen && !t->records[0] && !t->records[1])
		return STARTTLS_INCOMPLETE;
	return STARTTLS_UPGRADED;
}

static enum starttls_result decide_result(const struct session *s)
{
	const struct smtp_observation *m = s->smtp;
	if (s->implicit_tls)
		return STARTTLS_IMPLICIT_TLS;
	if (s->clear_text_gap || !m || !greeting_done(m))
		return STARTTLS_INCOMPLETE;
	if (m->starttls_attempted)
		return result_after_starttls(m, s->tls);
	if (command_masked(m) && m->masked_command_reply != 220)
		return m->masked_command_reply ? STARTTLS_REFUSED : STARTTLS_INCOMPLETE;
	if (m->caps.starttls)
		return STARTTLS_NOT_ATTEMPTED;
	if (capability_masked(m))
		return STARTTLS_GARBLED;
	return STARTTLS_NOT_OFFERED;
}

/* ---- evidence ---- */

static bool line_has(const char *line, size_t len, const char *key)
{
	size_t k = strlen(key);
	for (size_t i = 0; i + k <= len; i++)
		if (strncasecmp(line + i, key, k) == 0)
			return true;
	return false;
}

/*
 * Adds a raw multi-line reply. One that is too long for the evidence budget
 * keeps its first line and the lines holding `key` (all lines when key is
 * NULL, as far as they go), and is flagged as cut.
 */
static void add_reply(struct alert *a, const char *raw, const char *key)
{
	unsigned lines = 0;
	for (const char *p = raw; *p; p++)
		lines += *p == '\n';
	lines += raw[0] != '\0';
	if (lines <= EHLO_EVIDENCE_LINES || !key) {
		alert_add_evidence_lines(a, raw);
		return;
	}
	a->evidence_truncated = true;
	unsigned i = 0;
	for (const char *p = raw; *p; i++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (i == 0 || line_has(p, len, key))
			alert_add_evidence(a, p, len && p[len - 1] == '\r' ? len - 1 : len);
		p += len + (nl != NULL);
	}
}

static void add_starttls_exchange(struct alert *a, const struct smtp_observation *m)
{
	const char *cmd = m->starttls_command[0] ? m->starttls_command : "STARTTLS";
	alert_add_evidence(a, cmd, strlen(cmd));
	alert_add_evidence_lines(a, m->starttls_reply);
}

/* One byte, printable: ASCII as is, CR/LF/TAB as \r \n \t, the rest (backslash included) as \xHH. */
static size_t escape_byte(char out[5], uint8_t c)
{
	switch (c) {
	case '\r':
		return (size_t)snprintf(out, 5, "\\r");
	case '\n':
		return (size_t)snprintf(out, 5, "\\n");
	case '\t':
		return (size_t)snprintf(out, 5, "\\t");
	}
	if (c >= 0x20 && c < 0x7f && c != '\\')
		return (size_t)snprintf(out, 5, "%c", c);
	return (size_t)snprintf(out, 5, "\\x%02x", c);
}

/* Bytes that should have been TLS, as one printable evidence line. */
static void add_printable(struct alert *a, const uint8_t *b, size_t len)
{
	char out[4 * TLS_EVIDENCE_MAX + 1];
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < sizeof out; i++)
		n += escape_byte(out + n, b[i]);
	alert_add_evidence(a, out, n);
}

/* A line the sensor composes (a TLS alert, a close), not one copied from the wire. */
static void add_evidencef(struct alert *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_evidencef(struct alert *a, const char *fmt, ...)
{
	char line[ALERT_EVIDENCE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n >= 0)
		alert_add_evidence(a, line, strlen(line));
}

static struct alert *raise_alert(struct eval *v, enum rule_code code)
{
	struct alert *a = alert_list_add(&v->s->alerts, code);
	if (a)
		v->e->stats.alerts[code]++;
	return a;
}

/* ---- per-session rules ---- */

/* H1: a masked keyword where STARTTLS belongs, and no STARTTLS. */
static void rule_capability_garbled(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!capability_masked(m))
		return;
	struct alert *a = raise_alert(v, RULE_STARTTLS_CAPABILITY_GARBLED);
	if (!a)
		return;
	alert_set_reason(a,
	                 "%s advertised '%s' where STARTTLS belongs: a middlebox is masking the capability",
	                 v->server, m->caps.masked_keyword);
	add_reply(a, m->caps.raw, m->caps.masked_keyword);
}

/* H2: the client's STARTTLS arrived masked, or a STARTTLS was answered "command not recognized". */
static void rule_command_garbled(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	uint16_t code = m->starttls_reply_code;
	bool unknown = m->starttls_attempted && (code == 500 || code == 502);
	if (!command_masked(m) && !unknown)
		return;
	struct alert *a = raise_alert(v, RULE_STARTTLS_COMMAND_GARBLED);
	if (!a)
		return;
	if (unknown) {
		alert_set_reason(a,
		                 "%s answered STARTTLS with %u, command not recognized: a middlebox may have "
		                 "rewritten the command on its way",
		                 v->server, (unsigned)code);
		add_starttls_exchange(a, m);
		return;
	}
	alert_set_reason(a,
	                 "the client's STARTTLS reached %s masked as '%s' (answered %u): a middlebox is "
	                 "masking the command",
	                 v->server, m->masked_command, (unsigned)m->masked_command_reply);
	alert_add_evidence(a, m->masked_command, strlen(m->masked_command));
}

/* H4: STARTTLS answered with anything but 220. */
static void rule_refused(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	uint16_t code = m->starttls_reply_code;
	if (!m->starttls_attempted || code == 0 || code == 220)
		return;
	v->failed = true;
	v->failure = RULE_STARTTLS_REFUSED;
	struct alert *a = raise_alert(v, RULE_STARTTLS_REFUSED);
	if (!a)
		return;
	alert_set_reason(a, "%s refused STARTTLS with %u%s", v->server, (unsigned)code,
	                 m->commands_after_starttls_reply ? " and the client went on in clear text"
	                                                  : ": the session could not be encrypted");
	add_starttls_exchange(a, m);
}

/* H5: STARTTLS offered, never tried, and mail crossed in clear. */
static void rule_not_used(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!m->caps.starttls || m->starttls_attempted || command_masked(m) || !m->data_in_clear)
		return;
	struct alert *a = raise_alert(v, RULE_STARTTLS_NOT_USED);
	if (!a)
		return;
	alert_set_reason(a,
	                 "%s offered STARTTLS but the client sent mail (%" PRIu64 " bytes) in clear text "
	                 "without trying it",
	                 v->server, m->data_bytes_in_clear);
	add_reply(a, m->caps.raw, "STARTTLS");
	if (m->mail_from_line[0])
		alert_add_evidence(a, m->mail_from_line, strlen(m->mail_from_line));
}

/* H6: 220, then bytes that are not TLS. */
static void rule_no_tls_after_starttls(struct eval *v, enum starttls_result r)
{
	if (r != STARTTLS_NO_TLS_AFTER_220)
		return;
	v->failed = true;
	v->failure = RULE_NO_TLS_AFTER_STARTTLS;
	struct alert *a = raise_alert(v, RULE_NO_TLS_AFTER_STARTTLS);
	if (!a)
		return;
	alert_set_reason(a,
	                 "%s answered STARTTLS with 220 but the %s then sent bytes that are not TLS: the "
	                 "session stayed in clear text",
	                 v->server, v->t->not_tls_from == TLS_FROM_CLIENT ? "client" : "server");
	add_starttls_exchange(a, v->m);
	add_printable(a, v->t->not_tls_bytes,
	              v->t->not_tls_len < TLS_EVIDENCE_MAX ? v->t->not_tls_len : TLS_EVIDENCE_MAX);
}

/* H7: clear-text commands after STARTTLS, before the reply (CVE-2011-0411). */
static void rule_command_injection(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!m->command_injection)
		return;
	struct alert *a = raise_alert(v, RULE_STARTTLS_COMMAND_INJECTION);
	if (!a)
		return;
	alert_set_reason(a,
	                 "clear-text commands followed STARTTLS to %s before its reply: they would be "
	                 "taken as sent inside TLS (command injection, CVE-2011-0411)",
	                 v->server);
	add_starttls_exchange(a, m);
	alert_add_evidence_lines(a, m->injected_command);
}

/* H8: clear-text server bytes after the 220, before the client's TLS hello. */
static void rule_response_injection(struct eval *v)
{
	struct session *s = v->s;
	if (!s->response_injection)
		return;
	struct alert *a = raise_alert(v, RULE_STARTTLS_RESPONSE_INJECTION);
	if (!a)
		return;
	alert_set_reason(a,
	                 "%s sent clear-text reply bytes after its 220 to STARTTLS, before the client's TLS "
	                 "hello: they would be taken as sent inside TLS (response injection)",
	                 v->server);
	add_starttls_exchange(a, v->m);
	alert_add_evidence_lines(a, s->injected_response);
}

/* H9: 220, TLS began, then a fatal alert or the connection ended before the handshake completed. */
static void rule_handshake_failed(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	const struct tls_observation *t = v->t;
	if (!m->starttls_attempted || m->starttls_reply_code != 220 || !t ||
	    (t->outcome != TLS_OUTCOME_ALERT && t->outcome != TLS_OUTCOME_CLOSED))
		return;
	v->failed = true;
	v->failure = RULE_TLS_HANDSHAKE_FAILED;
	struct alert *a = raise_alert(v, RULE_TLS_HANDSHAKE_FAILED);
	if (!a)
		return;
	add_starttls_exchange(a, m);
	if (t->outcome == TLS_OUTCOME_ALERT) {
		const char *from = t->alert_from == TLS_FROM_CLIENT ? "client" : "server";
		alert_set_reason(
		    a, "the TLS handshake with %s after STARTTLS failed: alert %s (%u) from the %s",
		    v->server, alert_name(t->alert_description), (unsigned)t->alert_description, from);
		add_evidencef(a, "TLS alert from the %s: level %u, description %s (%u)", from,
		              (unsigned)t->alert_level, alert_name(t->alert_description),
		              (unsigned)t->alert_description);
		return;
	}
	bool rst = v->s->close_reason && strcmp(v->s->close_reason, "rst") == 0;
	alert_set_reason(
	    a,
	    "the TLS handshake with %s after STARTTLS failed: connection %s before the handshake "
	    "completed",
	    v->server, rst ? "reset" : "closed");
	add_evidencef(a, "connection %s (%s) after %" PRIu64 " client and %" PRIu64 " server TLS records",
	              rst ? "reset" : "closed", v->s->close_reason ? v->s->close_reason : "end",
	              t->records[TLS_FROM_CLIENT], t->records[TLS_FROM_SERVER]);
}

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
	add_evidencef(a, "AUTH%s%s", n ? " " : "", mech);
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
	add_printable(a, b, n);
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
	bool hello = protocol_sniff_client_hello(s->client_first_bytes, s->client_first_len) == PROTOCOL_SNIFF_YES;
	const char *then = s->client_first_len == 0 ? "sent nothing"
	                   : hello                  ? "sent a TLS ClientHello: it expected TLS and got none"
	                                            : "went on in clear text";
	alert_set_reason(a, "%s is an implicit-TLS port but the server greeted in clear text; the client %s", v->server,
	                 then);
	if (v->m && v->m->banner[0])
		alert_add_evidence(a, v->m->banner, strlen(v->m->banner));
	if (s->client_first_len == 0)
		add_evidencef(a, "the client sent no byte");
	else if (hello) /* record and handshake headers and the version: the random and suites prove nothing more */
		add_printable(a, s->client_first_bytes, s->client_first_len < 11 ? s->client_first_len : 11);
	else
		add_first_command(a, s->client_first_bytes, s->client_first_len);
}

/* ---- cross-session rules ---- */

/* H3: this server advertised STARTTLS before (within the TTL); this EHLO reply has neither it nor a mask of
 * it. */
static void rule_capability_removed(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!m->caps.seen || m->caps.starttls || capability_masked(m))
		return;
	struct history_key k = history_key_ip(&v->s->server.ip);
	const struct server_facts *f = history_find(v->e->servers, &k, v->now_us);
	if (!f)
		return;
	struct alert *a = raise_alert(v, RULE_STARTTLS_CAPABILITY_REMOVED);
	if (!a)
		return;
	char ago[DURATION_MAX];
	alert_set_reason(
	    a,
	    "%s advertised STARTTLS in session %s %s before this one, but not in this EHLO reply: "
	    "the capability was removed on the way",
	    v->server, f->starttls_session_id, format_duration(ago, age_us(v->s->start_us, f->starttls_us)));
	snprintf(a->related_session_id, sizeof a->related_session_id, "%s", f->starttls_session_id);
	add_reply(a, m->caps.raw, NULL);
}

/* H10: mail in clear between a pair shortly after a STARTTLS failure between them. */
static void rule_cleartext_fallback(struct eval *v, const struct pair_facts *f)
{
	struct session *s = v->s;
	if (!v->m->data_in_clear || !f || !f->failed || s->start_us < f->failed_end_us ||
	    s->start_us - f->failed_end_us > v->e->set.fallback_window_us)
		return;
	struct alert *a = raise_alert(v, RULE_CLEARTEXT_FALLBACK);
	if (!a)
		return;
	char ago[DURATION_MAX];
	const char *failed_rule = rule_info(f->failed_rule)->name;
	alert_set_reason(a,
	                 "client %s sent mail in clear text to %s %s after session %s failed with %s: a "
	                 "cleartext fallback",
	                 v->client, v->server, format_duration(ago, s->start_us - f->failed_end_us),
	                 f->failed_session_id, failed_rule);
	snprintf(a->related_session_id, sizeof a->related_session_id, "%s", f->failed_session_id);
	add_evidencef(a, "session %s: %s", f->failed_session_id, failed_rule);
	if (v->m->mail_from_line[0])
		alert_add_evidence(a, v->m->mail_from_line, strlen(v->m->mail_from_line));
}

/* H12: HELO where EHLO was refused in this session, or used by this client with this server before. */
static void rule_ehlo_downgrade(struct eval *v, const struct pair_facts *f)
{
	const struct smtp_observation *m = v->m;
	if (!verb_is(m, "HELO"))
		return;
	bool refused = m->ehlo_refused;
	bool before = f && f->ehlo_used && age_us(v->now_us, f->ehlo_us) <= v->e->set.history_ttl_us;
	if (!refused && !before)
		return;
	struct alert *a = raise_alert(v, RULE_EHLO_DOWNGRADE);
	if (!a)
		return;
	char ago[DURATION_MAX];
	if (refused)
		alert_set_reason(
		    a,
		    "%s refused the client's EHLO with %u and the client fell back to HELO: STARTTLS "
		    "could not be offered",
		    v->server, (unsigned)m->ehlo_reply_code);
	else
		alert_set_reason(a,
		                 "client %s greeted %s with HELO after using EHLO in session %s %s before: "
		                 "STARTTLS could not be offered",
		                 v->client, v->server, f->ehlo_session_id,
		                 format_duration(ago, age_us(v->s->start_us, f->ehlo_us)));
	if (refused)
		add_evidencef(a, "EHLO answered %u", (unsigned)m->ehlo_reply_code);
	add_evidencef(a, "HELO %s", m->helo);
}

/* ---- evaluation ---- */

static void history_update(struct eval *v)
{
	struct session *s = v->s;
	const struct smtp_observation *m = v->m;
	if (m && m->caps.starttls) {
		struct history_key k = history_key_ip(&s->server.ip);
		struct server_facts *f = history_touch(v->e->servers, &k, v->now_us);
		if (f) {
			f->starttls_us = v->now_us;
			snprintf(f->starttls_session_id, sizeof f->starttls_session_id, "%s", s->id);
		}
	}
	bool ehlo = m && verb_is(m, "EHLO");
	if (!ehlo && !v->failed)
		return;
	struct history_key k = history_key_pair(&s->client.ip, &s->server.ip);
	struct pair_facts *f = history_touch(v->e->pairs, &k, v->now_us);
	if (!f)
		return;
	if (ehlo) {
		f->ehlo_used = true;
		f->ehlo_us = v->now_us;
		snprintf(f->ehlo_session_id, sizeof f->ehlo_session_id, "%s", s->id);
	}
	if (v->failed) {
		f->failed = true;
		f->failed_end_us = s->end_us;
		f->failed_rule = v->failure;
		snprintf(f->failed_session_id, sizeof f->failed_session_id, "%s", s->id);
	}
}

static void run_starttls_rules(struct eval *v, enum starttls_result r)
{
	rule_capability_garbled(v);
	rule_command_garbled(v);
	rule_refused(v);
	rule_not_used(v);
	rule_no_tls_after_starttls(v, r);
	rule_command_injection(v);
	rule_response_injection(v);
	rule_handshake_failed(v);

	rule_capability_removed(v);
	struct history_key k = history_key_pair(&v->s->client.ip, &v->s->server.ip);
	const struct pair_facts *f = history_find(v->e->pairs, &k, v->now_us);
	rule_cleartext_fallback(v, f);
	rule_ehlo_downgrade(v, f);
}

static void sync_history_stats(struct rules_engine *e)
{
	const struct history_stats *hs = history_stats(e->servers), *hp = history_stats(e->pairs),
				   *ht = history_stats(tls_rules_history(e->tls));
	e->stats.history_servers = hs->entries;
	e->stats.history_pairs = hp->entries;
	e->stats.history_tls_servers = ht->entries;
	e->stats.history_evicted = hs->evicted + hp->evicted + ht->evicted;
	e->stats.history_expired = hs->expired + hp->expired + ht->expired;
	e->stats.certificates_known = cert_rules_certificates(e->certs);
}

void rules_engine_evaluate(struct rules_engine *e, struct session *s)
{
	struct eval v = {.e = e, .s = s, .m = s->smtp, .t = s->tls};
	v.now_us = s->end_us > s->start_us ? s->end_us : s->start_us;
	format_endpoint(v.server, &s->server, true);
	format_endpoint(v.client, &s->client, false);
	e->stats.sessions++;
	policy_attribute_session(e->set.policy, s);

	/* A clear-text greeting on an implicit-TLS port is the session's result; the SMTP that followed
	 * is judged on H1-H12 all the same, by what its own result would be. */
	enum starttls_result r = decide_result(s);
	s->starttls_result = s->cleartext_on_tls_port ? STARTTLS_CLEARTEXT_ON_TLS_PORT : r;
	rule_cleartext_on_tls_port(&v);
	/* Implicit TLS has no clear-text SMTP; an incomplete session cannot be judged on H1-H12. */
	if (v.m && r != STARTTLS_INCOMPLETE && r != STARTTLS_IMPLICIT_TLS)
		run_starttls_rules(&v, r);
	if (v.m) {
		rule_auth_in_clear(&v);
		rule_requiretls_in_clear(&v);
	}
	unsigned before = s->alerts.count;
	tls_rules_evaluate(e->tls, s);
	policy_rules_evaluate(s, v.now_us);
	policy_rules_evaluate_mta_sts_dane(e->set.policy, s);
	policy_rules_raise_severity(s);
	cert_rules_evaluate(e->certs, s);
	for (unsigned i = before; i < s->alerts.count; i++)
		e->stats.alerts[s->alerts.items[i].rule->code]++;
	history_update(&v);
	sync_history_stats(e);
}

/* ---- persistence ---- */

/* Bump a table's version whenever its record struct changes: old rows are then left alone, not misread. */
static const char *const table_names[RULES_TABLE_COUNT] = {
    [RULES_TABLE_SMTP_SERVERS] = "smtp_servers.v1",
    [RULES_TABLE_SMTP_PAIRS] = "smtp_pairs.v1",
    [RULES_TABLE_TLS_SERVERS] = "tls_servers.v1",
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
		return e->servers;
	case RULES_TABLE_SMTP_PAIRS:
		return e->pairs;
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

int rules_engine_export(struct rules_engine *e, const struct rules_export_cursor *from, struct rules_export_cursor *to,
                        rules_export_fn fn, void *ctx)
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
