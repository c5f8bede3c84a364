/*
 * test_policy_sts_dane.c: mta_sts_violation and dane_mismatch (policy_rules.h).
 *
 * Each test starts from an upgraded session to mx1.example.net:25 (banner host) with mail for
 * example.net, then sets the policy and the failure it is about. DANE uses tests/fixtures/dane.
 */
#include "rules/policy.h"
#include "rules/policy_rules.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

struct scenario {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
};

static struct policy policy;
static struct scenario *sc;
static uint8_t *leaf, *intermediate, *other;
static size_t leaf_len, intermediate_len, other_len;

static uint8_t *fixture(const char *name, size_t *len)
{
	char rel[256];
	snprintf(rel, sizeof rel, "tests/fixtures/dane/%s", name);
	uint8_t *data = test_read_file(test_source_path(rel), len);
	cr_assert_not_null(data, "fixture %s unreadable", rel);
	return data;
}

static void add_sts(const char *domain, const char *text)
{
	struct policy_mta_sts *e = &policy.mta_sts[policy.n_mta_sts++];
	snprintf(e->domain, sizeof e->domain, "%s", domain);
	struct mta_sts_error err;
	cr_assert_eq(mta_sts_parse(text, strlen(text), &e->sts, &err), 0, "%s", err.message);
}

static void setup(void)
{
	memset(&policy, 0, sizeof policy);
	policy.mta_sts = calloc(4, sizeof *policy.mta_sts);
	cr_assert_not_null(policy.mta_sts);
	sc = calloc(1, sizeof *sc);
	cr_assert_not_null(sc);
	struct session *s = &sc->s;
	s->server.port = 25;
	s->smtp = &sc->m;
	s->tls = &sc->t;
	s->starttls_result = STARTTLS_UPGRADED;
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx1.example.net ESMTP");
	snprintf(sc->m.rcpt_domains[0], sizeof sc->m.rcpt_domains[0], "example.net");
	sc->m.rcpt_domain_count = 1;
	sc->t.server_hello_seen = true;
	sc->t.version = 0x0303;
	leaf = fixture("leaf.der", &leaf_len);
	intermediate = fixture("intermediate.der", &intermediate_len);
	other = fixture("other.der", &other_len);
}

static void teardown(void)
{
	policy_clear(&policy);
	free(sc);
	free(leaf);
	free(intermediate);
	free(other);
}

TestSuite(policy_sts_dane, .init = setup, .fini = teardown);

static const struct alert *only(enum rule_code code)
{
	cr_assert_eq(sc->s.alerts.count, 1, "%u alerts", sc->s.alerts.count);
	cr_assert_eq(sc->s.alerts.items[0].rule->code, code);
	return &sc->s.alerts.items[0];
}

static const char *sts_type(const char *mode)
{
	char text[256];
	snprintf(text, sizeof text, "version: STSv1\nmode: %s\nmx: mx1.example.net\nmax_age: 86400\n", mode);
	add_sts("example.net", text);
	policy_rules_evaluate_mta_sts_dane(&policy, &sc->s);
	return sc->s.alerts.count ? sc->s.alerts.items[0].tlsrpt_result_type : NULL;
}

Test(policy_sts_dane, mail_in_clear_is_starttls_not_supported_at_severity_6)
{
	sc->s.starttls_result = STARTTLS_NOT_OFFERED;
	cr_expect_str_eq(sts_type("enforce"), "starttls-not-supported");
	cr_expect_eq(only(RULE_MTA_STS_VIOLATION)->severity, 6);
}

Test(policy_sts_dane, testing_mode_is_severity_3_and_says_so)
{
	sc->s.starttls_result = STARTTLS_NOT_ATTEMPTED;
	cr_expect_str_eq(sts_type("testing"), "starttls-not-supported");
	const struct alert *a = only(RULE_MTA_STS_VIOLATION);
	cr_expect_eq(a->severity, 3);
	cr_expect_not_null(strstr(a->reason, "testing mode"), "%s", a->reason);
}

Test(policy_sts_dane, none_mode_raises_nothing)
{
	add_sts("example.net", "version: STSv1\nmode: none\nmax_age: 86400\n");
	sc->s.starttls_result = STARTTLS_NOT_OFFERED;
	policy_rules_evaluate_mta_sts_dane(&policy, &sc->s);
	cr_expect_eq(sc->s.alerts.count, 0);
}

