/*
 * policy_rules.h: what a session means for the partner it belongs to (rules/policy.h).
 *
 * For an attributed session: policy_tls_required (an enforced partner's mail crossed in clear, or
 * TLS failed: starttls_refused, no_tls_after_starttls or tls_handshake_failed fired, or the TLS outcome is
 * alert, closed or not_tls), policy_tls_version (negotiated below min_tls_version) and policy_certificate (a
 * required valid certificate did not validate, or the leaf's SPKI is not among the pins). While the partner
 * is relaxed (relaxed_until after the session's packet time) these alerts are informational (severity 1). For
 * an enforced partner every heuristic alert (the STARTTLS rules and tls_interception_suspected) is raised by
 * one, capped at 10.
 */
#ifndef TLSOBS_POLICY_RULES_H
#define TLSOBS_POLICY_RULES_H

#include <stdint.h>

#include "rules/policy.h"
#include "rules/session.h"

/* Appends the policy alerts for s->partner (set by policy_attribute_session); now_us is packet time. */
void policy_rules_evaluate(struct session *s, uint64_t now_us);
/*
 * mta_sts_violation and dane_mismatch against p's MTA-STS policies and TLSA records, and
 * s->dane_status. The MX is the host of the banner, else of the EHLO greeting, else the SNI. The
 * MTA-STS domain is s->partner's, else the first recipient domain seen in clear with a policy. One
 * violation per session, in the order a sender meets them: no TLS (starttls-not-supported), an MX
 * outside the policy's mx patterns (validation-failure: RFC 8460 4.3 has no type of its own for it),
 * then the certificate's validation status. Testing mode: severity 3.
 */
void policy_rules_evaluate_mta_sts_dane(const struct policy *p, struct session *s);
/* Raises the severity of the heuristic alerts in s->alerts by one when s->partner is enforced. */
void policy_rules_raise_severity(struct session *s);

#endif
