/*
 * tlsrpt.h: what one outbound session means for SMTP TLS Reporting (RFC 8460): the policy that
 * applied (4.4: policy-type, policy-domain, the MX a TLSA policy is for) and whether the session
 * succeeded, failed (with its result type from 4.3 and our verdict as failure-reason-code) or
 * cannot be told (a capture gap or the end of the flow came before TLS was decided).
 *
 * The policy domain is the first known of: the session's partner, the first recipient domain seen
 * in clear, the domain of an MTA-STS policy (policy.mta_sts_dir) whose mx patterns allow the MX, the
 * MX name itself (banner, else EHLO greeting, else SNI), the server address. The policy type is
 * "tlsa" when policy.tlsa_file has records for the MX (s->dane_status set), else "sts" when the
 * policy domain has an MTA-STS policy in testing or enforce mode, else "no-policy-found".
 *
 * Our verdicts map to result types through one table (tlsrpt_map, documented in docs/tlsrpt.md).
 * Certificate checks count only under an sts or tlsa policy: without one a sender accepts any
 * certificate (RFC 7435 opportunistic TLS). A certificate that TLS 1.3 or resumption hides, or a
 * chain DANE cannot check for that reason, counts as success: the handshake completed.
 */
#ifndef TLSOBS_TLSRPT_H
#define TLSOBS_TLSRPT_H

#include <stddef.h>

#include "rules/policy.h"
#include "rules/session.h"

enum tlsrpt_verdict { TLSRPT_SUCCESS, TLSRPT_FAILURE, TLSRPT_UNDECIDED };
const char *tlsrpt_verdict_str(enum tlsrpt_verdict v); /* "success", "failure", "undecided" */

enum { TLSRPT_NAME_MAX = 256, TLSRPT_REASON_MAX = 64 };

/* One row of the mapping table: our verdict ("field=value") and the RFC 8460 4.3 result type. */
struct tlsrpt_map_entry {
	const char *verdict;
	const char *result_type;
};
extern const struct tlsrpt_map_entry tlsrpt_map[];
extern const size_t tlsrpt_map_count;
/* The result type of a verdict ("x509_status=expired"), NULL when the table has none. */
const char *tlsrpt_result_type(const char *verdict);

struct tlsrpt_session {
	char policy_domain[TLSRPT_NAME_MAX];
	const char *policy_type;       /* "sts", "tlsa", "no-policy-found" */
	char mx_host[TLSRPT_NAME_MAX]; /* tlsa: the MX its records are for; "" otherwise */
	enum tlsrpt_verdict verdict;
	const char *result_type;             /* on failure */
	char reason_code[TLSRPT_REASON_MAX]; /* on failure: the verdict, e.g. "starttls_result=not_offered" */
	char receiving_mx_hostname[TLSRPT_NAME_MAX]; /* SNI, else the banner host; "" unknown */
	char receiving_mx_helo[TLSRPT_NAME_MAX];     /* host of the EHLO reply; "" unknown */
};

/* Fills *out for an evaluated session (rules run: dane_status set); p may be NULL. */
void tlsrpt_session_classify(const struct policy *p, const struct session *s, struct tlsrpt_session *out);

#endif
