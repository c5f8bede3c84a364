/*
 * state_db_query.c: the report queries over the state database (coverage, certificates, TLS-RPT, the
 * daily series): read-only, on the connection and cached statements of state_db.c.
 */
#include "sensor/state/state_db.h"
#include "sensor/state/state_db_internal.h"

#include <stdio.h>
#include <string.h>

/* Fills up to cap name/count pairs for one partner; returns how many. */
static int read_counts(struct state_db *db, enum stmt_id id, const char *partner, const char *since,
                       struct state_db_count *out, size_t cap, size_t *n)
{
	sqlite3_stmt *s = state_db_stmt(db, id);
	state_db_bind_str(s, 1, partner, STATE_DB_NAME_CAP);
	state_db_bind_str(s, 2, since, 16);
	sqlite3_bind_int64(s, 3, (int64_t)cap);
	int rc;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
		state_db_copy_bounded(out[*n].name, sizeof(out[*n].name), state_db_col_str(s, 0));
		out[*n].count = (uint64_t)sqlite3_column_int64(s, 1);
		(*n)++;
	}
	int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_db_fail(db, "coverage counts");
	sqlite3_reset(s);
	return ret;
}

int state_db_partner_coverage(struct state_db *db, const char *since_day, state_db_coverage_fn fn, void *ctx)
{
	const char *since = since_day ? since_day : "";
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_COVERAGE);
	state_db_bind_str(s, 1, since, 16);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_partner_coverage c = {
		    .partner = state_db_col_str(s, 0),
		    .sessions = (uint64_t)sqlite3_column_int64(s, 1),
		    .encrypted = (uint64_t)sqlite3_column_int64(s, 2),
		    .cleartext = (uint64_t)sqlite3_column_int64(s, 3),
		    .last_failure_us = (uint64_t)sqlite3_column_int64(s, 4),
		    .last_failure_type = state_db_col_str(s, 5),
		};
		c.encrypted_share = c.sessions ? (double)c.encrypted / (double)c.sessions : 0.0;
		if (read_counts(db, ST_Q_COVERAGE_VERSIONS, c.partner, since, c.versions,
		                STATE_DB_COVERAGE_VERSIONS, &c.n_versions) < 0 ||
		    read_counts(db, ST_Q_COVERAGE_FAILURES, c.partner, since, c.failures,
		                STATE_DB_COVERAGE_FAILURES, &c.n_failures) < 0) {
			ret = -1;
			break;
		}
		if (fn(ctx, &c))
			break;
	}
	if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = state_db_fail(db, "coverage");
	sqlite3_reset(s);
	return ret;
}

static int read_cert_servers(struct state_db *db, struct state_certificate *c)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_CERT_SERVERS);
	state_db_bind_str(s, 1, c->sha256, STATE_DB_SHA256_CAP);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (c->n_servers < STATE_DB_CERT_SERVERS) {
			struct state_cert_server *v = &c->servers[c->n_servers++];
			state_db_copy_bounded(v->ip, sizeof(v->ip), state_db_col_str(s, 0));
			v->port = (uint16_t)sqlite3_column_int(s, 1);
			v->first_seen_us = (uint64_t)sqlite3_column_int64(s, 2);
			v->last_seen_us = (uint64_t)sqlite3_column_int64(s, 3);
		}
		c->servers_total++;
	}
	int ret = rc == SQLITE_DONE ? 0 : state_db_fail(db, "certificate servers");
	sqlite3_reset(s);
	return ret;
}

int state_db_certificates_by_expiry(struct state_db *db, state_db_certificate_fn fn, void *ctx)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_CERTS);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_certificate c = {
		    .sha256 = state_db_col_str(s, 0),
		    .subject = state_db_col_str(s, 1),
		    .sans = state_db_col_str(s, 2),
		    .issuer = state_db_col_str(s, 3),
		    .not_after = sqlite3_column_int64(s, 4),
		    .first_seen_us = (uint64_t)sqlite3_column_int64(s, 5),
		    .last_seen_us = (uint64_t)sqlite3_column_int64(s, 6),
		    .thresholds_done = (uint32_t)sqlite3_column_int64(s, 7),
		    .partner = state_db_col_str(s, 8),
		};
		if (read_cert_servers(db, &c) < 0) {
			ret = -1;
			break;
		}
		if (fn(ctx, &c))
			break;
	}
	if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = state_db_fail(db, "certificates");
	sqlite3_reset(s);
	return ret;
}

