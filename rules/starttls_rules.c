/*
 * starttls_rules.c: the STARTTLS rules, what a session's clear-text SMTP says
 * about its upgrade to TLS (RFC 3207).
 *
 * Owns: the STARTTLS result (starttls_rules_result), the rules of the
 * starttls_downgrade ruleset (starttls_capability_garbled,
 * starttls_command_garbled, starttls_capability_removed, starttls_refused,
 * starttls_not_used, no_tls_after_starttls, starttls_command_injection,
 * starttls_response_injection, tls_handshake_failed, cleartext_fallback,
 * ehlo_downgrade), and the history they compare with: per server, when it
 * last advertised STARTTLS; per client/server pair, its last EHLO and its
 * last STARTTLS failure. rules_engine.c decides when these run and in which
 * order with the other rules.
 *
 * Choices where the design left room:
 *  - starttls_refused fires for any non-220 reply to a real STARTTLS command;
 *    a 500/502 to it also raises starttls_command_garbled (the verb was
 *    probably rewritten on its way). A masked verb ("XXXXXXXX") answered by
 *    the server raises starttls_command_garbled alone: the server never saw a
 *    STARTTLS to refuse. The result is "refused" in both cases, as the
 *    client's attempt was.
 *  - 220 then TLS bytes: "upgraded", even when the handshake then fails
 *    (tls_handshake_failed says so). A capture gap right after the 220, before
 *    any TLS record, is "incomplete": nothing says TLS followed; so is the end
 *    of the capture or a flow timeout there (the TLS outcome stays "none"). A
 *    FIN or RST with no TLS byte is the peers' doing: tls_handshake_failed.
 *  - A HELO exchange counts as finished when the last reply was 250 or a
 *    transaction followed (the observation keeps no HELO reply code).
 *  - cleartext_fallback keeps the failure after it fires: every clear-text
 *    session of the pair within the window raises it, each naming the same
 *    failed session.
 *  - History facts carry their own times: a server is remembered only once it
 *    advertised STARTTLS (so its TTL ages that fact), a pair by its last EHLO
 *    and its last failure. Sessions that end incomplete still teach history
 *    what they did see (an offer, an EHLO), but record no failure.
 */
#include "rules/starttls_rules.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/ascii.h"
#include "parsers/tls_ciphers.h"
#include "rules/history.h"

#define US_PER_S 1000000ull

