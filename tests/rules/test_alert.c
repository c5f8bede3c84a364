/*
 * test_alert.c: the rules table contract and alerts with bounded evidence.
 */
#include "rules/alert.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum rule_code code;
	const char *name, *id;
	int severity;
} contract[] = {
    {RULE_STARTTLS_CAPABILITY_GARBLED, "starttls_capability_garbled", "tlsobs-1001", 8},
    {RULE_STARTTLS_COMMAND_GARBLED, "starttls_command_garbled", "tlsobs-1002", 8},
    {RULE_STARTTLS_CAPABILITY_REMOVED, "starttls_capability_removed", "tlsobs-1003", 7},
    {RULE_STARTTLS_REFUSED, "starttls_refused", "tlsobs-1004", 6},
    {RULE_STARTTLS_NOT_USED, "starttls_not_used", "tlsobs-1005", 5},
    {RULE_NO_TLS_AFTER_STARTTLS, "no_tls_after_starttls", "tlsobs-1006", 8},
    {RULE_STARTTLS_COMMAND_INJECTION, "starttls_command_injection", "tlsobs-1007", 8},
    {RULE_STARTTLS_RESPONSE_INJECTION, "starttls_response_injection", "tlsobs-1008", 8},
    {RULE_TLS_HANDSHAKE_FAILED, "tls_handshake_failed", "tlsobs-1009", 6},
    {RULE_CLEARTEXT_FALLBACK, "cleartext_fallback", "tlsobs-1010", 8},
    {RULE_EHLO_DOWNGRADE, "ehlo_downgrade", "tlsobs-1012", 5},
    {RULE_AUTH_IN_CLEAR, "auth_in_clear", "tlsobs-1020", 7},
    {RULE_REQUIRETLS_IN_CLEAR, "requiretls_in_clear", "tlsobs-1021", 7},
    {RULE_TLS_VERSION_OBSOLETE, "tls_version_obsolete", "tlsobs-1030", 5},
    {RULE_TLS_CIPHER_WEAK, "tls_cipher_weak", "tlsobs-1031", 6},
    {RULE_TLS_CERTIFICATE_INVALID, "tls_certificate_invalid", "tlsobs-1032", 5},
    {RULE_TLS_INTERCEPTION_SUSPECTED, "tls_interception_suspected", "tlsobs-1011", 8},
    {RULE_POLICY_TLS_REQUIRED, "policy_tls_required", "tlsobs-1040", 7},
    {RULE_POLICY_TLS_VERSION, "policy_tls_version", "tlsobs-1041", 6},
    {RULE_POLICY_CERTIFICATE, "policy_certificate", "tlsobs-1042", 6},
    {RULE_MTA_STS_VIOLATION, "mta_sts_violation", "tlsobs-1043", 6},
    {RULE_DANE_MISMATCH, "dane_mismatch", "tlsobs-1044", 7},
    {RULE_CERTIFICATE_EXPIRING, "certificate_expiring", "tlsobs-1050", 4},
    {RULE_CERTIFICATE_EXPIRED, "certificate_expired", "tlsobs-1051", 6},
    {RULE_CLEARTEXT_ON_TLS_PORT, "cleartext_on_tls_port", "tlsobs-1022", 8},
};

Test(rule_table, keeps_the_published_names_ids_and_severities)
{
	cr_assert_eq(sizeof contract / sizeof contract[0], RULE_COUNT);
	for (size_t i = 0; i < RULE_COUNT; i++) {
		const struct rule_info *r = rule_info(contract[i].code);
		cr_assert_not_null(r);
		cr_assert_eq(r->code, contract[i].code);
		cr_assert_str_eq(r->name, contract[i].name);
		cr_assert_str_eq(r->id, contract[i].id);
		cr_assert_eq(r->severity, contract[i].severity, "%s", r->name);
	}
}

Test(rule_table, describes_every_rule_in_one_sentence)
{
	for (int c = 0; c < RULE_COUNT; c++) {
		const char *d = rule_info((enum rule_code)c)->description;
		size_t n = strlen(d);
		cr_assert_gt(n, 20);
		cr_assert_eq(d[n - 1], '.', "%s", d);
		/* Version numbers ("TLS 1.0") hold dots; a sentence break is a dot before a space. */
		cr_assert_null(strstr(d, ". "), "one sentence: %s", d);
	}
}

