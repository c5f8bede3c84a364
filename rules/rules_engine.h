/*
 * rules_engine.h: decides what a finished session means.
 *
 * For each session, in the order sessions end: the STARTTLS result, then the
 * per-session rules (H1, H2, H4-H9, auth_in_clear, requiretls_in_clear), then
 * the cross-session rules (H3, H10, H12) against history kept per server and
 * per client/server pair, which the session then updates. History is bounded
 * (max entries, least recently seen dropped first, counted) and entries expire
 * after a TTL, both in packet time. A session whose clear-text part was cut by
 * a capture gap is `incomplete` and raises none of H1-H12. Each session is
 * attributed to a partner of the policy first (s->partner, partner_match,
 * partner_mode); the policy rules (policy_rules.h) follow the STARTTLS and
 * TLS rules, and an enforced partner raises the severity of H1-H12. The
 * engine keeps the certificate inventory: each session's certificate is
 * recorded there and checked for expiry (cert_rules.h).
 */
#ifndef TLSOBS_RULES_ENGINE_H
#define TLSOBS_RULES_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/cert_inventory.h"
#include "rules/cert_rules.h"
#include "rules/policy.h"
#include "rules/session.h"

struct rules_settings {
	uint64_t fallback_window_us; /* H10: clear-text retry within this time of a failure (default 15 min) */
	uint64_t history_ttl_us;     /* forget a server or pair not seen for this long (default 30 days) */
	size_t history_max_servers;  /* default 100000 */
	size_t history_max_pairs;    /* default 100000 */
	const struct policy *policy; /* partner policy, borrowed for the engine's life; NULL: none (opportunistic) */
	/* certificates.expiry_alert_days: certificate_expiring thresholds; none given: 30, 14, 7, 1 */
	unsigned expiry_alert_days[CERT_RULES_MAX_THRESHOLDS];
	size_t n_expiry_alert_days;
};

struct rules_stats {
	uint64_t sessions;
	uint64_t alerts[RULE_COUNT];
	uint64_t history_servers, history_pairs;     /* entries held now */
	uint64_t history_evicted, history_expired;
	uint64_t certificates_known; /* entries of the certificate inventory held now */
};

struct rules_engine;

struct rules_engine *rules_engine_new(const struct rules_settings *s);
void rules_engine_free(struct rules_engine *e);
/* Sets s->starttls_result and appends alerts to s->alerts; time is the session's packet time (start_us/end_us). */
void rules_engine_evaluate(struct rules_engine *e, struct session *s);
const struct rules_stats *rules_engine_stats(const struct rules_engine *e);
/*
 * The inventory's sighting of the last evaluated session's certificate (NULL
 * when it showed none), valid until the next evaluation; *first is set when
 * that session was the certificate's first sighting.
 */
const struct cert_sighting *rules_engine_cert_sighting(const struct rules_engine *e, bool *first);

#endif
