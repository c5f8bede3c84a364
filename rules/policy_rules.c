/*
 * policy_rules.c: the partner policy rules (policy_rules.h).
 *
 * Two choices, and why:
 *  - policy_tls_required looks only at enforced partners: an opportunistic
 *    partner may fall back to clear text by definition. The version and
 *    certificate rules apply to every attributed partner whose policy asks
 *    for them, whatever its mode, because the partner entry states them.
 *  - A certificate that was not visible (TLS 1.3) cannot be checked against
 *    validation or pins: neither raises policy_certificate, as nothing is
 *    guessed.
 */
#include "rules/policy_rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parsers/civil_time.h"
#include "parsers/tls.h"

static bool relaxed(const struct partner_policy *p, uint64_t now_us)
{
	return p->relaxed_until_us > now_us;
}

/* Adds the alert; while the partner is relaxed it is informational and its reason says until when. */
static struct alert *raise_policy_alert(struct session *s, enum rule_code code, uint64_t now_us)
{
	struct alert *a = alert_list_add(&s->alerts, code);
	if (a && relaxed(s->partner, now_us))
		a->severity = 1;
	return a;
}

static void set_reason(struct alert *a, const struct session *s, uint64_t now_us, const char *what)
{
	const struct partner_policy *p = s->partner;
	if (relaxed(p, now_us)) {
		char until[CIVIL_TIME_TEXT_MAX];
		civil_time_rfc3339(until, sizeof until, (int64_t)(p->relaxed_until_us / 1000000u));
		alert_set_reason(a, "%s for partner %s (matched by %s); relaxed until %s", what, p->domain,
		                 session_partner_match_str(s->partner_match), until);
	} else {
		alert_set_reason(a, "%s for partner %s (matched by %s)", what, p->domain,
		                 session_partner_match_str(s->partner_match));
	}
}

static bool tls_failed(const struct session *s)
{
	for (unsigned i = 0; i < s->alerts.count && i < ALERTS_PER_SESSION; i++)
		if (s->alerts.items[i].rule && (s->alerts.items[i].rule->properties & RULE_TLS_FAILURE))
			return true;
	const struct tls_observation *t = s->tls;
	return t && (t->outcome == TLS_OUTCOME_ALERT || t->outcome == TLS_OUTCOME_CLOSED ||
	             t->outcome == TLS_OUTCOME_NOT_TLS);
}

static void rule_tls_required(struct session *s, uint64_t now_us)
{
	const struct smtp_observation *m = s->smtp;
	bool clear = m && m->data_in_clear;
	if (s->partner->mode != POLICY_MODE_ENFORCED || (!clear && !tls_failed(s)))
		return;
	struct alert *a = raise_policy_alert(s, RULE_POLICY_TLS_REQUIRED, now_us);
	if (!a)
		return;
	if (clear) {
		set_reason(a, s, now_us, "mail crossed in clear text where TLS is enforced");
		if (m->mail_from_line[0])
			alert_add_evidence(a, m->mail_from_line, strlen(m->mail_from_line));
	} else {
		set_reason(a, s, now_us, "TLS failed where it is enforced");
		if (s->tls)
			alert_add_evidence_lines(a, tls_outcome_str(s->tls->outcome));
	}
}

static void rule_tls_version(struct session *s, uint64_t now_us)
{
	const struct partner_policy *p = s->partner;
	const struct tls_observation *t = s->tls;
	if (!p->min_tls_version || !t || !t->server_hello_seen || !t->version ||
	    t->version >= p->min_tls_version)
		return;
	struct alert *a = raise_policy_alert(s, RULE_POLICY_TLS_VERSION, now_us);
	if (!a)
		return;
	const char *got = tls_version_str(t->version), *min = tls_version_str(p->min_tls_version);
	char what[128], hex[8];
	snprintf(hex, sizeof hex, "0x%04X", t->version);
	snprintf(what, sizeof what, "TLS version %s was negotiated, below the minimum %s", got ? got : hex,
	         min ? min : "");
	set_reason(a, s, now_us, what);
}

static bool pinned(const struct partner_policy *p, const char *spki)
{
	for (size_t i = 0; i < p->n_pins; i++)
		if (strcasecmp(p->pins[i], spki) == 0)
			return true;
	return false;
}

