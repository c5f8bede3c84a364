/*
 * state_db.h: what the sensor remembers across restarts, for the partner-policy
 * step: per-server TLS facts, the certificate inventory with its expiry alerts,
 * per-UTC-day coverage counts (per partner, recipient domain or unattributed
 * server; capped per day, with the overflow counted) and the per-day TLS-RPT
 * aggregates (RFC 8460). The only user of SQLite.
 *
 * Writes never touch the disk on the packet path: the note_* calls copy their
 * struct into a bounded in-memory queue (STATE_DB_QUEUE_CAP entries; past it a
 * note is dropped and counted) and state_db_flush() writes the whole queue in one
 * transaction, from the sensor's tick. Reads and state_db_mark_threshold() go to
 * the database at once and see only flushed notes.
 *
 * Times are packet time in microseconds since the epoch; days are UTC
 * "YYYY-MM-DD". Every string is copied into a bounded field and cut at its cap.
 * Strings handed to callbacks are borrowed for the duration of the call.
 * Functions returning int: 0 (or a documented positive value) on success, -1 on
 * error with the reason in state_db_error().
 */
#ifndef TLSOBS_STATE_DB_H
#define TLSOBS_STATE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_DB_QUEUE_CAP 1024
#define STATE_DB_IP_CAP 48
#define STATE_DB_NAME_CAP 256 /* MX, partner domain, subject, issuer */
#define STATE_DB_SANS_CAP 1024
#define STATE_DB_TOKEN_CAP 64  /* TLS version, cipher, failure type */
#define STATE_DB_SHA256_CAP 65 /* 64 hex digits */
#define STATE_DB_JA3S_CAP 33   /* 32 hex digits */
#define STATE_DB_COVERAGE_VERSIONS 8
#define STATE_DB_COVERAGE_FAILURES 16
#define STATE_DB_CERT_SERVERS 16
#define STATE_DB_DEFAULT_DAY_CAP 10000 /* names per UTC day (state_db_set_day_cap) */
#define STATE_DB_TLSRPT_DETAILS 64     /* failure-details rows per policy and day; the rest by result type */

/* One server observation; empty strings mean "not seen in this session". */
struct state_server_note {
	char ip[STATE_DB_IP_CAP];
	uint16_t port;
	char mx[STATE_DB_NAME_CAP];
	uint64_t time_us;
	bool starttls_offered; /* only "offered" is recorded; absence is the rules' business */
	char tls_version[STATE_DB_TOKEN_CAP];
	char cipher[STATE_DB_TOKEN_CAP];
	char ja3s[STATE_DB_JA3S_CAP];
	char cert_sha256[STATE_DB_SHA256_CAP];
	char cert_issuer[STATE_DB_NAME_CAP];
};

/* One certificate seen on one server. */
struct state_cert_note {
	char sha256[STATE_DB_SHA256_CAP];
	char subject[STATE_DB_NAME_CAP];
	char sans[STATE_DB_SANS_CAP];
	char issuer[STATE_DB_NAME_CAP];
	int64_t not_after; /* seconds since the epoch */
	uint64_t time_us;
	char server_ip[STATE_DB_IP_CAP];
	uint16_t server_port;
	char partner[STATE_DB_NAME_CAP]; /* the partner of the session that showed it; "" when none */
};

/*
 * What a coverage row stands for: a configured partner, a recipient domain seen in clear that is no
 * partner's, or (unattributed) a server that neither names: then the row's name is the server address.
 */
enum state_attribution { STATE_ATTR_PARTNER, STATE_ATTR_DOMAIN, STATE_ATTR_UNATTRIBUTED };
const char *state_attribution_str(enum state_attribution a); /* "partner", "domain", "unattributed" */

/* One finished session, attributed (kind says to what). */
struct state_partner_note {
	enum state_attribution kind;
	uint32_t messages_clear;     /* messages whose content crossed in clear */
	uint32_t messages_protected; /* of those, S/MIME or OpenPGP encrypted or signed */
	char partner[STATE_DB_NAME_CAP];
	uint64_t time_us;                     /* decides the UTC day */
	bool encrypted;                       /* mail moved under TLS */
	bool cleartext;                       /* mail moved in the clear */
	char tls_version[STATE_DB_TOKEN_CAP]; /* empty when not encrypted */
	char failure[STATE_DB_TOKEN_CAP];     /* failure type, empty when none */
};

/*
 * One outbound session for TLS-RPT (RFC 8460 4): the policy that applied and whether the session
 * succeeded; on failure, the failure-details fields. Empty strings are fields not known.
 */
