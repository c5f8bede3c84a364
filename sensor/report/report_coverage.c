/*
 * report_coverage.c: `tlsobs report coverage`: per name (configured partners first, then recipient
 * domains, then unattributed servers) and optionally per UTC day, the sessions, the share that was
 * encrypted, the clear-text messages end-to-end protected apart from the unprotected ones, the TLS
 * version mix and the failures; then what fell off the per-day cap.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/report/report_internal.h"

enum { LIST_WRAP = 36 };

static const struct partner_policy *configured(const struct report *r, const char *domain, size_t *index)
{
	for (size_t i = 0; i < r->policy->n_partners; i++)
		if (strcmp(r->policy->partners[i].domain, domain) == 0) {
			*index = i;
			return &r->policy->partners[i];
		}
	return NULL;
}

/* Table: "1.3 8 (80.0%), 1.2 2 (20.0%)" or "refused 1, not_offered 2"; csv: "1.3=8;1.2=2". */
static void count_list(char *buf, size_t len, const struct state_db_count *c, size_t n, bool with_share,
                       bool csv)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += c[i].count;
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int w = csv ? snprintf(buf + used, len - used, "%s%s=%" PRIu64, i ? ";" : "", c[i].name,
		                       c[i].count)
		        : with_share
		            ? snprintf(buf + used, len - used, "%s%s %" PRIu64 " (%.1f%%)", i ? ", " : "",
		                       c[i].name, c[i].count, 100.0 * (double)c[i].count / (double)total)
		            : snprintf(buf + used, len - used, "%s%s %" PRIu64, i ? ", " : "", c[i].name,
		                       c[i].count);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void json_counts(struct json_writer *w, const char *key, const struct state_db_count *c, size_t n)
{
	json_key(w, key);
	json_object_begin(w);
	for (size_t i = 0; i < n; i++)
		json_field_uint(w, c[i].name, c[i].count);
	json_object_end(w);
}

static const struct report_table_col table_cols[] = {
    {"DOMAIN", false, 0},
    {"DAY", false, 0},
    {"MODE", false, 0},
    {"SESSIONS", true, 0},
    {"ENCRYPTED", true, 0},
    {"CLEAR MSGS", true, 0},
    {"E2E PROTECTED", true, 0},
    {"TLS VERSIONS", false, LIST_WRAP},
    {"FAILURES", false, LIST_WRAP},
    {"LAST FAILURE", false, 0},
};
enum { COL_DAY = 1, NCOLS = sizeof table_cols / sizeof table_cols[0] };

static void coverage_header(struct report *r)
{
	if (r->format == FORMAT_CSV)
		fputs("partner,mode,sessions,encrypted,cleartext,encrypted_percent,tls_versions,failures,"
		      "last_failure_time,last_failure_type,kind,day,cleartext_messages_unprotected,"
		      "cleartext_messages_protected\n",
		      r->out);
}

static int table_row(struct report *r, const struct state_partner_coverage *c, const char *mode)
{
	char sessions[24], enc[48], clear[24], prot[24], versions[512], failures[512], last[32], when[128];
	snprintf(sessions, sizeof sessions, "%" PRIu64, c->sessions);
	if (c->sessions)
		snprintf(enc, sizeof enc, "%" PRIu64 " (%.1f%%)", c->encrypted, 100.0 * c->encrypted_share);
	else
		snprintf(enc, sizeof enc, "-");
	snprintf(clear, sizeof clear, "%" PRIu64, c->messages_clear - c->messages_protected);
	snprintf(prot, sizeof prot, "%" PRIu64, c->messages_protected);
	count_list(versions, sizeof versions, c->versions, c->n_versions, true, false);
	count_list(failures, sizeof failures, c->failures, c->n_failures, false, false);
	report_format_time(c->last_failure_us, last, sizeof last);
	snprintf(when, sizeof when, "%s%s%s", last, c->last_failure_type[0] ? " " : "", c->last_failure_type);
	const char *cells[NCOLS] = {c->partner, c->day, mode,     sessions, enc,
	                            clear,      prot,   versions, failures, c->last_failure_us ? when : "-"};
	if (!r->by_day) { /* no DAY column: shift the rest left */
		for (size_t i = COL_DAY; i + 1 < NCOLS; i++)
			cells[i] = cells[i + 1];
	}
	return report_table_add(r->table, cells);
}

static void csv_row(struct report *r, const struct state_partner_coverage *c, const char *mode)
{
	char num[5][24], share[16] = "", versions[512], failures[512], last[32];
	snprintf(num[0], sizeof num[0], "%" PRIu64, c->sessions);
	snprintf(num[1], sizeof num[1], "%" PRIu64, c->encrypted);
	snprintf(num[2], sizeof num[2], "%" PRIu64, c->cleartext);
	snprintf(num[3], sizeof num[3], "%" PRIu64, c->messages_clear - c->messages_protected);
	snprintf(num[4], sizeof num[4], "%" PRIu64, c->messages_protected);
	if (c->sessions)
		snprintf(share, sizeof share, "%.1f", 100.0 * c->encrypted_share);
	report_format_time(c->last_failure_us, last, sizeof last);
	count_list(versions, sizeof versions, c->versions, c->n_versions, false, true);
	count_list(failures, sizeof failures, c->failures, c->n_failures, false, true);
	const char *fields[] = {c->partner,
	                        mode,
	                        num[0],
	                        num[1],
	                        num[2],
	                        share,
	                        versions,
	                        failures,
	                        c->last_failure_us ? last : "",
	                        c->last_failure_type,
	                        c->kind,
	                        c->day,
	                        num[3],
	                        num[4]};
	report_csv_row(r->out, fields, sizeof fields / sizeof fields[0]);
}

