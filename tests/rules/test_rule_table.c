/*
 * test_rule_table.c: the columns of the rule table agree with the contract
 * they replace: the ruleset follows the id range, the heuristics are the
 * STARTTLS rules and tls_interception_suspected (ids tlsobs-1001..1019), and
 * only the three STARTTLS failures say TLS failed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rules/alert.h"
#include "rules/rule_meta.h"

static const char *ruleset_of_id(const char *id)
{
	unsigned long n = strtoul(id + strlen("tlsobs-"), NULL, 10);
	if (n >= 1001 && n <= 1019)
		return "starttls_downgrade";
	if (n >= 1020 && n <= 1029)
		return "cleartext_exposure";
	if (n >= 1030 && n <= 1039)
		return "tls_quality";
	if (n >= 1040 && n <= 1049)
		return "partner_policy";
	if (n >= 1050 && n <= 1059)
		return "certificate_lifetime";
	return "tlsobs";
}

Test(rule_table, every_rule_has_the_ruleset_of_its_id_range)
{
	for (int c = 0; c < RULE_COUNT; c++) {
		const struct rule_info *r = rule_info((enum rule_code)c);
		cr_assert_str_eq(rule_ruleset(r), ruleset_of_id(r->id), "%s", r->name);
	}
}

Test(rule_table, the_heuristics_are_the_rules_of_the_starttls_downgrade_ruleset)
{
	for (int c = 0; c < RULE_COUNT; c++) {
		const struct rule_info *r = rule_info((enum rule_code)c);
		bool heuristic = (r->properties & RULE_HEURISTIC) != 0;
		cr_assert_eq(heuristic, strcmp(r->ruleset, "starttls_downgrade") == 0, "%s", r->name);
	}
}

Test(rule_table, only_the_starttls_and_handshake_failures_say_tls_failed)
{
	for (int c = 0; c < RULE_COUNT; c++) {
		const struct rule_info *r = rule_info((enum rule_code)c);
		bool failure = c == RULE_STARTTLS_REFUSED || c == RULE_NO_TLS_AFTER_STARTTLS ||
		               c == RULE_TLS_HANDSHAKE_FAILED;
		cr_assert_eq((r->properties & RULE_TLS_FAILURE) != 0, failure, "%s", r->name);
	}
}
