/*
 * tlsrpt.c: an outbound session as RFC 8460 sees it (tlsrpt.h): policy, success or failure,
 * result type (4.3) through the one mapping table below.
 */
#include "rules/tlsrpt.h"

#include <stdio.h>
#include <string.h>

#include "parsers/mta_sts.h"

/*
 * Our verdicts -> RFC 8460 4.3 result types. 4.3.1 negotiation failures for what a sender meets on
 * the wire; 4.3.2.1 tlsa-invalid for DANE; validation-failure (4.3.3) where 4.3 has no type of its
 * own. Keep docs/tlsrpt.md in step.
 */
const struct tlsrpt_map_entry tlsrpt_map[] = {
    {"starttls_result=not_offered", "starttls-not-supported"},
    {"starttls_result=garbled", "starttls-not-supported"},
    {"starttls_result=not_attempted", "starttls-not-supported"},
    {"starttls_result=refused", "starttls-not-supported"},
    {"starttls_result=no_tls_after_220", "starttls-not-supported"},
    {"tls_outcome=alert", "validation-failure"},
    {"tls_outcome=closed", "validation-failure"},
    {"tls_outcome=not_tls", "validation-failure"},
    {"x509_status=expired", "certificate-expired"},
    {"x509_status=not_yet_valid", "validation-failure"},
    {"x509_status=host_mismatch", "certificate-host-mismatch"},
    {"x509_status=self_signed", "certificate-not-trusted"},
    {"x509_status=untrusted", "certificate-not-trusted"},
    {"dane_status=mismatch", "tlsa-invalid"},
    {"dane_status=not_usable", "tlsa-invalid"},
    {"mta_sts=mx_not_in_policy", "validation-failure"},
};
const size_t tlsrpt_map_count = sizeof tlsrpt_map / sizeof tlsrpt_map[0];

const char *tlsrpt_result_type(const char *verdict)
{
	for (size_t i = 0; i < tlsrpt_map_count; i++)
		if (strcmp(tlsrpt_map[i].verdict, verdict) == 0)
			return tlsrpt_map[i].result_type;
	return NULL;
}