static void rule_certificate(struct session *s, uint64_t now_us)
{
	const struct partner_policy *p = s->partner;
	const struct session_certificate *c = &s->certificate;
	bool invalid = p->require_valid_certificate && c->validated && c->status != X509_STATUS_OK &&
	               c->status != X509_STATUS_NOT_VISIBLE;
	bool unpinned = p->n_pins > 0 && c->parsed && !pinned(p, c->leaf.spki_sha256);
	if (!invalid && !unpinned)
		return;
	struct alert *a = raise_policy_alert(s, RULE_POLICY_CERTIFICATE, now_us);
	if (!a)
		return;
	char what[160];
	if (invalid)
		snprintf(what, sizeof what, "the certificate did not validate (%s)",
		         x509_status_str(c->status));
	else
		snprintf(what, sizeof what, "the certificate's public key is not among the %zu pins",
		         p->n_pins);
	set_reason(a, s, now_us, what);
	if (c->parsed) {
		char line[128];
		snprintf(line, sizeof line, "spki_sha256: %s", c->leaf.spki_sha256);
		alert_add_evidence_lines(a, line);
	}
}

void policy_rules_evaluate(struct session *s, uint64_t now_us)
{
	if (!s->partner)
		return;
	rule_tls_required(s, now_us);
	rule_tls_version(s, now_us);
	rule_certificate(s, now_us);
}

enum { MX_NAME_MAX = 256, TLSA_PER_MX = 16 };

/* The MX host name of the session (policy_rules.h): 0, or -1 when none was seen. */
static int mx_name(const struct session *s, char out[MX_NAME_MAX])
{
	const struct smtp_observation *m = s->smtp;
	if (m && smtp_greeting_host(m->banner, out, MX_NAME_MAX) == 0 && out[0])
		return 0;
	if (m && m->caps.seen && smtp_greeting_host(m->caps.raw, out, MX_NAME_MAX) == 0 && out[0])
		return 0;
	if (s->tls && s->tls->client_hello_seen && s->tls->ch.sni[0]) {
		snprintf(out, MX_NAME_MAX, "%s", s->tls->ch.sni);
		return 0;
	}
	return -1;
}

/* The domain whose MTA-STS policy applies, and the policy; NULL when none. */
static const struct mta_sts_policy *sts_for(const struct policy *p, const struct session *s,
                                            const char **domain)
{
	if (s->partner) {
		*domain = s->partner->domain;
		return policy_mta_sts_find(p, *domain);
	}
	const struct smtp_observation *m = s->smtp;
	unsigned n =
	    m ? (m->rcpt_domain_count < SMTP_MAX_RCPT_DOMAINS ? m->rcpt_domain_count : SMTP_MAX_RCPT_DOMAINS)
	      : 0;
	for (unsigned i = 0; i < n; i++) {
		const char *at = strrchr(m->rcpt_domains[i], '@');
		const char *d = at ? at + 1 : m->rcpt_domains[i];
		const struct mta_sts_policy *sts = policy_mta_sts_find(p, d);
		if (sts) {
			*domain = d;
			return sts;
		}
	}
	return NULL;
}

static bool tls_not_used(const struct session *s)
{
	switch (s->starttls_result) {
	case STARTTLS_NOT_OFFERED:
	case STARTTLS_GARBLED:
	case STARTTLS_NOT_ATTEMPTED:
	case STARTTLS_REFUSED:
	case STARTTLS_NO_TLS_AFTER_220:
		return true;
	default:
		return s->smtp && s->smtp->data_in_clear;
	}
}

/* RFC 8460 4.3.1 for a certificate that did not validate; NULL when it did or was not visible. */
static const char *certificate_result_type(const struct session_certificate *c)
{
	if (!c->validated)
		return NULL;
	switch (c->status) {
	case X509_STATUS_OK:
	case X509_STATUS_NOT_VISIBLE:
		return NULL;
	case X509_STATUS_HOST_MISMATCH:
		return "certificate-host-mismatch";
	case X509_STATUS_EXPIRED:
		return "certificate-expired";
	case X509_STATUS_SELF_SIGNED:
	case X509_STATUS_UNTRUSTED:
		return "certificate-not-trusted";
	default:
		return "validation-failure";
	}
}