enum {
	EHLO_EVIDENCE_LINES = 16, /* EHLO reply lines kept whole; longer replies keep the lines that prove */
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

struct starttls_rules {
	struct history *servers, *pairs;
	uint64_t ttl_us, fallback_window_us;
};

/* One evaluation: the session, its observations and the names its reasons use. */
struct eval {
	struct starttls_rules *r;
	struct session *s;
	const struct smtp_observation *m; /* NULL when no SMTP was seen */
	const struct tls_observation *t;  /* NULL when no TLS was seen */
	uint64_t now_us;                  /* the session's end in packet time */
	const char *server;               /* "198.51.100.25:25" */
	const char *client;               /* "203.0.113.7" */
	struct starttls_failure failure;  /* remembered for cleartext_fallback */
};

struct starttls_rules *starttls_rules_new(size_t max_servers, size_t max_pairs, uint64_t ttl_us,
                                          uint64_t fallback_window_us)
{
	struct starttls_rules *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->ttl_us = ttl_us;
	r->fallback_window_us = fallback_window_us;
	r->servers = history_new(max_servers, ttl_us, sizeof(struct server_facts));
	r->pairs = history_new(max_pairs, ttl_us, sizeof(struct pair_facts));
	if (!r->servers || !r->pairs) {
		starttls_rules_free(r);
		return NULL;
	}
	return r;
}

void starttls_rules_free(struct starttls_rules *r)
{
	if (!r)
		return;
	history_free(r->servers);
	history_free(r->pairs);
	free(r);
}

struct history *starttls_rules_servers(const struct starttls_rules *r)
{
	return r->servers;
}

struct history *starttls_rules_pairs(const struct starttls_rules *r)
{
	return r->pairs;
}

/* ---- small helpers ---- */

static const char *alert_name(uint8_t description)
{
	const char *name = tls_alert_name(description);
	return name ? name : "unknown";
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

enum starttls_result starttls_rules_result(const struct session *s)
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
		if (i == 0 || ascii_contains_nocase(p, len, key))
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

static struct alert *raise_alert(struct eval *v, enum rule_code code)
{
	return alert_list_add(&v->s->alerts, code);
}

/* ---- per-session rules ---- */

/* starttls_capability_garbled: a masked keyword where STARTTLS belongs, and no STARTTLS. */
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

/* starttls_command_garbled: the client's STARTTLS arrived masked, or a STARTTLS was answered "command not
 * recognized". */
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

/* starttls_refused: STARTTLS answered with anything but 220. */
static void rule_refused(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	uint16_t code = m->starttls_reply_code;
	if (!m->starttls_attempted || code == 0 || code == 220)
		return;
	v->failure.failed = true;
	v->failure.rule = RULE_STARTTLS_REFUSED;
	struct alert *a = raise_alert(v, RULE_STARTTLS_REFUSED);
	if (!a)
		return;
	alert_set_reason(a, "%s refused STARTTLS with %u%s", v->server, (unsigned)code,
	                 m->commands_after_starttls_reply ? " and the client went on in clear text"
	                                                  : ": the session could not be encrypted");
	add_starttls_exchange(a, m);
}

/* starttls_not_used: STARTTLS offered, never tried, and mail crossed in clear. */
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

/* no_tls_after_starttls: 220, then bytes that are not TLS. */
static void rule_no_tls_after_starttls(struct eval *v, enum starttls_result r)
{
	if (r != STARTTLS_NO_TLS_AFTER_220)
		return;
	v->failure.failed = true;
	v->failure.rule = RULE_NO_TLS_AFTER_STARTTLS;
	struct alert *a = raise_alert(v, RULE_NO_TLS_AFTER_STARTTLS);
	if (!a)
		return;
	alert_set_reason(a,
	                 "%s answered STARTTLS with 220 but the %s then sent bytes that are not TLS: the "
	                 "session stayed in clear text",
	                 v->server, v->t->not_tls_from == TLS_FROM_CLIENT ? "client" : "server");
	add_starttls_exchange(a, v->m);
	alert_add_printable(a, v->t->not_tls_bytes,
	                    v->t->not_tls_len < TLS_EVIDENCE_MAX ? v->t->not_tls_len : TLS_EVIDENCE_MAX);
}

/* starttls_command_injection: clear-text commands after STARTTLS, before the reply (CVE-2011-0411). */
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

/* starttls_response_injection: clear-text server bytes after the 220, before the client's TLS hello. */
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

/* tls_handshake_failed: 220, TLS began, then a fatal alert or the connection ended before the handshake
 * completed. */
static void rule_handshake_failed(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	const struct tls_observation *t = v->t;
	if (!m->starttls_attempted || m->starttls_reply_code != 220 || !t ||
	    (t->outcome != TLS_OUTCOME_ALERT && t->outcome != TLS_OUTCOME_CLOSED))
		return;
	v->failure.failed = true;
	v->failure.rule = RULE_TLS_HANDSHAKE_FAILED;
	struct alert *a = raise_alert(v, RULE_TLS_HANDSHAKE_FAILED);
	if (!a)
		return;
	add_starttls_exchange(a, m);
	if (t->outcome == TLS_OUTCOME_ALERT) {
		const char *from = t->alert_from == TLS_FROM_CLIENT ? "client" : "server";
		alert_set_reason(
		    a, "the TLS handshake with %s after STARTTLS failed: alert %s (%u) from the %s",
		    v->server, alert_name(t->alert_description), (unsigned)t->alert_description, from);
		alert_add_evidencef(a, "TLS alert from the %s: level %u, description %s (%u)", from,
		                    (unsigned)t->alert_level, alert_name(t->alert_description),
		                    (unsigned)t->alert_description);
		return;
	}
	bool rst = v->s->close_reason == SESSION_CLOSE_RST;
	alert_set_reason(
	    a,
	    "the TLS handshake with %s after STARTTLS failed: connection %s before the handshake "
	    "completed",
	    v->server, rst ? "reset" : "closed");
	alert_add_evidencef(a,
	                    "connection %s (%s) after %" PRIu64 " client and %" PRIu64 " server TLS records",
	                    rst ? "reset" : "closed", session_close_reason_str(v->s->close_reason),
	                    t->records[TLS_FROM_CLIENT], t->records[TLS_FROM_SERVER]);
}

/* ---- cross-session rules ---- */

/* starttls_capability_removed: this server advertised STARTTLS before (within the TTL); this EHLO reply has
 * neither it nor a mask of it. */
static void rule_capability_removed(struct eval *v)
{
	const struct smtp_observation *m = v->m;
	if (!m->caps.seen || m->caps.starttls || capability_masked(m))
		return;
	struct history_key k = history_key_ip(&v->s->server.ip);
	const struct server_facts *f = history_find(v->r->servers, &k, v->now_us);
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

/* cleartext_fallback: mail in clear between a pair shortly after a STARTTLS failure between them. */
static void rule_cleartext_fallback(struct eval *v, const struct pair_facts *f)
{
	struct session *s = v->s;
	if (!v->m->data_in_clear || !f || !f->failed || s->start_us < f->failed_end_us ||
	    s->start_us - f->failed_end_us > v->r->fallback_window_us)
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
	alert_add_evidencef(a, "session %s: %s", f->failed_session_id, failed_rule);
	if (v->m->mail_from_line[0])
		alert_add_evidence(a, v->m->mail_from_line, strlen(v->m->mail_from_line));
}

/* ehlo_downgrade: HELO where EHLO was refused in this session, or used by this client with this server
 * before. */
static void rule_ehlo_downgrade(struct eval *v, const struct pair_facts *f)
{
	const struct smtp_observation *m = v->m;
	if (!verb_is(m, "HELO"))
		return;
	bool refused = m->ehlo_refused;
	bool before = f && f->ehlo_used && age_us(v->now_us, f->ehlo_us) <= v->r->ttl_us;
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
		alert_add_evidencef(a, "EHLO answered %u", (unsigned)m->ehlo_reply_code);
	alert_add_evidencef(a, "HELO %s", m->helo);
}

/* ---- evaluation ---- */

void starttls_rules_evaluate(struct starttls_rules *r, struct session *s, enum starttls_result result,
                             const struct starttls_names *names, uint64_t now_us,
                             struct starttls_failure *failure)
{
	struct eval ev = {.r = r,
	                  .s = s,
	                  .m = s->smtp,
	                  .t = s->tls,
	                  .now_us = now_us,
	                  .server = names->server,
	                  .client = names->client};
	struct eval *v = &ev;
	/* per-session rules, then those that compare with earlier sessions */
	rule_capability_garbled(v);
	rule_command_garbled(v);
	rule_refused(v);
	rule_not_used(v);
	rule_no_tls_after_starttls(v, result);
	rule_command_injection(v);
	rule_response_injection(v);
	rule_handshake_failed(v);

	rule_capability_removed(v);
	struct history_key k = history_key_pair(&v->s->client.ip, &v->s->server.ip);
	const struct pair_facts *f = history_find(v->r->pairs, &k, v->now_us);
	rule_cleartext_fallback(v, f);
	rule_ehlo_downgrade(v, f);
	if (failure)
		*failure = v->failure;
}

void starttls_rules_learn(struct starttls_rules *r, struct session *s, const struct starttls_failure *failure,
                          uint64_t now_us)
{
	const struct smtp_observation *m = s->smtp;
	bool failed = failure && failure->failed;
	if (m && m->caps.starttls) {
		struct history_key k = history_key_ip(&s->server.ip);
		struct server_facts *f = history_touch(r->servers, &k, now_us);
		if (f) {
			f->starttls_us = now_us;
			snprintf(f->starttls_session_id, sizeof f->starttls_session_id, "%s", s->id);
		}
	}
	bool ehlo = m && verb_is(m, "EHLO");
	if (!ehlo && !failed)
		return;
	struct history_key k = history_key_pair(&s->client.ip, &s->server.ip);
	struct pair_facts *f = history_touch(r->pairs, &k, now_us);
	if (!f)
		return;
	if (ehlo) {
		f->ehlo_used = true;
		f->ehlo_us = now_us;
		snprintf(f->ehlo_session_id, sizeof f->ehlo_session_id, "%s", s->id);
	}
	if (failed) {
		f->failed = true;
		f->failed_end_us = s->end_us;
		f->failed_rule = failure->rule;
		snprintf(f->failed_session_id, sizeof f->failed_session_id, "%s", s->id);
	}
}

/* ---- history sharing (starttls_rules.h) ---- */

bool starttls_rules_server_share(struct starttls_rules *r, const struct ip_addr *server, uint64_t now_us,
                                 struct starttls_server_share *out)
{
	struct history_key k = history_key_ip(server);
	const struct server_facts *f = history_find(r->servers, &k, now_us);
	memset(out, 0, sizeof *out);
	if (!f)
		return false;
	out->starttls = true; /* the entry exists only once the server advertised it */
	out->starttls_us = f->starttls_us;
	memcpy(out->starttls_session_id, f->starttls_session_id, sizeof out->starttls_session_id);
	return true;
}

bool starttls_rules_pair_share(struct starttls_rules *r, const struct ip_addr *client,
                               const struct ip_addr *server, uint64_t now_us, struct starttls_pair_share *out)
{
	struct history_key k = history_key_pair(client, server);
	const struct pair_facts *f = history_find(r->pairs, &k, now_us);
	memset(out, 0, sizeof *out);
	if (!f)
		return false;
	out->ehlo_used = f->ehlo_used;
	out->ehlo_us = f->ehlo_us;
	memcpy(out->ehlo_session_id, f->ehlo_session_id, sizeof out->ehlo_session_id);
	out->failed = f->failed;
	out->failed_end_us = f->failed_end_us;
	memcpy(out->failed_session_id, f->failed_session_id, sizeof out->failed_session_id);
	out->failed_rule = f->failed_rule;
	return true;
}

/* The later fact wins; at equal times the greater session id, so that every sensor keeps the same one. */
static bool later(uint64_t in_us, const char *in_id, bool have, uint64_t have_us, const char *have_id)
{
	if (!have || in_us != have_us)
		return !have || in_us > have_us;
	return strncmp(in_id, have_id, SESSION_ID_LEN) > 0;
}

static void copy_id(char dst[SESSION_ID_LEN], const char *src)
{
	memcpy(dst, src, SESSION_ID_LEN);
	dst[SESSION_ID_LEN - 1] = '\0';
}

bool starttls_rules_merge_server(struct starttls_rules *r, const struct ip_addr *server,
                                 const struct starttls_server_share *in)
{
	if (!in->starttls)
		return false;
	struct history_key k = history_key_ip(server);
	const struct server_facts *have = history_find(r->servers, &k, in->starttls_us);
	if (have && !later(in->starttls_us, in->starttls_session_id, true, have->starttls_us,
	                   have->starttls_session_id))
		return false;
	struct server_facts *f = history_touch(r->servers, &k, in->starttls_us);
	if (!f)
		return false;
	f->starttls_us = in->starttls_us;
	copy_id(f->starttls_session_id, in->starttls_session_id);
	return true;
}

bool starttls_rules_merge_pair(struct starttls_rules *r, const struct ip_addr *client,
                               const struct ip_addr *server, const struct starttls_pair_share *in)
{
	if (!in->ehlo_used && !in->failed)
		return false;
	struct history_key k = history_key_pair(client, server);
	uint64_t at = in->ehlo_us > in->failed_end_us ? in->ehlo_us : in->failed_end_us;
	const struct pair_facts *have = history_find(r->pairs, &k, at);
	bool ehlo = in->ehlo_used && later(in->ehlo_us, in->ehlo_session_id, have && have->ehlo_used,
	                                   have ? have->ehlo_us : 0, have ? have->ehlo_session_id : "");
	bool failed =
	    in->failed && later(in->failed_end_us, in->failed_session_id, have && have->failed,
	                        have ? have->failed_end_us : 0, have ? have->failed_session_id : "");
	if (!ehlo && !failed)
		return false;
	struct pair_facts *f = history_touch(r->pairs, &k, at);
	if (!f)
		return false;
	if (ehlo) {
		f->ehlo_used = true;
		f->ehlo_us = in->ehlo_us;
		copy_id(f->ehlo_session_id, in->ehlo_session_id);
	}
	if (failed) {
		f->failed = true;
		f->failed_end_us = in->failed_end_us;
		f->failed_rule = in->failed_rule;
		copy_id(f->failed_session_id, in->failed_session_id);
	}
	return true;
}