const char *tlsrpt_verdict_str(enum tlsrpt_verdict v)
{
	return v == TLSRPT_SUCCESS ? "success" : v == TLSRPT_FAILURE ? "failure" : "undecided";
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* The MX as policy_rules names it (banner, EHLO greeting, SNI): the name TLSA records were looked up for. */
static void mx_name(const struct session *s, char out[TLSRPT_NAME_MAX])
{
	const struct smtp_observation *m = s->smtp;
	out[0] = '\0';
	if (m && smtp_greeting_host(m->banner, out, TLSRPT_NAME_MAX) == 0 && out[0])
		return;
	out[0] = '\0';
	if (m && m->caps.seen && smtp_greeting_host(m->caps.raw, out, TLSRPT_NAME_MAX) == 0 && out[0])
		return;
	out[0] = '\0';
	if (s->tls && s->tls->client_hello_seen)
		copy(out, TLSRPT_NAME_MAX, s->tls->ch.sni);
}

static const struct mta_sts_policy *active_sts(const struct policy *p, const char *domain)
{
	const struct mta_sts_policy *sts = policy_mta_sts_find(p, domain);
	return sts && sts->mode != MTA_STS_MODE_NONE ? sts : NULL;
}

/* The policy domain, in the order tlsrpt.h gives. */
static void policy_domain(const struct policy *p, const struct session *s, const char *mx,
                          struct tlsrpt_session *out)
{
	const struct smtp_observation *m = s->smtp;
	if (s->partner) {
		copy(out->policy_domain, sizeof out->policy_domain, s->partner->domain);
		return;
	}
	if (m && m->rcpt_domain_count > 0) {
		const char *at = strrchr(m->rcpt_domains[0], '@');
		copy(out->policy_domain, sizeof out->policy_domain, at ? at + 1 : m->rcpt_domains[0]);
		return;
	}
	for (size_t i = 0; p && mx[0] && i < p->n_mta_sts; i++)
		if (mta_sts_mx_matches(&p->mta_sts[i].sts, mx)) {
			copy(out->policy_domain, sizeof out->policy_domain, p->mta_sts[i].domain);
			return;
		}
	if (mx[0]) {
		copy(out->policy_domain, sizeof out->policy_domain, mx);
		return;
	}
	ip_addr_format(&s->server.ip, out->policy_domain, sizeof out->policy_domain);
}

static void fail(struct tlsrpt_session *out, const char *field, const char *value)
{
	snprintf(out->reason_code, sizeof out->reason_code, "%s=%s", field, value);
	out->result_type = tlsrpt_result_type(out->reason_code);
	if (!out->result_type)
		out->result_type = "validation-failure"; /* RFC 8460 4.3.3 */
	out->verdict = TLSRPT_FAILURE;
}

/* After an established handshake: what the policy asks of the MX and its certificate. */
static void check_policy(const struct policy *p, const struct session *s, const char *mx,
                         struct tlsrpt_session *out)
{
	if (strcmp(out->policy_type, "tlsa") == 0) {
		if (s->dane_status == SESSION_DANE_MISMATCH || s->dane_status == SESSION_DANE_NOT_USABLE)
			fail(out, "dane_status", session_dane_status_str(s->dane_status));
		return;
	}
	if (strcmp(out->policy_type, "sts") != 0)
		return;
	const struct mta_sts_policy *sts = active_sts(p, out->policy_domain);
	if (sts && mx[0] && !mta_sts_mx_matches(sts, mx)) {
		fail(out, "mta_sts", "mx_not_in_policy");
		return;
	}
	const struct session_certificate *c = &s->certificate;
	if (c->validated && c->status != X509_STATUS_OK && c->status != X509_STATUS_NOT_VISIBLE)
		fail(out, "x509_status", x509_status_str(c->status));
}

static void decide(const struct policy *p, const struct session *s, const char *mx,
                   struct tlsrpt_session *out)
{
	out->verdict = TLSRPT_UNDECIDED;
	switch (s->starttls_result) {
	case STARTTLS_INCOMPLETE:
		return;
	case STARTTLS_UPGRADED:
	case STARTTLS_IMPLICIT_TLS:
		break;
	default:
		fail(out, "starttls_result", starttls_result_str(s->starttls_result));
		return;
	}
	enum tls_outcome o = s->tls ? s->tls->outcome : TLS_OUTCOME_NONE;
	if (o == TLS_OUTCOME_ALERT || o == TLS_OUTCOME_CLOSED || o == TLS_OUTCOME_NOT_TLS) {
		fail(out, "tls_outcome", tls_outcome_str(o));
		return;
	}
	if (o != TLS_OUTCOME_ESTABLISHED)
		return; /* none, in progress, gap: not known */
	out->verdict = TLSRPT_SUCCESS;
	check_policy(p, s, mx, out);
}

void tlsrpt_session_classify(const struct policy *p, const struct session *s, struct tlsrpt_session *out)
{
	memset(out, 0, sizeof *out);
	char mx[TLSRPT_NAME_MAX];
	mx_name(s, mx);
	policy_domain(p, s, mx, out);
	if (s->dane_status != SESSION_DANE_NONE && mx[0]) {
		out->policy_type = "tlsa";
		copy(out->mx_host, sizeof out->mx_host, mx);
	} else {
		out->policy_type = active_sts(p, out->policy_domain) ? "sts" : "no-policy-found";
	}
	const struct smtp_observation *m = s->smtp;
	if (s->tls && s->tls->client_hello_seen && s->tls->ch.sni[0])
		copy(out->receiving_mx_hostname, sizeof out->receiving_mx_hostname, s->tls->ch.sni);
	else if (m && smtp_greeting_host(m->banner, out->receiving_mx_hostname, TLSRPT_NAME_MAX) != 0)
		out->receiving_mx_hostname[0] = '\0';
	if (m && m->caps.seen &&
	    smtp_greeting_host(m->caps.raw, out->receiving_mx_helo, TLSRPT_NAME_MAX) != 0)
		out->receiving_mx_helo[0] = '\0';
	decide(p, s, mx, out);
}
