/*
 * starttls_rules.h: the STARTTLS result and the rules of the
 * starttls_downgrade ruleset (RFC 3207), with the per-server and per-pair
 * history they compare against.
 *
 * Per session: starttls_capability_garbled, starttls_command_garbled,
 * starttls_refused, starttls_not_used, no_tls_after_starttls,
 * starttls_command_injection, starttls_response_injection,
 * tls_handshake_failed. Across sessions: starttls_capability_removed (per
 * server), cleartext_fallback and ehlo_downgrade (per client/server pair).
 * History is bounded and aged in packet time (history.h).
 */
#ifndef TLSOBS_STARTTLS_RULES_H
#define TLSOBS_STARTTLS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/session.h"

struct history;
struct starttls_rules;

/* How the reasons name the session's ends: "198.51.100.25:25" and "203.0.113.7". Borrowed. */
struct starttls_names {
	const char *server, *client;
};

/* A STARTTLS failure this session raised (starttls_refused, no_tls_after_starttls or tls_handshake_failed),
 * which cleartext_fallback in later sessions of the pair refers to. */
struct starttls_failure {
	bool failed;
	enum rule_code rule;
};

struct starttls_rules *starttls_rules_new(size_t max_servers, size_t max_pairs, uint64_t ttl_us,
                                          uint64_t fallback_window_us);
void starttls_rules_free(struct starttls_rules *r);
/* The session's STARTTLS result, exactly one. */
enum starttls_result starttls_rules_result(const struct session *s);
/* Runs the rules on a session whose result is neither incomplete nor implicit_tls and has SMTP; appends
 * alerts to s->alerts and sets *failure (may be NULL). */
void starttls_rules_evaluate(struct starttls_rules *r, struct session *s, enum starttls_result result,
                             const struct starttls_names *names, uint64_t now_us,
                             struct starttls_failure *failure);
/* Records what the session showed (a STARTTLS offer, an EHLO, the failure, if any), after all rules ran. */
void starttls_rules_learn(struct starttls_rules *r, struct session *s, const struct starttls_failure *failure,
                          uint64_t now_us);
/*
 * History sharing between sensors (issue 20): what the history holds for one server and for one
 * client/server pair, each fact with its own packet time, so that sensors can exchange them and merge them
 * fact by fact: the later fact wins (equal times: the greater session id, so every sensor keeps the same
 * one), which makes a merge idempotent and independent of the order updates arrive in. A merge only
 * touches the history: it never raises an alert; a later session compared against it may.
 */
struct starttls_server_share {
	bool starttls; /* advertised STARTTLS at starttls_us, in session starttls_session_id */
	uint64_t starttls_us;
	char starttls_session_id[SESSION_ID_LEN];
};
struct starttls_pair_share {
	bool ehlo_used; /* the client greeted this server with EHLO at ehlo_us */
	uint64_t ehlo_us;
	char ehlo_session_id[SESSION_ID_LEN];
	bool failed; /* a STARTTLS failure (failed_rule) in a session that ended at failed_end_us */
	uint64_t failed_end_us;
	char failed_session_id[SESSION_ID_LEN];
	enum rule_code failed_rule;
};
/* What the history holds at now_us; false when nothing (absent or expired). */
bool starttls_rules_server_share(struct starttls_rules *r, const struct ip_addr *server, uint64_t now_us,
                                 struct starttls_server_share *out);
bool starttls_rules_pair_share(struct starttls_rules *r, const struct ip_addr *client,
                               const struct ip_addr *server, uint64_t now_us,
                               struct starttls_pair_share *out);
/* Merges facts seen elsewhere; true when a fact was taken. The entry is touched at the latest fact's time. */
bool starttls_rules_merge_server(struct starttls_rules *r, const struct ip_addr *server,
                                 const struct starttls_server_share *in);
bool starttls_rules_merge_pair(struct starttls_rules *r, const struct ip_addr *client,
                               const struct ip_addr *server, const struct starttls_pair_share *in);
/* The per-server and per-pair memory, for persistence (rules_engine_export/restore). */
struct history *starttls_rules_servers(const struct starttls_rules *r);
struct history *starttls_rules_pairs(const struct starttls_rules *r);

#endif
