/*
 * report_tlsrpt.h: SMTP TLS Reporting aggregate reports (RFC 8460) from the state database's
 * per-day TLS-RPT aggregates: one JSON report per policy domain (4.4), gzip-compressed, in a file
 * named as 5.3: sender "!" policy-domain "!" begin-timestamp "!" end-timestamp "!" unique-id
 * ".json.gz". The report covers one UTC day, 00:00:00 to 23:59:59 (4.2).
 *
 * policy-string and mx-host (4.4) come from the policies the configuration holds when the report is
 * made (policy.mta_sts_dir, policy.tlsa_file with the records of port 25): the database keeps the
 * policy type per session, not the policy text. For no-policy-found both are left out.
 */
#ifndef TLSOBS_REPORT_TLSRPT_H
#define TLSOBS_REPORT_TLSRPT_H

#include <stddef.h>
#include <stdint.h>

#include "outputs/json_writer.h"
#include "rules/policy.h"
#include "sensor/state/state_db.h"

enum { REPORT_TLSRPT_ID_LEN = 16 }; /* hex digits of the unique-id */

struct tlsrpt_meta {
	const char *organization_name, *contact_info;
	const char *sender;    /* the reporting domain (5.3), from contact_info */
	const char *day;       /* "YYYY-MM-DD" */
	int64_t begin;         /* that day's 00:00:00 UTC, seconds since the epoch */
	const char *unique_id; /* 1*(ALPHA / DIGIT) */
};

/* The sender domain of a contact ("mailto:tlsrpt@example.org", "tlsrpt@example.org", "https://host/..."): 0,
 * or -1. */
int report_tlsrpt_sender(const char *contact_info, char *out, size_t cap);
/* The 5.3 file name of one policy domain's report: 0, or -1 when it does not fit. */
int report_tlsrpt_file_name(const struct tlsrpt_meta *m, const char *policy_domain, char *out, size_t cap);
/* The report of one policy domain (4.4) into w (reset first): 0, or -1 (database error). */
int report_tlsrpt_build(struct state_db *db, const struct policy *p, const struct tlsrpt_meta *m,
                        const char *policy_domain, struct json_writer *w);

#endif