static void rule_mta_sts(const struct policy *p, struct session *s, const char *mx)
{
	const char *domain = NULL;
	const struct mta_sts_policy *sts = sts_for(p, s, &domain);
	if (!sts || sts->mode == MTA_STS_MODE_NONE || s->starttls_result == STARTTLS_INCOMPLETE)
		return;
	const char *type, *what;
	if (tls_not_used(s)) {
		type = "starttls-not-supported";
		what = "mail went without TLS";
	} else if (mx && !mta_sts_mx_matches(sts, mx)) {
		type = "validation-failure";
		what = "the MX is not among the policy's mx patterns";
	} else if ((type = certificate_result_type(&s->certificate))) {
		what = "the certificate did not validate";
	} else {
		return;
	}
	struct alert *a = alert_list_add(&s->alerts, RULE_MTA_STS_VIOLATION);
	if (!a)
		return;
	bool testing = sts->mode == MTA_STS_MODE_TESTING;
	if (testing)
		a->severity = 3;
	a->tlsrpt_result_type = type;
	alert_set_reason(a, "%s for %s, whose MTA-STS policy is in %s mode (MX %s)", what, domain,
	                 testing ? "testing" : "enforce", mx ? mx : "unknown");
	if (s->certificate.validated && s->certificate.name[0] && type[0] == 'c' && type[1] == 'e') {
		char line[X509_FIELD_MAX + 16];
		snprintf(line, sizeof line, "checked name: %s", s->certificate.name);
		alert_add_evidence_lines(a, line);
	}
}

static void rule_dane(const struct policy *p, struct session *s, const char *mx)
{
	const struct tlsa_record *recs[TLSA_PER_MX];
	size_t n = mx && p->tlsa ? tlsa_lookup(p->tlsa, s->server.port, mx, recs, TLSA_PER_MX) : 0;
	if (n == 0)
		return;
	const struct tls_observation *t = s->tls;
	/* TLS 1.3 encrypts the chain and a resumed session sends none (RFC 8446 4.4.2, RFC 5246 7.3). */
	if (!t || t->version >= TLS_VERSION_1_3 || t->resumed || t->cert_count == 0) {
		s->dane_status = SESSION_DANE_NOT_VERIFIABLE;
		return;
	}
	const char *why = NULL;
	unsigned chain = t->cert_count < TLS_MAX_CERTS ? t->cert_count : TLS_MAX_CERTS;
	enum tlsa_match_result r =
	    tlsa_match(recs, n < TLSA_PER_MX ? n : TLSA_PER_MX, t->cert_der, t->cert_len, chain, &why);
	s->dane_status = r == TLSA_MATCH      ? SESSION_DANE_MATCH
	                 : r == TLSA_NO_MATCH ? SESSION_DANE_MISMATCH
	                                      : SESSION_DANE_NOT_USABLE;
	if (r != TLSA_NO_MATCH)
		return;
	struct alert *a = alert_list_add(&s->alerts, RULE_DANE_MISMATCH);
	if (!a)
		return;
	alert_set_reason(a, "the certificate chain of %s matches none of its %zu TLSA records (%s)", mx, n,
	                 why ? why : "no match");
}

void policy_rules_evaluate_mta_sts_dane(const struct policy *p, struct session *s)
{
	if (!p || (p->n_mta_sts == 0 && !p->tlsa))
		return;
	char mx[MX_NAME_MAX];
	bool have_mx = mx_name(s, mx) == 0;
	rule_mta_sts(p, s, have_mx ? mx : NULL);
	rule_dane(p, s, have_mx ? mx : NULL);
}

void policy_rules_raise_severity(struct session *s)
{
	if (!s->partner || s->partner->mode != POLICY_MODE_ENFORCED)
		return;
	for (unsigned i = 0; i < s->alerts.count && i < ALERTS_PER_SESSION; i++) {
		struct alert *a = &s->alerts.items[i];
		if ((a->rule->properties & RULE_HEURISTIC) && a->severity < 10)
			a->severity++;
	}
}