/* ---- report queries ---- */

/* Per-day version and failure counts of one row (by_day), or the totals from `since` on. */
static int read_row_counts(struct state_db *db, struct state_partner_coverage *c, const char *since)
{
	bool day = c->day[0] != '\0';
	if (read_counts(db, day ? ST_Q_DAY_VERSIONS : ST_Q_COVERAGE_VERSIONS, c->partner,
	                day ? c->day : since, c->versions, STATE_DB_COVERAGE_VERSIONS, &c->n_versions) < 0)
		return -1;
	return read_counts(db, day ? ST_Q_DAY_FAILURES : ST_Q_COVERAGE_FAILURES, c->partner,
	                   day ? c->day : since, c->failures, STATE_DB_COVERAGE_FAILURES, &c->n_failures);
}

int state_db_coverage_query(struct state_db *db, const struct state_db_coverage_query *q,
                            state_db_coverage_fn fn, void *ctx)
{
	const char *since = q->since_day ? q->since_day : "", *until = q->until_day ? q->until_day : "";
	if (!q->by_day && until[0]) {
		snprintf(db->err, sizeof db->err, "coverage totals up to a day: ask by day");
		return -1;
	}
	sqlite3_stmt *s = state_db_stmt(db, q->by_day ? ST_Q_COVERAGE_DAYS : ST_Q_COVERAGE_RANGE);
	state_db_bind_str(s, 1, since, 16);
	state_db_bind_str(s, 2, until, 16);
	int rc, ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_partner_coverage c = {
		    .partner = state_db_col_str(s, 0),
		    .sessions = (uint64_t)sqlite3_column_int64(s, 1),
		    .encrypted = (uint64_t)sqlite3_column_int64(s, 2),
		    .cleartext = (uint64_t)sqlite3_column_int64(s, 3),
		    .last_failure_us = (uint64_t)sqlite3_column_int64(s, 4),
		    .last_failure_type = state_db_col_str(s, 5),
		    .kind = state_attribution_str((enum state_attribution)sqlite3_column_int(s, 6)),
		    .day = state_db_col_str(s, 7),
		    .messages_clear = (uint64_t)sqlite3_column_int64(s, 8),
		    .messages_protected = (uint64_t)sqlite3_column_int64(s, 9),
		};
		if (!c.last_failure_us)
			c.last_failure_type = "";
		c.encrypted_share = c.sessions ? (double)c.encrypted / (double)c.sessions : 0.0;
		if (read_row_counts(db, &c, since) < 0) {
			ret = -1;
			break;
		}
		if (fn(ctx, &c))
			break;
	}
	if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = state_db_fail(db, "coverage");
	sqlite3_reset(s);
	return ret;
}

int state_db_overflow_query(struct state_db *db, const char *since_day, const char *until_day,
                            state_db_overflow_fn fn, void *ctx)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_OVERFLOW);
	state_db_bind_str(s, 1, since_day ? since_day : "", 16);
	state_db_bind_str(s, 2, until_day ? until_day : "", 16);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_db_overflow o = {
		    .day = state_db_col_str(s, 0),
		    .table = state_db_col_str(s, 1),
		    .sessions = (uint64_t)sqlite3_column_int64(s, 2),
		    .encrypted = (uint64_t)sqlite3_column_int64(s, 3),
		    .cleartext = (uint64_t)sqlite3_column_int64(s, 4),
		};
		if (fn(ctx, &o))
			break;
	}
	int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_db_fail(db, "overflow");
	sqlite3_reset(s);
	return ret;
}

