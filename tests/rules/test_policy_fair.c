/*
 * test_policy_fair.c: fair attribution (issue 18) — a partner configured by its
 * domain only (no mx patterns) owns the server names under its domain and the
 * ones its MTA-STS policy allows, so its encrypted sessions (recipient hidden in
 * TLS) count for it as its clear-text ones do; a partner with mx patterns keeps
 * exactly those.
 *
 * The session is an upgraded one with no recipient in clear: only server names
 * (banner, EHLO greeting, SNI, certificate SAN) can attribute it.
 */
#include "rules/policy.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scenario {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
	struct partner_policy partners[2];
	struct policy_mta_sts sts[1];
	struct policy policy;
};

static struct scenario *sc;

static void setup(void)
{
	sc = calloc(1, sizeof *sc);
	cr_assert_not_null(sc);
	struct partner_policy *plain = &sc->partners[0], *withmx = &sc->partners[1];
	snprintf(plain->domain, sizeof plain->domain, "example.net");
	plain->mode = POLICY_MODE_ENFORCED;
	snprintf(withmx->domain, sizeof withmx->domain, "bank.example");
	withmx->mode = POLICY_MODE_OPPORTUNISTIC;
	snprintf(withmx->mx[withmx->n_mx++], sizeof withmx->mx[0], "mx1.bank.example");
	sc->policy =
	    (struct policy){.default_mode = POLICY_MODE_NONE, .partners = sc->partners, .n_partners = 2};
	struct session *s = &sc->s;
	s->server.ip = (struct ip_addr){.family = 4, .bytes = {203, 0, 113, 25}};
	s->server.port = 25;
	s->smtp = &sc->m;
	s->tls = &sc->t;
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 relay.unrelated.example ESMTP");
	sc->t.outcome = TLS_OUTCOME_ESTABLISHED;
	sc->t.client_hello_seen = true;
}

static void teardown(void)
{
	free(sc);
}

TestSuite(policy_fair, .init = setup, .fini = teardown);

static const char *attributed(void)
{
	enum session_partner_match match = SESSION_MATCH_NETWORK + 1; /* "unknown" unless written */
	const struct partner_policy *p = policy_attribute(&sc->policy, &sc->s, &match);
	static char out[320];
	snprintf(out, sizeof out, "%s:%s", p ? p->domain : "-", session_partner_match_str(match));
	return out;
}

static void load_sts(const char *domain, const char *text)
{
	struct policy_mta_sts *e = &sc->sts[0];
	snprintf(e->domain, sizeof e->domain, "%s", domain);
	struct mta_sts_error err;
	cr_assert_eq(mta_sts_parse(text, strlen(text), &e->sts, &err), 0, "%s", err.message);
	sc->policy.mta_sts = sc->sts;
	sc->policy.n_mta_sts = 1;
}

Test(policy_fair, a_partner_without_mx_owns_the_banner_host_under_its_domain)
{
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 smtp.example.net ESMTP Postfix");
	cr_assert_str_eq(attributed(), "example.net:banner");
}

Test(policy_fair, a_partner_without_mx_owns_the_ehlo_greeting_sni_and_certificate_names_under_its_domain)
{
	sc->m.caps.seen = true;
	snprintf(sc->m.caps.raw, sizeof sc->m.caps.raw, "250-mx2.example.net Hello\n250 STARTTLS");
	cr_assert_str_eq(attributed(), "example.net:ehlo_greeting");
	sc->m.caps.seen = false;
	snprintf(sc->t.ch.sni, sizeof sc->t.ch.sni, "MX3.Example.Net.");
	cr_assert_str_eq(attributed(), "example.net:sni");
	sc->t.ch.sni[0] = '\0';
	sc->s.certificate.parsed = true;
	sc->s.certificate.leaf.san_count = 2;
	snprintf(sc->s.certificate.leaf.san_dns[0], X509_FIELD_MAX, "other.invalid");
	snprintf(sc->s.certificate.leaf.san_dns[1], X509_FIELD_MAX, "mail.example.net");
	cr_assert_str_eq(attributed(), "example.net:certificate");
}

Test(policy_fair, a_lookalike_name_is_not_under_the_partner_domain)
{
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 smtp.badexample.net ESMTP");
	cr_assert_str_eq(attributed(), "-:none");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 example.net.evil.example ESMTP");
	cr_assert_str_eq(attributed(), "-:none");
}

Test(policy_fair, a_partner_with_mx_patterns_keeps_exactly_those)
{
	/* mx2.bank.example is under bank.example, but bank.example named its MX hosts: they are the word. */
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx2.bank.example ESMTP");
	cr_assert_str_eq(attributed(), "-:none");
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.bank.example ESMTP");
	cr_assert_str_eq(attributed(), "bank.example:banner");
}

Test(policy_fair, the_mta_sts_mx_patterns_of_a_partner_without_mx_attribute_its_hosted_mx)
{
	/* The partner's mail is hosted elsewhere: only its MTA-STS policy says that host is its MX. */
	snprintf(sc->t.ch.sni, sizeof sc->t.ch.sni, "eu1.mailhost.example");
	cr_assert_str_eq(attributed(), "-:none");
	load_sts("example.net", "version: STSv1\nmode: enforce\nmx: *.mailhost.example\nmax_age: 86400\n");
	cr_assert_str_eq(attributed(), "example.net:sni");
	/* A wildcard stands for one label only (RFC 8461 4.1). */
	snprintf(sc->t.ch.sni, sizeof sc->t.ch.sni, "a.eu1.mailhost.example");
	cr_assert_str_eq(attributed(), "-:none");
}

Test(policy_fair, the_mta_sts_policy_of_another_domain_attributes_nothing)
{
	snprintf(sc->t.ch.sni, sizeof sc->t.ch.sni, "eu1.mailhost.example");
	load_sts("unrelated.example",
	         "version: STSv1\nmode: enforce\nmx: *.mailhost.example\nmax_age: 86400\n");
	cr_assert_str_eq(attributed(), "-:none");
}

Test(policy_fair, a_recipient_seen_in_clear_still_comes_first)
{
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.bank.example ESMTP");
	snprintf(sc->m.rcpt_domains[sc->m.rcpt_domain_count++], SMTP_NAME_MAX, "example.net");
	cr_assert_str_eq(attributed(), "example.net:rcpt_domain");
}