struct state_tlsrpt_note {
	uint64_t time_us; /* decides the UTC day */
	char policy_domain[STATE_DB_NAME_CAP];
	char policy_type[16]; /* "sts", "tlsa", "no-policy-found" */
	char
	    mx_host[STATE_DB_NAME_CAP]; /* tlsa: the MX its records are for; "" for sts and no-policy-found */
	bool success;
	char result_type[STATE_DB_TOKEN_CAP]; /* RFC 8460 4.3 */
	char sending_ip[STATE_DB_IP_CAP];
	char receiving_mx_hostname[STATE_DB_NAME_CAP];
	char receiving_mx_helo[STATE_DB_NAME_CAP];
	char receiving_ip[STATE_DB_IP_CAP];
	char reason_code[STATE_DB_TOKEN_CAP]; /* failure-reason-code: our verdict, e.g. "x509_status=expired"
	                                       */
};

/* The per-server value sets. */
enum state_server_value {
	STATE_VALUE_TLS_VERSION,
	STATE_VALUE_CIPHER,
	STATE_VALUE_JA3S,
	STATE_VALUE_CERT_SHA256,
	STATE_VALUE_CERT_ISSUER,
	STATE_VALUE_COUNT
};

struct state_db_count {
	char name[STATE_DB_TOKEN_CAP];
	uint64_t count;
};

/* A partner's totals over the days asked for. */
struct state_partner_coverage {
	const char *partner;
	uint64_t sessions, encrypted, cleartext;
	double encrypted_share; /* encrypted / sessions, 0 when no sessions */
	struct state_db_count versions[STATE_DB_COVERAGE_VERSIONS]; /* most used first */
	size_t n_versions;
	struct state_db_count failures[STATE_DB_COVERAGE_FAILURES]; /* most frequent first */
	size_t n_failures;
	uint64_t last_failure_us;      /* 0 when none */
	const char *last_failure_type; /* "" when none */
	const char *kind;              /* state_attribution_str() */
	const char *day;               /* "YYYY-MM-DD" by day, "" for totals */
	uint64_t messages_clear, messages_protected;
};

struct state_cert_server {
	char ip[STATE_DB_IP_CAP];
	uint16_t port;
	uint64_t first_seen_us, last_seen_us;
};

struct state_certificate {
	const char *sha256, *subject, *sans, *issuer;
	int64_t not_after;
	uint64_t first_seen_us, last_seen_us;
	uint32_t thresholds_done;
	const char *partner; /* "" when no session with it was attributed */
	struct state_cert_server servers[STATE_DB_CERT_SERVERS]; /* by ip, port */
	size_t n_servers;
	uint64_t servers_total; /* may exceed n_servers */
};

struct state_db_stats {
	uint64_t queued;       /* notes waiting for the next flush */
	uint64_t dropped;      /* notes refused because the queue was full */
	uint64_t written;      /* notes committed */
	uint64_t flush_errors; /* flushes that failed */
	uint64_t lost;         /* notes discarded by a flush that failed for good (not busy) */
};

/* Return non-zero to stop the iteration. */
typedef int (*state_db_coverage_fn)(void *ctx, const struct state_partner_coverage *c);
typedef int (*state_db_certificate_fn)(void *ctx, const struct state_certificate *c);

struct state_db;

/*
 * Opens or creates the database at `path`: schema migrated through PRAGMA
 * user_version, WAL journal, a busy timeout. NULL with the reason in err when
 * the file cannot be opened or created, is not a database, or is newer than us.
 */
struct state_db *state_db_open(const char *path, char *err, size_t errlen);
/*
 * For reports: opens an existing file read-only (no migration, no WAL switch, a busy timeout), so a
 * running sensor is never blocked; NULL when it is missing, not a database, or of another schema
 * version than this program's (then run the sensor once on it).
 */
struct state_db *state_db_open_readonly(const char *path, char *err, size_t errlen);
/*
 * The cap on names per UTC day: recipient domains and unattributed servers (configured partners are
 * always kept) in coverage, and policy domains in TLS-RPT. Past it a session is counted per day in
 * the overflow table instead (state_db_overflow_query). 0: no cap. Default STATE_DB_DEFAULT_DAY_CAP.
 */
void state_db_set_day_cap(struct state_db *db, uint64_t max_names_per_day);
/* Flushes what is queued (best effort), then closes. NULL is a no-op. */
void state_db_close(struct state_db *db);
const char *state_db_error(const struct state_db *db);
void state_db_get_stats(const struct state_db *db, struct state_db_stats *out);

/* Queue a note (copied). false when the queue is full (counted in dropped). */
bool state_db_note_server(struct state_db *db, const struct state_server_note *n);
bool state_db_note_certificate(struct state_db *db, const struct state_cert_note *n);
bool state_db_note_partner_session(struct state_db *db, const struct state_partner_note *n);
bool state_db_note_tlsrpt(struct state_db *db, const struct state_tlsrpt_note *n);

/*
 * Writes the queue in one transaction. On success the queue is empty and the
 * count written is returned. When the database is busy or locked the queue is
 * kept for the next flush; on any other error the batch is discarded (lost).
 */
int state_db_flush(struct state_db *db);
/*
 * The same, and batch(ctx, db) runs inside the transaction after the queue is
 * written, for writes that are not queued notes (state_db_history_*). A batch
 * returning -1 rolls everything back, as a failed write would.
 */
