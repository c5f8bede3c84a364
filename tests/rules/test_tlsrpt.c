/*
 * test_tlsrpt.c: the verdict -> RFC 8460 4.3 result-type table and what an outbound session means
 * for TLS-RPT (rules/tlsrpt.h): policy domain, policy type, success, failure, undecided.
 */
#include "rules/tlsrpt.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Test(tlsrpt_map, each_verdict_maps_to_its_rfc_8460_result_type)
{
	static const struct {
		const char *verdict, *type;
	} want[] = {
	    {"starttls_result=not_offered", "starttls-not-supported"},
	    {"starttls_result=not_attempted", "starttls-not-supported"},
	    {"starttls_result=garbled", "starttls-not-supported"},
	    {"starttls_result=refused", "starttls-not-supported"},
	    {"starttls_result=no_tls_after_220", "starttls-not-supported"},
	    {"x509_status=expired", "certificate-expired"},
	    {"x509_status=host_mismatch", "certificate-host-mismatch"},
	    {"x509_status=self_signed", "certificate-not-trusted"},
	    {"x509_status=untrusted", "certificate-not-trusted"},
	    {"dane_status=mismatch", "tlsa-invalid"},
	    {"tls_outcome=alert", "validation-failure"},
	    {"mta_sts=mx_not_in_policy", "validation-failure"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		cr_assert_str_eq(tlsrpt_result_type(want[i].verdict), want[i].type, "%s", want[i].verdict);
	cr_assert_null(tlsrpt_result_type("x509_status=ok"));
}

Test(tlsrpt_map, every_result_type_in_the_table_is_one_of_section_4_3)
{
	static const char *const rfc[] = {"starttls-not-supported", "certificate-host-mismatch",
	                                  "certificate-expired",    "certificate-not-trusted",
	                                  "validation-failure",     "tlsa-invalid",
	                                  "dnssec-invalid",         "dane-required",
	                                  "sts-policy-fetch-error", "sts-policy-invalid",
	                                  "sts-webpki-invalid"};
	for (size_t i = 0; i < tlsrpt_map_count; i++) {
		bool found = false;
		for (size_t k = 0; k < sizeof rfc / sizeof rfc[0]; k++)
			found |= strcmp(tlsrpt_map[i].result_type, rfc[k]) == 0;
		cr_assert(found, "%s -> %s", tlsrpt_map[i].verdict, tlsrpt_map[i].result_type);
	}
}

struct fake {
	struct session s;
	struct smtp_observation m;
	struct tls_observation t;
	struct policy p;
	struct policy_mta_sts sts;
	struct tlsrpt_session out;
};

static struct fake *f;

static void setup(void)
{
	f = calloc(1, sizeof *f);
	f->s.server.ip = (struct ip_addr){.family = 4, .bytes = {198, 51, 100, 25}};
	f->s.server.port = 25;
	f->s.smtp = &f->m;
	f->s.tls = &f->t;
	f->s.starttls_result = STARTTLS_UPGRADED;
	f->t.outcome = TLS_OUTCOME_ESTABLISHED;
	snprintf(f->m.banner, sizeof f->m.banner, "220 mx1.example.net ESMTP");
	snprintf(f->sts.domain, sizeof f->sts.domain, "example.net");
	const char *text = "version: STSv1\nmode: testing\nmx: mx1.example.net\nmax_age: 86400\n";
	cr_assert_eq(mta_sts_parse(text, strlen(text), &f->sts.sts, NULL), 0);
	f->p.mta_sts = &f->sts;
	f->p.n_mta_sts = 1;
}

static void teardown(void)
{
	free(f);
}

TestSuite(tlsrpt, .init = setup, .fini = teardown);

static struct tlsrpt_session *classify(void)
{
	tlsrpt_session_classify(&f->p, &f->s, &f->out);
	return &f->out;
}

Test(tlsrpt, the_mta_sts_policy_whose_mx_matches_names_the_domain_of_an_encrypted_session)
{
	struct tlsrpt_session *r = classify();
	cr_assert_str_eq(r->policy_domain, "example.net");
	cr_assert_str_eq(r->policy_type, "sts");
	cr_assert_eq(r->verdict, TLSRPT_SUCCESS);
}

Test(tlsrpt, a_recipient_seen_in_clear_is_the_policy_domain_and_without_a_policy_no_policy_found)
{
	f->s.starttls_result = STARTTLS_NOT_OFFERED;
	f->t.outcome = TLS_OUTCOME_NONE;
	snprintf(f->m.rcpt_domains[f->m.rcpt_domain_count++], SMTP_NAME_MAX, "user@shop.example");
	struct tlsrpt_session *r = classify();
	cr_assert_str_eq(r->policy_domain, "shop.example");
	cr_assert_str_eq(r->policy_type, "no-policy-found");
	cr_assert_eq(r->verdict, TLSRPT_FAILURE);
	cr_assert_str_eq(r->result_type, "starttls-not-supported");
	cr_assert_str_eq(r->reason_code, "starttls_result=not_offered");
}

Test(tlsrpt, certificate_failures_count_under_an_sts_policy_only)
{
	f->s.certificate.validated = true;
	f->s.certificate.status = X509_STATUS_EXPIRED;
	struct tlsrpt_session *r = classify();
	cr_assert_eq(r->verdict, TLSRPT_FAILURE);
	cr_assert_str_eq(r->result_type, "certificate-expired");
	f->p.n_mta_sts = 0; /* no policy: a sender takes any certificate (RFC 7435) */
	r = classify();
	cr_assert_str_eq(r->policy_type, "no-policy-found");
	cr_assert_str_eq(r->policy_domain, "mx1.example.net", "no domain known: the MX name");
	cr_assert_eq(r->verdict, TLSRPT_SUCCESS);
}

Test(tlsrpt, an_mx_outside_the_sts_policy_is_a_validation_failure)
{
	f->m.rcpt_domain_count = 1;
	snprintf(f->m.rcpt_domains[0], SMTP_NAME_MAX, "example.net");
	snprintf(f->m.banner, sizeof f->m.banner, "220 rogue.example.org ESMTP");
	struct tlsrpt_session *r = classify();
	cr_assert_eq(r->verdict, TLSRPT_FAILURE);
	cr_assert_str_eq(r->result_type, "validation-failure");
	cr_assert_str_eq(r->reason_code, "mta_sts=mx_not_in_policy");
}

Test(tlsrpt, tlsa_records_for_the_mx_make_a_tlsa_policy_judged_by_dane)
{
	f->s.dane_status = SESSION_DANE_MISMATCH;
	struct tlsrpt_session *r = classify();
	cr_assert_str_eq(r->policy_type, "tlsa");
	cr_assert_str_eq(r->mx_host, "mx1.example.net");
	cr_assert_str_eq(r->result_type, "tlsa-invalid");
	f->s.dane_status = SESSION_DANE_NOT_VERIFIABLE; /* TLS 1.3 hid the chain: the handshake completed */
	cr_assert_eq(classify()->verdict, TLSRPT_SUCCESS);
}

Test(tlsrpt, an_undecided_session_is_neither_success_nor_failure)
{
	f->s.starttls_result = STARTTLS_INCOMPLETE;
	cr_assert_eq(classify()->verdict, TLSRPT_UNDECIDED);
	f->s.starttls_result = STARTTLS_UPGRADED;
	f->t.outcome = TLS_OUTCOME_GAP;
	cr_assert_eq(classify()->verdict, TLSRPT_UNDECIDED);
	f->t.outcome = TLS_OUTCOME_ALERT;
	cr_assert_eq(classify()->verdict, TLSRPT_FAILURE);
	cr_assert_str_eq(f->out.result_type, "validation-failure");
}

Test(tlsrpt, without_any_name_the_server_address_is_the_policy_domain)
{
	f->m.banner[0] = '\0';
	cr_assert_str_eq(classify()->policy_domain, "198.51.100.25");
}