Test(policy_sts_dane, an_mx_outside_the_policy_is_a_validation_failure)
{
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 mx9.elsewhere.example ESMTP");
	cr_expect_str_eq(sts_type("enforce"), "validation-failure");
}

Test(policy_sts_dane, a_compliant_session_raises_nothing)
{
	cr_expect_null(sts_type("enforce"));
}

static void expect_cert(enum x509_status st, const char *want)
{
	sc->s.certificate.validated = true;
	sc->s.certificate.status = st;
	cr_expect_str_eq(sts_type("enforce"), want);
}

Test(policy_sts_dane, a_name_mismatch_is_certificate_host_mismatch)
{
	expect_cert(X509_STATUS_HOST_MISMATCH, "certificate-host-mismatch");
}
Test(policy_sts_dane, an_expired_certificate_is_certificate_expired)
{
	expect_cert(X509_STATUS_EXPIRED, "certificate-expired");
}
Test(policy_sts_dane, a_self_signed_certificate_is_certificate_not_trusted)
{
	expect_cert(X509_STATUS_SELF_SIGNED, "certificate-not-trusted");
}
Test(policy_sts_dane, an_untrusted_certificate_is_certificate_not_trusted)
{
	expect_cert(X509_STATUS_UNTRUSTED, "certificate-not-trusted");
}
Test(policy_sts_dane, a_not_yet_valid_certificate_is_a_validation_failure)
{
	expect_cert(X509_STATUS_NOT_YET_VALID, "validation-failure");
}

/* DANE: TLSA records from the fixtures' zone; the MX is "<name>.example.net". */
static void dane(const char *mx, const uint8_t *c0, size_t l0)
{
	size_t len;
	char *zone = (char *)fixture("tlsa.zone", &len);
	struct tlsa_error err;
	policy.tlsa = tlsa_parse(zone, len, "tlsa.zone", &err);
	free(zone);
	cr_assert_not_null(policy.tlsa, "%s", err.message);
	snprintf(sc->m.banner, sizeof sc->m.banner, "220 %s.example.net ESMTP", mx);
	sc->t.cert_der[0] = c0;
	sc->t.cert_len[0] = l0;
	sc->t.cert_der[1] = intermediate;
	sc->t.cert_len[1] = intermediate_len;
	sc->t.cert_count = 2;
	sc->t.certificate_visible = true;
	policy_rules_evaluate_mta_sts_dane(&policy, &sc->s);
}

Test(policy_sts_dane, a_matching_chain_is_a_dane_match)
{
	dane("ee-311", leaf, leaf_len);
	cr_expect_eq(sc->s.dane_status, SESSION_DANE_MATCH);
	cr_expect_eq(sc->s.alerts.count, 0);
}

Test(policy_sts_dane, another_certificate_is_a_dane_mismatch)
{
	dane("ee-311", other, other_len);
	cr_expect_eq(sc->s.dane_status, SESSION_DANE_MISMATCH);
	cr_expect_eq(only(RULE_DANE_MISMATCH)->severity, 7);
}

Test(policy_sts_dane, pkix_records_are_not_usable_and_raise_nothing)
{
	dane("pkix-ee", leaf, leaf_len);
	cr_expect_eq(sc->s.dane_status, SESSION_DANE_NOT_USABLE);
	cr_expect_eq(sc->s.alerts.count, 0);
}

Test(policy_sts_dane, tls_1_3_is_not_verifiable)
{
	sc->t.version = 0x0304;
	dane("ee-311", other, other_len);
	cr_expect_eq(sc->s.dane_status, SESSION_DANE_NOT_VERIFIABLE);
	cr_expect_eq(sc->s.alerts.count, 0);
}

Test(policy_sts_dane, a_resumed_session_is_not_verifiable)
{
	sc->t.resumed = true;
	dane("ee-311", other, other_len);
	cr_expect_eq(sc->s.dane_status, SESSION_DANE_NOT_VERIFIABLE);
	cr_expect_eq(sc->s.alerts.count, 0);
}

Test(policy_sts_dane, an_mx_without_records_has_no_dane_status)
{
	dane("mx9", other, other_len);
	cr_expect_eq(sc->s.dane_status, SESSION_DANE_NONE);
}