static void json_row(struct report *r, const struct state_partner_coverage *c, const char *mode)
{
	struct json_writer *w = &r->json;
	json_writer_reset(w);
	json_object_begin(w);
	json_field_cstring(w, "partner", c->partner);
	json_field_cstring(w, "mode", mode);
	json_field_uint(w, "sessions", c->sessions);
	json_field_uint(w, "encrypted", c->encrypted);
	json_field_uint(w, "cleartext", c->cleartext);
	json_key(w, "encrypted_share");
	if (c->sessions)
		json_fixed(w, c->encrypted_share, 4);
	else
		json_null(w);
	json_counts(w, "tls_versions", c->versions, c->n_versions);
	json_counts(w, "failures", c->failures, c->n_failures);
	json_key(w, "last_failure");
	if (c->last_failure_us) {
		json_object_begin(w);
		json_key(w, "time");
		json_time_us(w, c->last_failure_us);
		json_field_cstring(w, "type", c->last_failure_type);
		json_object_end(w);
	} else {
		json_null(w);
	}
	json_field_cstring(w, "kind", c->kind);
	if (c->day[0])
		json_field_cstring(w, "day", c->day);
	json_key(w, "cleartext_messages");
	json_object_begin(w);
	json_field_uint(w, "unprotected", c->messages_clear - c->messages_protected);
	json_field_uint(w, "end_to_end_protected", c->messages_protected);
	json_object_end(w);
	json_object_end(w);
	report_json_line(r);
}

static int coverage_row(struct report *r, const struct state_partner_coverage *c, const char *mode)
{
	r->rows++;
	if (r->format == FORMAT_TABLE)
		return table_row(r, c, mode);
	if (r->format == FORMAT_CSV)
		csv_row(r, c, mode);
	else
		json_row(r, c, mode);
	return 0;
}

/* First pass: configured partners; second pass: every other name (unless --partners). */
static int coverage_from_db(void *ctx, const struct state_partner_coverage *c)
{
	struct report *r = ctx;
	size_t i;
	const struct partner_policy *p = configured(r, c->partner, &i);
	if (!r->second_pass) {
		if (!p)
			return 0;
		r->partner_seen[i] = true;
		return coverage_row(r, c, policy_mode_str(p->mode)) < 0 ? 1 : 0;
	}
	if (p)
		return 0;
	/* A partner no longer configured says so; other names take the mode that applies to them. */
	const char *mode =
	    strcmp(c->kind, "partner") == 0 ? "not_configured" : policy_mode_str(r->policy->default_mode);
	return coverage_row(r, c, mode) < 0 ? 1 : 0;
}

static int overflow_row(void *ctx, const struct state_db_overflow *o)
{
	struct report *r = ctx;
	if (strcmp(o->table, "coverage") != 0)
		return 0;
	if (r->format == FORMAT_JSON) {
		struct json_writer *w = &r->json;
		json_writer_reset(w);
		json_object_begin(w);
		json_field_cstring(w, "kind", "overflow");
		json_field_cstring(w, "day", o->day);
		json_field_uint(w, "sessions", o->sessions);
		json_field_uint(w, "encrypted", o->encrypted);
		json_field_uint(w, "cleartext", o->cleartext);
		json_object_end(w);
		report_json_line(r);
	} else if (r->format == FORMAT_CSV) {
		char num[3][24];
		snprintf(num[0], sizeof num[0], "%" PRIu64, o->sessions);
		snprintf(num[1], sizeof num[1], "%" PRIu64, o->encrypted);
		snprintf(num[2], sizeof num[2], "%" PRIu64, o->cleartext);
		const char *fields[] = {"", "", num[0], num[1],     num[2], "", "",
		                        "", "", "",     "overflow", o->day, "", ""};
		report_csv_row(r->out, fields, sizeof fields / sizeof fields[0]);
	} else {
		fprintf(r->out,
		        "%s: %" PRIu64 " sessions (%" PRIu64
		        " encrypted) to domains past coverage.max_domains_per_day, "
		        "counted here only\n",
		        o->day, o->sessions, o->encrypted);
	}
	return 0;
}

static int table_begin(struct report *r)
{
	struct report_table_col cols[NCOLS];
	size_t n = 0;
	for (size_t i = 0; i < NCOLS; i++)
		if (i != COL_DAY || r->by_day)
			cols[n++] = table_cols[i];
	r->table = report_table_new(cols, n);
	return r->table ? 0 : -1;
}

int report_coverage(struct report *r, struct state_db *db, const char *since)
{
	coverage_header(r);
	if (r->format == FORMAT_TABLE && table_begin(r) < 0)
		return -1;
	struct state_db_coverage_query q = {.since_day = since, .by_day = r->by_day};
	int rc = state_db_coverage_query(db, &q, coverage_from_db, r);
	/* A configured partner without a single session is news too, above all an enforced one. */
	for (size_t i = 0; rc == 0 && !r->by_day && i < r->policy->n_partners; i++)
		if (!r->partner_seen[i]) {
			const struct partner_policy *p = &r->policy->partners[i];
			struct state_partner_coverage none = {
			    .partner = p->domain, .last_failure_type = "", .kind = "partner", .day = ""};
			if (coverage_row(r, &none, policy_mode_str(p->mode)) < 0)
				rc = -1;
		}
	if (rc == 0 && !r->partners_only) {
		r->second_pass = true;
		rc = state_db_coverage_query(db, &q, coverage_from_db, r);
	}
	if (rc == 0 && r->table)
		report_table_print(r->table, r->out);
	if (rc == 0 && !r->partners_only)
		rc = state_db_overflow_query(db, since, NULL, overflow_row, r);
	report_table_free(r->table);
	r->table = NULL;
	return rc;
}