Test(rule_table, answers_null_for_an_unknown_code)
{
	cr_assert_null(rule_info(RULE_COUNT));
	cr_assert_null(rule_info((enum rule_code) - 1));
}

Test(alert, starts_with_the_rule_and_its_base_severity)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_REFUSED);
	cr_assert_not_null(a);
	cr_assert_eq(a->rule, rule_info(RULE_STARTTLS_REFUSED));
	cr_assert_eq(a->severity, 6);
	cr_assert_eq(a->evidence_count, 0);
	cr_assert_str_empty(a->related_session_id);
	cr_assert(alert_list_has(l, RULE_STARTTLS_REFUSED));
	cr_assert_not(alert_list_has(l, RULE_STARTTLS_NOT_USED));
	free(l);
}

Test(alert, counts_alerts_beyond_the_per_session_cap_as_dropped)
{
	struct alert_list *l = calloc(1, sizeof *l);
	for (int i = 0; i < ALERTS_PER_SESSION; i++)
		cr_assert_not_null(alert_list_add(l, RULE_AUTH_IN_CLEAR));
	cr_assert_null(alert_list_add(l, RULE_AUTH_IN_CLEAR));
	cr_assert_null(alert_list_add(l, RULE_AUTH_IN_CLEAR));
	cr_assert_eq(l->count, ALERTS_PER_SESSION);
	cr_assert_eq(l->dropped, 2);
	free(l);
}

Test(alert, cuts_a_long_evidence_line_and_says_so)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_REFUSED);
	char line[1000];
	memset(line, 'A', sizeof line);
	alert_add_evidence(a, line, sizeof line);
	cr_assert_eq(strlen(a->evidence[0]), ALERT_EVIDENCE_MAX - 1);
	cr_assert(a->evidence_truncated);
	free(l);
}

Test(alert, keeps_a_line_of_exactly_the_maximum_whole)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_REFUSED);
	char line[ALERT_EVIDENCE_MAX - 1];
	memset(line, 'B', sizeof line);
	alert_add_evidence(a, line, sizeof line);
	cr_assert_eq(strlen(a->evidence[0]), sizeof line);
	cr_assert_not(a->evidence_truncated);
	free(l);
}

Test(alert, drops_nul_bytes_from_evidence)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_REFUSED);
	alert_add_evidence(a, "45\0004 TLS\0", 10);
	cr_assert_str_eq(a->evidence[0], "454 TLS");
	cr_assert_not(a->evidence_truncated);
	free(l);
}

Test(alert, flags_evidence_lines_beyond_the_cap)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_REFUSED);
	for (int i = 0; i < ALERT_MAX_EVIDENCE; i++)
		alert_add_evidence(a, "x", 1);
	cr_assert_not(a->evidence_truncated);
	alert_add_evidence(a, "one too many", 12);
	cr_assert_eq(a->evidence_count, ALERT_MAX_EVIDENCE);
	cr_assert(a->evidence_truncated);
	free(l);
}

Test(alert, splits_text_into_lines_without_their_terminators)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_CAPABILITY_GARBLED);
	alert_add_evidence_lines(a, "250-mx.example.net\r\n250-XXXXXXXA\n\n250 8BITMIME\n");
	cr_assert_eq(a->evidence_count, 3);
	cr_assert_str_eq(a->evidence[0], "250-mx.example.net");
	cr_assert_str_eq(a->evidence[1], "250-XXXXXXXA");
	cr_assert_str_eq(a->evidence[2], "250 8BITMIME");
	alert_add_evidence_lines(a, NULL);
	alert_add_evidence_lines(a, "");
	cr_assert_eq(a->evidence_count, 3);
	free(l);
}

Test(alert, formats_the_reason_and_cuts_it_at_its_size)
{
	struct alert_list *l = calloc(1, sizeof *l);
	struct alert *a = alert_list_add(l, RULE_STARTTLS_REFUSED);
	alert_set_reason(a, "%s refused STARTTLS with %u", "198.51.100.25:25", 454u);
	cr_assert_str_eq(a->reason, "198.51.100.25:25 refused STARTTLS with 454");
	char big[2 * ALERT_REASON_MAX];
	memset(big, 'r', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	alert_set_reason(a, "%s", big);
	cr_assert_eq(strlen(a->reason), ALERT_REASON_MAX - 1);
	free(l);
}
