/*
 * rules_engine.h: decides what a finished session means.
 *
 * For each session, in the order sessions end: the STARTTLS result, then the
 * STARTTLS rules (starttls_rules.h) and the clear-text exposure rules
 * (auth_in_clear, requiretls_in_clear, cleartext_on_tls_port), the
 * cross-session ones against history kept per server and per client/server
 * pair, which the session then updates. History is bounded (max entries,
 * least recently seen dropped first, counted) and entries expire after a TTL,
 * both in packet time. A session whose clear-text part was cut by a capture
 * gap is `incomplete` and raises none of the STARTTLS rules. Each session is
 * attributed to a partner of the policy first (s->partner, partner_match,
 * partner_mode); the policy rules (policy_rules.h) follow the STARTTLS and
 * TLS rules, and an enforced partner raises the severity of the heuristic
 * rules. The engine keeps the certificate inventory: each session's
 * certificate is recorded there and checked for expiry (cert_rules.h).
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
#include "rules/starttls_rules.h"
#include "rules/tls_rules.h"

/*
 * The defaults of rules_settings, named once: the engine takes them for a zero field, and the sensor's
 * settings table (sensor/config/settings_table.c) gives them to detection.* and certificates.*.
 */
#define RULES_DEFAULT_FALLBACK_WINDOW_S (15ull * 60)
#define RULES_DEFAULT_HISTORY_TTL_S (30ull * 86400)
#define RULES_DEFAULT_HISTORY_MAX 100000
/* detection.history.memcap: all four tables together (servers, pairs, TLS servers, certificates); see
 * settings_table.c for why 64 MiB. */
#define RULES_DEFAULT_HISTORY_MEMCAP (64ull << 20)
#define RULES_DEFAULT_EXPIRY_ALERT_DAYS                                                                      \
	{                                                                                                    \
		30, 14, 7, 1                                                                                 \
	}

struct rules_settings {
	uint64_t fallback_window_us; /* cleartext_fallback: clear-text retry within this time of a failure
	                                (default 15 min) */
	uint64_t history_ttl_us;     /* forget a server or pair not seen for this long (default 30 days) */
	size_t history_max_servers;  /* default 100000 */
	size_t history_max_pairs;    /* default 100000 */
	uint64_t history_memcap;     /* bytes for the four history tables together (default 64 MiB) */
	const struct policy
	    *policy; /* partner policy, borrowed for the engine's life; NULL: none (opportunistic) */
	/* certificates.expiry_alert_days: certificate_expiring thresholds; none given: 30, 14, 7, 1 */
	unsigned expiry_alert_days[CERT_RULES_MAX_THRESHOLDS];
	size_t n_expiry_alert_days;
};

struct rules_stats {
	uint64_t sessions;
	uint64_t alerts[RULE_COUNT];
	uint64_t history_servers, history_pairs; /* entries held now */
	uint64_t history_tls_servers; /* entries of the TLS facts (tls_interception_suspected) held now */
	uint64_t history_evicted, history_expired;
	/* bytes held now per table and in all (detection.history.memcap), entries dropped to stay under it */
	uint64_t history_servers_bytes, history_pairs_bytes, history_tls_servers_bytes, certificates_bytes;
	uint64_t history_bytes, history_memcap, history_memcap_evicted;
	uint64_t certificates_known; /* entries of the certificate inventory held now */
};

struct rules_engine;

struct rules_engine *rules_engine_new(const struct rules_settings *s);
void rules_engine_free(struct rules_engine *e);
/* The rules' "now" for a session: its last packet time (its first when the clock went back). The one
 * definition: the sensor dates what it does with the session's verdict (relaxations, state) by it too. */
uint64_t rules_engine_now_us(const struct session *s);
/* Sets s->starttls_result and appends alerts to s->alerts; time is rules_engine_now_us(s). */
void rules_engine_evaluate(struct rules_engine *e, struct session *s);
const struct rules_stats *rules_engine_stats(const struct rules_engine *e);
/*
 * The inventory's sighting of the last evaluated session's certificate (NULL
 * when it showed none), valid until the next evaluation; *first is set when
 * that session was the certificate's first sighting.
 */
const struct cert_sighting *rules_engine_cert_sighting(const struct rules_engine *e, bool *first);

/*
 * Persistence: what the engine remembers (the history of the STARTTLS rules, the
 * TLS facts of tls_interception_suspected, the certificate inventory with its alert marks) as tables of
 * fixed-size records keyed by short byte strings, so that the sensor can keep
 * them in its state database and a restart forgets nothing. A table's name
 * carries its record layout version: records saved under another name or size
 * are not restored.
 */
enum rules_table {
	RULES_TABLE_SMTP_SERVERS,
	RULES_TABLE_SMTP_PAIRS,
	RULES_TABLE_TLS_SERVERS,
	RULES_TABLE_CERTIFICATES,
	RULES_TABLE_COUNT
};
const char *rules_table_name(enum rules_table t);
size_t rules_table_capacity(const struct rules_engine *e, enum rules_table t);

/* Where an export got to: per table, the history_seq of the last record handed over. */
struct rules_export_cursor {
	uint64_t seq[RULES_TABLE_COUNT];
};
typedef int (*rules_export_fn)(void *ctx, enum rules_table t, const uint8_t *key, size_t key_len,
                               uint64_t seen_us, const void *record, size_t record_len);
/*
 * Hands fn every record changed since *from (everything when it is zeroed) and
 * sets *to to the point reached, which the caller adopts once the records are
 * safely stored. Stops at fn's first non-zero return and returns it; 0 when all
 * were handed over.
 */
int rules_engine_export(struct rules_engine *e, const struct rules_export_cursor *from,
                        struct rules_export_cursor *to, rules_export_fn fn, void *ctx);
/* The point an export from now on would start at: after restoring, nothing restored needs saving again. */
void rules_engine_export_point(const struct rules_engine *e, struct rules_export_cursor *now);
/* Restores one saved record (oldest first). false: a key or record of the wrong size, or no memory. */
bool rules_engine_restore(struct rules_engine *e, enum rules_table t, const uint8_t *key, size_t key_len,
                          uint64_t seen_us, const void *record, size_t record_len);

/*
 * History sharing between sensors (issue 20): the STARTTLS history's facts for a server or a client/server
 * pair (starttls_rules.h) to publish, and facts from other sensors merged in, the later fact winning. A merge
 * never raises an alert.
 */
bool rules_engine_server_share(struct rules_engine *e, const struct ip_addr *server, uint64_t now_us,
                               struct starttls_server_share *out);
bool rules_engine_pair_share(struct rules_engine *e, const struct ip_addr *client,
                             const struct ip_addr *server, uint64_t now_us, struct starttls_pair_share *out);
bool rules_engine_merge_server(struct rules_engine *e, const struct ip_addr *server,
                               const struct starttls_server_share *in);
bool rules_engine_merge_pair(struct rules_engine *e, const struct ip_addr *client,
                             const struct ip_addr *server, const struct starttls_pair_share *in);
/* The TLS facts of tls_interception_suspected (tls_rules.h), alike. */
bool rules_engine_tls_share(struct rules_engine *e, const struct ip_addr *server, uint64_t now_us,
                            struct tls_server_share *out);
bool rules_engine_merge_tls(struct rules_engine *e, const struct ip_addr *server,
                            const struct tls_server_share *in);

#endif