typedef int (*state_db_batch_fn)(void *ctx, struct state_db *db);
int state_db_flush_with(struct state_db *db, state_db_batch_fn batch, void *ctx);

/*
 * The rules engine's memory: opaque records by table name and key, each with
 * the packet time it was last touched. Put and prune belong in a batch (inside
 * the flush transaction); load hands over the newest `limit` rows of a table,
 * oldest first, and stops when fn returns non-zero.
 */
typedef int (*state_db_history_fn)(void *ctx, const uint8_t *key, size_t key_len, uint64_t seen_us,
                                   const void *record, size_t record_len);
int state_db_history_put(struct state_db *db, const char *table, const uint8_t *key, size_t key_len,
                         uint64_t seen_us, const void *record, size_t record_len);
int state_db_history_prune(struct state_db *db, const char *table, uint64_t before_us);
int state_db_history_load(struct state_db *db, const char *table, size_t limit, state_db_history_fn fn,
                          void *ctx);
/*
 * The cap on the inventory: servers, their values and certificates (with the
 * servers they were seen on) not seen since before_us are deleted; partner/day
 * coverage stays. Belongs in a batch, like the history's pruning.
 */
int state_db_prune_inventory(struct state_db *db, uint64_t before_us);

/*
 * Marks threshold `bit` (0..31) as alerted, at once (not queued). 1 if it was
 * newly marked (alert now), 0 if it already was, -1 error.
 */
int state_db_mark_threshold(struct state_db *db, const char *sha256, unsigned bit);

/* Per partner (by name), totals over days >= since_day ("YYYY-MM-DD"; NULL for all). */
int state_db_partner_coverage(struct state_db *db, const char *since_day, state_db_coverage_fn fn, void *ctx);
/*
 * ---- Report queries (read-only; a report opens the file with state_db_open_readonly) ----
 *
 * Coverage rows over days in [since_day, until_day] ("" or NULL: unbounded; until_day only with
 * by_day): totals per name, or with by_day one row per name and UTC day (c->day set), ordered
 * partners, then domains, then unattributed servers, each by name (then day). A session counts on
 * the UTC day it ended (packet time).
 */
struct state_db_coverage_query {
	const char *since_day, *until_day;
	bool by_day;
};
int state_db_coverage_query(struct state_db *db, const struct state_db_coverage_query *q,
                            state_db_coverage_fn fn, void *ctx);

/* Sessions that fell off a day's cap on names (coverage) or policy domains (tlsrpt), per day and table;
 * for "tlsrpt", encrypted counts the successful sessions and cleartext the failed ones. */
struct state_db_overflow {
	const char *day;
	const char *table; /* "coverage" or "tlsrpt" */
	uint64_t sessions, encrypted, cleartext;
};
typedef int (*state_db_overflow_fn)(void *ctx, const struct state_db_overflow *o);
int state_db_overflow_query(struct state_db *db, const char *since_day, const char *until_day,
                            state_db_overflow_fn fn, void *ctx);

/* TLS-RPT aggregates of one UTC day: one row per (policy domain, policy type, mx host), by domain. */
struct state_tlsrpt_policy {
	const char *policy_domain, *policy_type, *mx_host;
	uint64_t successful, failed;
};
struct state_tlsrpt_failure {
	const char *result_type, *sending_ip, *receiving_mx_hostname, *receiving_mx_helo, *receiving_ip,
	    *reason_code;
	uint64_t count;
};
typedef int (*state_db_tlsrpt_policy_fn)(void *ctx, const struct state_tlsrpt_policy *p);
typedef int (*state_db_tlsrpt_failure_fn)(void *ctx, const struct state_tlsrpt_failure *f);
int state_db_tlsrpt_policies(struct state_db *db, const char *day, state_db_tlsrpt_policy_fn fn, void *ctx);
int state_db_tlsrpt_failures(struct state_db *db, const char *day, const struct state_tlsrpt_policy *p,
                             state_db_tlsrpt_failure_fn fn, void *ctx);

/* Every certificate, soonest not_after first, with the servers it was seen on. */
int state_db_certificates_by_expiry(struct state_db *db, state_db_certificate_fn fn, void *ctx);

/*
 * The daily series behind the coverage (report html): every partner/day row
 * over days >= since_day (NULL for all), by partner then day; and the counts of
 * those days (TLS versions or failure types), by partner, day, then name.
 */
struct state_partner_day {
	const char *partner, *day;
	uint64_t sessions, encrypted, cleartext;
};
enum state_day_count { STATE_DAY_VERSIONS, STATE_DAY_FAILURES };
typedef int (*state_db_day_fn)(void *ctx, const struct state_partner_day *d);
typedef int (*state_db_day_count_fn)(void *ctx, const char *partner, const char *day, const char *name,
                                     uint64_t count);
int state_db_partner_days(struct state_db *db, const char *since_day, state_db_day_fn fn, void *ctx);
int state_db_partner_day_counts(struct state_db *db, const char *since_day, enum state_day_count kind,
                                state_db_day_count_fn fn, void *ctx);

#endif
