/*
 * report_html_data.h: what `tlsobs report html` shows, read from the state
 * database into memory once, with caps: the partners (configured ones first,
 * in configuration order, then every other domain with sessions, by name),
 * their days with the TLS versions and failure types of each day, and the
 * certificate inventory, soonest expiry first. What a cap leaves out is
 * counted in `left_off` and said on the page.
 *
 * Every string is owned by the struct (report_html_data_free).
 */
#ifndef TLSOBS_REPORT_HTML_DATA_H
#define TLSOBS_REPORT_HTML_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "rules/policy.h"
#include "sensor/state/state_db.h"

enum {
	REPORT_HTML_PARTNERS_CAP = 200, /* each gets three charts */
	REPORT_HTML_ROWS_CAP = 100000,  /* partner/day rows, and day counts of each kind */
	REPORT_HTML_CERTS_CAP = 2000,
	REPORT_HTML_DAY_CAP = 11, /* "YYYY-MM-DD" */
};

struct report_html_partner {
	struct state_partner_coverage total; /* partner and last_failure_type owned */
	const char *mode;                    /* policy_mode_str(), or "not_configured" */
};

struct report_html_day {
	size_t partner; /* index into partners */
	char day[REPORT_HTML_DAY_CAP];
	uint64_t sessions, encrypted, cleartext;
};

struct report_html_count {
	size_t partner;
	char day[REPORT_HTML_DAY_CAP];
	char name[STATE_DB_TOKEN_CAP];
	uint64_t count;
};

struct report_html_cert {
	char *sha256, *subject, *sans, *issuer, *partner;
	int64_t not_after, days_left;
	uint64_t first_seen_us, last_seen_us;
	uint64_t servers_total;
	char servers[256]; /* "ip:port ip:port", the first ones */
};

struct report_html_left_off {
	uint64_t partners, days, versions, failures, certificates;
};

struct report_html_data {
	struct report_html_partner *partners;
	size_t n_partners;
	struct report_html_day *days; /* by partner (database order), then day */
	size_t n_days;
	struct report_html_count *versions, *failures; /* by partner, day, name */
	size_t n_versions, n_failures;
	struct report_html_cert *certs; /* soonest not_after first */
	size_t n_certs;
	struct report_html_left_off left_off;
};

/*
 * Reads everything for days >= since_day (NULL: all); certificates' days left
 * are counted from `at` (seconds since the epoch). 0, or -1: a database error
 * (state_db_error) or, with errno ENOMEM, out of memory. *out is filled either
 * way and must be freed.
 */
int report_html_data_load(struct report_html_data *out, struct state_db *db, const struct policy *policy,
                          const char *since_day, int64_t at);
void report_html_data_free(struct report_html_data *d);

/* Whole days from at to not_after, rounded down (-1 for a certificate that ended an hour ago). */
int64_t report_html_days_left(int64_t not_after, int64_t at);

#endif