int state_db_tlsrpt_policies(struct state_db *db, const char *day, state_db_tlsrpt_policy_fn fn, void *ctx)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_TLSRPT_POLICIES);
	state_db_bind_str(s, 1, day, 16);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_tlsrpt_policy p = {
		    .policy_domain = state_db_col_str(s, 0),
		    .policy_type = state_db_col_str(s, 1),
		    .mx_host = state_db_col_str(s, 2),
		    .successful = (uint64_t)sqlite3_column_int64(s, 3),
		    .failed = (uint64_t)sqlite3_column_int64(s, 4),
		};
		if (fn(ctx, &p))
			break;
	}
	int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_db_fail(db, "tlsrpt policies");
	sqlite3_reset(s);
	return ret;
}

/* Uses its own statement handle: a caller walks the policies with the other one at the same time. */
int state_db_tlsrpt_failures(struct state_db *db, const char *day, const struct state_tlsrpt_policy *p,
                             state_db_tlsrpt_failure_fn fn, void *ctx)
{
	sqlite3_stmt *s = state_db_stmt(db, ST_Q_TLSRPT_FAILURES);
	state_db_bind_str(s, 1, day, 16);
	state_db_bind_str(s, 2, p->policy_domain, STATE_DB_NAME_CAP);
	state_db_bind_str(s, 3, p->policy_type, 16);
	state_db_bind_str(s, 4, p->mx_host, STATE_DB_NAME_CAP);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_tlsrpt_failure f = {
		    .result_type = state_db_col_str(s, 0),
		    .sending_ip = state_db_col_str(s, 1),
		    .receiving_mx_hostname = state_db_col_str(s, 2),
		    .receiving_mx_helo = state_db_col_str(s, 3),
		    .receiving_ip = state_db_col_str(s, 4),
		    .reason_code = state_db_col_str(s, 5),
		    .count = (uint64_t)sqlite3_column_int64(s, 6),
		};
		if (fn(ctx, &f))
			break;
	}
	int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_db_fail(db, "tlsrpt failures");
	sqlite3_reset(s);
	return ret;
}

/* ---- the daily series (report html) ---- */

/*
 * Report-time reads, once per report: prepared here rather than with the
 * sensor's cached statements, which the packet path's flush keeps warm.
 */
static sqlite3_stmt *prepare_since(struct state_db *db, const char *sql, const char *since_day)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) {
		state_db_fail(db, "daily series");
		sqlite3_finalize(s);
		return NULL;
	}
	state_db_bind_str(s, 1, since_day ? since_day : "", 16);
	return s;
}

int state_db_partner_days(struct state_db *db, const char *since_day, state_db_day_fn fn, void *ctx)
{
	sqlite3_stmt *s =
	    prepare_since(db,
	                  "SELECT partner, day, sessions, encrypted, cleartext FROM partner_days"
	                  " WHERE day >= ?1 ORDER BY partner, day",
	                  since_day);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_partner_day d = {
		    .partner = state_db_col_str(s, 0),
		    .day = state_db_col_str(s, 1),
		    .sessions = (uint64_t)sqlite3_column_int64(s, 2),
		    .encrypted = (uint64_t)sqlite3_column_int64(s, 3),
		    .cleartext = (uint64_t)sqlite3_column_int64(s, 4),
		};
		if (fn(ctx, &d))
			break;
	}
	int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_db_fail(db, "daily series");
	sqlite3_finalize(s);
	return ret;
}

int state_db_partner_day_counts(struct state_db *db, const char *since_day, enum state_day_count kind,
                                state_db_day_count_fn fn, void *ctx)
{
	const char *sql = kind == STATE_DAY_VERSIONS
	                      ? "SELECT partner, day, version, count FROM partner_day_versions"
	                        " WHERE day >= ?1 ORDER BY partner, day, version"
	                      : "SELECT partner, day, type, count FROM partner_day_failures"
	                        " WHERE day >= ?1 ORDER BY partner, day, type";
	sqlite3_stmt *s = prepare_since(db, sql, since_day);
	if (!s)
		return -1;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(ctx, state_db_col_str(s, 0), state_db_col_str(s, 1), state_db_col_str(s, 2),
		       (uint64_t)sqlite3_column_int64(s, 3)))
			break;
	int ret = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : state_db_fail(db, "daily counts");
	sqlite3_finalize(s);
	return ret;
}
